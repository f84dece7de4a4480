"""
Gain in F1 over a baseline system, per language (issue 16's second chart): for every other
system, mean F1 over its seeds minus the baseline's, from the run folders' `scores/*.json`
(`allennlp xltt-score`; read with `xltt-report`'s own loader), as a grouped bar chart (PNG)
and a Markdown table on stdout.

    .venv/bin/python benchmarks/quality/gain_chart.py RUN_DIR... --baseline a_baseline_en
        --out gain.png [--mode mlqa] [--title T]
"""

import argparse
import statistics
import sys

from xltt_plugin.commands.report_tables import RunScores, load_run, order_languages


def gains(run_dirs: list[str], baseline: str, mode: str) -> tuple[list[str], dict[str, dict]]:
    """(languages, {system: {language: F1 - baseline F1}}) of run folders (`gains_of`)."""
    return gains_of([load_run(run_dir) for run_dir in run_dirs], baseline, mode)


def gains_of(runs: list[RunScores], baseline: str, mode: str) -> tuple[list[str], dict[str, dict]]:
    """(languages, {system: {language: F1 - baseline F1}}), means over seeds first."""
    by_system: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        for lang, (_, f1) in run.scores.get(mode, {}).items():
            by_system.setdefault(run.system, {}).setdefault(lang, []).append(f1)
    if baseline not in by_system:
        raise SystemExit(f"gain_chart: no run of the baseline {baseline!r} among the folders")
    base = {lang: statistics.mean(v) for lang, v in by_system[baseline].items()}
    result: dict[str, dict] = {}
    for system, scores in by_system.items():
        if system != baseline:
            result[system] = {
                lang: statistics.mean(v) - base[lang] for lang, v in scores.items() if lang in base
            }
    languages = order_languages({lang for s in result.values() for lang in s})
    return languages, result


def gain_table(languages: list[str], result: dict[str, dict]) -> str:
    """The Markdown table of `gains_of`'s result (as printed by the command)."""
    lines = ["| system | " + " | ".join(languages) + " |", "|---|" + "---|" * len(languages)]
    for system, row in result.items():
        cells = [f"{row[lang]:+.1f}" if lang in row else "" for lang in languages]
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_gain_chart(
    languages: list[str],
    result: dict[str, dict],
    baseline: str,
    mode: str,
    path: str,
    title: str | None = None,
) -> None:
    """The grouped bar chart of `gains_of`'s result as PNG (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = 0.8 / max(1, len(result))
    figure, axes = plt.subplots(figsize=(max(6.0, 0.9 * len(languages) + 2), 4.0))
    for index, (system, row) in enumerate(result.items()):
        positions = [i + (index - (len(result) - 1) / 2) * width for i in range(len(languages))]
        axes.bar(positions, [row.get(lang, 0.0) for lang in languages], width, label=system)
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.set_xticks(range(len(languages)))
    axes.set_xticklabels(languages)
    axes.set_ylabel(f"F1 - F1 of {baseline} ({mode} rules)")
    axes.set_title(title or f"Gain over {baseline} per language")
    axes.legend(fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=120)
    plt.close(figure)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+")
    parser.add_argument("--baseline", required=True, help="system name, e.g. a_baseline_en")
    parser.add_argument("--out", required=True, help="PNG path")
    parser.add_argument("--mode", default="mlqa", choices=["mlqa", "squad"])
    parser.add_argument("--title", default=None)
    args = parser.parse_args()
    languages, result = gains(args.run_dirs, args.baseline, args.mode)
    print(gain_table(languages, result), end="")
    write_gain_chart(languages, result, args.baseline, args.mode, args.out, args.title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
