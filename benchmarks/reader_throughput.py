"""
Reading throughput of `xltt_squad` against allennlp-models' `transformer_squad` on the same
SQuAD-format file, in one process, alternating runs (so that both see the same machine load).

    .venv/bin/python benchmarks/reader_throughput.py \
        [--file ../shared/data/xquad/xquad.en.json] [--model fixtures/tiny-xlmr] [--runs 5]

Prints one JSON line: per reader the median instances/s and questions/s over the runs, and
`reader_ratio` = xltt_squad instances/s / transformer_squad instances/s (goal: >= 1).
Both readers use the same tokenizer, length limit, stride and query length, in evaluation mode
(every window of every question). Not part of the tests.
"""

import argparse
import functools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("NLTK_DATA", os.path.join(REPO, "fixtures", "nltk_data"))
sys.path.insert(0, REPO)


def _time_read(read: Callable[[], Iterable[Any]], count_questions: Callable[[Any], str]) -> dict:
    start = time.perf_counter()
    instances = 0
    questions = set()
    for instance in read():
        instances += 1
        questions.add(count_questions(instance))
    seconds = time.perf_counter() - start
    return {"instances": instances, "questions": len(questions), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--file", default=os.path.join(REPO, "..", "shared", "data", "xquad", "xquad.en.json")
    )
    parser.add_argument("--model", default=os.path.join(REPO, "fixtures", "tiny-xlmr"))
    parser.add_argument("--language", default=None, help="for files whose name has none")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--length-limit", type=int, default=384)
    parser.add_argument("--stride", type=int, default=128)
    parser.add_argument("--max-query-length", type=int, default=64)
    args = parser.parse_args()

    from allennlp_models.rc.dataset_readers.transformer_squad import TransformerSquadReader

    from xltt_plugin.data.xltt_squad_reader import XlttSquadReader

    common = {
        "length_limit": args.length_limit,
        "stride": args.stride,
        "max_query_length": args.max_query_length,
    }
    readers = {
        "transformer_squad": TransformerSquadReader(args.model, **common),
        "xltt_squad": XlttSquadReader(args.model, language=args.language or "xx", **common),
    }

    def question_id(instance: Any) -> str:
        return instance["metadata"].metadata["id"]

    runs: dict[str, list[dict]] = {name: [] for name in readers}
    for _ in range(args.runs):
        for name, reader in readers.items():
            runs[name].append(_time_read(functools.partial(reader.read, args.file), question_id))

    result: dict[str, Any] = {"file": args.file, "model": args.model, "runs": args.runs}
    for name, timings in runs.items():
        result[name] = {
            "instances": timings[0]["instances"],
            "questions": timings[0]["questions"],
            "instances_per_s": round(
                statistics.median(t["instances"] / t["seconds"] for t in timings), 1
            ),
            "questions_per_s": round(
                statistics.median(t["questions"] / t["seconds"] for t in timings), 1
            ),
        }
    result["reader_ratio"] = round(
        result["xltt_squad"]["instances_per_s"] / result["transformer_squad"]["instances_per_s"], 2
    )
    result["question_ratio"] = round(
        result["xltt_squad"]["questions_per_s"] / result["transformer_squad"]["questions_per_s"], 2
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
