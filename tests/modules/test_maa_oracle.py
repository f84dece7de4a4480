"""
MAA (eq. 5-17) against the float64 explicit-loop oracle of `tests/modules/maa_oracle.py` on
random queries: the pivot and each translation as the query (pivot index != 0, the auxiliary
loss's transposition), k = 1, 2, 4, one and two heads, every option of the layer
(`adaptive_sides`, fixed and learned score scale), masked and missing slots, padding that
holds garbage, self-transposition draws, training (dropout) and evaluation mode.
"""

import pytest
import torch

from tests.modules.maa_oracle import MaaParams, oracle, sequence
from xltt_plugin.modules.maa import MaaQueries, MultilingualAdaptiveAttention, masked_softmax

TOL = 1e-10
DROPOUT = 0.3


# The layer's options (issue 30): the paper-exact default, then `adaptive_sides`, a fixed and
# a learned score scale τ (the learned one moved off its initial value, so that a module that
# ignored the parameter would differ from the oracle, which reads τ from the module).
OPTIONS = {
    "paper": {},
    "pivot-tau3-learned": {
        "adaptive_sides": "pivot",
        "score_scale": 3.0,
        "learn_score_scale": True,
    },
    "none-tau0.5": {"adaptive_sides": "none", "score_scale": 0.5},
    "both-tau7-learned": {"adaptive_sides": "both", "score_scale": 7.0, "learn_score_scale": True},
}


def random_module(
    h: int, k: int, heads: int, seed: int = 0, option: str = "paper"
) -> MultilingualAdaptiveAttention:
    torch.manual_seed(seed)
    module = MultilingualAdaptiveAttention(
        h, k, num_heads=heads, dropout=DROPOUT, fusion_init_std=0.5, **OPTIONS[option]
    ).double()
    with torch.no_grad():
        module.fusion.bias.normal_(0.0, 0.3)
        module.layer_norm.weight.normal_(1.0, 0.3)
        module.layer_norm.bias.normal_(0.0, 0.3)
        if module.log_score_scale is not None:
            module.log_score_scale.add_(0.25)
    return module


