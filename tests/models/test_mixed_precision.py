"""
Half precision (float16, bfloat16) of the span masking, the span loss and decoding, and of the
tiny config's model under `torch.autocast` on CPU: no NaN or inf, answers as in float32.

Mixed precision (AllenNLP's `use_amp`, `torch.autocast`) hands the span head's float16 logits
to the loss and decoding; masking them with `NEG_INF = -1e9` in float16 overflowed.
"""

import copy
import math

import pytest
import torch
from allennlp.common import Params
from allennlp.data import Batch, Vocabulary
from allennlp.models import Model

from tests import FIXTURE_DATA, REPO
from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
from xltt_plugin.models.span_decoding import (
    NEG_INF,
    best_bounded_spans,
    masked_logits,
    span_mask,
    top_span_pairs,
)
from xltt_plugin.models.xltt import XlttModel

HALF = [torch.float16, torch.bfloat16]
WINDOWS = {"transformer_model_name": "fixtures/tiny-xlmr", "length_limit": 96, "stride": 48}


def float64_span_loss(start, end, allowed, gold):
    """Reference: mean of start and end -log softmax over the allowed positions, in float64."""
    losses = []
    for row in range(len(start)):
        row_loss = 0.0
        for logits, target in ((start[row], gold[row][0]), (end[row], gold[row][1])):
            kept = [float(x) for x, ok in zip(logits, allowed[row]) if ok]
            top = max(kept)
            log_z = top + math.log(sum(math.exp(x - top) for x in kept))
            row_loss += log_z - float(logits[target])
        losses.append(row_loss / 2)
    return losses


@pytest.mark.parametrize("dtype", HALF)
def test_masked_logits_is_float32_with_neg_inf_and_keeps_gradients(dtype):
    logits = torch.tensor([[1.5, -2.0, 60000.0], [-60000.0, 0.25, 3.0]]).to(dtype)
    logits.requires_grad_(True)
    mask = torch.tensor([[True, False, True], [False, False, False]])
    out = masked_logits(logits, mask)
    assert out.dtype == torch.float32
    assert out[0, 0] == float(logits[0, 0]) and out[0, 2] == float(logits[0, 2])
    assert out[0, 1] == NEG_INF and (out[1] == NEG_INF).all()
    out.sum().backward()
    assert logits.grad is not None
    assert logits.grad.tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]


@pytest.mark.parametrize("dtype", HALF)
def test_span_loss_in_half_precision_matches_float64_loop(dtype):
    generator = torch.Generator().manual_seed(0)
    batch, length = 4, 12
    # Large-magnitude logits (float16 holds at most 65504) and ordinary ones.
    scale = torch.tensor([[8.0], [1.0], [3000.0], [1.0]])
    start = (torch.randn(batch, length, generator=generator) * scale).to(dtype)
    end = (torch.randn(batch, length, generator=generator) * scale).to(dtype)
    start.requires_grad_(True)
    end.requires_grad_(True)
    # Row 1 has an empty context span (a fully masked row: only CLS is allowed); row 3's
    # context is one token.
    context_span = torch.tensor([[2, 9], [-1, -1], [3, 11], [5, 5]])
    context_mask = span_mask(context_span, length)
    cls_index = torch.zeros(batch, dtype=torch.long)
    gold = torch.tensor([[4, 6], [0, 0], [3, 11], [5, 5]])
    loss = XlttModel._span_loss(start, end, context_mask, cls_index, gold)
    assert loss.dtype == torch.float32
    allowed = context_mask.clone()
    allowed[:, 0] = True
    expected = float64_span_loss(start.double(), end.double(), allowed.tolist(), gold.tolist())
    assert loss.tolist() == pytest.approx(expected, rel=1e-5, abs=1e-5)
    # The fully masked row has one allowed position: its loss is exactly 0.
    assert float(loss[1]) == 0.0
    loss.sum().backward()
    for grad in (start.grad, end.grad):
        assert grad is not None and grad.dtype == dtype
        assert torch.isfinite(grad).all()
        assert (grad[~allowed] == 0).all()


def brute_force_best(start, end, mask, max_len):
    best = (-1, -1, None)
    for i in range(len(start)):
        for j in range(i, min(len(end), i + max_len)):
            if mask[i] and mask[j] and (best[2] is None or start[i] + end[j] > best[2]):
                best = (i, j, start[i] + end[j])
    return best


@pytest.mark.parametrize("dtype", HALF)
def test_decoding_in_half_precision_matches_brute_force_with_masked_rows(dtype):
    generator = torch.Generator().manual_seed(1)
    batch, length, max_len = 5, 15, 4
    start = (torch.randn(batch, length, generator=generator) * 20000).to(dtype)
    end = (torch.randn(batch, length, generator=generator) * 20000).to(dtype)
    mask = torch.rand(batch, length, generator=generator) > 0.4
    mask[1] = False  # fully masked row: no answer
    mask[3] = False
    mask[3, 7] = True  # a single allowed token
    starts, ends, scores = best_bounded_spans(start, end, mask, max_len)
    assert torch.isfinite(scores).all()
    pairs = top_span_pairs(start, end, mask, max_len, n_best=5)
    for row in range(batch):
        i, j, score = brute_force_best(
            start[row].double().tolist(), end[row].double().tolist(), mask[row].tolist(), max_len
        )
        assert (int(starts[row]), int(ends[row])) == (i, j)
        if score is None:
            assert float(scores[row]) == NEG_INF and pairs[row] == []
        else:
            # float32 sums of two half values: exact to float32's precision.
            assert float(scores[row]) == pytest.approx(score, rel=1e-6)
            assert pairs[row][0][:2] == (i, j)
            assert all(math.isfinite(p[2]) for p in pairs[row])
    assert (int(starts[3]), int(ends[3])) == (7, 7)


