"""`exvo-jax fewshot {train,evaluate,predict}`: speaker-independent training and per-speaker personalisation.

    exvo-jax fewshot train --config experiments/fewshot/h256.py[:tiny] --workdir runs/fewshot_h256 [--data-dir DIR]
    exvo-jax fewshot evaluate --workdirs runs/fewshot_h64 runs/fewshot_h128 runs/fewshot_h256 [--out table4.md]
    exvo-jax fewshot predict --workdir runs/fewshot_h256 --data-dir DIR --out submissions/ [--support-labels CSV]

`train` runs the whole protocol (training, adaptation chosen on Val speakers, episodic training,
Table 4) and resumes from the last finished epoch when re-run with the same workdir and config (a
changed config is refused unless only watch fields such as `train.epochs` differ; `--overwrite` starts
afresh). With `--coordinator-address/--num-processes/--process-id` it runs as one of several processes.
`evaluate` gathers the Table 4 rows of several runs (one per hidden size) into one table.
"""

from __future__ import annotations

import argparse

from exvo_jax.commands.training_run import add_evaluate_action, add_train_arguments, run_training


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("fewshot", help="train, evaluate or predict the few-shot personalisation track")
    actions = parser.add_subparsers(dest="action", required=True)
    train = actions.add_parser("train", help="train, choose the adaptation on Val speakers, write Table 4")
    add_train_arguments(train, "fewshot", "checkpoints, fewshot_table4.md/json, model/")
    train.set_defaults(func=run_train)
    add_evaluate_action(actions, "fewshot", "one Table 4 from several finished runs (e.g. H=64/128/256)")
    predict = actions.add_parser("predict", help="adapt to every speaker of a split and write ExVo-Few_<team>_<n>.csv")
    predict.add_argument("--workdir", required=True, help="workdir of a finished `fewshot train`")
    predict.add_argument("--data-dir", required=True, help="release folder")
    predict.add_argument("--out", required=True, help="output folder")
    predict.add_argument("--split", default="Test", choices=("Val", "Test"))
    predict.add_argument("--support-labels", help="CSV (data_info layout) with the labelled support clips")
    predict.add_argument("--team", default="exvo-jax")
    predict.add_argument("--number", type=int, default=1)
    predict.set_defaults(func=run_predict)


def run_train(args: argparse.Namespace) -> int:
    from exvo_jax.tracks import fewshot

    return run_training(args, fewshot.settings, fewshot.train)


def run_predict(args: argparse.Namespace) -> int:
    from exvo_jax.tracks import fewshot

    print(fewshot.predict(args.workdir, args.data_dir, args.out, split=args.split, support_labels=args.support_labels,
                          team=args.team, number=args.number))
    return 0