def random_stack(
    generator: torch.Generator, batch: int, k: int, length: int, h: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Sequences of random lengths whose padded positions hold large garbage; the last
    translation of the last row is missing (no real position at all).
    """
    encoded = torch.randn(batch, k + 1, length, h, generator=generator, dtype=torch.double) * 1.5
    lengths = torch.randint(2, length + 1, (batch, k + 1), generator=generator)
    lengths[0, 0] = length - 1  # the first pivot has padding too
    mask = torch.arange(length) < lengths.unsqueeze(-1)
    mask[-1, k] = False
    garbage = torch.randn(encoded.shape, generator=generator, dtype=torch.double) * 40
    return torch.where(mask.unsqueeze(-1), encoded, garbage), mask


def training_layout(
    mask: torch.Tensor, slot_mask: torch.Tensor, drawn_self: torch.Tensor
) -> tuple[list[int], list[int], list[list[int]], list[tuple[int, int]]]:
    """
    XLTT's training queries by explicit loops: per row the pivot (sequence 0) attending to
    translation j (sequence j + 1) where it is real, has tokens and was not drawn for
    self-transposition, else to itself; then each real translation R as the pivot attending
    to S and the other translations, each replaced by R where not real or without tokens.
    """
    batch, n = mask.shape[:2]
    k = n - 1
    has_tokens = [[bool(mask[r, s].any()) for s in range(n)] for r in range(batch)]
    rows, pivots, slots = [], [], []
    for r in range(batch):
        rows.append(r)
        pivots.append(0)
        slots.append(
            [
                j + 1 if slot_mask[r, j] and has_tokens[r][j + 1] and not drawn_self[r, j] else 0
                for j in range(k)
            ]
        )
    pairs = []
    for r in range(batch):
        for j in range(k):
            if not (slot_mask[r, j] and has_tokens[r][j + 1]):
                continue
            pairs.append((r, j))
            usable = [True] + [bool(slot_mask[r, i]) for i in range(k)]
            others = [0] + [i + 1 for i in range(k) if i != j]
            rows.append(r)
            pivots.append(j + 1)
            slots.append([s if usable[s] and has_tokens[r][s] else j + 1 for s in others])
    return rows, pivots, slots, pairs


def dropout_mask(seed: int, shape: tuple[int, ...], training: bool) -> torch.Tensor | None:
    """The dropout multipliers of the one dropout call of MAA, drawn from the same seed."""
    if not training:
        return None
    torch.manual_seed(seed)
    return torch.nn.functional.dropout(
        torch.ones(shape, dtype=torch.double), DROPOUT, training=True
    )


def assert_matches_oracle(
    g: torch.Tensor,
    module: MultilingualAdaptiveAttention,
    encoded: torch.Tensor,
    mask: torch.Tensor,
    rows: list[int],
    pivots: list[int],
    slots: list[list[int]],
    drop: torch.Tensor | None,
) -> None:
    params = MaaParams.of(module)
    assert g.shape == (len(rows), encoded.size(2), 2 * encoded.size(3))
    assert torch.isfinite(g).all()
    for q, (row, pivot, query_slots) in enumerate(zip(rows, pivots, slots)):
        expected = oracle(
            sequence(encoded, mask, row, pivot),
            [sequence(encoded, mask, row, s) for s in query_slots],
            params,
            None if drop is None else drop[q].tolist(),
        )
        for i, want in enumerate(expected.g):
            if want is None:
                continue
            got = g[q, i].tolist()
            assert max(abs(a - b) for a, b in zip(got, want)) < TOL, (q, row, pivot, i)


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("heads", [1, 2])
def test_training_queries_match_oracle(heads: int, k: int, training: bool, option: str):
    generator = torch.Generator().manual_seed(100 * heads + 10 * k + int(training))
    batch, length, h = 3, 5, 4
    module = random_module(h, k, heads, option=option).train(training)
    encoded, mask = random_stack(generator, batch, k, length, h)
    # A translation present but not real (slot_mask False), and self-transposition draws.
    slot_mask = torch.ones(batch, k, dtype=torch.bool)
    slot_mask[1, 0] = False
    drawn_self = torch.rand(batch, k, generator=generator) < 0.4
    rows, pivots, slots, pairs = training_layout(mask, slot_mask, drawn_self)
    assert any(p != 0 for p in pivots), "no translation as the query"

    pivot_slots = torch.tensor(slots[:batch])
    queries = MaaQueries.of_pivots(encoded, mask, pivot_slots)
    usable = torch.cat([torch.ones(batch, 1, dtype=torch.bool), slot_mask], 1) & mask.any(-1)
    queries = queries.with_transpositions(
        torch.tensor([r for r, _ in pairs], dtype=torch.long),
        torch.tensor([j for _, j in pairs], dtype=torch.long),
        usable,
    )
    assert queries.rows.tolist() == rows
    assert queries.pivots.tolist() == pivots
    assert queries.slots.tolist() == slots

    torch.manual_seed(7)
    g = module.fuse_queries(queries)
    drop = dropout_mask(7, (len(rows), length, h), training)
    assert_matches_oracle(g, module, encoded, mask, rows, pivots, slots, drop)


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("heads", [1, 2])
def test_random_queries_match_oracle(heads: int, k: int, option: str):
    """Any pivot and slots, repeated slots and slots equal to the pivot included."""
    generator = torch.Generator().manual_seed(7 + heads + k)
    batch, length, h = 2, 4, 4
    module = random_module(h, k, heads, seed=1, option=option).eval()
    encoded, mask = random_stack(generator, batch, k, length, h)
    mask[-1, k] = True  # every sequence has a real position here
    count = 7
    rows = torch.randint(0, batch, (count,), generator=generator)
    pivots = torch.randint(0, k + 1, (count,), generator=generator)
    slots = torch.randint(0, k + 1, (count, k), generator=generator)
    pivots[0] = k  # a translation as the query
    slots[1] = pivots[1]  # self-transposition in every slot of one query
    g = module.fuse_queries(MaaQueries(encoded, mask, rows, pivots, slots))
    assert_matches_oracle(
        g, module, encoded, mask, rows.tolist(), pivots.tolist(), slots.tolist(), None
    )


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("heads", [1, 2])
def test_self_transposition_only_queries_match_oracle(heads: int, option: str):
    """Every slot of every query is its pivot (inference without translations)."""
    generator = torch.Generator().manual_seed(3)
    module = random_module(4, 2, heads, option=option).eval()
    encoded, mask = random_stack(generator, 2, 0, 5, 4)
    queries = MaaQueries.of_pivots(encoded, mask, torch.zeros(2, 2, dtype=torch.long))
    g = module.fuse_queries(queries)
    assert_matches_oracle(g, module, encoded, mask, [0, 1], [0, 0], [[0, 0], [0, 0]], None)


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("heads", [1, 2])
def test_forward_with_masked_and_missing_slots_matches_oracle(
    heads: int, training: bool, option: str
):
    """`forward`: parallels longer than the pivot, a masked slot and an empty slot."""
    generator = torch.Generator().manual_seed(11)
    k, h = 3, 4
    module = random_module(h, k, heads, option=option).train(training)
    pivot = torch.randn(2, 4, h, generator=generator, dtype=torch.double)
    pivot_mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    pivot[~pivot_mask] = 55.0
    parallels = torch.randn(2, k, 6, h, generator=generator, dtype=torch.double)
    parallel_mask = torch.arange(6) < torch.tensor([[6, 3, 2], [4, 5, 1]]).unsqueeze(-1)
    parallel_mask[1, 2] = False  # empty: a self-transposition
    parallels[~parallel_mask] = -70.0
    slot_mask = torch.tensor([[True, False, True], [True, True, True]])
    torch.manual_seed(5)
    g = module(pivot, pivot_mask, parallels, parallel_mask, slot_mask)
    assert g.shape == (2, 4, 2 * h)
    params = MaaParams.of(module)
    drop = dropout_mask(5, (2, 6, h), training)
    for n in range(2):
        b_s = (pivot[n].tolist(), pivot_mask[n].tolist())
        slots = [
            (parallels[n, j].tolist(), parallel_mask[n, j].tolist())
            if slot_mask[n, j] and parallel_mask[n, j].any()
            else b_s
            for j in range(k)
        ]
        expected = oracle(b_s, slots, params, None if drop is None else drop[n].tolist())
        for i, want in enumerate(expected.g):
            if want is not None:
                assert max(abs(a - b) for a, b in zip(g[n, i].tolist(), want)) < TOL


@pytest.mark.parametrize("option", list(OPTIONS))
def test_attention_maps_match_oracle(option: str):
    generator = torch.Generator().manual_seed(21)
    k, h = 2, 4
    module = random_module(h, k, heads=2, option=option).eval()
    pivot = torch.randn(2, 3, h, generator=generator, dtype=torch.double)
    pivot_mask = torch.tensor([[True, True, True], [True, True, False]])
    parallels = torch.randn(2, k, 5, h, generator=generator, dtype=torch.double)
    parallel_mask = torch.arange(5) < torch.tensor([[5, 2], [4, 3]]).unsqueeze(-1)
    slot_mask = torch.tensor([[True, True], [False, True]])
    maps = module.attention_maps(pivot, pivot_mask, parallels, parallel_mask, slot_mask)
    params = MaaParams.of(module)
    for n in range(2):
        keep_s = pivot_mask[n].tolist()
        # The slots at the common length 5 (the pivot padded with zeros where it fills one).
        b_s = (pivot[n].tolist() + [[0.0] * h] * 2, keep_s + [False] * 2)
        slots = [
            (parallels[n, j].tolist(), parallel_mask[n, j].tolist()) if slot_mask[n, j] else b_s
            for j in range(k)
        ]
        expected = oracle((pivot[n].tolist(), keep_s), slots, params)
        real_s = [i for i in range(3) if keep_s[i]]
        for i in real_s:
            for j in real_s:
                assert abs(maps.a_s[n, i, j].item() - expected.a_s[i][j]) < TOL
        for s, (_, keep_m) in enumerate(slots):
            real_m = [j for j in range(5) if keep_m[j]]
            for a in real_m:
                for b in real_m:
                    assert abs(maps.a_m[n, s, a, b].item() - expected.a_m[s][a][b]) < TOL
            for i in real_s:
                for j in real_m:
                    assert abs(maps.a_sm[n, s, i, j].item() - expected.a_sm[s][i][j]) < TOL
                    assert abs(maps.a_hat[n, s, i, j].item() - expected.a_hat[s][i][j]) < TOL
                for c in range(h):
                    assert abs(maps.attended[n, s, i, c].item() - expected.attended[s][i][c]) < TOL


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("heads", [1, 2])
def test_autocast_fully_padded_rows_and_empty_slots_stay_finite(
    heads: int, dtype: torch.dtype, option: str
):
    """Under `torch.autocast`: padding, an empty slot, and a pivot window without any token."""
    torch.manual_seed(0)
    k, h, length = 2, 8, 6
    module = MultilingualAdaptiveAttention(
        h, k, num_heads=heads, fusion_init_std=0.2, **OPTIONS[option]
    ).train()
    encoded = (torch.randn(2, k + 1, length, h) * 30).requires_grad_()
    mask = torch.arange(length) < torch.tensor([[6, 3, 0], [0, 4, 2]]).unsqueeze(-1)
    queries = MaaQueries.of_pivots(encoded, mask, torch.tensor([[1, 0], [1, 2]]))
    queries = queries.with_transpositions(
        torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), mask.any(-1)
    )
    with torch.autocast("cpu", dtype=dtype):
        g = module.fuse_queries(queries)
        loss = (g.float() * torch.randn(g.shape)).sum()
    loss.backward()
    assert torch.isfinite(g).all()
    assert encoded.grad is not None and torch.isfinite(encoded.grad).all()
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_masked_softmax_rows_without_keys_are_zero_in_low_precision(dtype: torch.dtype):
    scores = (torch.randn(2, 3, 4) * 1e4).to(dtype).requires_grad_()
    keys = torch.tensor([[True, False, True, False], [False, False, False, False]])
    queries = torch.tensor([[True, True, False], [True, True, True]])
    probs = masked_softmax(scores, keys, queries)
    assert probs.dtype == dtype
    assert torch.all(probs[1] == 0) and torch.all(probs[0, 2] == 0)
    assert torch.all(probs[0, :, 1] == 0) and torch.all(probs[0, :, 3] == 0)
    assert torch.allclose(probs[0, :2].float().sum(-1), torch.ones(2), atol=1e-2)
    probs.float().sum().backward()
    assert scores.grad is not None and torch.isfinite(scores.grad).all()
