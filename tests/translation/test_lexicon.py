import json
from pathlib import Path

import pytest
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError

from xltt_plugin.translation.lexicon import LexiconTranslator, tokenise
from xltt_plugin.translation.translator import Translator

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_GLOSSARY = REPO_ROOT / "fixtures" / "lexicon" / "en-xx.tsv"


def glossary(tmp_path: Path, lines: list[str], name: str = "g.tsv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def small(tmp_path: Path) -> LexiconTranslator:
    path = glossary(
        tmp_path,
        [
            "# a comment",
            "the\tlo",
            "sea\tmaro",
            "black\tnigra",
            "Black Sea\tNigramaro",
            "Sea of Tranquility\tMaro Kvieta",
            "a\t",
            "",
            "東京\tTokio",
        ],
    )
    return LexiconTranslator(str(path))


def test_tokenise_round_trips_and_keeps_markers_whole() -> None:
    text = "In 1969, <a>Neil Armstrong</a> 東京へ."
    tokens = tokenise(text, ("<a>", "</a>"))
    assert "".join(t for _, t in tokens) == text
    assert ("marker", "<a>") in tokens and ("marker", "</a>") in tokens
    assert ("lexical", "東") in tokens and ("lexical", "京") in tokens  # one character each


def test_hand_worked_translations(small: LexiconTranslator) -> None:
    assert small.translate(
        [
            "the Black Sea",  # the phrase beats its words
            "The black sea",  # case-insensitive; a capitalised source is capitalised
            "a sea",  # empty target: dropped with its space
            "the Sea of Tranquility, a crater",  # unknown words and punctuation copied
            "東京は",  # characters of a script without spaces are looked up in runs
            "",
        ]
    ) == ["lo Nigramaro", "Lo Nigramaro", "maro", "lo Maro Kvieta, crater", "Tokioは", ""]


def test_markers_pass_through_and_break_phrases(small: LexiconTranslator) -> None:
    assert small.translate_one("the <a>Black Sea</a>.") == "lo <a>Nigramaro</a>."
    # A marker inside a phrase splits it: word by word then.
    assert small.translate_one("the Black <a>Sea</a>") == "lo Nigra <a>Maro</a>"
    assert small.translate_one("<a>a sea</a>") == "<a>maro</a>"


def test_case_sensitive(tmp_path: Path) -> None:
    path = glossary(tmp_path, ["sea\tmaro"])
    translator = LexiconTranslator(str(path), case_sensitive=True)
    assert translator.translate_one("Sea sea") == "Sea maro"


def test_json_glossary_and_from_params(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"moon": "luno", "Earth": "Tero"}), encoding="utf-8")
    translator = Translator.from_params(
        Params({"type": "lexicon", "path": str(path), "target_lang": "xx", "markers": ["[", "]"]})
    )
    assert isinstance(translator, LexiconTranslator)
    assert translator.target_lang == "xx"
    assert translator.markers == ("[", "]")
    assert translator.translate(["Moon and [Earth]"]) == ["Luno and [Tero]"]
    disabled = Translator.from_params(
        Params({"type": "lexicon", "path": str(path), "markers": None})
    )
    assert disabled.markers is None


def test_identity_follows_the_glossary_content(tmp_path: Path) -> None:
    first = LexiconTranslator(str(glossary(tmp_path, ["sea\tmaro"])))
    same = LexiconTranslator(str(glossary(tmp_path, ["sea\tmaro"], name="copy.tsv")))
    changed = LexiconTranslator(str(glossary(tmp_path, ["sea\tmar"])))
    assert first.identity.split(":")[2] == same.identity.split(":")[2]  # same content hash
    assert first.identity != changed.identity


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["sea\tmaro", "no tab here"], r"g\.tsv: line 2: expected 'source<TAB>target'"),
        (["sea\tmaro", "a\tb\tc"], r"line 2: expected"),
        (["sea\tmaro", "sea\tmar"], r"line 2: 'sea' is already defined on line 1"),
        (["\tmaro"], r"line 1: empty source"),
    ],
)
def test_bad_glossaries_name_file_and_line(tmp_path: Path, lines: list[str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        LexiconTranslator(str(glossary(tmp_path, lines)))


def test_missing_glossary(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the glossary"):
        LexiconTranslator(str(tmp_path / "missing.tsv"))


def test_fixture_glossary_translates_the_fixture_answers() -> None:
    translator = LexiconTranslator(str(FIXTURE_GLOSSARY))
    # Read off fixtures/lexicon/en-xx.tsv by hand.
    assert translator.translate(
        ["Sea of Tranquility", "Black Sea", "3,776 metres", "July 16, 1969", "Neil Armstrong"]
    ) == ["Maro Kvieta", "Nigramaro", "3,776 metroj", "Julo 16, 1969", "Neil Armstrong"]
    assert translator.translate_one("Who was the commander of Apollo 11?") == (
        "Kiu esti lo komandanto da Apollo 11?"
    )
