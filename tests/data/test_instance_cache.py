"""The `xltt_cached` reader: a cached read gives the same tensors and metadata as a fresh read."""

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.data import Batch, Instance, Vocabulary
from allennlp.data.dataset_readers.dataset_reader import DatasetReader, WorkerInfo
from allennlp.data.fields import LabelField, MetadataField

from xltt_plugin.data.instance_cache import CachedDatasetReader, CachedTextField, OffsetList
from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader

ROOT = Path(__file__).resolve().parents[2]
MODEL = str(ROOT / "fixtures" / "tiny-xlmr")
MLQA = str(ROOT / "fixtures" / "data" / "mlqa" / "dev-context-en-question-en.json")
PIVOT = ROOT / "fixtures" / "data" / "parallel" / "squad_en.json"


def squad_reader(**overrides: Any) -> XlttSquadReader:
    settings = {"length_limit": 96, "stride": 48, "max_query_length": 32}
    settings.update(overrides)
    return XlttSquadReader(MODEL, **settings)


def parallel_reader() -> XlttParallelReader:
    return XlttParallelReader(
        MODEL,
        parallel_languages=["ja", "ko"],
        length_limit=96,
        stride=48,
        max_query_length=32,
        language="en",
        dataset_name="squad",
    )


def batch(instances: list[Instance], reader: DatasetReader) -> tuple[dict, Vocabulary]:
    for instance in instances:
        reader.apply_token_indexers(instance)
    vocab = Vocabulary()
    collated = Batch(instances)
    collated.index_instances(vocab)
    return collated.as_tensor_dict(), vocab


def assert_same_tensors(expected: Any, actual: Any, path: str = "") -> None:
    if isinstance(expected, dict):
        assert set(expected) == set(actual), path
        for key in expected:
            assert_same_tensors(expected[key], actual[key], f"{path}/{key}")
    elif isinstance(expected, torch.Tensor):
        assert expected.dtype == actual.dtype, path
        assert torch.equal(expected, actual), path
    else:
        assert expected == actual, path


def read_twice(make_reader: Any, path: str, directory: Path) -> tuple[list, list, list]:
    """A plain read, a first (writing) and a second (cached) read, each with a new reader."""
    plain = list(make_reader().read(path))
    first = list(CachedDatasetReader(make_reader(), str(directory)).read(path))
    second = list(CachedDatasetReader(make_reader(), str(directory)).read(path))
    return plain, first, second


def test_cached_squad_instances_give_the_same_tensors_vocab_and_metadata(tmp_path: Path):
    plain, first, second = read_twice(lambda: squad_reader(language="en"), MLQA, tmp_path)
    assert len(plain) == len(first) == len(second) > 0
    assert isinstance(second[0]["question_with_context"], CachedTextField)
    expected, expected_vocab = batch(plain, squad_reader(language="en"))
    cached, cached_vocab = batch(second, squad_reader(language="en"))
    assert_same_tensors(expected, cached)
    # The indexer copies the tokenizer's vocabulary into the vocabulary in both cases.
    assert cached_vocab.get_vocab_size("tags") == expected_vocab.get_vocab_size("tags") > 0
    for original, restored in zip(plain, second):
        want, got = original["metadata"].metadata, restored["metadata"].metadata
        assert set(want) == set(got)
        for key in want:
            assert got[key] == want[key], key
        assert isinstance(got["token_offsets"], OffsetList)
        assert list(got["token_offsets"]) == want["token_offsets"]
        # token ids and type ids survive, as read off the original tokens
        tokens = original["question_with_context"].tokens
        cached_tokens = restored["question_with_context"].tokens
        assert [t.text_id for t in cached_tokens] == [t.text_id for t in tokens]
        assert [t.type_id for t in cached_tokens] == [t.type_id or 0 for t in tokens]


def test_cached_parallel_instances_give_the_same_tensors(tmp_path: Path):
    plain, _, second = read_twice(parallel_reader, str(PIVOT), tmp_path)
    expected, _ = batch(plain, parallel_reader())
    cached, _ = batch(second, parallel_reader())
    assert {"parallel_question_with_context", "parallel_mask"} <= set(cached)
    assert_same_tensors(expected, cached)


def test_second_read_does_not_tokenise_and_cache_is_json_and_safetensors(tmp_path: Path):
    inner = squad_reader(language="en")
    list(CachedDatasetReader(inner, str(tmp_path)).read(MLQA))
    assert sorted(name.rsplit(".", 1)[1] for name in os.listdir(tmp_path)) == [
        "json",
        "safetensors",
    ]

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the wrapped reader was asked to read again")

    inner._read = fail  # type: ignore[method-assign]
    assert len(list(CachedDatasetReader(inner, str(tmp_path)).read(MLQA))) > 0


def test_a_changed_setting_or_file_is_read_afresh(tmp_path: Path):
    data = tmp_path / "dev-context-en-question-en.json"
    shutil.copy(MLQA, data)
    cache = tmp_path / "cache"
    list(CachedDatasetReader(squad_reader(), str(cache)).read(str(data)))
    list(CachedDatasetReader(squad_reader(stride=32), str(cache)).read(str(data)))
    assert len(os.listdir(cache)) == 4  # two keys, two files each
    os.utime(data, ns=(1, 1))
    list(CachedDatasetReader(squad_reader(), str(cache)).read(str(data)))
    assert len(os.listdir(cache)) == 6


def test_sharded_workers_split_the_cached_instances(tmp_path: Path):
    everything = list(CachedDatasetReader(squad_reader(language="en"), str(tmp_path)).read(MLQA))
    ids = []
    for worker in range(2):
        reader = CachedDatasetReader(squad_reader(language="en"), str(tmp_path))
        reader._set_worker_info(WorkerInfo(2, worker))
        ids.extend((i["metadata"]["id"], i["metadata"]["window_index"]) for i in reader.read(MLQA))
    expected = [(i["metadata"]["id"], i["metadata"]["window_index"]) for i in everything]
    assert sorted(ids) == sorted(expected)


class _OddReader(DatasetReader):
    def _read(self, file_path: str):  # type: ignore[override]
        yield Instance({"x": LabelField("yes"), "m": MetadataField({})})

    def resolve_language(self, file_path: str) -> str:
        return "en"


def test_unsupported_field_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConfigurationError, match=r"dev-context-en-question-en\.json.*'x'"):
        list(CachedDatasetReader(_OddReader(), str(tmp_path)).read(MLQA))


def test_built_from_params(tmp_path: Path):
    reader = DatasetReader.from_params(
        Params(
            {
                "type": "xltt_cached",
                "reader": {"type": "xltt_squad", "transformer_model_name": MODEL},
                "cache_directory": str(tmp_path),
            }
        )
    )
    assert isinstance(reader, CachedDatasetReader)
    assert isinstance(reader.reader, XlttSquadReader)
