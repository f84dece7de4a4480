"""
`allennlp xltt-similarity`: XLTT's task-level similarity (eq. 18-19) of training data sets to a
target question collection, printed as JSON.
"""

import argparse
import json
import math
import sys
from typing import NoReturn

from allennlp.commands.subcommand import Subcommand

from xltt_plugin.commands.errors import fail
from xltt_plugin.data.squad_loading import SquadFormatError
from xltt_plugin.training.task_similarity import (
    build_vectorizer,
    load_questions,
    task_similarity,
)

COMMAND = "xltt-similarity"
USAGE_ERROR = 2
DATA_ERROR = 1


@Subcommand.register(COMMAND)
class XlttSimilarity(Subcommand):
    """
    Prints `{"cosine": {NAME: c}, "weights": {NAME: w}}` on stdout (the TF-IDF cosine of each
    source's questions to the target's, and their softmax at the given temperature) and a
    readable table on stderr. Bad input (unreadable or non-SQuAD file, malformed `NAME=FILE`)
    exits non-zero with a one-line message naming the file.

    Registered as a `Subcommand` with name "xltt-similarity".
    """

    requires_plugins: bool = False

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "XLTT task-level similarity: TF-IDF cosine of each source data set's questions to the "
            "target's questions, and softmax weights. JSON on stdout, a table on stderr."
        )
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument(
            "--target", required=True, metavar="FILE", help="SQuAD-format file of target questions"
        )
        subparser.add_argument(
            "--source",
            required=True,
            action="append",
            metavar="NAME=FILE",
            help="a training data set: its name (the task name) and SQuAD-format file; repeat",
        )
        subparser.add_argument(
            "--temperature",
            type=float,
            default=1.0,
            help="softmax temperature; 1 is the paper's, smaller sharpens",
        )
        subparser.add_argument(
            "--analyzer",
            default="word",
            help="TF-IDF analyzer: word, char, char_wb, or spacy:LANG (e.g. spacy:zh)",
        )
        subparser.add_argument(
            "--ngram-range",
            type=int,
            nargs=2,
            default=[1, 1],
            metavar=("MIN_N", "MAX_N"),
            help="TF-IDF n-gram range",
        )
        subparser.set_defaults(func=similarity_from_args)
        return subparser


def _fail(message: str, code: int) -> NoReturn:
    fail(COMMAND, message, code)


def parse_sources(specs: list[str]) -> dict[str, str]:
    """
    `["de=xquad.de.json", ...]` -> `{"de": "xquad.de.json", ...}`; exits with a one-line message
    on a malformed or repeated entry.
    """
    sources: dict[str, str] = {}
    for spec in specs:
        name, separator, path = spec.partition("=")
        name = name.strip()
        if not separator or not name or not path:
            _fail(f"--source {spec!r}: expected NAME=FILE", USAGE_ERROR)
        if name in sources:
            _fail(f"--source {spec!r}: name {name!r} given twice", USAGE_ERROR)
        sources[name] = path
    return sources


def format_table(
    cosine: dict[str, float],
    weights: dict[str, float],
    counts: dict[str, int],
    paths: dict[str, str],
) -> str:
    """A plain-text table: one row per source (name, cosine, weight, questions, file)."""
    width = max(len("source"), *(len(name) for name in cosine))
    lines = [f"{'source':<{width}}  {'cosine':>8}  {'weight':>8}  {'questions':>9}  file"]
    for name in cosine:
        lines.append(
            f"{name:<{width}}  {cosine[name]:>8.4f}  {weights[name]:>8.4f}  "
            f"{counts[name]:>9d}  {paths[name]}"
        )
    return "\n".join(lines)


def similarity_from_args(args: argparse.Namespace) -> None:
    sources = parse_sources(args.source)
    if not (math.isfinite(args.temperature) and args.temperature > 0):
        _fail(f"--temperature must be positive and finite, got {args.temperature}", USAGE_ERROR)
    try:
        build_vectorizer(args.analyzer, tuple(args.ngram_range))  # validates the options early
        target = load_questions(args.target)
        questions = {name: load_questions(path) for name, path in sources.items()}
        result = task_similarity(
            questions, target, args.temperature, args.analyzer, tuple(args.ngram_range)
        )
    except SquadFormatError as error:
        _fail(str(error), DATA_ERROR)
    except ValueError as error:
        _fail(str(error), USAGE_ERROR)

    print(json.dumps({"cosine": result.cosine, "weights": result.weights}, ensure_ascii=False))
    print(
        f"target: {args.target} ({len(target)} questions); temperature {args.temperature}, "
        f"analyzer {args.analyzer}, ngram_range {tuple(args.ngram_range)}",
        file=sys.stderr,
    )
    counts = {name: len(items) for name, items in questions.items()}
    print(format_table(result.cosine, result.weights, counts, sources), file=sys.stderr)
