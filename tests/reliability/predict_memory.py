"""
Measures the memory of predicting one question over a 1 MB context (run as a script in a
fresh process by `test_memory.py`): prints JSON with the peak resident set size after loading
the archive and after predicting, in MiB.

`python -m tests.reliability.predict_memory ARCHIVE [CONTEXT_BYTES]`
"""

import json
import resource
import sys
import time

from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

import xltt_plugin.predictors.xltt_predictor  # noqa: F401  (registers `xltt`)

SENTENCES = (
    "Apollo 11 was the spaceflight that carried the first people to walk on the Moon. "
    "Commander Neil Armstrong and lunar module pilot Buzz Aldrin landed on July 20, 1969. "
    "北京大学创建于1898年。 서울은 한국의 수도이다. القاهرة هي عاصمة مصر. "
)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def context_of(size: int) -> str:
    """About `size` bytes of UTF-8 text ending with the answer sentence."""
    ending = "The first person on the Moon was Neil Armstrong."
    repeats = -(-(size - len(ending.encode())) // len(SENTENCES.encode()))  # rounded up
    return SENTENCES * repeats + ending


def main() -> None:
    archive_path = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    predictor = Predictor.from_archive(load_archive(archive_path), "xltt")
    context = context_of(size)
    loaded = peak_rss_mib()
    start = time.perf_counter()
    output = predictor.predict_json(
        {"id": "big", "question": "Who was the first person on the Moon?", "context": context}
    )
    print(
        json.dumps(
            {
                "context_bytes": len(context.encode("utf-8")),
                "loaded_mib": loaded,
                "peak_mib": peak_rss_mib(),
                "seconds": time.perf_counter() - start,
                "answer_in_context": output["best_span_str"] in context,
            }
        )
    )


if __name__ == "__main__":
    main()
