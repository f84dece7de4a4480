"""
Checks of reader output written from the reader contract (`notes/contract.md`), not from the
readers' code, and the small-window reader settings the reliability tests use.
"""

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

from allennlp.data import Instance

from tests import TINY_XLMR
from tests.reliability.squad_documents import Malformed, Question, well_formed_questions
from xltt_plugin.predictors.xltt_predictor import XlttPredictor

# Small windows, so that short generated contexts already need several.
LENGTH_LIMIT, STRIDE, MAX_QUERY_LENGTH = 48, 8, 12
WINDOWS = {
    "transformer_model_name": TINY_XLMR,
    "length_limit": LENGTH_LIMIT,
    "stride": STRIDE,
    "max_query_length": MAX_QUERY_LENGTH,
    "language": "en",
}


def visible_strip(text: str) -> str:
    """`text` without whitespace, control (Cc) or format (Cf) characters at either end."""
    start, end = 0, len(text)
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def check_window(instance: Instance, question: Question, length_limit: int = LENGTH_LIMIT) -> None:
    """One window: offsets inside the context and the context span, spans inside the window,
    and a gold span that covers a gold answer text."""
    metadata = instance["metadata"].metadata  # type: ignore[attr-defined]
    context = question.context
    assert metadata["context"] == context and metadata["question"] == question.question
    tokens = instance["question_with_context"].tokens  # type: ignore[attr-defined]
    assert len(tokens) <= length_limit
    offsets = metadata["token_offsets"]
    assert len(offsets) == len(tokens)
    cls = instance["cls_index"].sequence_index  # type: ignore[attr-defined]
    span = instance["context_span"]
    start, end = span.span_start, span.span_end  # type: ignore[attr-defined]
    assert 0 <= start <= end < len(tokens)
    for index, offset in enumerate(offsets):
        if offset is not None:
            assert start <= index <= end, "an offset outside the context span"
            assert 0 <= offset[0] < offset[1] <= len(context), offset
    answer = instance["answer_span"]
    a, b = answer.span_start, answer.span_end  # type: ignore[attr-defined]
    assert metadata["has_answer"] == ((a, b) != (cls, cls))
    if metadata["has_answer"]:
        assert start <= a <= b <= end
        covered = context[offsets[a][0] : offsets[b][1]]
        # Tokenizers usually drop control/format characters (no token covers them): compare
        # the gold text without them at its ends; a tokenizer that does keep one (XLM-R's keeps
        # U+202A) covers the gold text itself, without outer whitespace.
        golds = [visible_strip(gold) for gold in question.answers]
        golds += [gold.strip() for gold in question.answers]
        assert any(gold and gold in covered for gold in golds), (golds, covered)


def check_questions_kept(
    instances: Sequence[Instance], questions: Sequence[Question], length_limit: int = LENGTH_LIMIT
) -> dict[str, list[Instance]]:
    """Every question has all of its windows, once each, and nothing else is there."""
    windows: dict[str, list[Instance]] = defaultdict(list)
    for instance in instances:
        windows[instance["metadata"]["id"]].append(instance)  # type: ignore[index]
    assert set(windows) == {question.qid for question in questions}
    for question in questions:
        found = windows[question.qid]
        count = found[0]["metadata"]["num_windows"]  # type: ignore[index]
        indices = sorted(w["metadata"]["window_index"] for w in found)  # type: ignore[index]
        assert indices == list(range(count))
        for instance in found:
            check_window(instance, question, length_limit)
    return windows


def expected_questions(data: bytes) -> list[Question] | None:
    """The questions of a well-formed file, `None` for a malformed one."""
    try:
        return well_formed_questions(data)
    except Malformed:
        return None


def assert_names_file(error: Exception, *paths: str) -> None:
    assert any(path in str(error) for path in paths), f"{error} names none of {paths}"


def feed_lines(predictor: XlttPredictor, text: str) -> list[str]:
    """What `allennlp predict` does with an input file: load_line per non-blank line, predict,
    dump_line; then the end of the input."""
    outputs = []
    for line in text.splitlines(keepends=True):
        if line.isspace():
            continue
        item = predictor.load_line(line)
        for output in predictor.predict_batch_json([item]):
            outputs.append(predictor.dump_line(output))
    predictor._lines.finish()  # what the predictor checks when `allennlp predict` exits
    return [output for output in outputs if output]


def fresh(predictor: XlttPredictor) -> XlttPredictor:
    """The session's predictor with a new input (as each `allennlp predict` run has)."""
    return XlttPredictor(predictor._model, predictor._dataset_reader)


def assert_answer_from(answer: str, context: str) -> None:
    """
    An answer extracted from `context`: a substring of it, and not empty when the context holds
    a letter or digit (`answer in context` alone holds for `""` too). A context of only
    symbols or control characters may tokenise to nothing, so its answer may be empty.
    """
    assert answer in context, (answer, context[:80])
    if any(char.isalnum() for char in context):
        assert answer, ("empty answer", context[:80])


def assert_answers(answers: dict[str, str], questions: Sequence[Question]) -> None:
    """One answer per question id, each cut from its context (empty for an invisible one)."""
    assert set(answers) == {question.qid for question in questions}
    for question in questions:
        assert_answer_from(answers[question.qid], question.context)
