"""Arguments, run and output shared by the tracks' actions: `train` (config file, workdir, data folder, overrides)
and `evaluate` (one table of several finished runs).

A missing config file or data folder and an unknown `--set` key stop the command before anything is
written to the workdir.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path

import ml_collections

from exvo_jax.atomic import write_text
from exvo_jax.config_files import apply_override, load_config
from exvo_jax.data.errors import DataError
from exvo_jax.parallel import add_distributed_arguments, initialize, is_main_process


def add_train_arguments(parser: argparse.ArgumentParser, track: str, outputs: str) -> None:
    parser.add_argument("--config", required=True, help=f"experiments/{track}/<name>.py[:arg]")
    parser.add_argument("--workdir", required=True, help=outputs)
    parser.add_argument("--data-dir", help="corpus folder (overrides config.data_dir)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field (Python literal; dotted keys), e.g. --set max_epochs=5")
    parser.add_argument("--overwrite", action="store_true",
                        help="start afresh: remove the earlier run's checkpoints, model, metrics and records "
                             "(other files in the workdir are kept); default: resume it")
    add_distributed_arguments(parser)


def config_from_args(args: argparse.Namespace) -> ml_collections.ConfigDict:
    config = load_config(args.config)
    if args.data_dir:
        if not Path(args.data_dir).is_dir():
            raise DataError(f"{args.data_dir}: data folder not found (--data-dir)")
        config.data_dir = args.data_dir
    for assignment in args.set:
        try:
            apply_override(config, assignment)
        except DataError as err:
            raise DataError(f"{args.config}: {err}") from None
    return config


def run_training(args: argparse.Namespace, settings: Callable, train: Callable[..., dict],
                 report: Callable[[dict], None] | None = None) -> int:
    """Joins the distributed run (if any), converts the config of `args` into the track's settings with
    `settings(config)`, trains or resumes with `train(settings, workdir, overwrite=...)`, and prints
    `report(results)` (default `print_results`) on the one process that wrote the outputs."""
    initialize(args)
    results = train(settings(config_from_args(args)), args.workdir, overwrite=args.overwrite)
    if is_main_process():
        (report or print_results)(results)
    return 0


def print_results(results: dict) -> None:
    """The run's Markdown table, then every path it wrote."""
    print(Path(results["paths"]["markdown"]).read_text())
    print_paths(results)


def print_paths(results: dict) -> None:
    for name, path in results["paths"].items():
        print(f"{name}: {path}")


def add_evaluate_action(actions: argparse._SubParsersAction, track: str, help: str) -> None:
    """`exvo-jax <track> evaluate --workdirs W... [--out FILE]`: the track's `evaluate(workdirs)` table."""
    evaluate = actions.add_parser("evaluate", help=help)
    evaluate.add_argument("--workdirs", nargs="+", required=True)
    evaluate.add_argument("--out", help="also write the table to this Markdown file")
    evaluate.set_defaults(func=lambda args: run_evaluate(args, track))


def run_evaluate(args: argparse.Namespace, track: str) -> int:
    table = importlib.import_module(f"exvo_jax.tracks.{track}").evaluate(args.workdirs)
    print(table)
    if args.out:
        write_text(args.out, table)
    return 0
