"""`exvo-jax` command line: parses arguments and hands over to one module per subcommand.

Each module in `exvo_jax.commands` exposes `register(subparsers)`, which adds its subparser and sets
`func` to a function taking the parsed arguments and returning an exit code. Bad input (a `DataError`)
is printed as one `error: <file>: <problem>` line on stderr, with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from exvo_jax.data.errors import DataError

COMMANDS = (
    "synth",
    "check",
    "validate_submission",
    "score",
    "multitask",
    "fewshot",
    "generate",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exvo-jax", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"exvo_jax.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DataError as err:
        print("error: " + "; ".join(line.strip() for line in str(err).splitlines() if line.strip()), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
