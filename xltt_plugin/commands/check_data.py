"""
`allennlp xltt-check-data`: read SQuAD-format files with the `xltt_squad` reader and report, per
file, how many gold answers the windows contain, how many round-trip exactly through the token
offsets, and the scored ceiling (EM/F1 of each gold token span decoded as prediction decodes it),
plus repaired and skipped answers. One JSON line per file on stdout.
"""

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

from allennlp.commands.subcommand import Subcommand
from allennlp.common.checks import ConfigurationError

from xltt_plugin.commands.errors import fail
from xltt_plugin.data.answer_location import first_usable_answer
from xltt_plugin.data.squad_loading import SquadFormatError, SquadQuestion, read_squad_questions
from xltt_plugin.data.token_windows import token_span_to_char_span
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
from xltt_plugin.metrics.normalization import (
    UnknownLanguageError,
    language_rule,
    max_over_gold_answers,
)
from xltt_plugin.models.span_decoding import span_to_text

COMMAND = "xltt-check-data"
DATA_ERROR = 1
USAGE_ERROR = 2


@Subcommand.register(COMMAND)
class XlttCheckData(Subcommand):
    """
    Prints one JSON line per file: `file`, `language`, `questions`, `questions_with_instances`,
    `windows`, `answer_in_window` (questions whose gold answer lies wholly inside at least one
    window), `answer_roundtrip_exact` (questions whose gold token span maps back through the
    offsets to exactly the answer text, outer whitespace stripped), `answer_decoded_exact` (the
    same after decoding as prediction does: `span_to_text`, which trims the punctuation a piece
    glued on), `scored_questions` (questions with a gold answer, which the model's metric
    scores), `ceiling_em` and `ceiling_f1` (the scored ceiling, 0-100: the mean over the scored
    questions of the EM/F1, under the language's `mlqa` rules, of the decoded gold span against
    all gold answers; a question without a gold span in any window scores 0), `repaired` and
    `skipped` (reason -> count). A malformed file gives a one-line message on stderr (the other
    files are still checked) and a non-zero exit status.

    Registered as a `Subcommand` with name "xltt-check-data".
    """

    requires_plugins: bool = False

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Read SQuAD-format QA files with the xltt_squad reader and report per file how many "
            "gold answers fall in a window and round-trip exactly through the token offsets."
        )
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("files", nargs="+", metavar="FILE", help="SQuAD-format files")
        subparser.add_argument(
            "--model",
            required=True,
            help="transformer model name or path, or a tokenizer folder (only the tokenizer is "
            "loaded)",
        )
        subparser.add_argument(
            "--lang",
            default=None,
            help="context language of every file (default: inferred from MLQA/XQuAD names)",
        )
        subparser.add_argument("--length-limit", type=int, default=384)
        subparser.add_argument("--stride", type=int, default=128)
        subparser.add_argument("--max-query-length", type=int, default=64)
        subparser.add_argument(
            "--split-cjk-pieces",
            action="store_true",
            help="read with the reader's split_cjk_pieces (every Han character its own piece)",
        )
        subparser.add_argument(
            "--train",
            action="store_true",
            help="read as for training (skip_impossible_questions): windows without the answer "
            "and questions without a usable answer are dropped",
        )
        subparser.set_defaults(func=check_data_from_args)
        return subparser


