"""
The `xltt-translate` subcommand: machine-translate a SQuAD-format QA set and keep its answer
spans, building the parallel corpora of XLTT (paper §4.1, step 1: SQuAD v1.1 to ja/ko,
CMRC2018 and DRCD to en/ja/ko).

```
allennlp xltt-translate INPUT --target-lang ja --translator CONFIG --output OUT.json
    [--cache OUT.json.translations.jsonl] [--fuzzy-threshold 0.8] [--no-fuzzy]
    [--no-sentence-split] [--test-set]
```

`CONFIG` is a JSON/Jsonnet file or an inline JSON object for `Translator.from_params`, e.g.
`{"type": "lexicon", "path": "fixtures/lexicon/en-xx.tsv"}` or
`{"type": "hf_seq2seq", "model_name": "Helsinki-NLP/opus-mt-en-jap"}`; a missing
`target_lang` is taken from `--target-lang`.

What is written (markers, then search; per-sentence translation; the resumable cache; test
sets) is described in `xltt_plugin.translation.pipeline`. The counts are printed on stderr and
stored in the output file under the top-level key `"xltt_translation"`. Errors (an unreadable
or malformed input, named as the readers name it; a bad translator configuration; a malformed
cache) print one line on stderr and exit with status 1.
"""

import argparse
import sys
from typing import Any

from allennlp.commands.subcommand import Subcommand

from xltt_plugin.commands.errors import fail
from xltt_plugin.translation.pipeline import (
    TranslateError,
    load_translator,
    translate_squad_file,
)
from xltt_plugin.translation.span_preservation import DEFAULT_FUZZY_THRESHOLD


def format_counts(stats: dict[str, Any]) -> str:
    """The counts as the lines printed on stderr."""
    counts = stats["counts"]
    return (
        f"xltt-translate: {counts['questions']} questions translated into "
        f"{stats['target_lang']} with {stats['translator']}\n"
        f"  answers: {counts['answers']}: located by marker {counts['located_by_marker']}, "
        f"by search {counts['located_by_search']} (exact {counts['search_exact']}, "
        f"normalised {counts['search_normalised']}, fuzzy {counts['search_fuzzy']}), "
        f"unlocated {counts['unlocated']}\n"
        f"  markers lost in {counts['marker_failed']} question(s); "
        f"{counts['not_in_source']} answer(s) not found in the source context\n"
        f"  texts: {counts['texts']}: translated now {counts['texts_translated']}, "
        f"from the cache {counts['texts_from_cache']}\n"
        f"  paragraphs: {counts['paragraphs']} in, {counts['paragraphs_written']} out"
        + _unlocated_line(stats)
    )


def _unlocated_line(stats: dict[str, Any], shown: int = 10) -> str:
    """The ids of the questions with an unlocated answer (the first `shown`), or `""`."""
    ids = list(dict.fromkeys(entry["id"] for entry in stats.get("unlocated", [])))
    if not ids:
        return ""
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return (
        f"\n  unlocated answers in question(s) {', '.join(ids[:shown])}{more} (all listed "
        f"under 'xltt_translation' -> 'unlocated' in the output)"
    )


@Subcommand.register("xltt-translate")
class XlttTranslate(Subcommand):
    """
    `allennlp xltt-translate INPUT --target-lang L --translator CONFIG --output OUT.json`:
    machine-translate a SQuAD-format QA set, locating each answer in the translated context
    (markers, then search), with a resumable translation cache.

    Registered as a `Subcommand` with name `xltt-translate`.
    """

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Translate a SQuAD-format QA set (contexts, questions, answers), keeping question "
            "ids and locating each answer in the translated context (marker method, then "
            "search); writes a SQuAD-format file with the statistics under 'xltt_translation'."
        )
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("input_file", type=str, help="SQuAD-format JSON file")
        subparser.add_argument(
            "--target-lang", required=True, help="target language code (e.g. ja, ko, en)"
        )
        subparser.add_argument(
            "--translator",
            required=True,
            help="translator configuration: a JSON/Jsonnet file or an inline JSON object, e.g. "
            '\'{"type": "lexicon", "path": "glossary.tsv"}\'',
        )
        subparser.add_argument("--output", required=True, help="output SQuAD-format JSON file")
        subparser.add_argument(
            "--cache",
            default=None,
            help="JSON-lines translation cache and resume log (default: OUTPUT.translations.jsonl)",
        )
        subparser.add_argument(
            "--fuzzy-threshold",
            type=float,
            default=DEFAULT_FUZZY_THRESHOLD,
            help="minimal similarity (0-1] of a fuzzy answer match (default 0.8)",
        )
        subparser.add_argument(
            "--no-fuzzy", action="store_true", help="only exact and normalised answer search"
        )
        subparser.add_argument(
            "--no-sentence-split",
            action="store_true",
            help="translate each context whole instead of sentence by sentence",
        )
        subparser.add_argument(
            "--test-set",
            action="store_true",
            help="translate questions and contexts only, never reading the gold answers (a "
            "test set's translations for the `xltt_translated` reader)",
        )
        subparser.add_argument("--silent", action="store_true", help="no progress bar")
        subparser.set_defaults(func=translate_from_args)
        return subparser


def translate_from_args(args: argparse.Namespace) -> None:
    """Run `xltt-translate`: write the output, print the counts on stderr, or exit 1."""
    cache_path = args.cache or args.output + ".translations.jsonl"
    try:
        translator = load_translator(args.translator, args.target_lang)
        stats = translate_squad_file(
            args.input_file,
            args.output,
            translator,
            args.target_lang,
            cache_path=cache_path,
            fuzzy_threshold=None if args.no_fuzzy else args.fuzzy_threshold,
            sentence_split=not args.no_sentence_split,
            progress=not args.silent,
            read_answers=not args.test_set,
        )
    except TranslateError as error:
        fail("xltt-translate", str(error), 1)
    except KeyboardInterrupt:
        sys.exit(
            f"xltt-translate: interrupted; finished batches are kept in {cache_path}: re-run "
            "the same command to resume"
        )
    print(format_counts(stats), file=sys.stderr)
