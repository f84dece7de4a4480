"""
A trainer callback that keeps torch's random number generator state in every training checkpoint,
so that `allennlp train --recover` continues with the random draws an uninterrupted run would
have made.
"""

from typing import Any

import torch
from allennlp.training.callbacks.callback import TrainerCallback


@TrainerCallback.register("torch_rng_state")
class TorchRngStateCallback(TrainerCallback):
    """
    Saves torch's generator state (CPU, and every CUDA device when there is one) with each
    trainer checkpoint and restores it when training resumes from that checkpoint.

    Why: on `--recover`, AllenNLP 2.10 reloads the weights, optimizer, scheduler and callback
    states and then replays the data loader through the completed epochs and batches without
    running the model, so Python's `random` (which shuffles the batches) ends up where an
    uninterrupted run has it. Torch's generator is neither saved nor replayed: it is where
    the fresh process left it after initialising the model, so every dropout mask and every
    `self_transposition_prob` draw after the checkpoint differs from the uninterrupted run.
    With this callback a recovered single-process CPU run ends with exactly the same weights
    and metrics as an uninterrupted one (`tests/reliability/test_recovery.py`).

    The state is saved as a `uint8` tensor, which `torch.load(..., weights_only=True)` reads.
    In distributed training only the primary worker writes checkpoints, so after recovery every
    worker continues with the primary's generator state.

    Registered as a `TrainerCallback` with name "torch_rng_state".
    """

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if "torch" in state_dict:
            torch.set_rng_state(state_dict["torch"])
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])
