"""
Sub-word tokens and windows (pure functions; token offsets come in as plain lists): cleaning
tokenizer offsets, mapping between character spans of a context and spans of its tokens,
cutting token sequences into strided windows and pairing windows of translations.
"""

import re
from collections.abc import Sequence

Offset = tuple[int, int]

# Characters that carry no text of their own and are trimmed from token edges like whitespace:
# byte-order mark, zero-width space, word joiner, soft hyphen, left-to-right / right-to-left marks.
INVISIBLE_CHARACTERS = frozenset("\ufeff\u200b\u2060\u00ad\u200e\u200f")

# The SentencePiece word-start marker; as a piece of its own (XLM-R: "▁" before a CJK/Arabic
# character) it carries the offsets of the next character, so it must never start a span.
METASPACE = "▁"


# UTF-16 surrogate code points: valid JSON can spell one alone (`"\\ud800"`), giving a Python
# string that no UTF-8 encoder (nor a Rust tokenizer) accepts.
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """
    `text` with every surrogate code point (a lone `"\\ud800"` escape in JSON) replaced by
    U+FFFD, one character for one, so that character offsets into `text` stay valid. Tokenizers
    cannot encode such characters and would shift every offset after them.
    """
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


def _is_blank(character: str) -> bool:
    return character.isspace() or character in INVISIBLE_CHARACTERS


def clean_token_offsets(
    context: str, pieces: Sequence[str], offsets: Sequence[Offset | None]
) -> list[Offset | None]:
    """
    Make tokenizer offsets usable for mapping spans back to `context`: each `(start, end)` is
    narrowed to exclude whitespace and invisible characters such as a byte-order mark (XLM-R's
    "▁river" covers the space before "river"), and a token
    that covers no text of its own gets `None`: a bare "▁" piece (which XLM-R gives the offsets
    of the following CJK/Arabic character, allennlp-models issue #15), a whitespace-only token, and
    a token with an empty or missing offset.

    # Parameters

    context : `str`
        The text the offsets index into.
    pieces : `Sequence[str]`
        The token strings (to spot bare "▁" pieces).
    offsets : `Sequence[Optional[Tuple[int, int]]]`
        `[start, end)` character offsets from the tokenizer, one per piece.
    """
    cleaned: list[Offset | None] = []
    for piece, offset in zip(pieces, offsets):
        if offset is None or piece == METASPACE:
            cleaned.append(None)
            continue
        start, end = offset
        while start < end and _is_blank(context[start]):
            start += 1
        while end > start and _is_blank(context[end - 1]):
            end -= 1
        cleaned.append((start, end) if start < end else None)
    return cleaned


def char_span_to_token_span(
    offsets: Sequence[Offset | None], char_start: int, char_end: int
) -> tuple[int, int] | None:
    """
    The inclusive token span covering the characters `[char_start, char_end)`: from the first
    token ending after `char_start` to the last token starting before `char_end`, ignoring
    tokens whose offset is `None` (so the span never starts or ends on a bare "▁").

    When the answer boundaries fall inside a token the span covers that whole token (as
    allennlp-models' `char_span_to_token_span` does); compare `token_span_to_char_span` of the
    result with the answer to tell.

    # Returns

    `Optional[Tuple[int, int]]`
        `None` when no token overlaps the characters.
    """
    start: int | None = None
    end: int | None = None
    for index, offset in enumerate(offsets):
        if offset is None:
            continue
        if offset[0] >= char_end:
            break
        if start is None and offset[1] > char_start:
            start = index
        if start is not None:
            end = index
    if start is None or end is None:
        return None
    return (start, end)


def token_span_to_char_span(
    offsets: Sequence[Offset | None], span_start: int, span_end: int
) -> Offset | None:
    """
    The `[start, end)` characters that the inclusive token span covers: from the first token in
    the span that has an offset to the last one. `None` when no token in the span has one.
    """
    first: Offset | None = None
    last: Offset | None = None
    for index in range(max(span_start, 0), min(span_end, len(offsets) - 1) + 1):
        offset = offsets[index]
        if offset is None:
            continue
        if first is None:
            first = offset
        last = offset
    if first is None or last is None:
        return None
    return (first[0], last[1])


def window_starts(num_tokens: int, window_length: int, stride: int) -> list[int]:
    """
    The start index of each window of at most `window_length` tokens over `num_tokens` tokens,
    consecutive windows overlapping by `stride` tokens, exactly as allennlp-models'
    `transformer_squad` (and Hugging Face's `doc_stride`) cut them: the last window ends at the
    last token, and an empty sequence still gets one (empty) window.

    # Raises

    `ValueError`
        When `window_length <= stride` (the windows would never advance).
    """
    if window_length <= stride:
        raise ValueError(
            f"the context window ({window_length} tokens) must be longer than the stride "
            f"({stride}); raise length_limit or lower stride / max_query_length"
        )
    starts = [0]
    start = 0
    while start + window_length < num_tokens:
        start += window_length - stride
        starts.append(start)
    return starts


def span_in_window(
    span: tuple[int, int] | None, window_start: int, window_end: int
) -> tuple[int, int] | None:
    """
    The inclusive `span` (token indices of the whole context) relative to the window
    `[window_start, window_end)`, or `None` unless the span lies wholly inside it.
    """
    if span is None or span[0] < window_start or span[1] >= window_end:
        return None
    return (span[0] - window_start, span[1] - window_start)


def paired_window(
    pivot_window: int,
    num_pivot_windows: int,
    num_windows: int,
    answer_windows: Sequence[int] = (),
) -> int:
    """
    The window of a translation to pair with a pivot window: among `answer_windows` (the
    translation's windows holding its answer), the one nearest the pivot window's relative
    position; when there are none, the window at the same relative position,
    `pivot_window * num_windows // num_pivot_windows`.
    """
    relative = min(pivot_window * num_windows // max(num_pivot_windows, 1), num_windows - 1)
    if answer_windows:
        return min(answer_windows, key=lambda window: (abs(window - relative), window))
    return relative
