"""
Paired bootstrap over test questions for the real-data quality benchmark (issue 9): is system B's
F1 above system A's by more than the luck of which questions were in the test articles?

    .venv/bin/python benchmarks/quality/compare.py RUNS_A RUNS_B [--unseen ar hi vi zh]
        [--mode mlqa] [--resamples 2000] [--seed 0] [--data benchmarks/out/quality/data/test]

RUNS_A and RUNS_B are comma-separated run folders of `benchmarks/quality/run.py` (several seeds
of one system are averaged per question first). For every language with predictions in all
folders, each question's F1 is computed with the official rules (`xltt_plugin.metrics`), and the
question ids are resampled with replacement, jointly across languages (XQuAD is parallel: the
same ids in every language), `--resamples` times. Prints, per language and for the average over
`--unseen`, F1 of A and B, the difference B - A and its 95% percentile interval, and the share of
resamples in which B > A. This measures test-set sampling noise only; the spread over training
seeds (`allennlp xltt-report` with several seeds) is the other half of the noise.
"""

import argparse
import json
import os
import sys

import numpy as np
from scipy.stats import bootstrap

from xltt_plugin.commands.score import read_gold_questions, read_predictions
from xltt_plugin.metrics.normalization import max_over_gold_answers

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def question_f1(
    data_dir: str, run_dirs: list[str], language: str, mode: str
) -> dict[str, float] | None:
    """Per-question F1 (0-100) of `language`, averaged over `run_dirs`; None if any lacks it."""
    gold_path = os.path.join(data_dir, f"xquad.{language}.json")
    prediction_paths = [
        os.path.join(run_dir, "predictions", f"xquad.{language}.json") for run_dir in run_dirs
    ]
    if not all(os.path.exists(path) for path in prediction_paths):
        return None
    questions = read_gold_questions(gold_path)
    totals = {question.question_id: 0.0 for question in questions}
    for path in prediction_paths:
        predictions = read_predictions(path)
        for question in questions:
            prediction = predictions.get(question.question_id)
            if prediction is not None:
                _, f1 = max_over_gold_answers(prediction, question.answers, language, mode)  # type: ignore[arg-type]
                totals[question.question_id] += 100.0 * f1 / len(prediction_paths)
    return totals


def paired_bootstrap(
    f1_a: np.ndarray, f1_b: np.ndarray, resamples: int, seed: int
) -> tuple[float, float, float]:
    """
    `scipy.stats.bootstrap` of mean(F1 B) - mean(F1 A) with the questions resampled in pairs:
    the 95% percentile interval and the share of resamples in which B > A. The same seed
    draws the same question ids for every row (the per-language rows and the average), so the
    resampling is joint across languages.
    """

    def difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return b.mean(axis=axis) - a.mean(axis=axis)

    result = bootstrap(
        (f1_a, f1_b),
        difference,
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        confidence_level=0.95,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    wins = float((result.bootstrap_distribution > 0).mean())
    return float(interval.low), float(interval.high), wins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_a")
    parser.add_argument("runs_b")
    parser.add_argument("--unseen", nargs="+", default=["ar", "hi", "vi", "zh"])
    parser.add_argument(
        "--languages", nargs="+", default=["en", "de", "es", "vi", "zh", "ar", "hi"]
    )
    parser.add_argument("--mode", choices=("mlqa", "squad"), default="mlqa")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--data", default=os.path.join(REPO, "benchmarks", "out", "quality", "data", "test")
    )
    args = parser.parse_args()
    runs = {"A": args.runs_a.split(","), "B": args.runs_b.split(",")}
    scores: dict[str, dict[str, dict[str, float]]] = {}
    for language in args.languages:
        per_system = {
            key: question_f1(args.data, dirs, language, args.mode) for key, dirs in runs.items()
        }
        if all(value is not None for value in per_system.values()):
            scores[language] = per_system  # type: ignore[assignment]
    if not scores:
        sys.exit("compare: no language has predictions in every run folder")
    ids = sorted(next(iter(scores.values()))["A"])
    unseen = [language for language in args.unseen if language in scores]

    rows = [(language, [language]) for language in scores]
    if unseen:
        rows.append((f"avg unseen ({','.join(unseen)})", unseen))
    print(f"A = {','.join(map(os.path.basename, runs['A']))}")
    print(f"B = {','.join(map(os.path.basename, runs['B']))}")
    print(f"mode {args.mode}, {len(ids)} questions, {args.resamples} paired resamples of ids\n")
    print("| language | F1 A | F1 B | B - A | 95% interval | P(B > A) |")
    print("|---|---|---|---|---|---|")
    summary = {}
    for label, languages in rows:
        # Per question, F1 averaged over the row's languages. shape: (questions,)
        per_question = {
            key: np.array(
                [sum(scores[lang][key][qid] for lang in languages) / len(languages) for qid in ids]
            )
            for key in ("A", "B")
        }
        f1_a, f1_b = float(per_question["A"].mean()), float(per_question["B"].mean())
        low, high, wins = paired_bootstrap(
            per_question["A"], per_question["B"], args.resamples, args.seed
        )
        summary[label] = {"f1_a": f1_a, "f1_b": f1_b, "delta": f1_b - f1_a, "ci95": [low, high]}
        print(
            f"| {label} | {f1_a:.1f} | {f1_b:.1f} | {f1_b - f1_a:+.1f} | "
            f"[{low:+.1f}, {high:+.1f}] | {wins:.2f} |"
        )
    print("\n" + json.dumps(summary))


if __name__ == "__main__":
    main()
