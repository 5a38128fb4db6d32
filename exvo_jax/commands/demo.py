"""`exvo-jax demo [--out DIR] [--size {tiny,small,full}] [--data DIR]`: every track end to end, one report.

Without `--data` the corpus is the built-in synthetic one; with it, a HUME-VB release (every track) or a
nonverbal-vocalisation corpus (multitask and few-shot; it has no emotion intensities to generate from).
`--size` picks the configs whatever the data (`tiny` for tests, `small` about 10 CPU-minutes, `full` the
paper-sized models). Rerunning the same command skips finished stages and resumes an interrupted one.
"""

from __future__ import annotations

import argparse

from exvo_jax.config_files import load_config

DEFAULT_CONFIG = "experiments/demo.py"
SIZES = ("tiny", "small", "full")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run every track end to end and write a report (HTML, Markdown, JSON)")
    parser.add_argument("--out", default="runs/demo", help="run folder (corpus, tracks, submissions, report.html)")
    parser.add_argument("--size", choices=SIZES, default="small", help="configs: tiny (tests), small, full (paper)")
    parser.add_argument("--data", default=None,
                        help="a HUME-VB release or a nonverbal-vocalisation corpus (default: the synthetic corpus)")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the demo's config file (get_config(size))")
    parser.add_argument("--no-progress", action="store_true", help="hide every progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from exvo_jax.demo import run_demo

    result = run_demo(load_config(f"{args.config}:{args.size}"), args.out, data=args.data,
                      progress=not args.no_progress)
    for kind, path in result["report"].items():
        print(f"report ({kind}): {path}")
    return 0
