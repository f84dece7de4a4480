"""
The `xltt-score` subcommand: SQuAD/MLQA exact match and F1 of a predictions file.

```
allennlp xltt-score DATASET PREDICTIONS [--lang L] [--mode mlqa|squad]
```

`DATASET` is a SQuAD-format JSON file (plain or compressed, read and checked as the readers
read it), `PREDICTIONS` a JSON object `{question_id: answer}`
(the input of the official evaluation scripts). Prints one JSON object on stdout:
`exact_match` and `f1` (0-100, averaged over every question of the data set; a question with
no prediction scores 0, as in the official scripts), `lang`, `mode`, `questions`,
`unanswered` (questions with no prediction) and `extra_predictions` (predicted ids that are
not in the data set). Errors print one line on stderr and exit with status 1.
"""

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from allennlp.commands.subcommand import Subcommand

from xltt_plugin.commands.errors import fail
from xltt_plugin.data.languages import infer_language
from xltt_plugin.data.squad_loading import SquadFormatError, read_squad_questions
from xltt_plugin.metrics.normalization import (
    MODES,
    Mode,
    UnknownLanguageError,
    language_rule,
    max_over_gold_answers,
)


class ScoreError(Exception):
    """A problem with the inputs of `xltt-score`, reported as a one-line message."""


@dataclass(frozen=True)
class GoldQuestion:
    """One question of a SQuAD-format file: its id and gold answer texts."""

    question_id: str
    answers: tuple[str, ...]


def _load_predictions_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except OSError as error:
        raise ScoreError(f"cannot read {path}: {error.strerror or error}") from error
    except (ValueError, RecursionError) as error:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors; so is an over-long integer.
        raise ScoreError(f"{path} is not valid UTF-8 JSON: {error}") from error


def read_gold_questions(path: str) -> list[GoldQuestion]:
    """
    The questions of a SQuAD-format file, in file order, read with the plugin's one SQuAD
    loader (plain or compressed; the readers' checks and one-line errors), each with at least
    one gold answer.

    # Raises

    `ScoreError`
        When the file is unreadable or not SQuAD-shaped (the loader's message, naming the file
        and question id), a question has no gold answer, or the file holds no question.
    """
    try:
        loaded = list(read_squad_questions(path))
    except SquadFormatError as error:
        raise ScoreError(str(error)) from error
    questions: list[GoldQuestion] = []
    for question in loaded:
        if not question.answers:
            raise ScoreError(f"{path}: question {question.qid} has no gold answers")
        questions.append(
            GoldQuestion(question.qid, tuple(answer.text for answer in question.answers))
        )
    if not questions:
        raise ScoreError(f"{path} holds no questions")
    return questions


def read_predictions(path: str) -> dict[str, str]:
    """
    A predictions file: a JSON object mapping question ids to answer strings.

    # Raises

    `ScoreError`
        When the file is unreadable, not an object, or holds a non-string answer.
    """
    content = _load_predictions_json(path)
    if not isinstance(content, dict):
        raise ScoreError(
            f"{path} is not a predictions file: expected a JSON object {{question_id: answer_text}}"
        )
    for question_id, answer in content.items():
        if not isinstance(answer, str):
            raise ScoreError(
                f"{path}: the prediction for question {question_id} is not a string: {answer!r}"
            )
    return content


def score_predictions(
    questions: Sequence[GoldQuestion],
    predictions: Mapping[str, str],
    language: str | None,
    mode: Mode = "mlqa",
) -> dict[str, Any]:
    """
    The official scripts' `evaluate`: EM and F1 maximised over each question's gold answers,
    summed in file order, a question with no prediction scoring 0, then scaled to 0-100 over
    all questions (same floating-point operations, so the same numbers).

    # Returns

    `dict[str, Any]`
        `exact_match`, `f1`, `lang`, `mode`, `questions`, `unanswered`, `extra_predictions`.
    """
    if mode == "mlqa":
        if language is None:
            raise ScoreError("mlqa-mode scoring needs a language")
        language_rule(language)
    em_sum = f1_sum = 0.0
    unanswered = 0
    for question in questions:
        prediction = predictions.get(question.question_id)
        if prediction is None:
            unanswered += 1
            continue
        em, f1 = max_over_gold_answers(prediction, question.answers, language or "", mode)
        em_sum += em
        f1_sum += f1
    total = len(questions)
    known_ids = {question.question_id for question in questions}
    return {
        "exact_match": 100.0 * em_sum / total,
        "f1": 100.0 * f1_sum / total,
        "lang": language,
        "mode": mode,
        "questions": total,
        "unanswered": unanswered,
        "extra_predictions": sum(1 for question_id in predictions if question_id not in known_ids),
    }


