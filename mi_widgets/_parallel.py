"""One path for batch work: chunks on a local thread pool, or on a Dask cluster.

Batch computations (many spectra of a map, many frames of an MD trajectory) are
split into independent chunks. :func:`map_chunks` runs ``func(chunk, *shared)``
for every chunk, either on a pool of threads in this process (numpy releases the
GIL in vectorised work) or, given a ``dask.distributed.Client``, as one task per
chunk on the cluster. Outputs come back in the order of the chunks; progress is
reported as chunks complete, as ``progress(done, total)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, TypeVar

import numpy as np

from mi_widgets._errors import check_positive_int
from mi_widgets._threads import one_blas_thread

__all__ = ["map_chunks", "progress_reporter", "split_rows"]

T = TypeVar("T")
R = TypeVar("R")


def split_rows(values: np.ndarray, chunk_size: int) -> list[np.ndarray]:
    """Split an array along its first axis into views of at most ``chunk_size`` rows.

    Examples
    --------
    >>> [c.shape[0] for c in split_rows(np.zeros((10, 3)), 4)]
    [4, 4, 2]
    """
    check_positive_int(chunk_size, "chunk_size")
    return [values[i : i + chunk_size] for i in range(0, values.shape[0], chunk_size)]


def progress_reporter(
    progress: bool | Callable[[int, int], None] | None, total: int, desc: str = "chunks"
) -> Callable[[int], None]:
    """``report(done)`` from a progress option: a callable, True (a tqdm bar) or False.

    Examples
    --------
    >>> calls = []
    >>> report = progress_reporter(lambda d, t: calls.append((d, t)), 2)
    >>> report(1); calls
    [(1, 2)]
    """
    if callable(progress):
        return lambda done: progress(done, total)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc)

        def update(done: int) -> None:
            bar.update(done - bar.n)
            if done == total:
                bar.close()

        return update
    return lambda done: None


def map_chunks(
    func: Callable[..., R],
    chunks: Sequence[T],
    *,
    shared: Sequence[Any] = (),
    n_jobs: int | None = None,
    client: Any = None,
    progress: bool | Callable[[int, int], None] | None = None,
) -> list[R]:
    """Apply ``func(chunk, *shared)`` to every chunk, locally or on a Dask cluster.

    Parameters
    ----------
    func : callable
        A module-level function (Dask pickles it by reference).
    chunks : sequence
        Independent pieces of work (arrays of spectra, lists of frames ...).
    shared : sequence, optional
        Extra arguments common to every call. On a cluster, array arguments are
        sent once to every worker (``scatter(broadcast=True)``).
    n_jobs : int, optional
        Threads when running locally; default: the number of CPUs. BLAS is held
        to one thread inside the pool so threads do not oversubscribe the cores.
    client : dask.distributed.Client, optional
        Run one task per chunk on this cluster instead.
    progress : bool or callable, optional
        ``progress(done, total)`` after each completed chunk, or True for a
        ``tqdm.auto`` bar.

    Returns
    -------
    list
        ``func``'s outputs in the order of ``chunks``.

    Examples
    --------
    >>> map_chunks(np.sum, [np.arange(3), np.arange(4)], n_jobs=2)
    [np.int64(3), np.int64(6)]
    """
    if n_jobs is not None:
        check_positive_int(n_jobs, "n_jobs")
    report = progress_reporter(progress, len(chunks))
    if not chunks:
        return []
    if client is not None:
        return _on_client(client, func, chunks, shared, report)
    workers = min(n_jobs or os.cpu_count() or 1, len(chunks))
    if workers == 1:
        outputs = []
        with one_blas_thread():
            for chunk in chunks:
                outputs.append(func(chunk, *shared))
                report(len(outputs))
        return outputs
    # one limit around the whole pool: per-thread limits would restore each other's settings
    with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(func, chunk, *shared) for chunk in chunks]
        try:
            for done, _ in enumerate(as_completed(futures), start=1):
                report(done)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return [future.result() for future in futures]


def _on_client(client, func, chunks, shared, report) -> list:
    from dask.distributed import as_completed as dask_completed

    # arrays go to every worker once, under a fresh key per call
    sent = [
        client.scatter(a, broadcast=True, hash=False) if isinstance(a, np.ndarray) else a
        for a in shared
    ]
    futures = [client.submit(func, chunk, *sent, pure=False) for chunk in chunks]
    position = {f.key: i for i, f in enumerate(futures)}
    outputs: list = [None] * len(futures)
    for done, future in enumerate(dask_completed(futures), start=1):
        outputs[position[future.key]] = future.result()
        report(done)
    return outputs
