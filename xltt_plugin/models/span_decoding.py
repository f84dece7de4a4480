"""
Span decoding as pure functions (no AllenNLP plumbing): best span per window with a maximum
answer length (no L×L score matrix), n-best candidates per window, mapping token spans back to
context text through character offsets (trimming the punctuation a piece glued on, see
`trim_glued_punctuation`), and merging candidates across the windows of a question (as Hugging
Face's `utils_qa.postprocess_qa_predictions` does for SQuAD v1.1).
"""

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

# Fill value of masked-out logits. Far below any real logit but, unlike `torch.finfo(...).min`,
# finite after additions; it does not fit float16 (max 65504), so masking always happens on a
# float32 copy (`masked_logits`): the loss and decoding are computed in float32 under autocast.
NEG_INF = -1e9

# Clause and sentence punctuation that a SentencePiece piece glues to the word before it
# ("▁2014," "年。"); trimmed from both ends of a decoded span ("." only at the end, and not
# after an abbreviation such as "U.S.").
_CLAUSE_PUNCTUATION = frozenset(",;:!?、，。；：！？،؛؟।॥։።")
# Closing bracket or quote -> the characters that can open it. A closer at the start of a span,
# an opener at its end, and either one whose partner is not inside the span are trimmed.
_OPENERS_OF = {
    ")": "(",
    "]": "[",
    "}": "{",
    "）": "（",
    "］": "［",
    "】": "【",
    "》": "《",
    "〉": "〈",
    "」": "「",
    "』": "『",
    "»": "«",
    "”": "“„",
    "“": "„",
    "’": "‘‚",
    "›": "‹",
}
_CLOSERS_OF: dict[str, str] = {}
for _closer, _openers in _OPENERS_OF.items():
    for _opener in _openers:
        _CLOSERS_OF[_opener] = _CLOSERS_OF.get(_opener, "") + _closer
# "“" opens in English and Chinese but closes German „…“: only the unambiguous ones are trimmed
# for their position alone.
_ONLY_CLOSING = frozenset(_OPENERS_OF) - frozenset(_CLOSERS_OF)
_ONLY_OPENING = frozenset(_CLOSERS_OF) - frozenset(_OPENERS_OF)
# Round brackets around a whole span ("▁(1685)") are trimmed even when balanced; quotes and
# title brackets (《书名》, 「…」, "…") around a whole span are kept: gold answers include them.
_WRAPPING_PAIRS = frozenset({("(", ")"), ("（", "）")})


@dataclass(frozen=True)
class SpanCandidate:
    """One answer candidate of a question: its text, score and where it came from."""

    text: str
    score: float
    char_start: int
    char_end: int
    window_index: int
    token_start: int
    token_end: int

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "score": self.score,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "window_index": self.window_index,
        }


