"""benchmarks/quality/per_language.py on hand-made runs (numbers worked out by hand)."""

from pathlib import Path

import pytest

from benchmarks.quality.per_language import view_runs, view_table, write_view_chart
from xltt_plugin.commands.report_tables import RunScores


def _run(
    system: str, seed: int, ar: float, hi: float, trained: tuple[str, ...] = ("en",)
) -> RunScores:
    scores = {"mlqa": {"en": (10.0, 90.0), "ar": (ar / 2, ar), "hi": (hi / 2, hi)}}
    return RunScores(f"store/{system}-seed{seed}", system, seed, trained, scores)


RUNS = [
    _run("a", 15, 30.0, 40.0),
    _run("a", 13, 50.0, 40.0),
    _run("a", 14, 10.0, 20.0),
    _run("c", 13, 60.0, 50.0, ("en", "de")),
    _run("c", 15, 40.0, 30.0, ("en", "de")),
    _run("b", 13, 1.0, 1.0),
]


def test_default_seeds_are_those_every_system_has() -> None:
    runs, seeds = view_runs(RUNS, ["c", "a"])
    assert seeds == [13, 15]
    # Systems in the asked order, seeds ascending; seed 14 of (a) and system b left out.
    assert [run.run_dir for run in runs] == [
        "store/c-seed13",
        "store/c-seed15",
        "store/a-seed13",
        "store/a-seed15",
    ]


def test_asked_seeds_must_all_be_there() -> None:
    runs, seeds = view_runs(RUNS, ["a"], [14, 13])
    assert seeds == [13, 14]
    assert [run.seed for run in runs] == [13, 14]
    with pytest.raises(ValueError, match=r"no run of c seed 14, b seed 14"):
        view_runs(RUNS, ["a", "c", "b"], [14])


def test_systems_without_a_common_seed_are_named() -> None:
    with pytest.raises(ValueError, match=r"no seed that every system has \(a: 14; b: 13\)"):
        view_runs([RUNS[2], RUNS[5]], ["a", "b"])


def test_table_averages_each_system_over_the_same_seeds() -> None:
    runs, seeds = view_runs(RUNS, ["a", "c"])
    text, table, columns = view_table(runs, seeds, "u2", ["ar", "hi"], "mlqa")
    assert columns == ["en", "ar", "hi", "avg u2"]
    # (a) on seeds 13, 15: ar (50+30)/2 = 40, hi 40; per-seed set means 45 and 35 -> 40,
    # sd sqrt(50) = 7.07. (c): ar 50, hi 40; set means 55 and 35 -> 45, sd 14.14.
    assert table["a"]["ar"].f1 == pytest.approx(40.0)
    assert table["a"]["avg u2"].f1 == pytest.approx(40.0)
    assert table["a"]["avg u2"].f1_sd == pytest.approx(50**0.5)
    assert table["c"]["avg u2"].f1 == pytest.approx(45.0)
    assert "avg own unseen" not in table["a"]
    rows = [
        line for line in text.splitlines() if line.startswith("| a |") or line.startswith("| c |")
    ]
    assert rows == [
        "| a | en | 2 | 90.0 / 10.0 (±0.0)* | 40.0 / 20.0 (±14.1) | 40.0 / 20.0 (±0.0) "
        "| 40.0 / 20.0 (±7.1) | self |",
        "| c | en,de | 2 | 90.0 / 10.0 (±0.0)* | 50.0 / 25.0 (±14.1) | 40.0 / 20.0 (±14.1) "
        "| 45.0 / 22.5 (±14.1) | self |",
    ]
    assert "mean over seeds 13, 15 for every system" in text


def test_the_view_chart_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    runs, seeds = view_runs(RUNS, ["a", "c"])
    _, table, columns = view_table(runs, seeds, "u2", ["ar", "hi"], "mlqa")
    path = tmp_path / "view.png"
    write_view_chart(table, columns, str(path), "t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
