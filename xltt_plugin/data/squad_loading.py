"""
The one loader of SQuAD-format JSON, shared by the readers, the predictor and every command
(`xltt-score`, `xltt-similarity`, `xltt-translate`, `xltt-check-data`): it opens a plain or
compressed file (local path or URL), parses it, validates its structure and question ids (non-empty,
unique within the file) and returns typed question records. Every problem is a `SquadFormatError`
whose one-line message names the file and, where there is one, the article, paragraph and
question id.
"""

import errno
import json
import lzma
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from allennlp.common.file_utils import cached_path, open_compressed


class SquadFormatError(ValueError):
    """
    Malformed or wrongly structured SQuAD-format input. The message names the file and, where
    known, the article, paragraph and question.
    """


@dataclass(frozen=True)
class SquadAnswer:
    """One gold answer as written in the file; `answer_start` is `None` when missing or -1."""

    text: str
    answer_start: int | None


@dataclass(frozen=True)
class SquadQuestion:
    """
    One question with its paragraph. `paragraph_key` identifies the paragraph within its file
    (article index, paragraph index), so that a reader can tokenise each context once.
    """

    qid: str
    question: str
    context: str
    answers: tuple[SquadAnswer, ...]
    article_index: int
    paragraph_index: int
    title: str | None = None

    @property
    def paragraph_key(self) -> tuple[int, int]:
        return (self.article_index, self.paragraph_index)


