import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from allennlp.commands import main
from allennlp.commands.subcommand import Subcommand

from tests.commands.cli import failed_command_stderr
from xltt_plugin.commands import score  # registers xltt-score
from xltt_plugin.commands.score import XlttScore

REPO_ROOT = Path(__file__).resolve().parents[2]


def squad_file(path: Path, questions: list[tuple[str, list[str]]], version: str = "1.1") -> Path:
    qas = [
        {"id": qid, "question": "?", "answers": [{"text": t, "answer_start": 0} for t in answers]}
        for qid, answers in questions
    ]
    data = {
        "version": version,
        "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": qas}]}],
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def json_file(path: Path, content: Any) -> Path:
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *argv: str) -> dict:
    return run_cli_with_stderr(monkeypatch, capsys, *argv)[0]


def run_cli_with_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *argv: str
) -> tuple[dict, str]:
    monkeypatch.setattr(sys, "argv", ["allennlp", "xltt-score", *argv])
    main(prog="allennlp")
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def cli_error(monkeypatch: pytest.MonkeyPatch, *argv: str) -> str:
    output = failed_command_stderr(monkeypatch, "xltt-score", *argv)
    message = output.splitlines()[-1]  # after any warnings, one line
    assert message.startswith("xltt-score: error: ")
    return message


@pytest.fixture()
def spanish(tmp_path: Path) -> tuple[Path, Path]:
    dataset = squad_file(
        tmp_path / "xquad.es.json",
        [("q1", ["la casa"]), ("q2", ["el perro negro"]), ("q3", ["Madrid"]), ("q4", ["x"])],
    )
    predictions = json_file(
        tmp_path / "predictions.json",
        {"q1": "¿Casa?", "q2": "perro", "q3": "Barcelona", "extra": "y"},
    )
    return dataset, predictions


def test_registered() -> None:
    assert Subcommand.by_name("xltt-score") is XlttScore


