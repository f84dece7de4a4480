"""
Pure helpers shared by the `xltt_squad` and `xltt_parallel` readers and `allennlp xltt-check-data`:
walking SQuAD-format JSON with validation errors that name the file and question, locating and
repairing gold answers, cutting token sequences into strided windows, and mapping between
character spans of a context and spans of its sub-word tokens.

Nothing here touches AllenNLP fields or a tokenizer object; token offsets come in as plain lists.
"""

import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from allennlp.common.file_utils import cached_path, open_compressed

logger = logging.getLogger(__name__)

Offset = tuple[int, int]

# Characters that carry no text of their own and are trimmed from token edges like whitespace:
# byte-order mark, zero-width space, word joiner, soft hyphen, left-to-right / right-to-left marks.
INVISIBLE_CHARACTERS = frozenset("\ufeff\u200b\u2060\u00ad\u200e\u200f")

# The SentencePiece word-start marker; as a piece of its own (XLM-R: "▁" before a CJK/Arabic
# character) it carries the offsets of the next character, so it must never start a span.
METASPACE = "▁"


# UTF-16 surrogate code points: valid JSON can spell one alone (`"\\ud800"`), giving a Python
# string that no UTF-8 encoder (nor a Rust tokenizer) accepts.
_SURROGATE = re.compile("[\ud800-\udfff]")


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


@dataclass(frozen=True)
class AnswerLocation:
    """
    A gold answer located in its context: `[start, end)` character offsets of the answer text
    with outer whitespace stripped, the stripped `text`, and whether its position had to be
    `repaired` (the given `answer_start` did not point at it).
    """

    start: int
    end: int
    text: str
    repaired: bool


@dataclass
class ReadStats:
    """
    Counts kept by a reader while reading one file (one shard of it under sharded reading).

    `skipped` maps a reason to how often something was left out: in training
    (`skip_impossible_questions=True`) whole questions or windows are dropped; in evaluation
    every question still yields instances and the count records gold answers that got no span.
    `translations` maps a translation language to event counts (`xltt_parallel` only).
    """

    file: str = ""
    language: str = ""
    questions: int = 0
    questions_with_instances: int = 0
    instances: int = 0
    repaired: int = 0
    skipped: Counter = field(default_factory=Counter)
    translations: dict[str, Counter] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "language": self.language,
            "questions": self.questions,
            "questions_with_instances": self.questions_with_instances,
            "instances": self.instances,
            "repaired": self.repaired,
            "skipped": dict(sorted(self.skipped.items())),
            "translations": {
                lang: dict(sorted(counts.items())) for lang, counts in self.translations.items()
            },
        }

    def log(self, log: logging.Logger = logger) -> None:
        skipped = ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items())) or "none"
        log.info(
            "Read %s (%s): %d questions, %d instances, %d answers repaired; skipped: %s",
            self.file,
            self.language,
            self.questions,
            self.instances,
            self.repaired,
            skipped,
        )
        for lang, counts in sorted(self.translations.items()):
            log.info(
                "  translation %s: %s",
                lang,
                ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none",
            )


# ---------------------------------------------------------------------------------------------
# JSON walking


