"""Predictor for the `xltt` model: JSON lines or whole SQuAD-format files, one answer per id."""

import atexit
import json
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

from allennlp.common.checks import ConfigurationError
from allennlp.common.util import JsonDict, lazy_groups_of, sanitize
from allennlp.data import Instance
from allennlp.predictors.predictor import Predictor
from tqdm import tqdm

from xltt_plugin.data.languages import infer_language
from xltt_plugin.data.squad_reading import (
    JsonLineBuffer,
    SquadFormatError,
    SquadQuestion,
    iter_squad_questions,
    read_squad_questions,
)
from xltt_plugin.models.span_decoding import SpanCandidate, merge_windows

logger = logging.getLogger(__name__)

UNKNOWN_LANGUAGE = "und"
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
    Output: `{"id", "best_span_str", "best_span_score", "language", "nbest": [{"text",
    "score", "char_start", "char_end", "window_index"}, ...]}`.

    SQuAD-format input (MLQA, XQuAD, SQuAD files): `allennlp predict` feeds its input line by
    line, so `load_line` buffers a multi-line JSON document until its top-level closing brace
    (or takes a one-line document at once); the whole document is then answered and written as
    ONE JSON line `{question_id: answer_text}`, the format `allennlp xltt-score` and the
    official scripts read. Use `--silent` with such files (the buffered lines would otherwise
    print as empty predictions). `predict_squad_file` does the same from Python.

    Registered as a `Predictor` with name `xltt`.
    """

    window_batch_size = 32

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lines = JsonLineBuffer()
        # Position of the next JSON-lines question in the whole input: the default id.
        self._next_position = 0

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
        return self._windows(qid, json_dict["question"], json_dict["context"], language)

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
                    "nbest": [c.to_json() for c in merged],
                }
            )
        return sanitize(results)

    def predict_squad_questions(
        self, questions: Iterator[SquadQuestion], language: str
    ) -> Iterator[JsonDict]:
        """Answer each question of an iterator of parsed SQuAD questions, in batches."""
        for batch in lazy_groups_of(questions, 16):
            groups = [self._windows(q.qid, q.question, q.context, language) for q in batch]
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
        progress = tqdm(total=len(questions), desc=f"predicting {file_path}", unit="question")
        for output in self.predict_squad_questions(iter(questions), language):
            answers[output["id"]] = output["best_span_str"]
            progress.update(1)
        progress.close()
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
