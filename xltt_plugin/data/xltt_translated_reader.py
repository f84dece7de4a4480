"""
`xltt_translated`: a target-language test file as the pivot, with its machine translations into
the training slot languages as the parallels (test mode `translated`, design README §7).
"""

import copy
import dataclasses
import logging
import os
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from allennlp.common.checks import ConfigurationError
from allennlp.data.dataset_readers.dataset_reader import DatasetReader
from allennlp.data.instance import Instance

from xltt_plugin.data.languages import infer_language
from xltt_plugin.data.read_stats import ReadStats
from xltt_plugin.data.squad_loading import SquadQuestion, read_squad_questions
from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader
from xltt_plugin.data.xltt_squad_reader import TokenizedContext, XlttSquadReader

logger = logging.getLogger(__name__)

SELF_MODE = "self"
# How many ids an error or warning names before "...".
_SHOWN_IDS = 10


def translated_mode_label(languages: Sequence[str]) -> str:
    """The test-mode label of reports: `"translated: ja,ko"`."""
    return "translated: " + ",".join(languages)


def _some(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in list(ids)[:_SHOWN_IDS])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > _SHOWN_IDS else "")


@DatasetReader.register("xltt_translated")
class XlttTranslatedReader(XlttParallelReader):
    """
    Reads a target-language test file (MLQA, XQuAD, ...) as the pivot, and its translations
    into the slot languages the model was trained with, aligned by question id: the paper's
    test protocol (§4.1; test mode `translated`). The answer is always extracted from the
    target passage; the target's gold answers are used for scoring only.

    The instances have the fields of `xltt_parallel`, with three differences that keep every
    prediction independent of gold answers:

    - the translations' answers are never read (a translation made with
      `allennlp xltt-translate --test-set` has none; any that a file has are dropped), so no
      slot has a gold span, `parallel_has_answer` is all false and no auxiliary loss arises;
    - a target window is paired with the translation window at the same relative position,
      `window_index * n_t // n_p` (training's rule when there is no answer to pair by);
    - a target question whose translation is missing gets the target itself in that slot
      (`parallel_mask` false: the model uses self-transposition there). It is never dropped;
      such questions are counted per language and logged with their ids.

    Metadata gains `test_mode` (`"translated: ja,ko"`), `slot_modes` (per slot `"translated"`
    or `"self"`) and `translation_files`. `last_read_stats.translations` counts, per language,
    `present` and `missing_question` (fallbacks), and `not_in_target` (translation ids the
    target lacks).

    Checked on reading, each an error naming the file (and ids): a translation file whose name
    says another language than its slot's (`xquad.ko.json` given for `ja`), and one that shares
    no question id with the target; a translation with ids the target lacks is a warning naming
    them. The number of slots is checked against the model by the `xltt` evaluator and
    predictor.

    Usage (see README "Test modes"): `allennlp evaluate ARCHIVE TARGET --overrides
    '{"evaluation": {"type": "xltt"}, "validation_dataset_reader.type": "xltt_translated",
    "validation_dataset_reader.parallel_files": {"ja": ..., "ko": ...}}'` (dotted keys, so that
    the archive's tokenizer and window settings are kept).

    Registered as a `DatasetReader` with name "xltt_translated".

    # Parameters

    parallel_languages : `Sequence[str]`, optional (default=`("ja", "ko")`)
        The slot languages in the order the model was trained with (the training reader's
        `parallel_languages`).
    parallel_files : `Dict[str, str]`, optional (default=`None`)
        The translation file of each slot language; by default derived from the target file's
        name (`xquad.hi.json` -> `xquad.ja.json`), as for `xltt_parallel`.
    transformer_model_name : `str`, optional (default=`"xlm-roberta-large"`)
        The tokenizer and token indexer's model name or path (the archive's).
    **kwargs :
        Passed on to `xltt_parallel` (`XlttParallelReader`): `parallel_languages`,
        `parallel_files` (above), `translation_cache_size`, and through it to `xltt_squad`
        (`XlttSquadReader`): `length_limit`, `stride`, `max_query_length`, `language` (the
        target's; by default inferred from an MLQA/XQuAD file name), `dataset_name`,
        `max_repair_distance`, `split_unknown_tokens`, `split_cjk_pieces`, `tokenizer_kwargs`,
        `max_instances`. AllenNLP's `from_params` accepts every one of them in a configuration.
        `skip_impossible_questions` must stay false: a test question is never dropped.
    """

    def __init__(self, transformer_model_name: str = "xlm-roberta-large", **kwargs: Any) -> None:
        super().__init__(transformer_model_name=transformer_model_name, **kwargs)
        if self.skip_impossible_questions:
            raise ConfigurationError(
                "xltt_translated never drops a test question: set skip_impossible_questions false"
            )
        self._target_ids: set[str] = set()
        self._target_file = ""
        self.last_translation_files: dict[str, str] = {}

    @classmethod
    def from_reader(
        cls, reader: XlttSquadReader, parallel_languages: Sequence[str]
    ) -> "XlttTranslatedReader":
        """
        A `xltt_translated` reader with exactly the tokenizer and window settings of `reader`
        (for instance an archive's `xltt_squad` validation reader) and these slot languages.
        """
        if isinstance(reader, cls) and reader.parallel_languages == list(parallel_languages):
            return reader
        new = cls.__new__(cls)
        new.__dict__.update(copy.copy(reader.__dict__))
        new.parallel_languages = list(parallel_languages)
        new.parallel_files = {}
        new.translation_cache_size = getattr(reader, "translation_cache_size", 64)
        new._target_ids = set()
        new._target_file = ""
        new.last_translation_files = {}
        return new

    @property
    def test_mode(self) -> str:
        return translated_mode_label(self.parallel_languages)

    def translation_files(self, file_path: str, pivot_language: str) -> dict[str, str]:
        files = super().translation_files(file_path, pivot_language)
        for language, path in files.items():
            named = infer_language(path)
            if named is not None and named != language:
                raise ConfigurationError(
                    f"{path}: given as the {language!r} translation of {file_path}, but its "
                    f"name says {named!r}; the slots are {self.parallel_languages} in the "
                    "order the model was trained with"
                )
            if not os.path.exists(path) and "://" not in path:
                raise ConfigurationError(
                    f"{path}: the {language!r} translation of {file_path} does not exist (make "
                    "it with `allennlp xltt-translate --test-set`, or set `parallel_files`)"
                )
        self.last_translation_files = files
        return files

    def _index_translations(
        self, files: Mapping[str, str], stats: ReadStats
    ) -> dict[str, dict[str, SquadQuestion]]:
        return {
            language: self._index_translation(path, language, stats.translations[language])
            for language, path in files.items()
        }

    def _index_translation(
        self, file_path: str, language: str, counts: Counter
    ) -> dict[str, SquadQuestion]:
        """
        The translation's questions by id, without answers, checked against the target's ids
        (an error when it shares none, a warning naming the ids one side lacks).
        """
        # Never read a translation's answers: test-time input carries none. (The loader rejects
        # a file in which an id occurs twice.)
        index = {
            question.qid: dataclasses.replace(question, answers=())
            for question in read_squad_questions(file_path)
        }
        if not self._target_ids:
            return index
        foreign = [qid for qid in index if qid not in self._target_ids]
        if foreign and len(foreign) == len(index):
            raise ConfigurationError(
                f"{file_path}: the {language!r} translation shares no question id with the "
                f"target {self._target_file} (its ids: {_some(foreign)}); is it the "
                "translation of another file?"
            )
        if foreign:
            counts["not_in_target"] += len(foreign)
            logger.warning(
                "%s: %d question id(s) of the %r translation are not in the target %s; ignored: %s",
                file_path,
                len(foreign),
                language,
                self._target_file,
                _some(foreign),
            )
        missing = sorted(self._target_ids - set(index))
        if missing:
            logger.warning(
                "%s: %d of %d target question(s) of %s have no %r translation; that slot "
                "falls back to self-transposition for them: %s",
                file_path,
                len(missing),
                len(self._target_ids),
                self._target_file,
                language,
                _some(missing),
            )
        return index

    def load_translations(
        self, target_path: str, target_ids: Sequence[str], language: str
    ) -> dict[str, dict[str, SquadQuestion]]:
        """
        Per slot language, the translations (answers dropped) of the target `target_path`
        by question id, with the checks and warnings of reading (for prediction).
        """
        self._target_file = target_path
        self._target_ids = set(target_ids)
        files = self.translation_files(target_path, language)
        return {
            lang: self._index_translation(path, lang, Counter()) for lang, path in files.items()
        }

    def _read(self, file_path: str) -> Iterator[Instance]:
        self._target_file = file_path
        self._target_ids = {question.qid for question in read_squad_questions(file_path)}
        yield from super()._read(file_path)

    def _parallel_instances(self, *args: Any, **kwargs: Any) -> Iterator[Instance]:
        for instance in super()._parallel_instances(*args, **kwargs):
            metadata = instance["metadata"].metadata  # type: ignore[attr-defined]
            metadata["test_mode"] = self.test_mode
            metadata["slot_modes"] = [
                "translated" if present else SELF_MODE for present in metadata["parallel_present"]
            ]
            metadata["translation_files"] = dict(self.last_translation_files)
            yield instance

    def apply_token_indexers(self, instance: Instance) -> None:
        if "parallel_question_with_context" in instance.fields:
            super().apply_token_indexers(instance)
        else:  # a `self`-mode instance from `make_instances` (the predictor)
            XlttSquadReader.apply_token_indexers(self, instance)

    def question_instances(
        self,
        question: SquadQuestion,
        translations: Sequence[SquadQuestion | None],
        language: str,
        dataset: str | None = None,
    ) -> list[Instance]:
        """
        The indexed window instances of one target question with its translations (one per
        slot, `None` for a missing one), for prediction: no gold answer is read, neither the
        translations' nor the target's (the instances have no `answer_span`, as
        `make_instances` without answers).
        """
        question = dataclasses.replace(question, answers=())
        if len(translations) != len(self.parallel_languages):
            raise ConfigurationError(
                f"question {question.qid!r}: {len(translations)} translation(s) for the "
                f"{len(self.parallel_languages)} slots {self.parallel_languages}"
            )
        stats = ReadStats(language=language)
        stats.translations = {lang: Counter() for lang in self.parallel_languages}
        encoded = [
            None
            if translation is None
            else self._encode_translation(
                dataclasses.replace(translation, answers=()),
                OrderedDict(),
                stats.translations[lang],
            )
            for lang, translation in zip(self.parallel_languages, translations)
        ]
        context: TokenizedContext = self.tokenize_context(question.context)
        instances = list(
            self._parallel_instances(
                question,
                context,
                encoded,
                language,
                dataset or self.dataset_name or "",
                stats,
            )
        )
        for instance in instances:
            del instance.fields["answer_span"]
            self.apply_token_indexers(instance)
        return instances
