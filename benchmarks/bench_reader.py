"""
Reader throughput of `xltt_squad` against allennlp-models' `transformer_squad` on the same
real file (same tokenizer, 384/128/64), alternating runs (timing as in
`reader_throughput.py`, whose `_time_read` is reused); and the speed-up of a second read
through `xltt_cached` (JSON + safetensors cache of the tokenised instances).
"""

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from bench_common import XQUAD, alternate


def run(model: str, limit: int | None, runs: int, cache_runs: int) -> dict[str, Any]:
    from allennlp_models.rc.dataset_readers.transformer_squad import TransformerSquadReader
    from reader_throughput import _time_read

    from xltt_plugin.data.xltt_squad_reader import XlttSquadReader

    path = os.path.join(XQUAD, "xquad.en.json")
    common = {"length_limit": 384, "stride": 128, "max_query_length": 64}
    xltt = XlttSquadReader(model, language="en", **common)
    baseline = TransformerSquadReader(model, **common)

    def reading(reader: Any) -> Callable[[], Iterable[Any]]:
        def read() -> Iterable[Any]:
            return itertools.islice(reader.read(path), limit)

        return read

    def question_id(instance: Any) -> str:
        return instance["metadata"].metadata["id"]

    timings: dict[str, list[dict]] = {"xltt": [], "baseline": []}

    def side(name: str, reader: Any) -> Callable[[], None]:
        def go() -> None:
            timings[name].append(_time_read(reading(reader), question_id))

        return go

    timing = alternate(side("xltt", xltt), side("baseline", baseline), runs=runs, warmup=0)
    x_instances = timings["xltt"][-1]["instances"]
    b_instances = timings["baseline"][-1]["instances"]
    result: dict[str, Any] = {
        "file": path,
        "model": model,
        "limit_instances": limit,
        "instances": {"xltt_squad": x_instances, "transformer_squad": b_instances},
        "time": timing.summary(),
        "xltt_instances_per_s": round(x_instances / timing.xltt_median, 1),
        "baseline_instances_per_s": round(b_instances / timing.baseline_median, 1),
    }
    # instances/s ratio, paired run by run
    paired = [(x_instances / x) / (b_instances / b) for x, b in zip(timing.xltt, timing.baseline)]
    result["reader_ratio"] = round(sorted(paired)[len(paired) // 2], 3)
    result["cache"] = cached_speedup(xltt, path, cache_runs)
    result["cached_reader_speedup"] = result["cache"]["speedup"]
    return result


def cached_speedup(inner: Any, path: str, runs: int) -> dict[str, Any]:
    """First read (tokenise + write the cache) against later reads (from the cache)."""
    import time

    from bench_common import CLOCK

    from xltt_plugin.data.instance_cache import CachedDatasetReader

    directory = tempfile.mkdtemp(prefix="xltt_bench_cache_")
    try:
        first_times, second_times = [], []
        count = 0
        for _ in range(runs):
            shutil.rmtree(directory, ignore_errors=True)
            reader = CachedDatasetReader(inner, cache_directory=directory)
            start, start_wall = CLOCK["fn"](), time.perf_counter()
            count = sum(1 for _ in reader.read(path))
            first_times.append((CLOCK["fn"]() - start, time.perf_counter() - start_wall))
            reader = CachedDatasetReader(inner, cache_directory=directory)
            start, start_wall = CLOCK["fn"](), time.perf_counter()
            again = sum(1 for _ in reader.read(path))
            second_times.append((CLOCK["fn"]() - start, time.perf_counter() - start_wall))
            assert again == count
        plain = [t[0] for t in first_times]
        cached = [t[0] for t in second_times]
        size = sum(os.path.getsize(os.path.join(directory, name)) for name in os.listdir(directory))
        speedups = sorted(a / b for a, b in zip(plain, cached))
        return {
            "instances": count,
            "first_read_s": round(sorted(plain)[len(plain) // 2], 4),
            "cached_read_s": round(sorted(cached)[len(cached) // 2], 4),
            "speedup": round(speedups[len(speedups) // 2], 2),
            "cache_bytes": size,
            "note": "first read = xltt_squad tokenising the file and writing the cache",
        }
    finally:
        shutil.rmtree(directory, ignore_errors=True)
