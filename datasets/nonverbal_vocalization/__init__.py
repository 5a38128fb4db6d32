"""Nonverbal-vocalisation TFDS builder (array_record, no TensorFlow)."""
