import json
import math
import re
from pathlib import Path
from typing import Any, Optional

import pytest
from allennlp.commands import main

from xltt_plugin.commands import report  # noqa: F401  registers xltt-report
from xltt_plugin.commands.report_tables import (
    ReportError,
    build_report,
    load_run,
    mean_sd,
    order_languages,
)


def fake_run(
    root: Path,
    name: str,
    scores: dict[str, tuple[float, float]],
    mode: str = "mlqa",
    info: Optional[dict] = None,
) -> Path:
    """A run folder as benchmarks/quality/run.py leaves it: scores/xquad.LANG.MODE.json."""
    run = root / name
    (run / "scores").mkdir(parents=True, exist_ok=True)
    for lang, (em, f1) in scores.items():
        result = {"exact_match": em, "f1": f1, "lang": lang, "mode": mode, "questions": 10}
        (run / "scores" / f"xquad.{lang}.{mode}.json").write_text(json.dumps(result))
    if info is not None:
        (run / "benchmark.json").write_text(json.dumps(info))
    return run


def test_load_run_reads_name_seed_and_evaluate_metrics(tmp_path: Path) -> None:
    run = fake_run(tmp_path, "base-seed7", {"en": (20.0, 30.0)})
    # allennlp evaluate output of the xltt model: 0-1 scale, mlqa rules; xltt-score wins for en.
    (run / "metrics.de.json").write_text(
        json.dumps({"em_de": 0.05, "f1_de": 0.125, "em_en": 0.9, "f1_en": 0.9, "f1_avg": 0.5})
    )
    loaded = load_run(str(run), ("en",))
    assert (loaded.system, loaded.seed, loaded.train_languages) == ("base", 7, ("en",))
    assert loaded.scores["mlqa"] == {"en": (20.0, 30.0), "de": (5.0, 12.5)}


def test_load_run_errors_name_the_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty-seed1"
    empty.mkdir()
    with pytest.raises(ReportError, match="empty-seed1 holds no scores"):
        load_run(str(empty))
    bad = fake_run(tmp_path, "bad-seed1", {"en": (1.0, 2.0)})
    (bad / "scores" / "broken.json").write_text(json.dumps({"f1": 3}))
    with pytest.raises(ReportError, match=r"broken\.json is not an xltt-score output"):
        load_run(str(bad))


def test_mean_sd_and_language_order() -> None:
    assert mean_sd([1.0]) == (1.0, 0.0)
    mean, sd = mean_sd([10.0, 14.0])
    assert mean == 12.0 and sd == pytest.approx(math.sqrt(8.0))
    assert order_languages(["zh", "xx", "en", "de", "es"]) == ["en", "es", "de", "zh", "xx"]


