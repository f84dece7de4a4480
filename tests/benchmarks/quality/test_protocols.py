"""
benchmarks/quality as data (issue 31): the protocols load, `collect` imports run.py-layout
folders with manifests and no absolute path, and `make results` on a small subset (e5-quickstart,
tables only, and one run of e5-main re-scored): the committed predictions re-score to the
committed scores and tables. No training.
"""

import glob
import json
import os
from pathlib import Path

import pytest

from benchmarks.quality import protocol as protocols
from benchmarks.quality.__main__ import main
from benchmarks.quality.collect import collect, sanitize
from benchmarks.quality.protocol import ProtocolError
from benchmarks.quality.report import (
    Gold,
    check,
    pending_text,
    rescore,
    with_runs_of,
    write_report,
)
from tests import REPO

XQUAD = Path(REPO).parent / "shared" / "data" / "xquad"
needs_xquad = pytest.mark.skipif(
    not list(XQUAD.glob("xquad.*.json")), reason="no ../shared/data/xquad"
)


def _protocol_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    """Protocol `name` (Jsonnet `text`) in a scratch protocols folder beside the real libsonnets."""
    (tmp_path / f"{name}.jsonnet").write_text(text, encoding="utf-8")
    for lib in glob.glob(os.path.join(protocols.PROTOCOLS, "*.libsonnet")):
        (tmp_path / os.path.basename(lib)).write_text(Path(lib).read_text(encoding="utf-8"))
    monkeypatch.setattr(protocols, "PROTOCOLS", str(tmp_path))


def test_every_protocol_loads_and_names_existing_configs() -> None:
    names = protocols.protocol_names()
    assert {"e5-main", "e5-lr1e-4", "e5-ablations", "e5-dev-lr", "e5-quickstart"} <= set(names)
    for name in names:
        protocol = protocols.load(name)
        for system in protocol.systems:
            assert os.path.exists(
                os.path.join(REPO, "benchmarks", "quality", f"{system.config}.jsonnet")
            )
        for comparison in protocol.comparisons:
            assert protocols.comparison_seeds(protocol, comparison), comparison


def test_e5_main_is_the_readme_result() -> None:
    main_result = protocols.load("e5-main")
    assert [s.name for s in main_result.systems] == [
        "a_baseline_en-lr2e-4",
        "b_translate_train-lr2e-4",
        "c_xltt-lr2e-4",
        "d_xltt_translated-lr2e-4",
    ]
    c, d = main_result.systems[2], main_result.systems[3]
    assert c.seeds == (13, 14, 15) and c.env()["LR"] == "0.0002"
    assert c.env()["EPOCHS"] == "4" and c.env()["STEPS_PER_EPOCH"] == "15"
    assert d.reuses == "c_xltt-lr2e-4" and d.slots == ("de", "es") and d.settings == c.settings
    dev = protocols.load("e5-dev-lr")
    assert dev.split["dev_articles"] == 6 and dev.store.endswith("results/e5-dev")
    assert dev.system("a_baseline_en-unfrozen").env()["FREEZE_WORD_EMBEDDINGS"] == "0"


def test_a_system_may_override_its_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _protocol_in(
        tmp_path,
        monkeypatch,
        "budget",
        'local e5 = import "e5.libsonnet";\n'
        "e5 { systems: [e5.a { name: 'a-240', epochs: 4, steps_per_epoch: 60, lr: 3e-4 },"
        " e5.d(e5.c) + { name: 'd-x' }], comparisons: [] }",
    )
    with pytest.raises(ProtocolError, match="reuses 'c_xltt', not defined before it"):
        protocols.load("budget")
    (tmp_path / "budget.jsonnet").write_text(
        'local e5 = import "e5.libsonnet";\n'
        "e5 { systems: [e5.a { name: 'a-240', steps_per_epoch: 60, lr: 3e-4 }],"
        " comparisons: [] }",
        encoding="utf-8",
    )
    env = protocols.load("budget").systems[0].env()
    assert (env["EPOCHS"], env["STEPS_PER_EPOCH"], env["LR"]) == ("4", "60", "0.0003")


