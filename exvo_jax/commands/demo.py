"""`exvo-jax demo --out DIR`: every track end to end on the synthetic corpus, writing report.md."""

from __future__ import annotations

import argparse

from exvo_jax.config_files import load_config

DEFAULT_CONFIG = "experiments/demo.py"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run every track on the synthetic corpus and write a report")
    parser.add_argument("--out", required=True, help="run folder (corpus, tracks, submissions, report.md)")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="experiments/demo.py[:tiny]")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from exvo_jax.demo import REPORT_MD, run_demo

    run_demo(load_config(args.config), args.out, progress=not args.no_progress)
    print(open(f"{args.out}/{REPORT_MD}").read())
    return 0
