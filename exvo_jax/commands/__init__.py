"""Subcommands of the `exvo-jax` command line, one module each (see `exvo_jax.cli`)."""
