"""Deterministic synthetic HUME-VB-shaped corpus with learnable emotion, age, country and speaker signal."""

from exvo_jax.synth.corpus import CorpusSummary, format_summary, plan_corpus, write_corpus

__all__ = ["CorpusSummary", "format_summary", "plan_corpus", "write_corpus"]
