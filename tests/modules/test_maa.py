"""
Tests for the MAA layer (XLTT eq. 5-17).

Every numeric check compares the vectorised code with a reference written as explicit Python
loops over indices on plain floats (the `ref_*` helpers below), in double precision.
"""

import math

import pytest
import torch
from allennlp.common import FromParams, Params

from xltt_plugin.modules.maa import (
    MultilingualAdaptiveAttention,
    adaptive_attention,
    attend,
    concat_slots,
    fuse,
    inter_features,
    inter_scores,
    intra_attention,
    masked_softmax,
    self_attended,
)

TOL = 1e-10

# ---------------------------------------------------------------------------------------------
# Reference loops (plain Python floats; `b` is a list of rows, `mask` a list of bools).
# ---------------------------------------------------------------------------------------------

Matrix = list[list[float]]


def ref_dot(u: list[float], v: list[float]) -> float:
    total = 0.0
    for a, b in zip(u, v):
        total += a * b
    return total


def ref_softmax(values: list[float], keep: list[bool]) -> list[float]:
    """Softmax over the kept entries; others get 0."""
    kept = [v for v, k in zip(values, keep) if k]
    top = max(kept)
    exps = [math.exp(v - top) if k else 0.0 for v, k in zip(values, keep)]
    total = sum(exps)
    return [e / total for e in exps]


def ref_intra(b: Matrix, mask: list[bool]) -> Matrix:
    """Eq. 5-7."""
    length, h = len(b), len(b[0])
    out = [[0.0] * length for _ in range(length)]
    for i in range(length):
        if not mask[i]:
            continue
        scores = [ref_dot(b[i], b[j]) / math.sqrt(h) for j in range(length)]
        out[i] = ref_softmax(scores, mask)
    return out


def ref_inter(b_s: Matrix, b_m: Matrix) -> Matrix:
    """Eq. 8 (raw scores, all positions)."""
    h = len(b_s[0])
    return [
        [ref_dot(b_s[i], b_m[j]) / math.sqrt(h) for j in range(len(b_m))] for i in range(len(b_s))
    ]


def ref_linear(x: list[float], weight: Matrix, bias: list[float]) -> list[float]:
    """y_o = sum_i W[o][i] x_i + b_o (torch.nn.Linear layout)."""
    out = []
    for o in range(len(weight)):
        value = bias[o]
        for i in range(len(x)):
            value += weight[o][i] * x[i]
        out.append(value)
    return out


def ref_multi_head_inter(
    b_s: Matrix,
    b_m: Matrix,
    num_heads: int,
    w_s: Matrix,
    bias_s: list[float],
    w_m: Matrix,
    bias_m: list[float],
) -> Matrix:
    """Eq. 9 multi-head: per head project, score / sqrt(d); average over heads."""
    d = len(w_s) // num_heads
    out = [[0.0] * len(b_m) for _ in range(len(b_s))]
    for head in range(num_heads):
        rows = range(head * d, (head + 1) * d)
        ws = [w_s[r] for r in rows]
        wm = [w_m[r] for r in rows]
        bs = [bias_s[r] for r in rows]
        bm = [bias_m[r] for r in rows]
        q = [ref_linear(x, ws, bs) for x in b_s]
        k = [ref_linear(x, wm, bm) for x in b_m]
        for i in range(len(b_s)):
            for j in range(len(b_m)):
                out[i][j] += ref_dot(q[i], k[j]) / math.sqrt(d) / num_heads
    return out


def ref_adaptive(a_s: Matrix, a_sm: Matrix, a_m: Matrix) -> Matrix:
    """Eq. 10-11: sum_a sum_b A_S[i][a] A_SM[a][b] A_M[j][b]."""
    l_s, l_m = len(a_s), len(a_m)
    out = [[0.0] * l_m for _ in range(l_s)]
    for i in range(l_s):
        for j in range(l_m):
            total = 0.0
            for a in range(l_s):
                for b in range(l_m):
                    total += a_s[i][a] * a_sm[a][b] * a_m[j][b]
            out[i][j] = total
    return out