def masked_logits(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """
    `logits` as float32 with `NEG_INF` where `mask` is False: safe for float16 and bfloat16
    input (mixed precision), and keeps the gradient of the unmasked positions.

    # Parameters

    logits : `torch.Tensor`
        shape: (batch_size, seq_len), any floating dtype.
    mask : `torch.BoolTensor`
        shape: (batch_size, seq_len)

    # Returns

    `torch.FloatTensor`
        shape: (batch_size, seq_len), dtype float32 (float64 input stays float64).
    """
    dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
    return logits.to(dtype).masked_fill(~mask, NEG_INF)


def span_mask(context_span: torch.Tensor, seq_len: int) -> torch.Tensor:
    """
    Boolean mask of the positions inside each row's inclusive `context_span`.

    # Parameters

    context_span : `torch.Tensor`
        shape: (batch_size, 2), inclusive (start, end) token indices; (-1, -1) for an empty span.
    seq_len : `int`

    # Returns

    `torch.BoolTensor`
        shape: (batch_size, seq_len)
    """
    # shape: (1, seq_len)
    positions = torch.arange(seq_len, device=context_span.device).unsqueeze(0)
    start = context_span[:, 0:1]
    end = context_span[:, 1:2]
    return (positions >= start) & (positions <= end) & (start >= 0)


def best_bounded_spans(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    mask: torch.Tensor,
    max_answer_length: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """
    The best span `start <= end < start + max_answer_length` with both ends inside `mask`, per
    row, maximising `start_logits[start] + end_logits[end]`. Works diagonal by diagonal: memory
    O(batch × L) and time O(batch × L × max_answer_length), never an L×L matrix.

    # Parameters

    start_logits, end_logits : `torch.Tensor`
        shape: (batch_size, seq_len)
    mask : `torch.BoolTensor`
        shape: (batch_size, seq_len); positions allowed as span start or end.
    max_answer_length : `int`
        The largest number of tokens in a span.

    # Returns

    `(starts, ends, scores)`, each shape (batch_size,). A row with no allowed position gets
    (-1, -1) and score `NEG_INF`. Scores are float32 (float64 for float64 input).
    """
    batch_size, seq_len = start_logits.shape
    start = masked_logits(start_logits.detach(), mask)
    end = masked_logits(end_logits.detach(), mask)
    best_scores = torch.full((batch_size,), 2 * NEG_INF, dtype=start.dtype, device=start.device)
    best_starts = torch.full((batch_size,), -1, dtype=torch.long, device=start.device)
    best_ends = torch.full((batch_size,), -1, dtype=torch.long, device=start.device)
    for offset in range(min(max_answer_length, seq_len)):
        # shape: (batch_size, seq_len - offset): spans (i, i + offset)
        scores = start[:, : seq_len - offset] + end[:, offset:]
        row_best, row_arg = scores.max(dim=1)
        better = row_best > best_scores
        best_scores = torch.where(better, row_best, best_scores)
        best_starts = torch.where(better, row_arg, best_starts)
        best_ends = torch.where(better, row_arg + offset, best_ends)
    empty = best_scores <= NEG_INF
    best_starts = best_starts.masked_fill(empty, -1)
    best_ends = best_ends.masked_fill(empty, -1)
    best_scores = best_scores.masked_fill(empty, NEG_INF)
    return best_starts, best_ends, best_scores


def top_span_pairs(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    mask: torch.Tensor,
    max_answer_length: int,
    n_best: int,
) -> list[list[tuple[int, int, float]]]:
    """
    Up to `n_best` valid (start, end, score) pairs per row, best first, from the `n_best` best
    starts × the `n_best` best ends (Hugging Face's `utils_qa` heuristic), always including the
    exact best span of `best_bounded_spans`.

    # Returns

    `List[List[Tuple[int, int, float]]]`, one list per row.
    """
    batch_size, seq_len = start_logits.shape
    k = min(n_best, seq_len)
    start = masked_logits(start_logits.detach(), mask).float()
    end = masked_logits(end_logits.detach(), mask).float()
    # shape: (batch_size, k)
    top_start_scores, top_starts = start.topk(k, dim=1)
    top_end_scores, top_ends = end.topk(k, dim=1)
    # shape: (batch_size, k, k)
    pair_scores = top_start_scores.unsqueeze(2) + top_end_scores.unsqueeze(1)
    lengths = top_ends.unsqueeze(1) - top_starts.unsqueeze(2)
    valid = (
        (lengths >= 0)
        & (lengths < max_answer_length)
        & (top_start_scores.unsqueeze(2) > NEG_INF / 2)
        & (top_end_scores.unsqueeze(1) > NEG_INF / 2)
    )
    pair_scores = pair_scores.masked_fill(~valid, 2 * NEG_INF)
    best_starts, best_ends, best_scores = best_bounded_spans(
        start_logits.float(), end_logits.float(), mask, max_answer_length
    )
    flat_scores, flat_index = pair_scores.view(batch_size, -1).sort(dim=1, descending=True)
    flat_scores_list = flat_scores[:, : k * k].tolist()
    flat_index_list = flat_index[:, : k * k].tolist()
    top_starts_list = top_starts.tolist()
    top_ends_list = top_ends.tolist()
    results: list[list[tuple[int, int, float]]] = []
    for row in range(batch_size):
        pairs: list[tuple[int, int, float]] = []
        seen: set[tuple[int, int]] = set()
        if int(best_starts[row]) >= 0:
            first = (int(best_starts[row]), int(best_ends[row]))
            pairs.append((first[0], first[1], float(best_scores[row])))
            seen.add(first)
        for score, index in zip(flat_scores_list[row], flat_index_list[row]):
            if len(pairs) >= n_best or score <= NEG_INF:
                break
            pair = (top_starts_list[row][index // k], top_ends_list[row][index % k])
            if pair not in seen:
                seen.add(pair)
                pairs.append((pair[0], pair[1], float(score)))
        results.append(pairs)
    return results


def trim_glued_punctuation(
    text: str, max_start: int | None = None, min_end: int | None = None
) -> tuple[int, int]:
    """
    The `[start, end)` part of a decoded span `text` left after trimming the punctuation that a
    word piece glued to an answer (XLM-R: "▁2014," "▁(1685)" "」。"). Only what the edge
    pieces glued on goes: the start never moves past `max_start` nor the end before `min_end`
    (`span_to_text` passes the first and last letter, digit or symbol of the span's first and
    last piece, and for a piece of punctuation alone its last and first character, so a
    one-character piece such as "。", which the model chose on its own, stays).
    Within those bounds, repeated until nothing changes:

    - clause and sentence punctuation (`, ; : ! ? 、 ， 。` ...) at either end, and a final
      "." unless it ends an abbreviation (the last word holds another ".", as in "U.S.");
    - a closing bracket or quote at the start, an opening one at the end, and one at either end
      whose partner does not occur in the span; a straight double quote `"` at either end when
      the span holds an odd number of them;
    - round brackets around the whole span.

    Balanced quotes and title brackets around a span ("《红楼梦》", "「…」") are kept, and so
    are symbols such as "%". Whitespace uncovered by a trim is trimmed too.

    Every character trimmed (whitespace aside) is Unicode punctuation (category P), which the
    MLQA and SQuAD normalisations delete before comparing, so trimming never changes a
    prediction's EM or F1 under the `mlqa` rules; it makes the answer text match the gold text.

    # Parameters

    text : `str`
        The decoded span.
    max_start, min_end : `int`, optional
        Bounds of the trim; by default the first and one past the last character of `text` that
        is neither punctuation nor whitespace (a text without one is kept whole).

    # Returns

    `tuple[int, int]`
        `(start, end)` with `text[start:end]` the trimmed span.
    """
    kept = [index for index, character in enumerate(text) if _keeps_text(character)]
    if not kept:
        return 0, len(text)
    max_start = kept[0] if max_start is None else min(max_start, kept[0])
    min_end = kept[-1] + 1 if min_end is None else max(min_end, kept[-1] + 1)
    start, end = 0, len(text)
    while True:
        inner = text[start:end]
        can_start, can_end = start < max_start, end > min_end
        if can_start and _drops_first(inner):
            start += 1
        elif can_end and _drops_last(inner):
            end -= 1
        elif can_start and can_end and (inner[0], inner[-1]) in _WRAPPING_PAIRS and _wraps(inner):
            start, end = start + 1, end - 1
        else:
            return start, end


def _drops_first(text: str) -> bool:
    first = text[0]
    return (
        first.isspace()
        or first in _CLAUSE_PUNCTUATION
        or first in _ONLY_CLOSING
        or (first in _CLOSERS_OF and not any(c in text for c in _CLOSERS_OF[first]))
        or (first == '"' and text.count('"') % 2 == 1)
    )


def _drops_last(text: str) -> bool:
    last = text[-1]
    return (
        last.isspace()
        or last in _CLAUSE_PUNCTUATION
        or last in _ONLY_OPENING
        or (last == "." and not _ends_with_abbreviation(text))
        or (last in _OPENERS_OF and not any(c in text for c in _OPENERS_OF[last]))
        or (last == '"' and text.count('"') % 2 == 1)
    )


def _wraps(text: str) -> bool:
    """The bracket that opens `text` is the one that closes it: "(a (b))", not "(a) (b)"."""
    depth = 0
    for index, character in enumerate(text):
        if character == text[0]:
            depth += 1
        elif character == text[-1]:
            depth -= 1
            if depth == 0:
                return index == len(text) - 1 and len(text) > 2
    return False


def _ends_with_abbreviation(text: str) -> bool:
    """The last word of `text` (which ends with ".") holds another "." ("U.S.", "z.B.")."""
    last_word = text.split()[-1] if text.split() else text
    return "." in last_word[:-1]


def _keeps_text(character: str) -> bool:
    return not (character.isspace() or unicodedata.category(character).startswith("P"))


def span_to_text(
    context: str,
    token_offsets: Sequence[tuple[int, int] | None],
    token_start: int,
    token_end: int,
    trim: bool = True,
) -> tuple[str, int, int] | None:
    """
    Map an inclusive token span to `(text, char_start, char_end)` of `context`. Tokens without
    an offset (question, special, or a bare "▁" piece) are stepped over inwards; `None` when no
    token of the span has an offset. With `trim` (the default, used in prediction and by
    `allennlp xltt-check-data`), the punctuation the edge pieces glued on is trimmed (see
    `trim_glued_punctuation`).
    """
    start, end = token_start, token_end
    while start <= end and _no_offset(token_offsets[start]):
        start += 1
    while end >= start and _no_offset(token_offsets[end]):
        end -= 1
    if start > end:
        return None
    start_offset = token_offsets[start]
    end_offset = token_offsets[end]
    assert start_offset is not None and end_offset is not None
    char_start, char_end = start_offset[0], end_offset[1]
    if char_end <= char_start:
        return None
    if trim:
        first_piece = _kept_characters(context, *start_offset)
        last_piece = _kept_characters(context, *end_offset)
        kept_start, kept_end = trim_glued_punctuation(
            context[char_start:char_end],
            # A piece of punctuation alone ("」。") keeps its first (last) character.
            max_start=(first_piece[0] if first_piece else start_offset[1] - 1) - char_start,
            min_end=(last_piece[-1] + 1 if last_piece else end_offset[0] + 1) - char_start,
        )
        char_start, char_end = char_start + kept_start, char_start + kept_end
    return context[char_start:char_end], char_start, char_end


def _kept_characters(context: str, start: int, end: int) -> list[int]:
    """Positions in `context[start:end]` of the characters that are not punctuation or space."""
    return [index for index in range(start, end) if _keeps_text(context[index])]


def _no_offset(offset: tuple[int, int] | None) -> bool:
    return offset is None or offset[1] <= offset[0]


def window_candidates(
    pairs: Iterable[tuple[int, int, float]],
    context: str,
    token_offsets: Sequence[tuple[int, int] | None],
    window_index: int,
    trim: bool = True,
) -> list[SpanCandidate]:
    """
    Turn a window's (start, end, score) pairs into `SpanCandidate`s with their text (trimmed as
    `span_to_text` does with `trim`).
    """
    candidates = []
    for start, end, score in pairs:
        mapped = span_to_text(context, token_offsets, start, end, trim)
        if mapped is None:
            continue
        text, char_start, char_end = mapped
        candidates.append(
            SpanCandidate(text, score, char_start, char_end, window_index, start, end)
        )
    return candidates


def merge_windows(candidates: Iterable[SpanCandidate], n_best: int) -> list[SpanCandidate]:
    """
    The n-best answers of a question over all its windows: best score first; a text found in
    several windows (overlapping strides) is kept once, with its best score.
    """
    best_by_text: dict[tuple[int, int], SpanCandidate] = {}
    for candidate in candidates:
        key = (candidate.char_start, candidate.char_end)
        kept = best_by_text.get(key)
        if kept is None or candidate.score > kept.score:
            best_by_text[key] = candidate
    ranked = sorted(best_by_text.values(), key=lambda c: (-c.score, c.char_start, c.char_end))
    return ranked[:n_best]
