"""Clip-level acoustic features: openSMILE functionals, bags of audio words, DeepSpectrum; caching and scaling.

Modules: `opensmile_functionals` (one clip), `corpus` (whole corpora, cached, in worker processes),
`cache` (content-keyed cache), `boaw` and `kmeans` (bags of audio words), `deepspectrum` (VGG-19 fc7 of
mel images), `scaling` (standard scaling fit on training data), `parallel` (worker processes), `logmel`
(the generation track's log-mel front end in JAX, with its librosa reference). The package itself imports
nothing heavy, so worker processes start quickly.
"""
