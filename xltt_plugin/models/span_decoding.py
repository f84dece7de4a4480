"""
Span decoding as pure functions (no AllenNLP plumbing): best span per window with a maximum
answer length (no L×L score matrix), n-best candidates per window, mapping token spans back to
context text through character offsets, and merging candidates across the windows of a question
(as Hugging Face's `utils_qa.postprocess_qa_predictions` does for SQuAD v1.1).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

# Fill value of masked-out logits. Far below any real logit but, unlike `torch.finfo(...).min`,
# finite after additions; it does not fit float16 (max 65504), so masking always happens on a
# float32 copy (`masked_logits`): the loss and decoding are computed in float32 under autocast.
NEG_INF = -1e9


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


def span_to_text(
    context: str,
    token_offsets: Sequence[tuple[int, int] | None],
    token_start: int,
    token_end: int,
) -> tuple[str, int, int] | None:
    """
    Map an inclusive token span to `(text, char_start, char_end)` of `context`. Tokens without
    an offset (question, special, or a bare "▁" piece) are stepped over inwards; `None` when no
    token of the span has an offset.
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
    return context[char_start:char_end], char_start, char_end


def _no_offset(offset: tuple[int, int] | None) -> bool:
    return offset is None or offset[1] <= offset[0]


def window_candidates(
    pairs: Iterable[tuple[int, int, float]],
    context: str,
    token_offsets: Sequence[tuple[int, int] | None],
    window_index: int,
) -> list[SpanCandidate]:
    """Turn a window's (start, end, score) pairs into `SpanCandidate`s with their text."""
    candidates = []
    for start, end, score in pairs:
        mapped = span_to_text(context, token_offsets, start, end)
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
