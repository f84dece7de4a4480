"""
How many answers change between two runs of the quality benchmark (issue 30), e.g. (c) in test
mode `self` and (d), the same archive in mode `translated`: per language, the share of question
ids whose predicted answer string differs, and over `--languages` together.

    .venv/bin/python benchmarks/quality/answer_changes.py RUN_A RUN_B [--languages ar el ...]
"""

import argparse
import json
import os


def changes(run_a: str, run_b: str, languages: list[str]) -> dict[str, dict[str, float]]:
    """Per language (and `all`): questions, answers that differ, and their share."""
    rows: dict[str, dict[str, float]] = {}
    total = changed = 0
    for language in languages:
        paths = [
            os.path.join(run, "predictions", f"xquad.{language}.json") for run in (run_a, run_b)
        ]
        if not all(os.path.exists(path) for path in paths):
            continue
        a, b = (json.load(open(path, encoding="utf-8")) for path in paths)
        if set(a) != set(b):
            raise ValueError(f"{paths[0]} and {paths[1]} predict different question ids")
        n, d = len(a), sum(a[qid] != b[qid] for qid in a)
        rows[language] = {"questions": n, "changed": d, "share": round(d / n, 4)}
        total, changed = total + n, changed + d
    rows["all"] = {
        "questions": total,
        "changed": changed,
        "share": round(changed / max(1, total), 4),
    }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_a")
    parser.add_argument("run_b")
    parser.add_argument(
        "--languages", nargs="+", default="ar el hi ro ru th tr vi zh".split(), help="unseen-9"
    )
    args = parser.parse_args()
    print(json.dumps(changes(args.run_a, args.run_b, args.languages), indent=1))


if __name__ == "__main__":
    main()
