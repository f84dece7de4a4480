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
`--unseen`, F1 of A and B, the difference B - A and its 95% percentile interval over questions,
and the share of resamples in which B > A: test-set sampling noise only.

With several seeds on either side, a second interval adds the training-seed spread: a two-level
bootstrap that, in each resample, draws the question ids (paired between A and B, as above) and,
independently for A and for B, as many seeds as each has, with replacement, from its own runs
(`two_level_bootstrap`). scipy's `bootstrap` resamples one level of observations only, hence the
hand-written resampling. With 2 or 3 seeds a bootstrap over seeds understates their spread (by a
factor (n - 1) / n in variance), so the per-seed differences are printed as well.
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from functools import cache

import numpy as np
from scipy.stats import bootstrap

from xltt_plugin.commands.score import read_gold_questions, read_predictions
from xltt_plugin.metrics.normalization import max_over_gold_answers

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@cache
def question_f1(gold_path: str, prediction_path: str, language: str, mode: str) -> dict[str, float]:
    """Per-question F1 (0-100) of one predictions file, in gold file order (cached per file)."""
    questions = read_gold_questions(gold_path)
    predictions = read_predictions(prediction_path)
    result = {}
    for question in questions:
        prediction = predictions.get(question.question_id)
        f1 = 0.0
        if prediction is not None:
            _, f1 = max_over_gold_answers(prediction, question.answers, language, mode)  # type: ignore[arg-type]
        result[question.question_id] = 100.0 * f1
    return result


def question_f1_per_run(
    data_dir: str, run_dirs: list[str], language: str, mode: str
) -> dict[str, list[float]] | None:
    """Per-question F1 (0-100) of `language` in each of `run_dirs`; None if any lacks it."""
    gold_path = os.path.join(data_dir, f"xquad.{language}.json")
    prediction_paths = [
        os.path.join(run_dir, "predictions", f"xquad.{language}.json") for run_dir in run_dirs
    ]
    if not all(os.path.exists(path) for path in prediction_paths):
        return None
    per_path = [question_f1(gold_path, path, language, mode) for path in prediction_paths]
    return {question_id: [f1[question_id] for f1 in per_path] for question_id in per_path[0]}


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


def two_level_bootstrap(
    f1_a: np.ndarray, f1_b: np.ndarray, resamples: int, seed: int, same_models: bool = False
) -> tuple[float, float]:
    """
    95% percentile interval of mean(F1 B) - mean(F1 A) over questions AND training seeds.

    # Parameters

    f1_a, f1_b : `np.ndarray`
        Per-seed, per-question F1 of systems A and B. shape: (seeds_a, questions),
        (seeds_b, questions); the same questions in the same order.

    Each resample draws `questions` ids with replacement (the same draw for A and B) and,
    separately for A and B, their own number of seeds with replacement; the statistic is the
    mean over the drawn seeds and questions of B minus that of A. `same_models`: row i of A and
    of B are the same trained model (system d reuses c's archives), so one seed draw serves
    both.
    """
    if same_models and f1_a.shape[0] != f1_b.shape[0]:
        raise ValueError(
            f"same_models needs as many seeds in A as in B: {f1_a.shape[0]} vs {f1_b.shape[0]}"
        )
    rng = np.random.default_rng(seed)
    num_questions = f1_a.shape[1]
    # How often each question is drawn in each resample. shape: (resamples, questions)
    counts = rng.multinomial(num_questions, np.full(num_questions, 1.0 / num_questions), resamples)
    means = {}
    # One seed draw for both systems when they are the same models; otherwise one each.
    shared = (
        rng.integers(0, f1_a.shape[0], size=(resamples, f1_a.shape[0])) if same_models else None
    )
    for key, f1 in (("A", f1_a), ("B", f1_b)):
        # Each seed's mean F1 on each resample's questions. shape: (seeds, resamples)
        per_seed = f1 @ counts.T / num_questions
        # shape: (resamples, seeds)
        drawn = (
            shared
            if shared is not None
            else rng.integers(0, f1.shape[0], size=(resamples, f1.shape[0]))
        )
        means[key] = np.take_along_axis(per_seed.T, drawn, axis=1).mean(axis=1)
    low, high = np.percentile(means["B"] - means["A"], [2.5, 97.5])
    return float(low), float(high)


def rounded(value: object, digits: int = 6) -> object:
    """
    `value` with every float in it (nested in dicts and lists) rounded to `digits` decimals: the
    JSON line of a report then reads the same when it is regenerated on another machine, where
    numpy's summation order may move the last of 16 digits.
    """
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item, digits) for item in value]
    return value


def _archive(run_dir: str) -> str | None:
    """
    The run folder whose archive `run_dir` reuses: `manifest.json`'s `reuses`, or the older
    `benchmark.json`'s `reuses_archive`.
    """
    for name, key in (("manifest.json", "reuses"), ("benchmark.json", "reuses_archive")):
        info_path = os.path.join(run_dir, name)
        if os.path.exists(info_path):
            with open(info_path, encoding="utf-8") as handle:
                reused = json.load(handle).get(key)
            if reused is None:
                return None
            return reused if key == "reuses" else os.path.basename(os.path.dirname(reused))
    return None


