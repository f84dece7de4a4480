import copy
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from allennlp.common.checks import ConfigurationError
from allennlp.data import Batch, Instance, Vocabulary
from allennlp.data.dataset_readers.dataset_reader import WorkerInfo

from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader, translation_path
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader

ROOT = Path(__file__).resolve().parents[2]
MODEL = str(ROOT / "fixtures" / "tiny-xlmr")
PARALLEL = ROOT / "fixtures" / "data" / "parallel"
XQUAD = ROOT / ".." / "shared" / "data" / "xquad"

SETTINGS: dict[str, Any] = {"length_limit": 128, "stride": 32, "max_query_length": 32}


def pivot_path() -> str:
    path = PARALLEL / "squad_en.json"
    if not all((PARALLEL / f"squad_{lang}.json").exists() for lang in ("en", "ja", "ko")):
        pytest.skip("fixtures/data/parallel is not present")
    return str(path)


def gold(path: Path) -> dict[str, dict]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)["data"]
    return {
        qa["id"]: {"context": paragraph["context"], "answers": qa["answers"]}
        for article in data
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }


def metadata_of(instance: Instance) -> dict:
    return instance["metadata"].metadata  # type: ignore[attr-defined]


def span_of(field: Any) -> tuple[int, int]:
    return (field.span_start, field.span_end)


def raw_text(tokens: list, span: tuple[int, int], context: str) -> str:
    """Text under a token span by the tokens' own (raw) offsets, outer whitespace stripped."""
    return context[tokens[span[0]].idx : tokens[span[1]].idx_end].strip()


@pytest.fixture(scope="module", params=["tiny-xlmr", "xlm-r"])
def tokenizer_folder(request: pytest.FixtureRequest) -> str:
    """The tests on `read` and `single_windows` run on the tiny and on XLM-R's real tokenizer."""
    return MODEL if request.param == "tiny-xlmr" else request.getfixturevalue("real_tokenizer")


@pytest.fixture(scope="module")
def read(tokenizer_folder: str) -> tuple[XlttParallelReader, list[Instance]]:
    reader = XlttParallelReader(tokenizer_folder, language="en", **SETTINGS)
    return reader, list(reader.read(pivot_path()))


@pytest.fixture(scope="module")
def single_windows(tokenizer_folder: str) -> dict[str, dict[tuple[str, int], Instance]]:
    """Each language's file read alone by xltt_squad: (id, window) -> instance."""
    pivot_path()
    windows: dict[str, dict[tuple[str, int], Instance]] = {}
    for language in ("en", "ja", "ko"):
        reader = XlttSquadReader(tokenizer_folder, language=language, **SETTINGS)
        windows[language] = {
            (metadata_of(i)["id"], metadata_of(i)["window_index"]): i
            for i in reader.read(str(PARALLEL / f"squad_{language}.json"))
        }
    return windows


def test_one_instance_per_pivot_window_with_the_pivot_fields(read, single_windows) -> None:
    _, instances = read
    pivot = single_windows["en"]
    assert len(instances) == len(pivot)
    for instance in instances:
        metadata = metadata_of(instance)
        alone = pivot[(metadata["id"], metadata["window_index"])]
        assert [t.text_id for t in instance["question_with_context"]] == [
            t.text_id for t in alone["question_with_context"]
        ]
        assert span_of(instance["answer_span"]) == span_of(alone["answer_span"])
        assert span_of(instance["context_span"]) == span_of(alone["context_span"])
        assert metadata["dataset"] == "squad_en"
        assert metadata["parallel_languages"] == ["ja", "ko"]
        assert len(instance["parallel_question_with_context"]) == 2
        assert tuple(instance["parallel_mask"].tensor.shape) == (2,)


def test_translation_windows_and_spans(read, single_windows) -> None:
    """Each slot holds the paired window of that language's own reading, with its spans."""
    _, instances = read
    for instance in instances:
        metadata = metadata_of(instance)
        for slot, language in enumerate(["ja", "ko"]):
            if not metadata["parallel_present"][slot]:
                continue
            text_field = instance["parallel_question_with_context"][slot]
            candidates = {
                window: alone
                for (qid, window), alone in single_windows[language].items()
                if qid == metadata["id"]
            }
            n_t, n_p = len(candidates), metadata["num_windows"]
            ids = [t.text_id for t in text_field.tokens]
            matches = [
                w
                for w, alone in candidates.items()
                if [t.text_id for t in alone["question_with_context"]] == ids
            ]
            assert matches, (metadata["id"], language)
            holding = [w for w, alone in candidates.items() if metadata_of(alone)["has_answer"]]
            if metadata["has_answer"] and holding:
                # Paired with a window holding the translated answer.
                assert any(w in holding for w in matches)
            else:
                relative = metadata["window_index"] * n_t // n_p
                assert relative in matches
            window = matches[0]
            alone = candidates[window]
            assert span_of(instance["parallel_answer_span"][slot]) == span_of(alone["answer_span"])
            assert span_of(instance["parallel_context_span"][slot]) == span_of(
                alone["context_span"]
            )
            assert (
                bool(instance["parallel_has_answer"].tensor[slot])
                == metadata_of(alone)["has_answer"]
            )


