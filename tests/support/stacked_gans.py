"""The short per-emotion GAN runs that tests/test_generate_training.py compares, trained alone, stacked and
spread over 8 devices (in its child process): which emotions, and how many iterations."""

EMOTIONS_USED = ("Amusement", "Distress")  # the two largest Train sets of the 24 x 5 corpus (7 clips each)
STEPS = 4  # iterations of the runs compared
