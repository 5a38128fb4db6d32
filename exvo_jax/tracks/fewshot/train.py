"""Few-shot track end to end: train, choose the adaptation on Val speakers, episodic training, Table 4.

`train_and_evaluate(config, workdir)`:
1. trains the speaker-independent model on Train (best epoch by Val mean CCC, orbax checkpoints);
2. computes encoder features of every clip once (the encoder stays frozen from here on);
3. chooses adaptation mode, K and learning rate on Val speakers (support = first `shots` clips of each
   speaker, query = the rest), scoring every grid point with the same protocol;
4. optionally meta-trains the head on Train speakers (episodic) and compares speaker-normalised
   features with plain ones on the same Val protocol;
5. writes Table 4 rows (no adaptation, adapted, episodic + adapted) for the evaluation split (Test
   where its labels are available, as in the synthetic corpus, else Val) as Markdown and JSON, the
   selected settings, and the trained weights for `predict`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from exvo_jax.atomic import write_text
from exvo_jax.data.release import TEST_LABELS, Corpus, label_arrays, read_release
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, personalise
from exvo_jax.tracks.fewshot.episodic import EpisodicSettings, SpeakerClips, meta_train, speaker_normalise
from exvo_jax.tracks.fewshot.framing import load_frames
from exvo_jax.tracks.fewshot.inference import encode_clips, predict_clips, speaker_tasks
from exvo_jax.tracks.fewshot.report import plot_history, render_table, score_row, write_json
from exvo_jax.tracks.fewshot.training import FramedSet, build_model, fit

RESULTS_JSON = "fewshot_results.json"
TABLE_MD = "fewshot_table4.md"
PLOT_PNG = "fewshot_training.png"
MODEL_DIR = "model"
CONFIG_JSON = "config.json"


def read_corpus(config: ml_collections.ConfigDict) -> tuple[Corpus, str]:
    """The release and the evaluation split: Test when `test_labels.csv` is present, else Val."""
    root = Path(config.data_dir)
    with_test = (root / TEST_LABELS).exists()
    corpus = read_release(root, test_labels=with_test)
    return corpus, "Test" if with_test else "Val"


def adapt_settings(config: ml_collections.ConfigDict, mode: str, steps: int, learning_rate: float) -> AdaptSettings:
    return AdaptSettings(mode=mode, steps=steps, learning_rate=learning_rate, weight_decay=config.adapt.weight_decay,
                         lora_rank=config.adapt.lora_rank, strategy=config.adapt.strategy,
                         chunk_size=config.adapt.chunk_size, seed=config.seed)


@dataclasses.dataclass
class EvalSet:
    """Speaker tasks of one split and the pooled query targets `[Q, K]` in task order."""

    split: str
    tasks: list
    targets: np.ndarray


def eval_set(split: str, clips, features, targets, shots: int) -> EvalSet:
    tasks, _ = speaker_tasks(clips, features, targets, shots=shots)
    tasks = [t for t in tasks if t.query]
    if not tasks:
        raise ValueError(f"{split}: no speaker has more than {shots} clips, nothing to evaluate")
    return EvalSet(split, tasks, np.concatenate([t.query_targets for t in tasks]))


def run_adaptation(head_params, data: EvalSet, settings: AdaptSettings, config, progress: bool) -> np.ndarray:
    """Pooled query predictions `[Q, K]` after adapting to every speaker of `data`."""
    predictions = personalise(head_params, data.tasks, settings, hidden=config.model.hidden,
                              outputs=config.model.outputs, buckets=tuple(config.buckets), progress=progress)
    return np.concatenate(predictions)


def select_adaptation(head_params, val: EvalSet, config, names, progress: bool) -> tuple[AdaptSettings, list[dict]]:
    """Grid over modes x K x learning rate on Val; returns the best settings and every grid point's score."""
    grid = []
    for mode in config.adapt.modes:
        for steps in config.adapt.steps:
            for lr in config.adapt.learning_rates:
                settings = adapt_settings(config, mode, steps, lr)
                row = score_row("", mode, val.split, names, val.targets,
                                run_adaptation(head_params, val, settings, config, progress))
                grid.append({"mode": mode, "steps": steps, "learning_rate": lr, "val_mean_ccc": row["mean_ccc"]})
    best = max(grid, key=lambda g: g["val_mean_ccc"])
    return adapt_settings(config, best["mode"], best["steps"], best["learning_rate"]), grid


def training_speakers(clips, features, targets) -> list[SpeakerClips]:
    groups: dict[str, list[int]] = {}
    for i, clip in enumerate(clips):
        groups.setdefault(clip.speaker, []).append(i)
    return [SpeakerClips(tuple(features[i] for i in idx), targets[idx]) for idx in groups.values()]


def describe(settings: AdaptSettings) -> str:
    return f"{settings.mode}, K={settings.steps}, lr={settings.learning_rate:g}"


