"""
A float64 oracle for MAA (XLTT eq. 5-17), written as explicit Python loops over positions and
heads on plain floats, straight from the design README section 3 and independent of
`xltt_plugin.modules.maa`: no regrouping of eq. 10 (the triple product is summed term by term),
no shared blocks, no batching. Slow, so the tests keep sequences tiny.

A sequence is a list of rows (`Matrix`) with a list of bools for its real positions; padded
rows may hold anything (they must not matter).
"""

import math
from dataclasses import dataclass

import torch

Matrix = list[list[float]]


@dataclass
class MaaParams:
    """The layer's parameters as plain lists (`torch.nn.Linear` layout: `W[out][in]`)."""

    num_heads: int
    w_s: Matrix | None
    b_s: list[float] | None
    w_m: Matrix | None
    b_m: list[float] | None
    w_c: Matrix
    b_c: list[float]
    gamma: list[float]
    beta: list[float]
    eps: float
    adaptive_sides: str = "both"
    score_scale: float = 1.0

    @classmethod
    def of(cls, module: torch.nn.Module) -> "MaaParams":
        def rows(linear: torch.nn.Linear | None) -> tuple[Matrix | None, list[float] | None]:
            if linear is None:
                return None, None
            return linear.weight.double().tolist(), linear.bias.double().tolist()

        w_s, b_s = rows(module.pivot_projection)  # type: ignore[arg-type]
        w_m, b_m = rows(module.parallel_projection)  # type: ignore[arg-type]
        return cls(
            num_heads=module.num_heads,  # type: ignore[arg-type]
            w_s=w_s,
            b_s=b_s,
            w_m=w_m,
            b_m=b_m,
            w_c=module.fusion.weight.double().tolist(),  # type: ignore[union-attr]
            b_c=module.fusion.bias.double().tolist(),  # type: ignore[union-attr]
            gamma=module.layer_norm.weight.double().tolist(),  # type: ignore[union-attr]
            beta=module.layer_norm.bias.double().tolist(),  # type: ignore[union-attr]
            eps=float(module.layer_norm.eps),  # type: ignore[union-attr, arg-type]
            adaptive_sides=str(module.adaptive_sides),
            score_scale=score_scale(module),
        )


def score_scale(module: torch.nn.Module) -> float:
    """τ read off the module's attributes: `exp(log τ)` when learned, else `score_scale`."""
    log_tau = module.log_score_scale
    if log_tau is None:
        return float(module.score_scale)  # type: ignore[arg-type]
    return math.exp(float(log_tau.item()))  # type: ignore[operator]


def dot(u: list[float], v: list[float]) -> float:
    total = 0.0
    for a, b in zip(u, v):
        total += a * b
    return total


def linear(x: list[float], weight: Matrix, bias: list[float]) -> list[float]:
    return [bias[o] + dot(weight[o], x) for o in range(len(weight))]


def softmax(values: list[float], keep: list[bool]) -> list[float]:
    """Softmax over the kept entries; the others get 0 (all 0 when none is kept)."""
    if not any(keep):
        return [0.0] * len(values)
    top = max(v for v, k in zip(values, keep) if k)
    exps = [math.exp(v - top) if k else 0.0 for v, k in zip(values, keep)]
    total = sum(exps)
    return [e / total for e in exps]


def intra(b: Matrix, keep: list[bool]) -> Matrix:
    """Eq. 5-7: A_X[i][j] = softmax_j(B_X[i] . B_X[j] / sqrt(h)); padded rows 0."""
    length, h = len(b), len(b[0])
    out = [[0.0] * length for _ in range(length)]
    for i in range(length):
        if keep[i]:
            out[i] = softmax([dot(b[i], b[j]) / math.sqrt(h) for j in range(length)], keep)
    return out


def inter(b_s: Matrix, b_m: Matrix, params: MaaParams) -> Matrix:
    """Eq. 8-9: raw scores; with heads, per-head projected scores / sqrt(d), averaged."""
    h = len(b_s[0])
    out = [[0.0] * len(b_m) for _ in b_s]
    if params.w_s is None:
        for a in range(len(b_s)):
            for b in range(len(b_m)):
                out[a][b] = dot(b_s[a], b_m[b]) / math.sqrt(h)
        return out
    assert params.w_m is not None and params.b_s is not None and params.b_m is not None
    heads = params.num_heads
    d = len(params.w_s) // heads
    for n in range(heads):
        part = range(n * d, (n + 1) * d)
        w_s, b_s_n = [params.w_s[r] for r in part], [params.b_s[r] for r in part]
        w_m, b_m_n = [params.w_m[r] for r in part], [params.b_m[r] for r in part]
        queries = [linear(x, w_s, b_s_n) for x in b_s]
        keys = [linear(x, w_m, b_m_n) for x in b_m]
        for a in range(len(b_s)):
            for b in range(len(b_m)):
                out[a][b] += dot(queries[a], keys[b]) / math.sqrt(d) / heads
    return out


