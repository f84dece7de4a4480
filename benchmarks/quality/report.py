"""
The tables, charts and comparisons of a protocol, from the committed predictions alone (no
archive, no training): `python -m benchmarks.quality report PROTOCOL` writes them into
`benchmarks/quality/results/reports/PROTOCOL/`, and `... results` (`make results`) regenerates
every protocol's into a temporary folder and fails where a committed file differs.

Per run folder of the protocol's store (`STORE/NAME-seedN/`, read through its `manifest.json`),
every `predictions/xquad.LANG.json` is re-scored in-process with `xltt-score`'s scorer against
the protocol's split of `../shared/data/xquad` (made in a temporary folder; for e5-quickstart
the same question subset), and must equal the committed `scores/xquad.LANG.MODE.json`. From
those scores: `xltt-report`'s `results.md`, `summary.json` and `f1_MODE.png`; with `gain_over`,
`gain_over_a_mlqa.md` and `.png` (benchmarks/quality/gain_chart.py); per comparison and mode,
`compare_B_minus_A[SUFFIX].MODE.md` (benchmarks/quality/compare.py, paired bootstrap over
questions and seeds, on the seeds both systems have).
"""

import difflib
import glob
import json
import os
import re
import shutil
import tempfile
from functools import cache
from typing import Any

from benchmarks.quality.collect import _mismatch, manifest_for, read_json
from benchmarks.quality.compare import compare_runs
from benchmarks.quality.gain_chart import gain_table, gains_of, write_gain_chart
from benchmarks.quality.learning_curve import curve_lines, curve_table, write_curve_chart
from benchmarks.quality.per_language import view_runs, view_table, write_view_chart
from benchmarks.quality.protocol import REPO, Protocol, System, comparison_seeds
from benchmarks.quality.runner import XQUAD, language_of, split_data
from xltt_plugin.commands.report_tables import RunScores, build_report
from xltt_plugin.commands.score import read_gold_questions, resolve_language, score_predictions

GAIN = "gain_over_a_mlqa"
CURVE = "learning_curve"
VIEW = "per_language"
# Problems of a protocol committed in part that only say a run is not in yet.
_PENDING = (
    "not collected (no manifest.json)",
    "no seed with runs of both systems",
    "(runs not in yet)",
)
_CHART_LINE = re.compile(r"^!\[F1 per language \((mlqa|squad)\)\]\(f1_\1\.png\)\n\n", re.M)
_ABSOLUTE = re.compile(r'"(/[^"]+)"')


class Gold:
    """The protocols' test files, split once per split into a temporary folder."""

    def __init__(self, xquad: str = XQUAD) -> None:
        self.xquad = xquad
        self.root = tempfile.mkdtemp(prefix="quality-gold-")
        self.dirs: dict[tuple[int, ...], str] = {}

    def test_dir(self, protocol: Protocol) -> str:
        split = protocol.split
        key = tuple(int(split.get(k, 0)) for k in ("train_articles", "dev_articles", "questions"))
        if key not in self.dirs:
            data = split_data(
                protocol, os.path.join(self.root, "-".join(map(str, key))), self.xquad
            )
            test = os.path.join(data, "test")
            if key[2]:
                from benchmarks.quality.e5_quickstart import make_subsets

                make_subsets(test, os.path.join(data, "quick"), key[2])
                test = os.path.join(data, "quick")
            self.dirs[key] = test
        return self.dirs[key]

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@cache
def _gold(path: str) -> tuple[Any, ...]:
    return tuple(read_gold_questions(path))


