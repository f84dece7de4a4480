"""What share of the test suite's time some tests take, from one `pytest --durations=0` run.

A ratio inside one run holds on a noisy machine where two whole-suite timings taken at
different moments do not. Usage, from the repository root:

    .venv/bin/python -m pytest -q --durations=0 -p no:cacheprovider > durations.txt
    .venv/bin/python -m benchmarks.ci_time_share durations.txt \
        --tests tests/benchmarks/quality/test_learning_curve.py \
        'tests/benchmarks/quality/test_protocols.py::test_pending_lists_a_run_once_when_two_loaders_miss_it'

A `--tests` entry selects the node ids it equals or that start with it followed by `::` or `[`
(a file, a test, one parametrisation). Prints one JSON line: the seconds of the selected tests
(setup, call and teardown), of all listed durations, and the share.
"""

import argparse
import json
import re
from collections.abc import Iterable, Sequence

_LINE = re.compile(r"^\s*(?P<seconds>\d+(?:\.\d+)?)s\s+(?:setup|call|teardown)\s+(?P<node>\S+)\s*$")


def parse_durations(lines: Iterable[str]) -> list[tuple[str, float]]:
    """
    The `(node id, seconds)` rows of pytest's `--durations` report, in order; other lines are
    skipped.
    """
    rows = []
    for line in lines:
        match = _LINE.match(line)
        if match:
            rows.append((match.group("node"), float(match.group("seconds"))))
    return rows


def selects(selector: str, node: str) -> bool:
    """Whether `selector` names `node`: the same id, or a prefix of it up to `::` or `[`."""
    return node == selector or node.startswith(selector + "::") or node.startswith(selector + "[")


def share(rows: Sequence[tuple[str, float]], selectors: Sequence[str]) -> dict[str, float | int]:
    """
    Seconds of the rows any selector names, of all rows, and their ratio.

    # Returns

    `{"selected_s", "total_s", "share", "selected_rows", "rows"}`.
    """
    total = sum(seconds for _, seconds in rows)
    chosen = [(node, s) for node, s in rows if any(selects(sel, node) for sel in selectors)]
    selected = sum(s for _, s in chosen)
    return {
        "selected_s": round(selected, 2),
        "total_s": round(total, 2),
        "share": round(selected / total, 4) if total else 0.0,
        "selected_rows": len(chosen),
        "rows": len(rows),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("durations", help="the output of `pytest --durations=0`")
    parser.add_argument("--tests", nargs="+", required=True, help="node ids or their prefixes")
    args = parser.parse_args(argv)
    with open(args.durations, encoding="utf-8") as handle:
        rows = parse_durations(handle)
    if not rows:
        raise SystemExit(f"{args.durations}: no `--durations` rows (run pytest with --durations=0)")
    print(json.dumps(share(rows, args.tests)))


if __name__ == "__main__":
    main()