def test_report_averages_seeds_and_unseen_languages(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is a bench-only dependency")
    en_only = {"system": "a", "train_languages": ["en"]}
    mixed = {"system": "b", "train_languages": ["en", "de"]}
    runs = [
        fake_run(
            tmp_path,
            "a-seed1",
            {"en": (10, 20), "de": (2, 4), "vi": (4, 8), "zh": (0, 2)},
            info=en_only | {"seed": 1, "train_seconds": 60},
        ),
        fake_run(
            tmp_path,
            "a-seed2",
            {"en": (14, 30), "de": (4, 6), "vi": (6, 12), "zh": (2, 4)},
            info=en_only | {"seed": 2, "train_seconds": 180},
        ),
        fake_run(
            tmp_path,
            "b-seed1",
            {"en": (9, 19), "de": (8, 16), "vi": (5, 9), "zh": (1, 1)},
            info=mixed | {"seed": 1},
        ),
    ]
    out = tmp_path / "report"
    summary = build_report([load_run(str(r)) for r in runs], str(out), "T")
    table = summary["modes"]["mlqa"]["table"]
    # Unseen by every system: vi, zh (de is seen by b). Latin-script unseen: vi.
    assert summary["modes"]["mlqa"]["unseen"] == ["vi", "zh"]
    assert summary["modes"]["mlqa"]["unseen_latin"] == ["vi"]
    # a: F1 en over seeds (20+30)/2; unseen avg per seed (8+2)/2=5 and (12+4)/2=8 -> 6.5, sd 2.12
    assert table["a"]["en"]["f1"] == 25.0 and table["a"]["en"]["runs"] == 2
    assert table["a"]["avg unseen"]["f1"] == pytest.approx(6.5)
    assert table["a"]["avg unseen"]["f1_sd"] == pytest.approx(math.sqrt(4.5))
    # EM unseen per seed: (4+0)/2=2 and (6+2)/2=4 -> 3
    assert table["a"]["avg unseen"]["em"] == pytest.approx(3.0)
    assert table["b"]["avg unseen Latin"]["f1"] == 9.0
    # Own unseen: a (en) -> de, vi, zh per seed: (4+8+2)/3 and (6+12+4)/3; b (en, de) -> vi, zh.
    assert table["a"]["avg own unseen"]["f1"] == pytest.approx((14 / 3 + 22 / 3) / 2)
    assert table["b"]["avg own unseen"]["f1"] == pytest.approx(5.0)
    markdown = (out / "results.md").read_text()
    assert "| a | en | 2 | 25.0 / 12.0 (±7.1)" in markdown
    assert "16.0 / 8.0*" in markdown  # b was trained on de
    assert "| a | 2 | 2.0 | - |" in markdown  # mean train minutes (1 and 3)
    assert (out / "f1_mlqa.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_partly_scored_runs_are_left_out_of_the_averages(tmp_path: Path) -> None:
    en_only = {"system": "a", "train_languages": ["en"]}
    runs = [
        fake_run(
            tmp_path,
            "a-seed1",
            {"en": (10, 20), "de": (2, 4), "vi": (4, 8), "zh": (0, 2)},
            info=en_only | {"seed": 1},
        ),
        # Still being scored: no zh yet. Its de/vi count in their columns, not in the averages.
        fake_run(
            tmp_path,
            "a-seed2",
            {"en": (14, 30), "de": (4, 40), "vi": (6, 60)},
            info=en_only | {"seed": 2},
        ),
    ]
    summary = build_report(
        [load_run(str(r)) for r in runs], str(tmp_path / "report"), "T", chart=False
    )
    table = summary["modes"]["mlqa"]["table"]
    assert table["a"]["vi"]["f1"] == pytest.approx(34.0) and table["a"]["vi"]["runs"] == 2
    # Over de, vi, zh of seed 1 only: (4 + 8 + 2) / 3 (seed 2's (40 + 60) / 2 would be 50).
    assert table["a"]["avg own unseen"]["f1"] == pytest.approx(14 / 3)
    assert table["a"]["avg own unseen"]["runs"] == 1
    assert table["a"]["avg unseen"]["f1"] == pytest.approx(14 / 3)


def test_cli_writes_report_and_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    run = fake_run(tmp_path, "base-seed3", {"en": (50.0, 60.0), "hi": (1.0, 2.0)}, mode="squad")
    out = tmp_path / "out"
    monkeypatch.setattr(
        "sys.argv", ["allennlp", "xltt-report", str(run), "--out", str(out), "--no-chart"]
    )
    main()
    printed = capsys.readouterr().out
    assert (
        "## squad rules" in printed
        and "| base | en | 1 | 60.0 / 50.0* | 2.0 / 1.0 | 2.0 / 1.0 | 2.0 / 1.0 |" in printed
    )
    assert not list(out.glob("*.png"))
    monkeypatch.setattr(
        "sys.argv", ["allennlp", "xltt-report", str(tmp_path / "missing"), "--out", str(out)]
    )
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 1
    assert re.search(r"^xltt-report: error: .*missing is not a folder$", capsys.readouterr().err)


def test_chart_without_matplotlib_fails_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    run = fake_run(tmp_path, "x-seed1", {"en": (1.0, 2.0)})
    with pytest.raises(ReportError, match=r"matplotlib.*make bench-setup"):
        build_report([load_run(str(run))], str(tmp_path / "o"), "T")


def test_tables_say_the_test_mode_and_where_translations_came_from(tmp_path: Path) -> None:
    self_run = fake_run(tmp_path, "xltt-self-seed1", {"en": (10.0, 20.0)})
    translated = tmp_path / "xltt-translated-seed1"
    translated.mkdir()
    (translated / "metrics.hi.json").write_text(
        json.dumps(
            {
                "em_hi": 0.25,
                "f1_hi": 0.5,
                "test_mode": "translated: ja,ko",
                "translation_files": {"ja": "mt/hi.ja.json", "ko": "mt/hi.ko.json"},
            }
        )
    )
    assert load_run(str(self_run)).test_mode == "self"
    summary = build_report(
        [load_run(str(self_run)), load_run(str(translated))], str(tmp_path / "out"), "t", False
    )
    rows = [line for line in summary["markdown"].splitlines() if line.startswith("| xltt")]
    assert "| test mode |" in summary["markdown"]
    assert any(
        row.startswith("| xltt-self | en | 1 |") and row.endswith("| self |") for row in rows
    )
    assert any(
        row.startswith("| xltt-translated | en | 1 |") and row.endswith("| translated: ja,ko |")
        for row in rows
    )
    assert "ja from mt/hi.ja.json" in summary["markdown"]
    assert summary["test_modes"][str(translated)] == "translated: ja,ko"
    # One folder with both modes cannot be reported unlabelled: an error naming the files.
    (translated / "metrics.de.json").write_text(
        json.dumps({"em_de": 0.1, "f1_de": 0.2, "test_mode": "self"})
    )
    with pytest.raises(ReportError, match=r"mixes test modes.*metrics\.de\.json"):
        load_run(str(translated))
