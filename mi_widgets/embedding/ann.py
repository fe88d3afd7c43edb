"""Approximate k nearest neighbours: a random-projection forest refined by NN-descent, in numpy.

Exact neighbour search prunes well in few dimensions (a k-d tree) and costs
``N^2 d`` where it cannot (brute force): 10^5 points in 100 dimensions of
intrinsically high-dimensional data (isotropic Gaussian clusters) took over a
minute. Two classic ideas give the neighbour graph in ``O(N log N)``-like time:

* **Random-projection trees** (Dasgupta & Freund 2008): split the points again
  and again by a random hyperplane at the median until each leaf holds at most
  ``leaf_size`` points; points close together mostly share a leaf. All points
  of a leaf are compared with each other; several trees (a forest) catch the
  pairs that one tree separates.
* **NN-descent** (Dong, Charikar & Li, WWW 2011): "a neighbour of a neighbour is
  likely a neighbour". Each point compares itself with the neighbours of its
  current neighbours and of the points that list it, and keeps the closest;
  a few rounds turn a rough graph into a nearly exact one.

Both are written with whole-array numpy operations (no loop over points). The
result is checked against exact search in the tests and in
``benchmarks/bench_structure.py``: recall >= 0.99 on the lab's LAAF data and
the same downstream accuracy on Gaussian clusters. On intrinsically
high-dimensional data (isotropic 100-D Gaussians, where all distances are
within a few per cent of each other) NN-descent finds only about 40 % of the
exact neighbours, so TS-LPP's default search there is the exact cell search of
:mod:`mi_widgets.embedding.cells`; this one is used when asked for.
"""

from __future__ import annotations

import numpy as np

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int

__all__ = ["approximate_knn", "knn_recall", "pair_squared_distances"]

_BLOCK_ELEMENTS = 2**22  # floats gathered at once when measuring candidate distances


