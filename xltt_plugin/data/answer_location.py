"""
Locating and repairing gold answers in their context (pure functions on strings).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from xltt_plugin.data.squad_loading import SquadAnswer


@dataclass(frozen=True)
class AnswerLocation:
    """
    A gold answer located in its context: `[start, end)` character offsets of the answer text
    with outer whitespace stripped, the stripped `text`, and whether its position had to be
    `repaired` (the given `answer_start` did not point at it).
    """

    start: int
    end: int
    text: str
    repaired: bool


def _occurrences(context: str, text: str) -> Iterator[int]:
    position = context.find(text)
    while position != -1:
        yield position
        position = context.find(text, position + 1)


def locate_answer(
    context: str,
    text: str,
    answer_start: int | None,
    max_distance: int | None = None,
) -> AnswerLocation | None:
    """
    Find a gold answer in its context.

    The answer text is stripped of outer whitespace. It is taken where `answer_start` points
    (allowing the stripped text to start at `answer_start` or after the stripped leading
    whitespace); otherwise it is searched for: the occurrence nearest to `answer_start` (the
    first one when `answer_start` is `None`), within `max_distance` characters of it when both
    are given (`None`: anywhere). A position found by search is marked `repaired`.

    # Returns

    `Optional[AnswerLocation]`
        `None` when the stripped text is empty or not found (near enough).
    """
    stripped = text.strip()
    if not stripped:
        return None
    lead = len(text) - len(text.lstrip())
    if answer_start is not None:
        for start in (answer_start + lead, answer_start):
            if context.startswith(stripped, start):
                return AnswerLocation(start, start + len(stripped), stripped, repaired=False)
    expected = 0 if answer_start is None else answer_start + lead
    best: int | None = None
    for position in _occurrences(context, stripped):
        if best is None or abs(position - expected) < abs(best - expected):
            best = position
        if position > expected:
            break
    if best is None:
        return None
    if (
        answer_start is not None
        and max_distance is not None
        and abs(best - expected) > max_distance
    ):
        return None
    return AnswerLocation(best, best + len(stripped), stripped, repaired=True)


def first_usable_answer(
    context: str, answers: Iterable[SquadAnswer], max_distance: int | None = None
) -> AnswerLocation | None:
    """
    The first gold answer that `locate_answer` places in `context` (like Hugging Face and
    allennlp-models, only one answer is used for the span; the rest are kept for scoring).
    """
    for answer in answers:
        location = locate_answer(context, answer.text, answer.answer_start, max_distance)
        if location is not None:
            return location
    return None
