"""
The quality benchmark's one entry point (docs/quality-protocols.md):

    .venv/bin/python -m benchmarks.quality list
    .venv/bin/python -m benchmarks.quality run PROTOCOL [--systems NAME...] [--seeds N...]
        [--languages L...] [--jobs 2] [--eval-jobs 1] [--out DIR] [--skip-setup] [--no-collect]
    .venv/bin/python -m benchmarks.quality collect PROTOCOL [--from DIR] [--systems NAME...]
        [--force]
    .venv/bin/python -m benchmarks.quality report PROTOCOL [--no-charts]
    .venv/bin/python -m benchmarks.quality results [PROTOCOL...] [--no-charts] [--write]

`run` trains, predicts and scores into the protocol's `out` (resumable), then `collect`s the
small outputs into its `store` (git); `collect --from DIR` imports run folders of another out
folder (also those of the older run.py layout); `report` writes the tables, charts and
comparisons into `benchmarks/quality/results/reports/PROTOCOL/`; `results` (`make results`)
regenerates every protocol's report from the committed predictions and exits 1 where anything
differs from the committed files (`--write` writes them instead).
"""

import argparse
import os
import sys

from benchmarks.quality import protocol as protocols
from benchmarks.quality.protocol import REPO, ProtocolError


def _list(_: argparse.Namespace) -> int:
    for name in protocols.protocol_names():
        protocol = protocols.load(name)
        seeds = sorted({seed for system in protocol.systems for seed in system.seeds})
        print(f"{name}: {protocol.description}")
        systems = ", ".join(system.name for system in protocol.systems)
        print(f"    systems: {systems}; seeds {seeds}")
        print(f"    runs: {protocol.store}; report: {protocol.report_dir}")
    return 0


def _run(args: argparse.Namespace) -> int:
    protocol = protocols.load(args.protocol)
    if protocol.runner == "e5_quickstart":
        from benchmarks.quality import e5_quickstart

        e5_quickstart.main(["--save", os.path.join(protocols.REPO, protocol.store)])
    else:
        from benchmarks.quality.runner import run_protocol

        run_protocol(
            protocol,
            args.systems,
            args.seeds,
            args.languages,
            args.jobs,
            args.eval_jobs,
            args.out,
            args.skip_setup,
        )
        if not args.no_collect:
            _collect(argparse.Namespace(**vars(args), source=args.out, force=False))
    print(f"next: .venv/bin/python -m benchmarks.quality report {args.protocol}")
    return 0


def _collect(args: argparse.Namespace) -> int:
    from benchmarks.quality.collect import collect

    protocol = protocols.load(args.protocol)
    for line in collect(protocol, args.source, args.systems, args.force):
        print(line)
    return 0


def _report(args: argparse.Namespace) -> int:
    from benchmarks.quality.report import report

    protocol = protocols.load(args.protocol)
    problems = report(protocol, charts=not args.no_charts)
    for problem in problems:
        print(f"{args.protocol}: {problem}")
    print(f"{args.protocol}: report in {protocol.report_dir}")
    return 1 if problems else 0


def _results(args: argparse.Namespace) -> int:
    from benchmarks.quality.report import Gold, check, report

    # Protocols whose runs are committed (not those marked `report: {committed: false}`).
    names = args.protocols or [
        name
        for name in protocols.protocol_names()
        if protocols.load(name).report.get("committed", True)
    ]
    gold = Gold()
    failed = 0
    try:
        for name in names:
            protocol = protocols.load(name)
            act = report if args.write else check
            problems = act(protocol, charts=not args.no_charts, gold=gold)
            for problem in problems:
                print(f"{name}: {problem}")
            failed += bool(problems)
            runs = sum(
                os.path.exists(
                    os.path.join(REPO, protocol.store, system.run_name(seed), "manifest.json")
                )
                for system in protocol.table_systems
                for seed in system.seeds
            )
            state = "DIFFERS" if problems else ("written" if args.write else "identical")
            print(f"{name}: {runs} runs re-scored; {protocol.report_dir}: {state}", flush=True)
    finally:
        gold.close()
    print(f"results: {len(names) - failed} of {len(names)} protocols regenerate identically")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.quality", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the protocols").set_defaults(func=_list)
    run = commands.add_parser("run", help="train, predict, score (resumable), then collect")
    run.add_argument("protocol")
    run.add_argument("--systems", nargs="+", default=None, help="only these systems (names)")
    run.add_argument("--seeds", type=int, nargs="+", default=None, help="only these seeds")
    run.add_argument("--languages", nargs="+", default=None, help="only these test languages")
    run.add_argument("--jobs", type=int, default=2, help="runs at the same time (1 thread each)")
    run.add_argument("--eval-jobs", type=int, default=1, help="languages at a time per run")
    run.add_argument("--out", default=None, help="default: the protocol's out")
    run.add_argument("--skip-setup", action="store_true", help="do not run `make bench-setup`")
    run.add_argument("--no-collect", action="store_true", help="do not copy into the store")
    run.set_defaults(func=_run)
    collect = commands.add_parser("collect", help="copy runs (small outputs) into git")
    collect.add_argument("protocol")
    collect.add_argument("--from", dest="source", default=None, help="default: protocol's out")
    collect.add_argument("--systems", nargs="+", default=None)
    collect.add_argument("--force", action="store_true", help="import runs that differ")
    collect.set_defaults(func=_collect)
    report = commands.add_parser("report", help="tables, charts, comparisons of a protocol")
    report.add_argument("protocol")
    report.add_argument("--no-charts", action="store_true", help="tables only (no matplotlib)")
    report.set_defaults(func=_report)
    results = commands.add_parser("results", help="regenerate and check every report")
    results.add_argument("protocols", nargs="*")
    results.add_argument("--no-charts", action="store_true", help="tables only (no matplotlib)")
    results.add_argument("--write", action="store_true", help="write instead of checking")
    results.set_defaults(func=_results)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ProtocolError as error:
        print(f"benchmarks.quality: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
