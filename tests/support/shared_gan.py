"""The one tiny conditional GAN run that the Generate tests share (trained by the `trained_gan` fixture of the
root conftest): its config, its length and where its previews fall."""

CONFIG = "experiments/generate/conditional.py:tiny"
STEPS = 2000
PREVIEW_EVERY = STEPS // 2
