import json
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.data import DataLoader, DatasetReader, Instance
from allennlp.data.data_loaders.multitask_data_loader import MultiTaskDataLoader
from allennlp.data.data_loaders.multitask_scheduler import RoundRobinScheduler
from allennlp.data.dataset_readers.multitask import MultiTaskDatasetReader
from allennlp.data.fields import MetadataField

from xltt_plugin.training import task_weights as task_weights_module
from xltt_plugin.training.task_similarity import task_similarity
from xltt_plugin.training.task_similarity_sampler import TaskSimilaritySampler
from xltt_plugin.training.task_weights import TaskWeights, clear_cache


class TinyReader(DatasetReader):
    """`size` instances, each tagged with the reader's own name (to check the task tag)."""

    def __init__(self, origin: str, size: int) -> None:
        super().__init__()
        self.origin = origin
        self.size = size

    def _read(self, file_path: str) -> Iterator[Instance]:
        for index in range(self.size):
            yield Instance({"origin": MetadataField(self.origin), "index": MetadataField(index)})


SIZES = {"squad": 7, "cmrc": 11, "drcd": 13}


def multitask_reader() -> MultiTaskDatasetReader:
    return MultiTaskDatasetReader({name: TinyReader(name, size) for name, size in SIZES.items()})


def count_tasks(loader: MultiTaskDataLoader, epochs: int) -> tuple[list[Counter], Counter]:
    per_epoch = []
    for _ in range(epochs):
        counts: Counter = Counter()
        for batch in loader:
            # the multitask reader's tag must be the instance's own data set
            assert batch["task"] == batch["origin"]
            counts.update(batch["task"])
        per_epoch.append(counts)
    total: Counter = sum(per_epoch, Counter())
    return per_epoch, total


def squad_file(path: Path, questions: list[str]) -> str:
    qas = [{"id": f"{path.stem}-{i}", "question": q} for i, q in enumerate(questions)]
    path.write_text(json.dumps({"data": [{"paragraphs": [{"context": "c", "qas": qas}]}]}))
    return str(path)


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_cache()
    yield
    clear_cache()


def test_precomputed_weights_through_multitask_data_loader():
    raw = {"squad": 5.0, "cmrc": 3.0, "drcd": 2.0}
    per_epoch_size, epochs = 999, 12
    loader = MultiTaskDataLoader(
        multitask_reader(),
        data_path={name: "unused" for name in SIZES},
        scheduler=RoundRobinScheduler(batch_size=32),
        sampler=TaskSimilaritySampler(TaskWeights(weights=raw)),
        instances_per_epoch=per_epoch_size,
    )
    per_epoch, total = count_tasks(loader, epochs)
    share = {name: value / sum(raw.values()) for name, value in raw.items()}
    # AllenNLP takes floor(share * instances_per_epoch) of each task every epoch
    for counts in per_epoch:
        assert dict(counts) == {name: math.floor(s * per_epoch_size) for name, s in share.items()}
    grand_total = sum(total.values())
    assert grand_total == epochs * (499 + 299 + 199)
    for name, s in share.items():
        assert total[name] / grand_total == pytest.approx(s, abs=2 / per_epoch_size)


def test_weights_from_files_via_from_params(tmp_path: Path):
    target = squad_file(tmp_path / "target.json", ["who won the cup", "where is the cup"])
    paths = {
        "squad": squad_file(tmp_path / "squad.json", ["who won the cup", "who lost the cup"]),
        "cmrc": squad_file(tmp_path / "cmrc.json", ["where is the river"]),
        "drcd": squad_file(tmp_path / "drcd.json", ["what year was it"]),
    }
    weights_params = {"target_path": target, "source_paths": paths, "temperature": 0.1}
    loader = DataLoader.from_params(
        Params(
            {
                "type": "multitask",
                "scheduler": {"type": "roundrobin", "batch_size": 16},
                "sampler": {"type": "task_similarity", "task_weights": dict(weights_params)},
                "instances_per_epoch": 600,
            }
        ),
        reader=multitask_reader(),
        data_path={name: "unused" for name in SIZES},
    )
    assert isinstance(loader, MultiTaskDataLoader)
    assert isinstance(loader.sampler, TaskSimilaritySampler)
    expected = task_similarity(
        {
            "squad": ["who won the cup", "who lost the cup"],
            "cmrc": ["where is the river"],
            "drcd": ["what year was it"],
        },
        ["who won the cup", "where is the cup"],
        temperature=0.1,
    ).weights
    assert loader.sampler.weights == pytest.approx(expected)
    assert expected["squad"] > expected["cmrc"] > expected["drcd"]

    _, total = count_tasks(loader, epochs=10)
    grand_total = sum(total.values())
    for name, weight in expected.items():
        assert total[name] / grand_total == pytest.approx(weight, abs=3 / 600)

    # The model's copy of the same settings: the same weights, looked up by each batch's tag.
    model_weights = TaskWeights.from_params(Params(dict(weights_params))).as_dict()
    batch = next(iter(loader))
    assert [model_weights[task] for task in batch["task"]] == pytest.approx(
        [expected[task] for task in batch["task"]]
    )


