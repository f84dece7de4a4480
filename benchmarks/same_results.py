"""
Before/after check of a refactoring: the `xltt` model and MAA layer as of an earlier commit
(loaded from git as `bench_before_after.load_old` does) and the current ones, with the same
weights, on the same batches, must give the same results: span logits, losses (the auxiliary
loss included), every parameter's gradient, decoded answers and n-best scores.

    .venv/bin/python benchmarks/same_results.py [--commit 1758998] [--tol 1e-6] [--no-bench]

Batches: every window of the fixture parallel corpus (tiny XLM-R, en with ja/ko translations)
in training mode (dropout, self-transposition draws, auxiliary loss; one and two MAA heads) and
evaluation mode (with the translations, and without them: self-transposition); then the inputs
of `make bench` (MiniLM, XQuAD en with de/es at 384): the training step's batch and the
prediction section's questions. Each quantity's difference is the largest absolute difference
divided by `max(1, its largest magnitude)`; the current model run in float64 (without dropout,
whose masks differ between dtypes) gives each side's own float32 rounding error. Prints a line
per case and exits 1 if a quantity differs by more than `--tol` AND by more than the earlier
code's own float32 error (or the current code is further from float64 than the earlier one).
"""

import argparse
import os
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_common  # noqa: E402


def max_diff(a: Any, b: Any) -> float:
    import torch

    if isinstance(a, torch.Tensor):
        if a.dtype == torch.bool or not a.is_floating_point():
            return 0.0 if torch.equal(a, b) else float("inf")
        if not a.numel():
            return 0.0
        a, b = a.detach().double(), b.detach().double()
        return float((a - b).abs().max()) / max(1.0, float(a.abs().max()))
    if isinstance(a, float):
        return abs(a - b) / max(1.0, abs(a))
    if isinstance(a, dict):
        if set(a) != set(b):
            return float("inf")
        return max([max_diff(a[key], b[key]) for key in a] or [0.0])
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return float("inf")
        return max([max_diff(x, y) for x, y in zip(a, b)] or [0.0])
    return 0.0 if a == b else float("inf")


def outputs(model: Any, tensors: dict, train: bool, seed: int) -> tuple[dict, dict]:
    """One forward (and backward when `train`) from a fixed RNG state: outputs and gradients."""
    import torch

    model.train(train)
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    out = model(**tensors)
    grads = {}
    if train:
        out["loss"].backward()
        grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return out, grads


def compare(a: tuple[dict, dict], b: tuple[dict, dict]) -> dict[str, float]:
    """Largest difference per output key, and over all gradients."""
    diffs: dict[str, float] = {}
    for key in sorted(set(a[0]) | set(b[0])):
        diffs[key] = max_diff(a[0][key], b[0][key]) if key in a[0] and key in b[0] else float("inf")
    if a[1] or b[1]:
        diffs["gradients"] = max_diff(a[1], b[1])
    return diffs


def run_case(
    models: tuple[Any, Any, Any | None], tensors: dict, train: bool, seed: int = 0
) -> dict:
    """
    `{"new-old": ..., "old-f64": ..., "new-f64": ...}`: per quantity, the difference between
    the current and the earlier code, and (when a float64 copy is given) each one's distance to
    the current code run in float64.
    """
    new, old, reference = models
    out_new = outputs(new, tensors, train, seed)
    out_old = outputs(old, tensors, train, seed)
    result = {"new-old": compare(out_new, out_old)}
    if reference is not None:
        out_ref = outputs(reference, tensors, train, seed)
        result["old-f64"] = compare(out_old, out_ref)
        result["new-f64"] = compare(out_new, out_ref)
    return result


def build_models(
    new_class: Any, old_class: Any, old_maa: Any, dropout: bool, **kwargs: Any
) -> tuple[Any, Any, Any | None]:
    """
    The current model, the earlier one with the same weights, and (without dropout, whose
    masks differ between float32 and float64) a float64 copy of the current one.
    """
    import copy

    import torch
    from allennlp.common import Lazy
    from allennlp.data import Vocabulary

    maa = dict(kwargs.pop("maa", {}))
    maa["dropout"] = 0.1 if dropout else 0.0
    torch.manual_seed(0)
    new = new_class(Vocabulary(), maa=Lazy(new_class_maa(), constructor_extras=maa), **kwargs)
    old = old_class(Vocabulary(), maa=Lazy(old_maa, constructor_extras=maa), **kwargs)
    with torch.no_grad():
        # Non-zero fusion weights, so that MAA's output reaches the logits.
        new._maa.fusion.weight.normal_(0.0, 0.05, generator=torch.Generator().manual_seed(1))
    old.load_state_dict(new.state_dict())
    if dropout:
        return new, old, None
    for model in (new, old):
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
    return new, old, copy.deepcopy(new).double()


def new_class_maa() -> Any:
    from xltt_plugin.modules.maa import MultilingualAdaptiveAttention

    return MultilingualAdaptiveAttention


