"""`python -m exvo_jax` runs the command line."""

import sys

from exvo_jax.cli import main

sys.exit(main())
