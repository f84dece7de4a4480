import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from allennlp.commands import main
from sklearn.feature_extraction.text import TfidfVectorizer

import xltt_plugin.commands.similarity  # noqa: F401  (registers the subcommand)
from xltt_plugin.data.squad_loading import SquadFormatError, read_squad_questions

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".." / "shared" / "data"


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str):
    monkeypatch.setattr(sys, "argv", ["allennlp", "xltt-similarity", *args])
    code = 0
    try:
        main(prog="allennlp")
    except SystemExit as exit_:
        code = exit_.code  # type: ignore[assignment]
    out, err = capsys.readouterr()
    return code, out, err


def squad_file(path: Path, questions: list[str]) -> str:
    qas = [{"id": f"{path.stem}-{i}", "question": q} for i, q in enumerate(questions)]
    path.write_text(
        json.dumps({"data": [{"paragraphs": [{"context": "c", "qas": qas}]}]}, ensure_ascii=False),
        encoding="utf-8",
    )
    return str(path)


def squad_questions(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)["data"]
    return [qa["question"] for article in data for p in article["paragraphs"] for qa in p["qas"]]


def reference(target: list[str], sources: dict[str, list[str]], temperature: float = 1.0) -> dict:
    """An independent computation: sklearn defaults, explicit cosine and softmax in numpy."""
    documents = [" ".join(q) for q in sources.values()] + [" ".join(target)]
    matrix = TfidfVectorizer().fit_transform(documents).toarray()
    norms = np.linalg.norm(matrix, axis=1)
    cosines = matrix[:-1] @ matrix[-1] / (norms[:-1] * norms[-1])
    exps = np.exp(cosines / temperature)
    weights = exps / exps.sum()
    return {
        "cosine": dict(zip(sources, cosines.tolist())),
        "weights": dict(zip(sources, weights.tolist())),
    }


def assert_close(actual: dict, expected: dict) -> None:
    assert list(actual) == ["cosine", "weights"]
    for part in ("cosine", "weights"):
        assert list(actual[part]) == list(expected[part])
        assert actual[part] == pytest.approx(expected[part], rel=1e-9, abs=1e-12)


def test_command_output(tmp_path: Path, monkeypatch, capsys):
    questions = {
        "squad": ["Who won the cup?", "who lost the cup?"],
        "news": ["Where is the river?", "what year was it?"],
    }
    target = ["who won the league?", "where is the cup?"]
    paths = {name: squad_file(tmp_path / f"{name}.json", qs) for name, qs in questions.items()}
    target_path = squad_file(tmp_path / "target.json", target)
    code, out, err = run(
        monkeypatch,
        capsys,
        "--target",
        target_path,
        *(arg for name, path in paths.items() for arg in ("--source", f"{name}={path}")),
        "--temperature",
        "0.2",
    )
    assert code == 0, err
    assert out.count("\n") == 1
    assert_close(json.loads(out), reference(target, questions, temperature=0.2))
    assert "target.json" in err and "squad.json" in err and "news.json" in err
    assert "weight" in err


@pytest.mark.parametrize(
    "make_args, code, message",
    [
        (lambda t, s: ["--target", t, "--source", s], 2, "--source '.*': expected NAME=FILE"),
        (lambda t, s: ["--target", t, "--source", "=" + s], 2, "expected NAME=FILE"),
        (lambda t, s: ["--target", t, "--source", "a="], 2, "expected NAME=FILE"),
        (
            lambda t, s: ["--target", t, "--source", f"a={s}", "--source", f"a={s}"],
            2,
            "name 'a' given twice",
        ),
        (
            lambda t, s: ["--target", t + ".missing", "--source", f"a={s}"],
            1,
            r"t\.json\.missing: cannot read",
        ),
        (
            lambda t, s: ["--target", t, "--source", f"a={s}", "--analyzer", "bpe"],
            2,
            "unknown analyzer",
        ),
        (
            lambda t, s: ["--target", t, "--source", f"a={s}", "--temperature", "0"],
            2,
            "temperature",
        ),
        (
            lambda t, s: ["--target", t, "--source", f"a={s}", "--ngram-range", "2", "1"],
            2,
            "ngram_range",
        ),
    ],
)
def test_command_usage_errors(tmp_path: Path, monkeypatch, capsys, make_args, code, message):
    target = squad_file(tmp_path / "t.json", ["who won"])
    source = squad_file(tmp_path / "s.json", ["who lost"])
    exit_code, out, err = run(monkeypatch, capsys, *make_args(target, source))
    assert exit_code == code
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("xltt-similarity: error: ")
    assert re.search(message, err)