def test_collect_imports_a_run_py_folder(tmp_path: Path) -> None:
    """An old-layout run (benchmark.json, absolute paths) becomes a manifest run folder."""
    run = tmp_path / "out" / "runs" / "c_xltt-lr2e-4-noaux-seed13"
    (run / "predictions").mkdir(parents=True)
    (run / "scores").mkdir()
    (run / "predictions" / "xquad.en.json").write_text('{"q": "a"}', encoding="utf-8")
    (run / "scores" / "xquad.en.mlqa.json").write_text("{}", encoding="utf-8")
    protocol = protocols.load("e5-ablations")
    system = protocol.system("c_xltt-lr2e-4-noaux")
    info = {
        "system": system.name,
        "seed": 13,
        "settings": system.env(),
        "train_overrides": json.dumps(system.train_overrides),
        "train_seconds": 828.7,
    }
    (run / "benchmark.json").write_text(json.dumps(info), encoding="utf-8")
    data = str(tmp_path / "out" / "data")
    (run / "config.json").write_text(
        json.dumps(
            {
                "train_data_path": data + "/train/xquad.en.json",
                "model": {"transformer_model_name": "/x/benchmarks/out/multilingual-e5-small"},
            }
        ),
        encoding="utf-8",
    )
    protocol.store = str(tmp_path / "store")
    lines = collect(protocol, str(tmp_path / "out"), systems=[system.name])
    assert lines == ["c_xltt-lr2e-4-noaux-seed13: 1 languages scored (en)"]
    target = tmp_path / "store" / "c_xltt-lr2e-4-noaux-seed13"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["protocol"] == "e5-ablations" and manifest["train_seconds"] == 828.7
    assert manifest["train_overrides"]["model.aux_loss_weight"] == 0
    assert "mismatch" not in manifest and not (target / "benchmark.json").exists()
    config = json.loads((target / "config.json").read_text(encoding="utf-8"))
    assert config["train_data_path"] == "${DATA}/train/xquad.en.json"
    assert config["model"]["transformer_model_name"] == "${ENCODER}"
    # Another learning rate than the protocol's: refused unless forced.
    info["settings"] = dict(system.env(), LR="0.0001")
    (run / "benchmark.json").write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(ProtocolError, match="LR"):
        collect(protocol, str(tmp_path / "out"), systems=[system.name])


def test_sanitize_refuses_a_path_it_has_no_role_for() -> None:
    assert sanitize('{"p": "/w/benchmarks/out/quality-e5/data/test/x.json"}') == (
        '{"p": "${DATA}/test/x.json"}'
    )
    with pytest.raises(ProtocolError, match="absolute paths left"):
        sanitize('{"p": "/home/someone/file.json"}')


def test_no_committed_run_carries_an_absolute_path() -> None:
    stores = {protocols.load(name).store for name in protocols.protocol_names()}
    for store in stores:
        for path in glob.glob(os.path.join(REPO, store, "*", "*.json")):
            text = Path(path).read_text(encoding="utf-8")
            assert '"/' not in text, path
            assert not os.path.basename(path) == "benchmark.json", path


def test_list_prints_every_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    printed = capsys.readouterr().out
    assert "e5-main: Main result" in printed and "e5-dev-lr:" in printed


@needs_xquad
def test_make_results_on_a_subset() -> None:
    """`make results` as CI runs it: e5-quickstart's tables, one e5-main run re-scored."""
    gold = Gold(str(XQUAD))
    try:
        assert check(protocols.load("e5-quickstart"), charts=False, gold=gold) == []
        main_result = protocols.load("e5-main")
        run = os.path.join(REPO, main_result.store, "d_xltt_translated-lr2e-4-seed13")
        scores, problems = rescore(run, gold.test_dir(main_result), main_result.modes)
        assert problems == []
        assert len(scores["mlqa"]) == 12 and len(scores["squad"]) == 12
    finally:
        gold.close()


