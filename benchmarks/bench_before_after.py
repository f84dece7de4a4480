"""
Before/after figures of the optimisation: the `xltt` model and MAA layer as of an earlier
commit (default 1d88388, before this work), loaded side by side with the current ones and
`transformer_qa`, measured in one process (training step, the non-encoder part of it, peak
tensor memory, and model-only inference).

    .venv/bin/python benchmarks/bench_before_after.py [--commit 1d88388] [--batch 8] [--runs 3]

Prints one JSON line. Not part of `run.py` (it needs git and an old checkout's files).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_common  # noqa: E402


def load_old(commit: str) -> Any:
    """The old `XlttModel` (registered as `xltt_before`) using the old MAA module."""
    folder = tempfile.mkdtemp(prefix="xltt_before_")

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "show", f"{commit}:{path}"],
            cwd=bench_common.REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    maa = show("xltt_plugin/modules/maa.py")
    model = show("xltt_plugin/models/xltt.py")
    model = model.replace('@Model.register("xltt")', '@Model.register("xltt_before")')
    model = model.replace("from xltt_plugin.modules.maa import", "from xltt_before_maa import")
    with open(os.path.join(folder, "xltt_before_maa.py"), "w", encoding="utf-8") as file:
        file.write(maa)
    with open(os.path.join(folder, "xltt_before_model.py"), "w", encoding="utf-8") as file:
        file.write(model)
    sys.path.insert(0, folder)
    import xltt_before_maa
    import xltt_before_model

    return xltt_before_model.XlttModel, xltt_before_maa.MultilingualAdaptiveAttention


def non_encoder(model: Any, tensors: dict, stacked: tuple, old: bool) -> Any:
    """A training step of everything but the encoder (its output is a fixed leaf tensor)."""
    leaf = stacked[0]
    if old and not hasattr(model, "_encode_stacked"):
        # A model from before the stacked encoder call: pivot and parallels apart.
        seq = stacked[2]
        parts = (leaf[:, 0, :seq], stacked[1][:, 0, :seq], leaf[:, 1:], stacked[1][:, 1:])
        model._encode = lambda a, b: parts
    else:
        model._encode_stacked = lambda a, b: stacked
    model.train()

    def step() -> None:
        leaf.grad = None
        model.zero_grad(set_to_none=True)
        model(**tensors)["loss"].backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", default="1d88388")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--malloc", choices=("retain", "glibc"), default="retain")
    args = parser.parse_args()
    retained = args.malloc == "retain" and bench_common.retain_freed_memory()
    bench_common.quiet_logging()
    import bench_train
    import torch
    from allennlp.common import Lazy
    from allennlp.data import Vocabulary

    torch.set_num_threads(1)
    encoder = bench_common.minilm_path()
    old_model_class, old_maa_class = load_old(args.commit)
    tensors, pivot = bench_train.train_batches(encoder, args.batch, 384)
    new, baseline = bench_train.build_models(encoder)
    torch.manual_seed(0)
    old = old_model_class(Vocabulary(), encoder, maa=Lazy(old_maa_class))
    old.load_state_dict(new.state_dict())
    result: dict[str, Any] = {"commit": args.commit, "batch": args.batch, "malloc": args.malloc}
    result["retained"] = retained

    new_step = bench_train.step_fn(new, tensors)
    old_step = bench_train.step_fn(old, tensors)
    base_step = bench_train.step_fn(baseline, pivot)
    after = bench_common.alternate(new_step, base_step, runs=args.runs)
    before = bench_common.alternate(old_step, base_step, runs=args.runs)
    result["train_step_ratio"] = {"before": round(before.ratio, 3), "after": round(after.ratio, 3)}
    result["train_step_s"] = {
        "before": round(before.xltt_median, 3),
        "after": round(after.xltt_median, 3),
        "baseline": round(after.baseline_median, 3),
    }

    with torch.no_grad():
        stacked = new._encode_stacked(
            tensors["question_with_context"], tensors["parallel_question_with_context"]
        )
    leaf = stacked[0].detach().clone().requires_grad_()
    frozen = type(stacked)(leaf, *stacked[1:])
    rest = bench_common.alternate(
        non_encoder(new, tensors, frozen, old=False),
        non_encoder(old, tensors, frozen, old=True),
        runs=args.runs,
    )
    result["non_encoder_step_s"] = {
        "before": round(rest.baseline_median, 3),
        "after": round(rest.xltt_median, 3),
    }
    # Fresh models (the ones above have their encoders stubbed out), one warm step each.
    fresh_new = bench_train.build_models(encoder)[0]
    fresh_old = old_model_class(Vocabulary(), encoder, maa=Lazy(old_maa_class))
    fresh_old.load_state_dict(fresh_new.state_dict())
    peaks = {}
    for name, model, batch in (
        ("baseline", baseline, pivot),
        ("before", fresh_old, tensors),
        ("after", fresh_new, tensors),
    ):
        step = bench_train.step_fn(model, batch)
        step()
        peaks[name] = bench_train.peak_tensor_memory(step)
    result["peak_memory_mb"] = {k: round(v / 2**20, 1) for k, v in peaks.items()}
    result["train_peak_memory_ratio"] = {
        "before": round(peaks["before"] / peaks["baseline"], 3),
        "after": round(peaks["after"] / peaks["baseline"], 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