def ref_attend(a_hat: Matrix, b_m: Matrix, mask_m: list[bool]) -> Matrix:
    """Eq. 12-13."""
    h = len(b_m[0])
    out = []
    for i in range(len(a_hat)):
        weights = ref_softmax(a_hat[i], mask_m)
        out.append([sum(weights[j] * b_m[j][c] for j in range(len(b_m))) for c in range(h)])
    return out


def ref_layer_norm(
    x: list[float], gamma: list[float], beta: list[float], eps: float
) -> list[float]:
    mean = sum(x) / len(x)
    var = sum((v - mean) ** 2 for v in x) / len(x)
    return [(v - mean) / math.sqrt(var + eps) * g + b for v, g, b in zip(x, gamma, beta)]


def ref_fuse(
    b_s_row: list[float],
    c_prime_row: list[float],
    w_c: Matrix,
    b_c: list[float],
    gamma: list[float],
    beta: list[float],
    eps: float,
) -> list[float]:
    """Eq. 16-17 for one position."""
    c = ref_linear(c_prime_row, w_c, b_c)
    return b_s_row + ref_layer_norm([x + y for x, y in zip(b_s_row, c)], gamma, beta, eps)


def real_rows(b: torch.Tensor, mask: torch.Tensor) -> tuple[Matrix, list[bool]]:
    return b.tolist(), [bool(v) for v in mask.tolist()]


def ref_maa_row(
    module: MultilingualAdaptiveAttention,
    pivot: Matrix,
    pivot_mask: list[bool],
    slots: list[tuple[Matrix, list[bool]]],
) -> Matrix:
    """G_S for one batch row at the pivot's real positions; `slots` are (B_M, mask_M) lists."""
    a_s = ref_intra(pivot, pivot_mask)
    h = len(pivot[0])
    c_prime = [[] for _ in pivot]  # type: list[list[float]]
    for b_m, mask_m in slots:
        a_m = ref_intra(b_m, mask_m)
        if module.pivot_projection is None or module.parallel_projection is None:
            a_sm = ref_inter(pivot, b_m)
        else:
            a_sm = ref_multi_head_inter(
                pivot,
                b_m,
                module.num_heads,
                module.pivot_projection.weight.tolist(),
                module.pivot_projection.bias.tolist(),
                module.parallel_projection.weight.tolist(),
                module.parallel_projection.bias.tolist(),
            )
        # Padded rows / columns of A_SM do not matter: A_S and A_M have zero weight there.
        a_hat = ref_adaptive(a_s, a_sm, a_m)
        c_m = ref_attend(a_hat, b_m, mask_m)
        for i in range(len(pivot)):
            c_prime[i] = c_prime[i] + c_m[i]
    out = []
    for i in range(len(pivot)):
        if not pivot_mask[i]:
            out.append([0.0] * (2 * h))
            continue
        out.append(
            ref_fuse(
                pivot[i],
                c_prime[i],
                module.fusion.weight.tolist(),
                module.fusion.bias.tolist(),
                module.layer_norm.weight.tolist(),
                module.layer_norm.bias.tolist(),
                module.layer_norm.eps,
            )
        )
    return out


def assert_close_at(actual: torch.Tensor, expected: Matrix, mask: list[bool], tol: float = TOL):
    for i, keep in enumerate(mask):
        if keep:
            got = actual[i].tolist()
            for a, e in zip(got, expected[i]):
                assert abs(a - e) < tol, (i, got, expected[i])


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


def make_mask(lengths: list[int], max_len: int) -> torch.Tensor:
    return torch.arange(max_len)[None, :] < torch.tensor(lengths)[:, None]


def random_module(
    h: int = 4, k: int = 2, heads: int = 1, std: float = 0.5, seed: int = 0
) -> MultilingualAdaptiveAttention:
    torch.manual_seed(seed)
    module = MultilingualAdaptiveAttention(h, k, num_heads=heads, fusion_init_std=std).double()
    with torch.no_grad():
        module.fusion.bias.normal_(0.0, 0.3)
        module.layer_norm.weight.normal_(1.0, 0.3)
        module.layer_norm.bias.normal_(0.0, 0.3)
    return module.eval()


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


# ---------------------------------------------------------------------------------------------
# Pure functions, one equation each
# ---------------------------------------------------------------------------------------------


