"""
Checks of the committed fixture data under `fixtures/data/`, independent of the script that
builds it (the JSON is re-parsed here; nothing is imported from `scripts/`), plus a check that
re-running that script reproduces the committed files byte for byte.
"""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "fixtures" / "data"
SCRIPT = REPO / "scripts" / "build_fixture_data.py"

# File -> (number of questions, id pattern).
FILES: dict[str, tuple[int, str]] = {
    "parallel/squad_en.json": (13, r"sq-\d{3}"),
    "parallel/squad_ja.json": (13, r"sq-\d{3}"),
    "parallel/squad_ko.json": (12, r"sq-\d{3}"),
    "cmrc2018/cmrc_zh.json": (6, r"cmrc-\d{3}"),
    "drcd/drcd_zh.json": (4, r"drcd-\d{3}"),
    "mlqa/test-context-hi-question-hi.json": (5, r"[0-9a-f]{40}"),
    "mlqa/dev-context-en-question-en.json": (5, r"[0-9a-f]{40}"),
    "mlqa/test-context-de-question-en.json": (3, r"[0-9a-f]{40}"),
    "xquad/xquad.ar.json": (4, r"[0-9a-f]{24}"),
    "xquad/xquad.th.json": (3, r"[0-9a-f]{24}"),
}

# The documented deliberate defects (fixtures/data/README.md).
JA_NOT_IN_CONTEXT = "sq-007"  # answer_start -1, text absent from the context
JA_NO_ANSWERS = "sq-010"  # "answers": []
KO_OFF_BY_3 = "sq-004"  # answer_start 3 characters past the text, which is in the context
KO_MISSING = "sq-013"  # question absent from squad_ko.json
SPAN_DEFECTS = {
    ("parallel/squad_ja.json", JA_NOT_IN_CONTEXT),
    ("parallel/squad_ko.json", KO_OFF_BY_3),
}


def load(name: str) -> dict[str, Any]:
    with open(DATA / name, encoding="utf-8") as handle:
        return json.load(handle)


def qas_with_context(name: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (para["context"], qa)
        for article in load(name)["data"]
        for para in article["paragraphs"]
        for qa in para["qas"]
    ]


def by_id(name: str) -> dict[str, tuple[str, dict[str, Any]]]:
    return {qa["id"]: (context, qa) for context, qa in qas_with_context(name)}


@pytest.mark.parametrize("name", sorted(FILES))
def test_file_parses_as_squad_v11(name: str) -> None:
    dataset = load(name)
    assert dataset["version"] == "1.1"
    assert dataset["data"], name
    for article in dataset["data"]:
        assert isinstance(article["title"], str) and article["title"]
        for para in article["paragraphs"]:
            assert isinstance(para["context"], str) and para["context"]
            for qa in para["qas"]:
                assert set(qa) == {"id", "question", "answers"}, (name, qa["id"])
                assert qa["question"].strip(), (name, qa["id"])
                for answer in qa["answers"]:
                    assert set(answer) == {"text", "answer_start"}, (name, qa["id"])
                    assert isinstance(answer["answer_start"], int)
                    assert answer["text"] == answer["text"].strip() != ""


@pytest.mark.parametrize("name", sorted(FILES))
def test_ids_unique_well_formed_and_counted(name: str) -> None:
    count, pattern = FILES[name]
    ids = [qa["id"] for _, qa in qas_with_context(name)]
    assert len(ids) == count, name
    assert len(set(ids)) == len(ids), f"{name}: duplicate ids"
    for qid in ids:
        assert re.fullmatch(pattern, qid), (name, qid)


@pytest.mark.parametrize("name", sorted(FILES))
def test_answer_spans_match_except_documented_defects(name: str) -> None:
    for context, qa in qas_with_context(name):
        if (name, qa["id"]) in SPAN_DEFECTS:
            continue
        for answer in qa["answers"]:
            start, text = answer["answer_start"], answer["text"]
            assert start >= 0, (name, qa["id"])
            assert context[start : start + len(text)] == text, (name, qa["id"], text)


