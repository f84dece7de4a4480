"""benchmarks/quality/predict_transformer_qa.py: the length-limited re-decoding of (a0)."""

import importlib.util
from pathlib import Path

import torch
from allennlp_models.rc.models.utils import (
    get_best_span,
    replace_masked_values_with_big_negative_number,
)

from tests import REPO

SCRIPT = Path(REPO) / "benchmarks" / "quality" / "predict_transformer_qa.py"
_spec = importlib.util.spec_from_file_location("predict_transformer_qa", SCRIPT)
assert _spec is not None and _spec.loader is not None
predict = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(predict)


def _masked(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """As `transformer_qa.forward` masks its logits before decoding."""
    return replace_masked_values_with_big_negative_number(logits, mask)


def _brute_force(
    start: torch.Tensor, end: torch.Tensor, mask: torch.Tensor, limit: int
) -> list[tuple[int, int]]:
    """An explicit float64 loop over every allowed (i, j), i <= j < i + limit."""
    best: list[tuple[int, int]] = []
    for row in range(start.shape[0]):
        score, span = float("-inf"), (-1, -1)
        for i in range(start.shape[1]):
            for j in range(i, min(i + limit, start.shape[1])):
                if mask[row, i] and mask[row, j]:
                    value = float(start[row, i].double()) + float(end[row, j].double())
                    if value > score:
                        score, span = value, (i, j)
        best.append(span)
    return best


def test_hand_worked_case_the_limit_changes_the_answer() -> None:
    # Position 0 is [CLS]; the context is 1..5. Unlimited: start 1 (3.0) + end 5 (3.0) = 6.0,
    # a 5-token span. With at most 2 tokens: (1, 2) = 3.0 + 1.0 = 4.0 beats (4, 5) = 0.5 + 3.0.
    start = torch.tensor([[0.0, 3.0, 0.0, 0.0, 0.5, 0.0, 9.0]])
    end = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0, 3.0, 9.0]])
    mask = torch.tensor([[True, True, True, True, True, True, False]])  # 6: a question token
    s, e = _masked(start, mask), _masked(end, mask)
    assert get_best_span(s, e).tolist() == [[1, 5]]
    assert predict.length_limited_best_span(2)(s, e).tolist() == [[1, 2]]
    assert predict.length_limited_best_span(5)(s, e).tolist() == [[1, 5]]


def test_matches_a_float64_loop_and_the_stock_decoder_without_a_limit() -> None:
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(6, 40, generator=generator) * 3
    end = torch.randn(6, 40, generator=generator) * 3
    mask = torch.rand(6, 40, generator=generator) > 0.3
    mask[:, 0] = True  # transformer_qa always leaves [CLS] open
    s, e = _masked(start, mask), _masked(end, mask)
    for limit in (1, 3, 30):
        got = predict.length_limited_best_span(limit)(s, e)
        assert [tuple(row) for row in got.tolist()] == _brute_force(start, end, mask, limit)
        assert bool(((got[:, 1] - got[:, 0]) < limit).all())
    assert torch.equal(predict.length_limited_best_span(40)(s, e), get_best_span(s, e))
