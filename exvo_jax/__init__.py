"""exvo_jax: JAX/Flax toolkit for the ExVo 2022 vocal-burst tracks on HUME-VB."""

__version__ = "0.1.0"