def rescore(run_dir: str, test_dir: str, modes: tuple[str, ...]) -> tuple[dict, list[str]]:
    """
    (mode -> language -> (EM, F1), problems): every prediction of `run_dir` scored in-process
    and checked against its committed score file.
    """
    scores: dict[str, dict[str, tuple[float, float]]] = {}
    problems = []
    predicted = set()
    for path in sorted(glob.glob(os.path.join(run_dir, "predictions", "xquad.*.json"))):
        lang = language_of(path)
        predicted.add(lang)
        gold = os.path.join(test_dir, f"xquad.{lang}.json")
        with open(path, encoding="utf-8") as handle:
            predictions = json.load(handle)
        for mode in modes:
            language = resolve_language(gold, None, mode)
            result = score_predictions(_gold(gold), predictions, language, mode)  # type: ignore[arg-type]
            scores.setdefault(mode, {})[lang] = (result["exact_match"], result["f1"])
            score_path = os.path.join(run_dir, "scores", f"xquad.{lang}.{mode}.json")
            if not os.path.exists(score_path):
                problems.append(f"{score_path}: missing (re-scored: {json.dumps(result)})")
            elif read_json(score_path) != result:
                problems.append(
                    f"{score_path}: committed {read_json(score_path)} != re-scored {result}"
                )
    for path in glob.glob(os.path.join(run_dir, "scores", "*.json")):
        if language_of(path) not in predicted:
            problems.append(f"{path}: a score without predictions")
    return scores, problems


def load_runs(
    protocol: Protocol, test_dir: str, systems: list[System] | None = None
) -> tuple[list[RunScores], list[str]]:
    """
    The runs of `systems` (default: the protocol's table systems), sorted by folder and
    re-scored; and the problems found.
    """
    runs, problems = [], []
    for system in protocol.table_systems if systems is None else systems:
        for seed in system.seeds:
            run_dir = os.path.join(protocol.store, system.run_name(seed))
            manifest_path = os.path.join(REPO, run_dir, "manifest.json")
            if not os.path.exists(manifest_path):
                problems.append(f"{run_dir}: not collected (no manifest.json)")
                continue
            manifest = read_json(manifest_path)
            expected = manifest_for(protocol, system, seed, {})
            for problem in _mismatch(expected, manifest):
                problems.append(f"{manifest_path}: {problem}")
            for name in ("manifest.json", "config.json"):
                path = os.path.join(REPO, run_dir, name)
                if os.path.exists(path):
                    with open(path, encoding="utf-8") as handle:
                        absolute = _ABSOLUTE.findall(handle.read())
                    if absolute:
                        problems.append(f"{path}: absolute paths {absolute[:2]}")
            scores, found = rescore(os.path.join(REPO, run_dir), test_dir, protocol.modes)
            problems += found
            if not any(scores.values()):
                continue
            runs.append(
                RunScores(
                    run_dir=run_dir,
                    system=manifest["system"],
                    seed=manifest["seed"],
                    train_languages=tuple(manifest["train_languages"]),
                    scores=scores,
                    train_seconds=manifest.get("train_seconds"),
                    eval_seconds=manifest.get("eval_seconds"),
                    test_mode=manifest.get("test_mode", "self"),
                )
            )
    return sorted(runs, key=lambda run: run.run_dir), problems


def with_runs_of(
    protocol: Protocol, test_dir: str, runs: list[RunScores], names: list[str]
) -> tuple[list[RunScores], list[str]]:
    """
    `runs` (the protocol's table runs, from `load_runs`) plus those of the systems `names`
    outside the table (e.g. a used protocol's systems), loaded with `load_runs`; and the
    problems found. A table system is never loaded twice: its missing runs were reported
    when `runs` was loaded.
    """
    have = {system.name for system in protocol.table_systems}
    missing = [protocol.system(name) for name in dict.fromkeys(names) if name not in have]
    extra, problems = load_runs(protocol, test_dir, missing) if missing else ([], [])
    return [*runs, *extra], problems