def test_missing_task_weight_is_a_configuration_error():
    sampler = TaskSimilaritySampler(TaskWeights(weights={"squad": 1.0, "cmrc": 1.0}))
    with pytest.raises(ConfigurationError, match="drcd"):
        sampler.get_task_proportions({name: None for name in SIZES})  # type: ignore[misc]
    # extra weights are ignored and the rest renormalised
    assert sampler.get_task_proportions({"squad": None}) == {"squad": 1.0}  # type: ignore[dict-item]
    sampler.update_from_epoch_metrics({"validation_f1": 1.0})  # a no-op, not an error


def test_sampler_computes_at_construction(tmp_path: Path):
    weights = TaskWeights(
        target_path=str(tmp_path / "absent_target.json"),
        source_paths={"squad": squad_file(tmp_path / "s.json", ["who won"])},
    )  # lazy: nothing read yet
    with pytest.raises(ConfigurationError, match=r"absent_target\.json"):
        TaskSimilaritySampler(weights)

    broken = tmp_path / "broken.json"
    broken.write_text("{")
    weights = TaskWeights(target_path=str(broken), source_paths={"squad": str(broken)})
    with pytest.raises(ConfigurationError, match=r"broken\.json: malformed JSON"):
        TaskSimilaritySampler(weights)


def test_task_weights_argument_rules(tmp_path: Path):
    path = squad_file(tmp_path / "s.json", ["who won"])
    with pytest.raises(ConfigurationError, match="either"):
        TaskWeights()
    with pytest.raises(ConfigurationError, match="not both"):
        TaskWeights(weights={"a": 1.0}, target_path=path, source_paths={"a": path})
    with pytest.raises(ConfigurationError, match="together"):
        TaskWeights(target_path=path)
    with pytest.raises(ConfigurationError, match="together"):
        TaskWeights(source_paths={"a": path})
    with pytest.raises(ConfigurationError, match="temperature"):
        TaskWeights(target_path=path, source_paths={"a": path}, temperature=0.0)
    with pytest.raises(ConfigurationError, match="ngram_range"):
        TaskWeights(target_path=path, source_paths={"a": path}, ngram_range=(2, 1))
    with pytest.raises(ConfigurationError, match="'b'"):
        TaskWeights(weights={"a": 1.0, "b": -1.0})
    with pytest.raises(ConfigurationError, match="zero"):
        TaskWeights(weights={"a": 0.0})

    given = TaskWeights(weights={"a": 2, "b": 1})
    assert given.as_dict() == {"a": 2.0, "b": 1.0}
    assert given.cosines() is None


def test_task_weights_cache_computes_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = squad_file(tmp_path / "t.json", ["who won it"])
    sources = {
        "a": squad_file(tmp_path / "a.json", ["who won", "who lost"]),
        "b": squad_file(tmp_path / "b.json", ["where is it"]),
    }
    calls = []
    real = task_weights_module.task_similarity_from_files

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(task_weights_module, "task_similarity_from_files", counting)
    # as a config would build them: once for the sampler, once for the model
    params = {"target_path": target, "source_paths": sources, "ngram_range": [1, 1]}
    sampler_copy = TaskWeights.from_params(Params(dict(params)))
    model_copy = TaskWeights.from_params(Params(dict(params)))
    assert calls == []  # lazy
    assert sampler_copy.as_dict() == model_copy.as_dict()
    assert model_copy.cosines() == sampler_copy.cosines()
    assert len(calls) == 1
    expected = task_similarity({"a": ["who won", "who lost"], "b": ["where is it"]}, ["who won it"])
    assert model_copy.cosines() == pytest.approx(expected.cosine)
    assert model_copy.as_dict() == pytest.approx(expected.weights)

    TaskWeights(target_path=target, source_paths=sources, temperature=0.5).as_dict()
    assert len(calls) == 2  # other settings: computed again
    # an edited file is not served from the cache
    squad_file(tmp_path / "b.json", ["who is it", "where won"])
    TaskWeights(target_path=target, source_paths=sources).as_dict()
    assert len(calls) == 3
