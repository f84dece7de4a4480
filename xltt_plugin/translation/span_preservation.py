"""
Pure functions for keeping an answer span through machine translation (paper §4.1, step 1).

Two methods, tried in this order by `allennlp xltt-translate`:

1. **Markers**: the answer is wrapped in a pair of marker strings (`wrap_answer`) before the
   context is translated; if the translation holds exactly one well-formed pair,
   `strip_markers` removes it and returns the marker-free context with the answer's position.
2. **Search**: the separately translated answer text is looked for in the translated context
   (`find_answer`): exactly, then after normalisation (NFKC, case folding, no punctuation or
   whitespace), then fuzzily (the token-aligned substring most similar to it, if its
   `difflib` ratio reaches a threshold).

Nothing here knows about translators, files or AllenNLP.
"""

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Markers = tuple[str, str]
SearchMethod = Literal["exact", "normalised", "fuzzy"]

DEFAULT_MARKERS: Markers = ("<a>", "</a>")
DEFAULT_FUZZY_THRESHOLD = 0.8

# Scripts written without spaces between words: each character is a token of its own.
_NO_SPACE_CHARACTERS = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # hiragana, katakana
    "\u31f0-\u31ff"  # katakana extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # half-width katakana
)
_TOKEN = re.compile(rf"[{_NO_SPACE_CHARACTERS}]|(?:(?![{_NO_SPACE_CHARACTERS}])[^\W_])+")


def validate_markers(markers: Sequence[str]) -> Markers:
    """
    Check a marker pair: two different non-blank strings, neither inside the other (so that
    each can be counted on its own).

    # Raises

    `ValueError`
        Naming the problem.
    """
    if len(markers) != 2:
        raise ValueError(f"markers must be a pair (open, close), got {markers!r}")
    opening, closing = markers
    if not isinstance(opening, str) or not isinstance(closing, str):
        raise ValueError(f"markers must be strings, got {markers!r}")
    if not opening.strip() or not closing.strip():
        raise ValueError(f"markers must not be empty or blank, got {markers!r}")
    if opening in closing or closing in opening:
        raise ValueError(f"neither marker may contain the other, got {markers!r}")
    return (opening, closing)


def can_mark(context: str, markers: Markers) -> bool:
    """Whether `context` is free of both markers (else the marker method cannot be used)."""
    return markers[0] not in context and markers[1] not in context


def wrap_answer(context: str, start: int, end: int, markers: Markers) -> str:
    """
    `context` with `context[start:end]` wrapped in the markers (no spaces are added).

    # Raises

    `ValueError`
        When the span is empty or outside the context.
    """
    if not 0 <= start < end <= len(context):
        raise ValueError(f"span [{start}, {end}) is empty or outside a {len(context)}-char text")
    return context[:start] + markers[0] + context[start:end] + markers[1] + context[end:]


@dataclass(frozen=True)
class MarkedSpan:
    """A marker-free translated `context` and the answer's `[start, end)` in it."""

    context: str
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.context[self.start : self.end]


def strip_markers(translation: str, markers: Markers) -> MarkedSpan | None:
    """
    Remove the marker pair from a translated context and locate the answer between them.

    The pair is well formed when each marker occurs exactly once, the opening one first, with
    something other than whitespace between them. The span excludes whitespace just inside the
    markers; that whitespace is kept in the context only where it separates the answer from a
    neighbouring non-space character (`"was <a> Neil </a> ."` gives `"was Neil ."`).

    # Returns

    `Optional[MarkedSpan]`
        `None` when the pair is missing, repeated, reversed or empty.
    """
    opening, closing = markers
    if translation.count(opening) != 1 or translation.count(closing) != 1:
        return None
    open_at = translation.index(opening)
    close_at = translation.index(closing)
    if close_at < open_at + len(opening):
        return None
    before = translation[:open_at]
    inner = translation[open_at + len(opening) : close_at]
    after = translation[close_at + len(closing) :]
    answer = inner.strip()
    if not answer:
        return None
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()) :]
    if not before or before[-1].isspace():
        lead = ""
    if not after or after[0].isspace():
        trail = ""
    context = before + lead + answer + trail + after
    start = len(before) + len(lead)
    return MarkedSpan(context, start, start + len(answer))


@dataclass(frozen=True)
class FoundSpan:
    """
    An answer found by search: `[start, end)` in the context, how (`method`), and the
    similarity `score` (1.0 for exact and normalised matches, the `difflib` ratio for fuzzy).
    """

    start: int
    end: int
    method: SearchMethod
    score: float


def _normalise_character(character: str) -> str:
    """NFKC + case folding, without punctuation and whitespace."""
    return "".join(
        c
        for c in unicodedata.normalize("NFKC", character).casefold()
        if not c.isspace() and not unicodedata.category(c).startswith("P")
    )


def normalise(text: str) -> str:
    """
    The form compared by the normalised and fuzzy searches: NFKC, case-folded, with punctuation
    and whitespace removed (`"3,776 Metres"` -> `"3776metres"`).
    """
    return "".join(_normalise_character(c) for c in text)


