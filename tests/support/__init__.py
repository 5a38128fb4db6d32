"""What the test modules and their child processes share, so that no test module imports another.

Test modules and the child scripts under `children/` import from here and from `exvo_jax` only; nothing here
imports a test module.

The end-to-end tests are marked `slow`: `pytest -m "not slow"` is the quick run; `make test` runs them all.
"""