def test_intra_attention_eq5_7(generator: torch.Generator):
    b = torch.randn(2, 5, 4, generator=generator, dtype=torch.double) * 2
    mask = make_mask([5, 3], 5)
    out = intra_attention(b, mask)
    assert out.shape == (2, 5, 5)
    for n in range(2):
        rows, keep = real_rows(b[n], mask[n])
        expected = ref_intra(rows, keep)
        for i in range(5):
            for j in range(5):
                assert abs(out[n, i, j].item() - expected[i][j]) < TOL
    # padded query rows are zero, padded keys get zero weight, real rows sum to one
    assert torch.all(out[1, 3:] == 0) and torch.all(out[1, :, 3:] == 0)
    assert torch.allclose(out[1, :3].sum(-1), torch.ones(3, dtype=torch.double))


def test_inter_attention_eq8(generator: torch.Generator):
    b_s = torch.randn(2, 3, 4, generator=generator, dtype=torch.double)
    b_m = torch.randn(2, 5, 4, generator=generator, dtype=torch.double)
    mask_s, mask_m = make_mask([3, 2], 3), make_mask([4, 5], 5)
    p_s, _, scale = inter_features(b_s)
    _, p_m, _ = inter_features(b_m)
    assert scale == 1 / math.sqrt(4)
    out = inter_scores(p_s, p_m, scale, mask_s, mask_m)
    assert out.shape == (2, 3, 5)
    for n in range(2):
        expected = ref_inter(b_s[n].tolist(), b_m[n].tolist())
        for i in range(3):
            for j in range(5):
                want = expected[i][j] if (mask_s[n, i] and mask_m[n, j]) else 0.0
                assert abs(out[n, i, j].item() - want) < TOL


@pytest.mark.parametrize("num_heads", [1, 2, 4])
def test_multi_head_inter_attention_eq9_matches_per_head_loop(
    generator: torch.Generator, num_heads: int
):
    h = 4
    b_s = torch.randn(2, 3, h, generator=generator, dtype=torch.double)
    b_m = torch.randn(2, 4, h, generator=generator, dtype=torch.double)
    w_s = torch.randn(h, h, generator=generator, dtype=torch.double)
    w_m = torch.randn(h, h, generator=generator, dtype=torch.double)
    bias_s = torch.randn(h, generator=generator, dtype=torch.double)
    bias_m = torch.randn(h, generator=generator, dtype=torch.double)
    mask_s, mask_m = make_mask([3, 2], 3), make_mask([4, 3], 4)
    p_s, _, scale = inter_features(b_s, num_heads, w_s, bias_s, w_m, bias_m)
    _, p_m, _ = inter_features(b_m, num_heads, w_s, bias_s, w_m, bias_m)
    out = inter_scores(p_s, p_m, scale, mask_s, mask_m)
    for n in range(2):
        expected = ref_multi_head_inter(
            b_s[n].tolist(),
            b_m[n].tolist(),
            num_heads,
            w_s.tolist(),
            bias_s.tolist(),
            w_m.tolist(),
            bias_m.tolist(),
        )
        for i in range(3):
            for j in range(4):
                want = expected[i][j] if (mask_s[n, i] and mask_m[n, j]) else 0.0
                assert abs(out[n, i, j].item() - want) < TOL


def test_one_head_without_projection_is_exactly_eq8(generator: torch.Generator):
    b_s = torch.randn(2, 3, 4, generator=generator)
    b_m = torch.randn(2, 5, 4, generator=generator)
    eye = torch.eye(4)
    eye_s, _, eye_scale = inter_features(b_s, 1, eye, None, eye, None)
    _, eye_m, _ = inter_features(b_m, 1, eye, None, eye, None)
    via_heads = inter_scores(eye_s, eye_m, eye_scale)
    plain = inter_scores(b_s, b_m, inter_features(b_s)[2])
    assert torch.allclose(via_heads, plain, atol=1e-6)
    # The module with one head has no projections and its A_SM is exactly eq. 8.
    module = MultilingualAdaptiveAttention(4, 1).eval()
    assert module.pivot_projection is None and module.parallel_projection is None
    maps = module.attention_maps(b_s, torch.ones(2, 3, dtype=torch.bool), b_m.unsqueeze(1))
    for n in range(2):
        expected = ref_inter(b_s[n].tolist(), b_m[n].tolist())
        for i in range(3):
            for j in range(5):
                assert maps.a_sm[n, 0, i, j].item() == pytest.approx(expected[i][j], abs=1e-5)
    assert torch.equal(maps.a_sm[:, 0], plain)


