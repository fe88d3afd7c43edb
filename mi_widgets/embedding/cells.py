"""Exact k nearest neighbours by cells: k-means cells, pruned by the triangle inequality.

Where a k-d tree cannot prune (intrinsically high-dimensional data) and an
approximate search misses neighbours (isotropic Gaussian clusters in 100
dimensions, where every distance is within a few per cent of every other),
this search is still exact and skips the far parts of the data:

1. the points are split into cells by a few rounds of k-means; each cell keeps
   its centre ``c`` and radius ``r`` (the largest distance of a member from ``c``);
2. the queries of one cell visit the cells in order of their centres'
   distance, own cell first, and keep their ``k`` nearest points so far;
3. a cell is skipped for every query whose ``k``-th distance so far is below
   ``|q - c| - r``, a lower bound of the distance to any member (triangle
   inequality), so a whole cluster far from the query is never compared.

On three separated Gaussian clusters about two thirds of all pairs are skipped;
on data without such structure the search degrades gracefully to brute force.
Candidates are ranked in single precision through dot products (two spare
neighbours absorb near-ties); the neighbours are re-ranked and returned with
distances recomputed in double precision from differences (no cancellation).
"""

from __future__ import annotations

import numpy as np

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int
from mi_widgets.embedding.ann import pair_squared_distances

__all__ = ["cell_knn"]

#: Lloyd iterations of the k-means that forms the cells (cells need not be optimal).
_KMEANS_ROUNDS = 5
#: Relative slack on the pruning bound, far above the rounding of a dot-product distance.
_SLACK = 1e-5
#: Above this many better candidates per row (times k), a block is merged by a partial sort.
_DENSE_MERGE = 4
#: Extra neighbours kept from the single-precision ranking, re-ranked in double precision.
_SPARES = 2


def cell_knn(
    X: np.ndarray,
    n_neighbors: int,
    *,
    n_cells: int | None = None,
    random_state: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The exact ``n_neighbors`` nearest other points of every row of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_neighbors : int
        Neighbours per point (the point itself never counts).
    n_cells : int, optional
        k-means cells; default ``sqrt(n_samples) / 4``, between 1 and 256.
    random_state : int or None, default 0
        Seed of the k-means start (the result is exact for any seed).

    Returns
    -------
    indices : ndarray of int, shape (n_samples, n_neighbors)
        Neighbours of each point, nearest first.
    squared_distances : ndarray of shape (n_samples, n_neighbors)
        Their squared Euclidean distances, computed from differences.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(500, 30)), rng.normal(size=(500, 30)) + 20.0])
    >>> from sklearn.neighbors import NearestNeighbors
    >>> exact = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X, return_distance=False)
    >>> bool(np.array_equal(cell_knn(X, 5)[0], exact[:, 1:]))
    True
    """
    X = check_finite_array(X, "X", ndim=2)
    X = X - X.mean(axis=0)  # smaller norms, less cancellation in the dot-product form
    n = X.shape[0]
    if n < 2:
        raise MIInputError("X needs at least two points to have neighbours.")
    k = check_positive_int(n_neighbors, "n_neighbors", maximum=n - 1)
    default_cells = int(np.clip(np.sqrt(n) / 4, 1, 256))
    m = default_cells if n_cells is None else check_positive_int(n_cells, "n_cells")
    labels, centres = _kmeans(X, min(m, n), np.random.default_rng(random_state))
    # store the points cell by cell, so a cell's members are one contiguous slice
    by_cell = np.argsort(labels, kind="stable")
    edges = np.searchsorted(labels[by_cell], np.arange(len(centres) + 1))
    sorted_X = X[by_cell]
    radius = np.array(
        [_radius(sorted_X[a:b], c) for a, b, c in zip(edges[:-1], edges[1:], centres, strict=True)]
    )
    X32 = sorted_X.astype(np.float32)
    norms = np.einsum("ij,ij->i", X32, X32)
    kept = min(k + _SPARES, n - 1)  # spares absorb single-precision near-ties
    indices = np.empty((n, kept), dtype=np.int64)
    for cell in range(len(centres)):
        if edges[cell + 1] > edges[cell]:
            indices[edges[cell] : edges[cell + 1]] = _cell_queries(
                X32, norms, edges, cell, centres, radius, kept
            )
    indices = by_cell[indices]  # back to the caller's numbering
    result = np.empty_like(indices)
    result[by_cell] = indices
    d2 = pair_squared_distances(X, result)
    order = np.argsort(d2, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(result, order, axis=1), np.take_along_axis(d2, order, axis=1)


def _kmeans(X: np.ndarray, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Cell labels and centres from a few Lloyd rounds started at ``m`` random points."""
    centres = X[rng.choice(len(X), size=m, replace=False)].copy()
    for _ in range(_KMEANS_ROUNDS):
        labels = _nearest_centre(X, centres)
        counts = np.bincount(labels, minlength=m)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, X)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return _nearest_centre(X, centres), centres


