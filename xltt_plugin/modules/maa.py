"""
Multilingual adaptive attention (MAA), XLTT eq. 5-17.

ONE implementation: `MultilingualAdaptiveAttention.steps` computes the equations as the named
steps of the design README (section 3) for a batch of `MaaQueries`, and everything runs it:
the training step (the pivot attending to its translations and, for the auxiliary loss, each
translation attending to the pivot and the other translations), evaluation and prediction,
`forward` and `attention_maps`. Each step is a pure function below (tensors in, tensors out,
any number of leading batch dimensions, written `*` in the shape comments):

1. intra maps (5-7): `A_X = softmax(B_X B_X^T / sqrt(h))`, an `L_X x L_X` attention map
   (`intra_attention`);
2. inter scores (8-9): `A_SM = c · P_S P_M^T` with `P_X = B_X` and `c = 1/sqrt(h)` for one
   head, or the per-head projections of S and M stacked head after head and
   `c = 1/(heads · sqrt(h/heads))`, which is the mean of the per-head scaled scores
   (`inter_features`; `inter_scores` builds `A_SM` for inspection);
3. adaptive map (10-11): `Â_SM = A_S · A_SM · A_M^T`, computed as `c · (A_S P_S)(A_M P_M)^T`,
   the same product regrouped: `Z_X = A_X P_X` once per sequence (`self_attended`), then one
   product per pair (`adaptive_attention`); then multiplied by the score scale `τ` (1, fixed,
   in the paper). Options of the layer (issue 30, `adaptive_sides`): `"both"` is eq. 10
   (paper-exact), `"pivot"` reads the slot un-averaged (`Â_SM = τ · A_S A_SM`, `Z_M = P_M`),
   `"none"` is plain cross attention (`Â_SM = τ · A_SM`, eq. 8 itself);
4. attended slots (12-13): `C'_M = softmax(Â_SM) B_M`, the softmax over M's real positions
   (`attend`);
5. concatenation (14-15): `C' = [C'_M ; C'_N ; ...]` (`concat_slots`);
6. fusion (16-17): `C = C' W_C + b_C`, `G_S = [B_S ; LayerNorm(B_S + C)]` (`fuse`).

Masked softmaxes fill masked scores with the dtype's minimum (no addition that could overflow
to `-inf` in float16) and are computed in at least float32, so fully padded rows and empty
slots give zeros, never NaN, under `torch.autocast` too.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from allennlp.common import Registrable

# ---------------------------------------------------------------------------------------------
# The query layout
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaaQueries:
    """
    What one MAA call computes: `Q` queries over per-row stacks of `n` encoded sequences
    (sequence 0 of a row is the pivot window S, 1..k its translations, at a common length `L`).
    Query `q` takes sequence `pivots[q]` of batch row `rows[q]` as its pivot and the sequences
    `slots[q]` of the same row as its `k` parallel slots; a slot equal to the pivot is a
    self-transposition (the pivot attends to itself there).

    # Parameters

    encoded : `torch.Tensor`
        # shape: (batch, n, L, h)
    mask : `torch.Tensor`
        True at real positions. # shape: (batch, n, L), bool
    rows : `torch.Tensor`
        # shape: (Q,), long
    pivots : `torch.Tensor`
        # shape: (Q,), long, indices into the n sequences
    slots : `torch.Tensor`
        # shape: (Q, k), long, indices into the n sequences
    """

    encoded: torch.Tensor
    mask: torch.Tensor
    rows: torch.Tensor
    pivots: torch.Tensor
    slots: torch.Tensor

    @classmethod
    def of_pivots(
        cls, encoded: torch.Tensor, mask: torch.Tensor, slots: torch.Tensor
    ) -> "MaaQueries":
        """
        One query per batch row: its sequence 0 (the pivot S) attending to `slots`.

        # Parameters

        encoded : `torch.Tensor`
            # shape: (batch, n, L, h)
        mask : `torch.Tensor`
            # shape: (batch, n, L), bool
        slots : `torch.Tensor`
            # shape: (batch, k), long
        """
        rows = torch.arange(encoded.size(0), device=encoded.device)
        return cls(encoded, mask.bool(), rows, torch.zeros_like(rows), slots)

    def with_transpositions(
        self, rows: torch.Tensor, translations: torch.Tensor, usable: torch.Tensor
    ) -> "MaaQueries":
        """
        These queries followed by one per (row, translation) pair with the translation R
        (sequence `translations + 1`) as the pivot: the auxiliary loss's transposition. R's
        slots are S (sequence 0) first, then the other translations in order, each replaced
        by R itself (self-transposition) where it is not `usable`.

        # Parameters

        rows, translations : `torch.Tensor`
            # shape: (pairs,), long; `translations` 0-based among the k translations
        usable : `torch.Tensor`
            Whether each sequence can fill a slot. # shape: (batch, 1 + k), bool
        """
        k = usable.size(1) - 1
        # Row r: [0] + [j + 1 for j != r]. shape: (k, k)
        table = torch.tensor(
            [[0] + [j + 1 for j in range(k) if j != r] for r in range(k)],
            dtype=torch.long,
            device=usable.device,
        )
        pivots = translations + 1
        # shape: (pairs, k)
        chosen = table[translations]
        ok = torch.gather(usable[rows], 1, chosen)
        slots = torch.where(ok, chosen, pivots.unsqueeze(1))
        return MaaQueries(
            self.encoded,
            self.mask,
            torch.cat([self.rows, rows]),
            torch.cat([self.pivots, pivots]),
            torch.cat([self.slots, slots], dim=0),
        )

    def flat(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """
        `(sequences, mask, pivot_ids, slot_ids)`: the `N = batch * n` sequences in one batch
        dimension, # shape: (N, L, h), (N, L), and the queries' indices into it,
        # shape: (Q,), (Q, k).
        """
        batch, n, length, hidden = self.encoded.shape
        sequences = self.encoded.reshape(batch * n, length, hidden)
        mask = self.mask.bool().reshape(batch * n, length)
        pivot_ids = self.rows * n + self.pivots
        slot_ids = self.rows.unsqueeze(1) * n + self.slots
        return sequences, mask, pivot_ids, slot_ids


# ---------------------------------------------------------------------------------------------
# The steps (pure functions)
# ---------------------------------------------------------------------------------------------


def masked_softmax(
    scores: torch.Tensor, key_mask: torch.Tensor, query_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """
    Softmax over the last dimension restricted to the keys where `key_mask` is True. Masked
    keys get exactly zero weight; a row whose keys are all masked, or whose query is masked
    (`query_mask` False), is all zeros. Masked scores are replaced (not shifted) by the
    dtype's minimum and the softmax runs in at least float32, so float16 / bfloat16 inputs give
    no NaN or inf, in values or gradients.

    # Parameters

    scores : `torch.Tensor`
        # shape: (*, L_q, L_k)
    key_mask : `torch.Tensor`
        # shape: (*, L_k), bool
    query_mask : `torch.Tensor`, optional
        # shape: (*, L_q), bool

    # Returns

    `torch.Tensor`
        The dtype of `scores`. # shape: (*, L_q, L_k)
    """
    # shape: (*, 1, L_k)
    keys = key_mask.bool().unsqueeze(-2)
    filled = scores.masked_fill(~keys, torch.finfo(scores.dtype).min)
    probs = torch.softmax(filled, dim=-1, dtype=torch.promote_types(scores.dtype, torch.float32))
    # shape: (*, L_q | 1, L_k)
    keep = keys if query_mask is None else keys & query_mask.bool().unsqueeze(-1)
    return probs.masked_fill(~keep, 0.0).to(scores.dtype)


def intra_attention(b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """
    Step 1, intra (self) attention of one sequence, eq. 5-7:
    `A_X = softmax(B_X B_X^T / sqrt(h))`, padded keys masked out, padded query rows zero.

    # Parameters

    b : `torch.Tensor`
        The encoded sequence `B_X`. # shape: (*, L, h)
    mask : `torch.Tensor`
        True at real (non-padded) positions. # shape: (*, L), bool

    # Returns

    `torch.Tensor`
        `A_X`, each real row a distribution over the real positions. # shape: (*, L, L)
    """
    # shape: (*, L, L)
    scores = torch.matmul(b / math.sqrt(b.size(-1)), b.transpose(-1, -2))
    return masked_softmax(scores, mask, mask)


def inter_features(
    b: torch.Tensor,
    num_heads: int = 1,
    weight_s: torch.Tensor | None = None,
    bias_s: torch.Tensor | None = None,
    weight_m: torch.Tensor | None = None,
    bias_m: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """
    Step 2's features, eq. 8-9: `(P_S, P_M, c)` such that the inter scores of a pivot `S` and
    a parallel `M` are `A_SM = c · P_S P_M^T` (`inter_scores`), computed for every sequence in
    both roles.

    One head (no weights): `P = B` and `c = 1/sqrt(h)`, eq. 8. Several heads: head `n`
    projects S and M with its own linear maps to `d = out_dim / num_heads` dimensions and
    scores them as `(B_S W_S^n + b_S^n)(B_M W_M^n + b_M^n)^T / sqrt(d)`; the mean over heads
    of these per-head dot products is one dot product of the heads' features stacked side by
    side, divided by `num_heads`, so `P_X` holds all heads and `c = 1/(num_heads · sqrt(d))`.

    # Parameters

    b : `torch.Tensor`
        # shape: (*, L, h)
    num_heads : `int`
        Must divide `out_dim`.
    weight_s, weight_m : `torch.Tensor`, optional
        Pivot-side and parallel-side projections of all heads, head after head
        (`torch.nn.Linear` layout: head `n` is rows `n*d:(n+1)*d`). # shape: (out_dim, h)
    bias_s, bias_m : `torch.Tensor`, optional
        # shape: (out_dim,)

    # Returns

    `tuple[torch.Tensor, torch.Tensor, float]`
        `P_S` and `P_M` of every sequence, # shape: (*, L, d_total), and `c`.
    """
    if weight_s is None or weight_m is None:
        return b, b, 1.0 / math.sqrt(b.size(-1))
    out_dim = weight_s.size(0)
    if out_dim % num_heads != 0 or weight_m.size(0) != out_dim:
        raise ValueError(
            f"inter_features: projection sizes {tuple(weight_s.shape)} and "
            f"{tuple(weight_m.shape)} do not split into {num_heads} equal heads"
        )
    scale = 1.0 / (num_heads * math.sqrt(out_dim // num_heads))
    return F.linear(b, weight_s, bias_s), F.linear(b, weight_m, bias_m), scale


def inter_scores(
    p_s: torch.Tensor,
    p_m: torch.Tensor,
    scale: float,
    mask_s: torch.Tensor | None = None,
    mask_m: torch.Tensor | None = None,
) -> torch.Tensor:
    """
    Step 2, inter attention scores between a pivot S and a parallel M, eq. 8-9:
    `A_SM = c · P_S P_M^T` (raw scores, no softmax) from `inter_features`. Entries in a
    padded row or column are zero when the masks are given.

    # Parameters

    p_s : `torch.Tensor`
        # shape: (*, L_S, d)
    p_m : `torch.Tensor`
        # shape: (*, L_M, d)
    scale : `float`
    mask_s : `torch.Tensor`, optional
        # shape: (*, L_S), bool
    mask_m : `torch.Tensor`, optional
        # shape: (*, L_M), bool

    # Returns

    `torch.Tensor`
        `A_SM`. # shape: (*, L_S, L_M)
    """
    # shape: (*, L_S, L_M)
    scores = torch.matmul(p_s * scale, p_m.transpose(-1, -2))
    if mask_s is not None:
        scores = scores.masked_fill(~mask_s.bool().unsqueeze(-1), 0.0)
    if mask_m is not None:
        scores = scores.masked_fill(~mask_m.bool().unsqueeze(-2), 0.0)
    return scores


def self_attended(a_x: torch.Tensor, p_x: torch.Tensor) -> torch.Tensor:
    """
    Step 3's per-sequence half: `Z_X = A_X P_X`, the intra map applied to the inter features
    (`adaptive_attention` says why). Zero at padded positions (`A_X`'s rows are zero there).

    # Parameters

    a_x : `torch.Tensor`
        `A_X` from `intra_attention`. # shape: (*, L, L)
    p_x : `torch.Tensor`
        `P_X` from `inter_features`. # shape: (*, L, d)

    # Returns

    `torch.Tensor`
        # shape: (*, L, d)
    """
    return torch.matmul(a_x, p_x)


def adaptive_attention(
    z_s: torch.Tensor, z_m: torch.Tensor, scale: float | torch.Tensor
) -> torch.Tensor:
    """
    Step 3, adaptive attention, eq. 10-11: `Â_SM = A_S · A_SM · A_M^T`, reading `A_X` as the
    `L_X x L_X` intra map (the only reading under which eq. 10 composes). With
    `A_SM = c · P_S P_M^T` (step 2) this is `c · (A_S P_S)(A_M P_M)^T = c · Z_S Z_M^T`, the
    inter score between the self-attended contexts of S's position `i` and M's position `j`.
    Computed in this order, the work is `L x L x d` per sequence (`self_attended`, shared by
    all the pairs using the sequence) and per pair, instead of two `L x L x L` products per
    pair; `A_SM` itself is never built. Rows at padded positions of S and columns at padded
    positions of M are zero.

    # Parameters

    z_s : `torch.Tensor`
        `A_S P_S`. # shape: (*, L_S, d)
    z_m : `torch.Tensor`
        `A_M P_M`. # shape: (*, L_M, d)
    scale : `float | torch.Tensor`
        `c` from `inter_features`, times the score scale `τ` (a 0-dim tensor when learned).

    # Returns

    `torch.Tensor`
        `Â_SM`. # shape: (*, L_S, L_M)
    """
    # shape: (*, L_S, L_M)
    return torch.matmul(z_s * scale, z_m.transpose(-1, -2))


def shared_adaptive_attention(
    z: torch.Tensor, pivot_ids: torch.Tensor, slot_ids: torch.Tensor, scale: float | torch.Tensor
) -> torch.Tensor:
    """
    `adaptive_attention` of many (pivot, slot) pairs of sequences sharing ONE feature map
    (`P_S = P_M`, one head): `Â` for Y attending to X is then `Â` for X attending to Y
    transposed, so each unordered pair's block is computed once. (In XLTT's training step the
    pivot attends to each translation and each translation back to the pivot.)

    # Parameters

    z : `torch.Tensor`
        `Z_X = A_X P_X` of every sequence. # shape: (N, L, d)
    pivot_ids : `torch.Tensor`
        # shape: (Q,), indices into the N sequences
    slot_ids : `torch.Tensor`
        # shape: (Q, k), indices into the N sequences
    scale : `float | torch.Tensor`

    # Returns

    `torch.Tensor`
        `Â` of every query and slot. # shape: (Q, k, L, L)
    """
    count = z.size(0)
    # shape: (Q, k)
    pivots = pivot_ids.unsqueeze(1).expand_as(slot_ids)
    first, second = torch.minimum(pivots, slot_ids), torch.maximum(pivots, slot_ids)
    pairs, which = torch.unique(first * count + second, return_inverse=True)
    # Â with the pair's first sequence attending to its second. shape: (P, L, L)
    blocks = adaptive_attention(z[pairs // count], z[pairs % count], scale)
    # shape: (Q, k, L, L)
    a_hat = blocks[which]
    reverse = (pivots != first)[..., None, None]
    return torch.where(reverse, a_hat.transpose(-1, -2), a_hat)


def attend(
    a_hat: torch.Tensor,
    b_m: torch.Tensor,
    mask_m: torch.Tensor,
    mask_s: torch.Tensor | None = None,
) -> torch.Tensor:
    """
    Step 4, attended representation, eq. 12-13: `C'_M = softmax(Â_SM) B_M`, the softmax
    taken over M's real positions. Rows at padded pivot positions are zero when `mask_s` is
    given.

    # Parameters

    a_hat : `torch.Tensor`
        `Â_SM`. # shape: (*, L_S, L_M)
    b_m : `torch.Tensor`
        # shape: (*, L_M, h)
    mask_m : `torch.Tensor`
        # shape: (*, L_M), bool
    mask_s : `torch.Tensor`, optional
        # shape: (*, L_S), bool

    # Returns

    `torch.Tensor`
        `C'_M`. # shape: (*, L_S, h)
    """
    # shape: (*, L_S, L_M)
    weights = masked_softmax(a_hat, mask_m, mask_s)
    # shape: (*, L_S, h)
    return torch.matmul(weights, b_m)


def concat_slots(attended: torch.Tensor) -> torch.Tensor:
    """
    Step 5, multilingual attention, eq. 14-15: concatenate the attended representations of
    the `k` slots along the feature dimension, slot 0 first: `C' = [C'_1 ; C'_2 ; ... ; C'_k]`.

    # Parameters

    attended : `torch.Tensor`
        # shape: (batch, k, L_S, h)

    # Returns

    `torch.Tensor`
        # shape: (batch, L_S, k * h)
    """
    batch, k, length, hidden = attended.shape
    # shape: (batch, L_S, k, h) -> (batch, L_S, k * h)
    return attended.transpose(1, 2).reshape(batch, length, k * hidden)


def fuse(
    b_s: torch.Tensor,
    c_prime: torch.Tensor,
    weight_c: torch.Tensor,
    bias_c: torch.Tensor | None,
    layer_norm_weight: torch.Tensor | None,
    layer_norm_bias: torch.Tensor | None,
    layer_norm_eps: float = 1e-5,
    dropout: float = 0.0,
    training: bool = False,
) -> torch.Tensor:
    """
    Step 6, fusion, eq. 16-17: `C = C' W_C + b_C` and
    `G_S = [B_S ; LayerNorm(B_S + dropout(C))]`.

    # Parameters

    b_s : `torch.Tensor`
        # shape: (*, L_S, h)
    c_prime : `torch.Tensor`
        # shape: (*, L_S, k * h)
    weight_c : `torch.Tensor`
        `W_C^T` in `torch.nn.Linear` layout. # shape: (h, k * h)
    bias_c : `torch.Tensor`, optional
        # shape: (h,)
    layer_norm_weight, layer_norm_bias : `torch.Tensor`, optional
        # shape: (h,)
    layer_norm_eps : `float`
    dropout : `float`
        Dropout probability on `C`, applied only when `training`.
    training : `bool`

    # Returns

    `torch.Tensor`
        `G_S`. # shape: (*, L_S, 2 * h)
    """
    # shape: (*, L_S, h)
    c = F.dropout(F.linear(c_prime, weight_c, bias_c), p=dropout, training=training)
    normed = F.layer_norm(
        b_s + c, (b_s.size(-1),), layer_norm_weight, layer_norm_bias, layer_norm_eps
    )
    # shape: (*, L_S, 2 * h)
    return torch.cat([b_s, normed.to(b_s.dtype)], dim=-1)


def pad_to(x: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    """Right-pad dimension `dim` of `x` with zeros to `length` (no copy when already there)."""
    extra = length - x.size(dim)
    if extra == 0:
        return x
    shape = list(x.shape)
    shape[dim] = extra
    return torch.cat([x, x.new_zeros(shape)], dim=dim)


# ---------------------------------------------------------------------------------------------
# The module
# ---------------------------------------------------------------------------------------------

# `adaptive_sides`: which sides of eq. 10 are smoothed by the intra maps ("both" = paper-exact).
ADAPTIVE_SIDES = ("both", "pivot", "none")


class MaaSteps(NamedTuple):
    """
    Every step's result of one MAA call over `Q` queries, `N` sequences of length `L`
    (`MaaQueries.flat`) and `k'` slots per query (1 when every slot of every query is the
    same sequence, which is then computed once; `k` otherwise):

    * `intra` `A_X` of every sequence, # shape: (N, L, L)
    * `p_s`, `p_m`, `scale` the inter features (`inter_features`), # shape: (N, L, d)
    * `a_hat` `Â_SM` of every query and slot, # shape: (Q, k', L, L)
    * `attended` `C'_M`, # shape: (Q, k', L, h)
    * `g` `G_S`, # shape: (Q, L, 2 * h)
    """

    intra: torch.Tensor
    p_s: torch.Tensor
    p_m: torch.Tensor
    scale: float
    a_hat: torch.Tensor
    attended: torch.Tensor
    g: torch.Tensor


class MaaMaps(NamedTuple):
    """
    Intermediate maps of `MultilingualAdaptiveAttention.attention_maps` (for tests and
    inspection). With `L_M` the slot length (the common length of the pivot and parallels):

    * `a_s` `A_S`, # shape: (batch, L_S, L_S)
    * `a_m` `A_M`, # shape: (batch, k, L_M, L_M)
    * `a_sm` `A_SM`, # shape: (batch, k, L_S, L_M)
    * `a_hat` `Â_SM`, # shape: (batch, k, L_S, L_M)
    * `attended` `C'_M`, # shape: (batch, k, L_S, h)
    * `b_m` the slot inputs after self-transposition, # shape: (batch, k, L_M, h)
    * `mask_m` their mask, # shape: (batch, k, L_M)

    Without parallels (self-transposition in every slot) the slot is computed once and
    repeated `k` times without a copy.
    """

    a_s: torch.Tensor
    a_m: torch.Tensor
    a_sm: torch.Tensor
    a_hat: torch.Tensor
    attended: torch.Tensor
    b_m: torch.Tensor
    mask_m: torch.Tensor


class MultilingualAdaptiveAttention(torch.nn.Module, Registrable):
    """
    Multilingual adaptive attention (XLTT eq. 5-17): the pivot `B_S` attends to each of `k`
    parallel slots through intra, inter and adaptive attention; the `k` attended
    representations are concatenated, fused by a linear layer with a residual LayerNorm, and
    returned next to `B_S`: `G_S = [B_S ; LayerNorm(B_S + C' W_C + b_C)]`.

    A slot without a real translation (`slot_mask` False, all its positions padded, or no
    `parallels` at all) is a self-transposition: the pivot attends to itself in that slot.

    Registered as a `MultilingualAdaptiveAttention` with name "default".

    # Parameters

    input_dim : `int`
        `h`, the encoder's hidden size.
    num_parallel : `int`
        `k`, the number of parallel slots.
    num_heads : `int`, optional (default = `1`)
        1: eq. 8, no projections. More: per-head linear projections of S and M (shared by all
        slots) to `h / num_heads` dimensions each, per-head scores averaged. Measured on
        multilingual-e5-small's dev split (`adaptive_sides="none"`, `score_scale` 20, 4 heads):
        the trained slot attention is uniform again (entropy 0.99) and translations in the
        slots change nothing, so 1 is the recommended value (benchmarks/RESULTS.md).
    dropout : `float`, optional (default = `0.0`)
        Dropout on the fused `C` before the residual LayerNorm.
    fusion_init_std : `float`, optional (default = `0.0`)
        Standard deviation of the normal init of `W_C`; `b_C` starts at zero. With 0, at
        initialisation `G_S = [B_S ; LayerNorm(B_S)]` (design README section 9).
    adaptive_sides : `str`, optional (default = `"both"`)
        Which sides of eq. 10 the intra maps smooth before the slot attention's softmax:
        `"both"`, `Â_SM = τ · A_S A_SM A_M^T` (paper-exact, eq. 10); `"pivot"`,
        `Â_SM = τ · A_S A_SM` (the slot side read un-averaged: each pivot position's
        self-attended context scores the slot's own tokens); `"none"`, `Â_SM = τ · A_SM`
        (plain scaled dot-product cross attention, eq. 8 with no intra maps). Issue 30: with
        `"both"` the doubly averaged scores have almost no range and the trained slot
        attention is uniform on multilingual-e5-small.
    score_scale : `float`, optional (default = `1.0`)
        `τ`, the initial multiplier of `Â_SM` before eq. 12's softmax (an inverse
        temperature; 1 = the paper's `1/sqrt(h)` scaling alone).
    learn_score_scale : `bool`, optional (default = `False`)
        Learn `τ` (as `log τ`, a scalar parameter initialised at `log(score_scale)`); `False`
        keeps it fixed and adds no parameter, so archives trained before these options load
        unchanged. The paper-exact layer is `adaptive_sides="both"`, `score_scale=1`,
        `learn_score_scale=False` (the defaults).

    Which option: on the XQuAD development articles (multilingual-e5-small, protocol
    `e5-dev-maa`) only `adaptive_sides="none"` (`score_scale=20`, learned) changes its answers
    when the slots hold the item's translations instead of the item itself (+2.0 F1 on the
    unseen languages); `"pivot"` and `"both"` (even at a temperature that makes their slot
    attention sharp) answer the same either way, because the pivot side averaged by `A_S`
    gives every pivot position nearly the same query. It is the paper configs' `XLTT_MAA=cross`;
    the defaults stay paper-exact so that archives saved before these options load unchanged
    (docs/model.md, "Which option").
    """

    default_implementation = "default"

    def __init__(
        self,
        input_dim: int,
        num_parallel: int,
        num_heads: int = 1,
        dropout: float = 0.0,
        fusion_init_std: float = 0.0,
        adaptive_sides: str = "both",
        score_scale: float = 1.0,
        learn_score_scale: bool = False,
    ) -> None:
        super().__init__()
        if adaptive_sides not in ADAPTIVE_SIDES:
            raise ValueError(
                f"MultilingualAdaptiveAttention: adaptive_sides={adaptive_sides!r}, expected "
                f"one of {', '.join(repr(side) for side in ADAPTIVE_SIDES)}"
            )
        if not score_scale > 0:
            raise ValueError(f"MultilingualAdaptiveAttention: score_scale={score_scale} <= 0")
        if num_parallel < 1:
            raise ValueError(f"MultilingualAdaptiveAttention: num_parallel={num_parallel} < 1")
        if num_heads < 1 or input_dim % num_heads != 0:
            raise ValueError(
                f"MultilingualAdaptiveAttention: num_heads={num_heads} must be >= 1 and divide "
                f"input_dim={input_dim}"
            )
        self.input_dim = input_dim
        self.num_parallel = num_parallel
        self.num_heads = num_heads
        self.dropout = dropout
        self.adaptive_sides = adaptive_sides
        self.score_scale = float(score_scale)
        self.log_score_scale: torch.nn.Parameter | None = None
        if learn_score_scale:
            self.log_score_scale = torch.nn.Parameter(torch.tensor(math.log(score_scale)))
        self.pivot_projection: torch.nn.Linear | None = None
        self.parallel_projection: torch.nn.Linear | None = None
        if num_heads > 1:
            self.pivot_projection = torch.nn.Linear(input_dim, input_dim)
            self.parallel_projection = torch.nn.Linear(input_dim, input_dim)
        self.fusion = torch.nn.Linear(num_parallel * input_dim, input_dim)
        self.layer_norm = torch.nn.LayerNorm(input_dim)
        torch.nn.init.normal_(self.fusion.weight, mean=0.0, std=fusion_init_std)
        torch.nn.init.zeros_(self.fusion.bias)

    def get_input_dim(self) -> int:
        return self.input_dim

    def get_output_dim(self) -> int:
        return 2 * self.input_dim

    def steps(self, queries: MaaQueries) -> MaaSteps:
        """
        Eq. 5-17 for every query, step by step (see the module docstring); the intra maps and
        inter features of each sequence are computed once for all the queries using it.
        """
        sequences, mask, pivot_ids, slot_ids = queries.flat()
        hidden = sequences.size(-1)
        if hidden != self.input_dim:
            raise ValueError(
                f"MultilingualAdaptiveAttention: hidden size {hidden} != input_dim {self.input_dim}"
            )
        if slot_ids.size(-1) != self.num_parallel:
            raise ValueError(
                f"MultilingualAdaptiveAttention: {slot_ids.size(-1)} slots per query, expected "
                f"{self.num_parallel}"
            )
        if bool((slot_ids == slot_ids[:, :1]).all()):
            # Every slot of every query is the same sequence (inference with
            # self-transposition): compute it once, repeat it k times in step 5.
            slot_ids = slot_ids[:, :1]
        # 1. intra maps. shape: (N, L, L)
        intra = intra_attention(sequences, mask)
        # 2. inter features. shape: (N, L, d), twice
        p_s, p_m, scale = self._inter_features(sequences)
        # 3. adaptive map of every query and slot, from each sequence's Z_X = A_X P_X (or
        # Z_X = P_X on the sides that `adaptive_sides` leaves un-averaged), times τ.
        # shape: (N, L, d), twice; (Q, k', L, L)
        z_s = self_attended(intra, p_s) if self.adaptive_sides != "none" else p_s
        if self.adaptive_sides != "both":
            z_m = p_m
        else:
            z_m = z_s if p_m is p_s else self_attended(intra, p_m)
        score_scale = self.current_score_scale()
        if z_m is z_s:
            # One feature map for both roles: each unordered pair of sequences once.
            a_hat = shared_adaptive_attention(z_s, pivot_ids, slot_ids, scale * score_scale)
        else:
            a_hat = adaptive_attention(
                z_s[pivot_ids].unsqueeze(1), z_m[slot_ids], scale * score_scale
            )
        # 4. attended slots. shape: (Q, k', L, h)
        attended = attend(a_hat, sequences[slot_ids], mask[slot_ids], mask[pivot_ids].unsqueeze(1))
        # 5. concatenation. shape: (Q, L, k * h)
        c_prime = concat_slots(attended.expand(-1, self.num_parallel, -1, -1))
        # 6. fusion. shape: (Q, L, 2 * h)
        g = fuse(
            sequences[pivot_ids],
            c_prime,
            self.fusion.weight,
            self.fusion.bias,
            self.layer_norm.weight,
            self.layer_norm.bias,
            self.layer_norm.eps,
            self.dropout,
            self.training,
        )
        return MaaSteps(intra, p_s, p_m, scale, a_hat, attended, g)

    def current_score_scale(self) -> float | torch.Tensor:
        """`τ`: the fixed `score_scale`, or `exp(log τ)` (a 0-dim tensor) when learned."""
        if self.log_score_scale is None:
            return self.score_scale
        return self.log_score_scale.exp()

    def fuse_queries(self, queries: MaaQueries) -> torch.Tensor:
        """
        `G` (eq. 5-17) of every query. XLTT's training step is one call: the pivot S attending
        to its translations, and each translation R attending to S and the other
        translations (`MaaQueries.with_transpositions`).

        # Returns

        `torch.Tensor`
            # shape: (Q, L, 2 * h)
        """
        return self.steps(queries).g

    def forward(
        self,
        pivot: torch.Tensor,
        pivot_mask: torch.Tensor,
        parallels: torch.Tensor | None = None,
        parallel_mask: torch.Tensor | None = None,
        slot_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """
        # Parameters

        pivot : `torch.Tensor`
            `B_S`. # shape: (batch, L_S, h)
        pivot_mask : `torch.Tensor`
            True at real positions. # shape: (batch, L_S), bool
        parallels : `torch.Tensor`, optional
            `B_M` of each slot; `None` means self-transposition in every slot.
            # shape: (batch, k, L_P, h)
        parallel_mask : `torch.Tensor`, optional (default = all True)
            # shape: (batch, k, L_P), bool
        slot_mask : `torch.Tensor`, optional (default = all True)
            True where the slot holds a real translation. # shape: (batch, k), bool

        # Returns

        `torch.Tensor`
            `G_S`. # shape: (batch, L_S, 2 * h)
        """
        queries = self._queries(pivot, pivot_mask, parallels, parallel_mask, slot_mask)
        return self.fuse_queries(queries)[:, : pivot.size(1)]

    def attention_maps(
        self,
        pivot: torch.Tensor,
        pivot_mask: torch.Tensor,
        parallels: torch.Tensor | None = None,
        parallel_mask: torch.Tensor | None = None,
        slot_mask: torch.Tensor | None = None,
    ) -> MaaMaps:
        """
        The intermediate maps of eq. 5-13 for every slot (the same `steps` as `forward`);
        arguments as in `forward`.
        """
        queries = self._queries(pivot, pivot_mask, parallels, parallel_mask, slot_mask)
        steps = self.steps(queries)
        sequences, mask, pivot_ids, slot_ids = queries.flat()
        batch, pivot_len, k = pivot.size(0), pivot.size(1), self.num_parallel
        if steps.a_hat.size(1) == 1:
            slot_ids = slot_ids[:, :1]
        # shape: (batch, k', L, L), (batch, k', L, d)
        a_m, p_m = steps.intra[slot_ids], steps.p_m[slot_ids]
        mask_m = mask[slot_ids]
        a_sm = inter_scores(
            steps.p_s[pivot_ids].unsqueeze(1),
            p_m,
            steps.scale,
            mask[pivot_ids].unsqueeze(1),
            mask_m,
        )
        return MaaMaps(
            a_s=steps.intra[pivot_ids][:, :pivot_len, :pivot_len],
            a_m=a_m.expand(batch, k, -1, -1),
            a_sm=a_sm[:, :, :pivot_len].expand(batch, k, -1, -1),
            a_hat=steps.a_hat[:, :, :pivot_len].expand(batch, k, -1, -1),
            attended=steps.attended[:, :, :pivot_len].expand(batch, k, -1, -1),
            b_m=sequences[slot_ids].expand(batch, k, -1, -1),
            mask_m=mask_m.expand(batch, k, -1),
        )

    def _inter_features(self, sequences: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        if self.pivot_projection is None or self.parallel_projection is None:
            return inter_features(sequences)
        return inter_features(
            sequences,
            self.num_heads,
            self.pivot_projection.weight,
            self.pivot_projection.bias,
            self.parallel_projection.weight,
            self.parallel_projection.bias,
        )

    def _queries(
        self,
        pivot: torch.Tensor,
        pivot_mask: torch.Tensor,
        parallels: torch.Tensor | None,
        parallel_mask: torch.Tensor | None,
        slot_mask: torch.Tensor | None,
    ) -> MaaQueries:
        """
        The pivot (sequence 0) and parallels (1..k) of each row stacked at their common length;
        slot `j` is sequence `j + 1`, or the pivot where it holds no real translation (
        `slot_mask` False or no real position).
        """
        batch, pivot_len, hidden = pivot.shape
        if hidden != self.input_dim:
            raise ValueError(
                f"MultilingualAdaptiveAttention: pivot hidden size {hidden} != input_dim "
                f"{self.input_dim}"
            )
        pivot_mask = pivot_mask.bool()
        k = self.num_parallel
        if parallels is None:
            slots = pivot_mask.new_zeros((batch, k), dtype=torch.long)
            return MaaQueries.of_pivots(pivot.unsqueeze(1), pivot_mask.unsqueeze(1), slots)
        expected = (batch, k, parallels.size(2), self.input_dim)
        if tuple(parallels.shape) != expected:
            raise ValueError(
                f"MultilingualAdaptiveAttention: parallels have shape "
                f"{tuple(parallels.shape)}, expected {expected} (batch, k, L_P, h)"
            )
        if parallel_mask is None:
            parallel_mask = parallels.new_ones(parallels.shape[:3], dtype=torch.bool)
        length = max(pivot_len, parallels.size(2))
        # shape: (batch, 1 + k, L, h), (batch, 1 + k, L)
        encoded = torch.cat(
            [pad_to(pivot, length, 1).unsqueeze(1), pad_to(parallels, length, 2)], dim=1
        )
        mask = torch.cat(
            [pad_to(pivot_mask, length, 1).unsqueeze(1), pad_to(parallel_mask.bool(), length, 2)],
            dim=1,
        )
        real = parallel_mask.bool().any(dim=-1)
        if slot_mask is not None:
            real = real & slot_mask.bool()
        # shape: (batch, k)
        slots = torch.where(real, torch.arange(1, k + 1, device=pivot.device), 0)
        return MaaQueries.of_pivots(encoded, mask, slots)


MultilingualAdaptiveAttention.register("default")(MultilingualAdaptiveAttention)
