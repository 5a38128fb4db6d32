"""The multitask trainer on the run and parallel layers: 8 devices, two processes, and the workdir rules.

Device counts change XLA:CPU's float rounding in the last bits, so runs on other meshes are compared
with tolerances: 1e-4 relative on losses and parameters after 4 epochs (measured: about 1e-6).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from exvo_jax.run import ResumeRefused, RunBusyError, data_fingerprint, open_run
from exvo_jax.tracks import multitask
from exvo_jax.tracks.multitask.config import WATCH
from exvo_jax.tracks.multitask.bundle import load_bundle
from exvo_jax.tracks.multitask.data import input_files
from tests.support.child_processes import child_env, free_port
from tests.support.configs import multitask_settings
from tests.support.paths import REPO
from tests.support.release_factory import blank_row, labelled_row, write_release
from tests.support.run_events import events

# One worker runs the whole module, so its module-scoped fixtures are built once (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("multitask_platform")

CHILD = "tests.support.children.multitask"
TOLERANCE = 1e-4


def tiny_corpus(root: Path) -> Path:
    """8 Train, 2 Val and 1 Test speaker with 4 clips each; eGeMAPS shipped as feature CSVs (no audio)."""
    rows = []
    for s, split in enumerate(["Train"] * 8 + ["Val"] * 2):
        rows += [labelled_row(f"{s:02d}{k}", split, f"S{s}", age=str(20 + 3 * s + k), country=str((s + k) % 4),
                              dominant=(s + k) % 10) for k in range(4)]
    rows += [blank_row(f"99{k}", "S99") for k in range(4)]
    write_release(root, rows, audio=False)
    rng = np.random.default_rng(0)
    (root / "feats" / "eGeMAPS").mkdir(parents=True)
    header = "name," + ",".join(f"f{i}" for i in range(88))
    for row in rows:
        file_id = row["File_ID"].strip("[]")
        values = ",".join(f"{v:.6f}" for v in rng.normal(size=88))
        (root / "feats" / "eGeMAPS" / f"{file_id}.csv").write_text(f"{header}\n{file_id},{values}\n")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return tiny_corpus(tmp_path_factory.mktemp("tiny_corpus"))


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict:
    """The one-process, one-device run every other run is compared with."""
    return multitask.train(multitask_settings(corpus), tmp_path_factory.mktemp("reference"), progress=False)


def assert_same_results(got: dict, want: dict) -> None:
    assert got["seeds"] == want["seeds"] and got["epochs_run"] == want["epochs_run"]
    assert got["best_seed"] == want["best_seed"]
    for kind in ("train_loss", "val_loss"):
        np.testing.assert_allclose(got["history"][kind], want["history"][kind], rtol=TOLERANCE)
    for scores, expected in zip(got["per_seed"], want["per_seed"]):
        assert scores.keys() == expected.keys()
        np.testing.assert_allclose(list(scores.values()), list(expected.values()), rtol=TOLERANCE, atol=TOLERANCE)


@pytest.mark.slow
def test_eight_devices_train_like_one_with_the_seeds_sharded(tmp_path):
    result = subprocess.run([sys.executable, "-m", CHILD, "devices", str(tmp_path)], env=child_env(8), cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["devices"] == 8 and got["epochs"] == [4, 4, 4]
    assert got["loss_error"] < TOLERANCE and got["param_error"] < TOLERANCE
    # 3 seeds padded to 4 with an inert copy, one per seeds position; rows padded 37 -> 38, split over data=2.
    assert got["params_sharding"] == ["NamedSharding", "P('seeds',)", {"seeds": 4, "data": 2}, [4, 32], [1, 32]]
    assert got["rows_sharding"] == ["P('data',)", [38, 12], [19, 12]]
    assert got["errors"] == [
        "mesh {'seeds': 4, 'data': 2}: batch_size (the global batch) 7 is not divisible by the 2 devices "
        "of mesh axis 'data'",
        "mesh {'seeds': 3, 'data': 1}: mesh axes {'seeds': 3, 'data': 1} use 3 devices, but there are 8; "
        "give one axis -1 to take the remaining devices",
    ]


def launch(corpus: Path, workdir: Path, logs: Path, *sets: str) -> list[subprocess.Popen]:
    """`exvo-jax multitask train` as process 0 and 1 of a two-process run on 127.0.0.1 (2 CPU devices each)."""
    sets = ("max_epochs=4", "checkpoint_every=1", "trunk=(32,)", *sets)  # as multitask_config
    argv = [sys.executable, "-m", "exvo_jax", "multitask", "train", "--config", "experiments/multitask/egemaps.py:tiny",
            "--data-dir", str(corpus), "--workdir", str(workdir), *[arg for s in sets for arg in ("--set", s)],
            "--coordinator-address", f"127.0.0.1:{free_port()}", "--num-processes", "2", "--distributed-timeout", "20"]
    return [subprocess.Popen([*argv, "--process-id", str(i)], env=child_env(2), cwd=REPO, text=True,
                             stdout=open(logs / f"{i}.out", "w"), stderr=open(logs / f"{i}.err", "w"))
            for i in range(2)]


def finished_steps(workdir: Path) -> list[int]:
    folder = workdir / "checkpoints"
    return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.is_dir() else []


@pytest.mark.slow
def test_two_processes_killed_after_a_checkpoint_resume_to_the_one_process_result(corpus, reference, tmp_path):
    workdir, logs = tmp_path / "run", tmp_path
    # First on a mesh of data=4 (each process holds half the rows), killed once a checkpoint is written.
    first = launch(corpus, workdir, logs, "mesh.seeds=1", "mesh.data=-1")
    try:
        deadline = time.monotonic() + 180
        while not finished_steps(workdir) and all(p.poll() is None for p in first) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        for process in first:
            process.kill()
            process.wait()
    assert finished_steps(workdir), (logs / "0.err").read_text()[-3000:]
    # Restarted with the default mesh (seeds=4: two seeds and two inert copies over both processes).
    second = launch(corpus, workdir, logs)
    try:
        codes = [p.wait(timeout=180) for p in second]
    finally:
        for process in second:
            process.kill()
            process.wait()
    assert codes == [0, 0], (logs / "0.err").read_text()[-3000:] + (logs / "1.err").read_text()[-3000:]

    log = events(workdir)
    opened = [e["latest_step"] for e in log if e.get("event") == "open"]
    meshes = [(e["runtime"]["process_count"], e["runtime"]["mesh"]) for e in log if e.get("event") == "start"]
    assert opened[0] is None and 1 <= opened[-1] <= 4
    assert meshes[-1] == (2, {"seeds": 4, "data": 1})
    assert (2, {"seeds": 1, "data": 4}) == meshes[0]
    results = json.loads((workdir / "results.json").read_text())
    assert_same_results(results, reference)
    assert "| eGeMAPS |" in (logs / "0.out").read_text() and "| eGeMAPS |" not in (logs / "1.out").read_text()
    selected = load_bundle(workdir).params
    want = load_bundle(Path(reference["paths"]["model"]).parent).params
    for a, b in zip(jax.tree_util.tree_leaves(selected), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=TOLERANCE, atol=1e-6)


@pytest.fixture(scope="module")
def resumed(corpus, tmp_path_factory) -> tuple[Path, Path, dict]:
    """(corpus copy, workdir, results): trained for 2 epochs, then resumed with max_epochs raised to 4."""
    root = tmp_path_factory.mktemp("resumed")
    data = shutil.copytree(corpus, root / "corpus")
    multitask.train(multitask_settings(data, max_epochs=2), root / "run", progress=False)
    return data, root / "run", multitask.train(multitask_settings(data), root / "run", progress=False)


def test_raising_max_epochs_continues_from_the_last_epoch(resumed, reference):
    _, workdir, results = resumed
    log = events(workdir)
    reopened = max(i for i, e in enumerate(log) if e.get("event") == "open")
    assert [e["latest_step"] for e in log if e.get("event") == "open"] == [None, 2]
    assert [e["step"] for e in log[reopened:] if "step" in e] == [3, 4]  # epochs 1-2 are not trained again
    assert_same_results(results, reference)


def test_a_second_run_in_a_busy_workdir_is_refused(resumed):
    data, workdir, _ = resumed
    config = multitask_settings(data)
    with open_run(workdir, config, data_fingerprint(input_files(config)), watch_fields=WATCH):
        with pytest.raises(RunBusyError, match=f"in use by pid {os.getpid()}"):
            multitask.train(config, workdir, progress=False)


def test_a_finished_run_resumes_only_with_the_same_config_and_data(resumed):
    data, workdir, _ = resumed
    with pytest.raises(ResumeRefused, match=r"config differs .*\(min_delta: 0.1 -> 0.2\)"):
        multitask.train(multitask_settings(data, min_delta=0.2), workdir, progress=False)
    changed = data / "feats" / "eGeMAPS" / "000.csv"
    changed.write_text(changed.read_text().replace(",", ",1", 1))
    with pytest.raises(ResumeRefused, match=r"data differ .*1 changed \(feats/eGeMAPS/000.csv: size"):
        multitask.train(multitask_settings(data), workdir, progress=False)
    results = multitask.train(multitask_settings(data, max_epochs=2), workdir, progress=False, overwrite=True)
    assert results["epochs_run"] == [2, 2]
    assert [e["latest_step"] for e in events(workdir) if e.get("event") == "open"] == [None]
