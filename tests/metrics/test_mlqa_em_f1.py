from typing import Any

import pytest
from allennlp.common import Params
from allennlp.training.metrics import Metric

from tests.metrics import reference_rules as ref
from xltt_plugin.metrics import mlqa_em_f1
from xltt_plugin.metrics.mlqa_em_f1 import MlqaEmAndF1, merge_totals, summarize_totals
from xltt_plugin.metrics.normalization import UnknownLanguageError


def test_registered_and_constructible_from_params() -> None:
    metric = Metric.from_params(Params({"type": "mlqa_em_f1", "mode": "squad"}))
    assert isinstance(metric, MlqaEmAndF1)
    assert MlqaEmAndF1.supports_distributed
    with pytest.raises(ValueError, match="unknown scoring mode"):
        MlqaEmAndF1(mode="tydi")


def test_per_language_micro_and_macro_hand_worked() -> None:
    metric = MlqaEmAndF1()
    # en: one exact match (after article/punctuation removal) and one F1 of 0.8.
    metric(["The red dog.", "the big red dog"], [["red dog"], ["red dog", "cat"]], "en")
    # es: "la casa" == "casa" (Spanish article); zh: 北京大学 vs 北京 -> F1 2/3.
    metric(["la casa", "北京大学"], [["casa"], ["北京"]], ["es", "zh"])
    report = metric.get_metric()
    expected = {
        "em_en": 0.5,
        "f1_en": (1.0 + 0.8) / 2,
        "em_es": 1.0,
        "f1_es": 1.0,
        "em_zh": 0.0,
        "f1_zh": 2 / 3,
        "em": 2 / 4,  # micro: 2 exact matches out of 4 questions
        "f1": (1.0 + 0.8 + 1.0 + 2 / 3) / 4,
        "em_avg": (0.5 + 1.0 + 0.0) / 3,  # macro over en, es, zh
        "f1_avg": (0.9 + 1.0 + 2 / 3) / 3,
    }
    assert report.keys() == expected.keys()
    for key, value in expected.items():
        assert report[key] == pytest.approx(value, abs=1e-12), key


def test_single_question_call_and_reset() -> None:
    metric = MlqaEmAndF1()
    metric("Paris", ["Paris", "paris, France"], "en")
    assert metric.get_metric(reset=True)["em"] == 1.0
    assert metric.get_metric() == {"em": 0.0, "f1": 0.0, "em_avg": 0.0, "f1_avg": 0.0}


def test_squad_mode_ignores_language_rules() -> None:
    mlqa, squad = MlqaEmAndF1("mlqa"), MlqaEmAndF1("squad")
    for metric in (mlqa, squad):
        metric(["¿la casa?"], [["casa"]], ["es"])
    assert mlqa.get_metric()["em_es"] == 1.0
    assert squad.get_metric()["em_es"] == 0.0
    # [¿la, casa] vs [casa]: P = 1/2, R = 1, F1 = 2/3.
    assert squad.get_metric()["f1_es"] == pytest.approx(2 / 3, abs=1e-12)
    squad(["x"], [["x"]], ["fr"])  # any label in squad mode
    assert squad.get_metric()["em_fr"] == 1.0


def test_bad_inputs() -> None:
    metric = MlqaEmAndF1()
    with pytest.raises(ValueError, match="one of each per question"):
        metric(["a", "b"], [["a"]], "en")
    with pytest.raises(TypeError, match="list of strings per question"):
        metric(["a", "b"], ["a", "b"], "en")
    with pytest.raises(UnknownLanguageError, match="'fr'"):
        metric(["a"], [["a"]], ["fr"])
    with pytest.raises(ValueError, match="no gold answers"):
        metric(["a"], [[]], ["en"])


def test_micro_average_matches_reference_rules() -> None:
    predictions = ["El Niño", "der Hund", "ال كتاب", "北京 大学", "của tôi", "x y z", ""]
    golds = [["niño"], ["Hund", "Katze"], ["الكتاب"], ["北京大学"], ["tôi"], ["x"], ["y"]]
    languages = ["es", "de", "ar", "zh", "vi", "hi", "en"]
    metric = MlqaEmAndF1()
    metric(predictions, golds, languages)
    scores = [
        ref.em_and_f1(p, g, lang, "mlqa") for p, g, lang in zip(predictions, golds, languages)
    ]
    report = metric.get_metric()
    assert report["em"] == pytest.approx(sum(em for em, _ in scores) / len(scores), abs=1e-12)
    assert report["f1"] == pytest.approx(sum(f1 for _, f1 in scores) / len(scores), abs=1e-12)
    for (em, f1), lang in zip(scores, languages):
        assert report[f"em_{lang}"] == float(em)
        assert report[f"f1_{lang}"] == pytest.approx(f1, abs=1e-12)


def test_merge_totals_with_different_languages_per_worker() -> None:
    worker_0 = {"en": (1.0, 1.5, 2), "de": (0.0, 0.25, 1)}
    worker_1 = {"en": (2.0, 2.5, 3), "zh": (1.0, 1.0, 1)}
    worker_2: dict[str, tuple[float, float, int]] = {}
    merged = merge_totals([worker_0, worker_1, worker_2])
    assert merged == {"en": (3.0, 4.0, 5), "de": (0.0, 0.25, 1), "zh": (1.0, 1.0, 1)}
    report = summarize_totals(merged)
    assert report["em"] == pytest.approx(4 / 7)
    assert report["f1"] == pytest.approx(5.25 / 7)
    assert report["em_avg"] == pytest.approx((3 / 5 + 0 + 1) / 3)
    assert report["f1_avg"] == pytest.approx((4 / 5 + 0.25 + 1) / 3)


def test_distributed_get_metric_equals_single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two simulated workers, each scoring half of the questions, report the global numbers."""
    questions = [
        ("The red dog.", ["red dog"], "en"),
        ("la casa", ["casa"], "es"),
        ("北京大学", ["北京"], "zh"),
        ("der Mann", ["Frau"], "de"),
        ("big dog", ["red dog"], "en"),
    ]
    single = MlqaEmAndF1()
    workers = [MlqaEmAndF1(), MlqaEmAndF1()]
    for index, (prediction, golds, lang) in enumerate(questions):
        single([prediction], [golds], [lang])
        workers[index % 2]([prediction], [golds], [lang])  # worker 1 never sees es/zh

    expected = single.get_metric()
    states = [dict(worker._totals) for worker in workers]

    def fake_all_gather_object(output: list[Any], obj: Any) -> None:
        assert obj in states  # the worker sends its own totals
        output[:] = states

    monkeypatch.setattr(mlqa_em_f1, "is_distributed", lambda: True)
    monkeypatch.setattr(mlqa_em_f1.dist, "get_world_size", lambda: 2)
    monkeypatch.setattr(mlqa_em_f1.dist, "all_gather_object", fake_all_gather_object)
    for worker in workers:
        report = worker.get_metric(reset=True)
        assert report.keys() == expected.keys()
        for key in expected:
            assert report[key] == pytest.approx(expected[key], abs=1e-12), key
    assert all(worker._totals == {} for worker in workers)
