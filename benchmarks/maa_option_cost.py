"""
Train-step cost of each MAA option relative to the paper-exact MAA (issue 30): seconds per
training step (forward + backward + AdamW step) of full XLTT (2 slots, auxiliary loss,
gradient checkpointing as in the quality benchmark) on multilingual-e5-small and real XQuAD
en/de/es windows, and seconds of the MAA layer alone (forward + backward of
`fuse_queries` on XLTT's training queries) — both measured round-robin in one run, so
that every option sees the same machine state. Prints the median of `--rounds` rounds and
each option's ratio to `paper`.

    .venv/bin/python benchmarks/maa_option_cost.py [--length 192] [--batch 8] [--rounds 3]
"""

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import torch
from allennlp.common import Lazy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import batch_tensors
from e5_step_time import DEFAULT_MODEL, long_windows

OPTIONS: dict[str, dict[str, Any]] = {
    "paper": {},
    "none-tau20-learned": {"adaptive_sides": "none", "score_scale": 20.0},
    "pivot-tau50-learned": {"adaptive_sides": "pivot", "score_scale": 50.0},
    "both-tau2000-learned": {"adaptive_sides": "both", "score_scale": 2000.0},
}


def build(encoder: str, option: dict[str, Any]):
    from allennlp.data import Vocabulary

    from xltt_plugin.models.xltt import XlttModel
    from xltt_plugin.modules.maa import MultilingualAdaptiveAttention

    torch.manual_seed(0)
    learned = {"learn_score_scale": True} if option else {}
    maa = Lazy(
        MultilingualAdaptiveAttention, constructor_extras={"num_heads": 1} | option | learned
    )
    model = XlttModel(
        Vocabulary(),
        encoder,
        maa=maa,
        num_parallel=2,
        aux_loss_weight=1.0,
        transformer_kwargs={"gradient_checkpointing": True},
    )
    model._embedder.transformer_model.embeddings.word_embeddings.requires_grad_(False)
    return model


def step_seconds(model, optimizer, batch: dict) -> float:
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    model(**batch)["loss"].backward()
    optimizer.step()
    return time.perf_counter() - start


def maa_seconds(model, encoded: torch.Tensor, mask: torch.Tensor, repeats: int) -> float:
    from xltt_plugin.modules.maa import MaaQueries

    maa = model._maa
    batch, k = encoded.size(0), encoded.size(1) - 1
    slots = torch.arange(1, k + 1).expand(batch, k)
    rows = torch.arange(batch).repeat_interleave(k)
    translations = torch.arange(k).repeat(batch)
    usable = torch.ones(batch, k + 1, dtype=torch.bool)
    start = time.perf_counter()
    for _ in range(repeats):
        leaf = encoded.detach().requires_grad_(True)
        queries = MaaQueries.of_pivots(leaf, mask, slots)
        g = maa.fuse_queries(queries.with_transpositions(rows, translations, usable))
        g.sum().backward()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--length", type=int, default=192)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--maa-repeats", type=int, default=5)
    args = parser.parse_args()
    instances = long_windows(args.model, args.batch, args.length)
    batch = batch_tensors(instances, pad_to=args.length)
    batch.pop("metadata", None)
    models = {name: build(args.model, option) for name, option in OPTIONS.items()}
    optimizers = {
        name: torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-5)
        for name, m in models.items()
    }
    with torch.no_grad():
        stack = models["paper"]._encode_stacked(
            batch["question_with_context"], batch["parallel_question_with_context"]
        )
    # shape: (batch, k + 1, L, h), (batch, k + 1, L)
    encoded, mask = stack.encoded, stack.mask
    for model in models.values():
        model.train()
        step_seconds(model, optimizers[next(iter(optimizers))], batch)  # warm-up
    steps: dict[str, list[float]] = {name: [] for name in models}
    layer: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            layer[name].append(maa_seconds(model, encoded, mask, args.maa_repeats))
            steps[name].append(step_seconds(model, optimizers[name], batch))
    base_step = statistics.median(steps["paper"])
    base_layer = statistics.median(layer["paper"])
    for name in models:
        row = {
            "option": name,
            "train_step_seconds": round(statistics.median(steps[name]), 3),
            "train_step_ratio_to_paper": round(statistics.median(steps[name]) / base_step, 3),
            "maa_layer_seconds": round(statistics.median(layer[name]), 4),
            "maa_layer_ratio_to_paper": round(statistics.median(layer[name]) / base_layer, 3),
            "maa_share_of_step": round(statistics.median(layer[name]) / base_step, 4),
        }
        print(json.dumps(row), flush=True)
    print(
        json.dumps(
            {
                "length": args.length,
                "batch": args.batch,
                "rounds": args.rounds,
                "torch_threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
