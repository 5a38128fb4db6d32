"""`exvo-jax generate {train,sample,...}`: train the mel GANs of the Generate track, and write a submission from them.

    exvo-jax generate train --config experiments/generate/msg_gan.py[:tiny] --data-dir DIR --workdir runs/msg_gan
    exvo-jax generate sample --workdir runs/msg_gan --all --n 100 --out submissions/generate

`train` resumes from the workdir's last checkpoint; a different config (other than the iteration budget,
cadences, previews and mesh) or different data are refused unless `--overwrite`. `sample` always uses the
EMA generator weights and writes `<out>/<Emotion>/<Emotion>_<k>.wav` (16 kHz mono), the layout that
`exvo-jax validate-submission` checks. The evaluation actions (`classifier`, `fid`, `table3`) are in
`exvo_jax.commands.generate_evaluation`.
"""

from __future__ import annotations

import argparse

from exvo_jax.commands.generate_evaluation import register_actions
from exvo_jax.commands.training_run import add_train_arguments, print_paths, run_training
from exvo_jax.submission.formats import CLIPS_PER_EMOTION


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("generate", help="train the Generate-track GANs or sample a submission from them")
    actions = parser.add_subparsers(dest="action", required=True)
    train = actions.add_parser("train", help="train the per-emotion or conditional mel GANs of a config")
    add_train_arguments(train, "generate", "checkpoints, model/ (EMA generators), samples/, metrics.jsonl")
    train.set_defaults(func=run_train)
    sample = actions.add_parser("sample", help="write generated clips per emotion (EMA weights) as 16 kHz wavs")
    sample.add_argument("--workdir", required=True, help="workdir of a `generate train` run")
    which = sample.add_mutually_exclusive_group(required=True)
    which.add_argument("--emotion", action="append", metavar="NAME", help="an emotion to generate (repeatable)")
    which.add_argument("--all", action="store_true", help="every emotion the run has a model for")
    sample.add_argument("--n", type=int, default=CLIPS_PER_EMOTION, help="clips per emotion")
    sample.add_argument("--out", required=True, help="submission folder (one sub-folder per emotion)")
    sample.add_argument("--seed", type=int, default=0, help="latent and Griffin-Lim phase seed")
    sample.set_defaults(func=run_sample)
    register_actions(actions)  # classifier, fid, table3


def run_train(args: argparse.Namespace) -> int:
    from exvo_jax.tracks import generate

    return run_training(args, generate.settings, generate.train, report_training)


def report_training(results: dict) -> None:
    print(f"trained {', '.join(results['names'])} to iteration {results['step']}")
    print_paths(results)


def run_sample(args: argparse.Namespace) -> int:
    from exvo_jax.tracks import generate

    paths = generate.predict(args.workdir, args.out, None if args.all else args.emotion, args.n, seed=args.seed)
    print(f"{len(paths)} clips written under {args.out}")
    return 0
