"""The CNN-LSTM's shared machinery: framing clips, its settings, supervised training, the protocol, evaluation.

`framing` (audio -> 1600-sample frames), `settings` (`RecognitionSettings`: what training reads, and its
watch fields), `training` (`fit`: AdamW, best epoch by validation CCC, the run layer, data-parallel on a
mesh), `protocol` (train on Train, select on Val or on half of its speakers, report on held-out speakers:
written once for both users), `inference` (encoder features, last-frame predictions and top-LSTM features of
many clips, optionally sharded over the mesh's `data` axis). The few-shot track and the Generate track's FID
classifier both stand on it; the network is `exvo_jax.models.cnn_lstm.CnnLstm`. It sits below the tracks:
the command line, the demo and the report never import it.
"""