def load_squad_json(file_path: str) -> list[Any]:
    """
    Load a SQuAD-format file (plain or compressed, local path or URL) and return its `data` list.

    # Raises

    `SquadFormatError`
        Naming the file, when it cannot be read, is not JSON, or has no `data` list.
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
    except (OSError, EOFError) as error:
        # EOFError: a truncated gzip/bz2/xz file.
        raise SquadFormatError(f"{file_path}: cannot read: {error}") from error
    if not isinstance(dataset_json, dict) or not isinstance(dataset_json.get("data"), list):
        raise SquadFormatError(
            f"{file_path}: not a SQuAD-format file (expected an object with a 'data' list)"
        )
    return dataset_json["data"]


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


# JSON syntax that matters for finding where a multi-line document ends: a backslash escape
# (inside a string), a quote, or a bracket.
_JSON_SYNTAX = re.compile(r'\\.|["{}\[\]]')


class JsonLineBuffer:
    """
    Turns input lines (as `allennlp predict` passes them, one at a time) into JSON values: a line
    that holds a whole value (JSON lines), or the lines of one multi-line document such as a
    pretty-printed SQuAD file, collected until its brackets balance.

    A line that does not parse starts a document when it opens with `{` or `[` and no earlier
    line parsed on its own; in JSON-lines input (some line parsed on its own) it is an error at
    once, so that one broken line cannot swallow the lines after it. A document line that ends
    inside a string, or brackets that close more than they open, are errors as soon as they are
    seen; a document still open when the input ends is reported by `finish`.

    Lines are counted from 1 as they are fed (`allennlp predict` skips blank lines, so those are
    not counted).
    """

    def __init__(self, source: str = "input") -> None:
        self.source = source
        self.lines_fed = 0
        self._document: list[str] = []
        self._document_start = 0
        self._depth = 0
        self._json_lines = False

    @property
    def pending(self) -> bool:
        """A multi-line document has started and is not complete yet."""
        return bool(self._document)

    def feed(self, line: str) -> Any | None:
        """
        The JSON value that `line` completes, or `None` while a document is still open.

        # Raises

        `SquadFormatError`
            Naming the line (or the document's first and last lines) and the problem.
        """
        self.lines_fed += 1
        where = f"{self.source} line {self.lines_fed}"
        if not self._document:
            try:
                value = json.loads(line)
            except (ValueError, RecursionError) as error:
                if self._json_lines or not line.lstrip().startswith(("{", "[")):
                    raise SquadFormatError(f"{where}: not valid JSON: {error}") from error
                self._document_start = self.lines_fed
                self._depth = 0
            else:
                self._json_lines = True
                return value
        self._document.append(line)
        in_string = False
        for match in _JSON_SYNTAX.finditer(line):
            token = match.group()
            if token == '"':
                in_string = not in_string
            elif in_string or token.startswith("\\"):
                continue
            elif token in "{[":
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth < 0:
                    self._fail(f"{where}: {token!r} closes more brackets than were opened")
        if in_string:
            self._fail(f"{where}: a string runs past the end of the line (not valid JSON)")
        if self._depth > 0:
            return None
        text = "".join(self._document)
        start = self._document_start
        self._document = []
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as error:
            raise SquadFormatError(
                f"{self.source} lines {start}-{self.lines_fed}: not valid JSON: {error}"
            ) from error

    def finish(self) -> None:
        """
        Call at the end of the input.

        # Raises

        `SquadFormatError`
            When a document is still open (a truncated file).
        """
        if self._document:
            start = self._document_start
            self._document = []
            raise SquadFormatError(
                f"{self.source}: the input ended inside the JSON document that starts on line "
                f"{start} (truncated file?); nothing of it was predicted"
            )

    def _fail(self, message: str) -> None:
        self._document = []
        raise SquadFormatError(message)


def default_dataset_name(file_path: str) -> str:
    """The file's base name without its extension(s): `data/xquad.en.json.gz` -> `xquad.en`."""
    name = os.path.basename(file_path.rstrip("/"))
    for extension in (".gz", ".bz2", ".xz", ".lzma"):
        if name.endswith(extension):
            name = name[: -len(extension)]
    return os.path.splitext(name)[0]


def replace_surrogates(text: str) -> str:
    """
    `text` with every surrogate code point (a lone `"\\ud800"` escape in JSON) replaced by
    U+FFFD, one character for one, so that character offsets into `text` stay valid. Tokenizers
    cannot encode such characters and would shift every offset after them.
    """
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


# ---------------------------------------------------------------------------------------------
# Answers


def _occurrences(context: str, text: str) -> Iterator[int]:
    position = context.find(text)
    while position != -1:
        yield position
        position = context.find(text, position + 1)


def locate_answer(
    context: str,
    text: str,
    answer_start: int | None,
    max_distance: int | None = None,
) -> AnswerLocation | None:
    """
    Find a gold answer in its context.

    The answer text is stripped of outer whitespace. It is taken where `answer_start` points
    (allowing the stripped text to start at `answer_start` or after the stripped leading
    whitespace); otherwise it is searched for: the occurrence nearest to `answer_start` (the
    first one when `answer_start` is `None`), within `max_distance` characters of it when both
    are given (`None`: anywhere). A position found by search is marked `repaired`.

    # Returns

    `Optional[AnswerLocation]`
        `None` when the stripped text is empty or not found (near enough).
    """
    stripped = text.strip()
    if not stripped:
        return None
    lead = len(text) - len(text.lstrip())
    if answer_start is not None:
        for start in (answer_start + lead, answer_start):
            if context.startswith(stripped, start):
                return AnswerLocation(start, start + len(stripped), stripped, repaired=False)
    expected = 0 if answer_start is None else answer_start + lead
    best: int | None = None
    for position in _occurrences(context, stripped):
        if best is None or abs(position - expected) < abs(best - expected):
            best = position
        if position > expected:
            break
    if best is None:
        return None
    if (
        answer_start is not None
        and max_distance is not None
        and abs(best - expected) > max_distance
    ):
        return None
    return AnswerLocation(best, best + len(stripped), stripped, repaired=True)


def first_usable_answer(
    context: str, answers: Iterable[SquadAnswer], max_distance: int | None = None
) -> AnswerLocation | None:
    """
    The first gold answer that `locate_answer` places in `context` (like Hugging Face and
    allennlp-models, only one answer is used for the span; the rest are kept for scoring).
    """
    for answer in answers:
        location = locate_answer(context, answer.text, answer.answer_start, max_distance)
        if location is not None:
            return location
    return None


# ---------------------------------------------------------------------------------------------
# Tokens and windows


def _is_blank(character: str) -> bool:
    return character.isspace() or character in INVISIBLE_CHARACTERS


def clean_token_offsets(
    context: str, pieces: Sequence[str], offsets: Sequence[Offset | None]
) -> list[Offset | None]:
    """
    Make tokenizer offsets usable for mapping spans back to `context`: each `(start, end)` is
    narrowed to exclude whitespace and invisible characters such as a byte-order mark (XLM-R's
    "▁river" covers the space before "river"), and a token
    that covers no text of its own gets `None`: a bare "▁" piece (which XLM-R gives the offsets
    of the following CJK/Arabic character, allennlp-models issue #15), a whitespace-only token, and
    a token with an empty or missing offset.

    # Parameters

    context : `str`
        The text the offsets index into.
    pieces : `Sequence[str]`
        The token strings (to spot bare "▁" pieces).
    offsets : `Sequence[Optional[Tuple[int, int]]]`
        `[start, end)` character offsets from the tokenizer, one per piece.
    """
    cleaned: list[Offset | None] = []
    for piece, offset in zip(pieces, offsets):
        if offset is None or piece == METASPACE:
            cleaned.append(None)
            continue
        start, end = offset
        while start < end and _is_blank(context[start]):
            start += 1
        while end > start and _is_blank(context[end - 1]):
            end -= 1
        cleaned.append((start, end) if start < end else None)
    return cleaned


def char_span_to_token_span(
    offsets: Sequence[Offset | None], char_start: int, char_end: int
) -> tuple[int, int] | None:
    """
    The inclusive token span covering the characters `[char_start, char_end)`: from the first
    token ending after `char_start` to the last token starting before `char_end`, ignoring
    tokens whose offset is `None` (so the span never starts or ends on a bare "▁").

    When the answer boundaries fall inside a token the span covers that whole token (as
    allennlp-models' `char_span_to_token_span` does); compare `token_span_to_char_span` of the
    result with the answer to tell.

    # Returns

    `Optional[Tuple[int, int]]`
        `None` when no token overlaps the characters.
    """
    start: int | None = None
    end: int | None = None
    for index, offset in enumerate(offsets):
        if offset is None:
            continue
        if offset[0] >= char_end:
            break
        if start is None and offset[1] > char_start:
            start = index
        if start is not None:
            end = index
    if start is None or end is None:
        return None
    return (start, end)


def token_span_to_char_span(
    offsets: Sequence[Offset | None], span_start: int, span_end: int
) -> Offset | None:
    """
    The `[start, end)` characters that the inclusive token span covers: from the first token in
    the span that has an offset to the last one. `None` when no token in the span has one.
    """
    first: Offset | None = None
    last: Offset | None = None
    for index in range(max(span_start, 0), min(span_end, len(offsets) - 1) + 1):
        offset = offsets[index]
        if offset is None:
            continue
        if first is None:
            first = offset
        last = offset
    if first is None or last is None:
        return None
    return (first[0], last[1])


def window_starts(num_tokens: int, window_length: int, stride: int) -> list[int]:
    """
    The start index of each window of at most `window_length` tokens over `num_tokens` tokens,
    consecutive windows overlapping by `stride` tokens, exactly as allennlp-models'
    `transformer_squad` (and Hugging Face's `doc_stride`) cut them: the last window ends at the
    last token, and an empty sequence still gets one (empty) window.

    # Raises

    `ValueError`
        When `window_length <= stride` (the windows would never advance).
    """
    if window_length <= stride:
        raise ValueError(
            f"the context window ({window_length} tokens) must be longer than the stride "
            f"({stride}); raise length_limit or lower stride / max_query_length"
        )
    starts = [0]
    start = 0
    while start + window_length < num_tokens:
        start += window_length - stride
        starts.append(start)
    return starts


def span_in_window(
    span: tuple[int, int] | None, window_start: int, window_end: int
) -> tuple[int, int] | None:
    """
    The inclusive `span` (token indices of the whole context) relative to the window
    `[window_start, window_end)`, or `None` unless the span lies wholly inside it.
    """
    if span is None or span[0] < window_start or span[1] >= window_end:
        return None
    return (span[0] - window_start, span[1] - window_start)


def paired_window(
    pivot_window: int,
    num_pivot_windows: int,
    num_windows: int,
    answer_windows: Sequence[int] = (),
) -> int:
    """
    The window of a translation to pair with a pivot window: among `answer_windows` (the
    translation's windows holding its answer), the one nearest the pivot window's relative
    position; when there are none, the window at the same relative position,
    `pivot_window * num_windows // num_pivot_windows`.
    """
    relative = min(pivot_window * num_windows // max(num_pivot_windows, 1), num_windows - 1)
    if answer_windows:
        return min(answer_windows, key=lambda window: (abs(window - relative), window))
    return relative
