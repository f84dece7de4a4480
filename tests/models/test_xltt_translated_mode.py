"""Test mode `translated` (design README §7) through the `xltt` model."""

from pathlib import Path
from typing import Any

import pytest
import torch
from allennlp.common import Params
from allennlp.data import Batch, Instance, Vocabulary
from allennlp.models import Model

from xltt_plugin.data.squad_loading import read_squad_questions
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
from xltt_plugin.data.xltt_translated_reader import XlttTranslatedReader

ROOT = Path(__file__).resolve().parents[2]
MODEL = str(ROOT / "fixtures" / "tiny-xlmr")
PARALLEL = ROOT / "fixtures" / "data" / "parallel"
TARGET = str(PARALLEL / "squad_en.json")
FILES = {"ja": str(PARALLEL / "squad_ja.json"), "ko": str(PARALLEL / "squad_ko.json")}
SETTINGS: dict[str, Any] = {"length_limit": 96, "stride": 48, "max_query_length": 32}


def build(maa: dict[str, Any] | None) -> Model:
    torch.manual_seed(0)
    params = {
        "type": "xltt",
        "transformer_model_name": MODEL,
        "num_parallel": 2,
        "maa": maa,
        "aux_loss_weight": 1.0,
    }
    return Model.from_params(vocab=Vocabulary(), params=Params(params)).eval()


def forward(model: Model, instances: list[Instance]) -> dict[str, Any]:
    batch = Batch(instances)
    batch.index_instances(model.vocab)
    with torch.no_grad():
        return model(**batch.as_tensor_dict())


@pytest.fixture(scope="module")
def readers() -> tuple[XlttTranslatedReader, XlttSquadReader]:
    translated = XlttTranslatedReader(MODEL, language="en", parallel_files=FILES, **SETTINGS)
    plain = XlttSquadReader(MODEL, language="en", **SETTINGS)
    return translated, plain


def test_slot_contents_reach_maa_and_change_the_prediction(readers) -> None:
    """
    A tiny model whose MAA fusion weights are non-zero: the same target windows give other
    span scores, and other best spans, with the real translations, with other text in the
    slots, and in `self` mode; a model without MAA is unaffected by the slots.
    """
    translated, plain = readers
    questions = list(read_squad_questions(TARGET))
    ja = {q.qid: q for q in read_squad_questions(FILES["ja"])}
    ko = {q.qid: q for q in read_squad_questions(FILES["ko"])}
    # Each question's own translations, and those of another question (wrong slot content).
    own: list[Instance] = []
    other: list[Instance] = []
    alone: list[Instance] = []
    for index, question in enumerate(questions):
        swap = questions[(index + 5) % len(questions)].qid
        slots = [ja[question.qid], ko.get(question.qid)]
        own += translated.question_instances(question, slots, "en")
        other += translated.question_instances(question, [ja[swap], ja[swap]], "en")
        alone += list(plain.make_instances(question.qid, question.question, question.context))
    for instance in alone:
        plain.apply_token_indexers(instance)
    assert len(own) == len(other) == len(alone)
    model = build({"num_heads": 1, "fusion_init_std": 1.0})
    out_own, out_other, out_self = (forward(model, i) for i in (own, other, alone))
    for a, b in ((out_own, out_other), (out_own, out_self), (out_other, out_self)):
        assert not torch.allclose(a["span_start_logits"], b["span_start_logits"], atol=1e-3)
    spans_own = out_own["best_span"].tolist()
    assert spans_own != out_self["best_span"].tolist()
    assert spans_own != out_other["best_span"].tolist()
    # Without MAA the slots are encoded but cannot matter.
    baseline = build(None)
    same_own, same_self = forward(baseline, own), forward(baseline, alone)
    assert torch.allclose(same_own["span_start_logits"], same_self["span_start_logits"], atol=1e-5)


def test_translated_slots_without_gold_spans_score_only_the_target(readers) -> None:
    translated, _ = readers
    instances = list(translated.read(TARGET))
    for instance in instances:
        translated.apply_token_indexers(instance)
    model = build({"num_heads": 1, "fusion_init_std": 0.5})
    output = forward(model, instances)
    # The slots carry no gold span: no auxiliary pair, the loss is the target's span loss.
    assert float(output.get("aux_loss", 0.0)) == 0.0
    assert torch.isfinite(output["loss"])
    totals = model._qa_metric._totals  # type: ignore[attr-defined]
    # Every target question scored once, in the target's language only (not ja / ko).
    assert set(totals) == {"en"}
    assert totals["en"][2] == len({q.qid for q in read_squad_questions(TARGET)})
    metrics = model.get_metrics(reset=True)
    assert set(k for k in metrics if k.startswith("f1_")) == {"f1_en", "f1_avg"}
