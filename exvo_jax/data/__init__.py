"""HUME-VB data layer: schema, release reader, audio loading, speaker utilities and corpus checks."""
