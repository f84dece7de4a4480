"""
Where XLTT's training time goes (issue 29, item 6): seconds per training step (forward +
backward + AdamW step, word embeddings frozen as in the quality benchmark) on
multilingual-e5-small and real XQuAD en windows with their de/es windows, measured round-robin
in one run so that every variant sees the same machine state:

* `a`: the English-only system (`maa: null`, no auxiliary loss, pivot windows only, no
  gradient checkpointing), as the quality benchmark's (a) trains;
* `c`: full XLTT (pivot + 2 slots through the encoder, MAA, auxiliary loss) with gradient
  checkpointing, as the benchmark's (c) trains;
* `c-nockpt`: `c` without gradient checkpointing (what checkpointing costs);
* `c-noaux`: `c` with `aux_loss_weight: 0` (what the auxiliary loss costs beyond the 3 passes);
* `c-short-slots`: `c` with the slot windows cut to half the pivot's length (one setting
  that lowers the cost; its quality cost is not measured here).

Prints each variant's median seconds and its ratio to `a`.

    .venv/bin/python benchmarks/xltt_cost_breakdown.py [--length 192] [--batch 8] [--rounds 2]
"""

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import batch_tensors
from e5_step_time import DEFAULT_MODEL, PIVOT_FIELDS, long_windows


def build(encoder: str, full: bool, checkpointing: bool, aux: float):
    from allennlp.data import Vocabulary

    from xltt_plugin.models.xltt import XlttModel

    torch.manual_seed(0)
    kwargs: dict[str, Any] = {"transformer_kwargs": {"gradient_checkpointing": checkpointing}}
    if full:
        model = XlttModel(Vocabulary(), encoder, num_parallel=2, aux_loss_weight=aux, **kwargs)
    else:
        model = XlttModel(
            Vocabulary(), encoder, maa=None, num_parallel=2, aux_loss_weight=0.0, **kwargs
        )
    model._embedder.transformer_model.embeddings.word_embeddings.requires_grad_(False)
    return model


def shorten_slots(batch: dict[str, Any], length: int) -> dict[str, Any]:
    """The slot windows cut to their first `length` tokens (mask, ids and type ids alike)."""
    tokens = batch["parallel_question_with_context"]["tokens"]
    cut = {key: value[..., :length] for key, value in tokens.items()}
    return batch | {"parallel_question_with_context": {"tokens": cut}}


def step_seconds(model, optimizer, batch: dict) -> float:
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    model(**batch)["loss"].backward()
    optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--length", type=int, default=192)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    instances = long_windows(args.model, args.batch, args.length)
    full_batch = batch_tensors(instances, pad_to=args.length)
    full_batch.pop("metadata", None)
    pivot_batch = {key: full_batch[key] for key in PIVOT_FIELDS}
    variants = {
        "a": (build(args.model, False, False, 0.0), pivot_batch),
        "c": (build(args.model, True, True, 1.0), full_batch),
        "c-nockpt": (build(args.model, True, False, 1.0), full_batch),
        "c-noaux": (build(args.model, True, True, 0.0), full_batch),
        "c-short-slots": (
            build(args.model, True, True, 1.0),
            shorten_slots(full_batch, args.length // 2),
        ),
    }
    optimizers = {
        name: torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
        for name, (model, _) in variants.items()
    }
    for name, (model, batch) in variants.items():
        model.train()
        step_seconds(model, optimizers[name], batch)  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, (model, batch) in variants.items():
            seconds[name].append(step_seconds(model, optimizers[name], batch))
    base = statistics.median(seconds["a"])
    for name, values in seconds.items():
        median = statistics.median(values)
        print(
            json.dumps(
                {
                    "variant": name,
                    "seconds_per_step": round(median, 3),
                    "ratio_to_a": round(median / base, 3),
                    "runs": [round(v, 3) for v in values],
                }
            ),
            flush=True,
        )
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
