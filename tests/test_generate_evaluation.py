"""Generate-track evaluation on a synthetic corpus: the FID classifier learns, its Train-vs-Val FID matrix
separates the emotions, a briefly trained conditional GAN comes closer to the real clips than its untrained
generator and the classifier hears the target emotion in its clips, statistics files are keyed to the
classifier, and `generate fid` / `generate table3` report.

One tiny classifier (trained through the command line) and the tests' shared tiny conditional GAN (conftest
`trained_gan`) serve every test.
"""

from __future__ import annotations

import json
import pickle

import jax
import numpy as np
import pytest

from exvo_jax.cli import main
from exvo_jax.config_files import load_config
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.tracks import generate
from exvo_jax.tracks.generate.evaluation import fid_table, load_classifier, reference_features, score_features, table3
from exvo_jax.tracks.generate.evaluation.classifier import weights_key
from exvo_jax.tracks.generate.evaluation.reference import STATS_DIR
from exvo_jax.tracks.generate.program import init_states, model_keys
from exvo_jax.tracks.generate.sampler import Sampler, load_sampler
from exvo_jax.tracks.generate.training import gan_from, hyper_from
from exvo_jax.metrics import load_stats
from exvo_jax.submission.writers import write_generated_clips
from tests.support.shared_gan import CONFIG

SAMPLES = 50  # generated clips per emotion
CHANCE = 1 / len(EMOTIONS)

# One worker trains the shared GAN (conftest `trained_gan`).
pytestmark = [pytest.mark.xdist_group("generate"), pytest.mark.slow]


