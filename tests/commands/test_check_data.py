import gzip
import json
import sys
from pathlib import Path

import pytest
from allennlp.commands import main
from transformers import AutoTokenizer

import xltt_plugin.commands.check_data  # noqa: F401  (registers the subcommand)

ROOT = Path(__file__).resolve().parents[2]
MODEL = str(ROOT / "fixtures" / "tiny-xlmr")
FIXTURES = ROOT / "fixtures" / "data"
KEYS = {
    "file",
    "language",
    "questions",
    "questions_with_instances",
    "windows",
    "answer_in_window",
    "answer_roundtrip_exact",
    "answer_decoded_exact",
    "scored_questions",
    "ceiling_em",
    "ceiling_f1",
    "repaired",
    "skipped",
}


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str):
    monkeypatch.setattr(sys, "argv", ["allennlp", "xltt-check-data", *args])
    code = 0
    try:
        main(prog="allennlp")
    except SystemExit as exit_:
        code = exit_.code  # type: ignore[assignment]
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


def fixture(name: str) -> str:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {path} not present")
    return str(path)


def count_questions(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)["data"]
    return sum(len(p["qas"]) for article in data for p in article["paragraphs"])


def write(path: Path, context: str, qas: list[dict]) -> str:
    payload = {"data": [{"paragraphs": [{"context": context, "qas": qas}]}]}
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_reports_fixture_files(monkeypatch, capsys) -> None:
    files = [fixture("mlqa/test-context-hi-question-hi.json"), fixture("xquad/xquad.ar.json")]
    code, reports, _ = run(monkeypatch, capsys, *files, "--model", MODEL)
    assert code == 0
    assert [r["file"] for r in reports] == files
    assert [r["language"] for r in reports] == ["hi", "ar"]
    for report, path in zip(reports, files):
        assert set(report) == KEYS
        assert report["questions"] == report["questions_with_instances"] == count_questions(path)
        assert report["answer_in_window"] == report["questions"]
        assert report["windows"] >= report["questions"]
        assert report["skipped"] == {}


def test_documented_defects_are_counted(monkeypatch, capsys) -> None:
    ja, ko = fixture("parallel/squad_ja.json"), fixture("parallel/squad_ko.json")
    code, (report,), _ = run(monkeypatch, capsys, ja, "--model", MODEL, "--lang", "ja")
    assert code == 0
    # sq-007: text not in the context; sq-010: no answer. Both still get instances.
    assert report["skipped"] == {"answer_not_found": 1, "no_answer": 1}
    assert report["questions"] == report["questions_with_instances"] == 13
    assert report["answer_in_window"] == 11
    code, (report,), _ = run(monkeypatch, capsys, ko, "--model", MODEL, "--lang", "ko")
    assert report["repaired"] == 1  # sq-004: answer_start 3 characters off
    assert report["questions"] == 12 and report["skipped"] == {}


def test_roundtrip_count_against_tokenizer_boundaries(monkeypatch, capsys, tmp_path) -> None:
    """A hand-made file whose expected round-trip count comes from the HF tokenizer's offsets."""
    context = "The Danube flows through Vienna and reaches the Black Sea after 2,850 kilometres."
    answers = ["Danube", "Vienna", "Black Sea", "2,850", "kilo", "ienn", "reaches the"]
    qas = [
        {
            "id": f"q{i}",
            "question": "Q?",
            "answers": [{"text": a, "answer_start": context.index(a)}],
        }
        for i, a in enumerate(answers)
    ]
    path = write(tmp_path / "xquad.en.json", context, qas)
    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    offsets = tokenizer(context, add_special_tokens=False, return_offsets_mapping=True)[
        "offset_mapping"
    ]
    starts = {s + (len(context[s:e]) - len(context[s:e].lstrip())) for s, e in offsets}
    ends = {e for _, e in offsets}
    expected = sum(
        1 for a in answers if context.index(a) in starts and context.index(a) + len(a) in ends
    )
    assert expected < len(answers)  # "ienn" starts inside "Vienna"'s tokens
    code, (report,), _ = run(monkeypatch, capsys, path, "--model", MODEL)
    assert code == 0
    assert report["answer_in_window"] == len(answers)
    assert report["answer_roundtrip_exact"] == expected


@pytest.fixture(params=["tiny-xlmr", "xlm-r"])
def tokenizer_folder(request: pytest.FixtureRequest) -> str:
    return MODEL if request.param == "tiny-xlmr" else request.getfixturevalue("real_tokenizer")


def test_scored_ceiling_by_hand(monkeypatch, capsys, tmp_path, tokenizer_folder) -> None:
    """
    Four questions: two decode to a gold answer (EM 1), one's answer is not in the context
    (scored 0), one has no answer (not scored): ceiling 2/3.
    """
    context = "The Seine flows through Paris, and reaches the sea at Le Havre."
    qas = [
        {"id": "a", "question": "Q?", "answers": [{"text": "Paris", "answer_start": 24}]},
        {"id": "b", "question": "Q?", "answers": [{"text": "Lyon", "answer_start": 5}]},
        {"id": "c", "question": "Q?", "answers": []},
        {
            "id": "d",
            "question": "Q?",
            "answers": [
                {"text": "Le Havre", "answer_start": 54},
                {"text": "at Le Havre", "answer_start": 51},
            ],
        },
    ]
    path = write(tmp_path / "xquad.en.json", context, qas)
    code, (report,), _ = run(monkeypatch, capsys, path, "--model", tokenizer_folder)
    assert code == 0
    assert report["scored_questions"] == 3
    assert report["answer_decoded_exact"] == 2
    assert report["ceiling_em"] == report["ceiling_f1"] == round(100 * 2 / 3, 2)
    assert report["skipped"] == {"answer_not_found": 1, "no_answer": 1}


