"""Linen model families, one per module: the multitask MLP, the few-shot CNN-LSTM and the MSG-GAN for log-mels."""
