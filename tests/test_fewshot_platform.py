"""The few-shot trainer on the run and parallel layers: 8 devices, two processes, and the workdir rules.

Device counts change XLA:CPU's float rounding in the last bits, so runs on other meshes are compared
with tolerances: 1e-3 relative on training losses, 1e-3 absolute on validation CCCs during training and
1e-3 relative on adapted predictions (measured on 8 devices: 1e-7, 1.5e-5, 0). Table 4 CCCs are
population CCCs of a few dozen query clips after the whole protocol, where that noise grows: 5e-3
absolute (measured between one and two processes: 1.3e-3).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from exvo_jax.run import ResumeRefused
from exvo_jax.tracks import fewshot
from tests.support.child_processes import child_env, free_port
from tests.support.configs import fewshot_settings
from tests.support.paths import REPO
from tests.support.run_events import events

# One worker runs the whole module, so its module-scoped fixtures are built once (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("fewshot_platform")

CHILD = "tests.support.children.fewshot"
TOLERANCE = 1e-3
TABLE_TOLERANCE = 5e-3
# The tiny config cut to seconds: 2 epochs, one adaptation setting, 2 meta-steps of 2 speakers, no yardstick.
SETS = ("train.epochs=2", "max_frames=10", "buckets=(10,)", "adapt.modes=('bias_head',)", "adapt.steps=(2,)",
        "episodic.steps=2", "episodic.meta_batch=2", "speaker_norm=False", "yardstick.enabled=False")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from exvo_jax.synth import write_corpus

    root = tmp_path_factory.mktemp("fewshot_platform_corpus")
    write_corpus(root, speakers=12, clips_per_speaker=4, seed=0, progress=False)
    return root


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict:
    """The one-process, one-device run every other run is compared with."""
    return fewshot.train(fewshot_settings(*SETS, data_dir=corpus), tmp_path_factory.mktemp("reference"),
                         progress=False)


def assert_same_results(got: dict, want: dict) -> None:
    assert [h["epoch"] for h in got["history"]] == [h["epoch"] for h in want["history"]]
    np.testing.assert_allclose([h["train_loss"] for h in got["history"]],
                               [h["train_loss"] for h in want["history"]], rtol=TOLERANCE)
    np.testing.assert_allclose([h["val_mean_ccc"] for h in got["history"]],
                               [h["val_mean_ccc"] for h in want["history"]], atol=TOLERANCE)
    assert [r["setting"] for r in got["table"]] == [r["setting"] for r in want["table"]]
    np.testing.assert_allclose([r["mean_ccc"] for r in got["table"]], [r["mean_ccc"] for r in want["table"]],
                               atol=TABLE_TOLERANCE)


@pytest.mark.slow
def test_eight_devices_train_and_adapt_like_one_with_batches_and_speakers_sharded(tmp_path):
    result = subprocess.run([sys.executable, "-m", CHILD, "devices", str(tmp_path)], env=child_env(8), cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["devices"] == 8 and got["epochs"] == [1, 2]
    assert got["loss_error"] < TOLERANCE and got["ccc_error"] < TOLERANCE and got["adapted_error"] < TOLERANCE
    # Evaluation passes with batches split over `data` give the unsharded results, in input order.
    assert got["inference_error"] < TOLERANCE
    assert got["inference_shapes"] == [[20, 10], [20, 16], [20, 10]]
    assert got["inference_sharding"] == ["P('data',)", [1, 10]]
    # A global batch of 8 rows, one per device; a chunk of 16 speakers (9 real), two per device.
    assert got["batch_sharding"][0] == "P('data',)" and got["batch_sharding"][1][0] == 8
    assert got["batch_sharding"][2][0] == 1
    assert got["chunk_sharding"][0] == "P('speakers',)" and got["chunk_sharding"][1][0] == 16
    assert got["chunk_sharding"][2][0] == 2
    assert got["adapted_sharding"][0] == "P('speakers',)" and got["adapted_sharding"][1][0] == 2
    assert got["error"] == ("mesh {'data': -1}: train.batch_size (the global batch) 6 is not divisible by "
                            "the 8 devices of mesh axis 'data'")


@pytest.mark.slow
def test_two_processes_through_the_command_line_match_one(corpus, reference, tmp_path):
    """`exvo-jax fewshot train` as process 0 and 1 on 127.0.0.1, one CPU device each: data=2, speakers=2."""
    workdir = tmp_path / "run"
    argv = [sys.executable, "-m", "exvo_jax", "fewshot", "train", "--config", "experiments/fewshot/tiny.py",
            "--data-dir", str(corpus), "--workdir", str(workdir), *[a for s in SETS for a in ("--set", s)],
            "--coordinator-address", f"127.0.0.1:{free_port()}", "--num-processes", "2",
            "--distributed-timeout", "60"]
    processes = [subprocess.Popen([*argv, "--process-id", str(i)], env=child_env(1), cwd=REPO, text=True,
                                  stdout=open(tmp_path / f"{i}.out", "w"), stderr=open(tmp_path / f"{i}.err", "w"))
                 for i in range(2)]
    try:
        codes = [p.wait(timeout=600) for p in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()
    assert codes == [0, 0], (tmp_path / "0.err").read_text()[-3000:] + (tmp_path / "1.err").read_text()[-3000:]
    start = [e["runtime"] for e in events(workdir) if e.get("event") == "start"][0]
    assert (start["process_count"], start["device_count"], start["mesh"]) == (2, 2, {"data": 2})
    assert_same_results(json.loads((workdir / "fewshot_results.json").read_text()), reference)
    assert "Mean CCC" in (tmp_path / "0.out").read_text() and "Mean CCC" not in (tmp_path / "1.out").read_text()


def test_a_finished_run_refuses_another_config_and_trains_on_when_epochs_rise(corpus, reference, tmp_path):
    workdir = shutil.copytree(Path(reference["paths"]["json"]).parent, tmp_path / "run")
    with pytest.raises(ResumeRefused, match=r"config differs .*\(train.learning_rate: 0.003 -> 0.001\)"):
        fewshot.train(fewshot_settings(*SETS, "train.learning_rate=1e-3", data_dir=corpus), workdir, progress=False)
    results = fewshot.train(fewshot_settings(*SETS, "train.epochs=3", data_dir=corpus), workdir, progress=False)
    log = events(workdir)
    reopened = max(i for i, e in enumerate(log) if e.get("event") == "open")
    assert [e["latest_step"] for e in log if e.get("event") == "open"] == [None, 2]
    assert [e["step"] for e in log[reopened:] if "step" in e] == [3]  # epochs 1-2 are not trained again
    assert [h["epoch"] for h in results["history"]] == [1, 2, 3]
    assert results["history"][:2] == reference["history"]
