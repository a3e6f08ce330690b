"""The `xiezuo` command (spec README, "Operator interface"). It runs the DAGs, never a second
pipeline beside them."""
from __future__ import annotations

import argparse
import os
import logging
import sys

from .config import settings


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("great_expectations", "airflow", "sqlalchemy", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_run(args) -> int:
    from .runner import run_pipeline

    report = run_pipeline()
    print(report.text())
    return 0 if report.ok else 1


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo()


def cmd_bench(args) -> int:
    from .bench import main as bench_main

    return bench_main((["--quick"] if args.quick else []) + [f"--only={o}" for o in args.only or []]
                      + (["--keep"] if args.keep else []))


def cmd_report(args) -> int:
    from .report import ReportError, write_report

    try:
        files = write_report(args.period, args.out or settings().report_dir)
    except ReportError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"工作简报：{files.markdown}\n          {files.html}\n指标看板：{files.dashboard}")
    return 0


def cmd_templates(args) -> int:
    from .templates import write_templates

    for path in write_templates(args.out):
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xiezuo", description="东西部协作数据平台 xiezuo")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="process every pending file in the inbox through the DAGs and refresh the marts").set_defaults(fn=cmd_run)
    sub.add_parser("demo", help="sample inbox for the demo city → pipeline → progress table").set_defaults(fn=cmd_demo)
    bench = sub.add_parser("bench", help="benchmarks: one JSON object per figure, with same-run baselines")
    bench.add_argument("--quick", action="store_true", help="CI-sized data")
    bench.add_argument("--only", action="append", choices=("intake", "pipeline", "history"),
                       help="only this section (repeatable)")
    bench.add_argument("--keep", action="store_true", help="history: keep its database and files")
    bench.set_defaults(fn=cmd_bench)
    report = sub.add_parser("report", help="the bulletin (简报, Markdown and HTML) and the offline dashboard for a month")
    report.add_argument("--period", required=True, help="the month, YYYY-MM")
    report.add_argument("--out", help="output folder (default: $XIEZUO_HOME/report)")
    report.set_defaults(fn=cmd_report)
    templates = sub.add_parser("templates", help="blank Excel templates of the six ledgers, for clerks")
    templates.add_argument("--out", required=True, help="output folder")
    templates.set_defaults(fn=cmd_templates)
    from .ops.commands import add as add_ops_commands  # status, reprocess, airflow standalone

    add_ops_commands(sub)
    args = parser.parse_args(argv)
    if args.verbose:
        os.environ["XIEZUO_VERBOSE"] = "1"
    _setup_logging(args.verbose)
    settings().home.mkdir(parents=True, exist_ok=True)
    try:
        return args.fn(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
