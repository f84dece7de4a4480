"""
Distributed training (torch.distributed, gloo, CPU processes): the tiny XLTT configs, the
multi-source `task_similarity` sampler included, train from the CLI with
`"distributed": {"cuda_devices": [-1, -1]}`; the validation `mlqa_em_f1` reduced across the two
workers equals a single-process evaluation of the same model on the same file; the readers
shard questions between ranks and data-loader workers without duplicating or dropping any.

AllenNLP 2.10 ends distributed validation when the first worker runs out of batches (warning
"finishing validation early"): the validation file here gives both workers the same number of
batches, so that the comparison is exact. With unequal shards the larger shard's last batches
are not scored; `allennlp evaluate` (one process) scores everything.
"""

import json
import multiprocessing
import queue
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import torch.distributed as dist
from allennlp.commands import main
from allennlp.common import util as common_util
from allennlp.data.dataset_readers import MultiTaskDatasetReader
from allennlp.data.dataset_readers.dataset_reader import DatasetReader, WorkerInfo

from tests import FIXTURE_DATA, REPO, TINY_XLMR
from tests.reliability.conftest import MULTISOURCE_CONFIG, TINY_CONFIG, run_allennlp
from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader
from xltt_plugin.metrics.mlqa_em_f1 import MlqaEmAndF1

DISTRIBUTED = {"distributed": {"cuda_devices": [-1, -1]}, "trainer.num_epochs": 1}
METRICS = ("em", "f1", "em_en", "f1_en", "em_avg", "f1_avg", "span_acc")


def validation_file(directory: Path) -> tuple[Path, int]:
    """
    32 one-window questions, 16 per worker (one validation batch each). Every empty-context
    question (gold "."; an empty prediction matches it) sits at an even position, so rank 0
    alone would report a different EM than both ranks together.
    """
    paragraphs = []
    for index in range(32):
        if index % 4 == 0:
            context, answer = "", "."
        else:
            context = f"Mission {index} landed on the Moon in {1960 + index}."
            answer = str(1960 + index)
        paragraphs.append(
            {
                "context": context,
                "qas": [
                    {
                        "id": f"v{index:02d}",
                        "question": f"When did mission {index} land?",
                        "answers": [{"text": answer, "answer_start": context.find(answer)}],
                    }
                ],
            }
        )
    path = directory / "dev-context-en-question-en.json"
    path.write_text(json.dumps({"version": "1.1", "data": [{"paragraphs": paragraphs}]}))
    return path, 32


def questions_read_per_worker(serialization_dir: Path, file_path: Path) -> list[int]:
    counts = []
    for log in sorted(serialization_dir.glob("out_worker*.log")):
        found = re.findall(
            rf"Read {re.escape(str(file_path))} \(en\): (\d+) questions", log.read_text()
        )
        assert found, f"{log.name} has no read report for the validation file"
        counts.append(int(found[-1]))
    return counts


def evaluate_in_one_process(
    archive: Path, file_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, float]:
    output = tmp_path / "single_process_metrics.json"
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(
        sys,
        "argv",
        ["allennlp", "evaluate", str(archive), str(file_path), "--output-file", str(output)],
    )
    main(prog="allennlp")
    return json.loads(output.read_text())


