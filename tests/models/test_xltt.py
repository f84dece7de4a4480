"""The `xltt` model: AllenNLP's train/save/load check, losses, switches and decoding."""

import json
import os

import pytest
import torch
from allennlp.common import Params
from allennlp.common.testing import ModelTestCase
from allennlp.data import Batch, Vocabulary
from allennlp.models import Model

from tests import FIXTURE_DATA, REPO
from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader
from xltt_plugin.models.xltt import XlttModel, _span_mean, transposition_weight

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
