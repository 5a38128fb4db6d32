"""`exvo-jax validate-submission PATH --data DATA_DIR [--split {Val,Test}]`: checks a submission before upload.

A CSV's track (multitask or few-shot) is decided from its columns; a folder is a generation
submission. Every problem is printed with its row; the exit code is 1 when the submission is invalid.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from exvo_jax.data.errors import DataError
from exvo_jax.data.release import read_release
from exvo_jax.submission.formats import CLIPS_PER_EMOTION
from exvo_jax.submission.validate import validate_submission


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate-submission", help="check a submission CSV or generation folder")
    parser.add_argument("path", help="ExVo-Multi_*.csv, ExVo-Few_*.csv, or a folder of per-emotion wav folders")
    parser.add_argument("--data", metavar="DATA_DIR", help="release folder with data_info.csv (needed for CSV submissions)")
    parser.add_argument("--split", choices=("Val", "Test"), default="Test", help="split the predictions cover")
    parser.add_argument("--clips-per-emotion", type=int, default=CLIPS_PER_EMOTION,
                        help="generated clips expected per emotion folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    corpus = read_release(args.data) if args.data else None
    if corpus is None and not Path(args.path).is_dir():
        raise DataError(f"{args.path}: --data DATA_DIR is required to validate a CSV submission")
    report = validate_submission(args.path, corpus, args.split, args.clips_per_emotion)
    for problem in report.problems:
        print(f"{problem.severity}: {problem}")
    if report.ok:
        print(f"{report.path}: valid {report.track} submission")
        return 0
    print(f"{report.path}: INVALID ({len(report.errors)} error(s))")
    return 1