def test_command_file_errors(tmp_path: Path, monkeypatch, capsys):
    target = squad_file(tmp_path / "t.json", ["who won"])
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"data": [', encoding="utf-8")
    not_squad = tmp_path / "not_squad.json"
    not_squad.write_text('{"questions": ["who"]}', encoding="utf-8")
    bad_qa = tmp_path / "bad_qa.json"
    bad_qa.write_text(
        '{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "q-9"}]}]}]}', encoding="utf-8"
    )
    for path, problem in [
        (malformed, "malformed JSON"),
        (not_squad, "not a SQuAD-format file"),
        (bad_qa, "question 'q-9': 'question' must be a string"),
        (tmp_path, "cannot read file"),
    ]:
        code, out, err = run(monkeypatch, capsys, "--target", target, "--source", f"x={path}")
        assert code == 1
        assert out == ""
        assert err.startswith(f"xltt-similarity: error: {path}: ")
        assert problem in err and err.count("\n") == 1


def test_command_in_a_real_process_has_no_traceback(tmp_path: Path):
    missing = tmp_path / "nowhere.json"
    code = (
        "import xltt_plugin.commands.similarity; "
        "from allennlp.commands import main; main(prog='allennlp')"
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "xltt-similarity",
            "--target",
            str(missing),
            "--source",
            f"a={missing}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .allennlp_plugins here: only the imported command is known
        timeout=300,
    )
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    assert completed.stderr.strip().splitlines()[-1] == (
        f"xltt-similarity: error: {missing}: cannot read file: No such file or directory"
    )


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not found at {DATA}")
def test_command_on_real_data_matches_independent_sklearn(monkeypatch, capsys):
    target = str(DATA / "xquad" / "xquad.en.json")
    sources = {
        "de": str(DATA / "xquad" / "xquad.de.json"),
        "cmrc_trial": str(DATA / "cmrc2018" / "cmrc2018_trial.json"),
        "es": str(DATA / "xquad" / "xquad.es.json"),
        "drcd": str(DATA / "drcd" / "DRCD_dev.json"),
    }
    code, out, err = run(
        monkeypatch,
        capsys,
        "--target",
        target,
        *(arg for name, path in sources.items() for arg in ("--source", f"{name}={path}")),
    )
    assert code == 0, err
    expected = reference(
        squad_questions(target), {name: squad_questions(path) for name, path in sources.items()}
    )
    assert_close(json.loads(out), expected)


def test_command_reads_gzip_files(tmp_path: Path, monkeypatch, capsys):
    """.gz files are read here as by the readers (one SQuAD loader); same result as plain."""
    target = squad_file(tmp_path / "target.json", ["who won the cup", "where is it"])
    source = squad_file(tmp_path / "squad.json", ["who won", "what is it"])
    packed = {}
    for path in (target, source):
        packed[path] = path + ".gz"
        Path(packed[path]).write_bytes(gzip.compress(Path(path).read_bytes()))
    plain = run(monkeypatch, capsys, "--target", target, "--source", f"s={source}")
    gz = run(monkeypatch, capsys, "--target", packed[target], "--source", f"s={packed[source]}")
    assert plain[0] == gz[0] == 0, gz[2]
    assert json.loads(gz[1]) == json.loads(plain[1])


def test_command_errors_match_the_reader(tmp_path: Path, monkeypatch, capsys):
    """An empty id, a duplicate id and a truncated .gz: the readers' one-line message."""
    target = squad_file(tmp_path / "t.json", ["who won"])
    empty = tmp_path / "empty_id.json"
    empty.write_text(
        '{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "", "question": "who"}]}]}]}'
    )
    twice = tmp_path / "twice.json"
    twice.write_text(
        '{"data": [{"paragraphs": [{"context": "c", "qas": '
        '[{"id": "a", "question": "who"}, {"id": "a", "question": "what"}]}]}]}'
    )
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(gzip.compress(Path(target).read_bytes())[:20])
    for path in (empty, twice, cut):
        with pytest.raises(SquadFormatError) as info:
            list(read_squad_questions(str(path)))
        code, out, err = run(monkeypatch, capsys, "--target", target, "--source", f"x={path}")
        assert (code, out) == (1, "")
        assert err == f"xltt-similarity: error: {info.value}\n"
        assert str(path) in err
