import json
import re
from pathlib import Path

import pytest

from xltt_plugin.data.answer_location import first_usable_answer, locate_answer
from xltt_plugin.data.squad_loading import (
    SquadAnswer,
    SquadFormatError,
    default_dataset_name,
    iter_squad_questions,
    load_squad_json,
    read_squad_questions,
)
from xltt_plugin.data.token_windows import (
    char_span_to_token_span,
    clean_token_offsets,
    paired_window,
    span_in_window,
    token_span_to_char_span,
    window_starts,
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


# ------------------------------------------------------------------------------ answers


CONTEXT = "The Eagle landed. Later the Eagle took off, and the Eagle docked."


def test_locate_exact_and_outer_whitespace() -> None:
    location = locate_answer(CONTEXT, "Eagle", 4)
    assert location is not None and (location.start, location.end, location.repaired) == (
        4,
        9,
        False,
    )
    # " Eagle " starting at the space before: stripped text at the stripped position.
    location = locate_answer(CONTEXT, " Eagle ", 3)
    assert location is not None and (location.start, location.text, location.repaired) == (
        4,
        "Eagle",
        False,
    )


def test_locate_repairs_to_nearest_occurrence() -> None:
    second = CONTEXT.index("Eagle", 10)
    third = CONTEXT.index("Eagle", second + 1)
    location = locate_answer(CONTEXT, "Eagle", second + 3)
    assert location is not None and (location.start, location.repaired) == (second, True)
    location = locate_answer(CONTEXT, "Eagle", third - 2)
    assert location is not None and location.start == third
    # Too far from every occurrence for the allowed distance.
    assert locate_answer("x" * 300 + " Eagle", "Eagle", 0, max_distance=100) is None
    assert locate_answer("x" * 300 + " Eagle", "Eagle", 0, max_distance=None) is not None


def test_locate_without_start_takes_first_occurrence() -> None:
    location = locate_answer(CONTEXT, "Eagle", None, max_distance=10)
    assert location is not None and (location.start, location.repaired) == (4, True)


def test_locate_gives_up() -> None:
    assert locate_answer(CONTEXT, "Falcon", 4) is None
    assert locate_answer(CONTEXT, "   ", 4) is None


def test_first_usable_answer_skips_broken_ones() -> None:
    answers = [SquadAnswer("Falcon", 0), SquadAnswer("landed", 10)]
    location = first_usable_answer(CONTEXT, answers)
    assert location is not None and CONTEXT[location.start : location.end] == "landed"
    assert first_usable_answer(CONTEXT, []) is None


# ------------------------------------------------------------------------------ offsets


def test_clean_offsets_trims_space_and_drops_bare_metaspace() -> None:
    context = "The city \ufeff北京"
    pieces = ["▁The", "▁city", "▁", "北", "京"]
    raw = [(0, 3), (3, 8), (8, 10), (10, 11), (11, 12)]
    # "▁city" covers the space before it; "▁" covers whitespace and the BOM.
    assert clean_token_offsets(context, pieces, raw) == [(0, 3), (4, 8), None, (10, 11), (11, 12)]
    # A bare "▁" sharing the next character's offsets (XLM-R before CJK) gets None.
    assert clean_token_offsets("北京", ["▁", "北", "京"], [(0, 1), (0, 1), (1, 2)]) == [
        None,
        (0, 1),
        (1, 2),
    ]
    assert clean_token_offsets("a", ["x"], [None]) == [None]


def test_char_span_to_token_span_hand_worked() -> None:
    # tokens: "The" "Eagle" "land" "ed" "." with a None (bare marker) before "Eagle"
    offsets = [(0, 3), None, (4, 9), (10, 14), (14, 16), (16, 17)]
    assert char_span_to_token_span(offsets, 4, 9) == (2, 2)
    assert char_span_to_token_span(offsets, 4, 16) == (2, 4)
    assert char_span_to_token_span(offsets, 10, 14) == (3, 3)
    # Inside one token: the whole token (the mapping is inexact).
    assert char_span_to_token_span(offsets, 11, 13) == (3, 3)
    # Leading whitespace in the character span does not pull in a token.
    assert char_span_to_token_span(offsets, 3, 9) == (2, 2)
    assert char_span_to_token_span(offsets, 17, 20) is None
    assert char_span_to_token_span([None, None], 0, 1) is None


def test_token_span_to_char_span_skips_none() -> None:
    offsets = [None, (0, 3), None, (4, 9), None]
    assert token_span_to_char_span(offsets, 0, 4) == (0, 9)
    assert token_span_to_char_span(offsets, 2, 3) == (4, 9)
    assert token_span_to_char_span(offsets, 2, 2) is None


# ------------------------------------------------------------------------------ windows


def test_window_starts_hand_worked() -> None:
    assert window_starts(10, 4, 2) == [0, 2, 4, 6]
    assert window_starts(4, 4, 2) == [0]
    assert window_starts(5, 4, 2) == [0, 2]
    assert window_starts(0, 4, 2) == [0]
    with pytest.raises(ValueError, match="longer than the stride"):
        window_starts(10, 2, 2)


@pytest.mark.parametrize("n, length, stride", [(1000, 316, 128), (317, 316, 128), (50, 7, 3)])
def test_windows_cover_everything_with_the_stride(n: int, length: int, stride: int) -> None:
    starts = window_starts(n, length, stride)
    ends = [min(s + length, n) for s in starts]
    covered: set[int] = set()
    for s, e in zip(starts, ends):
        covered.update(range(s, e))
    assert covered == set(range(n))
    assert ends[-1] == n
    for e1, s2 in zip(ends, starts[1:]):
        assert e1 - s2 == stride  # consecutive windows overlap by exactly `stride` tokens


def test_span_in_window() -> None:
    assert span_in_window((5, 7), 4, 8) == (1, 3)
    assert span_in_window((5, 8), 4, 8) is None
    assert span_in_window((3, 5), 4, 8) is None
    assert span_in_window(None, 0, 8) is None


def test_paired_window() -> None:
    # Same relative position: window 2 of 4 pivot windows -> 1 of 2 translation windows.
    assert paired_window(2, 4, 2) == 1
    assert paired_window(3, 4, 2) == 1
    assert paired_window(0, 1, 3) == 0
    assert paired_window(5, 6, 1) == 0
    # The translated answer's window wins; the nearest of several to the relative position.
    assert paired_window(0, 4, 4, answer_windows=[3]) == 3
    assert paired_window(2, 4, 4, answer_windows=[0, 3]) == 3
