"""
`xltt_squad`: SQuAD-format QA files (SQuAD, CMRC2018, DRCD, MLQA, XQuAD, TyDi QA GoldP) as
windowed `[CLS] question [SEP] passage [SEP]` instances for one multilingual encoder, with the
per-token character offsets the model needs to map a predicted span back to context text.
"""

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from allennlp.common.checks import ConfigurationError
from allennlp.data.dataset_readers.dataset_reader import DatasetReader
from allennlp.data.fields import Field, IndexField, MetadataField, SpanField, TextField
from allennlp.data.instance import Instance
from allennlp.data.token_indexers import PretrainedTransformerIndexer
from allennlp.data.tokenizers import PretrainedTransformerTokenizer, Token

from xltt_plugin.data.answer_location import AnswerLocation, first_usable_answer
from xltt_plugin.data.languages import infer_language
from xltt_plugin.data.read_stats import ReadStats
from xltt_plugin.data.squad_loading import (
    SquadAnswer,
    SquadQuestion,
    default_dataset_name,
    read_squad_questions,
)
from xltt_plugin.data.token_windows import (
    METASPACE,
    Offset,
    char_span_to_token_span,
    clean_token_offsets,
    replace_surrogates,
    span_in_window,
    window_starts,
)

logger = logging.getLogger(__name__)


@dataclass
class TokenizedContext:
    """A context tokenised once: its tokens and their cleaned `[start, end)` offsets."""

    tokens: list[Token]
    offsets: list[Offset | None]


@dataclass
class EncodedQuestion:
    """
    A question over a tokenised context: its (truncated) tokens, the window starts, the window
    length, the gold answer's location and inclusive token span in the whole context (or
    `None`), and the reason there is no usable span (or `None`).
    """

    question_tokens: list[Token]
    window_starts: list[int]
    window_length: int
    answer: AnswerLocation | None
    answer_span: tuple[int, int] | None
    problem: str | None

    def window_bounds(self, window_index: int, num_context_tokens: int) -> tuple[int, int]:
        start = self.window_starts[window_index]
        return start, min(start + self.window_length, num_context_tokens)


@dataclass
class EncodedWindow:
    """One window as model input: its `TextField` and positions within it."""

    text_field: TextField
    cls_index: int
    context_span: tuple[int, int]
    answer_span: tuple[int, int] | None
    token_offsets: list[Offset | None]


