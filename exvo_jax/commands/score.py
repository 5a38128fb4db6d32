"""`exvo-jax score {multitask,fewshot} --predictions CSV --data DATA_DIR --split {Val,Test} [--json]`.

Prints the official scores as a table, or with `--json` only a JSON object (`ccc`, `ccc_per_emotion`,
and for multitask `uar`, `mae`, `s_mtl`). Non-finite values are written as JSON null.
"""

from __future__ import annotations

import argparse
import json
import math

from rich.console import Console
from rich.table import Table

from exvo_jax.metrics import CCC_VARIANTS
from exvo_jax.submission.formats import CSV_TRACKS
from exvo_jax.submission.scoring import score_submission

LABELS = {"ccc": "mean CCC", "uar": "country UAR", "mae": "age MAE (years)", "s_mtl": "S_MTL"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("score", help="score a multitask or few-shot submission against split labels")
    parser.add_argument("track", choices=CSV_TRACKS)
    parser.add_argument("--predictions", required=True, metavar="CSV", help="submission CSV")
    parser.add_argument("--data", required=True, metavar="DATA_DIR", help="release folder (Test needs test_labels.csv)")
    parser.add_argument("--split", required=True, choices=("Val", "Test"))
    parser.add_argument("--ccc-variant", choices=CCC_VARIANTS, default="population",
                        help="population (textbook, default) or reference (multitask script: 1/(N-1) variances)")
    parser.add_argument("--reference-rounding", action="store_true",
                        help="round per-emotion CCCs and reported values to 4 decimals, as the reference script")
    parser.add_argument("--json", action="store_true", help="print only a JSON object")
    parser.set_defaults(func=run)


def _finite_or_none(value):
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    return value if math.isfinite(value) else None


def run(args: argparse.Namespace) -> int:
    scores = score_submission(args.predictions, args.data, args.split, args.track, args.ccc_variant,
                              args.reference_rounding)
    if args.json:
        print(json.dumps({k: _finite_or_none(v) for k, v in scores.items()}, indent=2))
        return 0
    table = Table(title=f"{args.track} scores, {args.split} split (CCC: {args.ccc_variant} form)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, label in LABELS.items():
        if key in scores:
            table.add_row(label, f"{scores[key]:.4f}")
    for emotion, value in scores["ccc_per_emotion"].items():
        table.add_row(f"  CCC {emotion}", f"{value:.4f}")
    Console().print(table)
    return 0
