"""
Property tests over generated SQuAD-format files (see `squad_documents`) for the `xltt_squad` and
`xltt_parallel` readers, the `xltt` predictor and `xltt-score`: every input is either read in
full (every question kept, every offset inside its context, every span inside its window) or
rejected with the plugin's own error naming the file; a well-formed file is never rejected and
a malformed one never accepted. `test_named_cases.py` has the issue's cases one by one.
"""

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.metrics.reference_rules import em_and_f1
from tests.reliability.checks import (
    LENGTH_LIMIT,
    assert_answer_from,
    assert_answers,
    assert_names_file,
    check_questions_kept,
    expected_questions,
    feed_lines,
    fresh,
)
from tests.reliability.squad_documents import (
    Question,
    encoded,
    mutated,
    piece,
    squad_documents,
    texts,
)
from xltt_plugin.commands.score import ScoreError, score_files
from xltt_plugin.data.squad_loading import SquadFormatError
from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
from xltt_plugin.predictors.xltt_predictor import XlttPredictor

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run (CI)
    suppress_health_check=list(HealthCheck),
)


# ------------------------------------------------------------------------------------------
# Properties


@PROPERTY
@given(st.data())
def test_xltt_squad_reads_everything_or_names_the_file(
    squad_reader: XlttSquadReader, data: st.DataObject
) -> None:
    raw = data.draw(encoded(data.draw(mutated(data.draw(squad_documents())))))
    expected = expected_questions(raw)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "source.json")
        Path(path).write_bytes(raw)
        try:
            instances = list(squad_reader.read(path))
        except SquadFormatError as error:
            assert expected is None, f"a well-formed file was rejected: {error}"
            assert_names_file(error, path)
            return
    assert expected is not None, "a malformed file was accepted"
    check_questions_kept(instances, expected)


@st.composite
def parallel_corpora(draw: st.DrawFn) -> dict[str, bytes]:
    """A pivot and ja/ko translations sharing some ids; each may lack ids of the others."""
    pivot_ids = draw(st.lists(st.sampled_from([f"sq-{i}" for i in range(12)]), unique=True))
    files = {"en": draw(encoded(draw(mutated(draw(squad_documents(st.just(pivot_ids)))))))}
    for language in ("ja", "ko"):
        ids = draw(
            st.lists(st.sampled_from([*pivot_ids, f"{language}-only-1", f"{language}-only-2"]))
            .map(lambda values: list(dict.fromkeys(values)))
            .flatmap(st.permutations)
        )
        document = draw(squad_documents(st.just(ids)))
        if draw(st.integers(0, 3)) == 0:
            document = draw(mutated(document, max_mutations=1))
        files[language] = draw(encoded(document))
    return files


@PROPERTY
@given(parallel_corpora())
def test_xltt_parallel_reads_everything_or_names_the_file(
    parallel_reader: XlttParallelReader, files: dict[str, bytes]
) -> None:
    expected = {language: expected_questions(raw) for language, raw in files.items()}
    with tempfile.TemporaryDirectory() as directory:
        paths = {language: os.path.join(directory, f"squad_{language}.json") for language in files}
        for language, raw in files.items():
            Path(paths[language]).write_bytes(raw)
        try:
            instances = list(parallel_reader.read(paths["en"]))
        except SquadFormatError as error:
            malformed = [paths[lang] for lang, questions in expected.items() if questions is None]
            assert malformed, f"well-formed files were rejected: {error}"
            assert_names_file(error, *malformed)
            return
    assert all(questions is not None for questions in expected.values()), "malformed accepted"
    pivot = expected["en"]
    assert pivot is not None
    check_questions_kept(instances, pivot)
    translated = {
        language: {question.qid for question in expected[language] or []}
        for language in ("ja", "ko")
    }
    for instance in instances:
        metadata = instance["metadata"].metadata  # type: ignore[attr-defined]
        present = [metadata["id"] in translated[language] for language in ("ja", "ko")]
        assert instance["parallel_mask"].tensor.tolist() == present  # type: ignore[attr-defined]
        assert metadata["parallel_present"] == present
        fields = instance["parallel_question_with_context"].field_list  # type: ignore[attr-defined]
        contexts = instance["parallel_context_span"].field_list  # type: ignore[attr-defined]
        answers = instance["parallel_answer_span"].field_list  # type: ignore[attr-defined]
        has_answer = instance["parallel_has_answer"].tensor.tolist()  # type: ignore[attr-defined]
        assert len(fields) == len(contexts) == len(answers) == len(has_answer) == 2
        for slot in range(2):
            length = len(fields[slot].tokens)
            assert length <= LENGTH_LIMIT
            context_start, context_end = contexts[slot].span_start, contexts[slot].span_end
            assert 0 <= context_start <= context_end < length
            if not present[slot]:  # self-transposition: a copy of the pivot window
                assert not has_answer[slot]
                pivot_tokens = instance["question_with_context"].tokens  # type: ignore[attr-defined]
                assert [t.text for t in fields[slot].tokens] == [t.text for t in pivot_tokens]
            elif has_answer[slot]:
                assert context_start <= answers[slot].span_start <= answers[slot].span_end
                assert answers[slot].span_end <= context_end


