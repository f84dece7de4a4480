"""
A test-only trainer callback that freezes training at a chosen batch so that a test can kill
the process there with SIGKILL (as a cluster scheduler would), mid-epoch and deterministically.

`XLTT_TEST_CRASH_AT="EPOCH:BATCH:MARKER"` (unset: the callback does nothing, so the same config
serves the uninterrupted run): after training batch BATCH of epoch EPOCH (both 0-based as
AllenNLP counts them) the callback writes its pid to the file MARKER and sleeps until killed.
Used with `allennlp train --include-package tests.reliability.crash_point`.
"""

import os
import time
from pathlib import Path
from typing import Any

from allennlp.training.callbacks.callback import TrainerCallback

ENVIRONMENT_VARIABLE = "XLTT_TEST_CRASH_AT"


@TrainerCallback.register("xltt_test_crash_point")
class CrashPoint(TrainerCallback):
    """Freezes at the batch named by `XLTT_TEST_CRASH_AT` (see the module docstring)."""

    def on_batch(  # type: ignore[override]
        self,
        trainer: Any,
        batch_inputs: Any,
        batch_outputs: Any,
        batch_metrics: Any,
        epoch: int,
        batch_number: int,
        is_training: bool,
        is_primary: bool = True,
        batch_grad_norm: Any = None,
        **kwargs: Any,
    ) -> None:
        target = os.environ.get(ENVIRONMENT_VARIABLE)
        if not target or not is_training:
            return
        crash_epoch, crash_batch, marker = target.split(":", 2)
        if epoch == int(crash_epoch) and batch_number == int(crash_batch):
            Path(marker).write_text(str(os.getpid()))
            while True:  # wait for SIGKILL
                time.sleep(1)
