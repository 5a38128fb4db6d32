"""`exvo-jax synth`: writes a deterministic synthetic corpus in the release layout and prints its summary."""

from __future__ import annotations

import argparse
import sys

from exvo_jax.synth import format_summary, write_corpus


def register(subparsers) -> None:
    parser = subparsers.add_parser("synth", help=__doc__.split(": ", 1)[1].rstrip("."))
    parser.add_argument("--out", required=True, help="output folder (release layout)")
    parser.add_argument("--speakers", type=int, default=60, help="number of speakers (>= 3)")
    parser.add_argument("--clips-per-speaker", type=int, default=6,
                        help="mean clips per speaker (>= 3; every speaker gets at least 3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (>= 0)")
    parser.add_argument("--overwrite", action="store_true", help="replace a corpus already in --out")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        summary = write_corpus(args.out, speakers=args.speakers, clips_per_speaker=args.clips_per_speaker,
                               seed=args.seed, overwrite=args.overwrite, progress=not args.no_progress)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    return 0
