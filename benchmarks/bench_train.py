"""
Training step (forward + backward + AdamW step) of `xltt` (pivot + 2 translations, auxiliary
loss) against allennlp-models' `transformer_qa` on the pivot windows alone, same encoder and
same real windows; and the peak tensor memory of one such step.
"""

from collections.abc import Callable
from typing import Any

import torch
from bench_common import alternate, batch_tensors, long_parallel_instances

PIVOT_FIELDS = ("question_with_context", "context_span", "cls_index", "answer_span")


def build_models(encoder: str, k: int = 2, aux: float = 1.0) -> tuple[Any, Any]:
    from allennlp.data import Vocabulary
    from allennlp_models.rc.models.transformer_qa import TransformerQA

    from xltt_plugin.models.xltt import XlttModel

    torch.manual_seed(0)
    xltt = XlttModel(Vocabulary(), encoder, num_parallel=k, aux_loss_weight=aux)
    torch.manual_seed(0)
    baseline = TransformerQA(Vocabulary(), encoder)
    return xltt, baseline


def train_batches(encoder: str, batch_size: int, length: int) -> tuple[dict, dict]:
    instances = long_parallel_instances(encoder, batch_size, length)
    tensors = batch_tensors(instances, pad_to=length)
    tensors.pop("metadata", None)
    pivot = {key: tensors[key] for key in PIVOT_FIELDS}
    return tensors, pivot


def step_fn(model: Any, batch: dict) -> Callable[[], float]:
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    model.train()

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = model(**batch)["loss"]
        loss.backward()
        optimizer.step()
        return float(loss)

    return step


def peak_tensor_memory(fn: Callable[[], Any]) -> int:
    """
    Peak of live CPU tensor bytes during `fn()` above those live when it starts, from the
    allocation events of torch's profiler (`profile_memory=True`): every tensor allocation
    and free made by the step, replayed in time order.
    """
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events: list[tuple[int, int]] = []
    stack = list(prof.profiler.kineto_results.experimental_event_tree())  # type: ignore[union-attr]
    while stack:
        node = stack.pop()
        if node.typed[0] == _EventType.Allocation:
            events.append((node.start_time_ns, node.typed[1].alloc_size))
        stack.extend(node.children)
    events.sort()
    live = peak = 0
    for _, size in events:
        live += size
        peak = max(peak, live)
    return peak


def state_bytes(model: Any, step: Callable[[], Any]) -> int:
    """Bytes of parameters plus AdamW state (live before every step once warmed up)."""
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    return 3 * params  # weights + exp_avg + exp_avg_sq


def run(encoder: str, batch_size: int, length: int, runs: int, memory: bool = True) -> dict:
    tensors, pivot = train_batches(encoder, batch_size, length)
    xltt, baseline = build_models(encoder)
    xltt_step, baseline_step = step_fn(xltt, tensors), step_fn(baseline, pivot)
    timing = alternate(xltt_step, baseline_step, runs=runs, warmup=1)
    result: dict[str, Any] = {
        "encoder": encoder,
        "batch": batch_size,
        "length": length,
        "k": 2,
        "aux_loss_weight": 1.0,
        "time": timing.summary(),
        "train_step_ratio": round(timing.ratio, 3),
    }
    if memory:
        # Warm (AdamW state exists), one profiled step per side, alternated.
        peaks = {}
        for name, step in (("baseline", baseline_step), ("xltt", xltt_step)):
            peaks[name] = peak_tensor_memory(step)
        result["memory"] = {
            "method": "torch.profiler profile_memory: peak live CPU tensor bytes of one step "
            "above those live before it",
            "xltt_mb": round(peaks["xltt"] / 2**20, 1),
            "baseline_mb": round(peaks["baseline"] / 2**20, 1),
            "xltt_state_mb": round(state_bytes(xltt, xltt_step) / 2**20, 1),
            "baseline_state_mb": round(state_bytes(baseline, baseline_step) / 2**20, 1),
        }
        result["train_peak_memory_ratio"] = round(peaks["xltt"] / peaks["baseline"], 3)
        total_x = peaks["xltt"] + state_bytes(xltt, xltt_step)
        total_b = peaks["baseline"] + state_bytes(baseline, baseline_step)
        result["memory"]["ratio_including_weights_and_adam_state"] = round(total_x / total_b, 3)
    return result
