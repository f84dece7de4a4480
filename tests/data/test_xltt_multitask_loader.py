"""
`xltt_multitask`: its `len()` is the number of batches one epoch yields (AllenNLP 2.10's
`multitask` counts `instances_per_epoch` once per task), an epoch holds exactly
`instances_per_epoch` instances, and each distributed worker draws an equal share.
"""

import copy
import multiprocessing
import queue
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import torch.distributed as dist
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.data import DataLoader, DatasetReader, Instance
from allennlp.data.dataset_readers.multitask import MultiTaskDatasetReader
from allennlp.data.fields import MetadataField

import xltt_plugin  # noqa: F401  (registers the loader, the sampler and the readers)
from xltt_plugin.data import xltt_multitask_loader
from xltt_plugin.data.xltt_multitask_loader import instances_per_task

SIZES = {"squad": 7, "cmrc2018": 11, "drcd": 13}
WEIGHTS = {"squad": 0.5, "cmrc2018": 0.3, "drcd": 0.2}


class TinyReader(DatasetReader):
    """`size` instances tagged with the reader's name and their index."""

    def __init__(self, origin: str, size: int) -> None:
        super().__init__()
        self.origin = origin
        self.size = size

    def _read(self, file_path: str) -> Iterator[Instance]:
        for index in range(self.size):
            yield Instance({"origin": MetadataField(self.origin), "index": MetadataField(index)})


def build_loader(loader_type: str = "xltt_multitask", **params: Any) -> DataLoader:
    reader = MultiTaskDatasetReader({name: TinyReader(name, n) for name, n in SIZES.items()})
    config = {
        "type": loader_type,
        "scheduler": {"type": "homogeneous_roundrobin", "batch_size": 4},
        "sampler": {"type": "task_similarity", "task_weights": {"weights": WEIGHTS}},
        **params,
    }
    return DataLoader.from_params(
        params=Params(copy.deepcopy(config)),
        reader=reader,
        data_path={name: name for name in SIZES},
    )


def epoch(loader: DataLoader) -> tuple[int, Counter]:
    batches, tasks = 0, Counter()
    for batch in loader:
        batches += 1
        tasks.update(batch["task"])
    return batches, tasks


def test_instances_per_task_hand_worked() -> None:
    # shares 3.5 / 2.1 / 1.4 -> floors 3 / 2 / 1, the one left over goes to the largest
    # fractional part (squad's .5)
    assert instances_per_task({"a": 0.5, "b": 0.3, "c": 0.2}, 7) == {"a": 4, "b": 2, "c": 1}
    # shares 2.5 / 2.5 / 0 -> one left over; the tie goes to the earlier task
    assert instances_per_task({"a": 1, "b": 1, "c": 0}, 5) == {"a": 3, "b": 2, "c": 0}
    assert instances_per_task({"a": 2, "b": 1}, 0) == {"a": 0, "b": 0}
    with pytest.raises(ConfigurationError, match="sum to zero"):
        instances_per_task({"a": 0.0}, 3)


@pytest.mark.parametrize(
    "scheduler",
    [
        {"type": "homogeneous_roundrobin", "batch_size": 4},
        {"type": "homogeneous_roundrobin", "batch_size": {"squad": 3, "cmrc2018": 4, "drcd": 5}},
        {"type": "homogeneous_roundrobin", "batch_size": 4, "drop_last": True},
        {"type": "roundrobin", "batch_size": 4},
    ],
    ids=["homogeneous", "per_task_batch_size", "drop_last", "roundrobin"],
)
@pytest.mark.parametrize("instances_per_epoch", [30, 31, 5])
def test_len_equals_batches_yielded(scheduler: dict, instances_per_epoch: int) -> None:
    loader = build_loader(scheduler=scheduler, instances_per_epoch=instances_per_epoch)
    for _ in range(3):
        batches, tasks = epoch(loader)
        assert len(loader) == batches
        if not scheduler.get("drop_last"):
            assert sum(tasks.values()) == instances_per_epoch


def test_epoch_counts_hand_worked_and_upstream_over_counts() -> None:
    # 30 instances at .5/.3/.2: 15 / 9 / 6 instances, batches of 4: 4 + 3 + 2 = 9.
    fixed = build_loader(instances_per_epoch=30)
    assert len(fixed) == 9
    assert epoch(fixed) == (9, Counter({"squad": 15, "cmrc2018": 9, "drcd": 6}))
    # AllenNLP's own loader yields the same batches but claims 30 instances for each task.
    upstream = build_loader("multitask", instances_per_epoch=30)
    assert epoch(upstream)[0] == 9
    assert len(upstream) == 3 * 8


def test_without_instances_per_epoch_every_instance_once() -> None:
    loader = build_loader()
    batches, tasks = epoch(loader)
    assert tasks == Counter(SIZES)
    assert len(loader) == batches == 2 + 3 + 4


def test_worker_share_under_a_stand_in_world_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xltt_multitask_loader, "world_size", lambda: 4)
    loader = build_loader(instances_per_epoch=30)
    # 30 // 4 = 7 per worker: shares 3.5 / 2.1 / 1.4 -> 4 / 2 / 1 -> batches 1 + 1 + 1
    assert loader.instances_per_task() == {"squad": 4, "cmrc2018": 2, "drcd": 1}
    assert len(loader) == 3
    monkeypatch.setattr(xltt_multitask_loader, "world_size", lambda: 31)
    with pytest.raises(ConfigurationError, match="31 distributed workers"):
        len(build_loader(instances_per_epoch=30))


def _distributed_worker(rank: int, world: int, init_file: str, results: Any) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        loader = build_loader(instances_per_epoch=30)
        report = []
        for _ in range(3):
            batches = [list(zip(b["task"], b["index"])) for b in loader]
            drawn = [pair for batch in batches for pair in batch]
            report.append((len(loader), len(batches), Counter(t for t, _ in drawn), set(drawn)))
        results.put((rank, report))
    finally:
        dist.destroy_process_group()


def test_two_gloo_workers_draw_equal_shares(tmp_path: Any) -> None:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_distributed_worker, args=(rank, 2, str(tmp_path / "pg"), results))
        for rank in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        reports = dict(results.get(timeout=120) for _ in workers)
    except queue.Empty:
        pytest.fail("the gloo workers did not report")
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    assert all(worker.exitcode == 0 for worker in workers)
    for rank in range(2):
        for claimed, yielded, tasks, _ in reports[rank]:
            # 15 per worker: shares 7.5 / 4.5 / 3 -> 8 / 4 / 3 (tie to the earlier task),
            # batches of 4: 2 + 1 + 1
            assert (claimed, yielded) == (4, 4)
            assert tasks == Counter({"squad": 8, "cmrc2018": 4, "drcd": 3})
    # Each worker draws from its own shard: no instance on both in the same epoch.
    for epoch_index in range(3):
        assert not reports[0][epoch_index][3] & reports[1][epoch_index][3]
