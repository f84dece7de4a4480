"""
Shared helpers of the reliability tests: running `allennlp` in a subprocess that can be killed
as a whole, and one small trained archive of the tiny XLTT config per test session.
"""

import json
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from allennlp.common import Params
from allennlp.data import Vocabulary
from allennlp.models import Model

from tests import REPO, TINY_XLMR
from tests.reliability.checks import WINDOWS
from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
from xltt_plugin.models.xltt import XlttModel  # noqa: F401  (registers `xltt`)
from xltt_plugin.predictors.xltt_predictor import XlttPredictor

ALLENNLP = os.path.join(REPO, ".venv", "bin", "allennlp")
TINY_CONFIG = os.path.join("training_config", "xltt_tiny.jsonnet")
MULTISOURCE_CONFIG = os.path.join("training_config", "xltt_tiny_multisource.jsonnet")


def cli_environment(**extra: str) -> dict[str, str]:
    """The environment of `allennlp` subprocesses: one torch thread (the CI machine has two
    cores shared by both distributed workers), `tests` importable, quiet logs."""
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": REPO,
        "ALLENNLP_LOG_LEVEL": os.environ.get("ALLENNLP_LOG_LEVEL", "INFO"),
        **extra,
    }


def run_allennlp(
    args: Sequence[str],
    *,
    timeout: float = 600,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """
    `allennlp ARGS` from the repository root in its own process group, killed as a whole
    (distributed workers included) if it outlives `timeout`.
    """
    process = subprocess.Popen(
        [ALLENNLP, *args],
        cwd=REPO,
        env=env or cli_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"allennlp {' '.join(args)} timed out after {timeout} s:\n{stderr[-3000:]}")
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check:
        assert result.returncode == 0, f"allennlp {args[0]} failed:\n{stderr[-4000:]}"
    return result


@pytest.fixture(scope="session")
def tiny_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`allennlp train` of the tiny XLTT config for one short epoch: a real trained archive."""
    out = tmp_path_factory.mktemp("reliability_archive") / "run"
    overrides = {"trainer.num_epochs": 1, "dataset_reader.max_instances": 16}
    run_allennlp(["train", TINY_CONFIG, "-s", str(out), "-o", json.dumps(overrides)])
    archive = out / "model.tar.gz"
    assert archive.is_file()
    return archive


@pytest.fixture(scope="session")
def squad_reader() -> XlttSquadReader:
    return XlttSquadReader(**WINDOWS)


@pytest.fixture(scope="session")
def parallel_reader() -> XlttParallelReader:
    return XlttParallelReader(parallel_languages=["ja", "ko"], **WINDOWS)


@pytest.fixture(scope="session")
def predictor(squad_reader: XlttSquadReader) -> XlttPredictor:
    """An untrained tiny `xltt` model: enough to run every code path of prediction."""
    torch.manual_seed(0)
    model = Model.from_params(
        vocab=Vocabulary(),
        params=Params(
            {"type": "xltt", "transformer_model_name": TINY_XLMR, "maa": {"num_heads": 1}}
        ),
    )
    model.eval()
    return XlttPredictor(model, squad_reader)
