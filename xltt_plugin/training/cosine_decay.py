"""Per-batch cosine learning-rate decay with linear warm-up (the paper's §5.1 schedule)."""

import math
from typing import Any, Optional

import torch
from allennlp.common.checks import ConfigurationError
from allennlp.training.learning_rate_schedulers.learning_rate_scheduler import (
    LearningRateScheduler,
)


def cosine_decay_factor(
    step: int, warmup_steps: int, total_steps: int, num_cycles: float = 0.5
) -> float:
    """
    The multiplier of the base learning rate at optimizer step `step`: linear warm-up from 0 to
    1 over `warmup_steps`, then `0.5 * (1 + cos(2π · num_cycles · progress))` with progress from
    0 to 1 over the remaining steps (Hugging Face's `get_cosine_schedule_with_warmup`); 0 after
    `total_steps`.
    """
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    if step >= total_steps:
        return 0.0
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 2.0 * num_cycles * progress)))


@LearningRateScheduler.register("cosine_decay")
class CosineDecay(LearningRateScheduler):
    """
    Cosine decay of the learning rate, updated every batch, over the whole run
    (`num_epochs × num_steps_per_epoch`, both filled in by the trainer), after a linear
    warm-up. AllenNLP's own `cosine` restarts per epoch and its `cosine_with_warmup` steps once
    per epoch with a hand-set `num_training_steps`; this is the schedule of paper §5.1.

    Registered as a `LearningRateScheduler` with name `cosine_decay`.

    # Parameters

    optimizer : `torch.optim.Optimizer`
        Not given in a config.
    num_epochs : `int`
        Not given in a config (the trainer's).
    num_steps_per_epoch : `int`
        Not given in a config (the data loader's batches per epoch).
    warmup_steps : `int`, optional (default = `0`)
        Steps of linear warm-up; alternatively `warmup_ratio`.
    warmup_ratio : `float`, optional
        Warm-up as a fraction of all steps (overrides `warmup_steps`).
    num_cycles : `float`, optional (default = `0.5`)
        0.5 decays from the base rate to 0 along half a cosine wave.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        num_epochs: int,
        num_steps_per_epoch: Optional[int] = None,
        warmup_steps: int = 0,
        warmup_ratio: Optional[float] = None,
        num_cycles: float = 0.5,
        last_epoch: int = -1,
    ) -> None:
        super().__init__(optimizer, last_epoch)
        if num_steps_per_epoch is None:
            raise ConfigurationError(
                "cosine_decay needs the number of batches per epoch; use a data loader that "
                "reports it (e.g. set `batches_per_epoch`, or `instances_per_epoch` for multitask)"
            )
        self.total_steps = num_epochs * num_steps_per_epoch
        self.warmup_steps = (
            round(warmup_ratio * self.total_steps) if warmup_ratio is not None else warmup_steps
        )
        self.num_cycles = num_cycles
        self.steps = 0
        self.step_batch(0)

    def get_values(self) -> list[Any]:
        factor = cosine_decay_factor(
            self.steps, self.warmup_steps, self.total_steps, self.num_cycles
        )
        return [factor * lr for lr in self.base_values]

    def step(self, metric: Optional[float] = None) -> None:
        """Per-epoch hook: nothing to do, the rate moves per batch."""

    def step_batch(self, batch_num_total: Optional[int] = None) -> None:
        self.steps = self.steps + 1 if batch_num_total is None else batch_num_total
        for param_group, lr in zip(self.optimizer.param_groups, self.get_values()):
            param_group[self.param_group_field] = lr