def load_squad_document(file_path: str) -> dict[str, Any]:
    """
    Load a SQuAD-format file (plain or compressed: `.gz`, `.bz2`, `.xz`, `.lzma`; local path or
    URL) and return the whole JSON object, whose `data` is a list.

    # Raises

    `SquadFormatError`
        Naming the file, when it cannot be read (missing, a folder, a truncated compressed
        file), is not UTF-8 JSON (also: nesting deeper than Python's stack, an over-long
        integer), or is not an object with a `data` list.
    """
    try:
        local_path = cached_path(file_path)
        with open_compressed(local_path) as handle:
            dataset_json = json.load(handle)
    except json.JSONDecodeError as error:
        raise SquadFormatError(
            f"{file_path}: malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from error
    except UnicodeDecodeError as error:
        raise SquadFormatError(
            f"{file_path}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from error
    except (ValueError, RecursionError) as error:
        # e.g. an integer longer than Python's digit limit, or nesting deeper than the stack.
        raise SquadFormatError(f"{file_path}: unreadable JSON: {error}") from error
    except FileNotFoundError as error:
        # cached_path's own FileNotFoundError carries no strerror.
        reason = error.strerror or os.strerror(errno.ENOENT)
        raise SquadFormatError(f"{file_path}: cannot read file: {reason}") from error
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as error:
        # EOFError: a truncated gzip/bz2/xz file; zlib.error, LZMAError: a corrupted one.
        detail = (error.strerror if isinstance(error, OSError) else None) or str(error)
        raise SquadFormatError(f"{file_path}: cannot read file: {detail}") from error
    if not isinstance(dataset_json, dict) or not isinstance(dataset_json.get("data"), list):
        raise SquadFormatError(
            f"{file_path}: not a SQuAD-format file (expected an object with a 'data' list)"
        )
    return dataset_json


def load_squad_json(file_path: str) -> list[Any]:
    """The `data` list of the SQuAD-format file at `file_path` (see `load_squad_document`)."""
    data: list[Any] = load_squad_document(file_path)["data"]
    return data


def _type_name(value: Any) -> str:
    return type(value).__name__


def _parse_answer_start(value: Any) -> int | None:
    """`answer_start` as an int, `None` for missing/-1; raises `ValueError` when unusable."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"answer_start must be an integer, got {value!r}")
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer():
        return int(value) if value >= 0 else None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
        return number if number >= 0 else None
    raise ValueError(f"answer_start must be an integer, got {value!r}")


def iter_squad_questions(data: Sequence[Any], file_path: str) -> Iterator[SquadQuestion]:
    """
    Walk the `data` list of a SQuAD v1.1/v2.0-format file (SQuAD, CMRC2018, DRCD, MLQA, XQuAD,
    TyDi QA GoldP), validating the structure as it goes.

    Questions marked `is_impossible` keep their (normally empty) `answers`; `plausible_answers`
    are ignored. Integer question ids are turned into strings.

    # Raises

    `SquadFormatError`
        Naming the file, the article (index and title), the paragraph index and the question id,
        for a wrong structure: a missing or mistyped `paragraphs`, `context`, `qas`, `id`,
        `question`, `answers`, answer `text` or `answer_start`, and for a question id that
        occurs twice in the file (predictions and scores are keyed by id, so one of the two
        questions would be lost).
    """
    seen: dict[str, str] = {}
    for article_index, article in enumerate(data):
        where = f"{file_path}: article {article_index}"
        if not isinstance(article, dict):
            raise SquadFormatError(f"{where}: expected an object, got {_type_name(article)}")
        title = article.get("title")
        if isinstance(title, str):
            where += f" ({title!r})"
        paragraphs = article.get("paragraphs")
        if not isinstance(paragraphs, list):
            raise SquadFormatError(f"{where}: 'paragraphs' must be a list")
        for paragraph_index, paragraph in enumerate(paragraphs):
            p_where = f"{where} paragraph {paragraph_index}"
            if not isinstance(paragraph, dict):
                raise SquadFormatError(
                    f"{p_where}: expected an object, got {_type_name(paragraph)}"
                )
            context = paragraph.get("context")
            if not isinstance(context, str):
                raise SquadFormatError(
                    f"{p_where}: 'context' must be a string, got {_type_name(context)}"
                )
            qas = paragraph.get("qas")
            if not isinstance(qas, list):
                raise SquadFormatError(f"{p_where}: 'qas' must be a list")
            for qa_index, qa in enumerate(qas):
                if not isinstance(qa, dict):
                    raise SquadFormatError(
                        f"{p_where} question #{qa_index}: expected an object, got {_type_name(qa)}"
                    )
                qid = qa.get("id")
                if isinstance(qid, bool) or not isinstance(qid, (str, int)) or qid == "":
                    raise SquadFormatError(
                        f"{p_where} question #{qa_index}: missing or invalid 'id' ({qid!r})"
                    )
                qid = str(qid)
                q_where = f"{p_where} question {qid!r}"
                if qid in seen:
                    raise SquadFormatError(
                        f"{q_where}: duplicate question id (first in {seen[qid]}); "
                        "question ids must be unique within a file"
                    )
                seen[qid] = f"article {article_index} paragraph {paragraph_index}"
                question = qa.get("question")
                if not isinstance(question, str):
                    raise SquadFormatError(
                        f"{q_where}: 'question' must be a string, got {_type_name(question)}"
                    )
                raw_answers = qa.get("answers", [])
                if raw_answers is None:
                    raw_answers = []
                if not isinstance(raw_answers, list):
                    raise SquadFormatError(
                        f"{q_where}: 'answers' must be a list, got {_type_name(raw_answers)}"
                    )
                answers = []
                for answer_index, answer in enumerate(raw_answers):
                    a_where = f"{q_where} answer {answer_index}"
                    if not isinstance(answer, dict):
                        raise SquadFormatError(
                            f"{a_where}: expected an object, got {_type_name(answer)}"
                        )
                    text = answer.get("text")
                    if not isinstance(text, str):
                        raise SquadFormatError(
                            f"{a_where}: 'text' must be a string, got {_type_name(text)}"
                        )
                    try:
                        answer_start = _parse_answer_start(answer.get("answer_start"))
                    except ValueError as error:
                        raise SquadFormatError(f"{a_where}: {error}") from error
                    answers.append(SquadAnswer(text, answer_start))
                yield SquadQuestion(
                    qid=qid,
                    question=question,
                    context=context,
                    answers=tuple(answers),
                    article_index=article_index,
                    paragraph_index=paragraph_index,
                    title=title if isinstance(title, str) else None,
                )


def read_squad_questions(file_path: str) -> Iterator[SquadQuestion]:
    """`iter_squad_questions` over the file at `file_path` (see `load_squad_json`)."""
    return iter_squad_questions(load_squad_json(file_path), file_path)


def default_dataset_name(file_path: str) -> str:
    """The file's base name without its extension(s): `data/xquad.en.json.gz` -> `xquad.en`."""
    name = os.path.basename(file_path.rstrip("/"))
    for extension in (".gz", ".bz2", ".xz", ".lzma"):
        if name.endswith(extension):
            name = name[: -len(extension)]
    return os.path.splitext(name)[0]
