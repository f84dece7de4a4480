"""
The multi-source sampler of XLTT: each training data set contributes to an epoch in proportion to
its task-level similarity weight (eq. 18-19).
"""

import logging
from collections.abc import Mapping
from typing import Any

from allennlp.common.checks import ConfigurationError
from allennlp.data.data_loaders.data_loader import DataLoader
from allennlp.data.data_loaders.multitask_epoch_sampler import MultiTaskEpochSampler

from xltt_plugin.training.task_weights import TaskWeights

logger = logging.getLogger(__name__)


@MultiTaskEpochSampler.register("task_similarity")
class TaskSimilaritySampler(MultiTaskEpochSampler):
    """
    Samples each task (data set) of a `multitask` data loader in proportion to its `TaskWeights`,
    normalised over the tasks the loader has. The weights are computed (or checked) here, at
    construction, so a bad question file fails before training starts; the same `TaskWeights`
    given to the model as `dataset_weights` reuses the cached result.

    AllenNLP's `MultiTaskDataLoader` only asks its sampler when `instances_per_epoch` is set;
    it then takes `floor(proportion * instances_per_epoch)` instances of each task per epoch
    (`xltt_multitask`, which the configs use, splits `instances_per_epoch` exactly and reports
    the true number of batches). Without `instances_per_epoch` every instance is used once per
    epoch and the weights act only through the loss.

    Registered as a `MultiTaskEpochSampler` with name "task_similarity".

    # Parameters

    task_weights : `TaskWeights`
        The weight of each task, keyed by the task names of the `MultiTaskDatasetReader`.
    """

    def __init__(self, task_weights: TaskWeights) -> None:
        self.task_weights = task_weights
        self.weights: dict[str, float] = task_weights.as_dict()

    def get_task_proportions(self, data_loaders: Mapping[str, DataLoader]) -> dict[str, float]:
        """
        The share of the epoch's instances that each task in `data_loaders` gets: its weight over
        the sum of the weights of those tasks.

        # Raises

        `ConfigurationError`
            When a task of the data loader has no weight, or the tasks' weights sum to zero.
        """
        missing = [task for task in data_loaders if task not in self.weights]
        if missing:
            raise ConfigurationError(
                f"task_similarity sampler: no weight for task(s) {missing}; "
                f"the weights are for {sorted(self.weights)}"
            )
        unused = [task for task in self.weights if task not in data_loaders]
        if unused:
            logger.warning("task_similarity sampler: weights of unused task(s) %s ignored", unused)
        total = sum(self.weights[task] for task in data_loaders)
        if total <= 0:
            raise ConfigurationError(
                f"task_similarity sampler: the weights of tasks {list(data_loaders)} sum to zero"
            )
        return {task: self.weights[task] / total for task in data_loaders}

    def update_from_epoch_metrics(self, epoch_metrics: dict[str, Any]) -> None:
        """The weights are fixed for the whole run: nothing to update."""
        return None
