"""`exvo-jax generate {classifier,fid,table3}`: the FID classifier, distances of generated clips, Table 3.

    exvo-jax generate classifier --config experiments/generate/classifier.py[:tiny] --data-dir DIR --workdir W
    exvo-jax generate fid --generated DIR (--reference DIR_OF_WAVS | --reference-stats FILE |
        --data-dir DIR --split S --emotion E) --classifier W [--json]
    exvo-jax generate table3 --classifier W --data-dir DIR [--generated NAME=DIR ...] [--ratings NAME=CSV ...]
        --out OUT

`classifier` trains (or resumes) the emotion classifier and prints its held-out CCC per emotion. `fid`
prints the FID, FD-infinity and KID (with its standard error) of every wav under `--generated` against
the reference; KID needs reference clips, so with `--reference-stats` it is omitted. `table3` writes the
Train-vs-Val FID matrix and, per generation submission folder, per-emotion FID, HEEP and S_Gen.
"""

from __future__ import annotations

import argparse
import json

from exvo_jax.commands.training_run import add_train_arguments, print_paths, run_training
from exvo_jax.data.errors import DataError
from exvo_jax.data.schema import SPLITS


def register_actions(actions: argparse._SubParsersAction) -> None:
    classifier = actions.add_parser("classifier", help="train the emotion classifier whose features the FID uses")
    add_train_arguments(classifier, "generate", "checkpoints, model/, classifier_results.json, fid_stats/")
    classifier.set_defaults(func=run_classifier)

    fid = actions.add_parser("fid", help="FID, FD-infinity and KID of generated clips in the classifier's space")
    fid.add_argument("--generated", required=True, help="folder of generated wavs (sub-folders included)")
    reference = fid.add_mutually_exclusive_group(required=True)
    reference.add_argument("--reference", help="folder of real wavs")
    reference.add_argument("--reference-stats", help="statistics file ({mu, sigma}: .pkl, .pickle or .npz)")
    reference.add_argument("--data-dir", help="release folder: its clips of --split with intensity 1.0 for --emotion")
    fid.add_argument("--split", choices=SPLITS, default="Train")
    fid.add_argument("--emotion", help="with --data-dir: the emotion whose clips are the reference")
    fid.add_argument("--classifier", required=True, help="workdir of `exvo-jax generate classifier`")
    fid.add_argument("--json", action="store_true", help="print the report as JSON")
    fid.set_defaults(func=run_fid)

    table = actions.add_parser("table3", help="Train-vs-Val FID matrix, per-emotion FID, HEEP and S_Gen of generators")
    table.add_argument("--classifier", required=True, help="workdir of `exvo-jax generate classifier`")
    table.add_argument("--data-dir", required=True, help="release folder")
    table.add_argument("--generated", action="append", default=[], metavar="NAME=DIR",
                       help="a generation submission folder (<Emotion>/*.wav) and its model's name (repeatable)")
    table.add_argument("--ratings", action="append", default=[], metavar="NAME=CSV",
                       help="human ratings of NAME's files (File + ten emotion columns); default: classifier proxy")
    table.add_argument("--split", choices=SPLITS, default="Train", help="real clips the generators are compared with")
    table.add_argument("--out", required=True, help="folder for table3.md, table3.json, table3.png")
    table.set_defaults(func=run_table3)


def run_classifier(args: argparse.Namespace) -> int:
    from exvo_jax.tracks import generate

    return run_training(args, generate.classifier_settings, generate.train_classifier, report_classifier)


def report_classifier(results: dict) -> None:
    print(f"held-out CCC ({results['held_out_split']}, {results['held_out_clips']} clips, "
          f"best epoch {results['best_epoch']}):")
    for emotion, value in results["held_out_ccc"].items():
        print(f"  {emotion:12s} {value:.4f}")
    print(f"  {'mean':12s} {results['held_out_mean_ccc']:.4f}")
    print_paths(results)


def run_fid(args: argparse.Namespace) -> int:
    from exvo_jax.tracks import generate

    report = generate.fid_of_folder(args.generated, args.classifier, reference=args.reference,
                                    reference_stats=args.reference_stats, data_dir=args.data_dir, split=args.split,
                                    emotion=args.emotion, progress=not args.json)
    if args.json:
        print(json.dumps(report))
    else:
        for name in ("fid", "fd_infinity", "kid", "kid_se", "n_generated", "n_reference"):
            value = report[name]
            print(f"{name}: {'-' if value is None else (f'{value:.4f}' if isinstance(value, float) else value)}")
    return 0


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise DataError(f"{flag} {item!r}: expected NAME=PATH")
        pairs[name] = value
    return pairs


def run_table3(args: argparse.Namespace) -> int:
    from exvo_jax.tracks.generate import fid_table

    generated, ratings = _pairs(args.generated, "--generated"), _pairs(args.ratings, "--ratings")
    unknown = [name for name in ratings if name not in generated]
    if unknown:
        raise DataError(f"--ratings {unknown[0]}: no --generated folder has that name")
    table = fid_table(args.classifier, args.data_dir, generated, args.out, ratings=ratings, split=args.split,
                      progress=True)
    print(open(table["paths"]["markdown"]).read())
    for name, path in table["paths"].items():
        print(f"{name}: {path}")
    return 0
