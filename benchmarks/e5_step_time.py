"""
Seconds per training step (forward + backward + AdamW step) of `xltt` with the dequantised
multilingual-e5-small (issue 16), full XLTT (MAA + auxiliary loss, 2 parallel slots) and
`maa: null` without the auxiliary loss (the English-only system), on real XQuAD windows of
`--lengths` tokens and batches of `--batches`, with and without freezing the 96M-parameter
word-embedding matrix; and seconds per forward-only batch of 32 windows (prediction). One
warm-up step, then the mean of `--runs` steps. Used to choose the quality benchmark's budget.

    .venv/bin/python benchmarks/e5_step_time.py [--lengths 256 192] [--batches 16 8] [--runs 1]
"""

import argparse
import itertools
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import XQUAD, batch_tensors

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(REPO, "benchmarks", "out", "multilingual-e5-small")
PIVOT_FIELDS = ("question_with_context", "context_span", "cls_index", "answer_span")


def long_windows(model_name: str, count: int, length: int) -> list:
    """`count` XQuAD en windows (with de/es windows) holding the answer on every side, longest
    first among the first ones read (as bench_common's, with a stride that fits `length`)."""
    from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader

    reader = XlttParallelReader(
        transformer_model_name=model_name,
        parallel_languages=["de", "es"],
        length_limit=length,
        stride=64,
        max_query_length=64,
        language="en",
        dataset_name="xquad",
        skip_impossible_questions=True,
    )
    chosen = []
    for instance in reader.read(os.path.join(XQUAD, "xquad.en.json")):
        if bool(instance["parallel_has_answer"].tensor.bool().all()):
            chosen.append(instance)
        if len(chosen) >= 4 * count:
            break
    chosen.sort(key=lambda i: -len(i["question_with_context"].tokens))
    return chosen[:count]


def build(encoder: str, full: bool, freeze: bool):
    from allennlp.data import Vocabulary

    from xltt_plugin.models.xltt import XlttModel

    torch.manual_seed(0)
    if full:
        model = XlttModel(Vocabulary(), encoder, num_parallel=2, aux_loss_weight=1.0)
    else:
        model = XlttModel(Vocabulary(), encoder, maa=None, num_parallel=2, aux_loss_weight=0.0)
    if freeze:
        model._embedder.transformer_model.embeddings.word_embeddings.requires_grad_(False)
    return model


def seconds_per_step(model, batch: dict, runs: int) -> float:
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    model.train()
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        model(**batch)["loss"].backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return sum(times[1:]) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--lengths", type=int, nargs="+", default=[256, 192])
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 8])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for length in args.lengths:
        instances = long_windows(args.model, max(args.batches), length)
        with torch.no_grad():
            model = build(args.model, full=False, freeze=True).eval()
            tensors = batch_tensors((instances * 2)[:32], pad_to=length)
            pivot = {key: tensors[key] for key in ("question_with_context", "context_span")}
            start = time.perf_counter()
            model._embedder(**pivot["question_with_context"]["tokens"])
            rows.append(
                {
                    "what": "forward 32 windows",
                    "length": length,
                    "seconds": round(time.perf_counter() - start, 2),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        for batch_size, full, freeze in itertools.product(
            args.batches, (True, False), (True, False)
        ):
            tensors = batch_tensors(instances[:batch_size], pad_to=length)
            tensors.pop("metadata", None)
            batch = tensors if full else {key: tensors[key] for key in PIVOT_FIELDS}
            model = build(args.model, full, freeze)
            rows.append(
                {
                    "what": "xltt full" if full else "maa null, no aux",
                    "length": length,
                    "batch": batch_size,
                    "freeze_word_embeddings": freeze,
                    "seconds_per_step": round(seconds_per_step(model, batch, args.runs), 2),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    print(f"torch threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
