"""Predictor for the `xltt` model: JSON lines or whole SQuAD-format files, one answer per id."""

import atexit
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from allennlp.common.checks import ConfigurationError
from allennlp.common.util import JsonDict, lazy_groups_of, sanitize
from allennlp.data import Instance
from allennlp.predictors.predictor import Predictor
from tqdm import tqdm

from xltt_plugin.data.languages import infer_language
from xltt_plugin.data.squad_loading import (
    SquadFormatError,
    SquadQuestion,
    iter_squad_questions,
    read_squad_questions,
)
from xltt_plugin.data.xltt_translated_reader import SELF_MODE, XlttTranslatedReader
from xltt_plugin.models.span_decoding import SpanCandidate, merge_windows
from xltt_plugin.predictors.json_line_buffer import JsonLineBuffer

logger = logging.getLogger(__name__)

UNKNOWN_LANGUAGE = "und"
# The slot languages of JSON-lines translations when the reader is not `xltt_translated` (the
# paper's, and `xltt_parallel`'s default).
DEFAULT_SLOT_LANGUAGES = ("ja", "ko")
_PARTIAL = "_xltt_partial_document"
_ANSWERS = "_xltt_answers"


@Predictor.register("xltt")
class XlttPredictor(Predictor):
    """
    Predicts the answer of each question: the question's windows are run through the model in
    batches of `window_batch_size`, and the n-best candidates of all windows are merged (best
    score first). Every question gets a prediction; it is `""` when nothing can be extracted
    (for example a context that tokenises to nothing).

    Input, one JSON object per line:
    `{"id"?: str, "question": str, "context": str, "language"?: str}`; a missing `id` defaults
    to the question's 0-based position in the input.
    Output: `{"id", "best_span_str", "best_span_score", "language", "test_mode", "nbest":
    [{"text", "score", "char_start", "char_end", "window_index"}, ...]}`.

    Test modes (design README §7): a line without `"parallel"` is answered in mode `self` (the
    slots hold the input itself). A line with `"parallel": [{"question", "context",
    "language"}, ...]`, its translations into the slot languages, is answered in mode
    `translated` (`"test_mode": "translated: ja,ko"`, and `"slot_modes"`: per slot language
    `"translated"` or `"self"`, a slot whose language the line lacks falling back to the input
    itself). The slot languages, in the training order, are those of an `xltt_translated`
    reader when the archive's validation reader is overridden to one, else `ja, ko` (the
    paper's); their number must equal the model's `num_parallel`; a language twice or not
    among the slots is an error naming the input. The answer is always taken from the line's
    own `context`.

    SQuAD-format input (MLQA, XQuAD, SQuAD files): `allennlp predict` feeds its input line by
    line, so `load_line` buffers a multi-line JSON document until its top-level closing brace
    (or takes a one-line document at once); the whole document is then answered and written as
    ONE JSON line `{question_id: answer_text}`, the format `allennlp xltt-score` and the
    official scripts read. Use `--silent` with such files (the buffered lines would otherwise
    print as empty predictions). `predict_squad_file` does the same from Python. With the
    validation reader overridden to `xltt_translated` (as for `allennlp evaluate`, README "Test
    modes"), a SQuAD document is answered in mode `translated` with the reader's translation
    files, attached by question id; the mode and the per-language fallbacks are logged (the
    output stays `{question_id: answer_text}`).

    Registered as a `Predictor` with name `xltt`.
    """

    window_batch_size = 32

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lines = JsonLineBuffer()
        # Position of the next JSON-lines question in the whole input: the default id.
        self._next_position = 0
        self._translated_readers: dict[tuple[str, ...], XlttTranslatedReader] = {}

    def load_line(self, line: str) -> JsonDict:
        """
        A JSON-lines object, or a SQuAD document once all of its lines are in (see above and
        `JsonLineBuffer`). Raises `SquadFormatError` naming the line for input that is not JSON
        or not an object; a document left open at the end of `allennlp predict`'s input is
        reported on stderr and ends the process with status 1.
        """
        value = self._lines.feed(line)
        if self._lines.pending:
            _UNFINISHED_INPUTS.add(self._lines)
            return {_PARTIAL: True}
        _UNFINISHED_INPUTS.discard(self._lines)
        if not isinstance(value, dict):
            raise SquadFormatError(
                f"input line {self._lines.lines_fed}: expected a JSON object, "
                f"got {type(value).__name__}"
            )
        return value

    def dump_line(self, outputs: JsonDict) -> str:
        if outputs.get(_PARTIAL):
            return ""
        content = outputs[_ANSWERS] if _ANSWERS in outputs else outputs
        text = json.dumps(content, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from the input: escape it instead
            text = json.dumps(content)
        return text + "\n"

    def _n_best_size(self) -> int:
        return int(getattr(self._model, "n_best_size", 20))

    def _reader(self) -> Any:
        reader = self._dataset_reader
        if not hasattr(reader, "make_instances"):
            raise ConfigurationError(
                f"The xltt predictor needs an `xltt_squad`-style dataset reader with "
                f"make_instances(); the archive's reader is {type(reader).__name__}."
            )
        return reader

    def _json_to_instance(self, json_dict: JsonDict) -> Instance:
        """The first window of a question (AllenNLP's single-instance hook)."""
        return next(iter(self._question_instances(json_dict, 0)))

    def _question_instances(self, json_dict: JsonDict, index: int) -> list[Instance]:
        for key in ("question", "context"):
            if not isinstance(json_dict.get(key), str):
                raise SquadFormatError(
                    f"input #{index} (id {json_dict.get('id')!r}): {key!r} must be a string, "
                    f"got {type(json_dict.get(key)).__name__}"
                )
        qid = str(json_dict.get("id", index))
        language = json_dict.get("language") or UNKNOWN_LANGUAGE
        if json_dict.get("parallel") is not None:
            return self._translated_windows(json_dict, qid, language)
        return self._windows(qid, json_dict["question"], json_dict["context"], language)

    def _translated_reader(self, languages: Sequence[str], where: str) -> XlttTranslatedReader:
        """The `xltt_translated` reader with these slot languages, checked against the model."""
        expected = getattr(self._model, "num_parallel", None)
        if expected is not None and len(languages) != expected:
            raise ConfigurationError(
                f"{where}: {len(languages)} parallel slot(s) {list(languages)}, but the model "
                f"was trained with {expected}; give one translation per training slot language"
            )
        key = tuple(languages)
        if key not in self._translated_readers:
            self._translated_readers[key] = XlttTranslatedReader.from_reader(
                self._reader(), languages
            )
        return self._translated_readers[key]

    def _translated_windows(self, json_dict: JsonDict, qid: str, language: str) -> list[Instance]:
        """The window instances of a JSON-lines question with its `parallel` translations."""
        where = f"input id {qid!r}"
        entries = json_dict["parallel"]
        if not isinstance(entries, list):
            raise SquadFormatError(f"{where}: 'parallel' must be a list of objects")
        given: dict[str, SquadQuestion] = {}
        for position, entry in enumerate(entries):
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(key), str) for key in ("question", "context", "language")
            ):
                raise SquadFormatError(
                    f"{where}: parallel[{position}] must be an object with string 'question', "
                    "'context' and 'language'"
                )
            if entry["language"] in given:
                raise SquadFormatError(f"{where}: language {entry['language']!r} given twice")
            given[entry["language"]] = SquadQuestion(
                qid, entry["question"], entry["context"], (), 0, position
            )
        reader = self._reader()
        languages = (
            list(reader.parallel_languages)
            if isinstance(reader, XlttTranslatedReader)
            else list(DEFAULT_SLOT_LANGUAGES)
        )
        unknown = sorted(set(given) - set(languages))
        if unknown:
            raise ConfigurationError(
                f"{where}: translation language(s) {unknown} are not among the slot languages "
                f"{languages} the model is used with"
            )
        translated = self._translated_reader(languages, where)
        target = SquadQuestion(qid, json_dict["question"], json_dict["context"], (), 0, 0)
        return translated.question_instances(
            target, [given.get(lang) for lang in languages], language
        )

    def _windows(self, qid: str, question: str, context: str, language: str) -> list[Instance]:
        """The indexed window instances of one question."""
        reader = self._reader()
        instances = list(reader.make_instances(qid, question, context, language=language))
        for instance in instances:
            reader.apply_token_indexers(instance)
        return instances

    def predict_json(self, inputs: JsonDict) -> JsonDict:
        return self.predict_batch_json([inputs])[0]

    def predict_batch_json(self, inputs: list[JsonDict]) -> list[JsonDict]:
        results: list[JsonDict | None] = [None] * len(inputs)
        questions = []
        for i, item in enumerate(inputs):
            if item.get(_PARTIAL):
                results[i] = {_PARTIAL: True}
            elif isinstance(item.get("data"), list):
                answers = self.predict_squad_document(item, "<input document>")
                results[i] = {_ANSWERS: answers}
            else:
                questions.append(i)
        positions = list(range(self._next_position, self._next_position + len(questions)))
        self._next_position += len(questions)
        groups = [self._question_instances(inputs[i], p) for i, p in zip(questions, positions)]
        for i, p, output in zip(questions, positions, self._answer_groups(groups)):
            output["id"] = str(inputs[i].get("id", p))
            results[i] = output
        return [r for r in results if r is not None]

    def _answer_groups(self, groups: list[list[Instance]]) -> list[JsonDict]:
        """Run all windows of these questions and merge each question's candidates."""
        flat = [(g, instance) for g, group in enumerate(groups) for instance in group]
        candidates: list[list[SpanCandidate]] = [[] for _ in groups]
        for chunk in lazy_groups_of(iter(flat), self.window_batch_size):
            outputs = self._model.forward_on_instances([instance for _, instance in chunk])
            for (g, _), output in zip(chunk, outputs):
                candidates[g].extend(_candidate(c) for c in output["nbest"])
        results = []
        for group, found in zip(groups, candidates):
            metadata: dict[str, Any] = group[0]["metadata"].metadata if group else {}  # type: ignore[attr-defined]
            merged = merge_windows(found, self._n_best_size())
            best = merged[0] if merged else None
            results.append(
                {
                    "id": metadata.get("id"),
                    "language": metadata.get("language"),
                    "best_span_str": best.text if best else "",
                    "best_span_score": best.score if best else None,
                    "test_mode": metadata.get("test_mode", SELF_MODE),
                    **(
                        {"slot_modes": dict(zip(metadata["parallel_languages"], slot_modes))}
                        if (slot_modes := metadata.get("slot_modes"))
                        else {}
                    ),
                    "nbest": [c.to_json() for c in merged],
                }
            )
        return sanitize(results)

    def predict_squad_questions(
        self,
        questions: Iterator[SquadQuestion],
        language: str,
        translations: dict[str, dict[str, SquadQuestion]] | None = None,
    ) -> Iterator[JsonDict]:
        """
        Answer each question of an iterator of parsed SQuAD questions, in batches; with
        `translations` (slot language -> id -> translated question; see
        `XlttTranslatedReader.load_translations`) in test mode `translated`.
        """
        translated = (
            None
            if translations is None
            else self._translated_reader(list(translations), "translations")
        )
        for batch in lazy_groups_of(questions, 16):
            if translated is None or translations is None:
                groups = [self._windows(q.qid, q.question, q.context, language) for q in batch]
            else:
                groups = [
                    translated.question_instances(
                        q, [translations[lang].get(q.qid) for lang in translations], language
                    )
                    for q in batch
                ]
            for question, output in zip(batch, self._answer_groups(groups)):
                output["id"] = question.qid
                yield output

    def predict_squad_file(self, file_path: str, language: str | None = None) -> dict[str, str]:
        """
        `{question_id: answer_text}` for every question of a SQuAD-format file.

        # Parameters

        file_path : `str`
        language : `str`, optional
            Defaults to the language inferred from an MLQA/XQuAD file name, else the reader's.
        """
        language = (
            language
            or infer_language(file_path)
            or getattr(self._reader(), "language", None)
            or UNKNOWN_LANGUAGE
        )
        return self._answer_all(list(read_squad_questions(file_path)), file_path, language)

    def predict_squad_document(self, document: JsonDict, name: str) -> dict[str, str]:
        """`{question_id: answer_text}` for a parsed SQuAD-format document."""
        language = getattr(self._reader(), "language", None) or UNKNOWN_LANGUAGE
        questions = list(iter_squad_questions(document["data"], name))
        return self._answer_all(questions, name, language)

    def _answer_all(
        self, questions: list[SquadQuestion], file_path: str, language: str
    ) -> dict[str, str]:
        answers: dict[str, str] = {}
        reader = self._reader()
        translations = None
        if isinstance(reader, XlttTranslatedReader):
            translations = reader.load_translations(file_path, [q.qid for q in questions], language)
        progress = tqdm(total=len(questions), desc=f"predicting {file_path}", unit="question")
        fallbacks: Counter = Counter()
        mode = SELF_MODE
        for output in self.predict_squad_questions(iter(questions), language, translations):
            answers[output["id"]] = output["best_span_str"]
            mode = output.get("test_mode", mode)
            fallbacks.update(
                lang for lang, used in output.get("slot_modes", {}).items() if used == SELF_MODE
            )
            progress.update(1)
        progress.close()
        logger.info(
            "%s: %d questions answered in test mode %s%s",
            file_path,
            len(answers),
            mode,
            f" (translations {reader.last_translation_files}; questions whose slot fell back "
            f"to self: {dict(fallbacks) or 'none'})"
            if translations is not None
            else "",
        )
        missing = {q.qid for q in questions} - set(answers)
        if missing:  # pragma: no cover - guarded by construction
            raise RuntimeError(f"{file_path}: no prediction for {len(missing)} question(s)")
        return answers


# Inputs whose last multi-line document was still open when last fed (see `load_line`).
_UNFINISHED_INPUTS: set[JsonLineBuffer] = set()


@atexit.register
def _report_unfinished_inputs() -> None:
    """At exit: a truncated document must not pass for an input with nothing to predict."""
    for lines in list(_UNFINISHED_INPUTS):
        _UNFINISHED_INPUTS.discard(lines)
        try:
            lines.finish()
        except SquadFormatError as error:
            sys.stdout.flush()
            print(f"xltt predictor: error: {error}", file=sys.stderr, flush=True)
            if sys.argv[1:2] == ["predict"]:  # `allennlp predict`: fail with status 1
                os._exit(1)


def _candidate(data: dict[str, Any]) -> SpanCandidate:
    return SpanCandidate(
        text=data["text"],
        score=float(data["score"]),
        char_start=int(data["char_start"]),
        char_end=int(data["char_end"]),
        window_index=int(data["window_index"]),
        token_start=-1,
        token_end=-1,
    )
