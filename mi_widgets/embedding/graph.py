"""The kNN heat-kernel graph of LPP and TS-LPP, and the neighbour search behind it.

:func:`heat_kernel_graph` keeps, for every point, its ``n_neighbors`` largest weights
``exp(-d^2 / (2 sigma^2))`` to other points and symmetrises by the element-wise max
(the conventions of the original TS-LPP code; see :mod:`mi_widgets.embedding.lpp`).

Neighbour search (``neighbors="auto"``, always exact): a k-d tree in principal
axes where a few axes carry the spread (it prunes); otherwise brute force up to
20 000 points, and above that a search by k-means cells pruned by the triangle
inequality (:mod:`mi_widgets.embedding.cells`), which skips the far clusters.
``neighbors="approximate"`` asks for a random-projection forest refined by
NN-descent (:mod:`mi_widgets.embedding.ann`): 99.8 % of the exact neighbours on
LAAF data, but only about 40 % on isotropic 100-D Gaussian clusters.

The input checks shared with the estimators are here too.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist
from sklearn.neighbors import NearestNeighbors

from mi_widgets._errors import MIInputError, check_choice, check_finite_array, check_positive_int
from mi_widgets._threads import THREADPOOLS
from mi_widgets.embedding.ann import approximate_knn, pair_squared_distances
from mi_widgets.embedding.cells import cell_knn

__all__ = ["heat_kernel_graph"]

SOLVERS = ("sparse", "dense")
NEIGHBOR_SEARCHES = ("auto", "exact", "approximate")
MAX_TREE_DIMENSION = 8  # principal axes with > 10% of the top spread; more: brute force
#: A k-d tree prunes when the variance beyond the first MAX_TREE_DIMENSION principal
#: axes is below this fraction of the total (LAAF: ~1e-6; Gaussian clusters: ~0.06-0.6).
TREE_RESIDUAL_VARIANCE = 1e-3
#: From this many points on, where a tree cannot prune, the exact search goes by k-means
#: cells instead of brute force (which grows like N^2: 10^5 x 100 took over a minute).
CELL_SEARCH_MIN_SAMPLES = 20_000


# --------------------------------------------------------------------------- validation
def _check_features(X: Any, name: str = "X", *, min_rows: int = 2) -> np.ndarray:
    X = check_finite_array(X, name, ndim=2)
    if X.shape[0] < min_rows:
        raise MIInputError(
            f"{name} has {X.shape[0]} rows; at least {min_rows} points are needed "
            "(more than n_neighbors)."
        )
    return X


def _check_sigma(sigma: Any) -> float | None:
    if sigma is None:
        return None
    try:
        value = float(sigma)
    except (TypeError, ValueError):
        raise MIInputError(f"sigma must be a positive number or None; got {sigma!r}.") from None
    if not np.isfinite(value) or value <= 0:
        raise MIInputError(f"sigma must be a positive number or None; got {sigma!r}.")
    return value


# --------------------------------------------------------------------------- graph
def heat_kernel_graph(
    X: np.ndarray,
    n_neighbors: int = 7,
    sigma: float | None = None,
    *,
    solver: str = "sparse",
) -> sp.csr_matrix:
    """Symmetric kNN heat-kernel graph of the rows of ``X``.

    Each point keeps its ``n_neighbors`` largest weights
    ``exp(-d_ij^2 / (2 sigma^2))`` to other points (never itself); the graph is
    then symmetrised by ``W = max(W, W^T)``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Points (already standardised; same units as ``sigma``).
    n_neighbors : int, default 7
        Neighbours kept per point.
    sigma : float or None, default None
        Heat-kernel width in the units of ``X``. ``None`` is the limit
        ``sigma -> inf``: every kept edge has weight 1.
    solver : {"sparse", "dense"}
        ``"sparse"`` searches neighbours with a tree (no N x N matrix);
        ``"dense"`` forms the full kernel like the original code.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_samples, n_samples)

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [3.0]])
    >>> heat_kernel_graph(X, n_neighbors=1, sigma=1.0).toarray().round(3)
    array([[0.   , 0.607, 0.   ],
           [0.607, 0.   , 0.135],
           [0.   , 0.135, 0.   ]])
    """
    X = _check_features(X, min_rows=2)
    n = X.shape[0]
    k = check_positive_int(n_neighbors, "n_neighbors", maximum=n - 1)
    sigma = _check_sigma(sigma)
    check_choice(solver, "solver", SOLVERS)
    if solver == "dense":
        return _dense_graph(X, k, sigma)
    # Distances are invariant under rotation: searching in principal axes lets
    # the tree split along the directions that carry the spread.
    centred = X - X.mean(axis=0)
    U, s, _ = np.linalg.svd(centred, full_matrices=False)
    return _sparse_graph(U * s, s, k, sigma)


def _n_threads(n_jobs: int | None) -> int:
    if n_jobs is None:
        return 1
    return os.cpu_count() or 1 if n_jobs < 0 else max(int(n_jobs), 1)


def _tree_prunes(spread: np.ndarray) -> bool:
    """Whether a k-d tree in principal axes prunes: few axes carry (nearly) all the spread."""
    effective_dim = int(np.sum(spread > 0.1 * spread[0]))
    total = float(np.sum(spread**2))
    residual = float(np.sum(spread[MAX_TREE_DIMENSION:] ** 2)) / total if total > 0 else 0.0
    return effective_dim <= MAX_TREE_DIMENSION and residual < TREE_RESIDUAL_VARIANCE


def _search_kind(n: int, spread: np.ndarray, neighbors: str) -> str:
    """``"tree"``, ``"brute"``, ``"cells"`` or ``"approximate"`` for ``n`` points."""
    if neighbors == "approximate":
        return "approximate"
    if _tree_prunes(spread):
        return "tree"
    return "cells" if n >= CELL_SEARCH_MIN_SAMPLES else "brute"


def _candidate_neighbours(
    rotated: np.ndarray,
    spread: np.ndarray,
    k: int,
    n_jobs: int | None,
    neighbors: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of (at least) the k nearest other points of every point, and squared distances.

    A k-d tree wins when few principal axes carry the spread (LAAF features
    are smooth in eta: ~4 axes); otherwise (a TS-LPP intermediate space, whose
    axes have near-equal spread, or Gaussian clusters) scikit-learn's blocked
    brute-force search is faster up to ~10^4 points, and an approximate search
    beyond. Brute force computes distances through dot products, so two spare
    candidates are fetched and their distances recomputed from differences;
    the tree's and the approximate search's distances are exact already.
    """
    n = rotated.shape[0]
    kind = _search_kind(n, spread, neighbors)
    if kind == "approximate":
        return approximate_knn(rotated, min(k, n - 1), random_state=0)
    if kind == "cells":
        return cell_knn(rotated, min(k, n - 1), random_state=0)
    if kind == "tree":
        tree = cKDTree(rotated, leafsize=48)
        distances, candidates = tree.query(rotated, min(k + 1, n), workers=_n_threads(n_jobs))
        return candidates, distances**2
    search = NearestNeighbors(n_neighbors=min(k + 2, n), algorithm="brute").fit(rotated)
    with THREADPOOLS.limit(limits=_n_threads(n_jobs), user_api="openmp"):
        candidates = search.kneighbors(rotated, return_distance=False)
    return candidates, pair_squared_distances(rotated, candidates)