def test_ceiling_counts_what_a_piece_glues_on(monkeypatch, capsys, tmp_path, real_tokenizer):
    """
    XLM-R's piece "的时间" glues 的 to the answer 时间: EM 0, and F1 over characters
    P = 2/3, R = 1, F1 = 2 * (2/3) / (2/3 + 1) = 0.8. With --split-cjk-pieces it is exact; the
    glued "，" is trimmed either way.
    """
    context = "他用了很长的时间才完成。后来，2014年，他到了北京。"
    qas = [
        {"id": "t", "question": "什么?", "answers": [{"text": "时间", "answer_start": 6}]},
        {"id": "y", "question": "哪年?", "answers": [{"text": "2014年", "answer_start": 15}]},
    ]
    path = write(tmp_path / "zh.json", context, qas)
    args = [path, "--model", real_tokenizer, "--lang", "zh"]
    code, (report,), _ = run(monkeypatch, capsys, *args)
    assert code == 0
    assert report["ceiling_em"] == 50.0
    assert report["ceiling_f1"] == 90.0  # (0.8 + 1) / 2
    code, (split,), _ = run(monkeypatch, capsys, *args, "--split-cjk-pieces")
    assert code == 0
    assert split["ceiling_em"] == split["ceiling_f1"] == 100.0
    assert split["answer_decoded_exact"] == 2


def test_language_without_scoring_rule(monkeypatch, capsys, tmp_path) -> None:
    path = write(tmp_path / "x.json", "abc", [{"id": "q", "question": "Q?", "answers": []}])
    code, reports, err = run(monkeypatch, capsys, path, "--model", MODEL, "--lang", "xx")
    assert code == 1 and reports == []
    assert "unknown language code 'xx'" in err and "Traceback" not in err


def test_training_mode_counts_dropped_windows(monkeypatch, capsys) -> None:
    path = fixture("parallel/squad_en.json")
    args = ["--model", MODEL, "--lang", "en", "--length-limit", "96", "--stride", "32"]
    args += ["--max-query-length", "32"]
    code, (evaluation,), _ = run(monkeypatch, capsys, path, *args)
    code, (training,), _ = run(
        monkeypatch, capsys, path, *args, "--max-query-length", "32", "--train"
    )
    assert code == 0
    dropped = training["skipped"]["window_without_answer"]
    assert dropped > 0
    assert training["windows"] + dropped == evaluation["windows"]


def test_malformed_file_one_line_error_and_other_files_still_checked(
    monkeypatch, capsys, tmp_path
) -> None:
    bad = tmp_path / "xquad.de.json"
    bad.write_text('{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "q1"}]}]}]}')
    good = fixture("xquad/xquad.ar.json")
    code, reports, err = run(monkeypatch, capsys, str(bad), good, "--model", MODEL)
    assert code == 1
    assert [r["file"] for r in reports] == [good]
    errors = [line for line in err.splitlines() if line.startswith("xltt-check-data: error:")]
    assert len(errors) == 1
    assert str(bad) in errors[0] and "'q1'" in errors[0] and "'question'" in errors[0]
    assert "Traceback" not in err


def test_language_must_be_known(monkeypatch, capsys) -> None:
    code, reports, err = run(
        monkeypatch, capsys, fixture("cmrc2018/cmrc_zh.json"), "--model", MODEL
    )
    assert code == 1 and reports == []
    assert "cmrc_zh.json: cannot infer the language" in err and "Traceback" not in err


def test_bad_window_settings(monkeypatch, capsys) -> None:
    code, _, err = run(
        monkeypatch, capsys, "x.json", "--model", MODEL, "--length-limit", "64", "--stride", "64"
    )
    assert code == 2 and "stride=64" in err and "Traceback" not in err


def test_same_loader_errors_as_the_reader_and_gz_files(monkeypatch, capsys, tmp_path) -> None:
    """xltt-check-data reads .gz files and names a duplicate id, an empty id and a truncated
    .gz exactly as the `xltt_squad` reader does (the one SQuAD loader)."""
    from xltt_plugin.data.squad_loading import SquadFormatError, read_squad_questions

    qas = [{"id": "q1", "question": "Who?", "answers": [{"text": "c", "answer_start": 0}]}]
    plain = write(tmp_path / "xquad.de.json", "c", qas)
    packed = tmp_path / "xquad.es.json.gz"
    packed.write_bytes(gzip.compress(Path(plain).read_bytes()))
    code, reports, err = run(monkeypatch, capsys, str(packed), "--model", MODEL)
    assert code == 0, err
    assert [(r["file"], r["questions"]) for r in reports] == [(str(packed), 1)]

    twice = write(tmp_path / "xquad.vi.json", "c", qas * 2)
    empty = write(tmp_path / "xquad.th.json", "c", [{**qas[0], "id": ""}])
    cut = tmp_path / "xquad.tr.json.gz"
    cut.write_bytes(packed.read_bytes()[:25])
    for path in (twice, empty, str(cut)):
        with pytest.raises(SquadFormatError) as info:
            list(read_squad_questions(path))
        code, reports, err = run(monkeypatch, capsys, path, "--model", MODEL)
        assert code == 1 and reports == [] and "Traceback" not in err
        assert err.splitlines()[-1] == f"xltt-check-data: error: {info.value}"
        assert path in err