def _fail(message: str, code: int) -> NoReturn:
    fail(COMMAND, message, code)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def check_file(reader: XlttSquadReader, file_path: str, trim: bool = True) -> dict[str, Any]:
    """
    The report for one file (see `XlttCheckData`).

    The answer each question's span should cover is located independently of the instances
    (the first gold answer placed by `first_usable_answer`, as the reader does); a question
    round-trips when a window holding its answer maps its `answer_span` through
    `metadata["token_offsets"]` to exactly that text. The ceiling decodes that span with the
    model's `span_to_text` (`trim` as in prediction; `False` only to measure what trimming
    changes) and scores it with `max_over_gold_answers`.

    # Raises

    `SquadFormatError`, `ConfigurationError`
        For a malformed file or one whose language cannot be determined.
    `UnknownLanguageError`
        When the language has no scoring rule.
    """
    # The loader rejects a question id that occurs twice, so the ids key the questions.
    questions: dict[str, SquadQuestion] = {
        question.qid: question for question in read_squad_questions(file_path)
    }
    language = reader.resolve_language(file_path)
    language_rule(language)  # no scoring rule: fail before reading
    expected: dict[str, str | None] = {}
    for qid, question in questions.items():
        location = first_usable_answer(
            question.context, question.answers, reader.max_repair_distance
        )
        expected[qid] = None if location is None else location.text

    windows = 0
    with_instances: set[str] = set()
    in_window: set[str] = set()
    exact: set[str] = set()
    decoded: dict[str, str] = {}
    for instance in reader.read(file_path):
        windows += 1
        metadata = instance["metadata"].metadata  # type: ignore[attr-defined]
        qid = metadata["id"]
        with_instances.add(qid)
        if not metadata["has_answer"]:
            continue
        in_window.add(qid)
        span = instance["answer_span"]
        span_start: int = span.span_start  # type: ignore[attr-defined]
        span_end: int = span.span_end  # type: ignore[attr-defined]
        chars = token_span_to_char_span(metadata["token_offsets"], span_start, span_end)
        if chars is not None and expected.get(qid) is not None:
            if metadata["context"][chars[0] : chars[1]].strip() == expected[qid]:
                exact.add(qid)
        if qid not in decoded:
            mapped = span_to_text(
                metadata["context"], metadata["token_offsets"], span_start, span_end, trim
            )
            decoded[qid] = "" if mapped is None else mapped[0]
    stats = reader.last_read_stats
    assert stats is not None
    scored = em_sum = f1_sum = 0.0
    decoded_exact = 0
    for qid, question in questions.items():
        gold = [answer.text for answer in question.answers]
        if not gold:
            continue  # the model's metric does not score a question without gold answers
        prediction = decoded.get(qid, "")
        em, f1 = max_over_gold_answers(prediction, gold, language)
        scored += 1
        em_sum += em
        f1_sum += f1
        if expected[qid] is not None and prediction == expected[qid]:
            decoded_exact += 1
    return {
        "file": file_path,
        "language": language,
        "questions": len(questions),
        "questions_with_instances": len(with_instances),
        "windows": windows,
        "answer_in_window": len(in_window),
        "answer_roundtrip_exact": len(exact),
        "answer_decoded_exact": decoded_exact,
        "scored_questions": int(scored),
        "ceiling_em": round(100 * em_sum / scored, 2) if scored else 0.0,
        "ceiling_f1": round(100 * f1_sum / scored, 2) if scored else 0.0,
        "repaired": stats.repaired,
        "skipped": dict(sorted(stats.skipped.items())),
    }


def check_files(reader: XlttSquadReader, files: Iterable[str]) -> int:
    """Print a report line per file; return the exit status (non-zero if any file failed)."""
    status = 0
    for file_path in files:
        try:
            report = check_file(reader, file_path)
        except (SquadFormatError, ConfigurationError, UnknownLanguageError) as error:
            print(f"{COMMAND}: error: {_one_line(error)}", file=sys.stderr)
            status = DATA_ERROR
            continue
        print(json.dumps(report, ensure_ascii=False), flush=True)
    return status


def check_data_from_args(args: argparse.Namespace) -> None:
    try:
        reader = XlttSquadReader(
            transformer_model_name=args.model,
            length_limit=args.length_limit,
            stride=args.stride,
            max_query_length=args.max_query_length,
            language=args.lang,
            skip_impossible_questions=args.train,
            split_cjk_pieces=args.split_cjk_pieces,
        )
    except ConfigurationError as error:
        _fail(_one_line(error), USAGE_ERROR)
    except (OSError, ValueError) as error:
        _fail(f"cannot load the tokenizer of {args.model!r}: {_one_line(error)}", USAGE_ERROR)
    status = check_files(reader, args.files)
    if status:
        raise SystemExit(status)