def batches(instances: list[Any], size: int) -> list[dict]:
    """Collated batches of `size` instances."""
    return [
        bench_common.batch_tensors(instances[i : i + size]) for i in range(0, len(instances), size)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", default="1758998")
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--no-bench", action="store_true", help="fixtures only (no MiniLM)")
    args = parser.parse_args()
    bench_common.quiet_logging()
    import bench_before_after
    import torch

    from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader
    from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
    from xltt_plugin.models.xltt import XlttModel

    torch.set_num_threads(1)
    old_class, old_maa = bench_before_after.load_old(args.commit)
    failures: list[str] = []

    def report(
        case: str,
        parts: list[dict[str, dict[str, float]]],
        rounding: dict[str, float] | None = None,
    ) -> dict[str, dict[str, float]]:
        """
        Worst value over the batches per (comparison, quantity); a line per case. A case
        without a float64 copy (dropout) takes the earlier code's float64 errors from
        `rounding` (the same case without dropout).
        """
        worst: dict[str, dict[str, float]] = {}
        for part in parts:
            for comparison, diffs in part.items():
                for key, value in diffs.items():
                    mine = worst.setdefault(comparison, {})
                    mine[key] = max(mine.get(key, 0.0), value)
        line = []
        for comparison, diffs in worst.items():
            top = max(diffs, key=lambda key: diffs[key])
            line.append(f"{comparison} {diffs[top]:.1e} ({top})")
        print(f"{case:54s} " + "; ".join(line), flush=True)
        for key, value in worst["new-old"].items():
            own = worst.get("old-f64", rounding or {}).get(key, 0.0)
            newer = worst.get("new-f64", rounding or {}).get(key, 0.0)
            # Equal, or a difference no larger than the earlier code's own float32 error,
            # without being further from float64 than the earlier code.
            if value > args.tol and not (value <= own and newer <= own + args.tol):
                failures.append(f"{case}: {key}: {value:.2e} (old-f64 {own:.2e})")
        return worst

    def metrics_case(models: tuple[Any, Any, Any | None]) -> dict[str, dict[str, float]]:
        new, old = models[0], models[1]
        return {"new-old": {"metrics": max_diff(new.get_metrics(True), old.get_metrics(True))}}

    tiny = bench_common.TINY_XLMR
    pivot = os.path.join(bench_common.REPO, "fixtures", "data", "parallel", "squad_en.json")
    parallel = XlttParallelReader(
        transformer_model_name=tiny,
        parallel_languages=["ja", "ko"],
        length_limit=96,
        stride=48,
        max_query_length=32,
        language="en",
        dataset_name="squad",
    )
    single_reader = XlttSquadReader(
        tiny, length_limit=96, stride=48, max_query_length=32, language="en"
    )
    with_parallels = batches(list(parallel.read(pivot)), 4)
    alone = batches(list(single_reader.read(pivot)), 4)
    rounding: dict[str, float] | None = None
    for heads in (1, 2):
        for dropout in (False, True):
            models = build_models(
                XlttModel,
                old_class,
                old_maa,
                dropout,
                transformer_model_name=tiny,
                maa={"num_heads": heads},
                self_transposition_prob=0.3,
            )
            case = f"fixtures heads={heads} {'dropout' if dropout else 'no dropout'}"
            train = report(
                f"{case}, train",
                [run_case(models, t, True, seed) for seed, t in enumerate(with_parallels)],
                rounding,
            )
            rounding = train["old-f64"] if not dropout else None
            if dropout:
                continue
            report(f"{case}, eval", [run_case(models, t, False) for t in with_parallels])
            report(f"{case}, eval metrics", [metrics_case(models)])
            report(f"{case}, eval, no parallels", [run_case(models, t, False) for t in alone])
            report(f"{case}, eval metrics, no parallels", [metrics_case(models)])

    if not args.no_bench:
        import bench_predict
        import bench_train

        encoder = bench_common.minilm_path()
        tensors, _ = bench_train.train_batches(encoder, 2, 384)
        rounding = None
        for dropout in (False, True):
            models = build_models(
                XlttModel, old_class, old_maa, dropout, transformer_model_name=encoder
            )
            case = f"bench train batch (2 x 384) {'dropout' if dropout else 'no dropout'}"
            train = report(case, [run_case(models, tensors, True)], rounding)
            rounding = train["old-f64"] if not dropout else None
        models = build_models(XlttModel, old_class, old_maa, False, transformer_model_name=encoder)
        single_q, several_q = bench_predict.questions_by_windows(encoder, 6, 3)
        reader = XlttSquadReader(encoder, language="en")
        for name, questions in (("one window", single_q), ("multi window", several_q)):
            windows = [
                instance
                for q in questions
                for instance in reader.make_instances(q["id"], q["question"], q["context"])
            ]
            for instance in windows:
                reader.apply_token_indexers(instance)
            tensors = bench_common.batch_tensors(windows)
            report(f"bench predict questions, {name}", [run_case(models, tensors, False)])

    print(f"{len(failures)} quantities differ by more than {args.tol} beyond float32 rounding")
    for failure in failures:
        print(f"  {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