def test_translated_slots_may_come_from_other_files() -> None:
    # e5-mt's (d-mt): the pt machine translation of the test items, not a file of the split.
    mt = protocols.load("e5-mt")
    d = mt.system("d_xltt_translated-lr2e-4-mt")
    assert d.reuses == "c_xltt-lr2e-4-mt" and d.slots == ("pt",) and d.languages == ("en",)
    assert d.slot_file("pt", "/split/test") == os.path.join(
        REPO, "benchmarks", "out", "mt-pt", "test", "xquad.pt.json"
    )
    assert "machine translation" in d.test_mode
    assert mt.system("c_xltt-lr2e-4-mt").train_languages == ("en", "pt")
    # Without slot_files: the split's own (human) versions, as in e5-main's (d).
    d_human = protocols.load("e5-main").system("d_xltt_translated-lr2e-4")
    assert d_human.slot_file("de", "/split/test") == os.path.join("/split/test", "xquad.de.json")
    assert "human translations" in d_human.test_mode


def test_slot_files_must_be_repository_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _protocol_in(
        tmp_path,
        monkeypatch,
        "slots",
        'local e5 = import "e5.libsonnet";\n'
        "e5 { systems: [e5.c, e5.d(e5.c) + { test_mode: { translated: ['pt'],"
        " slot_files: { pt: '/abs/xquad.pt.json' } } }], comparisons: [] }",
    )
    with pytest.raises(ProtocolError, match="repository-relative path"):
        protocols.load("slots")


def test_manifest_of_a_translated_run_written_by_the_runner_has_no_mismatch() -> None:
    # The runner records only wall times and the commit (`found` has no test_mode): the
    # protocol's test mode stands, and a stale `mismatch` of an earlier manifest is not kept.
    from benchmarks.quality.collect import manifest_for

    protocol = protocols.load("e5-main")
    d = protocol.system("d_xltt_translated-lr2e-4")
    found = {"train_seconds": 1.0, "eval_seconds": 2.0, "mismatch": ["stale"]}
    manifest = manifest_for(protocol, d, 13, found)
    assert "mismatch" not in manifest and manifest["test_mode"].startswith("translated: de,es")
    # A recorded test mode that differs is still caught.
    wrong = manifest_for(protocol, d, 13, {"test_mode": "self"})
    assert wrong["mismatch"] == [f"test_mode 'self' != {d.test_mode!r}"]


def _test_files(tmp_path: Path, languages: tuple[str, ...]) -> Path:
    """A split's data folder whose test/ holds an (empty) file per language."""
    data = tmp_path / "data"
    (data / "test").mkdir(parents=True)
    for language in languages:
        (data / "test" / f"xquad.{language}.json").write_text("{}", encoding="utf-8")
    return data


def test_the_runner_diagnoses_trained_maa_archives_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.quality import runner

    protocol = protocols.load("e5-main")
    data = _test_files(tmp_path, ("en", "de", "es"))
    commands: list[list[str]] = []

    def fake_run(command: list[str], env: dict[str, str], log: str) -> None:
        commands.append(command)
        Path(command[command.index("--output") + 1]).write_text("{}", encoding="utf-8")

    monkeypatch.setattr(runner, "_run", fake_run)

    def job(name: str, model: dict) -> "runner.Job":
        made = runner.Job(protocol, protocol.system(name), 13, str(tmp_path), {"DATA": str(data)})
        os.makedirs(made.run_dir, exist_ok=True)
        (Path(made.run_dir) / "config.json").write_text(json.dumps({"model": model}), "utf-8")
        return made

    xltt = {"type": "xltt", "maa": {"num_heads": 1}}
    job("a_baseline_en-lr2e-4", {"type": "xltt", "maa": None}).diagnose()
    job("d_xltt_translated-lr2e-4", xltt).diagnose()
    assert commands == []  # no MAA; an archive reused
    c = job("c_xltt-lr2e-4", xltt)
    c.diagnose()
    assert len(commands) == 1 and commands[0][-5:-1] == ["--slots", "de", "es", "--output"]
    assert os.path.exists(os.path.join(c.run_dir, "maa_diagnostic.en.json"))
    c.diagnose()  # done: not again
    assert len(commands) == 1
    (data / "test" / "xquad.es.json").unlink()
    job("c_xltt-lr2e-4", xltt)
    os.remove(os.path.join(c.run_dir, "maa_diagnostic.en.json"))
    c.diagnose()  # a slot language without a test file
    assert len(commands) == 1


