"""Few-shot track end to end: train, choose the adaptation on Val speakers, episodic training, Table 4.

`train(settings, workdir)`:
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
   report split as Markdown and JSON, the selected settings, the trained weights for `predict`, and each
   report speaker's CCC before and after the chosen adaptation (`speakers`).

Every choice (epoch, adaptation settings, head) is made on a selection split and Table 4 is scored on
speakers that made none of them (`exvo_jax.recognition.protocol`, shared with the FID classifier): with
Test labels (as in the synthetic corpus), selection on Val and report on Test; without them, Val speakers
halved into "Val-select" and "Val-heldout".
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
from jax.sharding import Mesh

from exvo_jax.data.schema import EMOTIONS
from exvo_jax.data.speakers import validate_fewshot_protocol
from exvo_jax.parallel import describe_runtime, format_runtime
from exvo_jax.recognition.inference import encode_clips, predict_clips
from exvo_jax.recognition.protocol import HELDOUT, ProtocolData, fit_protocol, protocol_data
from exvo_jax.recognition.training import build_model, train_mesh
from exvo_jax.run import Run, data_fingerprint, export_model, open_run
from exvo_jax.run.config_diff import plain_config
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, adaptation_mesh
from exvo_jax.tracks.fewshot.nonverbal import train_nonverbal
from exvo_jax.tracks.fewshot.episodic import EpisodicSettings, SpeakerClips, meta_train, speaker_normalise
from exvo_jax.tracks.fewshot.config import WATCH, FewshotSettings
from exvo_jax.tracks.fewshot.report import (PLOT_PNG, RESULTS_JSON, TABLE_MD, plot_history, render_table,
                                            table_header, write_json)
from exvo_jax.tracks.fewshot.selection import (EvalSet, Scorer, adapt_settings, describe, eval_set, mode_rows,
                                               select_adaptation, speaker_ccc)
from exvo_jax.tracks.fewshot.yardstick import protocol_functionals, yardstick_rows


log = logging.getLogger(__name__)


def training_speakers(clips, features, targets) -> list[SpeakerClips]:
    groups: dict[str, list[int]] = {}
    for i, clip in enumerate(clips):
        groups.setdefault(clip.speaker, []).append(i)
    return [SpeakerClips(tuple(features[i] for i in idx), targets[idx]) for idx in groups.values()]


def episodic_stage(settings: FewshotSettings, head, selected: AdaptSettings, splits, features, targets, val: EvalSet, test: EvalSet,
                   score: Scorer) -> dict:
    """Episodic training and its controls: rows for the selection / report splits, comparisons on the
    selection split (`val`), the meta-trained head."""
    inner = selected if selected.mode in ("full", "bias_head") else dataclasses.replace(selected, mode="full")
    plain = dataclasses.replace(inner, steps=0)
    meta = EpisodicSettings(steps=settings.episodic.steps, meta_batch=settings.episodic.meta_batch,
                            query_clips=settings.episodic.query_clips, learning_rate=settings.episodic.learning_rate,
                            first_order=settings.episodic.first_order, seed=settings.seed)
    common = dict(hidden=settings.model.hidden, outputs=settings.model.outputs, shots=settings.shots,
                  buckets=tuple(settings.buckets), progress=score.progress, mesh=score.mesh)
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
    if settings.speaker_norm:
        norm = {name: speaker_normalise(features[name], [c.speaker for c in splits[name]]) for name in features}
        norm_head = meta_train(head, training_speakers(splits["Train"], norm["Train"], targets["Train"]), plain, meta,
                               **common)
        norm_val = eval_set(val.split, splits[val.split], norm[val.split], targets[val.split], settings.shots)
        stage["comparisons"]["speaker_normalised_adapted"] = score(
            f"speaker-normalised features + adapted ({describe(inner)})", norm_val, norm_head, inner)
    return stage


def train(settings: FewshotSettings, workdir: str | Path, *, overwrite: bool = False, progress: bool = True) -> dict:
    """Runs the whole track for one hidden size; returns the results dict (also written to workdir). On a
    nonverbal-vocalisation corpus (`dataset="nonverbal"`) it runs `exvo_jax.tracks.fewshot.nonverbal`.

    The inputs are read and checked (every Val / Test speaker has `shots` clips, the meshes fit) before
    the workdir is claimed. The workdir belongs to the run layer: a rerun resumes the training from its
    last epoch with the same settings (up to watch fields such as `train.epochs`) and data, and is refused
    otherwise; `overwrite` starts afresh. With several processes every process runs this and process 0
    alone writes the outputs.
    """
    if settings.dataset == "nonverbal":
        return train_nonverbal(settings, workdir, overwrite=overwrite, progress=progress)
    mesh, speakers = train_mesh(settings), adaptation_mesh(settings)
    data = protocol_data(settings, test_labels=True, progress=progress)
    validate_fewshot_protocol(data.corpus, shots=settings.shots)
    with open_run(workdir, settings, data_fingerprint(data.files), overwrite=overwrite, watch_fields=WATCH) as run:
        runtime = describe_runtime(mesh)
        log.info("%s", format_runtime(runtime))
        run.log_event("start", runtime=runtime)
        functionals = (protocol_functionals(settings, data.corpus, data.splits, run.workdir,
                                            progress and run.is_primary) if settings.yardstick.enabled else None)
        return run_protocol(settings, run, mesh, speakers, data, progress and run.is_primary, functionals)


def run_protocol(settings: FewshotSettings, run: Run, mesh: Mesh, speakers: Mesh, data: ProtocolData, progress: bool,
                 functionals: dict | None = None) -> dict:
    """Steps 1-5 of the module docstring in an open run, on the protocol's clips (`speakers`: the adaptation
    mesh; `functionals`: the yardstick's features of every split, None to leave the ridge yardstick out)."""
    workdir = run.workdir
    splits, select, report, frames, targets = data.splits, data.select, data.report, data.frames, data.targets
    names = list(EMOTIONS)[: settings.model.outputs]
    buckets = tuple(settings.buckets)
    record, history = fit_protocol(settings, run, data, mesh, progress=progress)
    model = build_model(settings)
    variables = {"params": record.best_params, "batch_stats": record.best_batch_stats}
    features = {name: encode_clips(model, variables, f, batch_size=settings.eval_batch_size, buckets=buckets,
                                   progress=progress, mesh=mesh) for name, f in frames.items()}
    head = record.best_params["head"]
    val_predictions = predict_clips(model, variables, frames[select], batch_size=settings.eval_batch_size,
                                    buckets=buckets, mesh=mesh)
    mse = {"model": float(np.mean(np.square(val_predictions - targets[select]))),
           "train_mean_predictor": float(np.mean(np.square(targets["Train"].mean(0) - targets[select])))}
    model_name = f"H={settings.model.hidden}"
    score = Scorer(settings, model_name, names, progress, speakers)

    val = eval_set(select, splits[select], features[select], targets[select], settings.shots)
    test = eval_set(report, splits[report], features[report], targets[report], settings.shots)
    no_adapt = adapt_settings(settings, "full", 0, 0.0)
    selection = select_adaptation(head, val, settings, names, progress, speakers)
    selected, grid = selection.best(), selection.grid
    modes = {m: max(g["val_mean_ccc"] for g in grid if g["mode"] == m) for m in settings.adapt.modes}
    adapted = f"adapted ({describe(selected)})"
    val_rows = [score("no adaptation", val, head, no_adapt), score(adapted, val, head, selected)]
    rows = [score("no adaptation", test, head, no_adapt), score(adapted, test, head, selected)]

    comparisons: dict = {}
    episodic_head, predict_head, predict_settings = head, "plain", selected
    if settings.episodic.enabled:
        stage = episodic_stage(settings, head, selection.gradient_settings(settings), splits, features, targets, val,
                               test, score)
        val_rows.append(stage["val_row"])
        rows.append(stage["test_row"])
        comparisons = stage["comparisons"]
        episodic_head = stage["head"]
        if stage["val_row"]["mean_ccc"] > val_rows[1]["mean_ccc"]:
            predict_head, predict_settings = "episodic", stage["settings"]
    rows += mode_rows(score, test, head, selection, settings.adapt.modes, rows[1])
    yardstick = None
    if functionals is not None:
        (val_marks, test_marks), alphas = yardstick_rows(settings, functionals, targets, (val, test), names)
        val_rows += val_marks
        rows += test_marks
        yardstick = {"feature_set": settings.yardstick.feature_set, "selection": alphas}

    model_dir = export_model(workdir, {"params": record.best_params, "batch_stats": record.best_batch_stats,
                                       "episodic_head": episodic_head},
                             {"config": plain_config(settings), "predict_head": predict_head,
                              "predict_settings": dataclasses.asdict(predict_settings)})
    paths = {"markdown": str(workdir / TABLE_MD), "json": str(workdir / RESULTS_JSON),
             "plot": str(workdir / PLOT_PNG), "model": str(model_dir)}
    results = {
        "hidden": settings.model.hidden,
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
    # each report speaker's CCC before and after the chosen adaptation of the head `predict` uses
    results["speakers"] = speaker_ccc(score, test, episodic_head if predict_head == "episodic" else head, no_adapt,
                                      predict_settings)
    header = table_header(model_name, test.split, val.split, settings.shots, held_out=test.split == HELDOUT)
    val_part = (f"\n## Selection speakers ({val.split}; these chose the settings above)\n\n"
                + render_table(val_rows + list(comparisons.values())))
    run.write_text(TABLE_MD, header + render_table(rows) + val_part)
    if run.is_primary:
        write_json(Path(paths["json"]), results)
        plot_history(Path(paths["plot"]), history, grid)
    return results