@settings(PROPERTY, max_examples=25)
@given(st.data())
def test_predictor_answers_every_question_or_names_the_problem(
    predictor: XlttPredictor, data: st.DataObject
) -> None:
    raw = data.draw(encoded(data.draw(mutated(data.draw(squad_documents())))))
    expected = expected_questions(raw)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "source.json")
        Path(path).write_bytes(raw)
        try:
            answers = fresh(predictor).predict_squad_file(path, "en")
        except SquadFormatError as error:
            assert expected is None, f"a well-formed file was rejected: {error}"
            assert_names_file(error, path)
        else:
            assert expected is not None, "a malformed file was accepted"
            assert_answers(answers, expected)
    # The same bytes as `allennlp predict` input (it reads UTF-8 text line by line).
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        outputs = feed_lines(fresh(predictor), text)
    except SquadFormatError as error:
        assert expected is None, f"a well-formed document was rejected: {error}"
        assert "line" in str(error) or "input" in str(error)
        return
    assert expected is not None, "a malformed document was accepted"
    assert len(outputs) == 1
    assert_answers(json.loads(outputs[0]), expected)


@st.composite
def json_lines_inputs(draw: st.DrawFn) -> tuple[list[str], int | None]:
    """JSON-lines questions and the 0-based index of the first broken line (or None)."""
    lines: list[str] = []
    broken: int | None = None
    for index in range(draw(st.integers(1, 5))):
        item: dict[str, Any] = {"question": draw(texts), "context": draw(texts)}
        if draw(st.booleans()):
            item["id"] = f"line-{index}"
        line = json.dumps(item, ensure_ascii=draw(st.booleans()))
        defect = draw(st.sampled_from(["none"] * 8 + ["truncated", "not_object", "no_context"]))
        if defect == "truncated":
            line = line[: draw(st.integers(1, len(line) - 1))]
        elif defect == "not_object":
            line = json.dumps([item])
        elif defect == "no_context":
            line = json.dumps({"question": item["question"], "context": None})
        if defect != "none" and broken is None:
            broken = index
        lines.append(line + "\n")
    return lines, broken


@settings(PROPERTY, max_examples=25)
@given(json_lines_inputs())
def test_predictor_json_lines_answer_each_line_or_stop_at_the_broken_one(
    predictor: XlttPredictor, case: tuple[list[str], int | None]
) -> None:
    lines, broken = case
    fed = fresh(predictor)
    answered = []
    try:
        for line in lines:
            for output in fed.predict_batch_json([fed.load_line(line)]):
                dumped = fed.dump_line(output)
                dumped.encode("utf-8")  # writable to the output file
                answered.append(json.loads(dumped))
        fed._lines.finish()
    except SquadFormatError as error:
        assert broken is not None, f"a good input was rejected: {error}"
        assert len(answered) <= broken, "a line after the broken one was answered"
        return
    assert broken is None, "a broken line was accepted"
    assert len(answered) == len(lines)
    for line, output in zip(lines, answered):
        item = json.loads(line)
        assert_answer_from(output["best_span_str"], item["context"])
        if "id" in item:
            assert output["id"] == item["id"]


@st.composite
def prediction_files(draw: st.DrawFn, ids: list[str]) -> bytes:
    kind = draw(st.sampled_from(["answers"] * 5 + ["not_object", "not_string", "broken"]))
    answers = {
        qid: draw(st.lists(piece, max_size=4).map("".join))
        for qid in ids
        if draw(st.integers(0, 4)) > 0
    }
    answers.update({"extra": "x"} if draw(st.booleans()) else {})
    if kind == "not_object":
        return json.dumps(list(answers)).encode()
    if kind == "not_string":
        return json.dumps({**answers, "bad": 5}).encode()
    text = json.dumps(answers).encode()
    return text[: len(text) // 2] if kind == "broken" else text


@settings(PROPERTY, max_examples=40)
@given(st.data())
def test_xltt_score_scores_every_question_or_names_the_file(data: st.DataObject) -> None:
    raw = data.draw(encoded(data.draw(mutated(data.draw(squad_documents())))))
    expected = expected_questions(raw)
    ids = [question.qid for question in expected or []]
    predictions_raw = data.draw(prediction_files(ids))
    with tempfile.TemporaryDirectory() as directory:
        gold_path = os.path.join(directory, "gold.json")
        predictions_path = os.path.join(directory, "predictions.json")
        Path(gold_path).write_bytes(raw)
        Path(predictions_path).write_bytes(predictions_raw)
        try:
            result = score_files(gold_path, predictions_path, "en", "mlqa")
        except ScoreError as error:
            assert not scorable(expected, predictions_raw), f"a scorable pair was rejected: {error}"
            assert_names_file(error, gold_path, predictions_path)
            return
    assert scorable(expected, predictions_raw) or expected is None, "malformed input accepted"
    predictions = json.loads(predictions_raw)
    if expected is not None:
        assert result["questions"] == len(expected)
        assert result["unanswered"] == sum(q.qid not in predictions for q in expected)
        scores = [
            em_and_f1(predictions[q.qid], list(q.answers), "en", "mlqa")
            for q in expected
            if q.qid in predictions
        ]
        assert result["exact_match"] == pytest.approx(
            100 * sum(s[0] for s in scores) / len(expected)
        )
        assert result["f1"] == pytest.approx(100 * sum(s[1] for s in scores) / len(expected))


def scorable(expected: list[Question] | None, predictions_raw: bytes) -> bool:
    """A well-formed gold file whose every question has a gold answer, and predictions that
    are an object of strings: what the official scripts can score."""
    try:
        predictions = json.loads(predictions_raw)
    except ValueError:
        return False
    return (
        bool(expected)
        and all(question.answers for question in expected or [])
        and isinstance(predictions, dict)
        and all(isinstance(value, str) for value in predictions.values())
    )
