"""benchmarks/quality/learning_curve.py on hand-made runs (numbers worked out by hand)."""

from pathlib import Path

import pytest

from benchmarks.quality.learning_curve import curve_lines, curve_table, write_curve_chart
from xltt_plugin.commands.report_tables import RunScores


def _run(system: str, seed: int, ar: float, hi: float, seconds: float | None) -> RunScores:
    # en is scored too and must not enter the unseen mean.
    scores = {"mlqa": {"en": (0.0, 99.0), "ar": (0.0, ar), "hi": (0.0, hi)}}
    return RunScores(f"store/{system}-seed{seed}", system, seed, ("en",), scores, seconds)


RUNS = [
    _run("a240", 14, 50.0, 40.0, 1000.0),  # mean 45
    _run("a60", 13, 30.0, 20.0, 200.0),  # mean 25
    _run("a60", 14, 34.0, 20.0, 220.0),  # mean 27
    _run("a240", 13, 50.0, 44.0, 900.0),  # mean 47
    _run("c60", 13, 40.0, 41.0, 800.0),  # mean 40.5
    _run("other", 13, 0.0, 0.0, 1.0),  # in no line
]
LINES = [("(a)", ["a60", "a240"]), ("(c)", ["c60"]), ("(b)", ["b60"])]
STEPS = {"a60": 60, "a240": 240, "c60": 60, "b60": 60}


def test_lines_average_the_set_and_sort_by_budget_then_seed() -> None:
    lines = curve_lines(RUNS, LINES, STEPS, ["ar", "hi"], "mlqa")
    assert [line.label for line in lines] == ["(a)", "(c)"]  # (b) has no run: no line
    a = lines[0].points
    assert [(p.steps, p.seed, p.f1) for p in a] == [
        (60, 13, 25.0),
        (60, 14, 27.0),
        (240, 13, 47.0),
        (240, 14, 45.0),
    ]
    assert lines[1].points[0].f1 == pytest.approx(40.5)


def test_table_rows_mean_sd_range_and_time() -> None:
    table = curve_table(curve_lines(RUNS, LINES, STEPS, ["ar", "hi"], "mlqa"), "unseen", "mlqa")
    rows = [line for line in table.splitlines() if line.startswith("| (")]
    # sd of (25, 27) and of (47, 45) is sqrt(2) = 1.41; times 210 and 950.
    assert rows == [
        "| (a) | 60 | 13,14 | 26.0 | 1.4 | 25.0 - 27.0 | 210 |",
        "| (a) | 240 | 13,14 | 46.0 | 1.4 | 45.0 - 47.0 | 950 |",
        "| (c) | 60 | 13 | 40.5 | - | 40.5 - 40.5 | 800 |",
    ]


def test_a_run_without_a_language_of_the_set_is_named() -> None:
    with pytest.raises(ValueError, match=r"store/a240-seed14: no mlqa score for zh"):
        curve_lines(RUNS, LINES, STEPS, ["ar", "zh"], "mlqa")


def test_the_chart_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "curve.png"
    untimed = [*RUNS, _run("b60", 13, 1.0, 2.0, None)]
    write_curve_chart(
        curve_lines(untimed, LINES, STEPS, ["ar", "hi"], "mlqa"), "u", "mlqa", str(path)
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