@pytest.mark.parametrize("dtype", HALF)
def test_span_head_under_autocast_gives_finite_loss_gradients_and_spans(dtype):
    torch.manual_seed(0)
    head = torch.nn.Linear(8, 2)
    states = torch.randn(3, 10, 8) * 4
    context_span = torch.tensor([[2, 8], [-1, -1], [4, 4]])
    mask = span_mask(context_span, 10)
    gold = torch.tensor([[3, 5], [0, 0], [4, 4]])
    with torch.autocast("cpu", dtype=dtype):
        logits = head(states)
        assert logits.dtype == dtype  # autocast is really on
        loss = XlttModel._span_loss(
            logits[..., 0], logits[..., 1], mask, torch.zeros(3, dtype=torch.long), gold
        ).mean()
        pairs = top_span_pairs(logits[..., 0], logits[..., 1], mask, 30, 3)
    loss.backward()
    assert torch.isfinite(loss)
    assert head.weight.grad is not None and torch.isfinite(head.weight.grad).all()
    assert pairs[1] == [] and pairs[2][0][:2] == (4, 4)
    starts = [p[0][0] for p in pairs if p]
    assert all(2 <= s <= 8 for s in starts[:1])


# ---------------------------------------------------------------- the tiny config's model
def tiny_model_params():
    """The `model` section of training_config/xltt_tiny.jsonnet, as written."""
    config = Params.from_file(f"{REPO}/training_config/xltt_tiny.jsonnet")
    return config.pop("model").as_dict()


@pytest.fixture(scope="module")
def batches():
    import os

    os.chdir(REPO)
    train_reader = XlttParallelReader(
        parallel_languages=["ja", "ko"],
        max_query_length=32,
        language="en",
        dataset_name="squad",
        **WINDOWS,
    )
    train = [i for i in train_reader.read(f"{FIXTURE_DATA}/parallel/squad_en.json")][:8]
    dev_reader = XlttSquadReader(max_query_length=32, **WINDOWS)
    dev = list(dev_reader.read(f"{FIXTURE_DATA}/mlqa/dev-context-en-question-en.json"))[:16]
    vocab = Vocabulary.from_instances(train)
    tensors = []
    for instances in (train, dev):
        batch = Batch(instances)
        batch.index_instances(vocab)
        tensors.append(batch.as_tensor_dict())
    train_tensors, dev_tensors = tensors
    # An empty translation slot: no real translation and no tokens.
    par = train_tensors["parallel_question_with_context"]["tokens"]
    train_tensors["parallel_mask"][0, 1] = 0
    par["mask"][0, 1] = False
    return vocab, train_tensors, dev_tensors


def train_step_and_evaluate(vocab, train_tensors, dev_tensors, dtype):
    """One seeded AdamW step, then evaluation; under `torch.autocast(dtype)` unless None."""
    torch.manual_seed(0)
    model = Model.from_params(vocab=vocab, params=Params(tiny_model_params()))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        out = model(**copy.deepcopy(train_tensors))
    out["loss"].backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    optimizer.step()
    model.eval()
    with (
        torch.no_grad(),
        torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None),
    ):
        evaluation = model(**copy.deepcopy(dev_tensors))
    return out, grads, evaluation, model


@pytest.mark.parametrize("dtype", HALF)
def test_tiny_model_under_autocast_trains_and_answers_as_float32(batches, dtype):
    vocab, train_tensors, dev_tensors = batches
    out32, grads32, eval32, _ = train_step_and_evaluate(vocab, train_tensors, dev_tensors, None)
    out, grads, evaluation, _ = train_step_and_evaluate(vocab, train_tensors, dev_tensors, dtype)
    assert out["span_start_logits"].dtype == dtype  # the span head ran in half precision
    assert torch.isfinite(out["loss"]) and torch.isfinite(evaluation["loss"])
    assert float(out["loss"]) == pytest.approx(float(out32["loss"]), rel=0.02)
    assert float(out["aux_loss"]) == pytest.approx(float(out32["aux_loss"]), rel=0.05, abs=0.05)
    assert grads.keys() == grads32.keys()
    for name, grad in grads.items():
        assert torch.isfinite(grad).all(), name
    for key in ("span_start_logits", "span_end_logits"):
        assert torch.isfinite(evaluation[key].float()).all()
    # Answers: the same span as float32, or (a near tie) one whose float32 score is within
    # 4·d of float32's best, d the largest logit difference (each of the two spans' scores
    # moves by at most 2·d). Most windows must agree exactly.
    start32, end32 = eval32["span_start_logits"], eval32["span_end_logits"]
    d = max(
        float((evaluation[k].float() - eval32[k]).abs().max())
        for k in ("span_start_logits", "span_end_logits")
    )
    assert d < (0.05 if dtype == torch.float16 else 0.3)
    same = 0
    for row, (span, span32) in enumerate(zip(evaluation["best_span"], eval32["best_span"])):
        if span.tolist() == span32.tolist():
            same += 1
            continue
        chosen = float(start32[row, span[0]] + end32[row, span[1]])
        best = float(start32[row, span32[0]] + end32[row, span32[1]])
        assert chosen >= best - 4 * d
    assert same >= 0.75 * len(evaluation["best_span"])
    assert [len(s) > 0 for s in evaluation["best_span_str"]] == [
        len(s) > 0 for s in eval32["best_span_str"]
    ]
