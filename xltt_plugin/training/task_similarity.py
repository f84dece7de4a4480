"""
Task-level similarity of XLTT (paper eq. 18-19): TF-IDF cosine of each training data set's
questions to the target's questions, turned into weights with a temperature softmax.

Pure functions, no AllenNLP plumbing; `TaskWeights` (task_weights.py) and the
`xltt-similarity` command wrap them.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from xltt_plugin.data.squad_loading import SquadFormatError, read_squad_questions

SKLEARN_ANALYZERS = ("word", "char", "char_wb")
SPACY_PREFIX = "spacy:"


class TaskSimilarity(NamedTuple):
    """
    The result of `task_similarity`: both dictionaries are keyed by source name, in the order the
    sources were given.
    """

    cosine: dict[str, float]
    """The raw TF-IDF cosine of each source's question document to the target's."""
    weights: dict[str, float]
    """`softmax(cosine / temperature)` over the sources (sums to 1)."""


def load_questions(path: str) -> list[str]:
    """
    The questions of a SQuAD v1.1-format file (SQuAD, MLQA, XQuAD, CMRC2018, DRCD), in file order,
    read with the plugin's one SQuAD loader (plain or compressed, the readers' checks).

    Empty question strings are kept (they add nothing to a TF-IDF document); CMRC2018's trial set
    has two.

    # Parameters

    path : `str`
        A SQuAD-format file `{"data": [{"paragraphs": [{"context": ..., "qas": [{"id": ...,
        "question": ...}]}]}]}`, plain or compressed (`.gz`, `.bz2`, `.xz`).

    # Returns

    `List[str]`
        One string per question.

    # Raises

    `SquadFormatError`
        With the readers' one-line message naming the file (and question id): when the file
        cannot be read, is not JSON, is not SQuAD-shaped, or has a malformed question entry; or
        when it holds no non-empty question at all.
    """
    questions = [question.question for question in read_squad_questions(path)]
    if not any(question.strip() for question in questions):
        raise SquadFormatError(f"{path}: holds no non-empty question")
    return questions


def softmax_weights(cosines: Mapping[str, float], temperature: float = 1.0) -> dict[str, float]:
    """
    `softmax(c / temperature)` over the values of `cosines` (eq. 19 with a temperature; the paper
    uses 1), computed stably.

    # Parameters

    cosines : `Mapping[str, float]`
        One score per source name.
    temperature : `float`, optional (default = `1.0`)
        Must be positive and finite; below 1 sharpens the weights towards the most similar source.

    # Returns

    `Dict[str, float]`
        One weight per source name, same order, summing to 1.
    """
    if not cosines:
        raise ValueError("softmax_weights needs at least one source")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive finite number, got {temperature}")
    scaled = {name: value / temperature for name, value in cosines.items()}
    top = max(scaled.values())
    exps = {name: math.exp(value - top) for name, value in scaled.items()}
    total = sum(exps.values())
    return {name: value / total for name, value in exps.items()}


@lru_cache(maxsize=8)
def _spacy_blank(language: str) -> Any:
    try:
        import spacy
    except ImportError as error:  # pragma: no cover - spacy is an allennlp dependency
        raise ValueError(f"analyzer {SPACY_PREFIX}{language} needs spaCy installed") from error
    try:
        return spacy.blank(language)
    except Exception as error:  # ImportError for unknown codes or missing segmenter packages
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            f"analyzer {SPACY_PREFIX}{language}: spaCy has no usable blank tokenizer ({message})"
        ) from error


def spacy_tokenizer(language: str) -> Callable[[str], list[str]]:
    """
    A tokenizer backed by spaCy's blank `language` pipeline (no model download; e.g. `zh` uses
    spaCy's character segmenter). Whitespace and punctuation tokens are dropped, as scikit-learn's
    default `token_pattern` drops them; single-character tokens are kept (they are the unit of
    Chinese text). The input is tokenized line by line, so a long document (one question per
    line) stays under spaCy's `max_length`.

    # Parameters

    language : `str`
        A spaCy language code (`zh`, `en`, `de`, `ar`, `hi`, `xx`, ...). Codes whose blank tokenizer
        needs an extra package (`ja`: SudachiPy, `ko`: mecab-ko, `th`: PyThaiNLP, `vi`: pyvi)
        fail with a `ValueError` naming it when that package is absent.
    """
    nlp = _spacy_blank(language)

    def tokenize(text: str) -> list[str]:
        tokens: list[str] = []
        for line in text.split("\n"):
            if line.strip():
                tokens.extend(
                    token.text
                    for token in nlp.make_doc(line)
                    if not (token.is_space or token.is_punct)
                )
        return tokens

    return tokenize


def build_vectorizer(
    analyzer: str = "word", ngram_range: tuple[int, int] = (1, 1)
) -> TfidfVectorizer:
    """
    A scikit-learn `TfidfVectorizer` with its defaults except for the analyzer and n-gram range.

    # Parameters

    analyzer : `str`, optional (default = `"word"`)
        `"word"`, `"char"` or `"char_wb"` (scikit-learn's own analyzers; `"word"` splits on
        `\\b\\w\\w+\\b`, which treats a run of Chinese characters as one token), or
        `"spacy:LANG"` for spaCy's blank-language tokenizer (see `spacy_tokenizer`), whose tokens
        are then lowercased and n-grammed like scikit-learn's word analyzer.
    ngram_range : `Tuple[int, int]`, optional (default = `(1, 1)`)
        Inclusive (min_n, max_n), in tokens (word, spaCy) or characters (char, char_wb).
    """
    ngram = tuple(ngram_range)
    if (
        len(ngram) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in ngram)
        or not 1 <= ngram[0] <= ngram[1]
    ):
        raise ValueError(f"ngram_range must be two integers 1 <= min_n <= max_n, got {ngram_range}")
    min_n, max_n = ngram
    if analyzer in SKLEARN_ANALYZERS:
        return TfidfVectorizer(analyzer=analyzer, ngram_range=(min_n, max_n))
    if analyzer.startswith(SPACY_PREFIX) and analyzer[len(SPACY_PREFIX) :]:
        return TfidfVectorizer(
            tokenizer=spacy_tokenizer(analyzer[len(SPACY_PREFIX) :]),
            token_pattern=None,
            ngram_range=(min_n, max_n),
        )
    raise ValueError(
        f"unknown analyzer {analyzer!r}: use one of {', '.join(SKLEARN_ANALYZERS)} "
        f"or {SPACY_PREFIX}LANG (e.g. {SPACY_PREFIX}zh)"
    )


def questions_document(questions: Sequence[str]) -> str:
    """All questions of one collection as one TF-IDF document, one question per line."""
    return "\n".join(questions)


def task_similarity(
    sources: Mapping[str, Sequence[str]],
    target: Sequence[str],
    temperature: float = 1.0,
    analyzer: str = "word",
    ngram_range: tuple[int, int] = (1, 1),
) -> TaskSimilarity:
    """
    Eq. 18-19: one document per source data set and one for the target (all questions of a
    collection, joined); a `TfidfVectorizer` (defaults: lowercase, `\\b\\w\\w+\\b` tokens, smooth
    idf `ln((1 + n) / (1 + df)) + 1`, l2 norm) fitted on these K+1 documents; the cosine of
    each source to the target; and `softmax(cosine / temperature)` over the sources.

    # Parameters

    sources : `Mapping[str, Sequence[str]]`
        The questions of each training data set, keyed by its name (the task name of the
        multitask reader).
    target : `Sequence[str]`
        The target's questions (the paper: MLQA English test questions).
    temperature : `float`, optional (default = `1.0`)
        Softmax temperature; 1 is the paper's.
    analyzer : `str`, optional (default = `"word"`)
        See `build_vectorizer`; use `"char"` or `"spacy:zh"` for text without spaces.
    ngram_range : `Tuple[int, int]`, optional (default = `(1, 1)`)
        See `build_vectorizer`.

    # Returns

    `TaskSimilarity`
        `.cosine` and `.weights`, keyed by source name in the given order.
    """
    if not sources:
        raise ValueError("task_similarity needs at least one source")
    vectorizer = build_vectorizer(analyzer, ngram_range)
    names = list(sources)
    documents = [questions_document(sources[name]) for name in names]
    documents.append(questions_document(target))
    try:
        # shape: (K + 1, vocabulary), rows l2-normalised
        matrix = vectorizer.fit_transform(documents)
    except ValueError as error:  # "empty vocabulary"
        raise ValueError(
            f"TF-IDF with analyzer {analyzer!r} found no terms ({error}); for text without "
            f"spaces try analyzer 'char' or '{SPACY_PREFIX}LANG'"
        ) from error
    # shape: (K,)
    cosines = cosine_similarity(matrix[:-1], matrix[-1]).ravel()
    cosine = {name: float(value) for name, value in zip(names, cosines)}
    return TaskSimilarity(cosine=cosine, weights=softmax_weights(cosine, temperature))


def task_similarity_from_files(
    target_path: str,
    source_paths: Mapping[str, str],
    temperature: float = 1.0,
    analyzer: str = "word",
    ngram_range: tuple[int, int] = (1, 1),
) -> TaskSimilarity:
    """
    `task_similarity` on the questions of SQuAD-format files (read with `load_questions`).

    # Parameters

    target_path : `str`
        The target's question file.
    source_paths : `Mapping[str, str]`
        One question file per source name.

    The other parameters are those of `task_similarity`.
    """
    if not source_paths:
        raise ValueError("task_similarity_from_files needs at least one source file")
    target = load_questions(target_path)
    sources = {name: load_questions(path) for name, path in source_paths.items()}
    return task_similarity(sources, target, temperature, analyzer, ngram_range)
