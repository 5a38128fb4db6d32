"""`exvo-jax check DATA_DIR`: validates a corpus folder, reporting every problem (or stopping at the first).

A HUME-VB release (`data_info.csv`, `wav/`) gets the release checks; a nonverbal-vocalisation corpus
(its metadata file beside `<class>/*.wav`) gets its own (`exvo_jax.data.nonverbal_check`).
"""

from __future__ import annotations

import argparse
import json

from exvo_jax.atomic import write_text
from pathlib import Path

from exvo_jax.data.check import check_release
from exvo_jax.data.errors import DataError
from exvo_jax.data.nonverbal import METADATA_FILE
from exvo_jax.data.nonverbal_check import nonverbal_problems


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check", help="check a corpus folder (labels, ids, audio, speakers)")
    parser.add_argument("data_dir", help="a release (data_info.csv and wav/) or a nonverbal-vocalisation corpus")
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
    if (Path(args.data_dir) / METADATA_FILE).exists():
        found, counts = nonverbal_problems(args.data_dir, args.shots, progress=True)
        problems = tuple(found.items)
        parts = ", ".join(f"{name} {c['clips']}" for name, c in counts["split"].items())
        errors = [p for p in problems if p.severity == "error"]
        text = "\n".join([f"{args.data_dir}: {counts['clips']} clips, {counts['speakers']} speakers ({parts})",
                          *(f"{p.severity}: {p}" for p in problems),
                          f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)"])
    else:
        report = check_release(args.data_dir, audio=not args.no_audio, shots=args.shots, strict=args.strict)
        problems, errors, text = report.problems, report.errors, report.format()
    if args.report:
        write_text(args.report, json.dumps([p.__dict__ for p in problems], indent=2) + "\n")
    if args.first and errors:
        raise DataError(str(errors[0]))
    print(text)
    return 0 if not errors else 1
