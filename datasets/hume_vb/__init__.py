"""HUME-VB TFDS builder (array_record, no TensorFlow)."""