def test_scores_spanish_file_hand_worked(
    spanish: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    dataset, predictions = spanish
    result = run_cli(monkeypatch, capsys, str(dataset), str(predictions))
    # q1: "casa" == "casa" (article, ¿?): EM 1, F1 1. q2: [perro] vs [perro, negro]:
    # P 1, R 1/2, F1 2/3. q3: 0. q4: no prediction, 0. Over 4 questions, 0-100.
    assert result["exact_match"] == pytest.approx(25.0)
    assert result["f1"] == pytest.approx(100 * (1 + 2 / 3) / 4)
    assert result["lang"] == "es"
    assert result["mode"] == "mlqa"
    assert result["questions"] == 4
    assert result["unanswered"] == 1
    assert result["extra_predictions"] == 1
    # SQuAD rules: "¿casa" != "la casa" -> "casa"? No: "la" stays, "¿" stays.
    result = run_cli(monkeypatch, capsys, str(dataset), str(predictions), "--mode", "squad")
    assert result["exact_match"] == 0.0
    # q1: [¿casa] vs [la, casa]: 0. q2: [perro] vs [el, perro, negro]: P 1, R 1/3, F1 1/2.
    assert result["f1"] == pytest.approx(100 * 0.5 / 4)


def test_language_from_mlqa_name_and_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    dataset = squad_file(tmp_path / "test-context-zh-question-en.json", [("q", ["北京"])])
    predictions = json_file(tmp_path / "p.json", {"q": "北京大学"})
    result = run_cli(monkeypatch, capsys, str(dataset), str(predictions))
    assert result["lang"] == "zh"
    assert result["f1"] == pytest.approx(100 * 2 / 3)  # 4 characters vs 2
    result, err = run_cli_with_stderr(
        monkeypatch, capsys, str(dataset), str(predictions), "--lang", "en"
    )
    assert result["lang"] == "en"
    assert result["f1"] == 0.0  # one whitespace token each, different
    assert "although its name says 'zh'" in err


def test_language_required_when_not_inferable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    dataset = squad_file(tmp_path / "dev.json", [("q", ["The answer"])])
    predictions = json_file(tmp_path / "p.json", {"q": "answer"})
    message = cli_error(monkeypatch, str(dataset), str(predictions))
    assert "cannot infer the answer language" in message and "pass --lang" in message
    assert run_cli(monkeypatch, capsys, str(dataset), str(predictions), "--lang", "en")[
        "exact_match"
    ] == pytest.approx(100.0)
    # SQuAD rules need no language.
    result = run_cli(monkeypatch, capsys, str(dataset), str(predictions), "--mode", "squad")
    assert result["lang"] is None and result["exact_match"] == pytest.approx(100.0)


def test_input_errors_name_file_and_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = squad_file(tmp_path / "xquad.en.json", [("q1", ["a"]), ("q2", [])])
    predictions = json_file(tmp_path / "p.json", {"q1": "a"})
    message = cli_error(monkeypatch, str(dataset), str(predictions))
    assert str(dataset) in message and "question q2 has no gold answers" in message

    good = squad_file(tmp_path / "xquad.de.json", [("q1", ["a"])])
    missing = tmp_path / "missing.json"
    assert "cannot read " + str(missing) in cli_error(monkeypatch, str(good), str(missing))
    assert f"{missing}: cannot read file" in cli_error(monkeypatch, str(missing), str(predictions))

    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert f"{broken} is not valid UTF-8 JSON" in cli_error(monkeypatch, str(good), str(broken))

    as_list = json_file(tmp_path / "list.json", ["a"])
    assert "expected a JSON object" in cli_error(monkeypatch, str(good), str(as_list))
    not_text = json_file(tmp_path / "nt.json", {"q1": ["a"]})
    assert "prediction for question q1 is not a string" in cli_error(
        monkeypatch, str(good), str(not_text)
    )
    not_squad = json_file(tmp_path / "xquad.ar.json", {"version": "1.1"})
    assert "not a SQuAD-format file" in cli_error(monkeypatch, str(not_squad), str(predictions))
    assert "unknown language code 'fr'" in cli_error(
        monkeypatch, str(good), str(predictions), "--lang", "fr"
    )


def _environment() -> dict[str, str]:
    return {**os.environ, "ALLENNLP_LOG_LEVEL": "WARNING"}


def test_allennlp_executable(spanish: tuple[Path, Path]) -> None:
    """The real `allennlp` command (found through `.allennlp_plugins`) prints JSON alone."""
    executable = Path(sys.executable).with_name("allennlp")
    dataset, predictions = spanish
    done = subprocess.run(
        [str(executable), "xltt-score", str(dataset), str(predictions)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "ALLENNLP_LOG_LEVEL": "WARNING"},
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # nothing else on stdout
    assert result["f1"] == pytest.approx(100 * (1 + 2 / 3) / 4)
    assert "1 of 4 questions have no prediction" in done.stderr


def test_module_exposes_pure_scoring() -> None:
    questions = [score.GoldQuestion("a", ("x y",)), score.GoldQuestion("b", ("z",))]
    result = score.score_predictions(questions, {"a": "x"}, "en", "mlqa")
    assert result["f1"] == pytest.approx(100 * (2 / 3) / 2)  # P 1, R 1/2
    assert result["unanswered"] == 1


def test_empty_question_id_is_rejected_like_the_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readers reject question id "" (one loader): so does xltt-score, with their message."""
    from xltt_plugin.data.squad_loading import SquadFormatError, read_squad_questions

    dataset = squad_file(tmp_path / "xquad.en.json", [("q1", ["a"]), ("", ["b"])])
    predictions = json_file(tmp_path / "p.json", {"q1": "a", "": "b"})
    with pytest.raises(SquadFormatError) as info:
        list(read_squad_questions(str(dataset)))
    message = cli_error(monkeypatch, str(dataset), str(predictions))
    assert message == f"xltt-score: error: {info.value}"
    assert str(dataset) in message and "question #1: missing or invalid 'id' ('')" in message


def test_reads_gzip_dataset(
    spanish: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    dataset, predictions = spanish
    packed = dataset.with_name("xquad.es.json.gz")
    packed.write_bytes(gzip.compress(dataset.read_bytes()))
    plain = run_cli(monkeypatch, capsys, str(dataset), str(predictions))
    assert run_cli(monkeypatch, capsys, str(packed), str(predictions)) == plain


def test_truncated_gzip_dataset_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = squad_file(tmp_path / "xquad.en.json", [("q1", ["a"])])
    cut = tmp_path / "xquad.en.json.gz"
    cut.write_bytes(gzip.compress(dataset.read_bytes())[:20])
    predictions = json_file(tmp_path / "p.json", {"q1": "a"})
    message = cli_error(monkeypatch, str(cut), str(predictions))
    assert message.startswith(f"xltt-score: error: {cut}: cannot read file: ")
