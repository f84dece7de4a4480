"""
System (a0L) of the quality benchmark (issue 16): the archives of (a0), allennlp-models' stock
`transformer_qa`, re-decoded with spans of at most `--max-answer-length` wordpieces (30, what
`xltt` decodes with). Stock `transformer_qa` takes the best span of any length; this measures
how much of the (a) - (a0) gap that alone explains. The network is the same archive; only
`get_best_span` is swapped (`predict_transformer_qa.py --max-answer-length`).

For `OUT/runs/a0_transformer_qa-seedN` this writes `OUT/runs/a0_transformer_qa-len30-seedN/`
with `predictions/`, `scores/` (MLQA and SQuAD rules) and `benchmark.json` (the (a0) run's
settings, `max_answer_length`, `reuses_archive`); languages already scored are skipped, so an
interrupted run resumes.

    .venv/bin/python benchmarks/quality/run_a0_limited.py benchmarks/out/quality-e5 \\
        --seeds 14 [--languages en zh ...] [--max-answer-length 30]
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from run import PYTHON, predict_and_score_reused  # noqa: E402


def run_a0_limited(out: str, seed: int, max_answer_length: int, languages: list[str] | None) -> str:
    """Predict and score every test language of (a0)'s seed `seed`, length-limited."""
    source = os.path.join(out, "runs", f"a0_transformer_qa-seed{seed}")
    archive = os.path.join(source, "model.tar.gz")
    if not os.path.exists(archive):
        raise FileNotFoundError(f"{archive}: train system a0 (seed {seed}) first")
    name = f"a0_transformer_qa-len{max_answer_length}"
    run_dir = os.path.join(out, "runs", f"{name}-seed{seed}")
    for sub in ("predictions", "scores"):
        os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
    with open(os.path.join(source, "benchmark.json"), encoding="utf-8") as handle:
        info = json.load(handle)
    info |= {
        "system": name,
        "reuses_archive": os.path.relpath(archive, out),
        "max_answer_length": max_answer_length,
    }
    with open(os.path.join(run_dir, "benchmark.json"), "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=1)
    settings = info["settings"]
    env = dict(os.environ, PYTHONPATH=REPO)
    log = os.path.join(out, "logs", f"{name}-seed{seed}.eval.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    test_dir = os.path.join(out, "data", "test")

    def predict(test_file: str, output_file: str) -> list[str]:
        command = [PYTHON, os.path.join(HERE, "predict_transformer_qa.py"), archive, test_file]
        command += [output_file, "--length", str(settings["EVAL_LENGTH"])]
        command += ["--stride", str(settings["EVAL_STRIDE"])]
        return [*command, "--max-answer-length", str(max_answer_length)]

    predict_and_score_reused(run_dir, source, test_dir, languages, predict, env, log)
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("out", help="the quality benchmark's --out folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[14])
    parser.add_argument("--max-answer-length", type=int, default=30)
    parser.add_argument("--languages", nargs="+", default=None)
    args = parser.parse_args()
    for seed in args.seeds:
        out = os.path.abspath(args.out)
        print(run_a0_limited(out, seed, args.max_answer_length, args.languages))


if __name__ == "__main__":
    main()
