"""The `xltt` model: AllenNLP's train/save/load check, losses, switches and decoding."""

import json
import math
import os

import pytest
import torch
from allennlp.common import Params
from allennlp.common.testing import ModelTestCase
from allennlp.data import Batch, Vocabulary
from allennlp.models import Model

from tests import FIXTURE_DATA, REPO
from tests.modules.maa_oracle import MaaParams, oracle, sequence
from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader
from xltt_plugin.models.xltt import EncodedWindows, XlttModel, _span_mean, transposition_weight

CONFIG = os.path.join(REPO, "training_config", "xltt_tiny.jsonnet")
PIVOT = os.path.join(FIXTURE_DATA, "parallel", "squad_en.json")
# Parameters that get no gradient by construction: XLM-R's pooler is not used for spans.
POOLER = {
    "_embedder.transformer_model.pooler.dense.weight",
    "_embedder.transformer_model.pooler.dense.bias",
}


# ModelTestCase reads the validation file with the training (parallel) reader too.
ONE_EPOCH = {
    "trainer.num_epochs": 1,
    "validation_data_path": PIVOT,
    "validation_dataset_reader.language": "en",
    "dataset_reader.skip_impossible_questions": True,
}


class TestXlttModelCase(ModelTestCase):
    def setup_method(self):
        super().setup_method()
        os.chdir(REPO)
        self.set_up_model(CONFIG, PIVOT)

    def test_model_can_train_save_and_load(self):
        self.ensure_model_can_train_save_and_load(
            self.param_file,
            gradients_to_ignore=POOLER,
            overrides=json.dumps(ONE_EPOCH),
        )

    def test_baseline_without_maa_can_train_save_and_load(self):
        self.ensure_model_can_train_save_and_load(
            self.param_file,
            gradients_to_ignore=POOLER,
            overrides=json.dumps({**ONE_EPOCH, "model.maa": None, "model.aux_loss_weight": 0}),
        )


@pytest.fixture(scope="module")
def parallel_batch():
    os.chdir(REPO)
    reader = XlttParallelReader(
        transformer_model_name="fixtures/tiny-xlmr",
        parallel_languages=["ja", "ko"],
        length_limit=96,
        stride=48,
        max_query_length=32,
        language="en",
        dataset_name="squad",
    )
    instances = list(reader.read(PIVOT))
    # Windows holding the pivot answer and at least one translation answer.
    chosen = [
        i
        for i in instances
        if i["metadata"]["has_answer"] and i["parallel_has_answer"].tensor.bool().any()
    ][:4]
    assert len(chosen) == 4
    vocab = Vocabulary.from_instances(chosen)
    batch = Batch(chosen)
    batch.index_instances(vocab)
    return vocab, batch.as_tensor_dict()


def run(model, tensors, seed=0):
    """Forward with a fixed seed, so that dropout masks agree between compared runs."""
    torch.manual_seed(seed)
    return model(**tensors)


def build(vocab, **overrides):
    torch.manual_seed(0)
    params = {"type": "xltt", "transformer_model_name": "fixtures/tiny-xlmr", "num_parallel": 2}
    params.update(overrides)
    return Model.from_params(vocab=vocab, params=Params(params))


def test_fusion_starts_at_zero_so_maa_equals_baseline_features_at_init(parallel_batch):
    vocab, tensors = parallel_batch
    model = build(vocab, aux_loss_weight=0.0).eval()
    out = model(**tensors)
    tokens = tensors["question_with_context"]["tokens"]
    b_s = model._embedder(tokens["token_ids"], tokens["mask"].bool())
    g_s = torch.cat([b_s, torch.nn.functional.layer_norm(b_s, b_s.shape[-1:])], dim=-1)
    logits = model._span_head(g_s)
    assert torch.allclose(out["span_start_logits"], logits[..., 0], atol=1e-5)


def test_auxiliary_loss_is_weighted_by_clamped_cosine_and_switchable(parallel_batch):
    vocab, tensors = parallel_batch
    model = build(vocab, aux_loss_weight=1.0).train()
    out_with = run(model, tensors)
    assert float(out_with["aux_loss"]) > 0
    # The aux term is added with weight 1: loss - aux is the pivot loss alone.
    model_off = build(vocab, aux_loss_weight=0.0).train()
    out_without = run(model_off, tensors)
    assert "aux_loss" not in out_without
    assert float(out_with["loss"] - out_with["aux_loss"]) == pytest.approx(
        float(out_without["loss"]), rel=1e-5
    )


