"""
Hypothesis strategies for SQuAD-format files as a researcher gets them from many sources, and
an independent statement (written from the SQuAD v1.1 layout, not from the plugin's code) of
which of them are well-formed.

A document is drawn well-formed (unique ids, strings where strings belong) with text full of
zero-width and bidi controls, combining marks, emoji, lone surrogates and scripts without
spaces, and answers whose `answer_start` is right, negative, past the end, pointing at other
text or missing; then it may be broken: a key deleted or given the wrong type, an id
duplicated, the encoded bytes truncated or made invalid UTF-8.
"""

import copy
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

# Characters that break naive offset arithmetic or tokenizers.
TRICKY_CHARACTERS = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u00ad",  # soft hyphen
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u202a",  # left-to-right embedding
    "\u202b",  # right-to-left embedding
    "\u202e",  # right-to-left override
    "\u202c",  # pop directional formatting
    "\u2066",  # left-to-right isolate
    "\u2069",  # pop directional isolate
    "\u0301",  # combining acute accent
    "\u0308",  # combining diaeresis
    "\u0651",  # Arabic shadda
    "\u093f",  # Devanagari vowel sign i
    "\u0e31",  # Thai mai han-akat
    "😀",
    "👩\u200d👩\u200d👧",  # ZWJ sequence
    "🇯🇵",  # regional indicators
    "👍🏽",  # skin-tone modifier
    "\ud800",  # lone high surrogate
    "\udfff",  # lone low surrogate
    "\u3000",  # ideographic space
    "\xa0",  # no-break space
    "\t",
    "\n",
    " ",
    "\ufffd",
    "\x00",
]

WORDS = [
    "the",
    "Moon",
    "Apollo",
    "1969",
    "3,776",
    "e\u0301",
    "北京大学",
    "東京タワー",
    "서울",
    "القاهرة",
    "नमस्ते",
    "ภาษาไทย",
    "Việt",
    "Ελλάδα",
    "Москва",
]

piece = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(TRICKY_CHARACTERS),
    st.just(" "),
    st.text(max_size=3),
)
texts = st.lists(piece, max_size=40).map("".join)
short_texts = st.lists(piece, max_size=8).map("".join)

# Wrong-typed values for a key that should hold a string, list or object.
WRONG_VALUES = [None, 5, True, 1.5, "x", [], {}, ["x"]]


@st.composite
def answer_objects(draw: st.DrawFn, context: str) -> dict[str, Any]:
    """One gold answer for `context`, its `answer_start` right, wrong or missing."""
    if context and draw(st.booleans()):
        start = draw(st.integers(0, len(context) - 1))
        end = draw(st.integers(start + 1, min(len(context), start + 12)))
        text = context[start:end]
    else:
        start, text = 0, draw(short_texts)
    kind = draw(
        st.sampled_from(["right", "negative", "past_end", "elsewhere", "missing", "minus_one"])
    )
    answer: dict[str, Any] = {"text": text}
    if kind == "right":
        answer["answer_start"] = start
    elif kind == "negative":
        answer["answer_start"] = draw(st.integers(-(10**6), -2))
    elif kind == "past_end":
        answer["answer_start"] = len(context) + draw(st.integers(0, 10**6))
    elif kind == "elsewhere":
        answer["answer_start"] = draw(st.integers(0, max(len(context) - 1, 0)))
    elif kind == "minus_one":
        answer["answer_start"] = -1
    return answer


@st.composite
def squad_documents(
    draw: st.DrawFn, ids: st.SearchStrategy[list[str]] | None = None
) -> dict[str, Any]:
    """
    A well-formed SQuAD v1.1 document; question ids are unique (from `ids` when given: a
    strategy for a list of distinct ids, used in order, extra questions dropped).
    """
    id_pool = draw(ids) if ids is not None else None
    counter = 0
    articles = []
    for _ in range(draw(st.integers(1, 2))):
        paragraphs = []
        for _ in range(draw(st.integers(1, 2))):
            context = draw(texts)
            qas = []
            for _ in range(draw(st.integers(0, 3))):
                if id_pool is not None:
                    if counter >= len(id_pool):
                        break
                    qid: Any = id_pool[counter]
                else:
                    qid = draw(st.sampled_from([f"q{counter}", counter, f"問{counter}"]))
                counter += 1
                qas.append(
                    {
                        "id": qid,
                        "question": draw(texts),
                        "answers": draw(st.lists(answer_objects(context), max_size=3)),
                    }
                )
            paragraphs.append({"context": context, "qas": qas})
        articles.append({"title": draw(short_texts), "paragraphs": paragraphs})
    return {"version": "1.1", "data": articles}


