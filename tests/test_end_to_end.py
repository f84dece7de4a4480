"""
The README's workflow through the real CLI, in subprocesses from the repository root:
`allennlp train` of the tiny XLTT config, `evaluate` on MLQA/XQuAD-named files, `predict` on
JSON lines and on SQuAD files, and `xltt-score` of those predictions.
"""

import json
import os
import subprocess

import pytest

from tests import FIXTURE_DATA, REPO, SHARED_DATA
from tests.metrics.reference_rules import em_and_f1

ALLENNLP = os.path.join(REPO, ".venv", "bin", "allennlp")
CONFIG = os.path.join("training_config", "xltt_tiny.jsonnet")
TRAIN = os.path.join("fixtures", "data", "parallel", "squad_en.json")
EPOCHS = 12


def allennlp(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [ALLENNLP, *args], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Overfit the tiny model on the fixture pivot set, validating on that same set."""
    out = tmp_path_factory.mktemp("xltt_tiny") / "run"
    overrides = {
        "trainer.num_epochs": EPOCHS,
        "trainer.optimizer.lr": 0.002,
        "validation_data_path": TRAIN,
        "validation_dataset_reader.language": "en",
        "dataset_reader.skip_impossible_questions": True,
    }
    allennlp("train", CONFIG, "-s", str(out), "-o", json.dumps(overrides))
    return out


def test_train_produces_an_archive_and_learns(trained):
    assert (trained / "model.tar.gz").is_file()
    first = json.loads((trained / "metrics_epoch_0.json").read_text())
    final = json.loads((trained / "metrics.json").read_text())
    # Chance level: one random span in a few hundred tokens scores F1 near 0 (epoch 0: ~0.03).
    assert first["validation_f1"] < 0.15
    assert final["best_validation_f1"] >= 0.4
    assert final["best_validation_f1"] >= first["validation_f1"] + 0.25


@pytest.mark.parametrize(
    "relative, language",
    [
        ("mlqa/test-context-hi-question-hi.json", "hi"),
        ("mlqa/test-context-de-question-en.json", "de"),
        ("xquad/xquad.ar.json", "ar"),
    ],
)
def test_evaluate_reports_the_language_of_the_file(trained, tmp_path, relative, language):
    metrics_file = tmp_path / "metrics.json"
    allennlp(
        "evaluate",
        str(trained / "model.tar.gz"),
        os.path.join(FIXTURE_DATA, relative),
        "--output-file",
        str(metrics_file),
    )
    metrics = json.loads(metrics_file.read_text())
    assert {f"em_{language}", f"f1_{language}", "em", "f1", "f1_avg"} <= set(metrics)
    assert metrics["f1"] == pytest.approx(metrics[f"f1_{language}"])


def _questions(path):
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)["data"]
    return [
        (qa["id"], paragraph["context"], [a["text"] for a in qa["answers"]])
        for article in data
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]


@pytest.mark.parametrize(
    "relative", ["xquad/xquad.ar.json", "mlqa/test-context-hi-question-hi.json"]
)
def test_predict_squad_file_then_score_round_trip(trained, tmp_path, relative):
    dataset = os.path.join(FIXTURE_DATA, relative)
    predictions = tmp_path / "predictions.json"
    allennlp(
        "predict",
        str(trained / "model.tar.gz"),
        dataset,
        "--output-file",
        str(predictions),
        "--silent",
    )
    answers = json.loads(predictions.read_text())
    questions = _questions(dataset)
    # Every id answered, each answer a non-empty substring of its context.
    assert set(answers) == {qid for qid, _, _ in questions}
    for qid, context, _ in questions:
        assert answers[qid] and answers[qid] in context, (qid, answers[qid])
    score = json.loads(allennlp("xltt-score", dataset, str(predictions)).stdout)
    assert score["questions"] == len(questions) and score["unanswered"] == 0
    # The scorer's F1 agrees with the test's own implementation of the MLQA rules.
    language = "ar" if "ar" in relative else "hi"
    expected = (
        100
        * sum(em_and_f1(answers[qid], golds, language, "mlqa")[1] for qid, _, golds in questions)
        / len(questions)
    )
    assert score["f1"] == pytest.approx(expected)


def test_predict_json_lines(trained, tmp_path):
    inputs = tmp_path / "inputs.jsonl"
    rows = [
        {
            "id": "q1",
            "question": "Who built the bridge?",
            "context": "The bridge was built by Anna.",
        },
        {"question": "何がありますか", "context": "東京には塔があります。", "language": "ja"},
        {"id": "empty", "question": "Anything?", "context": "   "},
    ]
    inputs.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    allennlp(
        "predict", str(trained / "model.tar.gz"), str(inputs), "--output-file", str(out), "--silent"
    )
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in results] == ["q1", "1", "empty"]
    for row, result in zip(rows, results[:2]):
        assert result["best_span_str"] and result["best_span_str"] in row["context"]
    for result in results:
        assert {"best_span_score", "language", "nbest"} <= set(result)
    assert results[1]["language"] == "ja"
    assert results[2]["best_span_str"] == ""


@pytest.mark.slow
def test_predict_every_xquad_question_answers_a_context_substring(trained, tmp_path):
    dataset = os.path.join(SHARED_DATA, "xquad", "xquad.zh.json")
    if not os.path.exists(dataset):
        pytest.skip(f"real data absent: {dataset} (../shared/data is not beside the repository)")
    predictions = tmp_path / "predictions.json"
    allennlp(
        "predict",
        str(trained / "model.tar.gz"),
        dataset,
        "--output-file",
        str(predictions),
        "--silent",
    )
    answers = json.loads(predictions.read_text())
    questions = _questions(dataset)
    assert len(questions) == 1190
    assert set(answers) == {qid for qid, _, _ in questions}
    assert all(answers[qid] in context for qid, context, _ in questions)
    assert sum(1 for qid, _, _ in questions if answers[qid]) >= 0.99 * len(questions)


def _test_mode_overrides(**reader: object) -> str:
    """`--overrides` of README "Test modes": the `xltt` evaluator, optionally a test reader."""
    overrides: dict = {"evaluation": {"type": "xltt"}}
    if reader:
        # Dotted keys: the archive's tokenizer and window settings are kept.
        overrides["validation_dataset_reader.type"] = "xltt_translated"
        for key, value in reader.items():
            overrides[f"validation_dataset_reader.{key}"] = value
    return json.dumps(overrides)


def test_evaluate_in_self_and_translated_modes_labels_the_metrics(trained, tmp_path):
    """README "Test modes": the same target in both modes; only the target is scored."""
    target = os.path.join(FIXTURE_DATA, "parallel", "squad_en.json")
    files = {
        lang: os.path.join(FIXTURE_DATA, "parallel", f"squad_{lang}.json") for lang in ("ja", "ko")
    }
    metrics = {}
    for mode, overrides in (
        ("self", _test_mode_overrides()),
        ("translated", _test_mode_overrides(language="en", parallel_files=files)),
    ):
        out = tmp_path / f"metrics.{mode}.json"
        allennlp(
            "evaluate",
            str(trained / "model.tar.gz"),
            target,
            "--output-file",
            str(out),
            "--overrides",
            overrides,
        )
        metrics[mode] = json.loads(out.read_text())
    assert metrics["self"]["test_mode"] == "self"
    translated = metrics["translated"]
    assert translated["test_mode"] == "translated: ja,ko"
    assert translated["translation_files"] == files
    # squad_ko.json lacks sq-013: its ko slot fell back to self; the question is still scored.
    assert translated["translation_fallbacks"] == {"ja": 0, "ko": 1}
    for result in metrics.values():
        assert {k for k in result if k.startswith("f1_")} == {"f1_en", "f1_avg"}
    # A different number of slots than the archive was trained with: one clear error.
    result = subprocess.run(
        [
            ALLENNLP,
            "evaluate",
            str(trained / "model.tar.gz"),
            target,
            "--overrides",
            _test_mode_overrides(
                language="en",
                parallel_languages=["ja", "ko", "zh"],
                parallel_files={**files, "zh": files["ja"]},
            ),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode != 0
    assert "3 parallel slot(s)" in result.stderr and "trained with 2" in result.stderr


def test_predict_squad_file_in_translated_mode(trained, tmp_path):
    target = os.path.join(FIXTURE_DATA, "parallel", "squad_en.json")
    files = {
        lang: os.path.join(FIXTURE_DATA, "parallel", f"squad_{lang}.json") for lang in ("ja", "ko")
    }
    overrides = {
        "validation_dataset_reader.type": "xltt_translated",
        "validation_dataset_reader.parallel_files": files,
    }
    predictions = tmp_path / "predictions.json"
    allennlp(
        "predict",
        str(trained / "model.tar.gz"),
        target,
        "--output-file",
        str(predictions),
        "--silent",
        "--overrides",
        json.dumps(overrides),
    )
    answers = json.loads(predictions.read_text())
    questions = _questions(target)
    assert set(answers) == {qid for qid, _, _ in questions}
    for qid, context, _ in questions:
        assert answers[qid] in context
