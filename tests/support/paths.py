"""Where the checkout is: the one place the tests find it (for child processes' path and working folder,
and for copying the sources), whatever the working folder and however exvo_jax is installed."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