def test_adaptive_attention_eq10_11(generator: torch.Generator):
    a_s = torch.softmax(torch.randn(2, 3, 3, generator=generator, dtype=torch.double), -1)
    p_s = torch.randn(2, 3, 5, generator=generator, dtype=torch.double)
    p_m = torch.randn(2, 4, 5, generator=generator, dtype=torch.double)
    a_m = torch.softmax(torch.randn(2, 4, 4, generator=generator, dtype=torch.double), -1)
    scale = 0.3
    # Eq. 10 regrouped: c (A_S P_S)(A_M P_M)^T, against the triple product A_S A_SM A_M^T.
    out = adaptive_attention(self_attended(a_s, p_s), self_attended(a_m, p_m), scale)
    assert out.shape == (2, 3, 4)
    for n in range(2):
        a_sm = [
            [scale * ref_dot(p_s[n, i].tolist(), p_m[n, j].tolist()) for j in range(4)]
            for i in range(3)
        ]
        expected = ref_adaptive(a_s[n].tolist(), a_sm, a_m[n].tolist())
        for i in range(3):
            for j in range(4):
                assert abs(out[n, i, j].item() - expected[i][j]) < TOL


def test_attend_eq12_13(generator: torch.Generator):
    a_hat = torch.randn(2, 3, 5, generator=generator, dtype=torch.double) * 3
    b_m = torch.randn(2, 5, 4, generator=generator, dtype=torch.double)
    mask_m = make_mask([5, 2], 5)
    out = attend(a_hat, b_m, mask_m)
    assert out.shape == (2, 3, 4)
    for n in range(2):
        rows, keep = real_rows(b_m[n], mask_m[n])
        expected = ref_attend(a_hat[n].tolist(), rows, keep)
        assert_close_at(out[n], expected, [True] * 3)
    # padded pivot rows are zero when the pivot mask is given
    zeroed = attend(a_hat, b_m, mask_m, make_mask([3, 1], 3))
    assert torch.all(zeroed[1, 1:] == 0) and torch.equal(zeroed[1, 0], out[1, 0])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_concat_slots_eq14_15(generator: torch.Generator, k: int):
    attended = torch.randn(2, k, 3, 4, generator=generator)
    out = concat_slots(attended)
    assert out.shape == (2, 3, k * 4)
    for n in range(2):
        for i in range(3):
            for s in range(k):
                for c in range(4):
                    assert out[n, i, s * 4 + c].item() == attended[n, s, i, c].item()


def test_fuse_eq16_17(generator: torch.Generator):
    h, k = 4, 2
    b_s = torch.randn(2, 3, h, generator=generator, dtype=torch.double)
    c_prime = torch.randn(2, 3, k * h, generator=generator, dtype=torch.double)
    w_c = torch.randn(h, k * h, generator=generator, dtype=torch.double)
    b_c = torch.randn(h, generator=generator, dtype=torch.double)
    gamma = torch.randn(h, generator=generator, dtype=torch.double)
    beta = torch.randn(h, generator=generator, dtype=torch.double)
    out = fuse(b_s, c_prime, w_c, b_c, gamma, beta, 1e-5)
    assert out.shape == (2, 3, 2 * h)
    for n in range(2):
        for i in range(3):
            expected = ref_fuse(
                b_s[n, i].tolist(),
                c_prime[n, i].tolist(),
                w_c.tolist(),
                b_c.tolist(),
                gamma.tolist(),
                beta.tolist(),
                1e-5,
            )
            for a, e in zip(out[n, i].tolist(), expected):
                assert abs(a - e) < TOL