@dataclasses.dataclass
class Scorer:
    """Scores a head + adaptation settings on a split's query clips as a Table 4 row."""

    config: ml_collections.ConfigDict
    model_name: str
    names: list[str]
    progress: bool

    def __call__(self, setting: str, data: EvalSet, head_params, settings: AdaptSettings) -> dict:
        predictions = run_adaptation(head_params, data, settings, self.config, self.progress)
        return score_row(self.model_name, setting, data.split, self.names, data.targets, predictions)


def episodic_stage(config, head, selected: AdaptSettings, splits, features, targets, val: EvalSet, test: EvalSet,
                   score: Scorer) -> dict:
    """Episodic training and its controls: rows for Val / Test, comparisons on Val, the meta-trained head."""
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
        norm_val = eval_set("Val", splits["Val"], norm["Val"], targets["Val"], config.shots)
        stage["comparisons"]["speaker_normalised_adapted"] = score(
            f"speaker-normalised features + adapted ({describe(inner)})", norm_val, norm_head, inner)
    return stage


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str | Path, progress: bool = True) -> dict:
    """Runs the whole track for one hidden size; returns the results dict (also written to workdir)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    corpus, eval_split = read_corpus(config)
    names = list(EMOTIONS)[: config.model.outputs]
    buckets = tuple(config.buckets)
    splits = {name: [c for c in corpus.split(name) if c.labelled] for name in ("Train", "Val", eval_split)}
    frames = {name: load_frames([c.wav_path for c in clips], config.max_frames, progress)
              for name, clips in splits.items()}
    targets = {name: label_arrays(clips)["emotions"][:, : config.model.outputs] for name, clips in splits.items()}

    record, history = fit(config, workdir, FramedSet(frames["Train"], targets["Train"]),
                          FramedSet(frames["Val"], targets["Val"]), progress)
    model = build_model(config)
    variables = {"params": record.best_params, "batch_stats": record.best_batch_stats}
    features = {name: encode_clips(model, variables, f, batch_size=config.eval_batch_size, buckets=buckets,
                                   progress=progress) for name, f in frames.items()}
    head = record.best_params["head"]
    val_predictions = predict_clips(model, variables, frames["Val"], batch_size=config.eval_batch_size,
                                    buckets=buckets)
    mse = {"model": float(np.mean(np.square(val_predictions - targets["Val"]))),
           "train_mean_predictor": float(np.mean(np.square(targets["Train"].mean(0) - targets["Val"])))}
    model_name = f"H={config.model.hidden}"
    score = Scorer(config, model_name, names, progress)

    val = eval_set("Val", splits["Val"], features["Val"], targets["Val"], config.shots)
    test = eval_set(eval_split, splits[eval_split], features[eval_split], targets[eval_split], config.shots)
    no_adapt = adapt_settings(config, "full", 0, 0.0)
    selected, grid = select_adaptation(head, val, config, names, progress)
    modes = {m: max(g["val_mean_ccc"] for g in grid if g["mode"] == m) for m in config.adapt.modes}
    adapted = f"adapted ({describe(selected)})"
    val_rows = [score("no adaptation", val, head, no_adapt), score(adapted, val, head, selected)]
    rows = [score("no adaptation", test, head, no_adapt), score(adapted, test, head, selected)]

    comparisons: dict = {}
    episodic_head, predict_head, predict_settings = head, "plain", selected
    if config.episodic.enabled:
        stage = episodic_stage(config, head, selected, splits, features, targets, val, test, score)
        val_rows.append(stage["val_row"])
        rows.append(stage["test_row"])
        comparisons = stage["comparisons"]
        episodic_head = stage["head"]
        if stage["val_row"]["mean_ccc"] > val_rows[1]["mean_ccc"]:
            predict_head, predict_settings = "episodic", stage["settings"]

    model_dir = (workdir / MODEL_DIR).absolute()
    with ocp.StandardCheckpointer() as checkpointer:
        checkpointer.save(model_dir, {"params": record.best_params, "batch_stats": record.best_batch_stats,
                                      "episodic_head": episodic_head}, force=True)
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
        "eval_split": test.split,
        "predict_head": predict_head,  # the better head on Val speakers, used by `predict`
        "predict_settings": dataclasses.asdict(predict_settings),
        "paths": paths,
    }
    header = (f"# Few-shot personalisation, {model_name} (Table 4 layout)\n\nPopulation CCC on the query clips "
              f"of {test.split} speakers (support: first {config.shots} clips of each speaker). Adaptation "
              f"settings chosen on Val speakers with the same protocol.\n\n")
    val_part = "\n## Validation speakers\n\n" + render_table(val_rows + list(comparisons.values()))
    write_json(Path(paths["json"]), results)
    write_text(workdir / CONFIG_JSON, config.to_json(indent=2))
    write_text(Path(paths["markdown"]), header + render_table(rows) + val_part)
    plot_history(Path(paths["plot"]), history, grid)
    return results
