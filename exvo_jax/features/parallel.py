"""Running a per-clip extractor over many clips in worker processes, with a progress bar."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Sequence

from tqdm.auto import tqdm


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


# Below this many jobs, starting worker processes (each imports the caller's main module) costs more
# than it saves; the work runs in-process.
MIN_PARALLEL_JOBS = 256


def parallel_map(worker, jobs: Sequence, workers: int, desc: str, progress: bool = True) -> list:
    """`[worker(job) for job in jobs]` over `workers` spawned processes, with a progress bar.

    Runs in-process for one worker or fewer than MIN_PARALLEL_JOBS jobs. Spawned workers import the
    caller's main module, so scripts calling this need the usual `if __name__ == "__main__":` guard.
    """
    results: list = []
    # Closed also when a job fails, so that the error is printed on a line of its own.
    with tqdm(total=len(jobs), desc=desc, disable=not progress or not jobs, leave=False) as bar:
        if workers <= 1 or len(jobs) < MIN_PARALLEL_JOBS:
            for job in jobs:
                results.append(worker(job))
                bar.update()
        else:
            context = multiprocessing.get_context("spawn")  # the parent may hold JAX threads: never fork
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
                chunksize = max(1, min(32, len(jobs) // (workers * 8)))
                for result in pool.map(worker, jobs, chunksize=chunksize):
                    results.append(result)
                    bar.update()
    return results
