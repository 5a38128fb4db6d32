"""The ExVo 2022 paper's baseline numbers (arXiv 2205.01780), shown beside a run's own for scale.

They were measured on the real HUME-VB release with the paper-sized models; a run on the synthetic
corpus or with smaller configs is not comparable cell by cell, and the report says so wherever they appear.
Only numbers the paper states are kept; everything else shows as absent.
"""

from __future__ import annotations

SOURCE = "ExVo 2022 baseline paper (arXiv 2205.01780), real HUME-VB data"

# Table 2: the multitask baseline's Test S_MTL with ComParE functionals.
MULTITASK_TEST = {"ComParE": {"S_MTL": 0.335}}
# Table 3: the per-emotion MSG-GAN FIDs span this range; Test S_Gen; train-vs-validation FID diagonal.
GENERATE_FID_RANGE = (4.81, 8.27)
GENERATE_S_GEN = 0.174
GENERATE_TRAIN_VAL_FID_RANGE = (0.34, 3.76)
# Table 4: few-shot Test mean CCC with LSTM hidden size 256.
FEWSHOT_TEST = {"H=256": {"mean_ccc": 0.444}}