def test_documented_defects(read) -> None:
    reader, instances = read
    by_id: dict[str, list[Instance]] = defaultdict(list)
    for instance in instances:
        by_id[metadata_of(instance)["id"]].append(instance)
    ja, ko = gold(PARALLEL / "squad_ja.json"), gold(PARALLEL / "squad_ko.json")

    # ja sq-007: answer text not in the context, answer_start -1 -> present, no span.
    # ja sq-010: no answer at all -> present, no span.
    for qid in ("sq-007", "sq-010"):
        for instance in by_id[qid]:
            assert instance["parallel_mask"].tensor.tolist() == [True, qid != "sq-013"]  # type: ignore[attr-defined]
            assert not instance["parallel_has_answer"].tensor[0]  # type: ignore[attr-defined]
            cls = instance["parallel_question_with_context"][0].tokens.index(  # type: ignore[index]
                instance["parallel_question_with_context"][0].tokens[0]  # type: ignore[index]
            )
            assert span_of(instance["parallel_answer_span"][0]) == (cls, cls)  # type: ignore[index]

    # ko sq-004: answer_start 3 characters off -> found by search, span on the answer.
    answer = ko["sq-004"]["answers"][0]["text"]
    holding = [i for i in by_id["sq-004"] if i["parallel_has_answer"].tensor[1]]  # type: ignore[attr-defined]
    assert holding
    for instance in holding:
        field = instance["parallel_question_with_context"][1]  # type: ignore[index]
        span = span_of(instance["parallel_answer_span"][1])  # type: ignore[index]
        assert raw_text(field.tokens, span, ko["sq-004"]["context"]) == answer

    # ko sq-013: question missing -> slot masked, holding a copy of the pivot window.
    for instance in by_id["sq-013"]:
        assert instance["parallel_mask"].tensor.tolist() == [True, False]  # type: ignore[attr-defined]
        assert metadata_of(instance)["parallel_present"] == [True, False]
        copy = instance["parallel_question_with_context"][1]  # type: ignore[index]
        pivot = instance["question_with_context"]
        assert copy is not pivot and copy.tokens == pivot.tokens  # type: ignore[attr-defined]
        assert span_of(instance["parallel_context_span"][1]) == span_of(instance["context_span"])  # type: ignore[index]
        assert not instance["parallel_has_answer"].tensor[1]  # type: ignore[attr-defined]

    # sq-006: answered late in a long passage; every pivot window holding it is paired with a
    # translation window holding the (shorter) translation's answer.
    for instance in by_id["sq-006"]:
        if metadata_of(instance)["has_answer"]:
            assert instance["parallel_has_answer"].tensor.tolist() == [True, True]  # type: ignore[attr-defined]
            for slot, (language, data) in enumerate((("ja", ja), ("ko", ko))):
                field = instance["parallel_question_with_context"][slot]  # type: ignore[index]
                span = span_of(instance["parallel_answer_span"][slot])  # type: ignore[index]
                expected = data["sq-006"]["answers"][0]["text"]
                assert raw_text(field.tokens, span, data["sq-006"]["context"]) == expected, language

    counts = reader.last_read_stats.translations
    assert (counts["ja"]["answer_not_found"], counts["ja"]["no_answer"]) == (1, 1)
    assert (counts["ko"]["answer_repaired"], counts["ko"]["missing_question"]) == (1, 1)
    assert counts["ja"]["present"] == 13 and counts["ko"]["present"] == 12


def test_pivot_answer_at_its_first_occurrence(read) -> None:
    """sq-003: "Eagle" occurs several times; the span is the gold (first) occurrence."""
    _, instances = read
    en = gold(PARALLEL / "squad_en.json")["sq-003"]
    start = en["answers"][0]["answer_start"]
    for instance in instances:
        metadata = metadata_of(instance)
        if metadata["id"] == "sq-003" and metadata["has_answer"]:
            span = span_of(instance["answer_span"])
            offsets = metadata["token_offsets"]
            assert offsets[span[0]][0] == start
            assert metadata["context"][start : offsets[span[1]][1]] == "Eagle"


def test_instances_batch(read) -> None:
    reader, instances = read
    for instance in instances[:6]:
        reader.apply_token_indexers(instance)
    batch = Batch(instances[:6])
    batch.index_instances(Vocabulary())
    tensors = batch.as_tensor_dict()
    token_ids = tensors["parallel_question_with_context"]["tokens"]["token_ids"]  # type: ignore[index]
    assert token_ids.shape[:2] == (6, 2)
    assert tuple(tensors["parallel_answer_span"].shape) == (6, 2, 2)  # type: ignore[union-attr]
    assert tuple(tensors["parallel_mask"].shape) == (6, 2)  # type: ignore[union-attr]


