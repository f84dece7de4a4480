"""The XLTT model: shared encoder, multilingual adaptive attention, span heads, losses."""

import logging
from typing import Any, Optional

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
    merge_windows,
    span_mask,
    top_span_pairs,
    window_candidates,
)
from xltt_plugin.modules.maa import MultilingualAdaptiveAttention
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
        Extra arguments for `PretrainedTransformerEmbedder` (e.g. `gradient_checkpointing`).
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
        self._embedder = PretrainedTransformerEmbedder(
            transformer_model_name, **(transformer_kwargs or {})
        )
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

    # ------------------------------------------------------------------ encoding
    def _encode(
        self,
        pivot: TextFieldTensors,
        parallel: TextFieldTensors | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """
        Encode the pivot windows and (if given) their parallel windows in one encoder call.

        # Returns

        `(b_s, mask_s, b_p, mask_p)`: shapes (batch, L, h), (batch, L),
        (batch, k, L', h), (batch, k, L'); the last two `None` without parallels.
        """
        tokens = pivot["tokens"]
        # shape: (batch_size, seq_len)
        ids_s, mask_s = tokens["token_ids"], tokens["mask"].bool()
        type_s = tokens.get("type_ids")
        if parallel is None:
            return self._embedder(ids_s, mask_s, type_ids=type_s), mask_s, None, None
        par = parallel["tokens"]
        # shape: (batch_size, k, par_len)
        ids_p, mask_p = par["token_ids"], par["mask"].bool()
        type_p = par.get("type_ids")
        batch_size, k, par_len = ids_p.shape
        seq_len = ids_s.size(1)
        length = max(seq_len, par_len)
        ids = torch.cat([_pad_to(ids_s, length).unsqueeze(1), _pad_to(ids_p, length)], dim=1).view(
            batch_size * (k + 1), length
        )
        mask = torch.cat(
            [_pad_to(mask_s, length).unsqueeze(1), _pad_to(mask_p, length)], dim=1
        ).view(batch_size * (k + 1), length)
        types = None
        if type_s is not None and type_p is not None:
            types = torch.cat(
                [_pad_to(type_s, length).unsqueeze(1), _pad_to(type_p, length)], dim=1
            ).view(batch_size * (k + 1), length)
        # shape: (batch_size * (k + 1), length, hidden)
        encoded = self._embedder(ids, mask, type_ids=types)
        encoded = encoded.view(batch_size, k + 1, length, -1)
        b_s = encoded[:, 0, :seq_len]
        b_p = encoded[:, 1:, :par_len]
        return b_s, mask_s, b_p, mask_p

    def _fuse(
        self,
        b_s: torch.Tensor,
        mask_s: torch.Tensor,
        b_p: torch.Tensor | None,
        mask_p: torch.Tensor | None,
        slot_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        """G_S of eq. 17 (or B_S itself without MAA). shape: (batch, L, head_dim)"""
        if self._maa is None:
            return b_s
        return self._maa(b_s, mask_s, b_p, mask_p, slot_mask)

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
        `loss` when `answer_span` is given, and outside training `best_span` (batch_size, 2),
        `best_span_scores`, `best_span_str` and `nbest` (per window, JSON-ready candidates).
        """
        b_s, mask_s, b_p, mask_p = self._encode(
            question_with_context, parallel_question_with_context
        )
        batch_size, seq_len, _ = b_s.shape
        if cls_index is None:
            cls_index = torch.zeros(batch_size, dtype=torch.long, device=b_s.device)
        cls_index = cls_index.view(-1).long()

        slot_mask = None
        if b_p is not None:
            slot_mask = (
                parallel_mask.bool()
                if parallel_mask is not None
                else torch.ones(b_p.shape[:2], dtype=torch.bool, device=b_p.device)
            )
            if self.training and self._self_transposition_prob > 0:
                keep = torch.rand(slot_mask.shape, device=slot_mask.device)
                slot_mask = slot_mask & (keep >= self._self_transposition_prob)
        # shape: (batch_size, seq_len, head_dim)
        g_s = self._fuse(b_s, mask_s, b_p, mask_p, slot_mask)
        start_logits, end_logits = self._span_logits(g_s)
        # shape: (batch_size, seq_len)
        context_mask = span_mask(context_span, seq_len) & mask_s
        output: dict[str, Any] = {
            "span_start_logits": start_logits,
            "span_end_logits": end_logits,
        }

        if answer_span is not None:
            weights = self._instance_weights(metadata, task, batch_size, b_s.device)
            per_instance = self._span_loss(
                start_logits, end_logits, context_mask, cls_index, answer_span
            )
            loss = (weights * per_instance).sum() / batch_size
            if (
                b_p is not None
                and self._aux_loss_weight > 0
                and parallel_answer_span is not None
                and parallel_context_span is not None
                and parallel_has_answer is not None
                and mask_p is not None
            ):
                aux = self._auxiliary_loss(
                    b_s,
                    mask_s,
                    b_p,
                    mask_p,
                    answer_span,
                    cls_index,
                    parallel_answer_span,
                    parallel_context_span,
                    parallel_has_answer.bool() & slot_mask_real(parallel_mask, b_p),
                    parallel_mask,
                    weights,
                )
                output["aux_loss"] = aux.detach()
                loss = loss + self._aux_loss_weight * aux
            output["loss"] = loss

        if not self.training:
            self._decode(
                output, start_logits, end_logits, context_mask, answer_span, cls_index, metadata
            )
        return output

    def _span_logits(self, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # shape: (batch_size, seq_len, 2)
        logits = self._span_head(g)
        return logits[..., 0], logits[..., 1]

    @staticmethod
    def _span_loss(
        start_logits: torch.Tensor,
        end_logits: torch.Tensor,
        context_mask: torch.Tensor,
        cls_index: torch.Tensor,
        gold: torch.Tensor,
    ) -> torch.Tensor:
        """Mean of start and end cross-entropy per instance over context + CLS. shape: (batch,)"""
        allowed = context_mask.clone()
        allowed[torch.arange(allowed.size(0), device=allowed.device), cls_index] = True
        start = start_logits.masked_fill(~allowed, NEG_INF)
        end = end_logits.masked_fill(~allowed, NEG_INF)
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
        b_s: torch.Tensor,
        mask_s: torch.Tensor,
        b_p: torch.Tensor,
        mask_p: torch.Tensor,
        answer_span: torch.Tensor,
        cls_index: torch.Tensor,
        parallel_answer_span: torch.Tensor,
        parallel_context_span: torch.Tensor,
        active: torch.Tensor,
        parallel_mask: torch.Tensor | None,
        weights: torch.Tensor,
    ) -> torch.Tensor:
        """
        Σ_R λ_R · L_R (eq. 23-25), averaged over the batch. `active`: (batch, k), slots that
        are real translations with a gold span in their window; the pivot must have its gold
        span in its window too.
        """
        batch_size, k, par_len, _ = b_p.shape
        pivot_has = answer_span[:, 0] != cls_index
        active = active & pivot_has.unsqueeze(1)
        real = (
            parallel_mask.bool()
            if parallel_mask is not None
            else torch.ones(batch_size, k, dtype=torch.bool, device=b_p.device)
        )
        total = b_s.new_zeros(())
        h_s = _span_mean(b_s, answer_span)
        for r in range(k):
            rows = active[:, r].nonzero(as_tuple=True)[0]
            if rows.numel() == 0:
                continue
            b_r = b_p[rows, r]
            mask_r = mask_p[rows, r]
            gold_r = parallel_answer_span[rows, r].long()
            lam = transposition_weight(h_s[rows], _span_mean(b_r, gold_r))
            # Transposition: R is the pivot; S and the other translations are its parallels.
            others = [j for j in range(k) if j != r]
            length = max(b_s.size(1), par_len)
            parallels = torch.cat(
                [_pad_to(b_s[rows], length).unsqueeze(1)]
                + [_pad_to(b_p[rows, j], length).unsqueeze(1) for j in others],
                dim=1,
            )
            parallel_masks = torch.cat(
                [_pad_to(mask_s[rows], length).unsqueeze(1)]
                + [_pad_to(mask_p[rows, j], length).unsqueeze(1) for j in others],
                dim=1,
            )
            slots = torch.cat(
                [torch.ones(rows.numel(), 1, dtype=torch.bool, device=b_p.device)]
                + [real[rows, j].unsqueeze(1) for j in others],
                dim=1,
            )
            g_r = self._fuse(b_r, mask_r, parallels, parallel_masks, slots)
            start_r, end_r = self._span_logits(g_r)
            context_r = span_mask(parallel_context_span[rows, r], par_len) & mask_r
            cls_r = torch.zeros(rows.numel(), dtype=torch.long, device=b_p.device)
            loss_r = self._span_loss(start_r, end_r, context_r, cls_r, gold_r)
            total = total + (weights[rows] * lam * loss_r).sum()
        return total / batch_size

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
            if has_answer.any():
                self._span_accuracy(best[has_answer], answer_span[has_answer])
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

    default_predictor = "xltt"


def slot_mask_real(parallel_mask: torch.Tensor | None, b_p: torch.Tensor) -> torch.Tensor:
    """The slots holding a real translation. shape: (batch_size, k)"""
    if parallel_mask is None:
        return torch.ones(b_p.shape[:2], dtype=torch.bool, device=b_p.device)
    return parallel_mask.bool()


def transposition_weight(h_s: torch.Tensor, h_r: torch.Tensor) -> torch.Tensor:
    """
    λ_R = max(0, cos(H_S, H_R)) (eq. 23-24), computed without gradient: a weight, so that the
    model cannot lower its loss by pushing the pivot and translation representations apart.

    h_s, h_r shape: (batch, hidden); returns shape: (batch,)
    """
    with torch.no_grad():
        return torch.cosine_similarity(h_s, h_r, dim=-1).clamp(min=0)


def _pad_to(tensor: torch.Tensor, length: int) -> torch.Tensor:
    """Right-pad the last (sequence) dimension of ids/masks, or dim -2 of encodings, to `length`."""
    if tensor.dtype.is_floating_point and tensor.dim() >= 3:
        pad = length - tensor.size(-2)
        return tensor if pad == 0 else torch.nn.functional.pad(tensor, (0, 0, 0, pad))
    pad = length - tensor.size(-1)
    return tensor if pad == 0 else torch.nn.functional.pad(tensor, (0, pad))


def _span_mean(encoded: torch.Tensor, span: torch.Tensor) -> torch.Tensor:
    """
    H_X: mean of `encoded` over the inclusive token `span` of each row.

    encoded shape: (batch, L, h); span shape: (batch, 2); returns shape: (batch, h)
    """
    inside = span_mask(span.long(), encoded.size(1)).unsqueeze(-1).to(encoded.dtype)
    return (encoded * inside).sum(1) / inside.sum(1).clamp(min=1.0)
