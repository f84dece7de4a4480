"""
Language-aware answer normalisation, exact match (EM) and token F1 for extractive QA.

Pure functions, no AllenNLP imports. Two modes:

- `"mlqa"`: the rules of the official MLQA v1 evaluation script (Lewis et al., 2020) for the
  seven MLQA languages (en, es, de, ar, hi, vi, zh), reproduced exactly, quirks included, and
  extended with a documented rule for every other XQuAD and TyDi QA language (see
  `LANGUAGE_RULES`). An unknown language code raises `UnknownLanguageError`.
- `"squad"`: the official SQuAD v1.1 script's rules (ASCII punctuation, English articles,
  whitespace tokens), applied whatever the language, as XTREME and the XQuAD authors scored.

Every mode applies the same pipeline as the official scripts:
lower-case, remove punctuation, remove articles, segment into tokens. EM compares the token
sequences; F1 is the harmonic mean of token precision and recall over the multiset of tokens.
"""

import functools
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Mode = Literal["mlqa", "squad"]
MODES: tuple[str, ...] = ("mlqa", "squad")


class UnknownLanguageError(ValueError):
    """A language code that `mlqa` mode has no rule for."""


def _is_mlqa_punctuation(char: str) -> bool:
    # The MLQA script's punctuation: every code point below `sys.maxunicode` whose Unicode
    # general category is P* (per this Python's `unicodedata`), plus `string.punctuation`
    # (which adds the ASCII symbols $+<=>^`|~).
    return (
        ord(char) < sys.maxunicode and unicodedata.category(char).startswith("P")
    ) or char in string.punctuation


class _PunctuationDeleter(dict[int, int | None]):
    """
    A `str.translate` table that deletes the MLQA punctuation and keeps everything else,
    filled in per code point on first sight (so no start-up scan of all of Unicode).
    """

    def __missing__(self, code_point: int) -> int | None:
        value = None if _is_mlqa_punctuation(chr(code_point)) else code_point
        self[code_point] = value
        return value


_UNICODE_PUNCTUATION_TABLE = _PunctuationDeleter()


_ASCII_PUNCTUATION_TABLE: dict[int, None] = dict.fromkeys(map(ord, string.punctuation))


# ---------------------------------------------------------------------------------------------
# Article removal. The official MLQA patterns replace each match by a space.
# ---------------------------------------------------------------------------------------------
def _word_remover(words: Sequence[str]) -> Callable[[str], str]:
    pattern = re.compile(r"\b(" + "|".join(words) + r")\b")
    return functools.partial(pattern.sub, " ")


def _remove_every_al(text: str) -> str:
    # The MLQA script's Arabic pattern is `\sال^|ال`; its first branch can never match (`^`
    # after three characters), so it replaces every "ال", inside words too, by a space.
    return text.replace("ال", " ")


# ---------------------------------------------------------------------------------------------
# Segmentation. Each segmenter returns non-empty tokens that contain no whitespace, so that
# `" ".join(tokens).split() == tokens`, as the official scripts' normalised strings behave.
# ---------------------------------------------------------------------------------------------
def _whitespace_segmenter(text: str) -> list[str]:
    return text.split()


def _character_segmenter(char_class: str) -> Callable[[str], list[str]]:
    # One token per character of `char_class`; other runs are split on whitespace (`\s` in a
    # `str` pattern is exactly the whitespace of `str.split()`).
    pattern = re.compile(f"[{char_class}]|[^\\s{char_class}]+")
    return pattern.findall