def approximate_knn(
    X: np.ndarray,
    n_neighbors: int,
    *,
    n_trees: int = 8,
    leaf_size: int | None = None,
    max_iter: int = 4,
    tol: float = 1e-3,
    random_state: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_neighbors`` nearest other points of every row of ``X``, approximately.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_neighbors : int
        Neighbours per point (the point itself never counts).
    n_trees : int, default 8
        Random-projection trees that seed the graph.
    leaf_size : int, optional
        Largest leaf; default ``max(4 * n_neighbors, 32)``.
    max_iter : int, default 4
        Most NN-descent rounds.
    tol : float, default 1e-3
        Stop when a round changes fewer than ``tol * n_samples * n_neighbors`` entries.
    random_state : int or None, default 0
        Seed of the random hyperplanes.

    Returns
    -------
    indices : ndarray of int, shape (n_samples, n_neighbors)
        Neighbours of each point, nearest first.
    squared_distances : ndarray of shape (n_samples, n_neighbors)
        Their squared Euclidean distances (computed from differences).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3)) @ rng.normal(size=(3, 20))  # 3-D data in 20-D
    >>> approx, _ = approximate_knn(X, 5)
    >>> from sklearn.neighbors import NearestNeighbors
    >>> exact = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    >>> knn_recall(approx, exact) > 0.99
    True
    """
    X = check_finite_array(X, "X", ndim=2)
    n = X.shape[0]
    k = check_positive_int(n_neighbors, "n_neighbors", maximum=max(n - 1, 1))
    if n < 2:
        raise MIInputError("X needs at least two points to have neighbours.")
    check_positive_int(n_trees, "n_trees")
    leaf = max(4 * k, 32) if leaf_size is None else check_positive_int(leaf_size, "leaf_size")
    leaf = max(leaf, k + 1)
    rng = np.random.default_rng(random_state)
    # candidates are ranked in single precision (half the memory traffic); the
    # distances returned are recomputed in double precision from differences
    X32 = (X - X.mean(axis=0)).astype(np.float32)
    norms = np.einsum("ij,ij->i", X32, X32)
    indices = np.full((n, k), -1, dtype=np.int64)
    d2 = np.full((n, k), np.inf, dtype=np.float32)
    for _ in range(n_trees):
        order, bounds = _rp_tree(X32, leaf, rng)
        cand, cand_d2 = _leaf_neighbours(X32, norms, order, bounds, k)
        indices, d2, _ = _merge(indices, d2, cand, cand_d2, k)
    for _ in range(max_iter):
        cand = _descent_candidates(indices, rng)
        cand_d2 = _distances(X32, norms, cand)
        indices, d2, changed = _merge(indices, d2, cand, cand_d2, k)
        if changed <= tol * n * k:
            break
    # exact squared distances (no cancellation) for the neighbours kept
    d2 = pair_squared_distances(X, indices)
    order = np.argsort(d2, axis=1, kind="stable")
    return np.take_along_axis(indices, order, axis=1), np.take_along_axis(d2, order, axis=1)


def knn_recall(approximate: np.ndarray, exact: np.ndarray) -> float:
    """Fraction of the exact neighbours that an approximate search found (0 to 1).

    Examples
    --------
    >>> knn_recall(np.array([[1, 2], [0, 3]]), np.array([[1, 2], [0, 2]]))
    0.75
    """
    approximate, exact = np.asarray(approximate), np.asarray(exact)
    if approximate.shape[0] != exact.shape[0]:
        raise MIInputError("Both neighbour tables need one row per point.")
    hits = sum(
        np.intersect1d(a, e, assume_unique=False).size
        for a, e in zip(approximate, exact, strict=True)
    )
    return hits / exact.size


# --------------------------------------------------------------------------- the forest
def _rp_tree(
    X: np.ndarray, leaf_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One random-projection tree: a permutation of the points and its leaf boundaries.

    Every level splits every segment larger than ``leaf_size`` at the median of
    the points' projections on the line through two random points of the
    segment (data-adaptive hyperplanes, as in Annoy and PyNNDescent). All
    segments of a level are split together.
    """
    n = X.shape[0]
    order = np.arange(n)
    bounds = np.array([0, n])
    while True:
        sizes = np.diff(bounds)
        split = sizes > leaf_size
        if not split.any():
            return order, bounds
        starts = bounds[:-1][split]
        lengths = sizes[split]
        a = order[starts + (rng.random(len(starts)) * lengths).astype(np.int64)]
        b = order[starts + (rng.random(len(starts)) * lengths).astype(np.int64)]
        directions = X[a] - X[b]
        degenerate = ~np.any(directions, axis=1)  # two copies of one point: any line
        if degenerate.any():
            directions[degenerate] = rng.normal(size=(int(degenerate.sum()), X.shape[1]))
        segment = np.repeat(np.arange(len(starts)), lengths)
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        positions = np.arange(int(lengths.sum())) + offsets
        members = order[positions]
        projection = np.einsum("ij,ij->i", X[members], directions[segment])
        # ties (e.g. duplicates) are broken at random so the halves stay balanced
        ranked = np.lexsort((rng.random(len(members)), projection, segment))
        order[positions] = members[ranked]
        middles = starts + lengths // 2
        bounds = np.union1d(bounds, middles)


