"""
The bad-input cases of the reliability issue, one by one, through `xltt_squad`, the `xltt`
predictor (SQuAD files) and `xltt-score`: each works, or fails with the plugin's own error
naming the file, the question id where there is one, and the problem.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import TINY_XLMR
from tests.reliability.checks import (
    MAX_QUERY_LENGTH,
    assert_answer_from,
    check_questions_kept,
    expected_questions,
    feed_lines,
    fresh,
)
from xltt_plugin.commands.score import ScoreError, score_files
from xltt_plugin.data.squad_loading import SquadFormatError
from xltt_plugin.data.token_windows import token_span_to_char_span
from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
from xltt_plugin.predictors.xltt_predictor import XlttPredictor

CONTEXT = "Apollo 11 landed on the Moon in 1969. Neil Armstrong walked first."
ANSWER = "Neil Armstrong"
SOUP = "\u200b\u202eNeil\u0301 👩\u200d👩\u200d👧 \u2066Armstrong\u2069 \ud800 walked 🇯🇵 first."


def qa(qid: Any = "q1", question: Any = "Who walked first?", **changes: Any) -> dict[str, Any]:
    item = {
        "id": qid,
        "question": question,
        "answers": [{"text": ANSWER, "answer_start": CONTEXT.index(ANSWER)}],
    }
    item.update(changes)
    return {key: value for key, value in item.items() if value is not DELETE}


DELETE = object()


def document(*qas: dict[str, Any], context: Any = CONTEXT) -> dict[str, Any]:
    return {
        "version": "1.1",
        "data": [{"title": "Apollo", "paragraphs": [{"context": context, "qas": list(qas)}]}],
    }


def as_bytes(value: Any) -> bytes:
    return json.dumps(value, indent=1).encode("utf-8")


def with_answer(text: str, start: int, context: str = CONTEXT) -> dict[str, Any]:
    return document(qa(answers=[{"text": text, "answer_start": start}]), context=context)


OK = "ok"
# name -> (file bytes, what xltt_squad / the predictor give, what xltt-score gives)
CASES: dict[str, tuple[bytes, Any, Any]] = {
    "truncated_json": (as_bytes(document(qa()))[:50], ["malformed JSON"], ["malformed JSON"]),
    "not_utf8": (
        json.dumps(document(qa(question="¿Quién?")), ensure_ascii=False).encode("latin-1"),
        ["not UTF-8"],
        ["not UTF-8"],
    ),
    "missing_data": (as_bytes({"version": "1.1"}), ["'data' list"], ["not a SQuAD-format"]),
    "missing_paragraphs": (
        as_bytes({"data": [{"title": "Apollo"}]}),
        ["article 0", "'paragraphs' must be a list"],
        ["article 0", "'paragraphs'"],
    ),
    "missing_qas": (
        as_bytes({"data": [{"paragraphs": [{"context": CONTEXT}]}]}),
        ["paragraph 0", "'qas' must be a list"],
        ["paragraph 0", "'qas'"],
    ),
    "missing_answers": (as_bytes(document(qa(answers=DELETE))), OK, ["q1", "no gold answers"]),
    "non_string_question": (
        as_bytes(document(qa(question=42))),
        ["'q1'", "'question' must be a string"],
        ["'q1'", "'question' must be a string"],  # the scorer reads with the readers' loader
    ),
    "empty_question": (as_bytes(document(qa(question=""))), OK, OK),
    # Found by hypothesis: the answer ends in a control character no token covers.
    "answer_ends_in_a_control_character": (
        as_bytes(with_answer("the the0\x1b", 0, context="the the0\x1b")),
        OK,
        OK,
    ),
    "non_string_context": (
        as_bytes(document(qa(), context=["Apollo"])),
        ["paragraph 0", "'context' must be a string"],
        ["paragraph 0", "'context' must be a string"],
    ),
    "empty_context": (as_bytes(document(qa(), context="")), OK, OK),
    "context_tokenises_to_nothing": (
        as_bytes(document(qa(), context="\u200b\u200f\ufeff")),
        OK,
        OK,
    ),
    "duplicate_ids": (
        as_bytes(document(qa("q1"), qa("q1", question="Again?"))),
        ["'q1'", "duplicate question id"],
        ["'q1'", "duplicate question id"],
    ),
    "answer_start_negative": (as_bytes(with_answer(ANSWER, -7)), OK, OK),
    "answer_start_past_the_end": (as_bytes(with_answer(ANSWER, len(CONTEXT) + 5)), OK, OK),
    "answer_start_far_past_the_end": (as_bytes(with_answer(ANSWER, 10**9)), OK, OK),
    "answer_start_at_other_text": (as_bytes(with_answer(ANSWER, 0)), OK, OK),
    "controls_marks_emoji_surrogates": (
        as_bytes(with_answer("Armstrong", SOUP.index("Armstrong"), SOUP)),
        OK,
        OK,
    ),
    "question_longer_than_the_window": (
        as_bytes(document(qa(question="Who walked first on the Moon? " * 400))),
        OK,
        OK,
    ),
}


def write(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "case.json"
    path.write_bytes(data)
    return str(path)


def outcome(call: Callable[[], Any], error_type: type[Exception]) -> Any:
    try:
        return call()
    except error_type as error:
        return error


def assert_expected(result: Any, expected: Any, path: str) -> None:
    if expected == OK:
        assert not isinstance(result, Exception), f"unexpected error: {result}"
        return
    assert isinstance(result, Exception), f"accepted: {result}"
    message = str(result)
    assert path in message, message
    for part in expected:
        assert part in message, message
    assert "\n" not in message


@pytest.mark.parametrize("name", sorted(CASES))
def test_xltt_squad(name: str, squad_reader: XlttSquadReader, tmp_path: Path) -> None:
    data, expected, _ = CASES[name]
    path = write(tmp_path, data)
    result = outcome(lambda: list(squad_reader.read(path)), SquadFormatError)
    assert_expected(result, expected, path)
    if expected == OK:
        questions = expected_questions(data)
        assert questions is not None
        windows = check_questions_kept(result, questions)
        if (
            name.startswith(("answer_start", "controls"))
            and name != "answer_start_far_past_the_end"
        ):
            # The answer is found (at answer_start, else by search near it) and its gold span
            # maps back through the offsets to exactly the answer text.
            gold = questions[0].answers[0]
            spans = [
                token_span_to_char_span(
                    w["metadata"]["token_offsets"],
                    w["answer_span"].span_start,
                    w["answer_span"].span_end,
                )
                for w in windows["q1"]
                if w["metadata"]["has_answer"]
            ]
            assert spans and all(questions[0].context[s:e] == gold for s, e in spans)
        if name == "answer_start_far_past_the_end":
            # Too far from answer_start to be repaired: kept without a span, and counted.
            assert not any(w["metadata"]["has_answer"] for w in windows["q1"])
            assert squad_reader.last_read_stats.skipped["answer_not_found"] == 1
        if name == "question_longer_than_the_window":
            # <s> question </s></s> context </s>: the question cut to max_query_length.
            assert windows["q1"][0]["context_span"].span_start - 3 == MAX_QUERY_LENGTH


@pytest.mark.parametrize("name", sorted(CASES))
def test_predictor(name: str, predictor: XlttPredictor, tmp_path: Path) -> None:
    data, expected, _ = CASES[name]
    path = write(tmp_path, data)
    result = outcome(lambda: fresh(predictor).predict_squad_file(path, "en"), SquadFormatError)
    assert_expected(result, expected, path)
    if expected == OK:
        questions = expected_questions(data)
        assert questions is not None and set(result) == {q.qid for q in questions}
        for question in questions:
            assert_answer_from(result[question.qid], question.context)
            if not question.context.strip("\u200b\u200f\ufeff"):
                assert result[question.qid] == ""


@pytest.mark.parametrize("name", sorted(CASES))
def test_xltt_score(name: str, tmp_path: Path) -> None:
    data, _, expected = CASES[name]
    path = write(tmp_path, data)
    predictions = tmp_path / "predictions.json"
    predictions.write_text(json.dumps({"q1": ANSWER}))
    result = outcome(lambda: score_files(path, str(predictions), "en", "mlqa"), ScoreError)
    assert_expected(result, expected, path)
    if expected == OK:
        assert result["questions"] == 1 and result["unanswered"] == 0


def test_one_megabyte_context(tmp_path: Path) -> None:
    """A 1 MB context with the answer near its end, read with the paper's window sizes."""
    sentence = "Apollo 11 landed on the Moon in 1969 and the crew came back safely. "
    context = sentence * (1_000_000 // len(sentence)) + CONTEXT
    assert len(context.encode("utf-8")) > 1_000_000
    data = as_bytes(with_answer(ANSWER, context.index(ANSWER), context))
    path = write(tmp_path, data)
    reader = XlttSquadReader(TINY_XLMR, language="en")  # 384 / 128 / 64
    instances = list(reader.read(path))
    questions = expected_questions(data)
    assert questions is not None
    windows = check_questions_kept(instances, questions, length_limit=384)
    assert len(windows["q1"]) > 1000
    holding = [w for w in windows["q1"] if w["metadata"]["has_answer"]]
    assert holding and holding[-1]["metadata"]["window_index"] == len(windows["q1"]) - 1


# ------------------------------------------------------------------------------------------
# Parallel files


def parallel_files(tmp_path: Path, pivot: dict, ja: Any, ko: Any) -> str:
    for language, content in (("en", pivot), ("ja", ja), ("ko", ko)):
        data = content if isinstance(content, bytes) else as_bytes(content)
        (tmp_path / f"squad_{language}.json").write_bytes(data)
    return str(tmp_path / "squad_en.json")


def test_parallel_ids_missing_on_either_side(
    parallel_reader: XlttParallelReader, tmp_path: Path
) -> None:
    pivot = document(qa("q1"), qa("q2"), qa("q3"))
    ja = document(qa("q1"), qa("q3"), qa("ja-only"))  # lacks q2, has an id the pivot lacks
    ko = document(qa("q2"), qa("ko-only"))
    path = parallel_files(tmp_path, pivot, ja, ko)
    instances = list(parallel_reader.read(path))
    present = {
        instance["metadata"]["id"]: instance["parallel_mask"].tensor.tolist()
        for instance in instances
    }
    assert present == {"q1": [True, False], "q2": [False, True], "q3": [True, False]}
    stats = parallel_reader.last_read_stats
    assert stats.translations["ja"]["missing_question"] == 1
    assert stats.translations["ko"]["missing_question"] == 2


@pytest.mark.parametrize(
    "ja, problem",
    [
        (document(qa("q1"), qa("q1", question="Twice?")), ["'q1'", "duplicate question id"]),
        (as_bytes(document(qa("q1")))[:40], ["malformed JSON"]),
        (document(qa("q1", question=None)), ["'q1'", "'question' must be a string"]),
    ],
    ids=["duplicate_id", "truncated", "non_string_question"],
)
def test_parallel_broken_translation_is_named(
    parallel_reader: XlttParallelReader, tmp_path: Path, ja: Any, problem: list[str]
) -> None:
    path = parallel_files(tmp_path, document(qa("q1")), ja, document(qa("q1")))
    with pytest.raises(SquadFormatError) as info:
        list(parallel_reader.read(path))
    message = str(info.value)
    assert str(tmp_path / "squad_ja.json") in message
    for part in problem:
        assert part in message


def test_parallel_duplicate_pivot_id_is_named(
    parallel_reader: XlttParallelReader, tmp_path: Path
) -> None:
    pivot = document(qa("q1"), qa("q1"))
    path = parallel_files(tmp_path, pivot, document(qa("q1")), document(qa("q1")))
    with pytest.raises(SquadFormatError, match="duplicate question id") as info:
        list(parallel_reader.read(path))
    assert path in str(info.value) and "'q1'" in str(info.value)


# ------------------------------------------------------------------------------------------
# Predictor input as `allennlp predict` passes it (line by line)


def test_document_whose_last_line_is_not_a_brace_is_answered(predictor: XlttPredictor) -> None:
    """The old buffering waited for a line starting with `}` and lost such documents."""
    body = json.dumps(document(qa("q1"), qa("q2")))
    text = '{"version": "1.1",\n"data": ' + body[body.index("[") : -1] + "}\n"
    outputs = feed_lines(fresh(predictor), text)
    assert len(outputs) == 1 and set(json.loads(outputs[0])) == {"q1", "q2"}


def test_truncated_document_is_reported_at_the_end(predictor: XlttPredictor) -> None:
    text = json.dumps(document(qa("q1")), indent=2)
    truncated = text[: text.index('"qas"')]
    with pytest.raises(SquadFormatError, match="truncated file"):
        feed_lines(fresh(predictor), truncated)
    cut_in_a_string = text[: text.index("Apollo 11") + 6]
    with pytest.raises(SquadFormatError, match="a string runs past the end of the line"):
        feed_lines(fresh(predictor), cut_in_a_string)


def test_broken_json_line_stops_with_its_line_number(predictor: XlttPredictor) -> None:
    good = json.dumps({"id": "a", "question": "Who?", "context": CONTEXT})
    text = f"{good}\n{good[:20]}\n{good}\n"
    with pytest.raises(SquadFormatError, match="input line 2: not valid JSON"):
        feed_lines(fresh(predictor), text)
    with pytest.raises(SquadFormatError, match="input line 2: expected a JSON object"):
        feed_lines(fresh(predictor), f"{good}\n[1, 2]\n")


def test_lone_surrogate_answer_is_written_as_json(predictor: XlttPredictor) -> None:
    fed = fresh(predictor)
    item = fed.load_line(json.dumps({"id": "s", "question": "?", "context": "\ud800 \ud800"}))
    line = fed.dump_line(fed.predict_batch_json([item])[0])
    line.encode("utf-8")  # the output file is UTF-8
    assert json.loads(line)["id"] == "s"
