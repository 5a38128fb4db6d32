"""`exvo-jax check DATA_DIR`: validates a release folder, reporting every problem (or stopping at the first)."""

from __future__ import annotations

import argparse
import json

from exvo_jax.atomic import write_text
from exvo_jax.data.check import check_release
from exvo_jax.data.errors import DataError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check", help="check a release folder (labels, ids, audio, speakers)")
    parser.add_argument("data_dir", help="folder with data_info.csv and wav/")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--all", action="store_true", help="report every problem and warning (the default)")
    mode.add_argument("--first", action="store_true", help="stop with the first error only")
    parser.add_argument("--report", help="also write the problems as JSON to this file")
    parser.add_argument("--no-audio", action="store_true", help="check data_info.csv only, not the audio files")
    parser.add_argument("--shots", type=int, default=2, help="few-shot support size per Val/Test speaker (0: no check)")
    parser.add_argument("--strict", action="store_true",
                        help="treat resampling, down-mixing and clips too short for openSMILE as errors")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = check_release(args.data_dir, audio=not args.no_audio, shots=args.shots, strict=args.strict)
    if args.report:
        write_text(args.report, json.dumps([p.__dict__ for p in report.problems], indent=2) + "\n")
    if args.first and report.errors:
        raise DataError(str(report.errors[0]))
    print(report.format())
    return 0 if report.ok else 1
