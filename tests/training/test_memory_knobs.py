"""
The GPU memory knobs of the paper configs (XLTT_AMP, XLTT_GRAD_CKPT, XLTT_GRAD_ACCUM through
`xltt_common.libsonnet`'s `memory`), and that accumulated micro-batches give the gradient of
the full batch (so that accumulation keeps the paper's effective batch).
"""

import copy
import glob
import os

import pytest
import torch
from allennlp.common import Params, cached_transformers
from allennlp.models import Model

from tests import REPO
from tests.models.test_mixed_precision import batches, tiny_model_params  # noqa: F401
from tests.training.test_configs import stand_in_env  # noqa: F401

# Each paper config and its batch: §5.1's 16 for XLTT and translate-train, XTREME's 32 for the
# plain baselines.
PAPER_CONFIGS = {
    "xltt_xlmr": 16,
    "xltt_mbert": 16,
    "xlmr_translate_train": 16,
    "xlmr_squad": 32,
    "mbert_squad": 32,
    "xlmr_cascade": 32,
}


def load(name):
    return Params.from_file(os.path.join(REPO, "training_config", f"{name}.jsonnet"))


def test_every_paper_config_has_the_knobs():
    configs = glob.glob(os.path.join(REPO, "training_config", "*.jsonnet"))
    names = {os.path.basename(c)[: -len(".jsonnet")] for c in configs}
    assert names - {"xltt_tiny", "xltt_tiny_multisource"} == set(PAPER_CONFIGS)


@pytest.mark.parametrize("name", PAPER_CONFIGS)
def test_knobs_are_off_by_default(name, stand_in_env):  # noqa: F811
    params = load(name).as_dict()
    assert params["data_loader"]["scheduler"]["batch_size"] == PAPER_CONFIGS[name]
    assert params["trainer"]["use_amp"] is False
    assert params["trainer"]["num_gradient_accumulation_steps"] == 1
    assert "transformer_kwargs" not in params["model"]


@pytest.mark.parametrize("name", PAPER_CONFIGS)
def test_knobs_turn_on_amp_checkpointing_and_accumulation(name, stand_in_env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("XLTT_AMP", "1")
    monkeypatch.setenv("XLTT_GRAD_CKPT", "1")
    monkeypatch.setenv("XLTT_GRAD_ACCUM", "4")
    params = load(name)
    trainer = params["trainer"].as_dict()
    micro = params["data_loader"]["scheduler"]["batch_size"]
    assert trainer["use_amp"] is True
    # The effective batch stays the config's: 4 micro-batches of a quarter.
    assert (micro, trainer["num_gradient_accumulation_steps"]) == (PAPER_CONFIGS[name] // 4, 4)
    model = Model.from_params(vocab=None, params=params.pop("model"))
    assert model._embedder.transformer_model.is_gradient_checkpointing


def test_accumulation_must_divide_the_batch(stand_in_env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("XLTT_GRAD_ACCUM", "3")
    with pytest.raises(Exception, match="XLTT_GRAD_ACCUM=3 must divide the batch size 16"):
        load("xltt_xlmr")


def test_two_micro_batches_give_the_gradient_of_the_full_batch(batches):  # noqa: F811
    """AllenNLP divides each micro-batch loss by the number of micro-batches: with the model's
    per-batch mean losses, the accumulated gradient is the full batch's."""
    vocab, train_tensors, _ = batches
    params = tiny_model_params()
    # Without randomness (dropout, self-transposition), the two computations must agree.
    params["self_transposition_prob"] = 0.0
    params["maa"]["dropout"] = 0.0
    params["transformer_kwargs"] = {
        "transformer_kwargs": {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    }
    # AllenNLP caches encoders by name, not by `transformer_kwargs`: load afresh, and leave no
    # dropout-free encoder in the cache for later tests.
    cached_transformers._clear_caches()
    try:
        torch.manual_seed(0)
        model = Model.from_params(vocab=vocab, params=Params(params)).train()
    finally:
        cached_transformers._clear_caches()
    assert model._embedder.transformer_model.config.hidden_dropout_prob == 0.0

    def gradients(parts):
        model.zero_grad()
        for part in parts:
            (model(**part)["loss"] / len(parts)).backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    full = gradients([copy.deepcopy(train_tensors)])
    halves = gradients([slice_batch(train_tensors, 0, 4), slice_batch(train_tensors, 4, 8)])
    assert full.keys() == halves.keys()
    for name, grad in full.items():
        assert torch.allclose(grad, halves[name], atol=1e-6, rtol=1e-4), name


def slice_batch(tensors, start, end):
    """Rows start..end of a tensor dict (nested dicts, lists of metadata)."""
    if isinstance(tensors, dict):
        return {k: slice_batch(v, start, end) for k, v in tensors.items()}
    if isinstance(tensors, torch.Tensor):
        return tensors[start:end].clone()
    return copy.deepcopy(tensors[start:end])


@pytest.mark.parametrize("name", ["xltt_xlmr", "xltt_mbert"])
def test_xltt_maa_selects_the_maa_option(name, stand_in_env, monkeypatch):  # noqa: F811
    # Default: the paper's eq. 10 (no option set, so the layer's paper-exact defaults).
    assert load(name).as_dict()["model"]["maa"] == {"num_heads": 1, "dropout": 0.1}
    monkeypatch.setenv("XLTT_MAA", "cross")
    params = load(name)
    assert params.as_dict()["model"]["maa"] == {
        "num_heads": 1,
        "dropout": 0.1,
        "adaptive_sides": "none",
        "score_scale": 20,
        "learn_score_scale": True,
    }
    model = Model.from_params(vocab=None, params=params.pop("model"))
    assert model._maa.adaptive_sides == "none"
    monkeypatch.setenv("XLTT_MAA", "pivot")
    with pytest.raises(Exception, match="XLTT_MAA=pivot: not one of cross, paper"):
        load(name)