def _leaf_neighbours(
    X: np.ndarray, norms: np.ndarray, order: np.ndarray, bounds: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Within every leaf, each point's ``k`` nearest other points of that leaf."""
    n = X.shape[0]
    sizes = np.diff(bounds)
    width = int(sizes.max())
    n_leaves = len(sizes)
    slots = np.arange(width)
    table = bounds[:-1, None] + slots[None, :]
    valid = slots[None, :] < sizes[:, None]
    members = np.where(valid, order[np.minimum(table, n - 1)], -1)
    cand = np.full((n, k), -1, dtype=np.int64)
    cand_d2 = np.full((n, k), np.inf, dtype=X.dtype)
    block = max(1, _BLOCK_ELEMENTS // (width * max(width, X.shape[1])))
    for start in range(0, n_leaves, block):
        rows = members[start : start + block]
        mask = rows >= 0
        safe = np.where(mask, rows, 0)
        points = X[safe]
        gram = points @ points.transpose(0, 2, 1)
        sq = norms[safe]
        dist = sq[:, :, None] + sq[:, None, :] - 2.0 * gram
        dist[~mask[:, :, None] | ~mask[:, None, :]] = np.inf
        dist[:, slots, slots] = np.inf  # never oneself
        kk = min(k, width - 1)
        nearest = np.argpartition(dist, kk - 1, axis=2)[:, :, :kk]
        near_d2 = np.take_along_axis(dist, nearest, axis=2)
        neighbours = np.take_along_axis(safe[:, None, :], nearest, axis=2)
        neighbours = np.where(np.isfinite(near_d2), neighbours, -1)
        owners = rows[mask]
        cand[owners, :kk] = neighbours[mask]
        cand_d2[owners, :kk] = near_d2[mask]
    return cand, cand_d2


# --------------------------------------------------------------------------- NN-descent
def _descent_candidates(
    indices: np.ndarray, rng: np.random.Generator, sample: int = 10
) -> np.ndarray:
    """Neighbours of neighbours, reverse neighbours and their neighbours, for every point.

    As in NN-descent's sampling, only ``sample`` of each list take part (the
    nearest ones), so a round costs ``~2 sample^2`` distances per point for any ``k``.
    """
    n, k = indices.shape
    s = min(k, sample)
    safe = np.where(indices >= 0, indices, np.arange(n)[:, None])[:, :s]
    forward = safe[safe].reshape(n, s * s)
    # reverse neighbours: the points that list i, at most s of them, chosen at random
    sources = np.repeat(np.arange(n), s)
    targets = safe.ravel()
    shuffled = rng.permutation(len(targets))
    by_target = shuffled[np.argsort(targets[shuffled], kind="stable")]
    targets_sorted = targets[by_target]
    first = np.searchsorted(targets_sorted, np.arange(n))
    rank = np.arange(len(targets_sorted)) - first[targets_sorted]
    keep = rank < s
    reverse = np.tile(np.arange(n)[:, None], (1, s))  # self where fewer than s
    reverse[targets_sorted[keep], rank[keep]] = sources[by_target][keep]
    return np.hstack([forward, reverse, safe[reverse].reshape(n, s * s)])


def _distances(X: np.ndarray, norms: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Squared distances from every point to its candidates (Gram form; re-checked later)."""
    n, c = cand.shape
    out = np.empty((n, c), dtype=X.dtype)
    block = max(1, _BLOCK_ELEMENTS // (c * X.shape[1]))
    for start in range(0, n, block):
        rows = slice(start, start + block)
        dots = np.einsum("ij,ikj->ik", X[rows], X[cand[rows]])
        out[rows] = norms[rows, None] + norms[cand[rows]] - 2.0 * dots
    out[cand == np.arange(n)[:, None]] = np.inf  # never oneself
    return out


def _merge(
    indices: np.ndarray, d2: np.ndarray, cand: np.ndarray, cand_d2: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Keep the ``k`` nearest distinct candidates of each row; count the new entries."""
    n = indices.shape[0]
    all_idx = np.hstack([indices, cand])
    all_d2 = np.hstack([d2, cand_d2])
    all_d2 = np.where(all_idx >= 0, all_d2, np.inf)
    # drop repeated candidates: sort each row by index, blank all but the first copy
    by_index = np.argsort(all_idx, axis=1, kind="stable")
    sorted_idx = np.take_along_axis(all_idx, by_index, axis=1)
    repeat = np.zeros_like(sorted_idx, dtype=bool)
    repeat[:, 1:] = sorted_idx[:, 1:] == sorted_idx[:, :-1]
    blanked = np.take_along_axis(all_d2, by_index, axis=1)
    blanked[repeat] = np.inf
    best = np.argpartition(blanked, k - 1, axis=1)[:, :k]
    new_idx = np.take_along_axis(sorted_idx, best, axis=1)
    new_d2 = np.take_along_axis(blanked, best, axis=1)
    new_idx = np.where(np.isfinite(new_d2), new_idx, -1)
    changed = int(n * k - _row_overlap(indices, new_idx))
    return new_idx, new_d2, changed


def _row_overlap(a: np.ndarray, b: np.ndarray) -> int:
    """Entries of ``b`` that also appear in the same row of ``a`` (rows hold distinct values)."""
    both = np.sort(np.hstack([a, b]), axis=1)
    same = (both[:, 1:] == both[:, :-1]) & (both[:, 1:] >= 0)
    return int(same.sum())


def pair_squared_distances(points: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``|x_i - x_j|^2`` for every candidate ``j`` of row ``i``, from differences (no
    cancellation), in blocks of rows.

    Examples
    --------
    >>> pair_squared_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[1], [0]]))
    array([[25.],
           [25.]])
    """
    d2 = np.empty(candidates.shape)
    block = max(1, _BLOCK_ELEMENTS // (candidates.shape[1] * points.shape[1]))
    for start in range(0, len(points), block):
        rows = slice(start, start + block)
        diff = points[rows, None, :] - points[candidates[rows]]
        d2[rows] = np.einsum("ijk,ijk->ij", diff, diff)
    return d2
