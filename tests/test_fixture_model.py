"""The committed tiny XLM-R fixture: loadable through AllenNLP, offsets exact, reproducible."""

import os
import subprocess
import sys

import pytest
import torch
from allennlp.data.tokenizers import PretrainedTransformerTokenizer
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder

from tests import REPO, TINY_XLMR

SAMPLES = {
    "zh": "北京大学位于北京市海淀区，成立于1898年。",
    "zh-hant": "臺灣大學位於臺北市，創立於1928年。",
    "ja": "東京タワーは1958年に完成しました。",
    "ko": "서울은 대한민국의 수도입니다.",
    "ar": "تقع القاهرة على ضفاف نهر النيل.",
    "hi": "दिल्ली भारत की राजधानी है।",
    "th": "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย",
    "ru": "Москва — столица России.",
    "el": "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "vi": "Hà Nội là thủ đô của Việt Nam.",
    "en": "The bridge was built in 1890 by a company from Glasgow.",
}


@pytest.fixture(scope="module")
def tokenizer():
    return PretrainedTransformerTokenizer(TINY_XLMR)


def test_special_tokens_are_xlmr_style(tokenizer):
    hf = tokenizer.tokenizer
    assert [hf.convert_ids_to_tokens(i) for i in range(5)] == [
        "<s>",
        "<pad>",
        "</s>",
        "<unk>",
        "<mask>",
    ]
    assert [t.text for t in tokenizer.single_sequence_start_tokens] == ["<s>"]
    assert [t.text for t in tokenizer.sequence_pair_mid_tokens] == ["</s>", "</s>"]


@pytest.mark.parametrize("word", ["a", "b", "1", "2"])
def test_reverse_engineering_pieces_are_single_tokens(tokenizer, word):
    pieces = tokenizer.tokenizer.tokenize(word)
    assert pieces == ["▁" + word]


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_text_round_trips_through_offsets_without_unknowns(tokenizer, language):
    text = SAMPLES[language]
    tokens = tokenizer.tokenize(text)
    hf = tokenizer.tokenizer
    unk = hf.unk_token_id
    assert all(t.text_id != unk for t in tokens), [t.text for t in tokens if t.text_id == unk]
    spans = [(t.idx, t.idx_end) for t in tokens if t.idx is not None]
    # Every character except spaces is covered by some token's offsets, in order.
    covered = set()
    for start, end in spans:
        assert 0 <= start <= end <= len(text)
        covered.update(range(start, end))
    assert {i for i, c in enumerate(text) if not c.isspace()} <= covered
    # Reassembling the covered text from the offsets gives back the original characters.
    rebuilt = "".join(text[s:e] for s, e in _merge(spans))
    assert rebuilt.replace(" ", "") == text.replace(" ", "")


def _merge(spans):
    merged = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def test_embedder_loads_and_encodes(tokenizer):
    embedder = PretrainedTransformerEmbedder(TINY_XLMR)
    tokens = tokenizer.tokenize(SAMPLES["ja"])
    ids = torch.tensor([[t.text_id for t in tokens]])
    encoded = embedder(ids, torch.ones_like(ids, dtype=torch.bool))
    assert encoded.shape == (1, len(tokens), embedder.get_output_dim())
    assert torch.isfinite(encoded).all()
    size = sum(os.path.getsize(os.path.join(TINY_XLMR, f)) for f in os.listdir(TINY_XLMR))
    assert size < 1_000_000


def test_build_is_reproducible(tmp_path):
    subprocess.run(
        [
            sys.executable,
            os.path.join(REPO, "scripts", "build_tiny_xlmr.py"),
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    for name in sorted(os.listdir(TINY_XLMR)):
        with open(os.path.join(TINY_XLMR, name), "rb") as committed:
            with open(tmp_path / name, "rb") as rebuilt:
                assert committed.read() == rebuilt.read(), f"{name} differs from a fresh build"
