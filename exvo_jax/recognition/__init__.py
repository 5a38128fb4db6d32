"""The recognition model's shared machinery: framing clips, supervised training, batched evaluation passes.

`framing` (audio -> 1600-sample frames), `training` (`fit`: AdamW, best epoch by validation CCC, the run
layer, data-parallel on a mesh), `inference` (encoder features, last-frame predictions and top-LSTM
features of many clips, optionally sharded over the mesh's `data` axis). The few-shot track and the
Generate track's FID classifier both stand on it; the network is `exvo_jax.models.cnn_lstm`.
"""
