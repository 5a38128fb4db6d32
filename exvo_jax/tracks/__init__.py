"""The three ExVo tracks, each a package with the same public surface: the names in its `__all__`.

* `settings(config) -> <Track>Settings`: the config file's ConfigDict converted once, range-checked, into
  the track's frozen settings dataclass; nothing below it sees a ConfigDict;
* `train(settings, workdir, *, overwrite=False, progress=True) -> dict`: trains (or resumes) the run in
  `workdir` and returns its results;
* `predict(workdir, ...)`: what a trained run predicts, written as submission files;
* `evaluate(...)`: the track's held-out evaluation of finished runs;
* `report_data(workdir) -> dict`: what a finished run gives the report.

The rule: the command line (`exvo_jax.commands`), the main job (`exvo_jax.demo`, which only orders stages)
and the report (`exvo_jax.report`, which renders what the tracks return) import from a track only the
names in its `__all__`, never its modules (tests/test_track_surface.py reads their imports and holds it).
"""
