"""
Learning curves of a protocol (issue 29): a language set's mean F1 against the training budget
(optimizer steps) and against the measured training wall time, one line per family of systems
(the same system at several budgets), every seed drawn and the mean joined.

A protocol asks for it with `report.learning_curve`:

    learning_curve: {
      unseen: "unseen-9",            // a language set of the protocol (or a list)
      mode: "mlqa",                  // scoring rules
      lines: [ { label: "(a) English only",
                 systems: ["a_baseline_en-lr2e-4", "a_baseline_en-lr2e-4-s240"] }, ... ],
    }

and `report` writes `learning_curve.md` (per line and budget: seeds, mean and sd of the set's
F1, the seeds' range, mean training seconds) and, with charts, `learning_curve.png`. The numbers
come from the re-scored committed predictions (benchmarks/quality/report.py), the budgets from
the systems' settings (epochs x steps_per_epoch) and the times from the run manifests.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from xltt_plugin.commands.report_tables import RunScores


@dataclass(frozen=True)
class CurvePoint:
    """One run on a learning curve."""

    system: str
    seed: int | None
    steps: int
    f1: float  # mean F1 over the language set, 0-100
    train_seconds: float | None


@dataclass(frozen=True)
class CurveLine:
    """One family of systems: its label and its runs, in budget order."""

    label: str
    points: tuple[CurvePoint, ...]


def mean_f1(run: RunScores, languages: Sequence[str], mode: str) -> float:
    """
    The plain mean of `run`'s F1 over `languages` in scoring `mode`.

    # Raises
    `ValueError` naming the run and the languages it has no score for.
    """
    scores = run.scores.get(mode, {})
    missing = [language for language in languages if language not in scores]
    if missing:
        raise ValueError(f"{run.run_dir}: no {mode} score for {', '.join(missing)}")
    return sum(scores[language][1] for language in languages) / len(languages)


def curve_lines(
    runs: Sequence[RunScores],
    lines: Sequence[tuple[str, Sequence[str]]],
    steps_of: dict[str, int],
    languages: Sequence[str],
    mode: str,
) -> list[CurveLine]:
    """
    The learning-curve lines of `runs`.

    # Parameters
    runs : the re-scored runs (any systems; those of no line are ignored).
    lines : (label, system names) per line.
    steps_of : system name -> its optimizer steps.
    languages : the language set averaged (e.g. the 9 unseen languages).
    mode : scoring rules, `mlqa` or `squad`.

    # Returns
    One `CurveLine` per line with at least one run, its points sorted by (steps, seed).
    """
    result = []
    for label, systems in lines:
        points = [
            CurvePoint(
                system=run.system,
                seed=run.seed,
                steps=steps_of[run.system],
                f1=mean_f1(run, languages, mode),
                train_seconds=run.train_seconds,
            )
            for run in runs
            if run.system in systems
        ]
        if points:
            points.sort(key=lambda p: (p.steps, -1 if p.seed is None else p.seed))
            result.append(CurveLine(label, tuple(points)))
    return result


def _budgets(line: CurveLine) -> list[tuple[int, list[CurvePoint]]]:
    by_steps: dict[int, list[CurvePoint]] = {}
    for point in line.points:
        by_steps.setdefault(point.steps, []).append(point)
    return sorted(by_steps.items())


def curve_table(lines: Sequence[CurveLine], set_name: str, mode: str) -> str:
    """The Markdown table of `curve_lines`' result: one row per line and budget."""
    out = [
        f"F1 averaged over {set_name} ({mode} rules); sd and range over seeds; training seconds "
        "as measured (one thread per job, two jobs on two cores: a rough cost, not a benchmark).",
        "",
        "| line | steps | seeds | F1 mean | sd | min - max | train s (mean) |",
        "|---|---|---|---|---|---|---|",
    ]
    for line in lines:
        for steps, points in _budgets(line):
            f1s = [p.f1 for p in points]
            sd = f"{statistics.stdev(f1s):.1f}" if len(f1s) > 1 else "-"
            times = [p.train_seconds for p in points if p.train_seconds is not None]
            time = f"{statistics.mean(times):.0f}" if times else "-"
            seeds = ",".join("-" if p.seed is None else str(p.seed) for p in points)
            out.append(
                f"| {line.label} | {steps} | {seeds} | {statistics.mean(f1s):.1f} | {sd} "
                f"| {min(f1s):.1f} - {max(f1s):.1f} | {time} |"
            )
    return "\n".join(out) + "\n"


def write_curve_chart(lines: Sequence[CurveLine], set_name: str, mode: str, path: str) -> None:
    """Two panels (F1 against steps, against training seconds) as PNG (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_steps, by_time) = plt.subplots(1, 2, figsize=(11.0, 4.2), sharey=True)
    for index, line in enumerate(lines):
        color = f"C{index}"
        budgets = _budgets(line)
        means = [statistics.mean(p.f1 for p in points) for _, points in budgets]
        by_steps.plot([s for s, _ in budgets], means, "-o", color=color, label=line.label)
        for (steps, points), mean in zip(budgets, means):  # seeds behind each mean
            by_steps.annotate(
                f"n={len(points)}",
                (steps, mean),
                textcoords="offset points",
                xytext=(4, -10),
                fontsize="x-small",
                color=color,
            )
        by_steps.scatter(
            [p.steps for p in line.points],
            [p.f1 for p in line.points],
            color=color,
            s=12,
            alpha=0.5,
        )
        timed = [(s, pts) for s, pts in budgets if all(p.train_seconds for p in pts)]
        if timed:
            by_time.plot(
                [statistics.mean(p.train_seconds or 0.0 for p in pts) / 60 for _, pts in timed],
                [statistics.mean(p.f1 for p in pts) for _, pts in timed],
                "-o",
                color=color,
                label=line.label,
            )
            by_time.scatter(
                [(p.train_seconds or 0.0) / 60 for _, pts in timed for p in pts],
                [p.f1 for _, pts in timed for p in pts],
                color=color,
                s=12,
                alpha=0.5,
            )
    by_steps.set_xlabel("optimizer steps (8 pivot windows each)")
    by_steps.set_ylabel(f"F1, mean over {set_name} ({mode} rules)")
    by_time.set_xlabel("training wall time, minutes (one thread; rough)")
    for axes in (by_steps, by_time):
        axes.grid(alpha=0.3)
    by_steps.margins(x=0.08)  # room for the n= labels at the last budget
    by_steps.legend(fontsize="small")
    figure.suptitle("Learning curves: means joined (n = seeds), every seed a dot")
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=120)
    plt.close(figure)