@pytest.mark.slow
@pytest.mark.parametrize(
    "config, extra",
    [
        (MULTISOURCE_CONFIG, {"data_loader.instances_per_epoch": 32}),
        (TINY_CONFIG, {"dataset_reader.max_instances": 32}),
    ],
    ids=["multisource_task_similarity", "tiny"],
)
def test_cli_training_on_two_cpu_processes(
    config: str,
    extra: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    validation, questions = validation_file(tmp_path)
    out = tmp_path / "run"
    overrides = {**DISTRIBUTED, **extra, "validation_data_path": str(validation)}
    run_allennlp(["train", config, "-s", str(out), "-o", json.dumps(overrides)], timeout=900)
    assert (out / "model.tar.gz").is_file()
    # Each rank read its own half of the validation questions: none twice, none dropped.
    assert questions_read_per_worker(out, validation) == [questions // 2, questions // 2]
    distributed = json.loads((out / "metrics.json").read_text())
    single = evaluate_in_one_process(out / "model.tar.gz", validation, tmp_path, monkeypatch)
    assert single["em"] >= 8 / questions  # the 8 empty contexts at least
    for name in METRICS:
        assert distributed[f"validation_{name}"] == pytest.approx(single[name], abs=1e-9), name


# ------------------------------------------------------------------------------------------
# mlqa_em_f1 across real torch.distributed (gloo) processes

QUESTIONS = [
    ("The red dog.", ["red dog"], "en"),
    ("la casa", ["casa"], "es"),
    ("北京大学", ["北京"], "zh"),
    ("der Mann", ["Frau"], "de"),
    ("big dog", ["red dog", "big dog"], "en"),
    ("", ["."], "hi"),
    ("ab", ["abc"], "en"),
]


def _metric_worker(rank: int, world_size: int, init_file: str, results: Any) -> None:
    dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size
    )
    try:
        metric = MlqaEmAndF1()
        for index, (prediction, golds, language) in enumerate(QUESTIONS):
            if index % world_size == rank:  # rank 1 never sees es, zh or hi
                metric(prediction, golds, language)
        results.put((rank, metric.get_metric(reset=True)))
    finally:
        dist.destroy_process_group()


def test_mlqa_em_f1_reduced_over_gloo_equals_one_process(tmp_path: Path) -> None:
    single = MlqaEmAndF1()
    for prediction, golds, language in QUESTIONS:
        single(prediction, golds, language)
    expected = single.get_metric()

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_metric_worker, args=(rank, 2, str(tmp_path / "pg"), results))
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
        assert reports[rank].keys() == expected.keys()
        for key, value in expected.items():
            assert reports[rank][key] == pytest.approx(value, abs=1e-12), (rank, key)


# ------------------------------------------------------------------------------------------
# Sharding of the readers (ranks x data-loader workers), without a process group


def _windows(reader: DatasetReader, path: str) -> list[tuple[str, int]]:
    return [
        (instance["metadata"]["id"], instance["metadata"]["window_index"])  # type: ignore[index]
        for instance in reader.read(path)
    ]


def _shards(
    reader: DatasetReader,
    path: str,
    world_size: int,
    num_workers: int,
    monkeypatch: pytest.MonkeyPatch,
    inner: DatasetReader,
) -> list[list[tuple[str, int]]]:
    shards = []
    for rank in range(world_size):
        monkeypatch.setattr(common_util, "is_distributed", lambda: True)
        monkeypatch.setattr(dist, "get_rank", lambda rank=rank: rank)
        monkeypatch.setattr(dist, "get_world_size", lambda: world_size)
        for worker in range(num_workers):
            reader._set_worker_info(WorkerInfo(num_workers, worker) if num_workers > 1 else None)
            shards.append(_windows(reader, path))
    monkeypatch.undo()
    reader._set_worker_info(None)
    inner._set_worker_info(None)
    return shards


WINDOWS = {
    "transformer_model_name": TINY_XLMR,
    "length_limit": 96,
    "stride": 48,
    "max_query_length": 32,
}


@pytest.mark.parametrize("world_size, num_workers", [(2, 1), (2, 2), (3, 1)])
@pytest.mark.parametrize("kind", ["xltt_squad", "xltt_parallel", "multitask_xltt_parallel"])
def test_readers_shard_without_duplicates_or_losses(
    kind: str, world_size: int, num_workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(Path(FIXTURE_DATA) / "parallel" / "squad_en.json")
    inner: DatasetReader
    if kind == "xltt_squad":
        inner = XlttSquadReader(language="en", **WINDOWS)
        reader: DatasetReader = inner
    else:
        inner = XlttParallelReader(parallel_languages=["ja", "ko"], language="en", **WINDOWS)
        reader = inner
        if kind.startswith("multitask"):
            reader = MultiTaskDatasetReader({"squad": inner}).readers["squad"]
    everything = _windows(reader, path)
    assert len(set(everything)) == len(everything) > 13  # several windows per question
    shards = _shards(reader, path, world_size, num_workers, monkeypatch, inner)
    assert all(shards), "a shard got nothing"
    assert sorted(window for shard in shards for window in shard) == sorted(everything)
    # A question's windows stay together (the model merges them per question).
    owners: dict[str, set[int]] = {}
    for number, shard in enumerate(shards):
        for qid, _ in shard:
            owners.setdefault(qid, set()).add(number)
    assert all(len(owner) == 1 for owner in owners.values())
