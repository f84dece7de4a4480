"""
Pure functions behind `allennlp xltt-report`: read the scores of finished runs, average them
over seeds, and write a per-language EM/F1 Markdown table (the paper's Table 4 layout) and a
bar chart of F1 per language per system. No AllenNLP import; matplotlib is imported only by
`write_bar_chart` (a benchmark-only dependency).

A run folder holds:

- `scores/*.json`: `allennlp xltt-score` outputs (one JSON object with `lang`, `mode`,
  `exact_match`, `f1`, 0-100), and/or
- `metrics*.json`: `allennlp evaluate --output-file` outputs of the `xltt` model (`em_<lang>`,
  `f1_<lang>`, 0-1, MLQA rules; read as `mlqa` mode when no xltt-score file gives that
  language), and optionally
- `benchmark.json`: `{"system", "seed", "train_languages", "train_seconds", "eval_seconds",
  "test_mode"}`. Without it the system is the folder name less a `-seedN` suffix, the seed
  that suffix, and the training languages those given to the command (default English).

Every table has a last column `test mode` (design README §7): `self` (the parallel slots filled with
the input itself), or `translated: ja,ko` (the target's translations in the slots), read from
the `test_mode` of the metrics files (the `xltt` evaluator writes it), of `benchmark.json` or
of the score files; a run with none of them is `self`, the only mode before test modes were
labelled. Translated runs list their translation files under the table. A run folder whose
files disagree on the mode is an error: keep each mode in its own run folder.
"""

import glob
import json
import math
import os
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

# Languages written in the Latin alphabet (an English-vocabulary encoder reads them as words).
LATIN_SCRIPT = frozenset(
    {
        "en",
        "de",
        "es",
        "fr",
        "it",
        "pt",
        "nl",
        "ro",
        "vi",
        "tr",
        "id",
        "ms",
        "sw",
        "fi",
        "et",
        "hu",
        "pl",
        "cs",
        "sk",
        "sl",
        "hr",
        "sv",
        "da",
        "no",
        "is",
        "ca",
        "eu",
        "gl",
        "af",
        "tl",
    }
)
# The paper's (and MLQA's) column order; other languages follow alphabetically.
LANGUAGE_ORDER = ("en", "es", "de", "ar", "hi", "vi", "zh", "ja", "ko", "el", "ru", "th", "tr")
MODES = ("mlqa", "squad")
# Column name of the per-system average over the languages that system was not trained on.
OWN_UNSEEN = "avg own unseen"
_SEED_SUFFIX = re.compile(r"^(?P<system>.+?)[-_]seed(?P<seed>\d+)$")
_METRIC_KEY = re.compile(r"^(?P<kind>em|f1)_(?P<lang>[a-z]{2,3})$")


class ReportError(Exception):
    """A problem with the run folders or options of `xltt-report`, as a one-line message."""


@dataclass
class RunScores:
    """The scores of one trained model (one system and seed)."""

    run_dir: str
    system: str
    seed: Optional[int]
    train_languages: tuple[str, ...]
    # mode -> language -> (exact_match, f1), 0-100
    scores: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    train_seconds: Optional[float] = None
    eval_seconds: Optional[float] = None
    test_mode: str = "self"
    # slot language -> translation file(s), for runs in a translated test mode
    translations: dict[str, str] = field(default_factory=dict)