# ---------------------------------------------------------------------------------------------
# The module
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("heads", [1, 2])
def test_module_matches_reference_with_padding(generator: torch.Generator, heads: int):
    h, k = 4, 2
    module = random_module(h, k, heads)
    pivot = torch.randn(2, 4, h, generator=generator, dtype=torch.double)
    pivot_mask = make_mask([4, 2], 4)
    parallels = torch.randn(2, k, 3, h, generator=generator, dtype=torch.double)
    parallel_mask = torch.stack([make_mask([3, 1], 3), make_mask([2, 3], 3)], dim=1)
    out = module(pivot, pivot_mask, parallels, parallel_mask)
    assert out.shape == (2, 4, 2 * h)
    for n in range(2):
        slots = [real_rows(parallels[n, s], parallel_mask[n, s]) for s in range(k)]
        expected = ref_maa_row(module, *real_rows(pivot[n], pivot_mask[n]), slots)
        assert_close_at(out[n], expected, pivot_mask[n].tolist())


def test_attention_maps_shapes_and_values(generator: torch.Generator):
    h, k = 4, 2
    module = random_module(h, k, heads=2)
    pivot = torch.randn(2, 3, h, generator=generator, dtype=torch.double)
    pivot_mask = make_mask([3, 2], 3)
    parallels = torch.randn(2, k, 5, h, generator=generator, dtype=torch.double)
    parallel_mask = torch.stack([make_mask([5, 4], 5), make_mask([2, 5], 5)], dim=1)
    maps = module.attention_maps(pivot, pivot_mask, parallels, parallel_mask)
    assert maps.a_s.shape == (2, 3, 3)
    assert maps.a_m.shape == (2, k, 5, 5)
    assert maps.a_sm.shape == maps.a_hat.shape == (2, k, 3, 5)
    assert maps.attended.shape == (2, k, 3, h)
    n, s = 1, 0  # pivot has 2 real positions, slot 0 has 4
    b_s, keep_s = real_rows(pivot[n], pivot_mask[n])
    b_m, keep_m = real_rows(parallels[n, s], parallel_mask[n, s])
    a_s = ref_intra(b_s, keep_s)
    a_m = ref_intra(b_m, keep_m)
    assert torch.allclose(maps.a_s[n], torch.tensor(a_s, dtype=torch.double), atol=TOL)
    assert torch.allclose(maps.a_m[n, s], torch.tensor(a_m, dtype=torch.double), atol=TOL)
    assert module.pivot_projection is not None and module.parallel_projection is not None
    a_sm = ref_multi_head_inter(
        b_s,
        b_m,
        2,
        module.pivot_projection.weight.tolist(),
        module.pivot_projection.bias.tolist(),
        module.parallel_projection.weight.tolist(),
        module.parallel_projection.bias.tolist(),
    )
    a_hat = ref_adaptive(a_s, a_sm, a_m)
    c_m = ref_attend(a_hat, b_m, keep_m)
    for i in range(2):
        for j in range(4):
            assert abs(maps.a_sm[n, s, i, j].item() - a_sm[i][j]) < TOL
            assert abs(maps.a_hat[n, s, i, j].item() - a_hat[i][j]) < TOL
    assert_close_at(maps.attended[n, s], c_m, keep_s)


@pytest.mark.parametrize("heads", [1, 2])
def test_mask_invariance_to_appended_garbage_padding(generator: torch.Generator, heads: int):
    h, k = 4, 2
    module = random_module(h, k, heads)
    pivot = torch.randn(2, 3, h, generator=generator, dtype=torch.double)
    pivot_mask = make_mask([3, 2], 3)
    parallels = torch.randn(2, k, 4, h, generator=generator, dtype=torch.double)
    parallel_mask = torch.stack([make_mask([4, 2], 4), make_mask([3, 4], 4)], dim=1)
    slot_mask = torch.tensor([[True, True], [False, True]])
    base = module(pivot, pivot_mask, parallels, parallel_mask, slot_mask)
    base_self = module(pivot, pivot_mask)

    garbage_pivot = torch.randn(2, 2, h, generator=generator, dtype=torch.double) * 50
    garbage_parallel = torch.randn(2, k, 3, h, generator=generator, dtype=torch.double) * 50
    long_pivot = torch.cat([pivot, garbage_pivot], dim=1)
    long_pivot_mask = torch.cat([pivot_mask, torch.zeros(2, 2, dtype=torch.bool)], dim=1)
    long_parallels = torch.cat([parallels, garbage_parallel], dim=2)
    long_parallel_mask = torch.cat([parallel_mask, torch.zeros(2, k, 3, dtype=torch.bool)], dim=2)
    # also put garbage into the already-padded positions
    long_pivot[1, 2] = 77.0
    long_parallels[1, 0, 2:4] = -33.0  # row 1, slot 0 has 2 real positions
    longer = module(long_pivot, long_pivot_mask, long_parallels, long_parallel_mask, slot_mask)
    longer_self = module(long_pivot, long_pivot_mask)
    real = pivot_mask.unsqueeze(-1)
    assert torch.allclose(longer[:, :3] * real, base * real, atol=1e-10)
    assert torch.allclose(longer_self[:, :3] * real, base_self * real, atol=1e-10)
    assert torch.isfinite(longer).all() and torch.isfinite(longer_self).all()


