"""The main job: every track end to end on one corpus, then one report.

corpus (synthetic unless a release is given) -> check -> multitask -> few-shot with per-speaker adaptation ->
the FID classifier -> conditional GAN with its submission wavs -> the GAN's evaluation (FID, FD-infinity, KID,
HEEP proxy, S_Gen; band-statistics distances) -> the three submission
artefacts validated and scored -> report (HTML, Markdown, JSON).

On a nonverbal-vocalisation corpus (`--data`; no emotion intensities) the stages are corpus -> check ->
multitask (type, age, sex) -> few-shot (type scores and age, adapted per speaker) -> report,
the report saying why the generate track is not there.

Stages are recorded in `<out>/stages.json` (`exvo_jax.demo.stages`): a rerun skips the finished ones,
and an interrupted one is run again, its trainer resuming from its own checkpoints.
"""

from __future__ import annotations

from pathlib import Path

import ml_collections

from exvo_jax.demo.corpus import NONVERBAL, check_stage, corpus_stage, given_corpus
from exvo_jax.demo.generation import classifier_stage, evaluation_stage, gan_stage
from exvo_jax.demo.recognition import fewshot_stage, multitask_stage
from exvo_jax.demo.stages import Stages
from exvo_jax.demo.submissions import submissions_stage
from exvo_jax.report import write_report
from exvo_jax.run.config_diff import plain_config

STAGES = ("corpus", "check", "multitask", "fewshot", "fid_classifier", "gan", "gan_evaluation",
          "submissions", "report")
NONVERBAL_STAGES = ("corpus", "check", "multitask", "fewshot", "report")


def run_demo(config: ml_collections.ConfigDict, out_dir: str | Path, data: str | None = None,
             progress: bool = True) -> dict:
    """Runs (or resumes) every stage into `out_dir`; returns the report's paths and every stage's result."""
    out = Path(out_dir)
    root, layout = given_corpus(data) if data else (None, "")
    names = NONVERBAL_STAGES if layout == NONVERBAL else STAGES
    stages = Stages(out, {"config": plain_config(config), "data": str(root or "")}, names)
    done: dict = {}
    done["corpus"] = stages.run("corpus", lambda: corpus_stage(config, out, data, progress))
    done["check"] = stages.run("check", lambda: check_stage(done["corpus"], config, progress))
    done["multitask"] = stages.run("multitask", lambda: multitask_stage(config, done["corpus"], out, progress))
    done["fewshot"] = stages.run("fewshot", lambda: fewshot_stage(config, done["corpus"], out, progress))
    if layout != NONVERBAL:  # no emotion intensities: no generate track, no submission formats
        run_generate_and_submissions(config, out, stages, done, progress)
    paths = stages.run("report", lambda: write_report(out, done, stages.seconds(), config.size))
    return {"report": paths, "stages": done}


def run_generate_and_submissions(config: ml_collections.ConfigDict, out: Path, stages: Stages, done: dict,
                                 progress: bool) -> None:
    """The FID classifier, the GAN, its evaluation and the three submission artefacts, into `done`."""
    done["classifier"] = stages.run("fid_classifier", lambda: classifier_stage(config, done["corpus"], out, progress))
    done["gan"] = stages.run("gan", lambda: gan_stage(config, done["corpus"], out, progress))
    done.update(stages.run("gan_evaluation", lambda: evaluation_stage(config, done["corpus"], out, done["gan"],
                                                                      progress)))
    done["submissions"] = stages.run("submissions", lambda: submissions_stage(
        done["corpus"], done["multitask"], done["fewshot"], done["gan"], config.generate_clips))


__all__ = ["NONVERBAL_STAGES", "STAGES", "run_demo"]
