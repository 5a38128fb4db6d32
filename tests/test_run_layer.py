"""The run layer: lock, resume rule, overwrite, checkpoints of named items, metrics log, model export."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from exvo_jax.data.errors import DataError
from exvo_jax.run import (Json, ResumeRefused, RunBusyError, data_fingerprint, describe_difference, export_model,
                          import_model, open_run)
from exvo_jax.run.layout import CONFIG_JSON, DATA_JSON, LOCK, METRICS_JSONL


def make_config(data_dir="corpus", **train) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict({
        "data_dir": str(data_dir), "max_epochs": 20, "seeds": (1, 2),
        "train": {"learning_rate": 0.001, "batch_size": 8, **train},
    })


@pytest.fixture
def corpus(tmp_path):
    """Five clips in <tmp>/work/corpus, so the workdir holds user data that overwrite must keep."""
    root = tmp_path / "work" / "corpus"
    root.mkdir(parents=True)
    for i in range(5):
        (root / f"clip{i}.wav").write_bytes(bytes(100 + i))
    return root


def clips(root):
    return sorted(root.glob("*.wav"))


WATCH = frozenset({"max_epochs"})  # what a trainer of `make_config`'s kind would declare


def start(workdir, corpus, config=None, watch_fields=WATCH, **kwargs):
    return open_run(workdir, config or make_config(corpus), data_fingerprint(clips(corpus)), watch_fields=watch_fields,
                    **kwargs)


def saved_run(workdir, corpus, steps=(1, 2)):
    with start(workdir, corpus) as run:
        for step in steps:
            run.save(step, state={"w": np.full(3, step, np.float32)}, history=Json([{"epoch": step}]))


def test_second_open_is_refused_while_the_first_is_alive(tmp_path, corpus):
    workdir = tmp_path / "work"
    with start(workdir, corpus):
        with pytest.raises(RunBusyError) as err:
            with start(workdir, corpus):
                pass
    message = str(err.value)
    assert str(workdir) in message and f"pid {os.getpid()}" in message and socket.gethostname() in message
    with start(workdir, corpus):  # released on exit
        pass


@pytest.mark.parametrize("pid", ["exited_child", 2**22 + 1])
def test_a_stale_lock_is_recovered_with_a_warning(tmp_path, corpus, caplog, pid):
    if pid == "exited_child":
        child = subprocess.Popen(["true"])
        child.wait()
        pid = child.pid
    workdir = tmp_path / "work"
    (workdir / LOCK).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "earlier"}))
    with caplog.at_level(logging.WARNING, logger="exvo_jax.run.lock"):
        with start(workdir, corpus):
            assert json.loads((workdir / LOCK).read_text())["pid"] == os.getpid()
    assert f"stale lock of pid {pid}" in caplog.text
    assert not (workdir / LOCK).exists()


def test_a_lock_held_from_another_host_is_respected(tmp_path, corpus):
    workdir = tmp_path / "work"
    (workdir / LOCK).write_text(json.dumps({"pid": 1, "host": "elsewhere-7", "started": "earlier"}))
    with pytest.raises(RunBusyError, match="pid 1 on host elsewhere-7.*delete"):
        with start(workdir, corpus):
            pass


def test_the_lock_is_released_after_an_error_in_the_block(tmp_path, corpus):
    workdir = tmp_path / "work"
    with pytest.raises(ZeroDivisionError):
        with start(workdir, corpus) as run:
            run.save(1, state={"w": np.zeros(2, np.float32)})
            raise ZeroDivisionError
    assert not (workdir / LOCK).exists()
    with start(workdir, corpus) as run:
        assert run.latest_step == 1  # the pending save finished before the lock was released


def test_a_changed_config_is_refused_naming_the_field(tmp_path, corpus):
    workdir = tmp_path / "work"
    saved_run(workdir, corpus)
    with pytest.raises(ResumeRefused, match=r"train\.learning_rate: 0\.001 -> 0\.003") as err:
        with start(workdir, corpus, make_config(corpus, learning_rate=0.003)):
            pass
    assert isinstance(err.value, DataError) and str(workdir) in str(err.value)
    assert not (workdir / LOCK).exists()
    with pytest.raises(ResumeRefused, match=r"train\.momentum: \(absent\) -> 0\.9"):
        with start(workdir, corpus, make_config(corpus, momentum=0.9)):
            pass


def test_a_watch_field_may_change_and_the_run_resumes_at_the_latest_step(tmp_path, corpus):
    workdir = tmp_path / "work"
    saved_run(workdir, corpus)
    config = make_config(corpus)
    config.max_epochs = 40
    with start(workdir, corpus, config) as run:
        step, items = run.restore(state={"w": np.zeros(3, np.float32)}, history=Json([]))
    assert step == 2
    np.testing.assert_array_equal(items["state"]["w"], np.full(3, 2, np.float32))
    assert items["history"] == [{"epoch": 2}]
    assert json.loads((workdir / CONFIG_JSON).read_text())["max_epochs"] == 40
    with pytest.raises(ResumeRefused, match="max_epochs"):  # not a watch field for this trainer
        with start(workdir, corpus, make_config(corpus), watch_fields={"train.batch_size"}):
            pass


@pytest.mark.parametrize("change, expected", [
    (lambda root: (root / "clip1.wav").write_bytes(bytes(7)), "1 changed (clip1.wav: size 101 -> 7)"),
    (lambda root: os.utime(root / "clip2.wav", ns=(1, 1)), "1 changed (clip2.wav: modified)"),
    (lambda root: (root / "new.wav").write_bytes(b"x"), "1 added (new.wav)"),
    (lambda root: (root / "clip0.wav").unlink(), "1 removed (clip0.wav)"),
], ids=["size", "mtime", "added", "removed"])
def test_changed_data_are_refused_naming_the_file(tmp_path, corpus, change, expected):
    workdir = tmp_path / "work"
    saved_run(workdir, corpus, steps=(1,))
    change(corpus)
    with pytest.raises(ResumeRefused, match="the data differ") as err:
        with start(workdir, corpus):
            pass
    assert expected in str(err.value) and str(corpus) in str(err.value)


def test_describe_difference_shows_a_few_names_and_counts(tmp_path):
    for i in range(6):
        (tmp_path / f"{i}.wav").write_bytes(b"a")
    old = data_fingerprint(sorted(tmp_path.glob("*.wav")))
    assert describe_difference(old, data_fingerprint(reversed(sorted(tmp_path.glob("*.wav"))))) is None
    assert len(old.digest) == 64
    text = describe_difference(old, data_fingerprint([]))
    assert "6 removed (0.wav, 1.wav, 2.wav, and 3 more)" in text


def test_overwrite_starts_afresh_and_keeps_other_files(tmp_path, corpus):
    workdir = tmp_path / "work"
    saved_run(workdir, corpus)
    (workdir / "notes.txt").write_text("mine")
    with start(workdir, corpus, make_config(corpus, learning_rate=0.003), overwrite=True) as run:
        assert run.latest_step is None
    assert (workdir / "notes.txt").read_text() == "mine"
    assert clips(corpus) and all(p.exists() for p in clips(corpus))
    assert json.loads((workdir / CONFIG_JSON).read_text())["train"]["learning_rate"] == 0.003
    assert [json.loads(line)["event"] for line in (workdir / METRICS_JSONL).read_text().splitlines()] == ["open"]


def test_config_paths_are_compared_resolved(tmp_path, corpus, monkeypatch):
    workdir = tmp_path / "work"
    monkeypatch.chdir(tmp_path)
    with start(workdir, corpus, make_config("work/corpus")) as run:
        run.save(1, state={"w": np.zeros(1, np.float32)})
    assert json.loads((workdir / CONFIG_JSON).read_text())["data_dir"] == str(corpus.resolve())
    monkeypatch.chdir(corpus)
    for same in (corpus.resolve(), ".", "../corpus/"):
        with start(workdir, corpus, make_config(same)) as run:
            assert run.latest_step == 1
    with pytest.raises(ResumeRefused, match="data_dir"):
        with start(workdir, corpus, make_config(tmp_path)):
            pass


def test_save_and_restore_named_items(tmp_path, corpus):
    mesh = Mesh(np.array(jax.devices()), ("data",))
    sharding = NamedSharding(mesh, PartitionSpec("data"))
    rows = 2 * len(jax.devices())
    params = {"w": jax.device_put(jnp.arange(rows * 3.0).reshape(rows, 3), sharding),
              "b": np.arange(4, dtype=np.int32), "count": np.array(7, np.int64)}
    template = jax.tree.map(jnp.zeros_like, params)
    with start(tmp_path / "work", corpus) as run:
        assert run.restore(params=template, history=Json([])) == (None, {"params": template, "history": []})
        assert run.save(3, params=params, history=Json([{"epoch": 3, "loss": 0.5}]))
    with start(tmp_path / "work", corpus) as run:
        step, items = run.restore(params=template, history=Json([]))
    assert step == 3 and items["history"] == [{"epoch": 3, "loss": 0.5}]
    assert items["params"]["w"].sharding == sharding
    jax.tree.map(np.testing.assert_array_equal, items["params"], params)


def test_metrics_are_json_lines(tmp_path, corpus):
    workdir = tmp_path / "work"
    with start(workdir, corpus) as run:
        run.log_event("start", devices=["cpu:0"], processes=1)
        run.log_metrics(1, train_loss=jnp.float32(0.25), val_ccc=np.float64(0.5))
        run.log_metrics(2, train_loss=float("nan"), val_ccc=1)
        assert len((workdir / METRICS_JSONL).read_text().splitlines()) == 4  # flushed line by line
    lines = [json.loads(line) for line in (workdir / METRICS_JSONL).read_text().splitlines()]
    assert [line.get("event") for line in lines] == ["open", "start", None, None]
    assert lines[1]["devices"] == ["cpu:0"]
    assert {k: v for k, v in lines[2].items() if k != "time"} == {"step": 1, "train_loss": 0.25, "val_ccc": 0.5}
    assert lines[3]["train_loss"] is None and lines[3]["val_ccc"] == 1.0
    assert all(isinstance(line["time"], float) for line in lines)


def test_tensorboard_scalars_where_tensorboardx_is_importable(tmp_path, corpus):
    pytest.importorskip("tensorboardX")
    with start(tmp_path / "work", corpus) as run:
        run.log_metrics(1, loss=0.5)
    assert list((tmp_path / "work" / "tensorboard").glob("events.out.tfevents.*"))


def test_write_text_and_json_outputs(tmp_path, corpus):
    with start(tmp_path / "work", corpus) as run:
        path = run.write_json("results.json", {"ccc": 0.5})
        assert run.write_text("results.md", "# table\n").read_text() == "# table\n"
    assert json.loads(path.read_text()) == {"ccc": 0.5}
    assert json.loads((tmp_path / "work" / DATA_JSON).read_text())["count"] == 5


def test_export_and_import_model(tmp_path):
    arrays = {"params": {"kernel": jnp.ones((3, 2)), "bias": jnp.zeros(2)}, "scaler": {"mean": np.arange(3.0)}}
    meta = {"hidden": 16, "tasks": ["a", "b"]}
    with pytest.raises(DataError, match="run `exvo-jax fewshot train` with this workdir first"):
        import_model(tmp_path, command="exvo-jax fewshot train")
    export_model(tmp_path, arrays, meta)
    loaded, loaded_meta = import_model(tmp_path)
    assert loaded_meta == meta
    assert all(isinstance(x, np.ndarray) for x in jax.tree.leaves(loaded))
    jax.tree.map(np.testing.assert_array_equal, loaded, arrays)
    typed, _ = import_model(tmp_path, lambda m: jax.tree.map(jnp.zeros_like, arrays))
    assert isinstance(typed["params"]["kernel"], jax.Array)
    export_model(tmp_path, {"params": {"kernel": jnp.full((3, 2), 2.0)}}, {"hidden": 8})  # replaces the export
    again, again_meta = import_model(tmp_path)
    assert again_meta == {"hidden": 8} and again["params"]["kernel"][0, 0] == 2.0


def test_stacked_states_are_saved_without_their_padding_and_padded_again_on_restore(tmp_path, corpus):
    from exvo_jax.parallel import make_mesh
    from exvo_jax.run.stacked import restore_stacked, save_stacked

    workdir = tmp_path / "work"
    padded = {"w": np.arange(5, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)}  # 3 real, 2 padding rows
    with start(workdir, corpus) as run:
        assert restore_stacked(run, lambda layout: None, make_mesh({"seeds": -1}), "seeds") == (None, None, None)
        save_stacked(run, 7, padded, 3, epochs=4)
    with start(workdir, corpus) as run:
        step, states, layout = restore_stacked(
            run, lambda layout: {"w": np.zeros((layout["models"], 2), np.float32)}, make_mesh({"seeds": -1}), "seeds",
            adjust=lambda states, layout: {"w": states["w"] + layout["epochs"]})
    assert step == 7 and layout == {"models": 3, "epochs": 4}
    real = np.asarray(states["w"])[:3]
    np.testing.assert_array_equal(real, np.arange(3, dtype=np.float32)[:, None] + 4 + np.zeros((1, 2)))
    assert states["w"].shape[0] % jax.device_count() == 0
