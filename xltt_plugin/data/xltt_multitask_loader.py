"""
AllenNLP's `multitask` data loader with a length that equals the batches it yields per epoch,
so that per-batch learning-rate schedules (`cosine_decay`, `linear_with_warmup`) span the real
run.
"""

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Optional

import torch.distributed as dist
from allennlp.common.checks import ConfigurationError
from allennlp.data.data_loaders.data_loader import DataLoader
from allennlp.data.data_loaders.multitask_data_loader import MultiTaskDataLoader
from allennlp.data.instance import Instance


def world_size() -> int:
    """The number of distributed training workers (1 outside `torch.distributed`)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def instances_per_task(proportions: Mapping[str, float], total: int) -> dict[str, int]:
    """
    Split `total` instances between tasks in proportion to `proportions` (any non-negative
    numbers with a positive sum), by the largest-remainder method: every task gets
    `floor(share)`, and the instances left over go one each to the tasks with the largest
    fractional parts (ties: the earlier task). The counts sum to `total` exactly.

    # Raises

    `ConfigurationError`
        When a proportion is negative or they sum to zero.
    """
    if any(value < 0 for value in proportions.values()):
        raise ConfigurationError(f"negative task proportion in {dict(proportions)}")
    proportion_sum = sum(proportions.values())
    if proportion_sum <= 0:
        raise ConfigurationError(f"task proportions {dict(proportions)} sum to zero")
    shares = {task: value * total / proportion_sum for task, value in proportions.items()}
    counts = {task: math.floor(share) for task, share in shares.items()}
    left_over = total - sum(counts.values())
    order = sorted(shares, key=lambda task: counts[task] - shares[task])  # stable: ties keep order
    for task in order[:left_over]:
        counts[task] += 1
    return counts


@DataLoader.register("xltt_multitask")
class XlttMultiTaskDataLoader(MultiTaskDataLoader):
    """
    AllenNLP's `multitask` loader (same parameters, same batches) with two fixes that make
    `len(loader)` the number of batches one epoch yields on this worker:

    - With `instances_per_epoch`, AllenNLP 2.10's `len()` counts `instances_per_epoch`
      instances for *every* task, while an epoch draws `instances_per_epoch` in all (e.g. 36
      claimed vs 14 real batches on `xltt_tiny_multisource.jsonnet`), so a per-batch schedule
      warms up and decays over ~k times the real run. Here `len()` counts the instances each
      task really gets.
    - The epoch's instances are split between the tasks by the sampler's proportions with the
      largest-remainder method, so an epoch holds exactly `instances_per_epoch` instances
      (AllenNLP floors each task's share and loses up to one instance per task).

    In distributed training `instances_per_epoch` is the epoch's total over all workers: each
    of the `W` workers draws `instances_per_epoch // W` from its own shard, split between the
    tasks in the same way, so every worker yields the same number of batches and the schedule
    of each worker (built from its `len()`) ends on its last step. Without
    `instances_per_epoch` every instance of the worker's shard is used once per epoch and
    `len()` is AllenNLP's count of those (exact per worker; shards may differ by a batch, and
    AllenNLP's trainer ends an epoch when the first worker runs out).

    Registered as a `DataLoader` with name "xltt_multitask".

    # Parameters

    Those of AllenNLP's `MultiTaskDataLoader` (`reader`, `data_path`, `scheduler`, `sampler`,
    `instances_per_epoch`, `num_workers`, `max_instances_in_memory`, `start_method`,
    `instance_queue_size`, `instance_chunk_size`, `shuffle`, `cuda_device`).
    """

    def instances_per_task(self) -> Optional[dict[str, int]]:
        """
        The number of instances each task contributes to this worker's next epoch, or `None`
        when `instances_per_epoch` is not set (every instance once).
        """
        if self._instances_per_epoch is None:
            return None
        if self.sampler is None:  # the parent's constructor already refuses this
            raise ConfigurationError("instances_per_epoch needs a sampler")
        workers = world_size()
        per_worker = self._instances_per_epoch // workers
        if per_worker <= 0:
            raise ConfigurationError(
                f"instances_per_epoch = {self._instances_per_epoch} leaves no instance for "
                f"each of the {workers} distributed workers"
            )
        proportions = self.sampler.get_task_proportions(self._loaders)
        return instances_per_task(proportions, per_worker)

    def __len__(self) -> int:
        counts = self.instances_per_task()
        if counts is None:
            return super().__len__()
        return self.scheduler.count_batches(counts)

    def _get_instances_for_epoch(self) -> dict[str, Iterable[Instance]]:
        counts = self.instances_per_task()
        if counts is None:
            return super()._get_instances_for_epoch()
        return {
            task: itertools.islice(self._iterators[task], count) for task, count in counts.items()
        }