def test_an_evaluation_that_predicts_nothing_keeps_the_recorded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.quality import runner

    protocol = protocols.load("e5-main")
    data = _test_files(tmp_path, ("en", "zh"))

    def fake_run(command: list[str], env: dict[str, str], log: str) -> None:
        Path(command[command.index("--output-file") + 1]).write_text("{}", encoding="utf-8")

    monkeypatch.setattr(runner, "_run", fake_run)
    monkeypatch.setattr(runner, "score_file", lambda *args: None)
    job = runner.Job(
        protocol,
        protocol.system("a_baseline_en-lr2e-4"),
        13,
        str(tmp_path),
        {"DATA": str(data), "ENCODER": "enc"},
    )
    job.evaluate(["en"], 1)
    assert job.info["eval_timed_languages"] == ["en"]
    job.info["eval_seconds"] = 100.0  # as if en had taken 100 s
    job.evaluate(None, 1)  # zh only is new: its time is added, en's kept
    assert 100.0 <= job.info["eval_seconds"] < 110.0
    assert job.info["eval_timed_languages"] == ["en", "zh"]
    seconds = job.info["eval_seconds"]
    job.evaluate(None, 1)  # nothing to predict: the record stands
    assert job.info["eval_seconds"] == seconds


@needs_xquad
def test_a_protocol_committed_in_part_lists_what_is_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # e5-quickstart's one committed run, plus a system and a seed that were never run.
    quick = Path(protocols.PROTOCOLS, "e5-quickstart.jsonnet").read_text(encoding="utf-8")
    text = quick.replace("systems: [e5.a],", "systems: [e5.a, e5.a { name: 'a_more' }],")
    text = text.replace("comparisons: [],", "comparisons: [{ a: 'a_baseline_en', b: 'a_more' }],")
    # A per-language view of a system whose run is missing is pending too; one of the
    # committed run alone is written.
    views = (
        "per_language: [{ name: 'v', systems: ['a_baseline_en', 'a_more'] },"
        " { name: 'w', systems: ['a_baseline_en'], unseen: ['ar', 'hi'] }]"
    )
    for committed in ("true", '"partial"'):
        _protocol_in(
            tmp_path,
            monkeypatch,
            "quick",
            text + f"+ {{ report+: {{ committed: {committed}, {views} }} }}",
        )
        gold = Gold(str(XQUAD))
        try:
            written, problems = write_report(
                protocols.load("quick"), str(tmp_path / committed), gold, charts=False
            )
        finally:
            gold.close()
        assert "per_language_w.md" in written and "per_language_v.md" not in written
        if committed == "true":  # a protocol that says it is complete: all three are problems
            assert len(problems) == 3 and "pending.md" not in written
            continue
        assert problems == [] and "pending.md" in written
        pending = (tmp_path / committed / "pending.md").read_text(encoding="utf-8")
        assert (
            "- per_language_v.md: no seed that every system has (a_baseline_en: 13; a_more: none)"
            " (runs not in yet)" in pending
        )
        view = (tmp_path / committed / "per_language_w.md").read_text(encoding="utf-8")
        assert (
            "mean over seeds 13 for every system" in view
            and "`avg ar,hi` = mean over ar, hi" in view
        )
        assert "- benchmarks/quality/results/e5-quickstart/a_more-seed13: not collected" in pending
        assert "compare_a_more_minus_a_baseline_en.mlqa.md: no seed with runs of both" in pending
        assert "a_baseline_en-seed13" not in pending


def test_pending_lists_a_run_once_when_two_loaders_miss_it() -> None:
    # The gain table and the learning curve may both load a used protocol's missing run: one
    # line, not two (table systems are loaded once: the test below).
    missing = "results/e5/a-s480-seed13: not collected (no manifest.json)"
    text = pending_text(protocols.load("e5-budgets"), [missing, "x.md: no seed", missing])
    assert text.count(missing) == 1 and "- x.md: no seed" in text


def test_runs_of_a_table_system_are_not_loaded_twice() -> None:
    # (c) at 480 steps is in e5-budgets' table and has no run: the table's loader reports it,
    # so the learning curve's and the gain table's loader must not report (or load) it again.
    protocol = protocols.load("e5-budgets")
    assert "c_xltt-lr2e-4-s480" in {system.name for system in protocol.table_systems}
    runs, problems = with_runs_of(protocol, "no-test-dir", [], ["c_xltt-lr2e-4-s480"])
    assert runs == [] and problems == []