def write_report(
    protocol: Protocol, out_dir: str, gold: Gold, charts: bool = True
) -> tuple[list[str], list[str]]:
    """Write the protocol's report files into `out_dir`; returns (file names, problems)."""
    test_dir = gold.test_dir(protocol)
    runs, problems = load_runs(protocol, test_dir)
    if not runs:
        return [], [*problems, f"{protocol.name}: no run with predictions in {protocol.store}"]
    os.makedirs(out_dir, exist_ok=True)
    build_report(runs, out_dir, protocol.title, chart=charts)
    written = ["results.md", "summary.json"]
    if charts:
        written += [f"f1_{mode}.png" for mode in protocol.modes]
    baseline = protocol.report.get("gain_over")
    if baseline:
        base_runs, found = with_runs_of(protocol, test_dir, runs, [baseline])
        problems += found
        languages, result = gains_of(base_runs, baseline, "mlqa")
        with open(os.path.join(out_dir, f"{GAIN}.md"), "w", encoding="utf-8") as handle:
            handle.write(gain_table(languages, result))
        written.append(f"{GAIN}.md")
        if charts:
            write_gain_chart(
                languages, result, baseline, "mlqa", os.path.join(out_dir, f"{GAIN}.png")
            )
            written.append(f"{GAIN}.png")
    if protocol.report.get(CURVE):
        names, found = write_learning_curve(protocol, out_dir, test_dir, runs, charts)
        written += names
        problems += found
    for spec in protocol.report.get(VIEW, []):
        names, found = write_view(protocol, spec, out_dir, test_dir, runs, charts)
        written += names
        problems += found
    for comparison in protocol.comparisons:
        seeds = comparison_seeds(protocol, comparison)
        pairs = [
            (
                os.path.join(protocol.store, f"{comparison.a}-seed{s}"),
                os.path.join(protocol.store, f"{comparison.b}-seed{s}"),
            )
            for s in seeds
        ]
        pairs = [
            (a, b)
            for a, b in pairs
            if os.path.isdir(os.path.join(REPO, a)) and os.path.isdir(os.path.join(REPO, b))
        ]
        for mode in comparison.modes:
            name = comparison.file(mode)
            if not pairs:
                problems.append(f"{name}: no seed with runs of both systems")
                continue
            try:
                text = compare_runs(
                    test_dir,
                    [os.path.join(REPO, a) for a, _ in pairs],
                    [os.path.join(REPO, b) for _, b in pairs],
                    mode,
                    comparison.languages,
                    comparison.unseen,
                )
            except ValueError as error:
                problems.append(f"{name}: {error}")
                continue
            with open(os.path.join(out_dir, name), "w", encoding="utf-8") as handle:
                handle.write(text)
            written.append(name)
    if protocol.report.get("committed") == "partial":
        pending = [p for p in problems if p.endswith(_PENDING)]
        problems = [p for p in problems if not p.endswith(_PENDING)]
        with open(os.path.join(out_dir, "pending.md"), "w", encoding="utf-8") as handle:
            handle.write(pending_text(protocol, pending))
        written.append("pending.md")
    return written, problems


def pending_text(protocol: Protocol, pending: list[str]) -> str:
    """`pending.md` of a protocol committed in part: the runs and comparisons not in yet."""
    lines = [
        f"# {protocol.name}: not run yet",
        "",
        'The protocol is committed in part (`report.committed: "partial"`): these runs are',
        "defined but not collected; the tables and comparisons of this report use those that",
        "are.",
        "",
    ]
    items = [f"- {p}" for p in sorted(set(pending))] or ["- nothing: every run is in"]
    return "\n".join(lines + items) + "\n"


def _language_set(protocol: Protocol, spec: dict[str, Any]) -> tuple[list[str], str]:
    """The languages and name of a report spec's `unseen` (a protocol language set or a list)."""
    unseen = spec.get("unseen", "unseen-9")
    if isinstance(unseen, str):
        return list(protocol.raw.get("language_sets", {})[unseen]), unseen
    return list(unseen), ",".join(unseen)


def write_learning_curve(
    protocol: Protocol, out_dir: str, test_dir: str, runs: list[RunScores], charts: bool
) -> tuple[list[str], list[str]]:
    """`learning_curve.md` (and `.png`) of `report.learning_curve`; (file names, problems)."""
    spec = protocol.report[CURVE]
    languages, set_name = _language_set(protocol, spec)
    mode = spec.get("mode", "mlqa")
    lines = [(line["label"], list(line["systems"])) for line in spec["lines"]]
    wanted = [protocol.system(name) for _, names in lines for name in names]
    all_runs, problems = with_runs_of(protocol, test_dir, runs, [s.name for s in wanted])
    steps_of = {
        s.name: int(s.settings["epochs"]) * int(s.settings["steps_per_epoch"]) for s in wanted
    }
    try:
        curves = curve_lines(all_runs, lines, steps_of, languages, mode)
    except ValueError as error:
        return [], [*problems, f"{CURVE}: {error}"]
    with open(os.path.join(out_dir, f"{CURVE}.md"), "w", encoding="utf-8") as handle:
        handle.write(curve_table(curves, set_name, mode))
    written = [f"{CURVE}.md"]
    if charts:
        write_curve_chart(curves, set_name, mode, os.path.join(out_dir, f"{CURVE}.png"))
        written.append(f"{CURVE}.png")
    return written, problems


