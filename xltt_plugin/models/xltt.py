"""The XLTT model: shared encoder, multilingual adaptive attention, span heads, losses."""

import logging
from typing import Any, NamedTuple, Optional

import torch
from allennlp.common import Lazy
from allennlp.common.checks import ConfigurationError
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models.model import Model
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder
from allennlp.nn import InitializerApplicator
from allennlp.training.metrics import BooleanAccuracy
from torch.nn.functional import cross_entropy

from xltt_plugin.metrics.mlqa_em_f1 import MlqaEmAndF1
from xltt_plugin.models.span_decoding import (
    NEG_INF,
    SpanCandidate,
    masked_logits,
    merge_windows,
    span_mask,
    top_span_pairs,
    window_candidates,
)
from xltt_plugin.modules.maa import MaaQueries, MultilingualAdaptiveAttention, pad_to
from xltt_plugin.training.task_weights import TaskWeights

logger = logging.getLogger(__name__)


@Model.register("xltt")
class XlttModel(Model):
    """
    XLTT (Cross-Lingual Transposition ReThinking) for extractive QA.

    The pivot window and its k parallel (translated) windows go through ONE shared pretrained
    encoder in a single batched call (eq. 1-4); a `MultilingualAdaptiveAttention` layer lets the
    pivot attend to the parallels (eq. 5-17); linear start/end heads over its output G_S
    (eq. 20-21) give the span logits. Loss (eq. 22-25): the data-set-weighted span
    cross-entropy of the pivot plus, for each translation R with a gold span, λ_R · L_R, where
    λ_R = max(0, cos(H_S, H_R)) (computed without gradient; H_X is the mean encoder state over
    the gold answer tokens) and L_R is the span loss with R taken as the pivot (R attends to S
    and the other translations).

    Inference on a window with no parallel text uses self-transposition: the parallel slots are
    filled with the window itself, one encoder pass. Spans are decoded per window with a
    maximum answer length, then merged across the windows of a question (n-best); every
    question gets a prediction (empty when nothing can be extracted).

    Registered as a `Model` with name `xltt`.

    # Parameters

    vocab : `Vocabulary`
    transformer_model_name : `str`
        Hugging Face name or local path of the shared encoder (XLM-R, mBERT, ...); the same as
        the readers'.
    maa : `Lazy[MultilingualAdaptiveAttention]`, optional
        The MAA layer (its `input_dim` and `num_parallel` are filled in). `null` gives the
        plain span-head baseline over B_S (paper Table 8).
    num_parallel : `int`, optional (default = `2`)
        k, the number of parallel slots (translation languages of the parallel reader).
    aux_loss_weight : `float`, optional (default = `1.0`)
        Multiplies Σ_R λ_R · L_R; `0` switches the auxiliary loss off.
    self_transposition_prob : `float`, optional (default = `0.0`)
        In training, the probability that a translation slot is replaced by the pivot itself,
        so that the model sees the test-time condition (design README §7).
    max_answer_length : `int`, optional (default = `30`)
        Longest answer in tokens considered by decoding.
    n_best_size : `int`, optional (default = `20`)
        Candidates kept per window and per question.
    dataset_weights : `TaskWeights`, optional
        Per-data-set loss weights (eq. 22), looked up by each instance's `task` (from AllenNLP's
        `multitask` reader) or its `metadata["dataset"]`. Without it every weight is 1.
    transformer_kwargs : `Dict[str, Any]`, optional
        Extra arguments for `PretrainedTransformerEmbedder`; `gradient_checkpointing: true`
        recomputes the encoder's layer activations in the backward pass (less memory, about a
        third more encoder time), through transformers' `gradient_checkpointing_enable`.
    initializer : `InitializerApplicator`, optional
    """

    def __init__(
        self,
        vocab: Vocabulary,
        transformer_model_name: str,
        maa: Optional[Lazy[MultilingualAdaptiveAttention]] = Lazy(MultilingualAdaptiveAttention),  # noqa: B008
        num_parallel: int = 2,
        aux_loss_weight: float = 1.0,
        self_transposition_prob: float = 0.0,
        max_answer_length: int = 30,
        n_best_size: int = 20,
        dataset_weights: Optional[TaskWeights] = None,
        transformer_kwargs: Optional[dict[str, Any]] = None,
        initializer: Optional[InitializerApplicator] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(vocab, **kwargs)
        if not 0.0 <= self_transposition_prob <= 1.0:
            raise ConfigurationError(
                f"self_transposition_prob must lie in [0, 1], got {self_transposition_prob}"
            )
        embedder_kwargs = dict(transformer_kwargs or {})
        checkpointing = bool(embedder_kwargs.pop("gradient_checkpointing", False))
        self._embedder = PretrainedTransformerEmbedder(transformer_model_name, **embedder_kwargs)
        if checkpointing:
            # AllenNLP's own `gradient_checkpointing` only sets a config flag that transformers
            # 4.x reads at construction, i.e. too late. Non-reentrant: works under DDP.
            self._embedder.transformer_model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False}
            )
        # The encoder's pooler (XLM-R, BERT) never reaches the loss: freeze it, so that
        # DistributedDataParallel finds no parameter without a gradient (it fails otherwise).
        pooler = getattr(self._embedder.transformer_model, "pooler", None)
        if isinstance(pooler, torch.nn.Module):
            pooler.requires_grad_(False)
        hidden = self._embedder.get_output_dim()
        self._num_parallel = num_parallel
        self._maa: MultilingualAdaptiveAttention | None = (
            None if maa is None else maa.construct(input_dim=hidden, num_parallel=num_parallel)
        )
        head_dim = hidden if self._maa is None else self._maa.get_output_dim()
        # eq. 20-21: one linear map per boundary over G_S (start, end).
        self._span_head = torch.nn.Linear(head_dim, 2)
        self._aux_loss_weight = aux_loss_weight
        self._self_transposition_prob = self_transposition_prob
        self._max_answer_length = max_answer_length
        self._n_best_size = n_best_size
        # Read lazily (first training batch) so that a restored archive needs no training files.
        self._task_weights = dataset_weights
        self._dataset_weights: Optional[dict[str, float]] = None
        self._span_accuracy = BooleanAccuracy()
        self._qa_metric = MlqaEmAndF1()
        # Windows of questions not yet complete: (language, id) -> state.
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        (initializer or InitializerApplicator())(self)

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        question_with_context: TextFieldTensors,
        context_span: torch.Tensor,
        cls_index: torch.Tensor | None = None,
        answer_span: torch.Tensor | None = None,
        metadata: list[dict[str, Any]] | None = None,
        parallel_question_with_context: TextFieldTensors | None = None,
        parallel_context_span: torch.Tensor | None = None,
        parallel_answer_span: torch.Tensor | None = None,
        parallel_mask: torch.Tensor | None = None,
        parallel_has_answer: torch.Tensor | None = None,
        task: list[str] | None = None,
    ) -> dict[str, Any]:
        """
        # Parameters

        question_with_context : `TextFieldTensors`
            `[CLS] question [SEP] window [SEP]` of the pivot. shape: (batch_size, seq_len)
        context_span : `torch.Tensor`
            Inclusive context token span. shape: (batch_size, 2)
        cls_index : `torch.Tensor`, optional
            Index of the CLS token (the target of windows lacking the answer). shape: (batch_size,)
        answer_span : `torch.Tensor`, optional
            Inclusive gold span, (cls, cls) when outside the window. shape: (batch_size, 2)
        metadata : `List[Dict[str, Any]]`, optional
            Per window: id, language, dataset, window_index, num_windows, context, answers,
            token_offsets (see the readers).
        parallel_question_with_context : `TextFieldTensors`, optional
            shape: (batch_size, k, par_len)
        parallel_context_span, parallel_answer_span : `torch.Tensor`, optional
            shape: (batch_size, k, 2)
        parallel_mask : `torch.Tensor`, optional
            1 where the slot holds a real translation. shape: (batch_size, k)
        parallel_has_answer : `torch.Tensor`, optional
            1 where the translation's gold span lies in its window. shape: (batch_size, k)
        task : `List[str]`, optional
            Data-set names added by AllenNLP's `multitask` reader.

        # Returns

        `Dict[str, Any]` with `span_start_logits`, `span_end_logits` (batch_size, seq_len),
        `loss` when `answer_span` is given (and `aux_loss` when the auxiliary loss applies),
        and outside training `best_span` (batch_size, 2), `best_span_scores`, `best_span_str`
        and `nbest` (per window, JSON-ready candidates).
        """
        # 1. Pivot and translation windows through the shared encoder (eq. 1-4).
        stack = self._encode_stacked(question_with_context, parallel_question_with_context)
        batch_size, seq_len = stack.mask.size(0), stack.seq_len
        cls_index = self._cls_index(cls_index, batch_size, stack.mask.device)
        real = self._real_translations(stack, parallel_mask)

        # 2. The MAA queries: each pivot S attending to its translations and, for the
        # auxiliary loss, each translation R with a gold span attending to S and the others.
        queries = MaaQueries.of_pivots(stack.encoded, stack.mask, self._pivot_slots(stack, real))
        aux_pairs = None
        if (
            answer_span is not None
            and parallel_answer_span is not None
            and parallel_context_span is not None
        ):
            aux_pairs = self._auxiliary_pairs(answer_span, cls_index, real, parallel_has_answer)
        if aux_pairs is not None:
            queries = queries.with_transpositions(*aux_pairs, usable=_usable(real, stack.mask))

        # 3. Span logits over G of every query (eq. 20-21); the first batch_size are the pivots'.
        # shape: (queries, L, 2)
        logits = self._span_head(self._fuse(queries))
        start_logits, end_logits = logits[:batch_size, :seq_len].unbind(-1)
        # shape: (batch_size, seq_len)
        context_mask = span_mask(context_span, seq_len) & stack.mask[:, 0, :seq_len]
        output: dict[str, Any] = {
            "span_start_logits": start_logits,
            "span_end_logits": end_logits,
        }

        # 4. Losses (eq. 22-25).
        if answer_span is not None:
            weights = self._instance_weights(metadata, task, batch_size, stack.mask.device)
            per_instance = self._span_loss(
                start_logits, end_logits, context_mask, cls_index, answer_span
            )
            loss = (weights * per_instance).sum() / batch_size
            if aux_pairs is not None:
                assert parallel_answer_span is not None and parallel_context_span is not None
                aux = self._auxiliary_loss(
                    stack,
                    logits[batch_size:],
                    answer_span,
                    parallel_answer_span,
                    parallel_context_span,
                    aux_pairs,
                    weights,
                )
                output["aux_loss"] = aux.detach()
                loss = loss + self._aux_loss_weight * aux
            output["loss"] = loss

        # 5. Best spans, n-best lists and the per-question metric outside training.
        if not self.training:
            self._decode(
                output, start_logits, end_logits, context_mask, answer_span, cls_index, metadata
            )
        return output

    # ------------------------------------------------------------------ forward's steps
    def _encode_stacked(
        self,
        pivot: TextFieldTensors,
        parallel: TextFieldTensors | None,
    ) -> "EncodedWindows":
        """
        The pivot windows and their k parallel windows through the encoder in ONE call, as a
        stack at their common length (sequence 0 the pivot, 1..k the parallels).
        """
        tokens = pivot["tokens"]
        # shape: (batch_size, seq_len)
        ids_s, mask_s = tokens["token_ids"], tokens["mask"].bool()
        type_s = tokens.get("type_ids")
        seq_len = ids_s.size(1)
        if parallel is None:
            encoded = self._embedder(ids_s, mask_s, type_ids=type_s)
            return EncodedWindows(encoded.unsqueeze(1), mask_s.unsqueeze(1), seq_len, 0)
        par = parallel["tokens"]
        # shape: (batch_size, k, par_len)
        ids_p, mask_p = par["token_ids"], par["mask"].bool()
        type_p = par.get("type_ids")
        batch_size, k, par_len = ids_p.shape
        length = max(seq_len, par_len)
        ids = torch.cat(
            [pad_to(ids_s, length, -1).unsqueeze(1), pad_to(ids_p, length, -1)], dim=1
        ).view(batch_size * (k + 1), length)
        # shape: (batch_size, k + 1, length)
        mask = torch.cat(
            [pad_to(mask_s, length, -1).unsqueeze(1), pad_to(mask_p, length, -1)], dim=1
        )
        types = None
        if type_s is not None and type_p is not None:
            types = torch.cat(
                [pad_to(type_s, length, -1).unsqueeze(1), pad_to(type_p, length, -1)], dim=1
            ).view(batch_size * (k + 1), length)
        # shape: (batch_size * (k + 1), length, hidden)
        encoded = self._embedder(ids, mask.view(batch_size * (k + 1), length), type_ids=types)
        return EncodedWindows(encoded.view(batch_size, k + 1, length, -1), mask, seq_len, par_len)

    @staticmethod
    def _cls_index(
        cls_index: torch.Tensor | None, batch_size: int, device: torch.device
    ) -> torch.Tensor:
        """The CLS position of each window (0 when not given). shape: (batch_size,)"""
        if cls_index is None:
            return torch.zeros(batch_size, dtype=torch.long, device=device)
        return cls_index.view(-1).long()

    @staticmethod
    def _real_translations(
        stack: "EncodedWindows", parallel_mask: torch.Tensor | None
    ) -> torch.Tensor | None:
        """The slots holding a real translation; None without parallel input. shape: (batch, k)"""
        if stack.mask.size(1) == 1:
            return None
        if parallel_mask is None:
            return stack.mask.new_ones(stack.mask.shape[0], stack.mask.shape[1] - 1)
        return parallel_mask.bool()

    def _pivot_slots(self, stack: "EncodedWindows", real: torch.Tensor | None) -> torch.Tensor:
        """
        The pivot's slots: translation `j` (sequence `j + 1`) where it is real and has tokens,
        else the pivot itself (0); in training each real slot is also replaced by the pivot
        with probability `self_transposition_prob` (design README section 7).
        shape: (batch_size, num_parallel)
        """
        batch_size = stack.mask.size(0)
        if real is None:
            return torch.zeros(
                batch_size, self._num_parallel, dtype=torch.long, device=stack.mask.device
            )
        slot_mask = real
        if self.training and self._self_transposition_prob > 0:
            keep = torch.rand(slot_mask.shape, device=slot_mask.device)
            slot_mask = slot_mask & (keep >= self._self_transposition_prob)
        present = slot_mask & stack.mask[:, 1:].any(dim=-1)
        k = present.size(1)
        return torch.where(present, torch.arange(1, k + 1, device=present.device), 0)

    def _auxiliary_pairs(
        self,
        answer_span: torch.Tensor,
        cls_index: torch.Tensor,
        real: torch.Tensor | None,
        parallel_has_answer: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """
        The (batch row, translation) pairs of the auxiliary loss: the translation is real and
        holds its gold span while the pivot holds its own. None when the loss is off or no
        translations are given. shape: (pairs,), twice
        """
        if real is None or self._aux_loss_weight <= 0 or parallel_has_answer is None:
            return None
        pivot_has = answer_span[:, 0] != cls_index
        # shape: (batch_size, k)
        active = parallel_has_answer.bool() & real & pivot_has.unsqueeze(1)
        pair_rows, pair_slots = active.nonzero(as_tuple=True)
        return pair_rows, pair_slots

    def _fuse(self, queries: MaaQueries) -> torch.Tensor:
        """G of every query: MAA's output, or B of its pivot without MAA. shape: (Q, L, d)"""
        if self._maa is None:
            return queries.encoded[queries.rows, queries.pivots]
        return self._maa.fuse_queries(queries)

    @staticmethod
    def _span_loss(
        start_logits: torch.Tensor,
        end_logits: torch.Tensor,
        context_mask: torch.Tensor,
        cls_index: torch.Tensor,
        gold: torch.Tensor,
    ) -> torch.Tensor:
        """
        Mean of start and end cross-entropy per instance over context + CLS, in float32 (also
        under float16/bfloat16 autocast). shape: (batch,)
        """
        allowed = context_mask.clone()
        allowed[torch.arange(allowed.size(0), device=allowed.device), cls_index] = True
        start = masked_logits(start_logits, allowed)
        end = masked_logits(end_logits, allowed)
        start_loss = cross_entropy(start, gold[:, 0].long(), reduction="none")
        end_loss = cross_entropy(end, gold[:, 1].long(), reduction="none")
        return (start_loss + end_loss) / 2

    def _instance_weights(
        self,
        metadata: list[dict[str, Any]] | None,
        task: list[str] | None,
        batch_size: int,
        device: torch.device,
    ) -> torch.Tensor:
        """Weight_ti of each instance's data set (eq. 22). shape: (batch_size,)"""
        if self._task_weights is None or not self.training:
            # Weights shape the training objective only; evaluation needs no training files.
            return torch.ones(batch_size, device=device)
        if self._dataset_weights is None:
            self._dataset_weights = self._task_weights.as_dict()
        names: list[str] = []
        for i in range(batch_size):
            name = (
                task[i] if task is not None else (metadata or [{}] * batch_size)[i].get("dataset")
            )
            if name not in self._dataset_weights:
                raise ConfigurationError(
                    f"Instance of data set {name!r} has no weight in dataset_weights "
                    f"(known: {sorted(self._dataset_weights)}); name each source as its task."
                )
            names.append(name)
        return torch.tensor([self._dataset_weights[n] for n in names], device=device)

    def _auxiliary_loss(
        self,
        stack: "EncodedWindows",
        logits: torch.Tensor,
        answer_span: torch.Tensor,
        parallel_answer_span: torch.Tensor,
        parallel_context_span: torch.Tensor,
        pairs: tuple[torch.Tensor, torch.Tensor],
        weights: torch.Tensor,
    ) -> torch.Tensor:
        """
        Σ_R λ_R · L_R (eq. 23-25), averaged over the batch, over the `pairs` (batch row,
        translation) of `_auxiliary_pairs`. `logits`: the span logits of those translations
        taken as the pivot (they attend to S and the other translations), one row per pair.
        λ_R = max(0, cos(H_S, H_R)) without gradient, H_X the mean of B_X over the gold span.

        logits shape: (pairs, L, 2)
        """
        encoded, masks = stack.encoded, stack.mask
        batch_size, _, length, _ = encoded.shape
        pair_rows, pair_slots = pairs
        if pair_rows.numel() == 0:
            return encoded.new_zeros(())
        # shape: (pairs, 2)
        gold_r = parallel_answer_span[pair_rows, pair_slots].long()
        h_s = _span_mean(encoded[pair_rows, 0], answer_span[pair_rows])
        lam = transposition_weight(h_s, _span_mean(encoded[pair_rows, pair_slots + 1], gold_r))
        # shape: (pairs, L)
        context_r = (
            span_mask(parallel_context_span[pair_rows, pair_slots], length)
            & masks[pair_rows, pair_slots + 1].bool()
        )
        cls_r = torch.zeros(pair_rows.numel(), dtype=torch.long, device=encoded.device)
        loss_r = self._span_loss(logits[..., 0], logits[..., 1], context_r, cls_r, gold_r)
        return (weights[pair_rows] * lam * loss_r).sum() / batch_size

    # ------------------------------------------------------------------ decoding
    def _decode(
        self,
        output: dict[str, Any],
        start_logits: torch.Tensor,
        end_logits: torch.Tensor,
        context_mask: torch.Tensor,
        answer_span: torch.Tensor | None,
        cls_index: torch.Tensor,
        metadata: list[dict[str, Any]] | None,
    ) -> None:
        pairs = top_span_pairs(
            start_logits, end_logits, context_mask, self._max_answer_length, self._n_best_size
        )
        best = torch.tensor(
            [[p[0][0], p[0][1]] if p else [-1, -1] for p in pairs], device=start_logits.device
        )
        output["best_span"] = best
        output["best_span_scores"] = torch.tensor(
            [p[0][2] if p else NEG_INF for p in pairs], device=start_logits.device
        )
        if answer_span is not None:
            has_answer = answer_span[:, 0] != cls_index
            # Called for every batch, windows without the answer masked out: the metric
            # all-reduces in distributed evaluation, so every worker must call it equally often.
            # shape: (batch_size, 2)
            answer_mask = has_answer.unsqueeze(-1).expand_as(best)
            self._span_accuracy(best, answer_span.to(best.dtype), answer_mask)  # type: ignore[arg-type]
        if metadata is None:
            return
        best_strings: list[str] = []
        nbest: list[list[dict[str, object]]] = []
        for meta, window_pairs in zip(metadata, pairs):
            candidates = window_candidates(
                window_pairs, meta["context"], meta["token_offsets"], meta.get("window_index", 0)
            )
            best_strings.append(candidates[0].text if candidates else "")
            nbest.append([c.to_json() for c in candidates])
            self._collect(meta, candidates)
        output["best_span_str"] = best_strings
        output["nbest"] = nbest
        output["id"] = [m.get("id") for m in metadata]
        output["language"] = [m.get("language") for m in metadata]
        output["window_index"] = [m.get("window_index", 0) for m in metadata]
        output["num_windows"] = [m.get("num_windows", 1) for m in metadata]

    def _collect(self, meta: dict[str, Any], candidates: list[SpanCandidate]) -> None:
        """Buffer a window's candidates; score the question once all its windows are in."""
        answers = meta.get("answers")
        if not answers:
            return
        key = (str(meta.get("language")), str(meta.get("id")))
        state = self._pending.setdefault(key, {"seen": set(), "candidates": []})
        state["seen"].add(meta.get("window_index", 0))
        state["candidates"].extend(candidates)
        state["answers"] = answers
        if len(state["seen"]) >= meta.get("num_windows", 1):
            self._score(key)

    def _score(self, key: tuple[str, str]) -> None:
        state = self._pending.pop(key)
        merged = merge_windows(state["candidates"], 1)
        prediction = merged[0].text if merged else ""
        self._qa_metric([prediction], [state["answers"]], [key[0]])

    def get_metrics(self, reset: bool = False) -> dict[str, float]:
        if reset and self._pending:
            logger.warning(
                "%d question(s) were scored before all their windows were seen", len(self._pending)
            )
            for key in list(self._pending):
                self._score(key)
        if self.training:
            # Spans are decoded (and scored per question) in evaluation only.
            return {}
        metrics: dict[str, float] = {"span_acc": self._span_accuracy.get_metric(reset)}
        metrics.update(self._qa_metric.get_metric(reset))
        return metrics

    @property
    def n_best_size(self) -> int:
        """Candidates kept per window and per question."""
        return self._n_best_size

    @property
    def num_parallel(self) -> int:
        """k, the number of parallel slots the model was built (and trained) with."""
        return self._num_parallel

    default_predictor = "xltt"


class EncodedWindows(NamedTuple):
    """
    The encoder's output for a batch: the pivot window (sequence 0) and its k parallel
    windows (1..k) of each row at their common length `L = max(seq_len, par_len)`.

    * `encoded` # shape: (batch_size, 1 + k, L, h)
    * `mask` # shape: (batch_size, 1 + k, L), bool
    * `seq_len` the pivot windows' length; `par_len` the parallels' (0 without them)
    """

    encoded: torch.Tensor
    mask: torch.Tensor
    seq_len: int
    par_len: int


def _usable(real: torch.Tensor | None, masks: torch.Tensor) -> torch.Tensor:
    """
    Which sequences can fill a transposed query's slot: S always, a translation when it is
    real; each must also have a token. shape: (batch, 1 + k), bool
    """
    assert real is not None
    return torch.cat([torch.ones_like(real[:, :1]), real.bool()], dim=1) & masks.bool().any(-1)


def transposition_weight(h_s: torch.Tensor, h_r: torch.Tensor) -> torch.Tensor:
    """
    λ_R = max(0, cos(H_S, H_R)) (eq. 23-24), computed without gradient: a weight, so that the
    model cannot lower its loss by pushing the pivot and translation representations apart.

    h_s, h_r shape: (batch, hidden); returns shape: (batch,)
    """
    with torch.no_grad():
        return torch.cosine_similarity(h_s, h_r, dim=-1).clamp(min=0)


def _span_mean(encoded: torch.Tensor, span: torch.Tensor) -> torch.Tensor:
    """
    H_X: mean of `encoded` over the inclusive token `span` of each row.

    encoded shape: (batch, L, h); span shape: (batch, 2); returns shape: (batch, h)
    """
    inside = span_mask(span.long(), encoded.size(1)).unsqueeze(-1).to(encoded.dtype)
    return (encoded * inside).sum(1) / inside.sum(1).clamp(min=1.0)
