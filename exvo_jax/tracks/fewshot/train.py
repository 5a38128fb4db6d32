"""Few-shot track end to end: train, choose the adaptation on Val speakers, episodic training, Table 4.

`train_and_evaluate(config, workdir)`:
1. trains the speaker-independent model on Train (best epoch by mean CCC on the selection split, orbax
   checkpoints);
2. computes encoder features of every clip once (the encoder stays frozen from here on);
3. chooses adaptation mode, K and learning rate (for `ridge`: its strength) on the selection speakers
   (support = first `shots` clips of each speaker, query = the rest), scoring every grid point with the
   same protocol (`selection`);
4. optionally meta-trains the head on Train speakers (episodic) and compares speaker-normalised
   features with plain ones on the same protocol, and keeps the head that did better there;
5. writes Table 4 rows (no adaptation, adapted, episodic + adapted, each mode at its best settings, timed,
   and the yardsticks: Train mean and a ridge regression on eGeMAPS functionals, `yardstick`) for the
   report split as Markdown and JSON, the selected settings, and the trained weights for `predict`.

Every choice (epoch, adaptation settings, head) is made on a selection split and Table 4 is scored on
speakers that made none of them (`protocol_splits`): with Test labels (as in the synthetic corpus),
selection on Val and report on Test; without them, Val speakers halved into "Val-select" and
"Val-heldout".
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import jax
import ml_collections
import numpy as np

from exvo_jax.data.errors import DataError
from exvo_jax.data.release import DATA_INFO, TEST_LABELS, Corpus, label_arrays, read_release
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.data.speakers import halve_by_speaker, validate_fewshot_protocol
from exvo_jax.parallel import describe_runtime, format_runtime
from exvo_jax.recognition.framing import load_frames
from exvo_jax.recognition.inference import encode_clips, predict_clips
from exvo_jax.recognition.training import FramedSet, build_model, fit, train_mesh
from exvo_jax.run import Run, data_fingerprint, export_model, open_run
from exvo_jax.run.config_diff import plain_config
from exvo_jax.tracks.fewshot.adapt import AdaptSettings
from exvo_jax.tracks.fewshot.config import WATCH
from exvo_jax.tracks.fewshot.episodic import (EpisodicSettings, SpeakerClips, check_meta_batch, meta_train,
                                              speaker_normalise)
from exvo_jax.tracks.fewshot.report import plot_history, render_table, table_header, write_json
from exvo_jax.tracks.fewshot.selection import (EvalSet, Scorer, adapt_settings, describe, eval_set, mode_rows,
                                               select_adaptation)
from exvo_jax.tracks.fewshot.yardstick import protocol_functionals, yardstick_rows

RESULTS_JSON = "fewshot_results.json"
TABLE_MD = "fewshot_table4.md"
PLOT_PNG = "fewshot_training.png"
SELECT, HELDOUT = "Val-select", "Val-heldout"
VAL_SPLIT_SEED = 0  # fixed: every run on a release reports on the same held-out Val speakers

log = logging.getLogger(__name__)


def read_corpus(config: ml_collections.ConfigDict) -> tuple[Corpus, bool]:
    """The release and whether its Test labels (`test_labels.csv`) are present."""
    root = Path(config.data_dir)
    with_test = (root / TEST_LABELS).exists()
    return read_release(root, test_labels=with_test), with_test


def protocol_splits(corpus: Corpus, with_test: bool) -> tuple[dict[str, list], str, str]:
    """Labelled clips of Train, the selection split and the report split, and the names of the last two.

    With Test labels: select on Val, report on Test. Without: Val speakers are halved by a seeded
    shuffle of their ids (`VAL_SPLIT_SEED`); the best epoch, adaptation settings and head are chosen on
    "Val-select", and Table 4 is scored on the "Val-heldout" speakers, which influenced none of them.
    """
    labelled = {name: [c for c in corpus.split(name) if c.labelled] for name in ("Train", "Val", "Test")}
    if with_test:
        return labelled, "Val", "Test"
    select, heldout = halve_by_speaker(labelled["Val"], seed=VAL_SPLIT_SEED)
    return {"Train": labelled["Train"], SELECT: select, HELDOUT: heldout}, SELECT, HELDOUT


def training_speakers(clips, features, targets) -> list[SpeakerClips]:
    groups: dict[str, list[int]] = {}
    for i, clip in enumerate(clips):
        groups.setdefault(clip.speaker, []).append(i)
    return [SpeakerClips(tuple(features[i] for i in idx), targets[idx]) for idx in groups.values()]


def episodic_stage(config, head, selected: AdaptSettings, splits, features, targets, val: EvalSet, test: EvalSet,
                   score: Scorer) -> dict:
    """Episodic training and its controls: rows for the selection / report splits, comparisons on the
    selection split (`val`), the meta-trained head."""
    inner = selected if selected.mode in ("full", "bias_head") else dataclasses.replace(selected, mode="full")
    plain = dataclasses.replace(inner, steps=0)
    meta = EpisodicSettings(steps=config.episodic.steps, meta_batch=config.episodic.meta_batch,
                            query_clips=config.episodic.query_clips, learning_rate=config.episodic.learning_rate,
                            first_order=config.episodic.first_order, seed=config.seed)
    common = dict(hidden=config.model.hidden, outputs=config.model.outputs, shots=config.shots,
                  buckets=tuple(config.buckets), progress=score.progress)
    speakers = training_speakers(splits["Train"], features["Train"], targets["Train"])
    episodic_head = meta_train(head, speakers, inner, meta, **common)
    control_head = meta_train(head, speakers, plain, meta, **common)
    setting = f"episodic + adapted ({describe(inner)})"
    stage = {
        "head": episodic_head,
        "settings": inner,
        "val_row": score(setting, val, episodic_head, inner),
        "test_row": score(setting, test, episodic_head, inner),
        "comparisons": {"plain_continued_adapted": score(
            f"plain head training, same batches + adapted ({describe(inner)})", val, control_head, inner)},
    }
    if config.speaker_norm:
        norm = {name: speaker_normalise(features[name], [c.speaker for c in splits[name]]) for name in features}
        norm_head = meta_train(head, training_speakers(splits["Train"], norm["Train"], targets["Train"]), plain, meta,
                               **common)
        norm_val = eval_set(val.split, splits[val.split], norm[val.split], targets[val.split], config.shots)
        stage["comparisons"]["speaker_normalised_adapted"] = score(
            f"speaker-normalised features + adapted ({describe(inner)})", norm_val, norm_head, inner)
    return stage


def input_files(corpus: Corpus, with_test: bool, splits: dict[str, list]) -> list[Path]:
    """What the run reads, for its data fingerprint: data_info.csv (and test_labels.csv) and the audio used."""
    tables = [corpus.root / DATA_INFO] + ([corpus.root / TEST_LABELS] if with_test else [])
    return tables + [c.wav_path for clips in splits.values() for c in clips]


def run_mesh(config: ml_collections.ConfigDict):
    """The training mesh (`config.mesh`); a bad mesh or a meta-batch the devices cannot split is a `DataError`."""
    mesh = train_mesh(config)
    if config.episodic.enabled:
        try:
            check_meta_batch(config.episodic.meta_batch)
        except ValueError as err:
            raise DataError(f"{err}; set episodic.meta_batch to a multiple of {jax.device_count()}") from None
    return mesh


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str | Path, progress: bool = True,
                       overwrite: bool = False) -> dict:
    """Runs the whole track for one hidden size; returns the results dict (also written to workdir).

    The inputs are read and checked (every Val / Test speaker has `shots` clips, the mesh fits) before
    the workdir is claimed. The workdir belongs to the run layer: a rerun resumes the training from its
    last epoch with the same config (up to watch fields such as `train.epochs`) and data, and is refused
    otherwise; `overwrite` starts afresh. With several processes every process runs this and process 0
    alone writes the outputs.
    """
    corpus, with_test = read_corpus(config)
    validate_fewshot_protocol(corpus, shots=config.shots)
    mesh = run_mesh(config)
    splits, select, report = protocol_splits(corpus, with_test)
    frames = {name: load_frames([c.wav_path for c in clips], config.max_frames, progress)
              for name, clips in splits.items()}
    targets = {name: label_arrays(clips)["emotions"][:, : config.model.outputs] for name, clips in splits.items()}
    fingerprint = data_fingerprint(input_files(corpus, with_test, splits))
    with open_run(workdir, config, fingerprint, overwrite=overwrite, watch_fields=WATCH) as run:
        runtime = describe_runtime(mesh)
        log.info("%s", format_runtime(runtime))
        run.log_event("start", runtime=runtime)
        functionals = (protocol_functionals(config, corpus, splits, run.workdir, progress and run.is_primary)
                       if config.yardstick.enabled else None)
        return run_protocol(config, run, mesh, splits, select, report, frames, targets,
                            progress and run.is_primary, functionals)


def run_protocol(config: ml_collections.ConfigDict, run: Run, mesh, splits: dict[str, list], select: str,
                 report: str, frames: dict, targets: dict, progress: bool, functionals: dict | None = None) -> dict:
    """Steps 1-5 of the module docstring in an open run, on framed clips and targets of every split
    (`functionals`: the yardstick's features of every split, None to leave the ridge yardstick out)."""
    workdir = run.workdir
    names = list(EMOTIONS)[: config.model.outputs]
    buckets = tuple(config.buckets)
    record, history = fit(config, run, FramedSet(frames["Train"], targets["Train"]),
                          FramedSet(frames[select], targets[select]), mesh=mesh, progress=progress)
    model = build_model(config)
    variables = {"params": record.best_params, "batch_stats": record.best_batch_stats}
    features = {name: encode_clips(model, variables, f, batch_size=config.eval_batch_size, buckets=buckets,
                                   progress=progress, mesh=mesh) for name, f in frames.items()}
    head = record.best_params["head"]
    val_predictions = predict_clips(model, variables, frames[select], batch_size=config.eval_batch_size,
                                    buckets=buckets, mesh=mesh)
    mse = {"model": float(np.mean(np.square(val_predictions - targets[select]))),
           "train_mean_predictor": float(np.mean(np.square(targets["Train"].mean(0) - targets[select])))}
    model_name = f"H={config.model.hidden}"
    score = Scorer(config, model_name, names, progress)

    val = eval_set(select, splits[select], features[select], targets[select], config.shots)
    test = eval_set(report, splits[report], features[report], targets[report], config.shots)
    no_adapt = adapt_settings(config, "full", 0, 0.0)
    selection = select_adaptation(head, val, config, names, progress)
    selected, grid = selection.best(), selection.grid
    modes = {m: max(g["val_mean_ccc"] for g in grid if g["mode"] == m) for m in config.adapt.modes}
    adapted = f"adapted ({describe(selected)})"
    val_rows = [score("no adaptation", val, head, no_adapt), score(adapted, val, head, selected)]
    rows = [score("no adaptation", test, head, no_adapt), score(adapted, test, head, selected)]

    comparisons: dict = {}
    episodic_head, predict_head, predict_settings = head, "plain", selected
    if config.episodic.enabled:
        stage = episodic_stage(config, head, selection.gradient_settings(config), splits, features, targets, val,
                               test, score)
        val_rows.append(stage["val_row"])
        rows.append(stage["test_row"])
        comparisons = stage["comparisons"]
        episodic_head = stage["head"]
        if stage["val_row"]["mean_ccc"] > val_rows[1]["mean_ccc"]:
            predict_head, predict_settings = "episodic", stage["settings"]
    rows += mode_rows(score, test, head, selection, config.adapt.modes, rows[1])
    yardstick = None
    if functionals is not None:
        (val_marks, test_marks), alphas = yardstick_rows(config, functionals, targets, (val, test), names)
        val_rows += val_marks
        rows += test_marks
        yardstick = {"feature_set": config.yardstick.feature_set, "selection": alphas}

    model_dir = export_model(workdir, {"params": record.best_params, "batch_stats": record.best_batch_stats,
                                       "episodic_head": episodic_head},
                             {"config": plain_config(config), "predict_head": predict_head,
                              "predict_settings": dataclasses.asdict(predict_settings)})
    paths = {"markdown": str(workdir / TABLE_MD), "json": str(workdir / RESULTS_JSON),
             "plot": str(workdir / PLOT_PNG), "model": str(model_dir)}
    results = {
        "hidden": config.model.hidden,
        "best_epoch": int(record.best_epoch) + 1,
        "epochs_run": int(record.epoch),
        "val_mean_ccc_speaker_independent": float(record.best_score),
        "val_mse_speaker_independent": mse,
        "history": history,
        "selection": grid,
        "selected": dataclasses.asdict(selected),
        "modes": modes,
        "table": rows,
        "validation_table": val_rows,
        "comparisons": comparisons,
        "yardstick": yardstick,
        "eval_split": test.split,
        "selection_split": val.split,
        "predict_head": predict_head,  # the better head on the selection speakers, used by `predict`
        "predict_settings": dataclasses.asdict(predict_settings),
        "paths": paths,
    }
    header = table_header(model_name, test.split, val.split, config.shots, held_out=test.split == HELDOUT)
    val_part = (f"\n## Selection speakers ({val.split}; these chose the settings above)\n\n"
                + render_table(val_rows + list(comparisons.values())))
    run.write_text(TABLE_MD, header + render_table(rows) + val_part)
    if run.is_primary:
        write_json(Path(paths["json"]), results)
        plot_history(Path(paths["plot"]), history, grid)
    return results
