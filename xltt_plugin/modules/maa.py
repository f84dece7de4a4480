"""
Multilingual adaptive attention (MAA), XLTT eq. 5-17.

The math lives in pure functions (tensors in, tensors out) that accept any number of leading
batch dimensions, written `*` in the shape comments; the module
`MultilingualAdaptiveAttention` wires them together for one pivot and `k` parallel slots.

Reading of the paper taken here (see the design README, section 3):

* intra (5-7): `A_X = softmax(B_X B_X^T / sqrt(h))`, an `L_X x L_X` attention map;
* inter (8-9): `A_SM = B_S B_M^T / sqrt(h)`, raw scores; the multi-head variant projects S and
  M per head and averages the per-head scores;
* adaptive (10-11): `Â_SM = A_S · A_SM · A_M^T`, which equals the scaled dot product of the
  self-attended representations `(A_S B_S)(A_M B_M)^T / sqrt(h)`;
* attended (12-13): `C'_M = softmax(Â_SM) B_M`, the softmax over M's real positions;
* multilingual (14-15): `C' = [C'_M ; C'_N ; ...]`;
* fuse (16-17): `C = C' W_C + b_C`, `G_S = [B_S ; LayerNorm(B_S + C)]`.
"""

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from allennlp.common import Registrable


def _masked_softmax(scores: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
    """
    Softmax over the last dimension restricted to the keys where `key_mask` is True. Masked
    keys get exactly zero weight; a row whose keys are all masked is all zeros.

    # Parameters

    scores : `torch.Tensor`
        # shape: (*, L_q, L_k)
    key_mask : `torch.Tensor`
        # shape: (*, L_k), bool

    # Returns

    `torch.Tensor`
        # shape: (*, L_q, L_k)
    """
    # shape: (*, 1, L_k)
    keys = key_mask.unsqueeze(-2)
    filled = scores.masked_fill(~keys, torch.finfo(scores.dtype).min)
    return torch.softmax(filled, dim=-1) * keys.to(scores.dtype)


def intra_attention(b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """
    Intra (self) attention of one sequence, eq. 5-7: `A_X = softmax(B_X B_X^T / sqrt(h))`,
    with padded keys masked out and padded query rows set to zero.

    # Parameters

    b : `torch.Tensor`
        The encoded sequence `B_X`. # shape: (*, L, h)
    mask : `torch.Tensor`
        True at real (non-padded) positions. # shape: (*, L), bool

    # Returns

    `torch.Tensor`
        `A_X`, each real row a distribution over the real positions.
        # shape: (*, L, L)
    """
    mask = mask.bool()
    # shape: (*, L, L)
    scores = torch.matmul(b, b.transpose(-1, -2)) / math.sqrt(b.size(-1))
    probs = _masked_softmax(scores, mask)
    return probs * mask.unsqueeze(-1).to(probs.dtype)


def _zero_padded_scores(
    scores: torch.Tensor, mask_s: torch.Tensor | None, mask_m: torch.Tensor | None
) -> torch.Tensor:
    # scores: (*, L_S, L_M); mask_s: (*, L_S); mask_m: (*, L_M)
    if mask_s is not None:
        scores = scores * mask_s.bool().unsqueeze(-1).to(scores.dtype)
    if mask_m is not None:
        scores = scores * mask_m.bool().unsqueeze(-2).to(scores.dtype)
    return scores


def inter_attention(
    b_s: torch.Tensor,
    b_m: torch.Tensor,
    mask_s: torch.Tensor | None = None,
    mask_m: torch.Tensor | None = None,
) -> torch.Tensor:
    """
    Inter attention between the pivot S and a parallel M, eq. 8: raw scaled scores
    `A_SM = B_S B_M^T / sqrt(h)` (no softmax). Entries in a padded row or column are zero.

    # Parameters

    b_s : `torch.Tensor`
        # shape: (*, L_S, h)
    b_m : `torch.Tensor`
        # shape: (*, L_M, h)
    mask_s : `torch.Tensor`, optional
        # shape: (*, L_S), bool
    mask_m : `torch.Tensor`, optional
        # shape: (*, L_M), bool

    # Returns

    `torch.Tensor`
        `A_SM`. # shape: (*, L_S, L_M)
    """
    # shape: (*, L_S, L_M)
    scores = torch.matmul(b_s, b_m.transpose(-1, -2)) / math.sqrt(b_s.size(-1))
    return _zero_padded_scores(scores, mask_s, mask_m)


def multi_head_inter_attention(
    b_s: torch.Tensor,
    b_m: torch.Tensor,
    num_heads: int,
    weight_s: torch.Tensor,
    weight_m: torch.Tensor,
    bias_s: torch.Tensor | None = None,
    bias_m: torch.Tensor | None = None,
    mask_s: torch.Tensor | None = None,
    mask_m: torch.Tensor | None = None,
) -> torch.Tensor:
    """
    Multi-head inter attention, eq. 8-9 with heads: head `n` projects S and M with its own
    linear maps to `d = out_dim / num_heads` dimensions, scores them as
    `(B_S W_S^n + b_S^n)(B_M W_M^n + b_M^n)^T / sqrt(d)`, and the result is the mean of the
    per-head scores. With one head and identity projections this is eq. 8.

    The mean over heads of per-head dot products is one dot product of the concatenated
    head features divided by `num_heads`, so no per-head `L_S x L_M` tensor is built.

    # Parameters

    b_s : `torch.Tensor`
        # shape: (*, L_S, h)
    b_m : `torch.Tensor`
        # shape: (*, L_M, h)
    num_heads : `int`
        Must divide `out_dim`.
    weight_s : `torch.Tensor`
        Pivot projections of all heads, stacked head after head (`torch.nn.Linear` layout;
        head `n` is rows `n*d:(n+1)*d`). # shape: (out_dim, h)
    weight_m : `torch.Tensor`
        Parallel projections, same layout. # shape: (out_dim, h)
    bias_s : `torch.Tensor`, optional
        # shape: (out_dim,)
    bias_m : `torch.Tensor`, optional
        # shape: (out_dim,)
    mask_s : `torch.Tensor`, optional
        # shape: (*, L_S), bool
    mask_m : `torch.Tensor`, optional
        # shape: (*, L_M), bool

    # Returns

    `torch.Tensor`
        `A_SM` averaged over heads. # shape: (*, L_S, L_M)
    """
    out_dim = weight_s.size(0)
    if out_dim % num_heads != 0 or weight_m.size(0) != out_dim:
        raise ValueError(
            f"multi_head_inter_attention: projection sizes {tuple(weight_s.shape)} and "
            f"{tuple(weight_m.shape)} do not split into {num_heads} equal heads"
        )
    head_dim = out_dim // num_heads
    # shape: (*, L_S, out_dim)
    projected_s = F.linear(b_s, weight_s, bias_s)
    # shape: (*, L_M, out_dim)
    projected_m = F.linear(b_m, weight_m, bias_m)
    # shape: (*, L_S, L_M)
    scores = torch.matmul(projected_s, projected_m.transpose(-1, -2)) / (
        num_heads * math.sqrt(head_dim)
    )
    return _zero_padded_scores(scores, mask_s, mask_m)


def adaptive_attention(a_s: torch.Tensor, a_sm: torch.Tensor, a_m: torch.Tensor) -> torch.Tensor:
    """
    Adaptive attention, eq. 10-11: `Â_SM = A_S · A_SM · A_M^T`, reading `A_X` as the
    `L_X x L_X` intra-attention map (the only reading under which eq. 10 composes). Entry
    `(i, j)` is the inter score between the self-attended contexts of S's position `i` and
    M's position `j`.

    # Parameters

    a_s : `torch.Tensor`
        # shape: (*, L_S, L_S)
    a_sm : `torch.Tensor`
        # shape: (*, L_S, L_M)
    a_m : `torch.Tensor`
        # shape: (*, L_M, L_M)

    # Returns

    `torch.Tensor`
        `Â_SM`. # shape: (*, L_S, L_M)
    """
    # shape: (*, L_S, L_M)
    return torch.matmul(torch.matmul(a_s, a_sm), a_m.transpose(-1, -2))


def attend(
    a_hat: torch.Tensor,
    b_m: torch.Tensor,
    mask_m: torch.Tensor,
    mask_s: torch.Tensor | None = None,
) -> torch.Tensor:
    """
    Attended representation, eq. 12-13: `C'_M = softmax(Â_SM) B_M`, the softmax taken over M's
    real positions. Rows at padded pivot positions are zero when `mask_s` is given.

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
    weights = _masked_softmax(a_hat, mask_m.bool())
    if mask_s is not None:
        weights = weights * mask_s.bool().unsqueeze(-1).to(weights.dtype)
    # shape: (*, L_S, h)
    return torch.matmul(weights, b_m)


def concat_slots(attended: torch.Tensor) -> torch.Tensor:
    """
    Multilingual attention, eq. 14-15: concatenate the attended representations of the `k`
    slots along the feature dimension, slot 0 first: `C' = [C'_1 ; C'_2 ; ... ; C'_k]`.

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
    Fusion, eq. 16-17: `C = C' W_C + b_C` and `G_S = [B_S ; LayerNorm(B_S + dropout(C))]`.

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
    return torch.cat([b_s, normed], dim=-1)


def pad_to(x: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    """Right-pad dimension `dim` of `x` with zeros to `length` (no copy when already there)."""
    extra = length - x.size(dim)
    if extra == 0:
        return x
    shape = list(x.shape)
    shape[dim] = extra
    return torch.cat([x, x.new_zeros(shape)], dim=dim)


def substitute_self_transposition(
    pivot: torch.Tensor,
    pivot_mask: torch.Tensor,
    parallels: torch.Tensor,
    parallel_mask: torch.Tensor,
    slot_mask: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Fill every slot without a real translation with the pivot itself (self-transposition),
    row by row. A slot is real when `slot_mask` is True and it has at least one real position.
    Pivot and parallels are zero-padded to a common length first.

    # Parameters

    pivot : `torch.Tensor`
        # shape: (batch, L_S, h)
    pivot_mask : `torch.Tensor`
        # shape: (batch, L_S), bool
    parallels : `torch.Tensor`
        # shape: (batch, k, L_P, h)
    parallel_mask : `torch.Tensor`
        # shape: (batch, k, L_P), bool
    slot_mask : `torch.Tensor`
        # shape: (batch, k), bool

    # Returns

    `tuple[torch.Tensor, torch.Tensor]`
        `B_M` for every slot, # shape: (batch, k, max(L_S, L_P), h),
        and its mask, # shape: (batch, k, max(L_S, L_P)).
    """
    length = max(pivot.size(1), parallels.size(2))
    # shape: (batch, k)
    real = slot_mask.bool() & parallel_mask.bool().any(dim=-1)
    # shape: (batch, 1, L, h)
    self_b = pad_to(pivot, length, 1).unsqueeze(1)
    # shape: (batch, 1, L)
    self_mask = pad_to(pivot_mask.bool(), length, 1).unsqueeze(1)
    # shape: (batch, k, L, h)
    b_m = torch.where(real[:, :, None, None], pad_to(parallels, length, 2), self_b)
    # shape: (batch, k, L)
    mask_m = torch.where(real[:, :, None], pad_to(parallel_mask.bool(), length, 2), self_mask)
    return b_m, mask_m


def masked_scores(
    query: torch.Tensor, key: torch.Tensor, key_mask: torch.Tensor, scale: float
) -> torch.Tensor:
    """
    `scale · query keyᵀ` with the columns of padded keys set to the dtype's minimum, so that a
    softmax over the last dimension gives them exactly zero weight. One fused `baddbmm` (the
    mask enters as its additive term): no separate masking or scaling pass over the scores.

    # Parameters

    query : `torch.Tensor`
        # shape: (*, L_q, d)
    key : `torch.Tensor`
        # shape: (*, L_k, d)
    key_mask : `torch.Tensor`
        # shape: (*, L_k), bool
    scale : `float`

    # Returns

    `torch.Tensor`
        # shape: (*, L_q, L_k)
    """
    lead = query.shape[:-2]
    length_q, dim = query.shape[-2:]
    length_k = key.size(-2)
    # shape: (N, 1, L_k)
    bias = torch.zeros(key_mask.shape, dtype=query.dtype, device=query.device)
    bias = bias.masked_fill(~key_mask.bool(), torch.finfo(query.dtype).min).reshape(-1, 1, length_k)
    scores = torch.baddbmm(
        bias,
        query.reshape(-1, length_q, dim),
        key.reshape(-1, length_k, dim).transpose(1, 2),
        alpha=scale,
    )
    return scores.view(*lead, length_q, length_k)


def self_attended(b: torch.Tensor, mask: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """
    `A_X · V` for the intra attention `A_X` of eq. 5-7 (padded keys get zero weight). Eq. 10's
    `Â_SM = A_S · A_SM · A_M^T` with `A_SM = P_S P_M^T / c` (eq. 8-9, `P` the sequences or
    their projections) equals `(A_S P_S)(A_M P_M)^T / c`, so the adaptive scores only need
    `A_X · P_X` per sequence: `L × L × d` work instead of two `L × L × L` products per pair.

    Rows at padded query positions are NOT zeroed here (unlike `intra_attention`): they never
    reach the output, as padded pivot rows are zeroed after attending and padded slot
    positions are masked keys.

    # Parameters

    b : `torch.Tensor`
        `B_X`. # shape: (*, L, h)
    mask : `torch.Tensor`
        # shape: (*, L), bool
    values : `torch.Tensor`
        `P_X`. # shape: (*, L, d)

    # Returns

    `torch.Tensor`
        # shape: (*, L, d)
    """
    probs = torch.softmax(masked_scores(b, b, mask, 1.0 / math.sqrt(b.size(-1))), dim=-1)
    return torch.matmul(probs, values)


def attend_shared_pairs(
    context: torch.Tensor,
    mask: torch.Tensor,
    pivot_ids: torch.Tensor,
    slot_ids: torch.Tensor,
    values: torch.Tensor,
    value_ids: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    """
    Eq. 10-13 for one-head MAA over many (pivot, slot) pairs of sequences, computing each
    unordered pair's adaptive scores once: with `Z_X = A_X B_X`, `Â` for X attending to Y is
    `Z_X Z_Y^T · scale` and for Y attending to X its transpose, so the shared block is
    softmaxed over its columns for one direction and over its rows for the other.

    # Parameters

    context : `torch.Tensor`
        `Z_X = A_X B_X` per sequence. # shape: (N, L, h)
    mask : `torch.Tensor`
        # shape: (N, L), bool
    pivot_ids : `torch.Tensor`
        # shape: (Q,), indices into the N sequences
    slot_ids : `torch.Tensor`
        # shape: (Q, k), indices into the N sequences
    values : `torch.Tensor`
        What each slot's attention weights average (`B_M`, or `B_M` projected).
        # shape: (V, L, d)
    value_ids : `torch.Tensor`
        The row of `values` of each query's slot. # shape: (Q, k)
    scale : `float`

    # Returns

    `torch.Tensor`
        `softmax(Â) · values` of every query and slot (padded pivot rows NOT zeroed).
        # shape: (Q, k, L, d)
    """
    queries, slots = slot_ids.shape
    count, length, _ = context.shape
    # shape: (Q * k,)
    pivots = pivot_ids.unsqueeze(1).expand(queries, slots).reshape(-1)
    keys = slot_ids.reshape(-1)
    value_rows = value_ids.reshape(-1)
    low, high = torch.minimum(pivots, keys), torch.maximum(pivots, keys)
    pairs, which = torch.unique(low * count + high, return_inverse=True)
    # Unordered pairs' raw scores. shape: (P, L, L)
    blocks = torch.matmul(
        context.index_select(0, pairs // count),
        context.index_select(0, pairs % count).transpose(1, 2),
    )
    blocks = blocks * scale
    # shape: (N, L): additive key masks
    bias = torch.zeros(mask.shape, dtype=context.dtype, device=context.device).masked_fill(
        ~mask.bool(), torch.finfo(context.dtype).min
    )
    # The pivot is the pair's first sequence: its rows query the second sequence's columns;
    # otherwise the block's columns query its rows (softmax over rows, block read transposed).
    is_forward = pivots == low
    parts = []
    order = []
    for forward in (True, False):
        index = (is_forward if forward else ~is_forward).nonzero(as_tuple=True)[0]
        if index.numel() == 0:
            continue
        scores = blocks.index_select(0, which.index_select(0, index))
        if forward:
            keys_bias = bias.index_select(0, high.index_select(0, index)).unsqueeze(1)
            weights = torch.softmax(scores + keys_bias, dim=-1)
        else:
            keys_bias = bias.index_select(0, low.index_select(0, index)).unsqueeze(2)
            weights = torch.softmax(scores + keys_bias, dim=-2).transpose(1, 2)
        parts.append(
            torch.matmul(weights, values.index_select(0, value_rows.index_select(0, index)))
        )
        order.append(index)
    # Back to query-slot order. shape: (Q * k, L, d)
    positions = torch.cat(order)
    attended = torch.cat(parts) if len(parts) > 1 else parts[0]
    if not bool((positions == torch.arange(positions.numel(), device=positions.device)).all()):
        attended = attended.index_select(0, torch.argsort(positions))
    return attended.view(queries, slots, length, values.size(-1))


class MaaMaps(NamedTuple):
    """
    Intermediate maps of one MAA forward pass (for tests and inspection). With `k'` the
    number of slots actually computed (1 on the self-transposition-only path, expanded to `k`
    without a copy) and `L_M` the slot length:

    * `a_s` `A_S`, # shape: (batch, L_S, L_S)
    * `a_m` `A_M`, # shape: (batch, k, L_M, L_M)
    * `a_sm` `A_SM`, # shape: (batch, k, L_S, L_M)
    * `a_hat` `Â_SM`, # shape: (batch, k, L_S, L_M)
    * `attended` `C'_M`, # shape: (batch, k, L_S, h)
    * `b_m` the slot inputs after self-transposition, # shape: (batch, k, L_M, h)
    * `mask_m` their mask, # shape: (batch, k, L_M)
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
    With `parallels=None` the self slot is computed once and repeated `k` times.

    Registered as a `MultilingualAdaptiveAttention` with name "default".

    # Parameters

    input_dim : `int`
        `h`, the encoder's hidden size.
    num_parallel : `int`
        `k`, the number of parallel slots.
    num_heads : `int`, optional (default = `1`)
        1: eq. 8, no projections. More: per-head linear projections of S and M (shared by all
        slots) to `h / num_heads` dimensions each, per-head scores averaged.
    dropout : `float`, optional (default = `0.0`)
        Dropout on the fused `C` before the residual LayerNorm.
    fusion_init_std : `float`, optional (default = `0.0`)
        Standard deviation of the normal init of `W_C`; `b_C` starts at zero. With 0, at
        initialisation `G_S = [B_S ; LayerNorm(B_S)]` (design README section 9).
    """

    default_implementation = "default"

    def __init__(
        self,
        input_dim: int,
        num_parallel: int,
        num_heads: int = 1,
        dropout: float = 0.0,
        fusion_init_std: float = 0.0,
    ) -> None:
        super().__init__()
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

    def _inter(
        self,
        b_s: torch.Tensor,
        b_m: torch.Tensor,
        mask_s: torch.Tensor,
        mask_m: torch.Tensor,
    ) -> torch.Tensor:
        if self.pivot_projection is None or self.parallel_projection is None:
            return inter_attention(b_s, b_m, mask_s, mask_m)
        return multi_head_inter_attention(
            b_s,
            b_m,
            self.num_heads,
            self.pivot_projection.weight,
            self.parallel_projection.weight,
            self.pivot_projection.bias,
            self.parallel_projection.bias,
            mask_s,
            mask_m,
        )

    def attention_maps(
        self,
        pivot: torch.Tensor,
        pivot_mask: torch.Tensor,
        parallels: torch.Tensor | None = None,
        parallel_mask: torch.Tensor | None = None,
        slot_mask: torch.Tensor | None = None,
    ) -> MaaMaps:
        """
        Eq. 5-13 for every slot; arguments as in `forward`. Returns the intermediate maps.
        """
        batch, _, hidden = pivot.shape
        if hidden != self.input_dim:
            raise ValueError(
                f"MultilingualAdaptiveAttention: pivot hidden size {hidden} != input_dim "
                f"{self.input_dim}"
            )
        pivot_mask = pivot_mask.bool()
        # shape: (batch, L_S, L_S)
        a_s = intra_attention(pivot, pivot_mask)
        if parallels is not None:
            expected = (batch, self.num_parallel, parallels.size(2), self.input_dim)
            if tuple(parallels.shape) != expected:
                raise ValueError(
                    f"MultilingualAdaptiveAttention: parallels have shape "
                    f"{tuple(parallels.shape)}, expected {expected} (batch, k, L_P, h)"
                )
            if parallel_mask is None:
                parallel_mask = parallels.new_ones(parallels.shape[:3], dtype=torch.bool)
            if slot_mask is None:
                slot_mask = parallel_mask.new_ones((batch, self.num_parallel), dtype=torch.bool)
            if not bool((slot_mask.bool() & parallel_mask.bool().any(-1)).any()):
                parallels = None
        if parallels is None:
            # Inference path: one self-transposition slot, repeated (no copy) k times.
            # shape: (batch, 1, L_S, h), (batch, 1, L_S), (batch, 1, L_S, L_S)
            b_m = pivot.unsqueeze(1)
            mask_m = pivot_mask.unsqueeze(1)
            a_m = a_s.unsqueeze(1)
        else:
            assert parallel_mask is not None and slot_mask is not None
            # shape: (batch, k, L_M, h), (batch, k, L_M)
            b_m, mask_m = substitute_self_transposition(
                pivot, pivot_mask, parallels, parallel_mask, slot_mask
            )
            # shape: (batch, k, L_M, L_M)
            a_m = intra_attention(b_m, mask_m)
        # shape: (batch, 1, L_S, h), (batch, 1, L_S)
        b_s = pivot.unsqueeze(1)
        mask_s = pivot_mask.unsqueeze(1)
        # shape: (batch, k', L_S, L_M)
        a_sm = self._inter(b_s, b_m, mask_s, mask_m)
        a_hat = adaptive_attention(a_s.unsqueeze(1), a_sm, a_m)
        # shape: (batch, k', L_S, h)
        attended = attend(a_hat, b_m, mask_m, mask_s)
        k = self.num_parallel
        return MaaMaps(
            a_s=a_s,
            a_m=a_m.expand(batch, k, -1, -1),
            a_sm=a_sm.expand(batch, k, -1, -1),
            a_hat=a_hat.expand(batch, k, -1, -1),
            attended=attended.expand(batch, k, -1, -1),
            b_m=b_m.expand(batch, k, -1, -1),
            mask_m=mask_m.expand(batch, k, -1),
        )

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
        self._check_shapes(pivot, parallels)
        batch, pivot_len, _ = pivot.shape
        pivot_mask = pivot_mask.bool()
        k = self.num_parallel
        if parallels is None:
            # shape: (batch, 1, L_S, h), (batch, 1, L_S)
            encoded, mask = pivot.unsqueeze(1), pivot_mask.unsqueeze(1)
            slots = pivot_mask.new_zeros((batch, k), dtype=torch.long)
        else:
            length = max(pivot_len, parallels.size(2))
            if parallel_mask is None:
                parallel_mask = parallels.new_ones(parallels.shape[:3], dtype=torch.bool)
            # shape: (batch, 1 + k, L, h), (batch, 1 + k, L)
            encoded = torch.cat(
                [pad_to(pivot, length, 1).unsqueeze(1), pad_to(parallels, length, 2)], dim=1
            )
            mask = torch.cat(
                [
                    pad_to(pivot_mask, length, 1).unsqueeze(1),
                    pad_to(parallel_mask.bool(), length, 2),
                ],
                dim=1,
            )
            real = parallel_mask.bool().any(dim=-1)
            if slot_mask is not None:
                real = real & slot_mask.bool()
            # Slot j holds sequence j + 1, or the pivot (0) where it is no real translation.
            # shape: (batch, k)
            slots = torch.where(real, torch.arange(1, k + 1, device=pivot.device), 0)
        rows = torch.arange(batch, device=pivot.device)
        g_s = self.fuse_queries(encoded, mask, rows, torch.zeros_like(rows), slots)
        return g_s[:, :pivot_len]

    def fuse_queries(
        self,
        encoded: torch.Tensor,
        mask: torch.Tensor,
        rows: torch.Tensor,
        pivots: torch.Tensor,
        slots: torch.Tensor,
    ) -> torch.Tensor:
        """
        `G` (eq. 5-17) for several queries over per-row stacks of sequences, sharing the intra
        attention of every sequence: query `q` takes sequence `pivots[q]` of batch row
        `rows[q]` as its pivot and sequences `slots[q]` of the same row as its `k` parallel
        slots (a slot equal to the pivot is a self-transposition). XLTT's training step is
        one call: the pivot S attending to its translations, and each translation R attending
        to S and the other translations (the auxiliary loss's transposition).

        When every slot of every query is its pivot (inference with self-transposition), the
        slot is computed once and `W_C` is applied summed over the slots.

        # Parameters

        encoded : `torch.Tensor`
            # shape: (batch, n, L, h)
        mask : `torch.Tensor`
            # shape: (batch, n, L), bool
        rows, pivots : `torch.Tensor`
            # shape: (Q,), long
        slots : `torch.Tensor`
            # shape: (Q, k), long, indices into the n sequences

        # Returns

        `torch.Tensor`
            # shape: (Q, L, 2 * h)
        """
        batch, n, length, hidden = encoded.shape
        k = self.num_parallel
        if slots.size(-1) != k:
            raise ValueError(
                f"MultilingualAdaptiveAttention: {slots.size(-1)} slots per query, expected {k}"
            )
        # shape: (batch * n, L, h), (batch * n, L)
        flat = encoded.reshape(batch * n, length, hidden)
        flat_mask = mask.bool().reshape(batch * n, length)
        # shape: (Q,), (Q, k)
        pivot_ids = rows * n + pivots
        slot_ids = rows.unsqueeze(1) * n + slots
        if bool((slot_ids == pivot_ids.unsqueeze(1)).all()):
            slot_ids = pivot_ids.unsqueeze(1)
        used = torch.unique(torch.cat([pivot_ids, slot_ids.reshape(-1)]))
        # shape: (U, L, h), (U, L): the sequences some query uses
        if used.numel() == batch * n:
            used_b, used_mask = flat, flat_mask
        else:
            used_b, used_mask = flat[used], flat_mask[used]
        if self.pivot_projection is None or self.parallel_projection is None:
            values = used_b
            scale = 1.0 / math.sqrt(hidden)
        else:
            values = torch.cat(
                [self.pivot_projection(used_b), self.parallel_projection(used_b)], dim=-1
            )
            scale = 1.0 / (self.num_heads * math.sqrt(hidden // self.num_heads))
        # A_X P_X of every sequence used. shape: (U, L, d) with d = h or 2h (projections)
        context = self_attended(used_b, used_mask, values)
        # Position of each sequence in `used`. shape: (batch * n,)
        position = torch.full((batch * n,), -1, dtype=torch.long, device=encoded.device)
        position[used] = torch.arange(used.numel(), device=encoded.device)
        slot_count = slot_ids.size(1)
        # shape: (Q, L, 1)
        pivot_mask = flat_mask[pivot_ids].unsqueeze(-1).to(encoded.dtype)
        # Eq. 16's C = [C'_1; ...; C'_k] W_C^T + b_C = Σ_j softmax(Â_j) (B_σj W_j^T) + b_C,
        # W_j the j-th (h x h) block of W_C: project each (sequence, slot position) used
        # once, rather than every query's concatenated C'. shape: (k', h, h)
        weight_blocks = self.fusion.weight.view(hidden, k, hidden).transpose(0, 1)
        if slot_count == 1 and k > 1:
            # Every slot is the pivot itself: [C'; ...; C'] W_C^T = C' (Σ_j W_j)^T.
            weight_blocks = weight_blocks.sum(dim=0, keepdim=True)
        slot_position = torch.arange(slot_count, device=encoded.device).expand_as(slot_ids)
        combos, value_ids = torch.unique(slot_ids * slot_count + slot_position, return_inverse=True)
        # shape: (V, L, h)
        values = torch.matmul(
            flat[combos // slot_count], weight_blocks[combos % slot_count].transpose(1, 2)
        )
        if self.pivot_projection is None or self.parallel_projection is None:
            # One head: Â for (X attends to Y) is the transpose of Â for (Y attends to X).
            aligned = context if used.numel() == batch * n else context[position]
            # shape: (Q, k', L, h)
            per_slot = attend_shared_pairs(
                aligned, flat_mask, pivot_ids, slot_ids, values, value_ids, scale
            )
            c = per_slot.sum(dim=1) if slot_count > 1 else per_slot[:, 0]
        else:
            # shape: (Q, L, h)
            query = context[position[pivot_ids], :, :hidden]
            # All slots of a query as one key sequence. shape: (Q, k' * L, h), (Q, k' * L)
            keys = context[position[slot_ids], :, hidden:]
            keys = keys.reshape(-1, slot_count * length, hidden)
            key_mask = flat_mask[slot_ids].reshape(-1, slot_count * length)
            # Â for every slot, softmax per slot over its real positions (eq. 10-13).
            # shape: (Q, L, k', L)
            weights = torch.softmax(
                masked_scores(query, keys, key_mask, scale).view(-1, length, slot_count, length),
                dim=-1,
            )
            # shape: (Q, L, h)
            c = torch.matmul(weights[:, :, 0], values[value_ids[:, 0]])
            for slot in range(1, slot_count):
                c = c + torch.matmul(weights[:, :, slot], values[value_ids[:, slot]])
        # C'_M is zero at padded pivot rows, so C is b_C there (eq. 16-17 as in `fuse`).
        c = F.dropout(c * pivot_mask + self.fusion.bias, p=self.dropout, training=self.training)
        b_s = flat[pivot_ids]
        normed = F.layer_norm(
            b_s + c,
            (hidden,),
            self.layer_norm.weight,
            self.layer_norm.bias,
            self.layer_norm.eps,
        )
        # shape: (Q, L, 2 * h)
        return torch.cat([b_s, normed], dim=-1)

    def _check_shapes(self, pivot: torch.Tensor, parallels: torch.Tensor | None) -> None:
        batch, _, hidden = pivot.shape
        if hidden != self.input_dim:
            raise ValueError(
                f"MultilingualAdaptiveAttention: pivot hidden size {hidden} != input_dim "
                f"{self.input_dim}"
            )
        if parallels is not None:
            expected = (batch, self.num_parallel, parallels.size(2), self.input_dim)
            if tuple(parallels.shape) != expected:
                raise ValueError(
                    f"MultilingualAdaptiveAttention: parallels have shape "
                    f"{tuple(parallels.shape)}, expected {expected} (batch, k, L_P, h)"
                )


MultilingualAdaptiveAttention.register("default")(MultilingualAdaptiveAttention)
