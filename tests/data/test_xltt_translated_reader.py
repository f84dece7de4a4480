import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.data import DatasetReader, Instance

from xltt_plugin.data.squad_loading import read_squad_questions
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
from xltt_plugin.data.xltt_translated_reader import XlttTranslatedReader

ROOT = Path(__file__).resolve().parents[2]
MODEL = str(ROOT / "fixtures" / "tiny-xlmr")
PARALLEL = ROOT / "fixtures" / "data" / "parallel"
SETTINGS: dict[str, Any] = {"length_limit": 64, "stride": 16, "max_query_length": 24}
FILES = {"ja": str(PARALLEL / "squad_ja.json"), "ko": str(PARALLEL / "squad_ko.json")}


def metadata_of(instance: Instance) -> dict:
    return instance["metadata"].metadata  # type: ignore[attr-defined]


def token_ids(field: Any) -> list[int]:
    return [t.text_id for t in field.tokens]


def reader(**extra: Any) -> XlttTranslatedReader:
    return XlttTranslatedReader(MODEL, language="en", parallel_files=FILES, **SETTINGS, **extra)


def strip_answers(path: str, out: Path) -> str:
    """A copy of a SQuAD file with no answers at all."""
    content = json.loads(Path(path).read_text(encoding="utf-8"))
    for article in content["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                qa["answers"] = []
    out.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return str(out)


@pytest.fixture(scope="module")
def read() -> tuple[XlttTranslatedReader, list[Instance]]:
    test_reader = reader()
    return test_reader, list(test_reader.read(str(PARALLEL / "squad_en.json")))


def windows_alone(language: str) -> dict[tuple[str, int], Instance]:
    """Each window of a language's file as `xltt_squad` makes it: (id, window) -> instance."""
    alone = XlttSquadReader(MODEL, language=language, **SETTINGS)
    path = PARALLEL / f"squad_{language}.json"
    return {
        (metadata_of(i)["id"], metadata_of(i)["window_index"]): i for i in alone.read(str(path))
    }


def test_registered_and_built_from_params() -> None:
    built = DatasetReader.from_params(
        Params(
            {
                "type": "xltt_translated",
                "transformer_model_name": MODEL,
                "parallel_files": FILES,
                **SETTINGS,
            }
        )
    )
    assert isinstance(built, XlttTranslatedReader)
    assert built.test_mode == "translated: ja,ko"


def test_target_windows_with_translations_by_relative_position(read) -> None:
    _, instances = read
    pivot = windows_alone("en")
    alone = {language: windows_alone(language) for language in ("ja", "ko")}
    assert len(instances) == len(pivot)  # one per target window, none dropped
    long_question_seen = False
    for instance in instances:
        metadata = metadata_of(instance)
        qid, window = metadata["id"], metadata["window_index"]
        # The pivot is the target exactly as xltt_squad reads it (the answer comes from it).
        assert token_ids(instance["question_with_context"]) == token_ids(
            pivot[(qid, window)]["question_with_context"]
        )
        assert metadata["test_mode"] == "translated: ja,ko"
        assert metadata["translation_files"] == FILES
        # No slot carries a gold span, whatever the translation files hold.
        assert not instance["parallel_has_answer"].tensor.any()  # type: ignore[attr-defined]
        for slot, language in enumerate(("ja", "ko")):
            text = instance["parallel_question_with_context"][slot]  # type: ignore[index]
            if (qid, 0) not in alone[language]:
                continue
            n_t = sum(1 for key in alone[language] if key[0] == qid)
            expected = min(window * n_t // metadata["num_windows"], n_t - 1)
            long_question_seen = long_question_seen or metadata["num_windows"] > 1
            assert token_ids(text) == token_ids(
                alone[language][(qid, expected)]["question_with_context"]
            ), (qid, window, language)
    assert long_question_seen, "the fixture should have a question with several windows"


def test_missing_translation_falls_back_to_self_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    test_reader = reader()
    with caplog.at_level(logging.WARNING):
        instances = list(test_reader.read(str(PARALLEL / "squad_en.json")))
    ids = [metadata_of(i)["id"] for i in instances]
    assert "sq-013" in ids  # squad_ko.json lacks sq-013: still a question, not dropped
    for instance in instances:
        metadata = metadata_of(instance)
        mask = instance["parallel_mask"].tensor.tolist()  # type: ignore[attr-defined]
        if metadata["id"] == "sq-013":
            assert mask == [True, False]
            assert metadata["slot_modes"] == ["translated", "self"]
            # the ko slot holds the target itself
            assert token_ids(instance["parallel_question_with_context"][1]) == token_ids(  # type: ignore[index]
                instance["question_with_context"]
            )
        else:
            assert mask == [True, True]
    stats = test_reader.last_read_stats
    assert stats is not None
    assert stats.translations["ko"]["missing_question"] == 1  # counted per question
    assert stats.translations["ja"]["missing_question"] == 0
    warned = [r.getMessage() for r in caplog.records if "sq-013" in r.getMessage()]
    assert warned and FILES["ko"] in warned[0] and "self-transposition" in warned[0]


def test_no_gold_answer_changes_any_input(read, tmp_path: Path) -> None:
    """Answers removed from the target and from the translations: the same model inputs."""
    _, instances = read
    target = strip_answers(str(PARALLEL / "squad_en.json"), tmp_path / "squad_en.json")
    files = {
        lang: strip_answers(path, tmp_path / f"squad_{lang}.json") for lang, path in FILES.items()
    }
    bare = XlttTranslatedReader(MODEL, language="en", parallel_files=files, **SETTINGS)
    again = list(bare.read(target))
    assert len(again) == len(instances)
    for first, second in zip(instances, again):
        assert token_ids(first["question_with_context"]) == token_ids(
            second["question_with_context"]
        )
        for a, b in zip(
            first["parallel_question_with_context"],  # type: ignore[arg-type]
            second["parallel_question_with_context"],  # type: ignore[arg-type]
        ):
            assert token_ids(a) == token_ids(b)
        assert first["parallel_mask"].tensor.tolist() == second["parallel_mask"].tensor.tolist()  # type: ignore[attr-defined]


def test_translation_of_another_file_is_an_error(tmp_path: Path) -> None:
    other = json.loads((PARALLEL / "squad_ja.json").read_text(encoding="utf-8"))
    for article in other["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                qa["id"] = "other-" + qa["id"]
    path = tmp_path / "other_ja.json"
    path.write_text(json.dumps(other, ensure_ascii=False), encoding="utf-8")
    bad = XlttTranslatedReader(
        MODEL, language="en", parallel_files={**FILES, "ja": str(path)}, **SETTINGS
    )
    with pytest.raises(ConfigurationError, match="shares no question id") as error:
        list(bad.read(str(PARALLEL / "squad_en.json")))
    assert str(path) in str(error.value) and "other-sq-001" in str(error.value)


def test_ids_absent_from_the_target_are_a_warning_naming_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    content = json.loads((PARALLEL / "squad_ja.json").read_text(encoding="utf-8"))
    content["data"][0]["paragraphs"][0]["qas"][0]["id"] = "stray-1"
    path = tmp_path / "squad_ja.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    test_reader = XlttTranslatedReader(
        MODEL, language="en", parallel_files={**FILES, "ja": str(path)}, **SETTINGS
    )
    with caplog.at_level(logging.WARNING):
        list(test_reader.read(str(PARALLEL / "squad_en.json")))
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "'stray-1'" in messages and str(path) in messages
    assert test_reader.last_read_stats.translations["ja"]["not_in_target"] == 1  # type: ignore[union-attr]


def test_slot_language_mismatch_by_file_name(tmp_path: Path) -> None:
    named_ko = tmp_path / "xquad.ko.json"
    shutil.copy(PARALLEL / "squad_ja.json", named_ko)
    bad = XlttTranslatedReader(
        MODEL, language="en", parallel_files={**FILES, "ja": str(named_ko)}, **SETTINGS
    )
    with pytest.raises(ConfigurationError, match="name says 'ko'") as error:
        list(bad.read(str(PARALLEL / "squad_en.json")))
    assert str(named_ko) in str(error.value)


def test_never_drops_questions() -> None:
    with pytest.raises(ConfigurationError, match="never drops"):
        reader(skip_impossible_questions=True)


def test_question_instances_for_prediction_match_reading(read) -> None:
    """The in-memory path (predictor) gives the same instances as reading the files."""
    _, instances = read
    plain = XlttSquadReader(MODEL, language="en", **SETTINGS)
    built = XlttTranslatedReader.from_reader(plain, ["ja", "ko"])
    translations = {
        lang: {q.qid: q for q in read_squad_questions(path)} for lang, path in FILES.items()
    }
    by_id: dict[str, list[Instance]] = {}
    for instance in instances:
        by_id.setdefault(metadata_of(instance)["id"], []).append(instance)
    for question in read_squad_questions(str(PARALLEL / "squad_en.json")):
        made = built.question_instances(
            question, [translations[lang].get(question.qid) for lang in ("ja", "ko")], "en"
        )
        assert len(made) == len(by_id[question.qid])
        for a, b in zip(made, by_id[question.qid]):
            for x, y in zip(
                a["parallel_question_with_context"],  # type: ignore[arg-type]
                b["parallel_question_with_context"],  # type: ignore[arg-type]
            ):
                assert token_ids(x) == token_ids(y)
            assert a["parallel_mask"].tensor.tolist() == b["parallel_mask"].tensor.tolist()  # type: ignore[attr-defined]
