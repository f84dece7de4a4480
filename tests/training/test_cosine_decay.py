import itertools
import math

import pytest
import torch
from allennlp.common import Params
from allennlp.training.learning_rate_schedulers import LearningRateScheduler

from xltt_plugin.training.cosine_decay import cosine_decay_factor


@pytest.mark.parametrize(
    "step, expected",
    [
        (0, 0.0),  # warm-up starts at 0
        (5, 0.5),  # halfway through 10 warm-up steps
        (10, 1.0),  # peak
        (60, 0.5),  # halfway through the 100 decay steps: cos(π/2) = 0 -> 0.5
        (35, 0.5 * (1 + math.cos(math.pi * 0.25))),
        (110, 0.0),  # end
        (500, 0.0),
    ],
)
def test_factor_hand_computed(step, expected):
    assert cosine_decay_factor(step, warmup_steps=10, total_steps=110) == pytest.approx(expected)


def test_scheduler_sets_lr_per_batch_over_the_whole_run():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=0.4)
    scheduler = LearningRateScheduler.from_params(
        params=Params({"type": "cosine_decay", "warmup_steps": 2}),
        optimizer=optimizer,
        num_epochs=3,
        num_steps_per_epoch=4,
    )
    seen = []
    for batch in range(1, 13):
        scheduler.step_batch(batch)
        seen.append(optimizer.param_groups[0]["lr"])
    # 12 steps: warm-up over 2, cosine over 10; the end-of-epoch step() changes nothing.
    scheduler.step(None)
    assert seen[0] == pytest.approx(0.2)
    assert seen[1] == pytest.approx(0.4)
    assert seen[6] == pytest.approx(0.4 * 0.5 * (1 + math.cos(math.pi * 5 / 10)))
    assert seen[-1] == pytest.approx(0.0)
    assert all(a >= b for a, b in itertools.pairwise(seen[1:]))