@DatasetReader.register("xltt_squad")
class XlttSquadReader(DatasetReader):
    """
    Reads a SQuAD v1.1-format JSON file (as published by SQuAD, CMRC2018, DRCD, MLQA, XQuAD and
    TyDi QA GoldP) into one instance per context window, modelled on allennlp-models'
    `transformer_squad` reader.

    Each paragraph's context is tokenised once, with offsets, for all its questions; token
    offsets are cleaned so that they exclude whitespace and a bare "▁" piece (XLM-R, before a
    CJK or Arabic character) has `None` (allennlp-models issue #15). The question is truncated
    to `max_query_length` tokens; the context is cut into windows of what is left of
    `length_limit`, overlapping by `stride` tokens.

    Instances have the fields
    - `question_with_context` (`TextField`): `[CLS] question [SEP] (mid) window [SEP]`,
    - `context_span` (`SpanField`, inclusive): the window's context tokens ((cls, cls) when the
      context has no tokens),
    - `cls_index` (`IndexField`),
    - `answer_span` (`SpanField`, inclusive): the gold answer in this window, or (cls, cls) when the
      window lacks it or the question has no usable answer (instances from `make_instances` for
      prediction, without answers, have none),
    - `metadata`: `id`, `language`, `dataset`, `window_index`, `num_windows`, `question`,
      `context`, `answers` (all gold texts), `token_offsets` (one `(start, end)` into `context` per
      token of `question_with_context`, `None` for question, special and bare "▁" tokens) and
      `has_answer` (the gold answer lies wholly inside this window).

    Gold answers: the first answer that can be located is used for the span. One whose
    `answer_start` does not point at its text is repaired when the text occurs within
    `max_repair_distance` characters. A question without a usable answer, and (with
    `skip_impossible_questions`) a window without the answer, is dropped in training; in
    evaluation every question yields its windows and keeps its gold texts for scoring. Every
    such case is counted by reason; the counts are logged at the end of reading and kept in
    `last_read_stats`.

    Sharded reading (multi-process and distributed) splits the questions between workers.

    Registered as a `DatasetReader` with name "xltt_squad".

    # Parameters

    transformer_model_name : `str`, optional (default=`"xlm-roberta-large"`)
        The tokenizer and token indexer's model name or path.
    length_limit : `int`, optional (default=`384`)
        Maximum number of word pieces of question plus window plus special tokens.
    stride : `int`, optional (default=`128`)
        Overlap in tokens between consecutive windows (the Hugging Face `doc_stride`).
    max_query_length : `int`, optional (default=`64`)
        Questions are truncated to this many word pieces.
    language : `str`, optional (default=`None`)
        The context (answer) language; by default inferred from MLQA/XQuAD file names.
    dataset_name : `str`, optional (default=`None`)
        The `dataset` tag of each instance; by default the file's base name without extension.
    skip_impossible_questions : `bool`, optional (default=`False`)
        Training mode: drop windows without the gold answer and questions without a usable
        one. Leave `False` for evaluation.
    max_repair_distance : `int`, optional (default=`100`)
        How far (in characters) from `answer_start` an answer text may be found to be repaired.
    split_unknown_tokens : `bool`, optional (default=`True`)
        Split an unknown token that covers several characters (SentencePiece fuses a run of
        unknown characters into one) into one unknown token per character, so that an answer
        boundary inside the run can still be addressed.
    split_cjk_pieces : `bool`, optional (default=`False`)
        Give every Han character of a piece a piece of its own (as BERT's tokenizer splits
        Chinese characters), so that an answer boundary inside a piece such as XLM-R's "的时间"
        can be addressed: each character becomes its vocabulary piece (the first keeps the
        piece's "▁"); the rest of a mixed piece stays whole, and a piece is left whole when a
        part of it is not in the vocabulary. This lifts the scored ceiling of CMRC2018/DRCD from
        about 97 to 99.9 EM but changes what the encoder sees (about 1.3 times as many pieces
        on Chinese text; an effect on quality not measured); questions are split the same way.
        Needs a fast tokenizer.
    tokenizer_kwargs : `Dict[str, Any]`, optional (default=`None`)
        Passed to the Hugging Face tokenizer.
    """

    def __init__(
        self,
        transformer_model_name: str = "xlm-roberta-large",
        length_limit: int = 384,
        stride: int = 128,
        max_query_length: int = 64,
        language: str | None = None,
        dataset_name: str | None = None,
        skip_impossible_questions: bool = False,
        max_repair_distance: int = 100,
        split_unknown_tokens: bool = True,
        split_cjk_pieces: bool = False,
        tokenizer_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            manual_distributed_sharding=True, manual_multiprocess_sharding=True, **kwargs
        )
        self._tokenizer = PretrainedTransformerTokenizer(
            transformer_model_name, add_special_tokens=False, tokenizer_kwargs=tokenizer_kwargs
        )
        self._token_indexers = {
            "tokens": PretrainedTransformerIndexer(
                transformer_model_name, tokenizer_kwargs=tokenizer_kwargs
            )
        }
        self.length_limit = length_limit
        self.stride = stride
        self.max_query_length = max_query_length
        self.language = language
        self.dataset_name = dataset_name
        self.skip_impossible_questions = skip_impossible_questions
        self.max_repair_distance = max_repair_distance
        self.split_unknown_tokens = split_unknown_tokens
        self.split_cjk_pieces = split_cjk_pieces
        if split_cjk_pieces and not self._tokenizer.tokenizer.is_fast:
            raise ConfigurationError(
                f"split_cjk_pieces needs a fast tokenizer; {transformer_model_name!r} has none"
            )
        self._vocabulary: dict[str, int] | None = None
        self._cls_token = self._tokenizer.tokenizer.cls_token
        self._first_type_id: int = self._tokenizer.sequence_pair_first_token_type_id or 0
        self._second_type_id: int = self._tokenizer.sequence_pair_second_token_type_id or 0
        self._num_start_tokens = len(self._tokenizer.sequence_pair_start_tokens)
        self._num_mid_tokens = len(self._tokenizer.sequence_pair_mid_tokens)
        self._num_end_tokens = len(self._tokenizer.sequence_pair_end_tokens)
        self._num_special_tokens = (
            self._num_start_tokens + self._num_mid_tokens + self._num_end_tokens
        )
        smallest_window = length_limit - max_query_length - self._num_special_tokens
        if smallest_window <= stride:
            raise ConfigurationError(
                f"length_limit={length_limit} leaves {smallest_window} context tokens after a "
                f"{max_query_length}-token question and {self._num_special_tokens} special "
                f"tokens, which must be more than stride={stride}"
            )
        self.last_read_stats: ReadStats | None = None

    # -----------------------------------------------------------------------------------------
    # Reading

    def resolve_language(self, file_path: str) -> str:
        """
        The language in an MLQA/XQuAD file name, else the configured one, else an error. The
        name wins so that `allennlp evaluate ARCHIVE test-context-hi-question-hi.json` scores
        Hindi even when the archive's reader was configured for an English dev set.
        """
        inferred = infer_language(file_path)
        if inferred is not None and self.language is not None and inferred != self.language:
            logger.warning(
                "%s: language %r from the file name overrides the reader's %r",
                file_path,
                inferred,
                self.language,
            )
        language = inferred or self.language
        if language is None:
            raise ConfigurationError(
                f"{file_path}: cannot infer the language from the file name; "
                "set the reader's `language`"
            )
        return language

    def _read(self, file_path: str) -> Iterator[Instance]:
        language = self.resolve_language(file_path)
        dataset = self.dataset_name or default_dataset_name(file_path)
        stats = ReadStats(file=file_path, language=language)
        self.last_read_stats = stats
        logger.info("Reading file at %s", file_path)
        cached_key: tuple[int, int] | None = None
        cached_context: TokenizedContext | None = None
        for question in self.shard_iterable(read_squad_questions(file_path)):
            if cached_context is None or question.paragraph_key != cached_key:
                cached_context = self.tokenize_context(question.context)
                cached_key = question.paragraph_key
            yield from self._question_instances(
                question, cached_context, language, dataset, stats, always_add_answer_span=True
            )
        stats.log(logger)

    def _question_instances(
        self,
        question: SquadQuestion,
        context: TokenizedContext,
        language: str,
        dataset: str,
        stats: ReadStats,
        always_add_answer_span: bool,
        training: bool = True,
    ) -> Iterator[Instance]:
        """
        The instances of one question's windows. With `training` (the default when reading a
        file), `skip_impossible_questions` applies.
        """
        skip = self.skip_impossible_questions and training
        stats.questions += 1
        encoded = self.encode_question(
            question.question, question.context, context, question.answers, self.max_repair_distance
        )
        if encoded.answer is not None and encoded.answer.repaired:
            stats.repaired += 1
        if encoded.problem is not None:
            stats.skipped[encoded.problem] += 1
            if skip:
                stats.dropped.setdefault(encoded.problem, []).append(question.qid)
                return
        answers = [answer.text for answer in question.answers]
        num_windows = len(encoded.window_starts)
        yielded = 0
        answer_in_some_window = False
        for window_index in range(num_windows):
            start, end = encoded.window_bounds(window_index, len(context.tokens))
            window = self.encode_window(
                encoded.question_tokens, context, start, end, encoded.answer_span
            )
            answer_in_some_window = answer_in_some_window or window.answer_span is not None
            if skip and window.answer_span is None:
                stats.skipped["window_without_answer"] += 1
                continue
            fields = self.window_fields(window, always_add_answer_span)
            fields["metadata"] = MetadataField(
                {
                    "id": question.qid,
                    "language": language,
                    "dataset": dataset,
                    "window_index": window_index,
                    "num_windows": num_windows,
                    "question": question.question,
                    "context": question.context,
                    "answers": answers,
                    "token_offsets": window.token_offsets,
                    "has_answer": window.answer_span is not None,
                }
            )
            yielded += 1
            yield Instance(fields)
        if encoded.problem is None and not answer_in_some_window:
            # Longer than a window: no window holds the whole answer.
            stats.skipped["answer_not_in_any_window"] += 1
            if skip:
                stats.dropped.setdefault("answer_not_in_any_window", []).append(question.qid)
        stats.instances += yielded
        if yielded:
            stats.questions_with_instances += 1

    def window_fields(
        self, window: EncodedWindow, always_add_answer_span: bool
    ) -> dict[str, Field]:
        """`question_with_context`, `cls_index`, `context_span` and `answer_span` of a window."""
        text_field = window.text_field
        fields: dict[str, Field] = {
            "question_with_context": text_field,
            "cls_index": IndexField(window.cls_index, text_field),
            "context_span": SpanField(*window.context_span, text_field),
        }
        if window.answer_span is not None:
            fields["answer_span"] = SpanField(*window.answer_span, text_field)
        elif always_add_answer_span:
            fields["answer_span"] = SpanField(window.cls_index, window.cls_index, text_field)
        return fields

    def make_instances(
        self,
        qid: str,
        question: str,
        context: str,
        answers: Sequence[str] | None = None,
        first_answer_start: int | None = None,
        language: str | None = None,
        dataset: str | None = None,
    ) -> Iterator[Instance]:
        """
        The instances (one per window) of a single question, for prediction: every window, even
        with `skip_impossible_questions`. Without `answers` the instances have no `answer_span`;
        with them (and `first_answer_start`, else the first answer is searched for) they have
        one as when reading a file.
        """
        gold = [
            SquadAnswer(text, first_answer_start if index == 0 else None)
            for index, text in enumerate(answers or [])
        ]
        squad_question = SquadQuestion(qid, question, context, tuple(gold), 0, 0)
        stats = ReadStats(language=language or self.language or "")
        yield from self._question_instances(
            squad_question,
            self.tokenize_context(context),
            language or self.language or "",
            dataset or self.dataset_name or "",
            stats,
            always_add_answer_span=answers is not None,
            training=False,
        )

    def text_to_instance(
        self,
        question: str,
        context: str,
        qid: str = "",
        answers: Sequence[str] | None = None,
        first_answer_start: int | None = None,
        language: str | None = None,
        window_index: int = 0,
    ) -> Instance:
        """The instance of window `window_index` of one question (see `make_instances`)."""
        instances = list(
            self.make_instances(qid, question, context, answers, first_answer_start, language)
        )
        return instances[min(window_index, len(instances) - 1)]

    def apply_token_indexers(self, instance: Instance) -> None:
        instance["question_with_context"].token_indexers = self._token_indexers  # type: ignore

    # -----------------------------------------------------------------------------------------
    # Encoding (shared with `xltt_parallel`)

    def tokenize(self, text: str, type_id: int = 0) -> tuple[list[Token], list[Offset | None]]:
        """
        Word pieces of `text` (no special tokens, type id `type_id`) with their raw
        `[start, end)` offsets. Surrogate code points are tokenised as U+FFFD (see
        `replace_surrogates`), so that the offsets still index `text`.
        """
        text = replace_surrogates(text)
        hf_tokenizer = self._tokenizer.tokenizer
        if hf_tokenizer.is_fast:
            encoding = hf_tokenizer(
                text,
                add_special_tokens=False,
                return_offsets_mapping=True,
                return_attention_mask=False,
                return_token_type_ids=False,
                verbose=False,
            ).encodings[0]
            offsets: list[Offset | None] = [
                (start, end) if start < end else None for start, end in encoding.offsets
            ]
            unk_id = hf_tokenizer.unk_token_id
            unk_token = hf_tokenizer.unk_token
            tokens: list[Token] = []
            token_offsets: list[Offset | None] = []
            for piece, token_id, offset in zip(encoding.tokens, encoding.ids, offsets):
                if (
                    self.split_unknown_tokens
                    and token_id == unk_id
                    and offset is not None
                    and offset[1] - offset[0] > 1
                ):
                    # A run of unknown characters fused into one <unk>: one <unk> per character,
                    # so that answer boundaries inside the run stay addressable.
                    for position in range(offset[0], offset[1]):
                        if not text[position].isspace():
                            tokens.append(
                                Token(
                                    unk_token,
                                    idx=position,
                                    idx_end=position + 1,
                                    text_id=token_id,
                                    type_id=type_id,
                                )
                            )
                            token_offsets.append((position, position + 1))
                    continue
                if self.split_cjk_pieces and offset is not None and token_id != unk_id:
                    parts = self._cjk_parts(text, piece, offset)
                    if parts is not None:
                        for part, part_id, part_offset in parts:
                            tokens.append(
                                Token(
                                    part,
                                    idx=part_offset[0],
                                    idx_end=part_offset[1],
                                    text_id=part_id,
                                    type_id=type_id,
                                )
                            )
                            token_offsets.append(part_offset)
                        continue
                # The backend names an unknown piece by its text; AllenNLP uses the unk token.
                text_of_piece = unk_token if token_id == unk_id else piece
                token = Token(text=text_of_piece, text_id=token_id, type_id=type_id)
                if offset is not None:
                    token.idx, token.idx_end = offset
                tokens.append(token)
                token_offsets.append(offset)
            return tokens, token_offsets
        tokens = [
            dataclasses.replace(token, type_id=type_id) for token in self._tokenizer.tokenize(text)
        ]
        return tokens, [
            (t.idx, t.idx_end) if t.idx is not None and t.idx_end is not None else None
            for t in tokens
        ]

    def _cjk_parts(
        self, text: str, piece: str, offset: Offset
    ) -> list[tuple[str, int, Offset]] | None:
        """
        The pieces (name, id, offset) that `split_cjk_pieces` cuts a piece into, or `None` to
        keep it whole (no Han character, a single character, or a part not in the vocabulary).
        """
        start, end = offset
        while start < end and text[start].isspace():
            start += 1
        if end - start < 2 or not any(_is_han(c) for c in text[start:end]):
            return None
        if self._vocabulary is None:
            self._vocabulary = self._tokenizer.tokenizer.get_vocab()
        vocabulary = self._vocabulary
        # Runs: each Han character alone, the characters between kept together.
        runs: list[Offset] = []
        for position in range(start, end):
            if _is_han(text[position]) or not runs or _is_han(text[position - 1]):
                runs.append((position, position + 1))
            else:
                runs[-1] = (runs[-1][0], position + 1)
        if len(runs) < 2:
            return None
        marker = METASPACE if piece.startswith(METASPACE) else ""
        parts: list[tuple[str, int, Offset]] = []
        for index, (run_start, run_end) in enumerate(runs):
            name = text[run_start:run_end]
            if index == 0 and marker and marker + name in vocabulary:
                name = marker + name
            part_id = vocabulary.get(name)
            if part_id is None:
                return None
            parts.append((name, part_id, (run_start, run_end)))
        return parts

    def tokenize_context(self, context: str) -> TokenizedContext:
        """Tokenise a context once, with offsets cleaned by `clean_token_offsets`."""
        tokens, offsets = self.tokenize(context, self._second_type_id)
        pieces = [token.text or "" for token in tokens]
        return TokenizedContext(tokens, clean_token_offsets(context, pieces, offsets))

    def encode_question(
        self,
        question: str,
        context: str,
        tokenized_context: TokenizedContext,
        answers: Sequence[SquadAnswer],
        max_repair_distance: int | None,
    ) -> EncodedQuestion:
        """
        Tokenise and truncate the question, cut the context into windows and locate the first
        usable gold answer (see `first_usable_answer`) as a token span of the whole context.
        `problem` says why there is no span: "no_answer", "answer_not_found" or
        "answer_not_tokenized".
        """
        question_tokens = self.tokenize(question, self._first_type_id)[0][: self.max_query_length]
        window_length = self.length_limit - len(question_tokens) - self._num_special_tokens
        starts = window_starts(len(tokenized_context.tokens), window_length, self.stride)
        answer: AnswerLocation | None = None
        answer_span: tuple[int, int] | None = None
        problem: str | None = None
        if not answers:
            problem = "no_answer"
        else:
            answer = first_usable_answer(context, answers, max_repair_distance)
            if answer is None:
                problem = "answer_not_found"
            else:
                answer_span = char_span_to_token_span(
                    tokenized_context.offsets, answer.start, answer.end
                )
                if answer_span is None:
                    problem = "answer_not_tokenized"
        return EncodedQuestion(question_tokens, starts, window_length, answer, answer_span, problem)

    def encode_window(
        self,
        question_tokens: list[Token],
        context: TokenizedContext,
        window_start: int,
        window_end: int,
        answer_span: tuple[int, int] | None,
    ) -> EncodedWindow:
        """
        `[CLS] question [SEP] context[window_start:window_end] [SEP]` with the window's context
        span, the answer span inside it (or `None`) and the per-token offsets.
        """
        window_tokens = context.tokens[window_start:window_end]
        text_field = TextField(self.add_special_tokens(question_tokens, window_tokens))
        cls_index = self._find_cls_index(text_field.tokens)
        context_start = self._num_start_tokens + len(question_tokens) + self._num_mid_tokens
        if window_tokens:
            context_span = (context_start, context_start + len(window_tokens) - 1)
        else:
            context_span = (cls_index, cls_index)
        local = span_in_window(answer_span, window_start, window_end)
        token_offsets: list[Offset | None] = [None] * context_start
        token_offsets.extend(context.offsets[window_start:window_end])
        token_offsets.extend([None] * (len(text_field.tokens) - len(token_offsets)))
        return EncodedWindow(
            text_field=text_field,
            cls_index=cls_index,
            context_span=context_span,
            answer_span=None
            if local is None
            else (local[0] + context_start, local[1] + context_start),
            token_offsets=token_offsets,
        )

    def add_special_tokens(
        self, question_tokens: list[Token], window_tokens: list[Token]
    ) -> list[Token]:
        """
        The same tokens as `PretrainedTransformerTokenizer.add_special_tokens(question_tokens,
        window_tokens)` (special tokens around and between, first/second-sequence type ids), built
        without its deep copy of the window, which dominated reading time: tokens whose type id
        is already right are shared rather than copied (no field mutates a `Token`).
        """
        tokenizer = self._tokenizer
        return (
            tokenizer.sequence_pair_start_tokens
            + _with_type_id(question_tokens, self._first_type_id)
            + tokenizer.sequence_pair_mid_tokens
            + _with_type_id(window_tokens, self._second_type_id)
            + tokenizer.sequence_pair_end_tokens
        )

    def _find_cls_index(self, tokens: Sequence[Token]) -> int:
        return next(i for i, token in enumerate(tokens) if token.text == self._cls_token)


def _is_han(character: str) -> bool:
    """A Han (CJK ideograph) character: the blocks BERT's tokenizer splits one by one."""
    code = ord(character)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def _with_type_id(tokens: list[Token], type_id: int) -> list[Token]:
    if all(token.type_id == type_id for token in tokens):
        return tokens
    return [dataclasses.replace(token, type_id=type_id) for token in tokens]