def _normalise_with_offsets(text: str) -> tuple[str, list[int]]:
    """`normalise(text)` and, for each of its characters, the index in `text` it came from."""
    characters: list[str] = []
    offsets: list[int] = []
    for index, character in enumerate(text):
        for normalised in _normalise_character(character):
            characters.append(normalised)
            offsets.append(index)
    return "".join(characters), offsets


def _at_word_boundaries(context: str, start: int, end: int) -> bool:
    """Whether the span neither starts nor ends inside a word of a space-delimited script."""
    left_ok = start == 0 or not (context[start - 1].isalnum() and context[start].isalnum())
    right_ok = end == len(context) or not (context[end - 1].isalnum() and context[end].isalnum())
    return left_ok and right_ok


def _distance(start: int, context: str, expected_position: float | None) -> float:
    if expected_position is None or not context:
        return 0.0
    return abs(start / len(context) - expected_position)


def _best_occurrence(
    context: str, spans: list[tuple[int, int]], expected_position: float | None
) -> tuple[int, int] | None:
    """Prefer whole-word occurrences, then the one nearest the expected position, then the first."""
    if not spans:
        return None
    return min(
        spans,
        key=lambda span: (
            not _at_word_boundaries(context, span[0], span[1]),
            _distance(span[0], context, expected_position),
            span[0],
        ),
    )


def _exact_spans(context: str, answer: str) -> list[tuple[int, int]]:
    spans = []
    position = context.find(answer)
    while position != -1:
        spans.append((position, position + len(answer)))
        position = context.find(answer, position + 1)
    return spans


def _normalised_spans(context: str, answer: str) -> list[tuple[int, int]]:
    target = normalise(answer)
    if not target:
        return []
    normalised, offsets = _normalise_with_offsets(context)
    spans = []
    position = normalised.find(target)
    while position != -1:
        spans.append((offsets[position], offsets[position + len(target) - 1] + 1))
        position = normalised.find(target, position + 1)
    return spans


def _fuzzy_span(
    context: str, answer: str, threshold: float, expected_position: float | None
) -> tuple[int, int, float] | None:
    """
    The token-aligned span of `context` whose normalised form is most similar to the
    normalised answer (`difflib.SequenceMatcher.ratio`), if at least `threshold`. Candidate
    spans have between half and twice the answer's normalised length.
    """
    target = normalise(answer)
    if not target:
        return None
    tokens = [(m.start(), m.end(), normalise(m.group())) for m in _TOKEN.finditer(context)]
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    shortest, longest = len(target) / 2, 2 * len(target)
    best: tuple[float, float, int, int] | None = None  # (-ratio, distance, start, end)
    for i, (start, _, _) in enumerate(tokens):
        pieces: list[str] = []
        for j in range(i, len(tokens)):
            pieces.append(tokens[j][2])
            candidate = "".join(pieces)
            if len(candidate) > longest:
                break
            if len(candidate) < shortest:
                continue
            matcher.set_seq1(candidate)
            if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                continue
            ratio = matcher.ratio()
            if ratio < threshold:
                continue
            end = tokens[j][1]
            key = (-ratio, _distance(start, context, expected_position), start, end)
            if best is None or key < best:
                best = key
    if best is None:
        return None
    return best[2], best[3], -best[0]


def find_answer(
    context: str,
    answer: str,
    expected_position: float | None = None,
    fuzzy_threshold: float | None = DEFAULT_FUZZY_THRESHOLD,
) -> FoundSpan | None:
    """
    Locate a (translated) answer text in a (translated) context.

    Tried in order: the exact text (outer whitespace stripped); its normalised form (see
    `normalise`) in the normalised context, mapped back to the original characters; and, when
    `fuzzy_threshold` is not `None`, the most similar token-aligned span. Among several exact or
    normalised occurrences, one at word boundaries is preferred, then the one whose relative
    position in the context (start / length) is nearest `expected_position` (the answer's
    relative position in the source context), then the first. Fuzzy matches are ranked by
    similarity first.

    # Parameters

    context : `str`
        The text to search.
    answer : `str`
        The answer text to look for.
    expected_position : `float`, optional (default=`None`)
        Where the answer is expected, as a fraction of the context length (0 to 1).
    fuzzy_threshold : `float`, optional (default=`0.8`)
        Minimal `difflib` ratio of a fuzzy match; `None` turns fuzzy matching off.

    # Returns

    `Optional[FoundSpan]`
        `None` when the answer is blank or not found.
    """
    stripped = answer.strip()
    if not stripped or not context:
        return None
    exact = _best_occurrence(context, _exact_spans(context, stripped), expected_position)
    if exact is not None:
        return FoundSpan(exact[0], exact[1], "exact", 1.0)
    normalised = _best_occurrence(context, _normalised_spans(context, stripped), expected_position)
    if normalised is not None:
        return FoundSpan(normalised[0], normalised[1], "normalised", 1.0)
    if fuzzy_threshold is None:
        return None
    fuzzy = _fuzzy_span(context, stripped, fuzzy_threshold, expected_position)
    if fuzzy is None:
        return None
    return FoundSpan(fuzzy[0], fuzzy[1], "fuzzy", fuzzy[2])
