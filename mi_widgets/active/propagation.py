"""Graphs over a candidate set and label propagation / spreading on them.

Two graphs:

* ``"rbf"``: the dense RBF affinity ``exp(-gamma |z_i - z_j|^2)`` over all candidates,
  built and iterated exactly as :class:`sklearn.semi_supervised.LabelPropagation` /
  :class:`~sklearn.semi_supervised.LabelSpreading` do (same matrices, same start, same
  stopping rule), so that the original PDC choice is reproduced. O(N^2) memory and time.
* ``"knn"``: a sparse symmetric k-nearest-neighbour graph with Gaussian weights
  (scipy.sparse, O(N k)). The iteration starts from the nearest measured point's label
  (a Voronoi start) instead of zeros: on a sparse graph labels travel one hop per
  iteration, and without it candidates more than ``max_iter`` hops from any measured
  point would stay unlabelled.

Label propagation (Zhu & Ghahramani 2002) iterates ``F <- D^-1 W F`` and clamps the
measured rows to their labels; label spreading (Zhou et al. 2004) iterates
``F <- alpha S F + (1 - alpha) Y`` with ``S = D^-1/2 W D^-1/2`` (zero diagonal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree
from sklearn.metrics.pairwise import rbf_kernel

__all__ = [
    "PropagationResult",
    "knn_affinity",
    "propagate",
    "propagation_operator",
    "rbf_affinity",
]


def rbf_affinity(features: np.ndarray, gamma: float = 20.0) -> np.ndarray:
    """Dense RBF affinity matrix ``exp(-gamma |z_i - z_j|^2)`` (as scikit-learn builds it).

    Parameters
    ----------
    features : ndarray, shape (n, d)
        Standardised candidate coordinates (dimensionless).
    gamma : float, default 20
        Inverse squared length scale (scikit-learn's default is 20).

    Returns
    -------
    ndarray, shape (n, n)

    Examples
    --------
    >>> rbf_affinity(np.array([[0.0], [1.0]]), gamma=1.0).round(3)
    array([[1.   , 0.368],
           [0.368, 1.   ]])
    """
    return rbf_kernel(features, features, gamma=gamma)


def knn_affinity(
    features: np.ndarray, n_neighbors: int = 10, gamma: float | None = None
) -> sparse.csr_matrix:
    """Sparse symmetric k-nearest-neighbour affinity with Gaussian weights.

    Parameters
    ----------
    features : ndarray, shape (n, d)
        Standardised candidate coordinates (dimensionless).
    n_neighbors : int, default 10
        Neighbours per candidate (the graph is symmetrised, so degrees are >= k).
    gamma : float, optional
        Weight ``exp(-gamma d^2)``; by default ``1 / median(d_k^2)`` with ``d_k`` each
        candidate's distance to its k-th neighbour, so the weights adapt to the grid.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n, n)
        Zero diagonal, symmetric.

    Examples
    --------
    >>> W = knn_affinity(np.arange(5.0)[:, None], n_neighbors=1)
    >>> W.nnz
    8
    """
    n = features.shape[0]
    k = min(n_neighbors, n - 1)
    distances, neighbours = cKDTree(features).query(features, k=k + 1)
    distances, neighbours = distances[:, 1:], neighbours[:, 1:]
    if gamma is None:
        scale = float(np.median(distances[:, -1] ** 2))
        gamma = 1.0 / scale if scale > 0 else 1.0
    weights = np.exp(-gamma * distances.ravel() ** 2)
    rows = np.repeat(np.arange(n), k)
    graph = sparse.csr_matrix((weights, (rows, neighbours.ravel())), shape=(n, n))
    return graph.maximum(graph.T).tocsr()


def propagation_operator(affinity, estimator: str):
    """The iteration matrix: ``D^-1 W`` (propagation) or ``D^-1/2 W D^-1/2`` (spreading).

    Built with the same operations as scikit-learn, so that dense results match it.

    Examples
    --------
    >>> T = propagation_operator(np.array([[1.0, 1.0], [1.0, 1.0]]), "label_propagation")
    >>> T.sum(axis=1)
    array([1., 1.])
    """
    if estimator == "label_propagation":
        matrix = affinity.copy()
        normalizer = np.ravel(matrix.sum(axis=1))
        if sparse.issparse(matrix):
            return (sparse.diags(1.0 / normalizer) @ matrix).tocsr()
        matrix /= normalizer[:, np.newaxis]
        return matrix
    laplacian = -csgraph.laplacian(affinity, normed=True)
    if sparse.issparse(laplacian):
        laplacian = laplacian.tocsr()
        laplacian.setdiag(0.0)
        laplacian.eliminate_zeros()
        return laplacian
    laplacian.flat[:: laplacian.shape[0] + 1] = 0.0
    return laplacian


@dataclass(frozen=True)
class PropagationResult:
    """Label distributions after propagation.

    Attributes
    ----------
    distributions : ndarray, shape (n, c)
        Unnormalised channel values per candidate (rows may be zero).
    n_iter : int
        Iterations done.
    converged : bool
        Whether the stopping rule was met before ``max_iter``.
    """

    distributions: np.ndarray
    n_iter: int
    converged: bool


def propagate(
    operator,
    targets: np.ndarray,
    labelled: np.ndarray,
    *,
    estimator: str,
    alpha: float = 0.2,
    max_iter: int = 1000,
    tol: float = 1e-3,
    start: np.ndarray | None = None,
    stopping: str = "sum",
    normalise: bool = True,
) -> PropagationResult:
    """Iterate label propagation or spreading from measured targets.

    Parameters
    ----------
    operator : ndarray or sparse matrix, shape (n, n)
        From :func:`propagation_operator`.
    targets : ndarray, shape (n, c)
        One row per candidate: the measured label distribution (zeros when unmeasured).
    labelled : ndarray of bool, shape (n,)
        Which candidates are measured.
    estimator : {"label_propagation", "label_spreading"}
    alpha : float, default 0.2
        Spreading's weight of the neighbours against the own label.
    max_iter : int
        Upper bound on iterations.
    tol : float
        Stop when the change is below ``tol``.
    start : ndarray, shape (n, c), optional
        Starting distributions; by default ``targets`` (scikit-learn's start).
    stopping : {"sum", "max"}
        ``"sum"``: summed absolute change (scikit-learn's rule; it tightens with n);
        ``"max"``: largest absolute change of one entry.
    normalise : bool, default True
        Propagation only: renormalise rows after each step (scikit-learn does). With a
        row-stochastic operator and rows that start normalised it is a no-op, and channels
        that are independent presence probabilities must not be normalised together.

    Returns
    -------
    PropagationResult

    Examples
    --------
    >>> W = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float)
    >>> T = propagation_operator(W, "label_propagation")
    >>> Y = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    >>> res = propagate(T, Y, np.array([True, False, True]), estimator="label_propagation")
    >>> res.distributions[1]
    array([0.5, 0.5])
    """
    propagation = estimator == "label_propagation"
    current = np.array(targets if start is None else start, dtype=float)
    clamp = targets.copy() if propagation else (1.0 - alpha) * targets
    measured = np.flatnonzero(labelled)
    unlabelled = ~labelled[:, np.newaxis]
    previous = np.zeros_like(current)
    reduce = np.sum if stopping == "sum" else np.max
    for n_iter in range(max_iter):
        if reduce(np.abs(current - previous)) < tol:
            return PropagationResult(current, n_iter, True)
        previous = current
        current = operator @ current
        if propagation and normalise:
            normalizer = np.sum(current, axis=1)[:, np.newaxis]
            normalizer[normalizer == 0] = 1
            current /= normalizer
            current = np.where(unlabelled, current, clamp)
        elif propagation:
            current[measured] = clamp[measured]
        else:
            current = np.multiply(alpha, current) + clamp
    return PropagationResult(current, max_iter, False)
