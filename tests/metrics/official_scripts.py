"""
Load the official MLQA v1 and SQuAD v1.1 evaluation scripts, when a copy is available.

The scripts are not kept in this repository (see `tests/metrics/official/README.md`). Tests
that run them read the folder named by the environment variable `XLTT_OFFICIAL_EVAL_DIR`
(holding `mlqa_evaluation_v1.py` and `evaluate-v1.1.py`, unchanged) and skip without it;
the always-on oracle is the independent re-implementation in `reference_rules.py`.
"""

import importlib.util
import os
import warnings
from pathlib import Path
from types import ModuleType

import pytest

ENV_VAR = "XLTT_OFFICIAL_EVAL_DIR"
FILES = {"mlqa": "mlqa_evaluation_v1.py", "squad": "evaluate-v1.1.py"}


def official_script(mode: str) -> ModuleType:
    """The official script of `mode` (`mlqa` or `squad`) as a module; skips the test if absent."""
    folder = os.environ.get(ENV_VAR)
    if not folder:
        pytest.skip(f"{ENV_VAR} is not set: no copy of the official evaluation scripts to run")
    path = Path(folder) / FILES[mode]
    if not path.is_file():
        pytest.skip(f"{path} is absent ({ENV_VAR}={folder})")
    spec = importlib.util.spec_from_file_location(f"official_{mode}_evaluation", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the MLQA script's '\s' escape warns when compiled
        spec.loader.exec_module(module)
    return module
