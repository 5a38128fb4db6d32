"""Linen model families, one per module: the multitask MLP and the few-shot CNN-LSTM."""
