"""Few-shot speaker tasks: which clips of a speaker are support and which are query, with their features.

The batched passes that compute the features (`encode_clips`, `predict_clips`) live one floor down in
`exvo_jax.recognition.inference`, shared with the Generate track's classifier.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from exvo_jax.data.errors import DataError
from exvo_jax.data.speakers import support_query
from exvo_jax.tracks.fewshot.adapt import SpeakerTask


def support_rule(targets: np.ndarray) -> str:
    """How to pick support clips from `targets` `[N, K]` (NaN rows unlabelled): "first" when every clip is
    labelled (Val; Test with its labels), else "labelled" (Test with its released support labels)."""
    return "first" if bool(np.all(np.isfinite(targets))) else "labelled"


def speaker_tasks(items: Sequence, features: Sequence[np.ndarray], targets: np.ndarray, *, shots: int,
                  support: str = "first", speaker_of: Callable = lambda c: c.speaker,
                  name_of: Callable = lambda c: c.file_id) -> tuple[list[SpeakerTask], list[list[int]]]:
    """Few-shot tasks of each speaker and each task's query indices.

    `targets` `[N, K]` hold NaN rows where a clip's labels are unknown. `support="first"`: the first
    `shots` clips of a speaker in file order are support (they need labels: an error names the clip
    otherwise). `support="labelled"`: a speaker's labelled clips are support, whatever their order, and
    each speaker needs exactly `shots` of them (see `support_query`). The rest are query; query targets
    are kept where all of a speaker's are known.
    """
    index = {id(item): i for i, item in enumerate(items)}
    known = np.all(np.isfinite(targets), axis=1)  # [N]
    tasks, query_indices = [], []
    for episode in support_query(items, shots, speaker_of=speaker_of, name_of=name_of, support=support,
                                 labelled=lambda c: bool(known[index[id(c)]])):
        s_idx = [index[id(c)] for c in episode.support]
        q_idx = [index[id(c)] for c in episode.query]
        unlabelled = [name_of(items[i]) for i in s_idx if not known[i]]
        if unlabelled:
            raise DataError(f"speaker {episode.speaker!r}: support clip(s) {', '.join(unlabelled)} have no labels")
        query_known = bool(q_idx) and bool(np.all(known[q_idx]))
        tasks.append(SpeakerTask(
            speaker=str(episode.speaker),
            support=tuple(features[i] for i in s_idx),
            targets=targets[s_idx],
            query=tuple(features[i] for i in q_idx),
            query_targets=targets[q_idx] if query_known else None,
        ))
        query_indices.append(q_idx)
    return tasks, query_indices
