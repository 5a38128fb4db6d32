"""Names of what a run keeps in its workdir, in one place so that trainers, predictors and tools agree.

    <workdir>/
      config.json      the run's config (path fields resolved), rewritten when a watch field changes
      data.json        fingerprint of the input files: every clip's resolved path, size and mtime
      checkpoints/     orbax CheckpointManager steps (one Composite of named items per step)
      model/           the exported model: model.json (metadata) + arrays/ (orbax pytree)
      metrics.jsonl    one JSON object per line: per-step scalars and named events
      tensorboard/     event files (only where tensorboardX is importable)
      .lock            pid, host and start time of the process that holds the workdir

Everything else in the folder (results, plots, a corpus the user keeps there) belongs to the caller
and is never deleted by the run layer.
"""

CONFIG_JSON = "config.json"
DATA_JSON = "data.json"
CHECKPOINTS = "checkpoints"
MODEL_DIR = "model"
MODEL_JSON = "model.json"
MODEL_ARRAYS = "arrays"
METRICS_JSONL = "metrics.jsonl"
TENSORBOARD = "tensorboard"
LOCK = ".lock"

# What `overwrite=True` removes: the run's own records, nothing else.
RUN_RECORDS = (CHECKPOINTS, MODEL_DIR, METRICS_JSONL, TENSORBOARD, CONFIG_JSON, DATA_JSON)
