"""
The `xltt-report` subcommand: per-language EM/F1 tables and an F1 bar chart over run folders.

```
allennlp xltt-report RUN_DIR [RUN_DIR ...] --out DIR [--seen en] [--title T] [--no-chart]
```

Each `RUN_DIR` holds `scores/*.json` (outputs of `allennlp xltt-score`) and/or `metrics*.json`
(outputs of `allennlp evaluate --output-file`), optionally `benchmark.json` (system, seed,
training languages, wall times; see `report_tables`). Runs of the same system (folder name
less `-seedN`, or `benchmark.json`'s `system`) are averaged, with the standard deviation over
seeds. Writes `DIR/results.md` (one table per scoring mode, cells `F1 / EM`, with the averages
over the languages no system was trained on, all and Latin-script only, and a wall-time table),
`DIR/f1_<mode>.png` and `DIR/summary.json`; prints the Markdown. The chart needs matplotlib
(`make bench-setup`); without it the command fails with a message unless `--no-chart`.
"""

import argparse

from allennlp.commands.subcommand import Subcommand

from xltt_plugin.commands.errors import fail
from xltt_plugin.commands.report_tables import ReportError, build_report, load_run


@Subcommand.register("xltt-report")
class XlttReport(Subcommand):
    """
    `allennlp xltt-report RUN_DIR... --out DIR`: a Table-4-style per-language EM/F1 Markdown
    table (mean and spread over seeds, averages over unseen languages) and a PNG bar chart of
    F1 per language per system.

    Registered as a `Subcommand` with name `xltt-report`.
    """

    requires_plugins = False

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Per-language EM/F1 table (Markdown) and F1 bar chart (PNG) of trained runs, "
            "averaged over seeds, with the average over languages no system was trained on."
        )
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("run_dirs", nargs="+", help="run folders with scores/*.json")
        subparser.add_argument("--out", required=True, help="output folder")
        subparser.add_argument(
            "--seen",
            default="en",
            help="comma-separated training languages of runs without benchmark.json (default en)",
        )
        subparser.add_argument("--title", default="Per-language EM/F1", help="table/chart title")
        subparser.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
        subparser.set_defaults(func=report_from_args)
        return subparser


def report_from_args(args: argparse.Namespace) -> None:
    """Run `xltt-report`: print the Markdown, or exit 1 with a one-line error."""
    try:
        seen = tuple(lang.strip() for lang in args.seen.split(",") if lang.strip())
        runs = [load_run(run_dir, seen) for run_dir in args.run_dirs]
        summary = build_report(runs, args.out, args.title, chart=not args.no_chart)
    except ReportError as error:
        fail("xltt-report", str(error), 1)
    print(summary["markdown"])
