"""`transformer_kwargs: {gradient_checkpointing: true}` really recomputes the encoder's layers."""

import copy

import torch
from allennlp.common import Params
from allennlp.models import Model

from tests.models.test_mixed_precision import batches, tiny_model_params  # noqa: F401


def forward_backward(vocab, tensors, checkpointing):
    torch.manual_seed(0)
    params = tiny_model_params()
    if checkpointing:
        params["transformer_kwargs"] = {"gradient_checkpointing": True}
    model = Model.from_params(vocab=vocab, params=Params(params)).train()
    layer = model._embedder.transformer_model.encoder.layer[0]
    calls = []
    # A pre-hook: the recomputation may stop early (torch), before a post-forward hook.
    layer.register_forward_pre_hook(lambda *_: calls.append(1))
    torch.manual_seed(1)
    model(**copy.deepcopy(tensors))["loss"].backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return model, len(calls), grads


def test_gradient_checkpointing_recomputes_layers_with_the_same_gradients(batches):  # noqa: F811
    vocab, train_tensors, _ = batches
    plain, plain_calls, plain_grads = forward_backward(vocab, train_tensors, False)
    model, calls, grads = forward_backward(vocab, train_tensors, True)
    assert model._embedder.transformer_model.is_gradient_checkpointing
    assert not plain._embedder.transformer_model.is_gradient_checkpointing
    # One encoder call (pivot and parallels stacked): layer 0 runs once, or twice when its
    # activations are recomputed in the backward pass.
    assert (plain_calls, calls) == (1, 2)
    # Dropout masks are replayed (torch preserves the RNG state): the same gradients.
    assert grads.keys() == plain_grads.keys()
    for name, grad in grads.items():
        assert torch.allclose(grad, plain_grads[name], atol=1e-6), name
