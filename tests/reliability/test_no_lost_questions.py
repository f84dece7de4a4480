"""
No question is lost: `allennlp predict` and `allennlp evaluate` on a file with N questions
answer and score all N, with an empty answer where nothing can be extracted (an empty
context, one that tokenises to nothing), and a truncated input fails instead of printing
nothing.
"""

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from allennlp.commands import main

from tests import REPO
from tests.metrics.reference_rules import em_and_f1
from tests.reliability.checks import assert_answer_from
from tests.reliability.conftest import run_allennlp

LONG = " ".join(
    f"Sentence {i} tells that the crew of mission {i} trained for {i} months." for i in range(60)
)
# (id, question, context, gold answers): every question has a gold answer (the official
# scripts, and the metric, score only those); "." normalises to nothing, which an empty
# prediction matches exactly.
QUESTIONS: list[tuple[str, str, str, list[str]]] = [
    ("normal", "Who walked first?", "Neil Armstrong walked first on the Moon.", ["Neil Armstrong"]),
    ("long", "How long did crew 57 train?", LONG, ["57 months"]),
    ("empty-context", "Who?", "", ["."]),
    ("invisible-context", "Who?", "\u200b\u200f\ufeff\u2060", ["."]),
    ("empty-question", "", "Apollo 11 landed in 1969.", ["1969"]),
    ("controls", "Who?", "\u202eNeil\u0301 👩\u200d👩\u200d👧 Armstrong \ud800", ["Armstrong"]),
    ("wrong-start", "When?", "It landed in 1969.", ["1969"]),
    ("no-match", "What?", "Nothing to see here.", ["absent answer"]),
]
N = len(QUESTIONS)


def squad_document() -> dict[str, Any]:
    paragraphs = [
        {
            "context": context,
            "qas": [
                {
                    "id": qid,
                    "question": question,
                    "answers": [
                        {"text": text, "answer_start": 0 if qid == "wrong-start" else -1}
                        for text in answers
                    ],
                }
            ],
        }
        for qid, question, context, answers in QUESTIONS
    ]
    return {"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}


@pytest.fixture()
def squad_file(tmp_path: Path) -> Path:
    """Pretty-printed, as MLQA/XQuAD files are (so `allennlp predict` reads it in many lines)."""
    path = tmp_path / "test-context-en-question-en.json"
    path.write_text(json.dumps(squad_document(), indent=2), encoding="utf-8")
    return path


def allennlp_in_process(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    monkeypatch.chdir(REPO)  # the archive names the encoder by its repository path
    monkeypatch.setattr(sys, "argv", ["allennlp", *args])
    main(prog="allennlp")


def contexts() -> dict[str, str]:
    return {qid: context for qid, _, context, _ in QUESTIONS}


def test_predict_squad_file_answers_all_n(
    tiny_archive: Path, squad_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "predictions.json"
    allennlp_in_process(
        monkeypatch, "predict", str(tiny_archive), str(squad_file), "--output-file", str(output),
        "--silent",
    )  # fmt: skip
    lines = output.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    answers = json.loads(lines[0])
    assert len(answers) == N and set(answers) == set(contexts())
    for qid, answer in answers.items():
        assert_answer_from(answer, contexts()[qid])
    assert answers["empty-context"] == answers["invisible-context"] == ""


def test_predict_json_lines_answers_all_n(
    tiny_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "questions.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": qid, "question": question, "context": context}) + "\n"
            for qid, question, context, _ in QUESTIONS
        ),
        encoding="utf-8",
    )
    output = tmp_path / "predictions.jsonl"
    allennlp_in_process(
        monkeypatch, "predict", str(tiny_archive), str(source), "--output-file", str(output),
        "--silent", "--batch-size", "3",
    )  # fmt: skip
    results = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [result["id"] for result in results] == [qid for qid, _, _, _ in QUESTIONS]
    for result in results:
        answer = result["best_span_str"]
        assert_answer_from(answer, contexts()[result["id"]])


def test_evaluate_scores_all_n(
    tiny_archive: Path, squad_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics_file = tmp_path / "metrics.json"
    windows_file = tmp_path / "windows.jsonl"
    allennlp_in_process(
        monkeypatch, "evaluate", str(tiny_archive), str(squad_file), "--output-file",
        str(metrics_file), "--predictions-output-file", str(windows_file), "--batch-size", "4",
    )  # fmt: skip
    metrics = json.loads(metrics_file.read_text())
    # Every window of every question went through the model ...
    candidates: dict[str, list[tuple[float, str]]] = defaultdict(list)
    windows: dict[str, set[int]] = defaultdict(set)
    counts: dict[str, int] = {}
    for line in windows_file.read_text().splitlines():
        batch = json.loads(line)
        for qid, index, count, nbest in zip(
            batch["id"], batch["window_index"], batch["num_windows"], batch["nbest"]
        ):
            windows[qid].add(index)
            counts[qid] = count
            candidates[qid].extend((c["score"], c["text"]) for c in nbest)
    assert set(windows) == set(contexts())
    assert all(windows[qid] == set(range(counts[qid])) for qid in windows)
    assert counts["long"] > 1
    # ... and the metric averages over all N questions: recompute it from the windows'
    # candidates (best score over all windows, "" without any) with the test's own rules.
    golds = {qid: answers for qid, _, _, answers in QUESTIONS}
    scores = [
        em_and_f1(max(candidates[qid])[1] if candidates[qid] else "", golds[qid], "en", "mlqa")
        for qid in golds
    ]
    assert metrics["em"] == pytest.approx(sum(em for em, _ in scores) / N)
    assert metrics["f1"] == pytest.approx(sum(f1 for _, f1 in scores) / N)
    assert metrics["em_en"] == metrics["em"] and metrics["em"] >= 2 / N  # the two empty ones


def test_predict_truncated_squad_file_fails(tiny_archive: Path, tmp_path: Path) -> None:
    """Truncated mid-document, the input would otherwise end with nothing predicted."""
    lines = json.dumps(squad_document(), indent=2).splitlines(keepends=True)
    source = tmp_path / "xquad.en.json"
    source.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    output = tmp_path / "predictions.json"
    result = run_allennlp(
        ["predict", str(tiny_archive), str(source), "--output-file", str(output), "--silent"],
        check=False,
        timeout=300,
    )
    assert result.returncode == 1
    assert "xltt predictor: error:" in result.stderr
    assert "truncated file" in result.stderr
