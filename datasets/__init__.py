"""TFDS builders (array_record, no TensorFlow) for HUME-VB and the nonverbal-vocalisation sample."""