def _load(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReportError(f"cannot read {path}: {error}") from error


def load_run(run_dir: str, default_train_languages: Sequence[str] = ("en",)) -> RunScores:
    """
    Read one run folder (see the module docstring).

    # Raises

    `ReportError`
        When the folder is missing, holds no scores, or a score file is malformed (naming it).
    """
    if not os.path.isdir(run_dir):
        raise ReportError(f"{run_dir} is not a folder")
    name = os.path.basename(os.path.normpath(run_dir))
    match = _SEED_SUFFIX.match(name)
    info: dict[str, Any] = {}
    info_path = os.path.join(run_dir, "benchmark.json")
    if os.path.exists(info_path):
        info = _load(info_path)
        if not isinstance(info, dict):
            raise ReportError(f"{info_path} is not a JSON object")
    seed = info.get("seed", int(match.group("seed")) if match else None)
    run = RunScores(
        run_dir=run_dir,
        system=str(info.get("system", match.group("system") if match else name)),
        seed=None if seed is None else int(seed),
        train_languages=tuple(info.get("train_languages", default_train_languages)),
        train_seconds=info.get("train_seconds"),
        eval_seconds=info.get("eval_seconds"),
    )
    # test mode -> the files that say it
    modes: dict[str, list[str]] = {}
    if "test_mode" in info:
        modes.setdefault(str(info["test_mode"]), []).append(info_path)
    for path in sorted(glob.glob(os.path.join(run_dir, "scores", "*.json"))):
        content = _load(path)
        if isinstance(content, dict) and "test_mode" in content:
            modes.setdefault(str(content["test_mode"]), []).append(path)
        try:
            mode, lang = str(content["mode"]), str(content["lang"])
            em, f1 = float(content["exact_match"]), float(content["f1"])
        except (KeyError, TypeError, ValueError) as error:
            raise ReportError(
                f"{path} is not an xltt-score output (needs lang, mode, exact_match, f1): {error}"
            ) from error
        run.scores.setdefault(mode, {})[lang] = (em, f1)
    for path in sorted(glob.glob(os.path.join(run_dir, "metrics*.json"))):
        content = _load(path)
        if not isinstance(content, dict):
            continue
        if "test_mode" in content:
            modes.setdefault(str(content["test_mode"]), []).append(path)
            for language, source in dict(content.get("translation_files") or {}).items():
                known = run.translations.get(str(language))
                if known is not None and known != str(source):
                    source = f"{known}; {source}"
                run.translations[str(language)] = str(source)
        found: dict[str, dict[str, float]] = {}
        for key, value in content.items():
            key_match = _METRIC_KEY.match(key)
            if key_match and key_match.group("lang") != "avg" and isinstance(value, (int, float)):
                found.setdefault(key_match.group("lang"), {})[key_match.group("kind")] = value
        mlqa = run.scores.setdefault("mlqa", {})
        for lang, pair in found.items():
            if lang not in mlqa and "em" in pair and "f1" in pair:
                mlqa[lang] = (100.0 * pair["em"], 100.0 * pair["f1"])
    if len(modes) > 1:
        raise ReportError(
            f"{run_dir} mixes test modes: "
            + "; ".join(f"{mode!r} in {', '.join(paths)}" for mode, paths in sorted(modes.items()))
            + " (keep each test mode in its own run folder)"
        )
    if modes:
        run.test_mode = next(iter(modes))
    if not any(run.scores.values()):
        raise ReportError(
            f"{run_dir} holds no scores (expected scores/*.json from xltt-score or metrics*.json "
            "from allennlp evaluate)"
        )
    return run


def order_languages(languages: Iterable[str]) -> list[str]:
    """Languages in the paper's column order, unknown ones after it alphabetically."""
    rank = {lang: i for i, lang in enumerate(LANGUAGE_ORDER)}
    return sorted(set(languages), key=lambda lang: (rank.get(lang, len(rank)), lang))


def systems_in_order(runs: Sequence[RunScores]) -> list[str]:
    """System names in first-seen order (run folders are usually given sorted)."""
    seen: list[str] = []
    for run in runs:
        if run.system not in seen:
            seen.append(run.system)
    return seen


def unseen_languages(runs: Sequence[RunScores], languages: Sequence[str]) -> list[str]:
    """The scored languages that no run in the report was trained on (zero-shot for all)."""
    trained = {lang for run in runs for lang in run.train_languages}
    return [lang for lang in languages if lang not in trained]


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value); NaN for no values."""
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


@dataclass
class Cell:
    """EM and F1 of one system on one column, over seeds."""

    em: float
    f1: float
    em_sd: float
    f1_sd: float
    runs: int


def _average(pairs: Sequence[tuple[float, float]]) -> Optional[tuple[float, float]]:
    if not pairs:
        return None
    return statistics.fmean(p[0] for p in pairs), statistics.fmean(p[1] for p in pairs)


def summarize(
    runs: Sequence[RunScores], mode: str, languages: Sequence[str], averages: dict[str, list[str]]
) -> dict[str, dict[str, Cell]]:
    """
    system -> column -> `Cell`, averaged over the system's runs (seeds). Columns are the
    languages and the names of `averages` (name -> languages averaged per run, then over runs).
    A run lacking a language is left out of that column and of the averages using it. Column
    `OWN_UNSEEN` averages, per run, the report's languages that run was not trained on; a run
    lacking one of them is left out of it.
    """
    table: dict[str, dict[str, Cell]] = {}
    for system in systems_in_order(runs):
        mine = [run.scores.get(mode, {}) for run in runs if run.system == system]
        per_column: dict[str, list[tuple[float, float]]] = {}
        for run in (run for run in runs if run.system == system):
            scores = run.scores.get(mode, {})
            own = [lang for lang in languages if lang not in run.train_languages]
            # A run missing one of them (still being scored) would average fewer languages.
            if own and all(lang in scores for lang in own):
                average = _average([scores[lang] for lang in own])
                if average is not None:
                    per_column.setdefault(OWN_UNSEEN, []).append(average)
        for scores in mine:
            for lang in languages:
                if lang in scores:
                    per_column.setdefault(lang, []).append(scores[lang])
            for name, members in averages.items():
                if members and all(lang in scores for lang in members):
                    average = _average([scores[lang] for lang in members])
                    if average is not None:
                        per_column.setdefault(name, []).append(average)
        row: dict[str, Cell] = {}
        for column, pairs in per_column.items():
            em, em_sd = mean_sd([p[0] for p in pairs])
            f1, f1_sd = mean_sd([p[1] for p in pairs])
            row[column] = Cell(em, f1, em_sd, f1_sd, len(pairs))
        table[system] = row
    return table


def _format(cell: Optional[Cell]) -> str:
    if cell is None:
        return "-"
    text = f"{cell.f1:.1f} / {cell.em:.1f}"
    if cell.runs > 1:
        text += f" (±{cell.f1_sd:.1f})"
    return text


def markdown_table(
    table: dict[str, dict[str, Cell]],
    columns: Sequence[str],
    train_languages: Mapping[str, Sequence[str]],
    seeds: Mapping[str, int],
    test_modes: Optional[Mapping[str, str]] = None,
) -> str:
    """
    A Markdown table: one row per system, one column per language and average, cells
    `F1 / EM` (mean over seeds, with `(±sd of F1)` when there are several seeds); languages a
    system was trained on are marked with `*`; with `test_modes`, a last `test mode` column.
    """
    modes = test_modes or {}
    header = ["system", "trained on", "seeds", *columns]
    header += ["test mode"] if test_modes is not None else []
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for system, row in table.items():
        trained = set(train_languages.get(system, ()))
        cells = [
            _format(row.get(column)) + ("*" if column in trained else "") for column in columns
        ]
        lines.append(
            "| "
            + " | ".join(
                [
                    system,
                    ",".join(train_languages.get(system, ())),
                    str(seeds.get(system, 0)),
                    *cells,
                    *([modes.get(system, "self")] if test_modes is not None else []),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def write_bar_chart(
    table: dict[str, dict[str, Cell]],
    columns: Sequence[str],
    path: str,
    title: str,
    legend_outside: bool = False,
) -> None:
    """
    A grouped bar chart of F1 per column (language or average) per system, with the seed
    standard deviation as error bars, written as PNG to `path`; with `legend_outside`, the
    legend sits right of the axes instead of over the bars.

    # Raises

    `ReportError`
        When matplotlib is not installed (it is a benchmark-only dependency).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ReportError(
            "the chart needs matplotlib, a benchmark-only dependency: run `make bench-setup` "
            "(or pip install matplotlib), or pass --no-chart"
        ) from error
    systems = list(table)
    width = 0.8 / max(1, len(systems))
    figure, axes = plt.subplots(figsize=(max(6.0, 1.1 * len(columns) + 2), 4.0))
    for index, system in enumerate(systems):
        positions = [i + (index - (len(systems) - 1) / 2) * width for i in range(len(columns))]
        cells = [table[system].get(column) for column in columns]
        heights = [cell.f1 if cell else 0.0 for cell in cells]
        errors = [cell.f1_sd if cell and cell.runs > 1 else 0.0 for cell in cells]
        axes.bar(positions, heights, width, yerr=errors, capsize=2, label=system)
    axes.set_xticks(range(len(columns)))
    axes.set_xticklabels(columns, rotation=0)
    axes.set_ylabel("F1")
    axes.set_title(title)
    if legend_outside:
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        axes.legend(fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=120, bbox_inches="tight" if legend_outside else None)
    plt.close(figure)


