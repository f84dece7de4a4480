import itertools
import math
import os

import pytest
import torch
from allennlp.common import Params
from allennlp.training.learning_rate_schedulers import LearningRateScheduler

from tests import REPO
from tests.reliability.conftest import MULTISOURCE_CONFIG, run_allennlp
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


def test_multisource_cli_run_ends_its_cosine_on_its_last_step(tmp_path) -> None:
    """
    `allennlp train` of the tiny multi-source config (`xltt_multitask` loader,
    `task_similarity` sampler, `instances_per_epoch`): the scheduler's total equals the
    optimizer steps the run took (AdamW's own step counter), and the last step ran at the
    cosine's end (under 1 % of the peak rate). AllenNLP's `multitask` loader claims 36 batches
    per epoch for 14 real ones, which left the last step at ~0.7 x the peak.
    """
    out = tmp_path / "run"
    run_allennlp(["train", MULTISOURCE_CONFIG, "-s", str(out)])
    params = Params.from_file(os.path.join(REPO, MULTISOURCE_CONFIG))
    epochs = params["trainer"]["num_epochs"]
    peak = params["trainer"]["optimizer"]["lr"]
    state = torch.load(out / f"training_state_e{epochs}_b0.th", weights_only=True)
    optimizer_steps = {int(s["step"]) for s in state["optimizer"]["state"].values()}
    assert len(optimizer_steps) == 1  # every parameter was updated at every step
    taken = optimizer_steps.pop()
    assert taken > 0
    scheduler = state["learning_rate_scheduler"]
    assert scheduler["total_steps"] == taken
    assert scheduler["steps"] == taken
    last_lr = state["optimizer"]["param_groups"][0]["lr"]  # set before the last step
    assert 0 <= last_lr <= 0.01 * peak
