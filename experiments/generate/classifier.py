"""The FID emotion classifier of the Generate track: the few-shot CNN + 2-layer LSTM(256) trained on Train.

Run:   exvo-jax generate classifier --config experiments/generate/classifier.py --data-dir <release> \
           --workdir runs/fid_classifier
       exvo-jax generate fid --generated runs/msg_gan/submission/Fear --data-dir <release> --split Train \
           --emotion Fear --classifier runs/fid_classifier
Tiny:  --config experiments/generate/classifier.py:tiny (H = 16, narrow convolutions, the first 0.5 s of each
       clip, 12 epochs; seconds on a 2-core CPU)
Expected: the feature space of the paper's FID (256-d top LSTM output at the last frame). The held-out mean
CCC is reported per emotion; on the synthetic corpus the tiny config's is well above 0
(tests/test_generate_evaluation.py asserts > 0.1).
"""

from exvo_jax.tracks.generate.evaluation.classifier_config import default_config, make_tiny


def get_config(arg=None):
    config = default_config()
    if arg == "tiny":
        config = make_tiny(config)
    return config