@pytest.mark.parametrize("parallel_len", [2, 6])
def test_slot_mask_false_is_self_transposition(generator: torch.Generator, parallel_len: int):
    h, k = 4, 2
    module = random_module(h, k, heads=2)
    pivot = torch.randn(2, 4, h, generator=generator, dtype=torch.double)
    pivot_mask = make_mask([4, 3], 4)
    parallels = torch.randn(2, k, parallel_len, h, generator=generator, dtype=torch.double)
    parallel_mask = torch.ones(2, k, parallel_len, dtype=torch.bool)
    parallel_mask[1, 0, 1:] = False
    # row 0: slot 1 missing; row 1: both slots real
    slot_mask = torch.tensor([[True, False], [True, True]])
    out = module(pivot, pivot_mask, parallels, parallel_mask, slot_mask)
    for n in range(2):
        slots = []
        for s in range(k):
            if slot_mask[n, s]:
                slots.append(real_rows(parallels[n, s], parallel_mask[n, s]))
            else:
                slots.append(real_rows(pivot[n], pivot_mask[n]))
        expected = ref_maa_row(module, *real_rows(pivot[n], pivot_mask[n]), slots)
        assert_close_at(out[n], expected, pivot_mask[n].tolist())
    if parallel_len >= 4:
        # the same as writing the pivot into slot 1 of row 0 by hand
        by_hand = parallels.clone()
        by_hand_mask = parallel_mask.clone()
        by_hand[0, 1] = 0.0
        by_hand[0, 1, :4] = pivot[0]
        by_hand_mask[0, 1] = False
        by_hand_mask[0, 1, :4] = pivot_mask[0]
        direct = module(pivot, pivot_mask, by_hand, by_hand_mask)
        assert torch.allclose(out, direct, atol=1e-12)


def test_empty_parallel_slot_is_self_transposition(generator: torch.Generator):
    module = random_module(4, 2)
    pivot = torch.randn(1, 3, 4, generator=generator, dtype=torch.double)
    pivot_mask = torch.ones(1, 3, dtype=torch.bool)
    parallels = torch.randn(1, 2, 3, 4, generator=generator, dtype=torch.double)
    parallel_mask = torch.ones(1, 2, 3, dtype=torch.bool)
    parallel_mask[0, 1] = False
    out = module(pivot, pivot_mask, parallels, parallel_mask)
    expected = module(pivot, pivot_mask, parallels, None, torch.tensor([[True, False]]))
    assert torch.allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize("heads", [1, 2])
def test_no_parallels_equals_pivot_in_every_slot(generator: torch.Generator, heads: int):
    h, k = 4, 3
    module = random_module(h, k, heads)
    pivot = torch.randn(2, 4, h, generator=generator, dtype=torch.double)
    pivot_mask = make_mask([4, 2], 4)
    out = module(pivot, pivot_mask)
    explicit = module(
        pivot,
        pivot_mask,
        pivot.unsqueeze(1).expand(2, k, 4, h),
        pivot_mask.unsqueeze(1).expand(2, k, 4),
    )
    all_missing = module(
        pivot,
        pivot_mask,
        torch.randn(2, k, 5, h, generator=generator, dtype=torch.double),
        torch.ones(2, k, 5, dtype=torch.bool),
        torch.zeros(2, k, dtype=torch.bool),
    )
    real = pivot_mask.unsqueeze(-1)
    assert torch.allclose(out * real, explicit * real, atol=1e-12)
    assert torch.allclose(out * real, all_missing * real, atol=1e-12)
    for n in range(2):
        rows = real_rows(pivot[n], pivot_mask[n])
        expected = ref_maa_row(module, *rows, [rows] * k)
        assert_close_at(out[n], expected, pivot_mask[n].tolist())
    # the inference path computes one slot and shares it (no copy) across the k slots
    maps = module.attention_maps(pivot, pivot_mask)
    assert maps.attended.shape == (2, k, 4, h) and maps.attended.stride(1) == 0


