"""
Crash recovery: `allennlp train` of the tiny XLTT config killed with SIGKILL in the middle of an
epoch, then `allennlp train --recover`, ends with exactly the metrics and weights of an
uninterrupted run with the same seed (CPU).

How: AllenNLP saves a checkpoint after every epoch; `--recover` reloads the last one and
replays the data loader through the completed epochs without running the model, so the shuffles
(Python's `random`) continue as in the uninterrupted run. Torch's generator (dropout, the
model's self-transposition draws) is neither saved nor replayed by AllenNLP 2.10; the plugin's
`torch_rng_state` callback keeps it in the checkpoint. Without that callback the recovered run
differs from the first batch after the checkpoint on (other dropout masks), by a small amount.
The recovery reads every checkpoint with torch's weights-only loading
(`TORCH_FORCE_WEIGHTS_ONLY_LOAD=1`).
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from tests.reliability.conftest import ALLENNLP, TINY_CONFIG, cli_environment, run_allennlp
from tests.reliability.crash_point import ENVIRONMENT_VARIABLE

OVERRIDES = {
    "trainer.num_epochs": 3,
    "dataset_reader.max_instances": 64,  # 8 batches per epoch
    "trainer.callbacks": [{"type": "xltt_test_crash_point"}, {"type": "torch_rng_state"}],
}
TRAIN = [
    "train",
    TINY_CONFIG,
    "-o",
    json.dumps(OVERRIDES),
    "--include-package",
    "tests.reliability.crash_point",
    "--include-package",
    "xltt_plugin.training.torch_rng_state",
]


def kill_at_crash_point(serialization_dir: Path, marker: Path, log: Path) -> int:
    """Start training, wait until it freezes at the crash point, SIGKILL it; its exit code."""
    env = cli_environment(**{ENVIRONMENT_VARIABLE: f"1:3:{marker}"})  # epoch 1, batch 3
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [ALLENNLP, *TRAIN, "-s", str(serialization_dir)],
            cwd=Path(__file__).parents[2],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
        deadline = time.monotonic() + 600
        try:
            while not marker.exists():
                assert process.poll() is None, f"training ended early:\n{log.read_text()[-3000:]}"
                assert time.monotonic() < deadline, "the crash point was never reached"
                time.sleep(0.2)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


def comparable(metrics: dict) -> dict:
    """Metrics that do not depend on the wall clock or the process's memory."""
    return {k: v for k, v in metrics.items() if "duration" not in k and "memory" not in k}


@pytest.mark.slow
def test_killed_mid_epoch_and_recovered_equals_uninterrupted(tmp_path: Path) -> None:
    uninterrupted = tmp_path / "uninterrupted"
    run_allennlp([*TRAIN, "-s", str(uninterrupted)])

    crashed = tmp_path / "crashed"
    code = kill_at_crash_point(crashed, tmp_path / "at-crash-point", tmp_path / "crash.log")
    assert code == -signal.SIGKILL
    # Killed in epoch 1: epoch 0 is checkpointed, nothing of epoch 1 is, no archive.
    assert (crashed / "metrics_epoch_0.json").is_file()
    assert not (crashed / "metrics_epoch_1.json").exists()
    assert not (crashed / "model.tar.gz").exists()

    run_allennlp(
        [*TRAIN, "-s", str(crashed), "--recover"],
        env=cli_environment(TORCH_FORCE_WEIGHTS_ONLY_LOAD="1"),
    )
    assert (crashed / "model.tar.gz").is_file()
    expected = json.loads((uninterrupted / "metrics.json").read_text())
    recovered = json.loads((crashed / "metrics.json").read_text())
    assert expected["epoch"] == recovered["epoch"] == 2
    assert comparable(recovered) == comparable(expected)  # exactly, loss included
    for name in ("best.th", "model_state_e3_b0.th"):
        want = torch.load(uninterrupted / name, weights_only=True)
        got = torch.load(crashed / name, weights_only=True)
        assert want.keys() == got.keys()
        for key in want:
            assert torch.equal(want[key], got[key]), f"{name}: {key}"
