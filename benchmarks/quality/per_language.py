"""
Per-language views of a few systems of a protocol on the same seeds (issue 29: "the
per-language chart at the largest budget"). The protocol-wide `results.md` / `f1_MODE.png`
average every system over whichever seeds it has and draw every system; a view names its
systems and averages each over the same seeds, so its bars compare like with like.

A protocol asks for views with `report.per_language`:

    per_language: [ { name: "s240",                 // files per_language_NAME.md / .png
                      title: "240 steps and equal compute",
                      systems: ["c_xltt-lr2e-4-s240", "a_baseline_en-lr2e-4-s960", ...],
                      seeds: [13],                  // optional: default the seeds all have
                      unseen: "unseen-9",           // optional: a language set (or a list)
                      mode: "mlqa" } ]              // optional

and `report` writes, per view, `per_language_NAME.md` (F1 / EM per language and the set's mean,
mean and sd over the view's seeds) and, with charts, `per_language_NAME.png`.
"""

from collections.abc import Sequence

from xltt_plugin.commands.report_tables import (
    OWN_UNSEEN,
    RunScores,
    markdown_table,
    order_languages,
    summarize,
    system_test_modes,
    write_bar_chart,
)


def view_runs(
    runs: Sequence[RunScores], systems: Sequence[str], seeds: Sequence[int] | None = None
) -> tuple[list[RunScores], list[int]]:
    """
    The runs of `systems` on `seeds` (default: the seeds every one of them has), systems in the
    given order and seeds ascending within a system; and the seeds used.

    # Raises
    `ValueError` naming each system without a run on one of the seeds (or, without `seeds`,
    when the systems share no seed).
    """
    have = {
        name: {run.seed for run in runs if run.system == name and run.seed is not None}
        for name in systems
    }
    if seeds is None:
        chosen = sorted(set.intersection(*have.values())) if have else []
        if not chosen:
            listing = "; ".join(
                f"{name}: {','.join(map(str, sorted(got))) or 'none'}" for name, got in have.items()
            )
            raise ValueError(f"no seed that every system has ({listing})")
    else:
        chosen = sorted(seeds)
        missing = [
            f"{name} seed {seed}" for name in systems for seed in chosen if seed not in have[name]
        ]
        if missing:
            raise ValueError(f"no run of {', '.join(missing)}")
    selected = [
        run
        for name in systems
        for run in sorted(
            (r for r in runs if r.system == name and r.seed in chosen), key=lambda r: r.seed or 0
        )
    ]
    return selected, chosen


def view_table(
    runs: Sequence[RunScores], seeds: Sequence[int], set_name: str, unseen: Sequence[str], mode: str
) -> tuple[str, dict, list[str]]:
    """(Markdown of the view, its table as `summarize` returns it, its columns)."""
    languages = order_languages(lang for run in runs for lang in run.scores.get(mode, {}))
    average = f"avg {set_name}"
    table = summarize(runs, mode, languages, {average: list(unseen)})
    for row in table.values():
        row.pop(OWN_UNSEEN, None)
    columns = [*languages, average]
    train_languages = {run.system: run.train_languages for run in runs}
    counts = {name: sum(1 for run in runs if run.system == name) for name in table}
    modes = system_test_modes(runs)
    text = "\n".join(
        [
            f"Per-language F1 / EM ({mode} rules, 0-100; * = trained on), mean over seeds "
            f"{', '.join(map(str, seeds))} for every system (sd of F1 in brackets with several "
            f"seeds); `{average}` = mean over {', '.join(unseen)}.",
            "",
            markdown_table(table, columns, train_languages, counts, modes),
            "",
        ]
    )
    return text, table, columns


def write_view_chart(table: dict, columns: Sequence[str], path: str, title: str) -> None:
    """The view's grouped bar chart (F1, seed sd as error bars) as PNG."""
    write_bar_chart(table, columns, path, title, legend_outside=True)