def test_span_mean_is_the_mean_over_inclusive_gold_tokens():
    encoded = torch.randn(2, 6, 4)
    span = torch.tensor([[1, 2], [0, 4]])
    expected = torch.stack([encoded[0, 1:3].mean(0), encoded[1, 0:5].mean(0)])
    assert torch.allclose(_span_mean(encoded, span), expected)


def test_lambda_is_clamped_cosine_without_gradient():
    h_s = torch.tensor([[1.0, 0.0], [1.0, 0.0], [3.0, 4.0]], requires_grad=True)
    h_r = torch.tensor([[0.0, 2.0], [-1.0, 0.0], [3.0, 4.0]], requires_grad=True)
    lam = transposition_weight(h_s, h_r)
    # cosines by hand: 0 (orthogonal), -1 -> clamped to 0, 1 (same direction)
    assert lam.tolist() == pytest.approx([0.0, 0.0, 1.0])
    assert not lam.requires_grad


def test_dataset_weight_scales_an_instance_contribution(parallel_batch, tmp_path):
    vocab, tensors = parallel_batch
    weights = {"weights": {"squad": 0.5}}
    half = build(vocab, aux_loss_weight=0.0, dataset_weights=weights).train()
    full = build(vocab, aux_loss_weight=0.0).train()
    loss_half = run(half, tensors)["loss"]
    loss_full = run(full, tensors)["loss"]
    assert float(loss_half) == pytest.approx(0.5 * float(loss_full), rel=1e-5)
    # Evaluation ignores the weights (no training files needed to evaluate an archive).
    assert float(half.eval()(**tensors)["loss"]) == pytest.approx(
        float(full.eval()(**tensors)["loss"]), rel=1e-5
    )


def test_unknown_dataset_in_weights_is_a_clear_error(parallel_batch):
    vocab, tensors = parallel_batch
    model = build(vocab, aux_loss_weight=0.0, dataset_weights={"weights": {"cmrc": 1.0}}).train()
    with pytest.raises(Exception, match="squad"):
        model(**tensors)


def test_missing_slots_equal_self_transposition(parallel_batch):
    """With every slot masked out, the output equals inference without parallel input."""
    vocab, tensors = parallel_batch
    model = build(vocab, maa={"num_heads": 1, "fusion_init_std": 0.1}, aux_loss_weight=0.0)
    model.eval()
    masked = dict(tensors)
    masked["parallel_mask"] = torch.zeros_like(tensors["parallel_mask"])
    with_masked = model(**masked)
    alone = {k: v for k, v in tensors.items() if not k.startswith("parallel_")}
    without = model(**alone)
    assert torch.allclose(with_masked["span_start_logits"], without["span_start_logits"], atol=1e-5)
    # ...and real translations change the result once the fusion layer is not zero.
    with_real = model(**tensors)
    assert not torch.allclose(with_real["span_start_logits"], without["span_start_logits"])


def test_decoding_outputs_context_substrings_within_max_length(parallel_batch):
    vocab, tensors = parallel_batch
    model = build(vocab, max_answer_length=5).eval()
    out = model(**tensors)
    for meta, text, nbest in zip(tensors["metadata"], out["best_span_str"], out["nbest"]):
        assert text and text in meta["context"]
        for candidate in nbest:
            assert (
                meta["context"][candidate["char_start"] : candidate["char_end"]]
                == candidate["text"]
            )
    lengths = out["best_span"][:, 1] - out["best_span"][:, 0]
    assert int(lengths.max()) < 5
    assert isinstance(model, XlttModel)


def _hand_cross_entropy(logits: list[float], allowed: list[bool], gold: int) -> float:
    """-log softmax(logits)[gold] over the allowed positions."""
    top = max(v for v, keep in zip(logits, allowed) if keep)
    total = sum(math.exp(v - top) for v, keep in zip(logits, allowed) if keep)
    return -(logits[gold] - top - math.log(total))


def _hand_span_loss(model, g, allowed, gold) -> float:
    """Eq. 20-21 and the span loss: mean of start and end cross-entropy."""
    weight = model._span_head.weight.double().tolist()
    bias = model._span_head.bias.double().tolist()
    losses = []
    for boundary in range(2):
        logits = [
            bias[boundary] + sum(w * x for w, x in zip(weight[boundary], row)) if row else 0.0
            for row in g
        ]
        losses.append(_hand_cross_entropy(logits, allowed, gold[boundary]))
    return sum(losses) / 2


def _hand_mean(rows: list[list[float]], span: list[int]) -> list[float]:
    picked = rows[span[0] : span[1] + 1]
    return [sum(column) / len(picked) for column in zip(*picked)]


def _hand_cosine(u: list[float], v: list[float]) -> float:
    dot = sum(a * b for a, b in zip(u, v))
    return dot / math.sqrt(sum(a * a for a in u) * sum(b * b for b in v))