def identity(length: int) -> Matrix:
    return [[1.0 if i == j else 0.0 for j in range(length)] for i in range(length)]


def adaptive(
    a_s: Matrix, a_sm: Matrix, a_m: Matrix, sides: str = "both", tau: float = 1.0
) -> Matrix:
    """
    Eq. 10-11 times the score scale τ: Â[i][j] = τ Σ_a Σ_b A_S[i][a] A_SM[a][b] A_M[j][b]
    (`sides` "both"); A_M replaced by the identity for "pivot" (the slot read un-averaged),
    A_S and A_M both for "none" (Â = τ A_SM).
    """
    if sides in ("pivot", "none"):
        a_m = identity(len(a_m))
    if sides == "none":
        a_s = identity(len(a_s))
    out = [[0.0] * len(a_m) for _ in a_s]
    for i in range(len(a_s)):
        for j in range(len(a_m)):
            total = 0.0
            for a in range(len(a_s)):
                for b in range(len(a_m)):
                    total += a_s[i][a] * a_sm[a][b] * a_m[j][b]
            out[i][j] = tau * total
    return out


def attend(a_hat: Matrix, b_m: Matrix, keep_m: list[bool]) -> Matrix:
    """Eq. 12-13: C'_M[i] = Σ_j softmax_j(Â[i]) B_M[j] over M's real positions."""
    h = len(b_m[0])
    out = []
    for row in a_hat:
        weights = softmax(row, keep_m)
        out.append([sum(weights[j] * b_m[j][c] for j in range(len(b_m))) for c in range(h)])
    return out


def layer_norm(x: list[float], gamma: list[float], beta: list[float], eps: float) -> list[float]:
    mean = sum(x) / len(x)
    var = sum((v - mean) ** 2 for v in x) / len(x)
    return [(v - mean) / math.sqrt(var + eps) * g + b for v, g, b in zip(x, gamma, beta)]


@dataclass
class OracleMaps:
    a_s: Matrix
    a_m: list[Matrix]
    a_sm: list[Matrix]
    a_hat: list[Matrix]
    attended: list[Matrix]
    g: list[list[float] | None]


def oracle(
    pivot: tuple[Matrix, list[bool]],
    slots: list[tuple[Matrix, list[bool]]],
    params: MaaParams,
    dropout_mask: Matrix | None = None,
) -> OracleMaps:
    """
    Eq. 5-17 for one query: `pivot` = (B_S, real positions), `slots` = the k (B_M, real
    positions) it attends to. `dropout_mask[i][c]` multiplies C (0 or 1/(1-p); None: eval).
    `g[i]` is None at the pivot's padded positions.
    """
    b_s, keep_s = pivot
    a_s = intra(b_s, keep_s)
    maps = OracleMaps(a_s, [], [], [], [], [])
    c_prime: Matrix = [[] for _ in b_s]
    for b_m, keep_m in slots:
        a_m = intra(b_m, keep_m)
        a_sm = inter(b_s, b_m, params)
        a_hat = adaptive(a_s, a_sm, a_m, params.adaptive_sides, params.score_scale)
        c_m = attend(a_hat, b_m, keep_m)
        for i in range(len(b_s)):
            c_prime[i] = c_prime[i] + c_m[i]
        maps.a_m.append(a_m)
        maps.a_sm.append(a_sm)
        maps.a_hat.append(a_hat)
        maps.attended.append(c_m)
    for i in range(len(b_s)):
        if not keep_s[i]:
            maps.g.append(None)
            continue
        c = linear(c_prime[i], params.w_c, params.b_c)
        if dropout_mask is not None:
            c = [v * m for v, m in zip(c, dropout_mask[i])]
        normed = layer_norm(
            [x + y for x, y in zip(b_s[i], c)], params.gamma, params.beta, params.eps
        )
        maps.g.append(b_s[i] + normed)
    return maps


def sequence(
    encoded: torch.Tensor, mask: torch.Tensor, row: int, index: int
) -> tuple[Matrix, list[bool]]:
    """Sequence `index` of batch row `row` of a (batch, n, L, h) stack as oracle input."""
    return encoded[row, index].double().tolist(), [bool(v) for v in mask[row, index].tolist()]