# The MLQA script's range for Chinese characters (CJK Unified Ideographs up to U+9FA5).
ZH_CHARACTERS = "\u4e00-\u9fa5"
# Japanese: hiragana, katakana (with phonetic extensions and half-width forms), the
# ideographic iteration marks 々〆〇, and every CJK ideograph block up to Unicode 15.1.
JA_CHARACTERS = (
    "\u3005-\u3007"  # 々 〆 〇
    "\u3040-\u309f"  # Hiragana
    "\u30a0-\u30ff"  # Katakana (incl. the prolonged sound mark ー)
    "\u31f0-\u31ff"  # Katakana Phonetic Extensions
    "\uff66-\uff9f"  # Half-width Katakana
    "\u3400-\u4dbf"  # CJK Extension A
    "\u4e00-\u9fff"  # CJK Unified Ideographs
    "\uf900-\ufaff"  # CJK Compatibility Ideographs
    "\U00020000-\U0002ee5f"  # CJK Extensions B-F and I
    "\U0002f800-\U0002fa1f"  # CJK Compatibility Ideographs Supplement
    "\U00030000-\U000323af"  # CJK Extensions G-H
)
# Thai: a base character of the Thai block with the combining marks that follow it
# (above/below vowels, tone marks: the Mn characters of the block).
_THAI_COMBINING = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
_THAI_CLUSTERS = re.compile(f"[\u0e00-\u0e7f][{_THAI_COMBINING}]*|[^\\s\u0e00-\u0e7f]+")


@dataclass(frozen=True)
class LanguageRule:
    """
    How `mlqa` mode normalises one language.

    # Parameters

    language : `str`
        ISO 639-1 code.
    segmentation : `str`
        `"whitespace"`, `"characters"` (one token per character of the language's script,
        other text split on whitespace) or `"thai-clusters"` (one token per Thai character
        with its combining marks, other text split on whitespace).
    articles : `tuple[str, ...]`
        Standalone words removed (Arabic: the substring "ال", wherever it occurs).
    source : `str`
        Where the rule comes from.
    remove_articles : `Callable[[str], str] | None`
        Replaces each article by a space (applied after punctuation removal); `None`: none.
    segment : `Callable[[str], list[str]]`
        Splits the text into non-empty tokens without whitespace.
    """

    language: str
    segmentation: str
    articles: tuple[str, ...]
    source: str
    remove_articles: Callable[[str], str] | None
    segment: Callable[[str], list[str]]


_MLQA = "MLQA v1 script"
_CHOSEN = "this package (no rule in the MLQA script)"


def _rule(
    language: str,
    source: str,
    articles: tuple[str, ...] = (),
    segmentation: str = "whitespace",
    segment: Callable[[str], list[str]] = _whitespace_segmenter,
    remove_articles: Callable[[str], str] | None = None,
) -> LanguageRule:
    if articles and remove_articles is None:
        remove_articles = _word_remover(articles)
    return LanguageRule(language, segmentation, articles, source, remove_articles, segment)


LANGUAGE_RULES: dict[str, LanguageRule] = {
    rule.language: rule
    for rule in (
        # The seven MLQA languages: exactly the official script.
        _rule("en", _MLQA, ("a", "an", "the")),
        _rule("es", _MLQA, ("un", "una", "unos", "unas", "el", "la", "los", "las")),
        _rule(
            "de",
            _MLQA,
            (
                *("ein", "eine", "einen", "einem", "eines", "einer"),
                *("der", "die", "das", "den", "dem", "des"),
            ),
        ),
        _rule("ar", _MLQA, ("ال",), remove_articles=_remove_every_al),
        _rule("hi", _MLQA),
        _rule("vi", _MLQA, ("của", "là", "cái", "chiếc", "những")),
        _rule("zh", _MLQA, (), "characters", _character_segmenter(ZH_CHARACTERS)),
        # The other XQuAD and TyDi QA languages, and Korean/Japanese: chosen here.
        _rule("el", _CHOSEN),
        _rule("ro", _CHOSEN),
        _rule("ru", _CHOSEN),
        _rule("tr", _CHOSEN),
        _rule("th", _CHOSEN, (), "thai-clusters", _THAI_CLUSTERS.findall),
        _rule("bn", _CHOSEN),
        _rule("fi", _CHOSEN),
        _rule("id", _CHOSEN),
        _rule("sw", _CHOSEN),
        _rule("te", _CHOSEN),
        _rule("ko", _CHOSEN),
        _rule("ja", _CHOSEN, (), "characters", _character_segmenter(JA_CHARACTERS)),
        # Portuguese: the machine-translated training slot of issue 32 (xltt-check-data).
        _rule("pt", _CHOSEN),
    )
}
"""`mlqa`-mode rules by language code; see the README's per-language table."""

SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(sorted(LANGUAGE_RULES))

_SQUAD_ARTICLES = _word_remover(("a", "an", "the"))