def wall_time_table(runs: Sequence[RunScores]) -> str:
    """Markdown: per system, mean training and evaluation minutes per run."""
    lines = ["| system | runs | train min/run | eval min/run |", "|---|---|---|---|"]
    for system in systems_in_order(runs):
        mine = [run for run in runs if run.system == system]
        train = [r.train_seconds / 60 for r in mine if r.train_seconds is not None]
        evals = [r.eval_seconds / 60 for r in mine if r.eval_seconds is not None]
        fmt = lambda xs: f"{statistics.fmean(xs):.1f}" if xs else "-"  # noqa: E731
        lines.append(f"| {system} | {len(mine)} | {fmt(train)} | {fmt(evals)} |")
    return "\n".join(lines)


def system_test_modes(runs: Sequence[RunScores]) -> dict[str, str]:
    """Per system, its runs' test modes joined with " + " (a table's mode column)."""
    return {
        system: " + ".join(sorted({run.test_mode for run in runs if run.system == system}))
        for system in systems_in_order(runs)
    }


def build_report(
    runs: Sequence[RunScores], out_dir: str, title: str, chart: bool = True
) -> dict[str, Any]:
    """
    Write `results.md`, `summary.json` and (with `chart`) `f1_<mode>.png` into `out_dir` for
    every mode with scores. Returns the summary (also written as JSON).
    """
    if not runs:
        raise ReportError("no run folders given")
    os.makedirs(out_dir, exist_ok=True)
    train_languages = {run.system: run.train_languages for run in runs}
    test_modes = system_test_modes(runs)
    sources = [
        f"- {run.run_dir} ({run.test_mode}): "
        + ", ".join(f"{lang} from {path}" for lang, path in sorted(run.translations.items()))
        for run in runs
        if run.translations
    ]
    seeds = {s: sum(1 for r in runs if r.system == s) for s in systems_in_order(runs)}
    sections = [f"# {title}", ""]
    summary: dict[str, Any] = {
        "title": title,
        "runs": [run.run_dir for run in runs],
        "test_modes": {run.run_dir: run.test_mode for run in runs},
        "modes": {},
    }
    for mode in MODES:
        languages = order_languages(lang for run in runs for lang in run.scores.get(mode, {}))
        if not languages:
            continue
        unseen = unseen_languages(runs, languages)
        latin = [lang for lang in unseen if lang in LATIN_SCRIPT]
        averages = {"avg unseen": unseen, "avg unseen Latin": latin}
        table = summarize(runs, mode, languages, {k: v for k, v in averages.items() if v})
        columns = [*languages, OWN_UNSEEN] + [name for name, members in averages.items() if members]
        sections += [
            f"## {mode} rules (F1 / EM, 0-100; * = trained on)",
            "",
            "Averages over the languages no system was trained on: "
            f"unseen = {', '.join(unseen) or '-'}; "
            f"Latin-script unseen = {', '.join(latin) or '-'}. `{OWN_UNSEEN}`: over the "
            "languages each system was not trained on (so it differs between systems).",
            "",
            markdown_table(table, columns, train_languages, seeds, test_modes),
            "",
        ]
        if sources:
            sections += ["Translations of the `translated` test modes:", "", *sources, ""]
        if chart:
            chart_path = os.path.join(out_dir, f"f1_{mode}.png")
            write_bar_chart(table, columns, chart_path, f"{title} ({mode} rules)")
            sections += [f"![F1 per language ({mode})](f1_{mode}.png)", ""]
        summary["modes"][mode] = {
            "unseen": unseen,
            "unseen_latin": latin,
            "table": {
                system: {column: vars(cell) for column, cell in row.items()}
                for system, row in table.items()
            },
        }
    sections += ["## Wall time", "", wall_time_table(runs), ""]
    markdown = "\n".join(sections)
    with open(os.path.join(out_dir, "results.md"), "w", encoding="utf-8") as handle:
        handle.write(markdown)
    with open(os.path.join(out_dir, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1)
    summary["markdown"] = markdown
    return summary
