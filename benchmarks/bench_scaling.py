"""
Scaling at XLM-R large width (h = 1024): the MAA layer's share of a training step for window
length L and k parallel languages, and how step time grows with L and k.

Per batch row, MAA's training work is one `fuse_queries` call forward + backward: the pivot
attending to its k translations, and each translation (auxiliary loss) attending to the pivot
and the other translations: k + 1 queries of k slots. The encoder's share is measured on ONE
randomly initialised XLM-R large layer (h 1024, 16 heads, FFN 4096) forward + backward on one
window of length L, multiplied by 24 layers and by the k + 1 windows of a row (encoder work is
linear in the number of windows; embeddings and the pooler are left out).
"""

import math
import statistics
from typing import Any

import torch
from bench_common import CLOCK


def _timed(fn: Any, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = CLOCK["fn"]()
        fn()
        times.append(CLOCK["fn"]() - start)
    return statistics.median(times)


def maa_step(hidden: int, length: int, k: int, repeats: int) -> float:
    from xltt_plugin.modules.maa import MaaQueries, MultilingualAdaptiveAttention

    torch.manual_seed(0)
    maa = MultilingualAdaptiveAttention(hidden, k, fusion_init_std=0.02).train()
    head = torch.nn.Linear(2 * hidden, 2)
    encoded = torch.randn(1, k + 1, length, hidden, requires_grad=True)
    masks = torch.ones(1, k + 1, length, dtype=torch.bool)
    queries = MaaQueries.of_pivots(encoded, masks, torch.arange(1, k + 1).unsqueeze(0))
    queries = queries.with_transpositions(
        torch.zeros(k, dtype=torch.long), torch.arange(k), torch.ones(1, k + 1, dtype=torch.bool)
    )

    def step() -> None:
        encoded.grad = None
        maa.zero_grad(set_to_none=True)
        logits = head(maa.fuse_queries(queries))
        logits.logsumexp(dim=1).sum().backward()

    return _timed(step, repeats)


def encoder_layer_step(hidden: int, length: int, repeats: int) -> float:
    from transformers import XLMRobertaConfig
    from transformers.models.xlm_roberta.modeling_xlm_roberta import XLMRobertaLayer

    config = XLMRobertaConfig(
        hidden_size=hidden,
        num_attention_heads=hidden // 64,
        intermediate_size=4 * hidden,
        max_position_embeddings=length + 2,
    )
    torch.manual_seed(0)
    layer = XLMRobertaLayer(config).train()
    states = torch.randn(1, length, hidden, requires_grad=True)

    def step() -> None:
        states.grad = None
        layer.zero_grad(set_to_none=True)
        layer(states)[0].sum().backward()

    return _timed(step, repeats)


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y on log x (the growth exponent)."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = statistics.mean(lx), statistics.mean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def run(
    lengths: list[int], ks: list[int], repeats: int, hidden: int = 1024, layers: int = 24
) -> dict:
    layer_time = {length: encoder_layer_step(hidden, length, repeats) for length in lengths}
    table = []
    for length in lengths:
        for k in ks:
            maa = maa_step(hidden, length, k, repeats)
            encoder = layer_time[length] * layers * (k + 1)
            table.append(
                {
                    "L": length,
                    "k": k,
                    "maa_s": round(maa, 4),
                    "encoder_s_est": round(encoder, 3),
                    "step_s_est": round(maa + encoder, 3),
                    "maa_share": round(maa / (maa + encoder), 4),
                }
            )
    growth: dict[str, Any] = {}
    if len(lengths) > 1:
        for k in ks:
            rows = [r for r in table if r["k"] == k]
            growth[f"maa_exponent_in_L_k{k}"] = round(
                _slope([r["L"] for r in rows], [r["maa_s"] for r in rows]), 2
            )
            growth[f"step_exponent_in_L_k{k}"] = round(
                _slope([r["L"] for r in rows], [r["step_s_est"] for r in rows]), 2
            )
    if len(ks) > 1:
        for length in lengths:
            rows = [r for r in table if r["L"] == length]
            growth[f"maa_exponent_in_k_L{length}"] = round(
                _slope([r["k"] for r in rows], [r["maa_s"] for r in rows]), 2
            )
    return {
        "hidden": hidden,
        "layers": layers,
        "batch_rows": 1,
        "encoder_layer_s": {str(length): round(t, 4) for length, t in layer_time.items()},
        "table": table,
        "growth": growth,
        "max_maa_share": max(r["maa_share"] for r in table),
    }
