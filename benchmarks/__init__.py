"""Benchmarks: each prints the JAX figure, the PyTorch reference figure from the same run, and their ratio."""
