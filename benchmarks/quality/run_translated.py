"""
System (d) of the quality benchmark (issue 16): the archives of system (c), tested in mode
`translated` (design README §7): each test item is the pivot and its versions in the training
slot languages (de, es) fill the parallel slots. XQuAD is multi-way parallel, so its human
translations of the test articles stand in for machine translation (labelled so); their
answers are never read (`xltt_translated`).

For `OUT/runs/c_xltt-seedN` this writes `OUT/runs/d_xltt_translated-seedN/` with
`predictions/`, `scores/` (MLQA and SQuAD rules) and `benchmark.json` (the (c) run's settings
and `train_seconds`, this run's own `eval_seconds`, `test_mode`, `translation_files`,
`reuses_archive`); languages already scored are skipped, so an interrupted run resumes (its
`eval_seconds` then counts this invocation only, as in run.py).

    .venv/bin/python benchmarks/quality/run_translated.py benchmarks/out/quality-e5 \\
        --seeds 13 [--languages zh ar ...] [--slots de es] [--tag noaux]
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from run import ALLENNLP, predict_and_score_reused  # noqa: E402


def run_translated(
    out: str, seed: int, slots: list[str], languages: list[str] | None, tag: str = ""
) -> str:
    """
    Predict and score every test language of (c)'s seed `seed` in `translated` mode; `tag`
    names a variant of (c) (`run.py --tag`: `c_xltt-TAG-seedN` -> `d_xltt_translated-TAG-seedN`).
    """
    suffix = f"-{tag}" if tag else ""
    source = os.path.join(out, "runs", f"c_xltt{suffix}-seed{seed}")
    archive = os.path.join(source, "model.tar.gz")
    if not os.path.exists(archive):
        raise FileNotFoundError(f"{archive}: train system c{suffix} (seed {seed}) first")
    name = f"d_xltt_translated{suffix}"
    run_dir = os.path.join(out, "runs", f"{name}-seed{seed}")
    for sub in ("predictions", "scores"):
        os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
    test_dir = os.path.join(out, "data", "test")
    files = {slot: os.path.join(test_dir, f"xquad.{slot}.json") for slot in slots}
    with open(os.path.join(source, "benchmark.json"), encoding="utf-8") as handle:
        info = json.load(handle)
    info |= {
        "system": name,
        "reuses_archive": os.path.relpath(archive, out),
        "test_mode": "translated: " + ",".join(slots) + " (XQuAD human translations for MT)",
        "translation_files": {slot: os.path.relpath(path, out) for slot, path in files.items()},
    }
    with open(os.path.join(run_dir, "benchmark.json"), "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=1)
    settings = info["settings"]
    with open(os.path.join(source, "config.json"), encoding="utf-8") as handle:
        encoder = json.load(handle)["dataset_reader"]["transformer_model_name"]
    # A whole reader (the benchmark's archives have no validation reader to patch).
    reader = {
        "type": "xltt_translated",
        "transformer_model_name": encoder,
        "length_limit": int(settings["EVAL_LENGTH"]),
        "stride": int(settings["EVAL_STRIDE"]),
        "max_query_length": 64,
        "parallel_languages": slots,
        "parallel_files": files,
    }
    overrides = json.dumps({"validation_dataset_reader": reader})
    env = dict(os.environ, PYTHONPATH=REPO)
    log = os.path.join(out, "logs", f"{name}-seed{seed}.eval.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)

    def predict(test_file: str, output_file: str) -> list[str]:
        command = [*ALLENNLP, "predict", archive, test_file, "--silent"]
        command += ["--output-file", output_file, "--batch-size", "16"]
        return [*command, "-o", overrides]

    predict_and_score_reused(run_dir, source, test_dir, languages, predict, env, log)
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("out", help="the quality benchmark's --out folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[13])
    parser.add_argument("--slots", nargs="+", default=["de", "es"])
    parser.add_argument("--languages", nargs="+", default=None)
    parser.add_argument("--tag", default="", help="the (c) variant's run.py --tag, e.g. noaux")
    args = parser.parse_args()
    for seed in args.seeds:
        out = os.path.abspath(args.out)
        print(run_translated(out, seed, args.slots, args.languages, args.tag))


if __name__ == "__main__":
    main()