def _nearest_centre(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    scores = np.einsum("ij,ij->i", centres, centres)[None, :] - 2.0 * (X @ centres.T)
    return np.argmin(scores, axis=1)


def _radius(points: np.ndarray, centre: np.ndarray) -> float:
    if not len(points):
        return 0.0
    return float(np.sqrt(np.max(np.einsum("ij,ij->i", points - centre, points - centre))))


def _cell_queries(X, norms, edges, cell, centres, radius, k) -> np.ndarray:
    """The k nearest points of every query of one cell, visiting the cells nearest first.

    Rows of ``X`` are stored cell by cell (``edges``). Candidates are ranked by
    ``|x|^2 - 2 q.x`` (the query's own norm is the same for all of its
    candidates) in single precision; the caller re-ranks by exact distances.
    Returns positions in the cell-sorted storage.
    """
    first = int(edges[cell])
    q = X[first : edges[cell + 1]]
    q_norms = norms[first : edges[cell + 1]].astype(np.float64)
    to_centres = np.sqrt(np.maximum(_squared_to(q.astype(np.float64), centres), 0.0))
    # no member is closer than |q - c| - r; the slack covers single-precision rounding
    slack = _SLACK * (np.sqrt(q_norms)[:, None] + np.linalg.norm(centres, axis=1)[None, :])
    bound = np.maximum(to_centres - radius[None, :] - slack, 0.0) ** 2 - q_norms[:, None]
    best = np.full((len(q), k), np.inf, dtype=np.float32)
    best_idx = np.full((len(q), k), -1, dtype=np.int64)
    for other in np.argsort(np.linalg.norm(centres - centres[cell], axis=1), kind="stable"):
        start, stop = int(edges[other]), int(edges[other + 1])
        need = np.flatnonzero(bound[:, other] < best.max(axis=1))
        if stop == start or not need.size:
            continue
        score = norms[None, start:stop] - 2.0 * (q[need] @ X[start:stop].T)
        if other == cell:
            score[np.arange(len(need)), need] = np.inf  # never oneself
        _merge_block(best, best_idx, need, score, start, k)
    return best_idx


def _merge_block(best, best_idx, rows, score, offset, k) -> None:
    """Merge one block of candidate scores into the ``k`` best of ``rows`` (in place).

    Only candidates better than a row's current ``k``-th take part; once the
    nearest cells have been visited these are few, so most of a block is
    dismissed by one comparison instead of a partial sort.
    """
    # flat indices: numpy's 1-D nonzero is about ten times faster than the 2-D one
    hit = np.flatnonzero(score < best[rows].max(axis=1)[:, None])
    if not hit.size:
        return
    r, c = np.divmod(hit, score.shape[1])
    counts = np.bincount(r, minlength=len(rows))
    width = int(counts.max())
    if width > _DENSE_MERGE * k:  # many better candidates (the first cells): partial sort
        kk = min(k, score.shape[1])
        near = np.argpartition(score, kk - 1, axis=1)[:, :kk]
        new_score, new_idx = np.take_along_axis(score, near, axis=1), near + offset
    else:  # a few per row: gather them into a padded table
        slot = np.arange(r.size) - np.repeat(np.cumsum(counts) - counts, counts)
        new_score = np.full((len(rows), width), np.inf, dtype=score.dtype)
        new_idx = np.full((len(rows), width), -1, dtype=np.int64)
        new_score[r, slot], new_idx[r, slot] = score[r, c], c + offset
    both = np.hstack([best[rows], new_score])
    both_idx = np.hstack([best_idx[rows], new_idx])
    keep = np.argpartition(both, k - 1, axis=1)[:, :k]
    best[rows] = np.take_along_axis(both, keep, axis=1)
    best_idx[rows] = np.take_along_axis(both_idx, keep, axis=1)


def _squared_to(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return (
        np.einsum("ij,ij->i", points, points)[:, None]
        + np.einsum("ij,ij->i", centres, centres)[None, :]
        - 2.0 * (points @ centres.T)
    )