@pytest.fixture(scope="module")
def classifier_dir(generate_corpus, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("classifier")
    assert main(["generate", "classifier", "--config", "experiments/generate/classifier.py:tiny",
                 "--data-dir", str(generate_corpus), "--workdir", str(workdir)]) == 0
    return workdir


@pytest.fixture(scope="module")
def generated(classifier_dir, trained_gan):
    """Classifier features of SAMPLES clips per emotion from the shared trained conditional GAN and from its
    untrained generator."""
    config = generate.settings(load_config(CONFIG))
    trained = load_sampler(trained_gan)
    fresh = init_states(gan_from(config), hyper_from(config), model_keys(config.seed, [len(EMOTIONS)]))
    untrained = Sampler(trained.gan, fresh.ema_params, trained.names, trained.geometry)
    classifier, key = load_classifier(classifier_dir), jax.random.PRNGKey(7)
    sets = {}
    for name, sampler in (("trained", trained), ("untrained", untrained)):
        waves = {e: sampler.waves(e, SAMPLES, key) for e in EMOTIONS}
        sets[name] = {"waves": waves, "computed": {e: classifier.features(w) for e, w in waves.items()}}
    return sets


def scores(classifier_dir, corpus, computed) -> dict:
    classifier = load_classifier(classifier_dir)
    reference = reference_features(classifier, classifier_dir, corpus, "Train")
    return score_features(reference, {e: f for e, (f, _) in computed.items()}, {e: o for e, (_, o) in computed.items()})


def test_the_classifier_learns_and_reports_held_out_ccc_per_emotion(classifier_dir):
    results = json.loads((classifier_dir / "classifier_results.json").read_text())
    assert list(results["held_out_ccc"]) == list(EMOTIONS)
    # Measured 0.28 (mean) on this corpus; a classifier that learned nothing scores about 0.
    assert results["held_out_mean_ccc"] > 0.1, results["held_out_ccc"]
    assert results["key"] == load_classifier(classifier_dir).key
    history = [h["val_mean_ccc"] for h in results["history"]]
    assert max(history) == pytest.approx(history[results["best_epoch"] - 1])  # the exported epoch is the best


def test_train_val_matrix_separates_emotions_and_table3_is_written(classifier_dir, generate_corpus, generated,
                                                                    tmp_path):
    """Diagonal below its row's off-diagonal mean for at least 7 of 10 emotions (measured 10 of 10)."""
    folder = tmp_path / "conditional"
    write_generated_clips(folder, {e: list(w) for e, w in generated["trained"]["waves"].items()},
                          clips_per_emotion=SAMPLES)
    files = sorted(folder.glob("*/*.wav"))
    ratings = tmp_path / "ratings.csv"
    eye = np.eye(len(EMOTIONS))
    ratings.write_text("File," + ",".join(EMOTIONS) + "\n" + "".join(
        f"{p.name}," + ",".join(map(str, 0.8 * eye[EMOTIONS.index(p.parent.name)] + 0.1)) + "\n" for p in files))
    table = fid_table(classifier_dir, generate_corpus, {"conditional": folder}, tmp_path / "table3",
                      ratings={"conditional": ratings})
    matrix = np.array(table["train_val_fid"])
    diagonal, off = np.diag(matrix), (matrix.sum(1) - np.diag(matrix)) / (len(EMOTIONS) - 1)
    assert (diagonal < off).sum() >= 7, matrix.round(3)
    result = table["generated"]["conditional"]
    assert result["heep_source"].startswith("human ratings")
    assert all(v["heep"] == pytest.approx(1.0) for v in result["per_emotion"].values())
    assert set(result["distances"]) == set(EMOTIONS)
    markdown = (tmp_path / "table3" / "table3.md").read_text()
    assert "Train \\ Val" in markdown and "| conditional | S_Gen |" in markdown
    assert json.loads((tmp_path / "table3" / "table3.json").read_text())["classifier_key"] == table["classifier_key"]
    assert (tmp_path / "table3" / "table3.png").stat().st_size > 0


def test_an_emotion_with_one_clip_is_an_absent_cell_never_an_error(classifier_dir, generate_corpus, tmp_path,
                                                                     monkeypatch):
    real = table3.emotion_clips

    def one_val_awe(data_dir, split, emotions=EMOTIONS):  # Val keeps a single clip of Awe
        sets = real(data_dir, split, emotions)
        return {e: clips[:1] if (split, e) == ("Val", "Awe") else clips for e, clips in sets.items()}

    monkeypatch.setattr(table3, "emotion_clips", one_val_awe)
    table = table3.fid_table(classifier_dir, generate_corpus, out_dir=tmp_path)
    awe = EMOTIONS.index("Awe")
    assert all(row[awe] is None for row in table["train_val_fid"])
    assert all(v is not None and np.isfinite(v) for i, row in enumerate(table["train_val_fid"]) for j, v in
               enumerate(row) if j != awe)
    assert json.loads((tmp_path / table3.TABLE_JSON).read_text())["train_val_fid"][0][awe] is None
    assert "| - |" in (tmp_path / table3.TABLE_MD).read_text()


def test_a_briefly_trained_gan_halves_the_untrained_generators_fid(classifier_dir, generate_corpus, generated):
    """FID of all generated clips against all Train clips of the ten emotions (measured ratio 0.29 after the
    shared GAN's 2000 iterations, 0.13 and 0.39 with seeds 1 and 2; 0.23 after 150 iterations). Per emotion,
    with 24-50 clips a set, the small-sample bias both sets share lifts the ratio (measured 0.49-0.54 on the
    mean of the ten FIDs after 150 iterations); KID has no such bias."""
    trained = scores(classifier_dir, generate_corpus, generated["trained"]["computed"])
    untrained = scores(classifier_dir, generate_corpus, generated["untrained"]["computed"])
    assert trained["pooled"]["fid"] <= 0.5 * untrained["pooled"]["fid"], (trained["pooled"], untrained["pooled"])
    kid = [np.mean([d["kid"] for d in s["distances"].values()]) for s in (trained, untrained)]
    assert kid[0] < kid[1], kid
    assert trained["heep_source"].startswith("proxy")
    assert np.isfinite(trained["mean_s_gen"])


def test_the_recogniser_hears_the_target_emotion_in_generated_clips(classifier_dir, generate_corpus, generated):
    """At least twice chance on average over the ten emotions (50 clips each). Measured with the shared GAN's
    2000 iterations: 31 %, and 24 % and 32 % with seeds 1 and 2; after 150 iterations 9 %, after 300 16-18 %
    and after 1000 15-34 % over three seeds. Real Train clips resynthesised from their 16-band log-mels
    reach 33 %, the real clips themselves 50 %."""
    trained = scores(classifier_dir, generate_corpus, generated["trained"]["computed"])
    assert trained["mean_recognised"] >= 2 * CHANCE, trained["recognised"]


def test_statistics_files_are_in_the_competition_format_and_keyed_to_the_classifier(classifier_dir, generate_corpus,
                                                                                    tmp_path, capsys):
    classifier = load_classifier(classifier_dir)
    reference_features(classifier, classifier_dir, generate_corpus, "Train", ["Fear"])
    files = sorted((classifier_dir / STATS_DIR).glob("*/*/Train_Fear.pkl"))
    assert len(files) == 1 and files[0].parts[-3] == classifier.key[:16]
    stats = pickle.loads(files[0].read_bytes())
    hidden = classifier.model.hidden
    assert set(stats) == {"mu", "sigma"} and stats["mu"].shape == (hidden,) and stats["sigma"].shape == (hidden, hidden)
    assert stats["mu"].dtype == stats["sigma"].dtype == np.float64
    # Other weights, another key: their statistics never mix with these.
    changed = jax.tree.map(lambda x: x + 1e-3, classifier.variables)
    assert weights_key(changed) != weights_key(classifier.variables) == classifier.key

    generated = tmp_path / "real_val_fear"
    generated.mkdir()
    val = [p for p in sorted((generate_corpus / "wav").glob("*.wav"))][:30]
    for path in val:
        (generated / path.name).symlink_to(path)
    common = ["generate", "fid", "--generated", str(generated), "--classifier", str(classifier_dir), "--json"]
    assert main([*common, "--data-dir", str(generate_corpus), "--split", "Train", "--emotion", "Fear"]) == 0
    by_data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main([*common, "--reference-stats", str(files[0])]) == 0  # the official-file path
    by_stats = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert by_data["fid"] == pytest.approx(by_stats["fid"], rel=1e-9)
    assert by_data["kid"] is not None and by_stats["kid"] is None and by_data["n_generated"] == 30
    assert {"fid", "fd_infinity", "kid", "kid_se", "classifier_key"} <= set(by_data)
    assert load_stats(files[0]).mu.shape == (hidden,)