def resolve_language(dataset_path: str, language: str | None, mode: str) -> str | None:
    """
    The answer language: `language` when given, else inferred from an MLQA or XQuAD file name.

    # Raises

    `ScoreError`
        In `mlqa` mode, when no language is given and none can be inferred, or the code is
        unknown. (`squad` mode needs no language and accepts any label.)
    """
    inferred = infer_language(dataset_path)
    if language is not None:
        language = language.lower()
        if inferred is not None and inferred != language:
            print(
                f"xltt-score: warning: scoring {dataset_path} as {language!r} (--lang) although "
                f"its name says {inferred!r}",
                file=sys.stderr,
            )
    else:
        language = inferred
    if mode == "mlqa":
        if language is None:
            raise ScoreError(
                f"cannot infer the answer language from the file name {dataset_path!r} "
                "(expected e.g. 'test-context-hi-question-hi.json' or 'xquad.hi.json'); "
                "pass --lang"
            )
        try:
            language_rule(language)
        except UnknownLanguageError as error:
            raise ScoreError(str(error)) from error
    return language


def score_files(
    dataset_path: str, predictions_path: str, language: str | None, mode: Mode
) -> dict[str, Any]:
    """Score a predictions file against a SQuAD-format data set (see `score_predictions`)."""
    questions = read_gold_questions(dataset_path)
    predictions = read_predictions(predictions_path)
    resolved = resolve_language(dataset_path, language, mode)
    return score_predictions(questions, predictions, resolved, mode)


@Subcommand.register("xltt-score")
class XlttScore(Subcommand):
    """
    `allennlp xltt-score DATASET PREDICTIONS [--lang L] [--mode mlqa|squad]`: exact match and
    F1 (0-100) of a `{question_id: answer}` predictions file, with the MLQA script's
    per-language normalisation (`mlqa`, the default) or the SQuAD v1.1 script's (`squad`).

    Registered as a `Subcommand` with name `xltt-score`.
    """

    requires_plugins = False

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Exact match and F1 (0-100) of a predictions file {question_id: answer} against a "
            "SQuAD-format data set, normalised per language as the official MLQA script does "
            "(--mode mlqa) or as the SQuAD v1.1 script does (--mode squad). Prints one JSON "
            "object."
        )
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("dataset_file", type=str, help="SQuAD-format JSON data set")
        subparser.add_argument(
            "prediction_file", type=str, help="JSON object {question_id: answer_text}"
        )
        subparser.add_argument(
            "--lang",
            type=str,
            default=None,
            help="answer (context) language code; inferred from MLQA/XQuAD file names "
            "(test-context-hi-question-hi.json, xquad.hi.json) when omitted",
        )
        subparser.add_argument(
            "--mode",
            type=str,
            choices=MODES,
            default="mlqa",
            help="normalisation rules: the MLQA v1 script's (per language) or SQuAD v1.1's",
        )
        subparser.set_defaults(func=score_from_args)
        return subparser


def score_from_args(args: argparse.Namespace) -> None:
    """Run `xltt-score`: print the JSON result, or exit 1 with a one-line error."""
    try:
        result = score_files(args.dataset_file, args.prediction_file, args.lang, args.mode)
    except ScoreError as error:
        fail("xltt-score", str(error), 1)
    if result["unanswered"]:
        print(
            f"xltt-score: {result['unanswered']} of {result['questions']} questions have no "
            "prediction and score 0",
            file=sys.stderr,
        )
    print(json.dumps(result))
