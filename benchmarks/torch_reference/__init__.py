"""PyTorch reference implementations of the baselines, written from their description, for parity and speed."""