def test_two_shards_together_give_the_single_reader_instances(read, tokenizer_folder) -> None:
    _, instances = read

    def key(instance: Instance) -> tuple:
        metadata = metadata_of(instance)
        return (
            metadata["id"],
            metadata["window_index"],
            tuple(
                tuple(t.text_id for t in field.tokens)
                for field in instance["parallel_question_with_context"]  # type: ignore[attr-defined]
            ),
            tuple(instance["parallel_mask"].tensor.tolist()),  # type: ignore[attr-defined]
        )

    sharded = []
    for worker in range(2):
        shard = XlttParallelReader(tokenizer_folder, language="en", **SETTINGS)
        shard._set_worker_info(WorkerInfo(num_workers=2, id=worker))
        keys = [key(i) for i in shard.read(pivot_path())]
        assert keys
        sharded.extend(keys)
    assert sorted(sharded) == sorted(key(i) for i in instances)


def test_translation_paths() -> None:
    assert translation_path("d/squad_en.json", "en", "ja") == "d/squad_ja.json"
    assert translation_path("xquad.en.json", "en", "de") == "xquad.de.json"
    assert translation_path("d/english.json", "en", "ja") is None
    reader = XlttParallelReader(MODEL, language="en")
    with pytest.raises(ConfigurationError, match=r"english\.json: cannot derive the ja"):
        list(reader.read("d/english.json"))
    explicit = XlttParallelReader(
        MODEL, language="en", parallel_languages=["ko"], parallel_files={"ko": "x/ko.json"}
    )
    assert explicit.translation_files("d/english.json", "en") == {"ko": "x/ko.json"}


def test_prediction_instances_are_pivot_only() -> None:
    """Without parallel text the model self-transposes; the reader adds no parallel fields."""
    reader = XlttParallelReader(MODEL, language="en", skip_impossible_questions=True)
    instance = reader.text_to_instance("Where?", "The river flows to the sea.", qid="p")
    assert "parallel_question_with_context" not in instance.fields
    assert "answer_span" not in instance.fields
    assert metadata_of(instance)["id"] == "p"


@pytest.mark.skipif(not XQUAD.is_dir(), reason="../shared/data is absent")
def test_real_xquad_parallel() -> None:
    """XQuAD en pivot with de and zh: same ids everywhere, gold spans on all sides."""
    reader = XlttParallelReader(MODEL, parallel_languages=["de", "zh"], max_instances=300)
    instances = list(reader.read(str(XQUAD / "xquad.en.json")))
    assert instances
    assert all(i["parallel_mask"].tensor.all() for i in instances)  # type: ignore[attr-defined]
    holding = [i for i in instances if metadata_of(i)["has_answer"]]
    paired = 0
    for instance in holding:
        paired += int(instance["parallel_has_answer"].tensor.sum())  # type: ignore[attr-defined]
    assert paired >= 0.98 * 2 * len(holding)
    counts = reader.last_read_stats.translations  # type: ignore[union-attr]
    assert counts["de"]["missing_question"] == counts["zh"]["missing_question"] == 0


@pytest.mark.parametrize("reader_type", ["xltt_parallel", "xltt_translated"])
def test_every_registered_parameter_name_works_from_a_config(reader_type: str) -> None:
    """The base reader's parameters reach it through `**kwargs`, from a config as before."""
    from allennlp.common import Params
    from allennlp.data import DatasetReader

    config = {
        "type": reader_type,
        "transformer_model_name": MODEL,
        "parallel_languages": ["ko", "ja"],
        "parallel_files": {"ja": "a.ja.json"},
        "length_limit": 100,
        "stride": 20,
        "max_query_length": 30,
        "language": "en",
        "dataset_name": "squad",
        "skip_impossible_questions": False,
        "max_repair_distance": 7,
        "split_unknown_tokens": False,
        "split_cjk_pieces": True,
        "tokenizer_kwargs": {"use_fast": True},
        "translation_cache_size": 5,
        "max_instances": 3,
    }
    reader = DatasetReader.from_params(Params(copy.deepcopy(config)))  # Params pops its keys
    assert isinstance(reader, XlttParallelReader)
    stored = [
        key for key in config if key not in ("type", "transformer_model_name", "tokenizer_kwargs")
    ]
    assert {key: getattr(reader, key) for key in stored} == {key: config[key] for key in stored}
    assert reader._tokenizer.tokenizer.name_or_path == MODEL
    with pytest.raises(Exception, match="no_such_parameter"):
        DatasetReader.from_params(Params(copy.deepcopy({**config, "no_such_parameter": 1})))