def write_view(
    protocol: Protocol,
    spec: dict[str, Any],
    out_dir: str,
    test_dir: str,
    runs: list[RunScores],
    charts: bool,
) -> tuple[list[str], list[str]]:
    """
    `per_language_NAME.md` (and `.png`) of one `report.per_language` view; (file names,
    problems). A view whose runs are not all in yet is a pending problem of a partial protocol.
    """
    name = f"{VIEW}_{spec['name']}"
    languages, set_name = _language_set(protocol, spec)
    mode = spec.get("mode", "mlqa")
    all_runs, problems = with_runs_of(protocol, test_dir, runs, list(spec["systems"]))
    try:
        chosen, seeds = view_runs(all_runs, spec["systems"], spec.get("seeds"))
    except ValueError as error:
        return [], [*problems, f"{name}.md: {error} (runs not in yet)"]
    text, table, columns = view_table(chosen, seeds, set_name, languages, mode)
    seed_list = ", ".join(map(str, seeds))
    title = f"{spec.get('title', spec['name'])}, seed{'s' if len(seeds) > 1 else ''} {seed_list}"
    with open(os.path.join(out_dir, f"{name}.md"), "w", encoding="utf-8") as handle:
        handle.write(f"# {title}\n\n{text}")
    written = [f"{name}.md"]
    if charts:
        write_view_chart(table, columns, os.path.join(out_dir, f"{name}.png"), title)
        written.append(f"{name}.png")
    return written, problems


def report(protocol: Protocol, charts: bool = True, gold: Gold | None = None) -> list[str]:
    """Write the report into the protocol's report folder (stale generated files removed)."""
    own = gold or Gold()
    try:
        out_dir = os.path.join(REPO, protocol.report_dir)
        written, problems = write_report(protocol, out_dir, own, charts)
        kept = set(protocol.report.get("kept", []))
        for path in glob.glob(os.path.join(out_dir, "*")):
            name = os.path.basename(path)
            stale = name not in written and name not in kept
            if stale and (charts or not name.endswith(".png")):
                os.remove(path)
        return problems
    finally:
        if gold is None:
            own.close()


def check(protocol: Protocol, charts: bool = True, gold: Gold | None = None) -> list[str]:
    """Regenerate the report into a temporary folder; every difference with the committed one."""
    own = gold or Gold()
    scratch = tempfile.mkdtemp(prefix=f"quality-{protocol.name}-")
    try:
        written, problems = write_report(protocol, scratch, own, charts)
        committed_dir = os.path.join(REPO, protocol.report_dir)
        kept = set(protocol.report.get("kept", []))
        for name in written:
            new, old = os.path.join(scratch, name), os.path.join(committed_dir, name)
            if not os.path.exists(old):
                problems.append(f"{protocol.report_dir}/{name}: not committed")
                continue
            problems += _differences(old, new, f"{protocol.report_dir}/{name}", charts)
        for path in sorted(glob.glob(os.path.join(committed_dir, "*"))):
            name = os.path.basename(path)
            if name not in written and name not in kept and (charts or not name.endswith(".png")):
                problems.append(f"{protocol.report_dir}/{name}: committed, not generated")
        return problems
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if gold is None:
            own.close()


def _differences(old: str, new: str, label: str, charts: bool) -> list[str]:
    with open(old, "rb") as handle:
        before = handle.read()
    with open(new, "rb") as handle:
        after = handle.read()
    if not charts and label.endswith("results.md"):  # the chart lines are written with charts only
        before = _CHART_LINE.sub("", before.decode("utf-8")).encode("utf-8")
    if before == after:
        return []
    if label.endswith(".png"):
        return [f"{label}: differs ({len(before)} vs {len(after)} bytes)"]
    diff = difflib.unified_diff(
        before.decode("utf-8").splitlines(),
        after.decode("utf-8").splitlines(),
        "committed",
        "regenerated",
        lineterm="",
        n=0,
    )
    return [f"{label}: differs\n" + "\n".join(list(diff)[:12])]
