from pathlib import Path
from typing import Any

import pytest
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError

from xltt_plugin.translation.hf_seq2seq import HfSeq2SeqTranslator
from xltt_plugin.translation.translator import Translator

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_MARIAN = str(REPO_ROOT / "fixtures" / "tiny-marian")


@pytest.fixture(scope="module")
def marian() -> HfSeq2SeqTranslator:
    translator = Translator.from_params(
        Params(
            {
                "type": "hf_seq2seq",
                "model_name": TINY_MARIAN,
                "source_lang": "en",
                "target_lang": "ja",
                "batch_size": 2,
                "max_length": 8,
            }
        )
    )
    assert isinstance(translator, HfSeq2SeqTranslator)
    return translator


def test_tiny_marian_forward_pass(marian: HfSeq2SeqTranslator) -> None:
    texts = ["Who was the commander of Apollo 11?", "", "The Danube flows into the Black Sea."]
    first = marian.translate(texts)
    assert len(first) == 3 and all(isinstance(t, str) for t in first)
    assert first[1] == ""  # blank input, no model call
    assert first[0] and first[2]
    assert marian.translate(texts) == first  # greedy decoding is deterministic
    assert marian.model_type == "marian"


def test_identity_names_model_languages_and_settings(marian: HfSeq2SeqTranslator) -> None:
    assert marian.identity == f"hf_seq2seq:{TINY_MARIAN}:en>ja:max_length=8:num_beams=1"


def test_batches_are_sorted_by_length_and_restored(
    marian: HfSeq2SeqTranslator, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[list[str]] = []

    def echo(texts: list[str]) -> list[str]:
        batches.append(list(texts))
        return [text.upper() for text in texts]

    monkeypatch.setattr(marian, "_translate_batch", echo)
    texts = ["bb", "a", "dddd", " ", "ccc"]
    assert marian.translate(texts) == ["BB", "A", "DDDD", "", "CCC"]
    # Blank texts are never sent; the rest go longest first, batch_size (2) at a time.
    assert batches == [["dddd", "ccc"], ["bb", "a"]]


class FakeTokenizer:
    """Stands in for M2M100 / NLLB / mBART-50 tokenizers (their language-code lookups)."""

    unk_token_id = 3

    def __init__(self, m2m: bool) -> None:
        self.src_lang: str | None = None
        self._m2m = m2m

    def convert_tokens_to_ids(self, token: str) -> int:
        return {"jpn_Jpan": 256079, "ja_XX": 250012}.get(token, self.unk_token_id)

    def __getattr__(self, name: str) -> Any:
        if name == "get_lang_id" and self._m2m:
            return lambda code: {"ja": 128046}[code]
        raise AttributeError(name)


def bare_translator(model_type: str, tokenizer: Any, source: str, target: str) -> Any:
    translator = HfSeq2SeqTranslator.__new__(HfSeq2SeqTranslator)
    translator.model_name = "fake"
    translator.model_type = model_type
    translator.tokenizer = tokenizer
    translator.source_lang = source
    translator.target_lang = target
    return translator


def test_language_codes_of_multilingual_models() -> None:
    m2m = FakeTokenizer(m2m=True)
    assert bare_translator("m2m_100", m2m, "en", "ja")._language_setup() == 128046
    assert m2m.src_lang == "en"
    nllb = FakeTokenizer(m2m=False)
    assert bare_translator("m2m_100", nllb, "eng_Latn", "jpn_Jpan")._language_setup() == 256079
    assert nllb.src_lang == "eng_Latn"
    mbart = FakeTokenizer(m2m=False)
    assert bare_translator("mbart", mbart, "en_XX", "ja_XX")._language_setup() == 250012
    with pytest.raises(ConfigurationError, match="'jpn' is not a language token"):
        bare_translator("mbart", FakeTokenizer(m2m=False), "en_XX", "jpn")._language_setup()
    with pytest.raises(ConfigurationError, match="unknown target_lang 'jp'"):
        bare_translator("m2m_100", FakeTokenizer(m2m=True), "en", "jp")._language_setup()
    # Marian: one language pair, the codes are labels.
    assert bare_translator("marian", FakeTokenizer(m2m=False), "en", "ja")._language_setup() is None


def test_unloadable_model_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot load the translation model"):
        HfSeq2SeqTranslator(str(tmp_path / "no-model-here"))
