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
    members = [np.flatnonzero(labels == c) for c in range(len(centres))]
    radius = np.array(
        [_radius(X[idx], centre) for idx, centre in zip(members, centres, strict=True)]
    )
    X32 = X.astype(np.float32)
    norms = np.einsum("ij,ij->i", X32, X32)
    kept = min(k + _SPARES, n - 1)  # spares absorb single-precision near-ties
    indices = np.empty((n, kept), dtype=np.int64)
    for cell, queries in enumerate(members):
        if queries.size:
            indices[queries] = _cell_queries(
                X32, norms, queries, cell, members, centres, radius, kept
            )
    d2 = pair_squared_distances(X, indices)
    order = np.argsort(d2, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(indices, order, axis=1), np.take_along_axis(d2, order, axis=1)


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


def _cell_queries(X, norms, queries, cell, members, centres, radius, k) -> np.ndarray:
    """The k nearest points of every query of one cell, visiting the cells nearest first.

    Candidates are ranked by ``|x|^2 - 2 q.x`` (the query's own norm is the same
    for all of its candidates) in single precision; the caller re-ranks the
    ``k`` kept (plus spares) by exact distances.
    """
    q = X[queries]
    q_norms = norms[queries].astype(np.float64)
    to_centres = np.sqrt(np.maximum(_squared_to(q.astype(np.float64), centres), 0.0))
    # no member is closer than |q - c| - r; the slack covers single-precision rounding
    slack = _SLACK * (np.sqrt(q_norms)[:, None] + np.linalg.norm(centres, axis=1)[None, :])
    bound = np.maximum(to_centres - radius[None, :] - slack, 0.0) ** 2 - q_norms[:, None]
    best = np.full((len(queries), k), np.inf, dtype=np.float32)
    best_idx = np.full((len(queries), k), -1, dtype=np.int64)
    for other in np.argsort(np.linalg.norm(centres - centres[cell], axis=1), kind="stable"):
        candidates = members[other]
        need = np.flatnonzero(bound[:, other] < best.max(axis=1))
        if not candidates.size or not need.size:
            continue
        score = norms[None, candidates] - 2.0 * (q[need] @ X[candidates].T)
        if other == cell:
            score[queries[need, None] == candidates[None, :]] = np.inf  # never oneself
        kk = min(k, candidates.size)
        near = np.argpartition(score, kk - 1, axis=1)[:, :kk]
        both = np.hstack([best[need], np.take_along_axis(score, near, axis=1)])
        both_idx = np.hstack([best_idx[need], candidates[near]])
        keep = np.argpartition(both, k - 1, axis=1)[:, :k]
        best[need] = np.take_along_axis(both, keep, axis=1)
        best_idx[need] = np.take_along_axis(both_idx, keep, axis=1)
    return best_idx


def _squared_to(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return (
        np.einsum("ij,ij->i", points, points)[:, None]
        + np.einsum("ij,ij->i", centres, centres)[None, :]
        - 2.0 * (points @ centres.T)
    )
