"""`exvo-jax multitask {train,evaluate,predict}`: multi-seed training on clip features, and predictions.

    exvo-jax multitask train --config experiments/multitask/compare.py[:tiny] --workdir runs/compare [--data-dir DIR]
    exvo-jax multitask evaluate --workdirs runs/compare runs/egemaps [--out table2.md]
    exvo-jax multitask predict --workdir runs/compare --data-dir DIR --out submissions/
    exvo-jax multitask predict --workdir runs/compare --audio-dir my_clips/ --out predictions.csv

Re-running `train` with the same workdir resumes from the last checkpoint; a different config (other
than the epoch budget, patience, checkpoint cadence, feature workers and cache, mesh and strategy) or
different data are refused unless `--overwrite`. On several processes (hosts sharing the workdir), run the same command in
each with `--coordinator-address HOST:PORT --num-processes N --process-id I`, and `--set mesh.data=K` to
split mini-batches as well as seeds over devices.
"""

from __future__ import annotations

import argparse

from exvo_jax.commands.training_run import add_evaluate_action, add_train_arguments, run_training


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("multitask", help="train the multitask baseline or predict with it")
    actions = parser.add_subparsers(dest="action", required=True)
    train = actions.add_parser("train", help="train every seed of a config and write the validation table")
    add_train_arguments(train, "multitask", "checkpoints, results.md/json, losses.png, model/")
    train.set_defaults(func=run_train)
    add_evaluate_action(actions, "multitask", "one table of several finished runs (e.g. one per feature set)")
    predict = actions.add_parser("predict", help="write the submission and validation predictions, or label a folder")
    predict.add_argument("--workdir", required=True, help="workdir of a finished `multitask train`")
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--data-dir", help="release folder: predicts Val and Test")
    source.add_argument("--audio-dir", help="any folder of audio files: features are extracted on the fly")
    predict.add_argument("--out", required=True, help="output folder (--data-dir) or CSV file (--audio-dir)")
    predict.add_argument("--team", default="exvo-jax")
    predict.add_argument("--number", type=int, default=1)
    predict.set_defaults(func=run_predict)


def run_train(args: argparse.Namespace) -> int:
    from exvo_jax.tracks import multitask

    return run_training(args, multitask.settings, multitask.train)


def run_predict(args: argparse.Namespace) -> int:
    from exvo_jax.tracks import multitask

    written = multitask.predict(args.workdir, args.out, data_dir=args.data_dir, audio_dir=args.audio_dir,
                                team=args.team, number=args.number)
    for split, path in written.items():
        print(path if split == "folder" else f"{split}: {path}")
    return 0