def test_initial_output_is_pivot_and_its_layer_norm(generator: torch.Generator):
    h = 6
    module = MultilingualAdaptiveAttention(h, 2, num_heads=3)
    assert torch.all(module.fusion.weight == 0) and torch.all(module.fusion.bias == 0)
    pivot = torch.randn(2, 5, h, generator=generator) * 3 + 1
    pivot_mask = make_mask([5, 3], 5)
    parallels = torch.randn(2, 2, 4, h, generator=generator)
    out = module(pivot, pivot_mask, parallels, make_mask([4, 2], 4).unsqueeze(1).expand(2, 2, 4))
    assert module.get_output_dim() == 2 * h == out.size(-1)
    assert torch.equal(out[..., :h], pivot)
    for n in range(2):
        for i in range(5):
            expected = ref_layer_norm(pivot[n, i].tolist(), [1.0] * h, [0.0] * h, 1e-5)
            for a, e in zip(out[n, i, h:].tolist(), expected):
                assert abs(a - e) < 1e-5


def test_gradients_reach_fusion_projections_and_inputs(generator: torch.Generator):
    torch.manual_seed(3)
    h, k = 4, 2
    module = MultilingualAdaptiveAttention(h, k, num_heads=2, fusion_init_std=0.2)
    pivot = torch.randn(2, 3, h, generator=generator, requires_grad=True)
    parallels = torch.randn(2, k, 4, h, generator=generator, requires_grad=True)
    pivot_mask = make_mask([3, 2], 3)
    parallel_mask = make_mask([4, 3], 4).unsqueeze(1).expand(2, k, 4)
    out = module(pivot, pivot_mask, parallels, parallel_mask)
    weights = torch.randn(out.shape, generator=generator)
    (out * weights).sum().backward()
    assert module.pivot_projection is not None and module.parallel_projection is not None
    for name, grad in [
        ("W_C", module.fusion.weight.grad),
        ("b_C", module.fusion.bias.grad),
        ("pivot projection", module.pivot_projection.weight.grad),
        ("parallel projection", module.parallel_projection.weight.grad),
        ("pivot", pivot.grad),
        ("parallels", parallels.grad),
    ]:
        assert grad is not None, name
        assert torch.isfinite(grad).all(), name
        assert grad.abs().sum() > 0, name
    # padded parallel positions get no gradient
    assert parallels.grad is not None and torch.all(parallels.grad[1, :, 3] == 0)


def test_gradcheck_double(generator: torch.Generator):
    module = random_module(h=4, k=2, heads=2, std=0.4, seed=5)
    pivot = torch.randn(1, 3, 4, generator=generator, dtype=torch.double, requires_grad=True)
    parallels = torch.randn(1, 2, 2, 4, generator=generator, dtype=torch.double, requires_grad=True)
    pivot_mask = torch.tensor([[True, True, False]])
    parallel_mask = torch.ones(1, 2, 2, dtype=torch.bool)

    def func(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        return module(p, pivot_mask, q, parallel_mask)[:, :2]

    assert torch.autograd.gradcheck(func, (pivot, parallels), eps=1e-6, atol=1e-6)


def test_from_params_and_as_constructor_argument():
    module = MultilingualAdaptiveAttention.from_params(Params({"input_dim": 32, "num_parallel": 2}))
    assert isinstance(module, MultilingualAdaptiveAttention)
    assert module.num_parallel == 2 and module.num_heads == 1
    assert module.get_output_dim() == 64
    assert MultilingualAdaptiveAttention.by_name("default") is MultilingualAdaptiveAttention

    class Holder(FromParams):
        def __init__(self, maa: MultilingualAdaptiveAttention) -> None:
            self.maa = maa

    holder = Holder.from_params(
        Params({"maa": {"input_dim": 32, "num_parallel": 2, "num_heads": 4, "dropout": 0.1}})
    )
    assert holder.maa.num_heads == 4 and holder.maa.pivot_projection is not None
    typed = MultilingualAdaptiveAttention.from_params(
        Params({"type": "default", "input_dim": 8, "num_parallel": 3})
    )
    assert typed.fusion.in_features == 24


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="num_heads"):
        MultilingualAdaptiveAttention(6, 2, num_heads=4)
    module = MultilingualAdaptiveAttention(4, 2)
    with pytest.raises(ValueError, match="parallels have shape"):
        module(torch.randn(1, 3, 4), torch.ones(1, 3), torch.randn(1, 3, 2, 4))


