"""
Inference per question through the predictor API: `XlttPredictor` over an in-memory `xltt`
model (self-transposition, one encoder pass per window) against allennlp-models'
`transformer_qa` predictor, on the same XQuAD questions with one window and with several.
Also the same windows through `Model.forward_on_instances` alone (no reader, no predictor).
"""

import os
from typing import Any

import torch
from bench_common import XQUAD, alternate


def questions_by_windows(encoder: str, one: int, multi: int) -> tuple[list[dict], list[dict]]:
    """The first `one` one-window and `multi` multi-window XQuAD en questions (384/128)."""
    from xltt_plugin.data.squad_loading import read_squad_questions
    from xltt_plugin.data.xltt_squad_reader import XlttSquadReader

    reader = XlttSquadReader(encoder, language="en")
    single: list[dict] = []
    several: list[dict] = []
    for question in read_squad_questions(os.path.join(XQUAD, "xquad.en.json")):
        instances = reader.make_instances(question.qid, question.question, question.context)
        windows = len(list(instances))
        item = {"id": question.qid, "question": question.question, "context": question.context}
        if windows == 1 and len(single) < one:
            single.append(item)
        elif windows > 1 and len(several) < multi:
            several.append(item)
        if len(single) >= one and len(several) >= multi:
            break
    return single, several


def build_predictors(encoder: str) -> tuple[Any, Any]:
    from allennlp.data import Vocabulary
    from allennlp_models.rc.dataset_readers.transformer_squad import TransformerSquadReader
    from allennlp_models.rc.models.transformer_qa import TransformerQA
    from allennlp_models.rc.predictors.transformer_qa import TransformerQAPredictor

    from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
    from xltt_plugin.models.xltt import XlttModel
    from xltt_plugin.predictors.xltt_predictor import XlttPredictor

    torch.manual_seed(0)
    xltt = XlttModel(Vocabulary(), encoder, num_parallel=2).eval()
    torch.manual_seed(0)
    baseline = TransformerQA(Vocabulary(), encoder).eval()
    xltt_predictor = XlttPredictor(xltt, XlttSquadReader(encoder, language="en"))
    baseline_predictor = TransformerQAPredictor(baseline, TransformerSquadReader(encoder))
    return xltt_predictor, baseline_predictor


def run(encoder: str, one: int, multi: int, runs: int) -> dict:
    single, several = questions_by_windows(encoder, one, multi)
    xltt, baseline = build_predictors(encoder)
    result: dict[str, Any] = {"encoder": encoder, "length": 384, "stride": 128}
    totals = {"xltt": 0.0, "baseline": 0.0}
    for name, questions in (("one_window", single), ("multi_window", several)):
        if not questions:
            continue

        def predict_xltt(questions: list[dict] = questions) -> None:
            for question in questions:
                xltt.predict_json(question)

        def predict_baseline(questions: list[dict] = questions) -> None:
            for question in questions:
                baseline.predict_json(question)

        timing = alternate(predict_xltt, predict_baseline, runs=runs, warmup=1)
        summary = timing.summary(unit_scale=1.0 / len(questions))
        summary["questions"] = len(questions)
        result[name] = summary
        totals["xltt"] += timing.xltt_median
        totals["baseline"] += timing.baseline_median
    result["predict_ratio"] = round(totals["xltt"] / totals["baseline"], 3)
    result["model_only"] = model_only(xltt, baseline, single + several, runs)
    return result


def model_only(xltt: Any, baseline: Any, questions: list[dict], runs: int) -> dict:
    """The windows of the questions through `forward_on_instances` (one question per call)."""
    xltt_groups = [xltt._question_instances(q, i) for i, q in enumerate(questions)]
    baseline_groups = [baseline._json_to_instances(q, qid=i + 1) for i, q in enumerate(questions)]

    def forward_xltt() -> None:
        for group in xltt_groups:
            xltt._model.forward_on_instances(group)

    def forward_baseline() -> None:
        for group in baseline_groups:
            baseline._model.forward_on_instances(group)

    timing = alternate(forward_xltt, forward_baseline, runs=runs, warmup=1)
    summary = timing.summary(unit_scale=1.0 / len(questions))
    summary["windows"] = sum(len(g) for g in xltt_groups)
    return summary