def test_every_undocumented_question_has_an_answer() -> None:
    for name in FILES:
        for _, qa in qas_with_context(name):
            if (name, qa["id"]) != ("parallel/squad_ja.json", JA_NO_ANSWERS):
                assert qa["answers"], (name, qa["id"])


def test_translations_are_aligned_with_the_pivot() -> None:
    en = by_id("parallel/squad_en.json")
    ja = by_id("parallel/squad_ja.json")
    ko = by_id("parallel/squad_ko.json")
    assert set(ja) <= set(en)
    assert set(ko) <= set(en)
    assert set(ja) == set(en)
    assert set(en) - set(ko) == {KO_MISSING}


def test_documented_defects_are_present() -> None:
    ja = by_id("parallel/squad_ja.json")
    context, qa = ja[JA_NOT_IN_CONTEXT]
    [answer] = qa["answers"]
    assert answer["answer_start"] == -1
    assert answer["text"] not in context

    assert ja[JA_NO_ANSWERS][1]["answers"] == []

    ko = by_id("parallel/squad_ko.json")
    context, qa = ko[KO_OFF_BY_3]
    [answer] = qa["answers"]
    text, start = answer["text"], answer["answer_start"]
    assert context[start : start + len(text)] != text
    assert context.count(text) == 1
    assert context.find(text) == start - 3

    assert KO_MISSING not in ko
    assert KO_MISSING in by_id("parallel/squad_en.json")


def test_readme_lists_the_defects() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for qid in (JA_NOT_IN_CONTEXT, JA_NO_ANSWERS, KO_OFF_BY_3, KO_MISSING):
        assert f"`{qid}`" in readme, qid


def test_long_passage_has_answers_spread_through_it() -> None:
    contexts = {context for context, _ in qas_with_context("parallel/squad_en.json")}
    long_context = max(contexts, key=len)
    assert len(long_context.split()) >= 450
    starts = [
        answer["answer_start"]
        for context, qa in qas_with_context("parallel/squad_en.json")
        if context == long_context
        for answer in qa["answers"]
    ]
    assert len(starts) >= 4
    assert max(starts) >= 0.75 * len(long_context)
    assert min(starts) < 0.25 * len(long_context)


def test_language_specific_cases() -> None:
    # A number mixed with CJK in both Chinese sets.
    for name in ("cmrc2018/cmrc_zh.json", "drcd/drcd_zh.json"):
        texts = [a["text"] for _, qa in qas_with_context(name) for a in qa["answers"]]
        assert any(re.fullmatch(r"\d+[\u4e00-\u9fff].*", t) for t in texts), name
    # An Arabic answer beginning with the article.
    ar = [a["text"] for _, qa in qas_with_context("xquad/xquad.ar.json") for a in qa["answers"]]
    assert any(t.startswith("ال") for t in ar)
    # Thai: no spaces between words (spaces only between phrases): few spaces per character.
    for context, _ in qas_with_context("xquad/xquad.th.json"):
        assert re.search(r"[\u0e00-\u0e7f]", context)
        assert context.count(" ") * 25 < len(context)
    # Hindi in Devanagari; German context (umlauts, sharp s) with English (ASCII) questions.
    devanagari = re.compile(r"[\u0900-\u097f]")
    for context, qa in qas_with_context("mlqa/test-context-hi-question-hi.json"):
        assert devanagari.search(context) and devanagari.search(qa["question"])
    for context, qa in qas_with_context("mlqa/test-context-de-question-en.json"):
        assert re.search("[äöüß]", context)
        assert qa["question"].isascii() and qa["question"].endswith("?")


def test_files_are_formatted_as_documented() -> None:
    for name in FILES:
        raw = (DATA / name).read_bytes()
        assert raw.endswith(b"}\n"), name
        assert b"\\u" not in raw, f"{name}: not written with ensure_ascii=False"
        assert raw.startswith(b'{\n "data": [\n  {\n'), f"{name}: not indent=1 with sorted keys"


def test_build_script_reproduces_committed_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    built = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert built == sorted([*FILES, "README.md"])
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (DATA / rel).read_bytes(), rel