def _containers(document: Any) -> list[tuple[dict[str, Any], str]]:
    """(object, key) pairs of every structural key of a document, for mutations."""
    found: list[tuple[dict[str, Any], str]] = []

    def objects(container: dict[str, Any], key: str) -> list[dict[str, Any]]:
        values = container.get(key)
        return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []

    if not isinstance(document, dict):
        return found
    found.append((document, "data"))
    for article in objects(document, "data"):
        found.append((article, "paragraphs"))
        for paragraph in objects(article, "paragraphs"):
            found += [(paragraph, "context"), (paragraph, "qas")]
            for qa in objects(paragraph, "qas"):
                found += [(qa, "id"), (qa, "question"), (qa, "answers")]
                for answer in objects(qa, "answers"):
                    found += [(answer, "text"), (answer, "answer_start")]
    return found


def question_objects(document: Any) -> list[dict[str, Any]]:
    """The question objects of a (possibly damaged) document."""
    return [container for container, key in _containers(document) if key == "id"]


@st.composite
def mutated(draw: st.DrawFn, document: dict[str, Any], max_mutations: int = 2) -> Any:
    """`document` with up to `max_mutations` structural defects (a copy)."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(0, max_mutations))):
        kind = draw(st.sampled_from(["delete", "retype", "duplicate_id", "empty", "not_object"]))
        targets = _containers(document)
        if kind == "not_object":
            if draw(st.integers(0, 9)) == 0:  # rarely: the whole file is not an object
                document = draw(st.sampled_from([[], "data", 5, None]))
            continue
        if kind == "duplicate_id":
            qas = question_objects(document)
            if len(qas) >= 2:
                first, second = draw(st.permutations(qas))[:2]
                second["id"] = first.get("id")
            continue
        if not targets:
            continue
        container, key = draw(st.sampled_from(targets))
        if kind == "delete":
            container.pop(key, None)
        elif kind == "retype":
            container[key] = draw(st.sampled_from(WRONG_VALUES))
        elif kind == "empty" and key in ("question", "context"):
            container[key] = ""
    return document


@st.composite
def encoded(draw: st.DrawFn, document: Any) -> bytes:
    """The bytes of a file holding `document`: JSON (one line or indented), maybe damaged."""
    indent = draw(st.sampled_from([None, 2]))
    ensure_ascii = draw(st.booleans())
    text = json.dumps(document, ensure_ascii=ensure_ascii, indent=indent)
    # A lone surrogate cannot be UTF-8: without ASCII escapes it is written as invalid bytes.
    data = text.encode("utf-8", "surrogatepass")
    damage = draw(st.sampled_from(["none"] * 6 + ["truncate", "invalid_utf8"]))
    if damage == "truncate" and len(data) > 1:
        data = data[: draw(st.integers(1, len(data) - 1))]
    elif damage == "invalid_utf8":
        position = draw(st.integers(0, len(data)))
        data = data[:position] + b"\xff\xc3(" + data[position:]
    return data


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    context: str
    answers: tuple[str, ...]


class Malformed(Exception):
    """Why a file is not a well-formed SQuAD v1.1 file (the test's own judgement)."""


def _is_answer_start(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def well_formed_questions(data: bytes) -> list[Question]:
    """
    The questions of a file, if it is a well-formed SQuAD v1.1 file: UTF-8 JSON; an object
    whose `data` is a list of objects with a `paragraphs` list; each paragraph an object with a
    string `context` and a `qas` list; each question an object with a non-empty string or
    integer `id` (unique in the file) and a string `question`; `answers` a list (or absent or
    null) of objects with a string `text` and an integer (or absent or null) `answer_start`.

    # Raises

    `Malformed`
    """
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise Malformed(f"not UTF-8 JSON: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise Malformed("no data list")
    questions: list[Question] = []
    for article in document["data"]:
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise Malformed("article without paragraphs")
        for paragraph in article["paragraphs"]:
            if not isinstance(paragraph, dict):
                raise Malformed("paragraph not an object")
            context, qas = paragraph.get("context"), paragraph.get("qas")
            if not isinstance(context, str) or not isinstance(qas, list):
                raise Malformed("paragraph without context or qas")
            for qa in qas:
                if not isinstance(qa, dict):
                    raise Malformed("question not an object")
                qid = qa.get("id")
                if isinstance(qid, bool) or not isinstance(qid, (str, int)) or qid == "":
                    raise Malformed("bad id")
                if str(qid) in {q.qid for q in questions}:
                    raise Malformed(f"duplicate id {qid}")
                if not isinstance(qa.get("question"), str):
                    raise Malformed("bad question")
                answers = qa.get("answers")
                if answers is None:
                    answers = []
                if not isinstance(answers, list):
                    raise Malformed("bad answers")
                for answer in answers:
                    if not isinstance(answer, dict) or not isinstance(answer.get("text"), str):
                        raise Malformed("bad answer")
                    if not _is_answer_start(answer.get("answer_start")):
                        raise Malformed("bad answer_start")
                questions.append(
                    Question(str(qid), qa["question"], context, tuple(a["text"] for a in answers))
                )
    return questions
