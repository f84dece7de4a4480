"""The `xltt` predictor in test modes `self` and `translated` (design README §7)."""

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.data import Vocabulary
from allennlp.models import Model

from xltt_plugin.data.squad_loading import SquadFormatError, read_squad_questions
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
from xltt_plugin.data.xltt_translated_reader import XlttTranslatedReader
from xltt_plugin.predictors.xltt_predictor import XlttPredictor

ROOT = Path(__file__).resolve().parents[2]
MODEL = str(ROOT / "fixtures" / "tiny-xlmr")
PARALLEL = ROOT / "fixtures" / "data" / "parallel"
TARGET = str(PARALLEL / "squad_en.json")
FILES = {"ja": str(PARALLEL / "squad_ja.json"), "ko": str(PARALLEL / "squad_ko.json")}
SETTINGS: dict[str, Any] = {"length_limit": 96, "stride": 48, "max_query_length": 32}


@pytest.fixture(scope="module")
def model() -> Model:
    torch.manual_seed(0)
    params = {
        "type": "xltt",
        "transformer_model_name": MODEL,
        "num_parallel": 2,
        "maa": {"num_heads": 1, "fusion_init_std": 1.0},
    }
    return Model.from_params(vocab=Vocabulary(), params=Params(params)).eval()


@pytest.fixture(scope="module")
def plain(model: Model) -> XlttPredictor:
    return XlttPredictor(model, XlttSquadReader(MODEL, language="en", **SETTINGS))


@pytest.fixture(scope="module")
def translated(model: Model) -> XlttPredictor:
    reader = XlttTranslatedReader(MODEL, language="en", parallel_files=FILES, **SETTINGS)
    return XlttPredictor(model, reader)


def json_lines() -> list[dict[str, Any]]:
    """Each target question as a JSON line with its translations (ko lacks sq-013)."""
    by_language = {lang: {q.qid: q for q in read_squad_questions(p)} for lang, p in FILES.items()}
    lines = []
    for question in read_squad_questions(TARGET):
        parallel = [
            {"question": q.question, "context": q.context, "language": lang}
            for lang in ("ja", "ko")
            if (q := by_language[lang].get(question.qid)) is not None
        ]
        lines.append(
            {
                "id": question.qid,
                "question": question.question,
                "context": question.context,
                "language": "en",
                "parallel": parallel,
            }
        )
    return lines


def test_json_lines_in_both_modes_say_their_mode(plain: XlttPredictor) -> None:
    lines = json_lines()
    translated = plain.predict_batch_json(lines)
    alone = plain.predict_batch_json(
        [{k: v for k, v in r.items() if k != "parallel"} for r in lines]
    )
    for line, with_t, without in zip(lines, translated, alone):
        assert with_t["id"] == without["id"] == line["id"]
        assert with_t["best_span_str"] in line["context"]  # from the target passage
        assert without["test_mode"] == "self" and "slot_modes" not in without
        assert with_t["test_mode"] == "translated: ja,ko"
        expected_ko = "self" if line["id"] == "sq-013" else "translated"
        assert with_t["slot_modes"] == {"ja": "translated", "ko": expected_ko}
    # The translations change some answer scores (the slots reach the model).
    assert [r["best_span_score"] for r in translated] != [r["best_span_score"] for r in alone]


def test_squad_file_with_translation_files_matches_json_lines(
    translated: XlttPredictor, plain: XlttPredictor, tmp_path: Path
) -> None:
    from_lines = {r["id"]: r["best_span_str"] for r in plain.predict_batch_json(json_lines())}
    from_file = translated.predict_squad_file(TARGET, "en")
    assert from_file == from_lines
    # Gold answers of the target play no part: the same answers without them.
    content = json.loads(Path(TARGET).read_text(encoding="utf-8"))
    for article in content["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                qa["answers"] = []
    bare = tmp_path / "squad_en.json"
    bare.write_text(json.dumps(content), encoding="utf-8")
    assert translated.predict_squad_file(str(bare), "en") == from_file
    # In self mode the file gives other answers for some question (same model).
    assert plain.predict_squad_file(TARGET, "en") != from_file


def test_slot_errors_name_the_input(plain: XlttPredictor, translated: XlttPredictor) -> None:
    line = json_lines()[0]
    three = dict(line, parallel=[*line["parallel"], dict(line["parallel"][0], language="zh")])
    with pytest.raises(ConfigurationError, match=r"'sq-001'.*\['zh'\] are not among"):
        plain.predict_json(three)
    with pytest.raises(ConfigurationError, match=r"'sq-001'.*\['zh'\] are not among"):
        translated.predict_json(dict(line, parallel=[dict(line["parallel"][0], language="zh")]))
    reader = XlttTranslatedReader(
        MODEL, language="en", parallel_languages=["ja", "ko", "zh"], **SETTINGS
    )
    wider = XlttPredictor(translated._model, reader)
    with pytest.raises(ConfigurationError, match=r"'sq-001'.*3 parallel slot.*trained with 2"):
        wider.predict_json(three)
    twice = dict(line, parallel=[line["parallel"][0], line["parallel"][0]])
    with pytest.raises(SquadFormatError, match=r"'sq-001'.*given twice"):
        plain.predict_json(twice)
    with pytest.raises(SquadFormatError, match=r"parallel\[0\]"):
        plain.predict_json(dict(line, parallel=[{"question": "q"}]))


def test_a_missing_language_falls_back_for_that_slot(translated: XlttPredictor) -> None:
    line = json_lines()[0]
    only_ja = dict(line, parallel=[p for p in line["parallel"] if p["language"] == "ja"])
    result = translated.predict_json(only_ja)
    assert result["slot_modes"] == {"ja": "translated", "ko": "self"}
    assert result["best_span_str"] in line["context"]
    # A line without translations is answered in mode self by the same predictor.
    alone = translated.predict_json({k: v for k, v in line.items() if k != "parallel"})
    assert alone["test_mode"] == "self" and "slot_modes" not in alone