def compare_runs(
    data_dir: str,
    runs_a: list[str],
    runs_b: list[str],
    mode: str = "mlqa",
    languages: Sequence[str] = ("en", "de", "es", "vi", "zh", "ar", "hi"),
    unseen: Sequence[str] = ("ar", "hi", "vi", "zh"),
    resamples: int = 2000,
    seed: int = 0,
) -> str:
    """
    The report B - A (Markdown table, then one JSON line) of the run folders `runs_a` and
    `runs_b` against the gold files of `data_dir`, over the `languages` every folder has.

    # Raises

    `ValueError`
        When no language has predictions in every run folder.
    """
    runs = {"A": runs_a, "B": runs_b}
    # language -> system -> question id -> F1 of each run folder
    scores: dict[str, dict[str, dict[str, list[float]]]] = {}
    for language in languages:
        per_system = {
            key: question_f1_per_run(data_dir, dirs, language, mode) for key, dirs in runs.items()
        }
        if all(value is not None for value in per_system.values()):
            scores[language] = per_system  # type: ignore[assignment]
    if not scores:
        raise ValueError("no language has predictions in every run folder")
    ids = sorted(next(iter(scores.values()))["A"])
    unseen = [language for language in unseen if language in scores]
    several = max(len(runs["A"]), len(runs["B"])) > 1
    # B reuses A's archives seed by seed (system d = c's models in another test mode).
    same_models = len(runs["A"]) == len(runs["B"]) and all(
        _archive(b) == os.path.basename(os.path.normpath(a)) for a, b in zip(runs["A"], runs["B"])
    )
    paired_seeds = [
        (a, b)
        for a in runs["A"]
        for b in runs["B"]
        if a.rsplit("-seed", 1)[-1] == b.rsplit("-seed", 1)[-1]
    ]

    rows = [(language, [language]) for language in scores]
    if unseen:
        rows.append((f"avg unseen ({','.join(unseen)})", unseen))
    lines = [
        f"A = {','.join(map(os.path.basename, runs['A']))}",
        f"B = {','.join(map(os.path.basename, runs['B']))}",
        f"mode {mode}, {len(ids)} questions, {resamples} paired resamples of ids",
    ]
    if several:
        lines.append(
            "seeds: "
            + ("one draw for both (B reuses A's models)" if same_models else "drawn per system")
        )
    lines.append("")
    header = "| language | F1 A | F1 B | B - A | 95% interval (questions) | P(B > A) |"
    rule = "|---|---|---|---|---|---|"
    if several:
        header += " 95% interval (questions + seeds) | B - A per seed |"
        rule += "---|---|"
    lines += [header, rule]
    summary = {}
    for label, members in rows:
        # Per run and question, F1 averaged over the row's languages. shape: (runs, questions)
        per_run = {
            key: np.array(
                [
                    [
                        sum(scores[lang][key][qid][run] for lang in members) / len(members)
                        for qid in ids
                    ]
                    for run in range(len(runs[key]))
                ]
            )
            for key in ("A", "B")
        }
        # Averaged over seeds first. shape: (questions,)
        per_question = {key: per_run[key].mean(axis=0) for key in ("A", "B")}
        f1_a, f1_b = float(per_question["A"].mean()), float(per_question["B"].mean())
        low, high, wins = paired_bootstrap(per_question["A"], per_question["B"], resamples, seed)
        summary[label] = {"f1_a": f1_a, "f1_b": f1_b, "delta": f1_b - f1_a, "ci95": [low, high]}
        line = (
            f"| {label} | {f1_a:.1f} | {f1_b:.1f} | {f1_b - f1_a:+.1f} | "
            f"[{low:+.1f}, {high:+.1f}] | {wins:.2f} |"
        )
        if several:
            seed_low, seed_high = two_level_bootstrap(
                per_run["A"], per_run["B"], resamples, seed, same_models
            )
            per_seed = [
                float(
                    per_run["B"][runs["B"].index(b)].mean()
                    - per_run["A"][runs["A"].index(a)].mean()
                )
                for a, b in paired_seeds
            ]
            summary[label] |= {"ci95_seeds": [seed_low, seed_high], "delta_per_seed": per_seed}
            line += (
                f" [{seed_low:+.1f}, {seed_high:+.1f}] | "
                + (", ".join(f"{d:+.1f}" for d in per_seed) or "-")
                + " |"
            )
        lines.append(line)
    return "\n".join(lines) + "\n\n" + json.dumps(rounded(summary)) + "\n"


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
    try:
        report = compare_runs(
            args.data,
            args.runs_a.split(","),
            args.runs_b.split(","),
            args.mode,
            args.languages,
            args.unseen,
            args.resamples,
            args.seed,
        )
    except ValueError as error:
        sys.exit(f"compare: {error}")
    print(report, end="")


if __name__ == "__main__":
    main()