def test_dropout_only_in_training(generator: torch.Generator):
    torch.manual_seed(0)
    module = MultilingualAdaptiveAttention(4, 2, dropout=0.5, fusion_init_std=1.0)
    pivot = torch.randn(2, 6, 4, generator=generator)
    mask = torch.ones(2, 6, dtype=torch.bool)
    module.eval()
    assert torch.equal(module(pivot, mask), module(pivot, mask))
    module.train()
    assert not torch.allclose(module(pivot, mask), module(pivot, mask))


def test_options_from_params_and_paper_exact_default_adds_no_parameter():
    """The issue-30 options: the default (paper-exact) layer's state dict is the one of
    archives trained before the options existed; a learned τ adds exactly `log_score_scale`."""
    paper = MultilingualAdaptiveAttention.from_params(Params({"input_dim": 8, "num_parallel": 2}))
    assert paper.adaptive_sides == "both" and paper.current_score_scale() == 1.0
    assert set(paper.state_dict()) == {
        "fusion.weight",
        "fusion.bias",
        "layer_norm.weight",
        "layer_norm.bias",
    }
    learned = MultilingualAdaptiveAttention.from_params(
        Params(
            {
                "input_dim": 8,
                "num_parallel": 2,
                "adaptive_sides": "pivot",
                "score_scale": 20.0,
                "learn_score_scale": True,
            }
        )
    )
    assert set(learned.state_dict()) - set(paper.state_dict()) == {"log_score_scale"}
    assert learned.adaptive_sides == "pivot"
    assert abs(float(learned.current_score_scale()) - 20.0) < 1e-4
    fixed = MultilingualAdaptiveAttention(8, 2, adaptive_sides="none", score_scale=5.0)
    assert set(fixed.state_dict()) == set(paper.state_dict()) and fixed.current_score_scale() == 5


def test_learned_score_scale_gets_a_gradient_and_sharpens_the_slot_attention(
    generator: torch.Generator,
):
    torch.manual_seed(0)
    h, k = 6, 2
    module = MultilingualAdaptiveAttention(
        h, k, fusion_init_std=0.3, adaptive_sides="pivot", score_scale=2.0, learn_score_scale=True
    )
    pivot = torch.randn(2, 5, h, generator=generator)
    parallels = torch.randn(2, k, 4, h, generator=generator)
    pivot_mask = make_mask([5, 4], 5)
    parallel_mask = make_mask([4, 3], 4).unsqueeze(1).expand(2, k, 4)
    out = module(pivot, pivot_mask, parallels, parallel_mask)
    (out * torch.randn(out.shape, generator=generator)).sum().backward()
    assert module.log_score_scale is not None and module.log_score_scale.grad is not None
    assert module.log_score_scale.grad.abs() > 0

    def max_weight(scale: float) -> float:
        with torch.no_grad():
            assert module.log_score_scale is not None
            module.log_score_scale.fill_(math.log(scale))
            maps = module.attention_maps(pivot, pivot_mask, parallels, parallel_mask)
        weights = masked_softmax(maps.a_hat, maps.mask_m)
        return float(weights.max(-1).values[:, :, :4].mean())

    assert max_weight(0.01) < max_weight(1.0) < max_weight(100.0)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="adaptive_sides='slot'"):
        MultilingualAdaptiveAttention(4, 2, adaptive_sides="slot")
    with pytest.raises(ValueError, match="score_scale=0"):
        MultilingualAdaptiveAttention(4, 2, score_scale=0.0)
