"""
`xltt_parallel`: a pivot SQuAD-format file plus k translations aligned by question id (XLTT's
parallel corpora, paper §4.1), as one instance per pivot window with the paired window of each
translation.
"""

import logging
import os
import re
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from allennlp.common.checks import ConfigurationError
from allennlp.data.dataset_readers.dataset_reader import DatasetReader
from allennlp.data.fields import Field, ListField, SpanField, TensorField, TextField
from allennlp.data.instance import Instance

from xltt_plugin.data.read_stats import ReadStats
from xltt_plugin.data.squad_loading import SquadQuestion, default_dataset_name, read_squad_questions
from xltt_plugin.data.token_windows import paired_window, span_in_window
from xltt_plugin.data.xltt_squad_reader import (
    EncodedQuestion,
    TokenizedContext,
    XlttSquadReader,
)

logger = logging.getLogger(__name__)


class _Translation:
    """A translated question encoded over its own context, ready to pair with pivot windows."""

    def __init__(
        self, question: SquadQuestion, context: TokenizedContext, encoded: EncodedQuestion
    ) -> None:
        self.question = question
        self.context = context
        self.encoded = encoded
        self.num_windows = len(encoded.window_starts)
        self.answer_windows = [
            index
            for index in range(self.num_windows)
            if span_in_window(encoded.answer_span, *self.bounds(index)) is not None
        ]

    def bounds(self, window_index: int) -> tuple[int, int]:
        return self.encoded.window_bounds(window_index, len(self.context.tokens))


def translation_path(pivot_path: str, pivot_language: str, language: str) -> str | None:
    """
    The path of a translation derived from the pivot's by replacing the pivot's language code
    where it stands as a separate part of the file name (`squad_en.json` -> `squad_ja.json`,
    `xquad.en.json` -> `xquad.ja.json`); `None` when the name has no such part.
    """
    directory, name = os.path.split(pivot_path)
    pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(pivot_language)}(?![A-Za-z0-9])")
    if not pattern.search(name):
        return None
    return os.path.join(directory, pattern.sub(language, name))


