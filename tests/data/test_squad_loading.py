import gzip
import json
import re
from pathlib import Path

import pytest

from xltt_plugin.data.squad_loading import (
    SquadAnswer,
    SquadFormatError,
    default_dataset_name,
    iter_squad_questions,
    load_squad_document,
    load_squad_json,
    read_squad_questions,
)


def write_json(path: Path, payload: object) -> str:
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return str(path)


def squad(qas: list, context: str = "Paris is the capital of France.") -> dict:
    return {"data": [{"title": "T", "paragraphs": [{"context": context, "qas": qas}]}]}


# ------------------------------------------------------------------------------ JSON walking


def test_reads_questions_with_ids_and_missing_starts(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "f.json",
        squad(
            [
                {"id": 7, "question": "Q1?", "answers": [{"text": "Paris", "answer_start": 0}]},
                {"id": "b", "question": "Q2?", "answers": [{"text": "France", "answer_start": -1}]},
                {"id": "c", "question": "Q3?", "answers": [], "is_impossible": True},
                {"id": "d", "question": "Q4?", "answers": [{"text": "x", "answer_start": "12"}]},
            ]
        ),
    )
    questions = list(read_squad_questions(path))
    assert [q.qid for q in questions] == ["7", "b", "c", "d"]
    assert questions[0].answers == (SquadAnswer("Paris", 0),)
    assert questions[1].answers == (SquadAnswer("France", None),)
    assert questions[2].answers == ()
    assert questions[3].answers == (SquadAnswer("x", 12),)
    assert questions[0].paragraph_key == questions[3].paragraph_key == (0, 0)


def test_malformed_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"data": [\n  {"paragraphs": [}\n]}', encoding="utf-8")
    with pytest.raises(SquadFormatError, match=r"broken\.json: malformed JSON at line 2"):
        load_squad_json(str(path))


def test_not_squad_names_file(tmp_path: Path) -> None:
    path = write_json(tmp_path / "list.json", [1, 2])
    with pytest.raises(SquadFormatError, match=r"list\.json: not a SQuAD-format file"):
        load_squad_json(path)


@pytest.mark.parametrize(
    "qa, message",
    [
        (
            {"id": "q9", "question": "Q?", "answers": "Paris"},
            r"question 'q9': 'answers' must be a list",
        ),
        (
            {"id": "q9", "question": None, "answers": []},
            r"question 'q9': 'question' must be a string",
        ),
        (
            {"id": "q9", "question": "Q?", "answers": [{"text": "P", "answer_start": "x"}]},
            r"question 'q9' answer 0: answer_start must be an integer",
        ),
        (
            {"id": "q9", "question": "Q?", "answers": [{"answer_start": 0}]},
            r"question 'q9' answer 0: 'text' must be a string",
        ),
        ({"question": "Q?", "answers": []}, r"question #0: missing or invalid 'id'"),
    ],
)
def test_structure_errors_name_file_article_paragraph_question(
    tmp_path: Path, qa: dict, message: str
) -> None:
    path = write_json(tmp_path / "bad.json", squad([qa]))
    with pytest.raises(SquadFormatError) as error:
        list(read_squad_questions(path))
    text = str(error.value)
    assert text.startswith(f"{path}: article 0 ('T') paragraph 0")
    assert re.search(message, text), text


def test_missing_context_and_paragraphs_are_errors() -> None:
    with pytest.raises(SquadFormatError, match=r"f\.json: article 0 paragraph 0: 'context'"):
        list(iter_squad_questions([{"paragraphs": [{"qas": []}]}], "f.json"))
    with pytest.raises(SquadFormatError, match=r"f\.json: article 1: 'paragraphs' must be a list"):
        list(iter_squad_questions([{"paragraphs": []}, {"title": 3}], "f.json"))


def test_default_dataset_name() -> None:
    assert default_dataset_name("a/b/xquad.en.json") == "xquad.en"
    assert default_dataset_name("squad_ja.json.gz") == "squad_ja"
    assert default_dataset_name("cmrc2018_dev.json") == "cmrc2018_dev"


# ------------------------------------------------------------------------------ one loader


def test_reads_compressed_files(tmp_path: Path) -> None:
    payload = squad([{"id": "q1", "question": "Q?", "answers": [{"text": "Paris"}]}])
    path = tmp_path / "f.json.gz"
    path.write_bytes(gzip.compress(json.dumps(payload).encode("utf-8")))
    assert [q.qid for q in read_squad_questions(str(path))] == ["q1"]
    assert load_squad_document(str(path)) == payload


def test_truncated_gzip_is_one_clear_line(tmp_path: Path) -> None:
    payload = squad([{"id": "q1", "question": "Q?", "answers": []}])
    path = tmp_path / "cut.json.gz"
    path.write_bytes(gzip.compress(json.dumps(payload).encode("utf-8"))[:30])
    with pytest.raises(SquadFormatError) as info:
        load_squad_json(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: cannot read file: ") and "\n" not in message


def test_deep_nesting_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(SquadFormatError, match=r"deep\.json: unreadable JSON: .*recursion"):
        load_squad_json(str(path))


def test_missing_file_and_folder_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(SquadFormatError) as info:
        load_squad_json(str(missing))
    assert str(info.value) == f"{missing}: cannot read file: No such file or directory"
    with pytest.raises(SquadFormatError, match="cannot read file: Is a directory"):
        load_squad_json(str(tmp_path))


@pytest.mark.parametrize("qid", ["", None, True, 1.5])
def test_empty_or_invalid_id_is_rejected(qid: object) -> None:
    qas = [{"id": qid, "question": "Q?", "answers": []}]
    with pytest.raises(SquadFormatError, match=r"f\.json: .*question #0: missing or invalid 'id'"):
        list(iter_squad_questions(squad(qas)["data"], "f.json"))


def test_duplicate_id_is_rejected_across_paragraphs() -> None:
    data = squad([{"id": "q1", "question": "Q?"}])["data"] * 2
    with pytest.raises(SquadFormatError, match=r"article 1 .*question 'q1': duplicate question id"):
        list(iter_squad_questions(data, "f.json"))