def check_mode(mode: str) -> Mode:
    """Return `mode` if it is `"mlqa"` or `"squad"`, else raise `ValueError`."""
    if mode not in MODES:
        raise ValueError(f"unknown scoring mode {mode!r}; expected one of {', '.join(MODES)}")
    return mode  # type: ignore[return-value]


def language_rule(language: str) -> LanguageRule:
    """
    The `mlqa`-mode rule for `language`.

    # Raises

    `UnknownLanguageError`
        When there is no rule for the code (there is no silent English fallback).
    """
    rule = LANGUAGE_RULES.get(language)
    if rule is None:
        raise UnknownLanguageError(
            f"unknown language code {language!r} for mlqa-mode scoring; supported: "
            f"{', '.join(SUPPORTED_LANGUAGES)} (mode 'squad' applies the SQuAD v1.1 rules "
            "to any language)"
        )
    return rule


def answer_tokens(text: str, language: str, mode: Mode = "mlqa") -> list[str]:
    """
    The tokens of the normalised `text`: lower-cased, punctuation removed, articles removed,
    segmented. Equal to `normalize_answer(text, language, mode).split()`.

    # Parameters

    text : `str`
        An answer string (predicted or gold).
    language : `str`
        Language code of the answer (the context language). Ignored in `squad` mode.
    mode : `str`, optional (default = `"mlqa"`)
        `"mlqa"` or `"squad"`.
    """
    if mode == "squad":
        text = _SQUAD_ARTICLES(text.lower().translate(_ASCII_PUNCTUATION_TABLE))
        return text.split()
    if mode != "mlqa":
        check_mode(mode)
    rule = language_rule(language)
    text = text.lower().translate(_UNICODE_PUNCTUATION_TABLE)
    if rule.remove_articles is not None:
        text = rule.remove_articles(text)
    return rule.segment(text)


def normalize_answer(text: str, language: str, mode: Mode = "mlqa") -> str:
    """
    The normalised answer string, as the official scripts' `normalize_answer`: tokens joined
    by single spaces.
    """
    return " ".join(answer_tokens(text, language, mode))


def token_f1(prediction_tokens: Sequence[str], gold_tokens: Sequence[str]) -> float:
    """
    Token-multiset F1 between two normalised token sequences, computed with the official
    scripts' floating-point operations (so sums of it equal theirs bit for bit). Two empty
    sequences score 0, as in the scripts.
    """
    num_same = sum((Counter(prediction_tokens) & Counter(gold_tokens)).values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(gold_tokens)
    return (2 * precision * recall) / (precision + recall)


def exact_match(prediction: str, gold: str, language: str, mode: Mode = "mlqa") -> float:
    """1.0 when the normalised prediction equals the normalised gold answer, else 0.0."""
    return float(answer_tokens(prediction, language, mode) == answer_tokens(gold, language, mode))


def f1_score(prediction: str, gold: str, language: str, mode: Mode = "mlqa") -> float:
    """Token F1 (0-1) between the normalised prediction and gold answer."""
    return token_f1(answer_tokens(prediction, language, mode), answer_tokens(gold, language, mode))


def max_over_gold_answers(
    prediction: str, gold_answers: Iterable[str], language: str, mode: Mode = "mlqa"
) -> tuple[float, float]:
    """
    EM and F1 of one prediction against the best-matching gold answer (each maximised
    separately over the gold answers, as the official scripts do).

    # Returns

    `tuple[float, float]`
        `(exact_match, f1)`, each in [0, 1].

    # Raises

    `ValueError`
        When `gold_answers` is empty (the official scripts fail there too).
    """
    prediction_tokens = answer_tokens(prediction, language, mode)
    best_em = best_f1 = -1.0
    for gold in gold_answers:
        gold_tokens = answer_tokens(gold, language, mode)
        if prediction_tokens == gold_tokens:
            best_em = 1.0
        elif best_em < 0.0:
            best_em = 0.0
        f1 = token_f1(prediction_tokens, gold_tokens)
        if f1 > best_f1:
            best_f1 = f1
    if best_em < 0.0:
        raise ValueError("no gold answers to score the prediction against")
    return best_em, best_f1