@DatasetReader.register("xltt_parallel")
class XlttParallelReader(XlttSquadReader):
    """
    Reads a pivot SQuAD-format file and k translation files aligned by question id (the paper:
    English pivot, Japanese and Korean translations) into one instance per pivot window.

    Each instance has the pivot's fields exactly as `xltt_squad` makes them (its `answer_span`,
    `context_span`, `cls_index`, `metadata`), plus, for each configured translation language in
    order:

    - `parallel_question_with_context` (`ListField[TextField]`): the translation's window paired
      with the pivot window: the one holding the translated answer when the pivot window holds
      the pivot's answer (the nearest to the same relative position if several do), else the
      window at the same relative position, `window_index * n_t // n_p`. A language whose file
      lacks the question gets a copy of the pivot's `TextField` (self-transposition).
    - `parallel_context_span`, `parallel_answer_span` (`ListField[SpanField]`): spans in that
      window; the answer span is (cls, cls) when the window lacks the translated answer.
    - `parallel_mask` (`TensorField`, bool, shape (k,)): the slot holds a real translation.
    - `parallel_has_answer` (`TensorField`, bool, shape (k,)): its gold span lies in its window.
    - metadata also has `parallel_languages` and `parallel_present`.

    For prediction, `make_instances` / `text_to_instance` (inherited from `xltt_squad`) give
    pivot-only instances without the parallel fields: the model then fills the slots with the
    input itself (self-transposition) in a single encoder pass.

    A translation's answer is taken at its `answer_start`, else searched for anywhere in its
    context (missing or -1 `answer_start`, or text not at it); when it cannot be found the slot
    has no span. None of this drops an instance; every case is counted per language in
    `last_read_stats.translations` and logged at the end of reading.

    Registered as a `DatasetReader` with name "xltt_parallel".

    # Parameters

    transformer_model_name : `str`, optional (default=`"xlm-roberta-large"`)
        The tokenizer and token indexer's model name or path.
    parallel_languages : `Sequence[str]`, optional (default=`("ja", "ko")`)
        The translation languages, in slot order.
    parallel_files : `Dict[str, str]`, optional (default=`None`)
        Translation file per language. By default derived from the pivot file's name by
        replacing the pivot language code (`squad_en.json` -> `squad_ja.json`).
    translation_cache_size : `int`, optional (default=`64`)
        How many tokenised translation paragraphs to keep per language.
    **kwargs :
        Passed on to `xltt_squad` (`XlttSquadReader`): `length_limit`, `stride`,
        `max_query_length`, `language` (the pivot language; by default inferred from an
        MLQA/XQuAD file name), `dataset_name`, `skip_impossible_questions`,
        `max_repair_distance`, `split_unknown_tokens`, `split_cjk_pieces`, `tokenizer_kwargs`,
        and `DatasetReader`'s `max_instances`; the window settings apply to the pivot and to
        the translations. AllenNLP's `from_params` accepts every one of them in a
        configuration, as it follows `**kwargs` to the base class's parameters.
    """

    def __init__(
        self,
        transformer_model_name: str = "xlm-roberta-large",
        parallel_languages: Sequence[str] = ("ja", "ko"),
        parallel_files: dict[str, str] | None = None,
        translation_cache_size: int = 64,
        **kwargs: Any,
    ) -> None:
        super().__init__(transformer_model_name=transformer_model_name, **kwargs)
        if not parallel_languages:
            raise ConfigurationError("xltt_parallel needs at least one parallel language")
        if len(set(parallel_languages)) != len(parallel_languages):
            raise ConfigurationError(f"repeated parallel language in {list(parallel_languages)}")
        self.parallel_languages = list(parallel_languages)
        self.parallel_files = dict(parallel_files or {})
        unknown = set(self.parallel_files) - set(self.parallel_languages)
        if unknown:
            raise ConfigurationError(
                f"parallel_files has languages {sorted(unknown)} not in parallel_languages"
            )
        self.translation_cache_size = translation_cache_size

    def translation_files(self, file_path: str, pivot_language: str) -> dict[str, str]:
        """The translation file of each parallel language for the pivot file `file_path`."""
        files = {}
        for language in self.parallel_languages:
            path = self.parallel_files.get(language) or translation_path(
                file_path, pivot_language, language
            )
            if path is None:
                raise ConfigurationError(
                    f"{file_path}: cannot derive the {language} translation's file name (no "
                    f"'{pivot_language}' part in the name); set the reader's `parallel_files`"
                )
            files[language] = path
        return files

    def _index_translations(
        self, files: Mapping[str, str], stats: ReadStats
    ) -> dict[str, dict[str, SquadQuestion]]:
        """
        The questions of each language's translation file by id (the loader rejects a file in
        which an id occurs twice). `stats` is for subclasses that count what they check.
        """
        return {
            language: {question.qid: question for question in read_squad_questions(path)}
            for language, path in files.items()
        }

    def _read(self, file_path: str) -> Iterator[Instance]:
        pivot_language = self.resolve_language(file_path)
        dataset = self.dataset_name or default_dataset_name(file_path)
        stats = ReadStats(file=file_path, language=pivot_language)
        stats.translations = {language: Counter() for language in self.parallel_languages}
        self.last_read_stats = stats
        files = self.translation_files(file_path, pivot_language)
        logger.info("Reading pivot %s with translations %s", file_path, files)
        indexes = self._index_translations(files, stats)
        caches: dict[str, OrderedDict[tuple[int, int], TokenizedContext]] = {
            language: OrderedDict() for language in self.parallel_languages
        }
        cached_key: tuple[int, int] | None = None
        cached_context: TokenizedContext | None = None
        for question in self.shard_iterable(read_squad_questions(file_path)):
            if cached_context is None or question.paragraph_key != cached_key:
                cached_context = self.tokenize_context(question.context)
                cached_key = question.paragraph_key
            translations = [
                self._encode_translation(
                    indexes[language].get(question.qid),
                    caches[language],
                    stats.translations[language],
                )
                for language in self.parallel_languages
            ]
            yield from self._parallel_instances(
                question, cached_context, translations, pivot_language, dataset, stats
            )
        stats.log(logger)

    def _encode_translation(
        self,
        question: SquadQuestion | None,
        cache: "OrderedDict[tuple[int, int], TokenizedContext]",
        counts: Counter,
    ) -> _Translation | None:
        if question is None:
            counts["missing_question"] += 1
            return None
        counts["present"] += 1
        context = cache.get(question.paragraph_key)
        if context is None:
            context = self.tokenize_context(question.context)
            cache[question.paragraph_key] = context
            if len(cache) > self.translation_cache_size:
                cache.popitem(last=False)
        else:
            cache.move_to_end(question.paragraph_key)
        encoded = self.encode_question(
            question.question, question.context, context, question.answers, None
        )
        if encoded.problem is not None:
            counts[encoded.problem] += 1
        elif encoded.answer is not None and encoded.answer.repaired:
            counts["answer_repaired"] += 1
        return _Translation(question, context, encoded)

    def _parallel_instances(
        self,
        question: SquadQuestion,
        context: TokenizedContext,
        translations: list[_Translation | None],
        language: str,
        dataset: str,
        stats: ReadStats,
    ) -> Iterator[Instance]:
        present = [translation is not None for translation in translations]
        for instance in self._question_instances(
            question, context, language, dataset, stats, always_add_answer_span=True
        ):
            metadata = instance["metadata"].metadata  # type: ignore[attr-defined]
            window_index: int = metadata["window_index"]
            num_windows: int = metadata["num_windows"]
            text_fields: list[TextField] = []
            context_spans: list[Field] = []
            answer_spans: list[Field] = []
            has_answer: list[bool] = []
            for slot, translation in enumerate(translations):
                if translation is None:
                    copy, context_span, answer_span = self._pivot_copy(instance)
                    text_fields.append(copy)
                    context_spans.append(context_span)
                    answer_spans.append(answer_span)
                    has_answer.append(False)
                    continue
                paired = paired_window(
                    window_index,
                    num_windows,
                    translation.num_windows,
                    translation.answer_windows if metadata["has_answer"] else (),
                )
                window = self.encode_window(
                    translation.encoded.question_tokens,
                    translation.context,
                    *translation.bounds(paired),
                    translation.encoded.answer_span,
                )
                text_fields.append(window.text_field)
                context_spans.append(SpanField(*window.context_span, window.text_field))
                span = window.answer_span or (window.cls_index, window.cls_index)
                answer_spans.append(SpanField(*span, window.text_field))
                has_answer.append(window.answer_span is not None)
                stats.translations[self.parallel_languages[slot]][
                    "window_with_answer"
                    if window.answer_span is not None
                    else "window_without_answer"
                ] += 1
            instance.add_field("parallel_question_with_context", ListField(text_fields))
            instance.add_field("parallel_context_span", ListField(context_spans))
            instance.add_field("parallel_answer_span", ListField(answer_spans))
            instance.add_field(
                "parallel_mask", TensorField(torch.tensor(present, dtype=torch.bool))
            )
            instance.add_field(
                "parallel_has_answer", TensorField(torch.tensor(has_answer, dtype=torch.bool))
            )
            metadata["parallel_languages"] = list(self.parallel_languages)
            metadata["parallel_present"] = list(present)
            yield instance

    def apply_token_indexers(self, instance: Instance) -> None:
        super().apply_token_indexers(instance)
        for text_field in instance["parallel_question_with_context"]:  # type: ignore[attr-defined]
            text_field.token_indexers = self._token_indexers

    @staticmethod
    def _pivot_copy(instance: Instance) -> tuple[TextField, SpanField, SpanField]:
        """
        A copy of the pivot's `TextField` (self-transposition), its context span, and a (cls, cls)
        answer span.
        """
        pivot_field: TextField = instance["question_with_context"]  # type: ignore[assignment]
        cls_index: int = instance["cls_index"].sequence_index  # type: ignore[attr-defined]
        pivot_span: SpanField = instance["context_span"]  # type: ignore[assignment]
        copy = TextField(list(pivot_field.tokens))
        return (
            copy,
            SpanField(pivot_span.span_start, pivot_span.span_end, copy),
            SpanField(cls_index, cls_index, copy),
        )