def test_losses_equal_a_hand_computation_on_a_tiny_case(parallel_batch):
    """
    Eq. 22-25 on a stubbed encoder output (batch 2, k = 2, length 6): the pivot loss with
    self-transposition draws, and Σ_R λ_R L_R / batch with λ_R = max(0, cos(H_S, H_R)) and
    L_R the span loss of R taken as the pivot (R attending to S and the other translation),
    every G from the explicit-loop MAA oracle.
    """
    vocab, _ = parallel_batch
    model = build(
        vocab,
        maa={"num_heads": 1, "fusion_init_std": 0.3},
        aux_loss_weight=0.7,
        self_transposition_prob=0.5,
    ).train()
    generator = torch.Generator().manual_seed(0)
    batch, n, length, h = 2, 3, 6, 32
    encoded = torch.randn(batch, n, length, h, generator=generator)
    # Row 0: translation 0 close to the pivot (λ > 0), translation 1 opposite (λ clamped to 0).
    encoded[0, 1] = encoded[0, 0] + 0.3 * torch.randn(length, h, generator=generator)
    encoded[0, 2] = -encoded[0, 0] + 0.3 * torch.randn(length, h, generator=generator)
    mask = torch.ones(batch, n, length, dtype=torch.bool)
    mask[1, 0, 5:] = False
    mask[1, 1, 4:] = False
    model._encode_stacked = lambda pivot, parallel: EncodedWindows(encoded, mask, length, length)
    tokens = {"tokens": {"token_ids": torch.zeros(batch, length, dtype=torch.long)}}
    inputs = {
        "question_with_context": tokens,
        "context_span": torch.tensor([[2, 5], [2, 4]]),
        "cls_index": torch.tensor([0, 0]),
        "answer_span": torch.tensor([[3, 4], [2, 3]]),
        "parallel_question_with_context": tokens,
        "parallel_context_span": torch.tensor([[[2, 5], [2, 5]], [[1, 3], [1, 3]]]),
        "parallel_answer_span": torch.tensor([[[3, 3], [4, 5]], [[2, 3], [0, 0]]]),
        # Row 1's translation 1 is no real translation.
        "parallel_mask": torch.tensor([[1, 1], [1, 0]]),
        "parallel_has_answer": torch.tensor([[1, 1], [1, 0]]),
    }
    torch.manual_seed(3)
    out = model(**inputs)
    torch.manual_seed(3)
    draws = torch.rand(batch, 2).tolist()

    params = MaaParams.of(model._maa)
    seqs = [[sequence(encoded, mask, r, s) for s in range(n)] for r in range(batch)]
    real = inputs["parallel_mask"].bool().tolist()
    pivot_loss = 0.0
    for r in range(batch):
        slots = [
            seqs[r][j + 1] if real[r][j] and draws[r][j] >= 0.5 else seqs[r][0] for j in range(2)
        ]
        g = oracle(seqs[r][0], slots, params).g
        first, last = inputs["context_span"][r].tolist()
        allowed = [(first <= i <= last and mask[r, 0, i].item()) or i == 0 for i in range(length)]
        pivot_loss += _hand_span_loss(model, g, allowed, inputs["answer_span"][r].tolist())
    pivot_loss /= batch

    aux = 0.0
    lambdas = []
    for r, j in [(0, 0), (0, 1), (1, 0)]:
        b_s, b_r = seqs[r][0][0], seqs[r][j + 1][0]
        gold_r = inputs["parallel_answer_span"][r, j].tolist()
        lam = max(
            0.0,
            _hand_cosine(
                _hand_mean(b_s, inputs["answer_span"][r].tolist()), _hand_mean(b_r, gold_r)
            ),
        )
        lambdas.append(lam)
        other = seqs[r][2 - j] if real[r][1 - j] else seqs[r][j + 1]
        g = oracle(seqs[r][j + 1], [seqs[r][0], other], params).g
        first, last = inputs["parallel_context_span"][r, j].tolist()
        allowed = [
            (first <= i <= last and mask[r, j + 1, i].item()) or i == 0 for i in range(length)
        ]
        aux += lam * _hand_span_loss(model, g, allowed, gold_r)
    aux /= batch
    assert lambdas[0] > 0.5 and lambdas[1] == 0.0
    assert any(d < 0.5 for row in draws for d in row)  # some slot was drawn to be the pivot
    assert float(out["aux_loss"]) == pytest.approx(aux, rel=1e-5, abs=1e-6)
    assert float(out["loss"]) == pytest.approx(pivot_loss + 0.7 * aux, rel=1e-5, abs=1e-6)
