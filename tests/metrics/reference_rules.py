"""
An independent re-implementation of the official MLQA v1 and SQuAD v1.1 evaluation rules,
written for the tests from the scripts' documented behaviour (not imported from the package,
and built differently: character loops instead of regexes and translate tables).

MLQA v1 (`mlqa_evaluation_v1.py`): lower-case; remove every character whose Unicode category
is P* (code points below `sys.maxunicode`) or that is in `string.punctuation`; replace each
standalone article (a maximal run of regex word characters, `str.isalnum()` or `_`, equal to
an article) by a space; Arabic: replace every "ال" by a space; split on whitespace, and for
Chinese also make every character in U+4E00-U+9FA5 (or punctuation) its own token; join with
single spaces. SQuAD v1.1 (`evaluate-v1.1.py`): the same with `string.punctuation` only,
English articles, whitespace tokens, for every language.
"""

import string
import sys
import unicodedata
from typing import Any

MLQA_LANGUAGES = ("en", "es", "de", "ar", "hi", "vi", "zh")

_ARTICLES: dict[str, set[str]] = {
    "en": {"a", "an", "the"},
    "es": {"un", "una", "unos", "unas", "el", "la", "los", "las"},
    "vi": {"của", "là", "cái", "chiếc", "những"},
    "de": {"ein", "eine", "einen", "einem", "eines", "einer", "der", "die", "das", "den", "dem"}
    | {"des"},
    "hi": set(),
    "zh": set(),
}

_PUNCT: set[str] = set()


def mlqa_punctuation() -> set[str]:
    if not _PUNCT:
        for code_point in range(sys.maxunicode):
            if unicodedata.category(chr(code_point))[0] == "P":
                _PUNCT.add(chr(code_point))
        _PUNCT.update(string.punctuation)
    return _PUNCT


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _drop_standalone_words(text: str, words: set[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if _is_word_char(text[i]):
            j = i
            while j < len(text) and _is_word_char(text[j]):
                j += 1
            run = text[i:j]
            out.append(" " if run in words else run)
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _drop_every_al(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "ا" and i + 1 < len(text) and text[i + 1] == "ل":
            out.append(" ")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _chinese_segments(text: str, punct: set[str]) -> list[str]:
    tokens: list[str] = []
    pending = ""
    for char in text:
        if "\u4e00" <= char <= "\u9fa5" or char in punct:
            tokens.extend(pending.split())
            pending = ""
            tokens.append(char)
        else:
            pending += char
    tokens.extend(pending.split())
    return tokens


def mlqa_normalize(text: str, lang: str) -> str:
    punct = mlqa_punctuation()
    text = "".join(char for char in text.lower() if char not in punct)
    if lang == "ar":
        text = _drop_every_al(text)
    elif lang in _ARTICLES:
        text = _drop_standalone_words(text, _ARTICLES[lang])
    else:
        raise ValueError(f"not an MLQA language: {lang}")
    tokens = _chinese_segments(text, punct) if lang == "zh" else text.split()
    return " ".join(token for token in tokens if token.strip() != "")


def squad_normalize(text: str) -> str:
    ascii_punct = set(string.punctuation)
    text = "".join(char for char in text.lower() if char not in ascii_punct)
    return " ".join(_drop_standalone_words(text, {"a", "an", "the"}).split())


def normalize(text: str, lang: str, mode: str) -> str:
    return mlqa_normalize(text, lang) if mode == "mlqa" else squad_normalize(text)


def f1_of_strings(prediction_norm: str, gold_norm: str) -> float:
    prediction_tokens = prediction_norm.split()
    gold_tokens = gold_norm.split()
    remaining: dict[str, int] = {}
    for token in gold_tokens:
        remaining[token] = remaining.get(token, 0) + 1
    num_same = 0
    for token in prediction_tokens:
        if remaining.get(token, 0) > 0:
            remaining[token] -= 1
            num_same += 1
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(gold_tokens)
    return (2 * precision * recall) / (precision + recall)


def em_and_f1(prediction: str, golds: list[str], lang: str, mode: str) -> tuple[bool, float]:
    """Each maximised over the gold answers, as `metric_max_over_ground_truths`."""
    prediction_norm = normalize(prediction, lang, mode)
    ems = []
    f1s = []
    for gold in golds:
        gold_norm = normalize(gold, lang, mode)
        ems.append(prediction_norm == gold_norm)
        f1s.append(f1_of_strings(prediction_norm, gold_norm))
    return max(ems), max(f1s)


def evaluate(dataset: list[dict[str, Any]], predictions: dict[str, str], lang: str, mode: str):
    """The scripts' `evaluate`: sums in file order, unanswered questions score 0."""
    em = total = 0
    f1: float = 0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    continue
                golds = [answer["text"] for answer in qa["answers"]]
                question_em, question_f1 = em_and_f1(predictions[qa["id"]], golds, lang, mode)
                em += question_em
                f1 += question_f1
    return {"exact_match": 100.0 * em / total, "f1": 100.0 * f1 / total}
