"""
Test mode `translated` through the predictor API (design README §7): `XlttPredictor` on JSON
lines carrying `"parallel"` translations (k = 2 slots) against the same predictor in mode
`self` (slots filled with the input itself, one encoder pass per window), and against
allennlp-models' `transformer_qa` predictor, on the same XQuAD en questions. XQuAD is
multi-way parallel: its human de and es versions stand in for the machine translations (the
slots are named de, es here; the cost does not depend on the names).

Expected cost: about k + 1 encoder passes per target window, since each target window is
encoded stacked with one window of each translation (at their common padded length);
`expected_encoder_tokens_ratio` counts the padded tokens each mode encodes (the cost model
without the reader and decoding), to read the measured ratio against: XQuAD's de/es versions
are longer in tokens than en (more so under an English vocabulary), and a target window is
padded to its longest slot. `equal_length_self_ratio` isolates the translated path's overhead
from that: the same lines with the target's own text as both "translations" (every slot as
long as the target: exactly k + 1 sequences per window).
"""

import os

import torch
from bench_common import XQUAD, alternate

SLOTS = ("de", "es")


def questions_with_translations(encoder: str, one: int, multi: int) -> list[dict]:
    """The first `one` one-window and `multi` multi-window en questions, with de/es versions."""
    from xltt_plugin.data.squad_loading import read_squad_questions
    from xltt_plugin.data.xltt_squad_reader import XlttSquadReader

    reader = XlttSquadReader(encoder, language="en")
    versions = {
        lang: {q.qid: q for q in read_squad_questions(os.path.join(XQUAD, f"xquad.{lang}.json"))}
        for lang in SLOTS
    }
    single: list[dict] = []
    several: list[dict] = []
    for question in read_squad_questions(os.path.join(XQUAD, "xquad.en.json")):
        instances = reader.make_instances(question.qid, question.question, question.context)
        windows = len(list(instances))
        item = {
            "id": question.qid,
            "question": question.question,
            "context": question.context,
            "language": "en",
            "parallel": [
                {
                    "question": versions[lang][question.qid].question,
                    "context": versions[lang][question.qid].context,
                    "language": lang,
                }
                for lang in SLOTS
            ],
        }
        if windows == 1 and len(single) < one:
            single.append(item)
        elif windows > 1 and len(several) < multi:
            several.append(item)
        if len(single) >= one and len(several) >= multi:
            break
    return single + several


def run(encoder: str, one: int, multi: int, runs: int) -> dict:
    from allennlp.data import Vocabulary
    from allennlp_models.rc.dataset_readers.transformer_squad import TransformerSquadReader
    from allennlp_models.rc.models.transformer_qa import TransformerQA
    from allennlp_models.rc.predictors.transformer_qa import TransformerQAPredictor

    from xltt_plugin.data.xltt_translated_reader import XlttTranslatedReader
    from xltt_plugin.models.xltt import XlttModel
    from xltt_plugin.predictors.xltt_predictor import XlttPredictor

    questions = questions_with_translations(encoder, one, multi)
    plain = [{k: v for k, v in q.items() if k != "parallel"} for q in questions]
    baseline_inputs = [{"question": q["question"], "context": q["context"]} for q in questions]
    torch.manual_seed(0)
    model = XlttModel(Vocabulary(), encoder, num_parallel=len(SLOTS)).eval()
    reader = XlttTranslatedReader(encoder, language="en", parallel_languages=SLOTS)
    predictor = XlttPredictor(model, reader)
    torch.manual_seed(0)
    baseline = TransformerQAPredictor(
        TransformerQA(Vocabulary(), encoder).eval(), TransformerSquadReader(encoder)
    )

    def translated() -> None:
        for question in questions:
            predictor.predict_json(question)

    same_text = [
        {
            **q,
            "parallel": [
                {"question": q["question"], "context": q["context"], "language": lang}
                for lang in SLOTS
            ],
        }
        for q in questions
    ]

    def equal_length() -> None:
        for question in same_text:
            predictor.predict_json(question)

    def self_mode() -> None:
        for question in plain:
            predictor.predict_json(question)

    def allennlp_models() -> None:
        for question in baseline_inputs:
            baseline.predict_json(question)

    against_self = alternate(translated, self_mode, runs=runs, warmup=1)
    against_baseline = alternate(translated, allennlp_models, runs=runs, warmup=1)
    equal_against_self = alternate(equal_length, self_mode, runs=runs, warmup=1)
    scale = 1.0 / len(questions)
    # The cost model: padded tokens through the encoder per mode.
    tokens_translated = tokens_self = 0
    for index, question in enumerate(questions):
        for instance in predictor._question_instances(question, index):
            pivot = len(instance["question_with_context"])
            slots = max(len(text) for text in instance["parallel_question_with_context"])  # type: ignore[attr-defined]
            tokens_translated += (1 + len(SLOTS)) * max(pivot, slots)
            tokens_self += pivot
    return {
        "encoder": encoder,
        "questions": len(questions),
        "k": len(SLOTS),
        "translated_vs_self": against_self.summary(unit_scale=scale),
        "translated_vs_allennlp_models": against_baseline.summary(unit_scale=scale),
        "equal_length_vs_self": equal_against_self.summary(unit_scale=scale),
        "translated_self_ratio": round(against_self.ratio, 3),
        "equal_length_self_ratio": round(equal_against_self.ratio, 3),
        "translated_baseline_ratio": round(against_baseline.ratio, 3),
        "expected_encoder_tokens_ratio": round(tokens_translated / tokens_self, 3),
    }