def _sparse_graph(
    rotated: np.ndarray,
    spread: np.ndarray,
    k: int,
    sigma: float | None,
    n_jobs=None,
    neighbors: str = "auto",
) -> sp.csr_matrix:
    """kNN heat-kernel graph of points in their principal axes (``spread``: singular values)."""
    n = rotated.shape[0]
    candidates, d2 = _candidate_neighbours(rotated, spread, k, n_jobs, neighbors)
    d2[candidates == np.arange(n)[:, None]] = np.inf  # a point is never its own neighbour
    nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
    cols = np.take_along_axis(candidates, nearest, axis=1).ravel()
    d2 = np.take_along_axis(d2, nearest, axis=1).ravel()
    rows = np.repeat(np.arange(n), k)
    weights = np.ones_like(d2) if sigma is None else np.exp(-d2 / (2.0 * sigma**2))
    W = sp.csr_matrix((weights, (rows, cols)), shape=(n, n))
    return W.maximum(W.T).tocsr()


def _dense_graph(X: np.ndarray, k: int, sigma: float | None) -> sp.csr_matrix:
    d2 = cdist(X, X, metric="sqeuclidean")
    W = np.ones_like(d2) if sigma is None else np.exp(-d2 / (2.0 * sigma**2))
    np.fill_diagonal(W, 0.0)
    if sigma is None:  # rank by distance when every weight is 1
        np.fill_diagonal(d2, np.inf)
        drop = np.argsort(d2, axis=1)[:, k:]
    else:
        drop = np.argsort(-W, axis=1)[:, k:]
    np.put_along_axis(W, drop, 0.0, axis=1)
    return sp.csr_matrix(np.maximum(W, W.T))
