"""Locality preserving projections (LPP) and two-step LPP (TS-LPP).

LPP (He & Niyogi, NIPS 2003) looks for a linear map ``y = X a`` that keeps
neighbours in feature space close:

    minimise  sum_ij W_ij (y_i - y_j)^2   subject to  y^T D y = 1,

which is the generalised eigenproblem ``X^T L X a = lambda X^T D X a`` with the
graph Laplacian ``L = D - W`` and the degree matrix ``D``. TS-LPP (Tamura et al.,
Phys. Rev. B 105, 075107, 2022) applies LPP twice: first to an intermediate
dimension, then again on that output down to 2 or 3 dimensions. Both steps are
linear, so new points are placed by one matrix product.

Conventions follow the original TS-LPP code (github.com/rtmr/TS-LPP):

* features are z-scored with the population standard deviation of the training
  set, and constant features are dropped;
* the graph keeps, for every point, its ``n_neighbors`` largest heat-kernel
  weights ``exp(-d^2 / (2 sigma^2))`` to *other* points (the self weight is set to
  zero first, so it never counts), then is symmetrised by the element-wise max;
* the eigenproblem is solved in the basis of the thin SVD of ``X`` (singular
  values below ``1e-7`` of the largest are dropped), eigenvectors of the smallest
  eigenvalues are kept, normalised so that ``y^T D y = 1``;
* the second step runs on the first step's output with the same ``sigma`` and
  ``n_neighbors`` and no new standardisation.

The default ``solver="sparse"`` builds the kNN graph with a tree search and
never forms an N x N matrix: memory and time grow like ``N k p + N p^2``.
``solver="dense"`` forms the dense heat kernel like the original (O(N^2)
memory); it exists to check the port and for small teaching examples.

The graph and its neighbour search (a k-d tree in principal axes, brute force, k-means
cells or an approximate forest, ``neighbors=``) are in :mod:`mi_widgets.embedding.graph`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets._threads import one_blas_thread
from mi_widgets.embedding.graph import (
    NEIGHBOR_SEARCHES,
    SOLVERS,
    _check_features,
    _check_sigma,
    _dense_graph,
    _sparse_graph,
    heat_kernel_graph,
)

__all__ = [
    "LPP",
    "TSLPP",
    "TSLPPSearchResult",
    "heat_kernel_graph",
    "make_tslpp_classifier",
    "select_tslpp_params",
]

RANK_TOLERANCE = 1e-7  # singular values below this fraction of the largest are dropped


# --------------------------------------------------------------------------- validation
def _standardize_fit(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, population std and the indices of non-constant features."""
    with np.errstate(over="ignore", invalid="ignore"):
        scale = X.std(axis=0)  # population std (ddof=0), as the original
    if not np.all(np.isfinite(scale)):
        raise MIInputError(
            "X has values too large to standardise (their spread overflows); rescale the features."
        )
    kept = np.flatnonzero(scale != 0)
    if kept.size == 0:
        raise MIInputError(
            "Every feature is constant over the training points; the points cannot be told apart."
        )
    return X[:, kept].mean(axis=0), scale[kept], kept


# --------------------------------------------------------------------------- eigenproblem
@dataclass(frozen=True)
class _LPPSolution:
    projection: np.ndarray  # (n_features, n_components): y = X @ projection
    embedding: np.ndarray  # (n_samples, n_components)
    eigenvalues: np.ndarray  # (n_components,)
    rank: int


def _solve_lpp(
    svd: tuple[np.ndarray, np.ndarray, np.ndarray],
    W: sp.csr_matrix,
    n_components: int,
    clip_to_rank: bool = False,
) -> _LPPSolution:
    """Solve X^T L X a = lambda X^T D X a in the basis of the thin SVD of X."""
    U, s, vt = svd
    rank = int(np.sum(s / s[0] > RANK_TOLERANCE))
    if clip_to_rank:  # the original keeps "the first n" of only `rank` eigenvectors
        n_components = min(n_components, rank)
    if n_components > rank:
        raise MIInputError(
            f"n_components={n_components} exceeds the rank {rank} of the data; "
            f"ask for at most {rank} components."
        )
    U, s, vt = U[:, :rank], s[:rank], vt[:rank]
    degree = np.asarray(W.sum(axis=1)).ravel()
    DU = degree[:, None] * U
    L_reduced = U.T @ (DU - W @ U)
    D_reduced = U.T @ DU
    L_reduced = (L_reduced + L_reduced.T) / 2
    D_reduced = (D_reduced + D_reduced.T) / 2
    try:
        eigenvalues, vectors = scipy.linalg.eigh(
            L_reduced, D_reduced, subset_by_index=[0, n_components - 1]
        )
    except np.linalg.LinAlgError:
        raise MIInputError(
            "The neighbour graph leaves points without weight (heat-kernel weights "
            "underflow); use a larger sigma or sigma=None."
        ) from None
    projection = vt.T @ (vectors / s[:, None])
    return _LPPSolution(projection, U @ vectors, eigenvalues, rank)


def _lpp_step(
    X: np.ndarray,
    n_components: int,
    n_neighbors: int,
    sigma: float | None,
    solver: str,
    n_jobs: int | None = None,
    neighbors: str = "auto",
    clip_to_rank: bool = False,
) -> tuple[_LPPSolution, sp.csr_matrix]:
    """One LPP step on centred X: one thin SVD serves the graph and the eigenproblem."""
    if n_neighbors >= X.shape[0]:
        raise MIInputError(
            f"n_neighbors={n_neighbors} needs more than {n_neighbors} points; got {X.shape[0]}."
        )
    svd = np.linalg.svd(X, full_matrices=False)
    if solver == "dense":
        W = _dense_graph(X, n_neighbors, sigma)
    else:
        W = _sparse_graph(svd[0] * svd[1], svd[1], n_neighbors, sigma, n_jobs, neighbors)
    return _solve_lpp(svd, W, n_components, clip_to_rank), W


# --------------------------------------------------------------------------- estimators
class _LinearEmbedding(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Shared parts: standardisation and the linear inductive ``transform``."""

    def _check_params(self) -> None:
        check_positive_int(self.n_components, "n_components")
        check_positive_int(self.n_neighbors, "n_neighbors")
        _check_sigma(self.sigma)
        check_choice(self.solver, "solver", SOLVERS)
        check_choice(self.neighbors, "neighbors", NEIGHBOR_SEARCHES)

    def _prepare(self, X: Any) -> np.ndarray:
        self._check_params()
        X = _check_features(X, min_rows=self.n_neighbors + 1)
        self.n_features_in_ = X.shape[1]
        if self.standardize:
            self.mean_, self.scale_, self.kept_features_ = _standardize_fit(X)
        else:
            self.kept_features_ = np.arange(X.shape[1])
            self.mean_ = np.zeros(X.shape[1])
            self.scale_ = np.ones(X.shape[1])
        return self._standardize(X)

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        return (X[:, self.kept_features_] - self.mean_) / self.scale_

    @property
    def _n_features_out(self) -> int:
        return self.components_.shape[1]

    def transform(self, X: Any) -> np.ndarray:
        """Place points (training or new) in the embedding: one matrix product.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self, "components_")
        X = _check_features(X, min_rows=1)
        if X.shape[1] != self.n_features_in_:
            raise MIInputError(
                f"X has {X.shape[1]} features but the embedding was fitted on "
                f"{self.n_features_in_}; compute the same descriptor for the new points."
            )
        return self._standardize(X) @ self.components_

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit and return the training embedding (equal to ``fit(X).transform(X)``)."""
        return self.fit(X, y).embedding_


class LPP(_LinearEmbedding):
    """Locality preserving projections as a scikit-learn transformer.

    Parameters
    ----------
    n_components : int, default 2
        Output dimension.
    n_neighbors : int, default 7
        Neighbours per point in the heat-kernel graph (the original uses 7).
    sigma : float or None, default None
        Heat-kernel width in units of the standardised features; ``None`` gives
        every kept edge weight 1 (the ``sigma -> inf`` limit).
    standardize : bool, default True
        z-score the features with the population std, dropping constant ones.
    solver : {"sparse", "dense"}, default "sparse"
        ``"sparse"``: tree kNN search and a sparse graph (scales to 10^5 points);
        ``"dense"``: N x N kernel like the original code.
    n_jobs : int or None, default None
        Threads for the neighbour search (``None``: 1, ``-1``: all cores).
    neighbors : {"auto", "exact", "approximate"}, default "auto"
        Neighbour search of the sparse graph: ``"auto"`` and ``"exact"`` are exact
        (a k-d tree where it prunes, else brute force below 20 000 points and
        k-means cells pruned by the triangle inequality above);
        ``"approximate"``: random-projection forest + NN-descent.

    Attributes
    ----------
    components_ : ndarray of shape (n_kept_features, n_components)
        Projection applied to standardised features.
    embedding_ : ndarray of shape (n_samples, n_components)
        The training points in the embedding.
    eigenvalues_ : ndarray of shape (n_components,)
        Smallest generalised eigenvalues (smaller = smoother on the graph).
    graph_ : scipy.sparse.csr_matrix
        The symmetric weight matrix W.
    mean_, scale_, kept_features_ : ndarray
        Standardisation of the training set.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 4))
    >>> lpp = LPP(n_components=2).fit(X)
    >>> lpp.transform(X[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        n_neighbors: int = 7,
        sigma: float | None = None,
        standardize: bool = True,
        solver: str = "sparse",
        n_jobs: int | None = None,
        neighbors: str = "auto",
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.sigma = sigma
        self.standardize = standardize
        self.solver = solver
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def fit(self, X: Any, y: Any = None) -> LPP:
        """Build the graph and solve the eigenproblem on ``X`` (``y`` is ignored)."""
        with one_blas_thread():
            return self._fit(X)

    def _fit(self, X: Any) -> LPP:
        Z = self._prepare(X)
        solution, graph = _lpp_step(
            Z,
            self.n_components,
            self.n_neighbors,
            self.sigma,
            self.solver,
            self.n_jobs,
            self.neighbors,
        )
        self.components_ = solution.projection
        self.embedding_ = solution.embedding
        self.eigenvalues_ = solution.eigenvalues
        self.graph_ = graph
        return self


class TSLPP(_LinearEmbedding):
    """Two-step locality preserving projections (Tamura et al. 2022).

    LPP from the standardised features to ``n_intermediate`` dimensions, then
    LPP again on that output to ``n_components``, with the same ``sigma`` and
    ``n_neighbors``. Both steps are linear, so ``transform`` places new points
    with one matrix product ``components_ = step-1 projection @ step-2 projection``.

    Parameters
    ----------
    n_components : int, default 2
        Final dimension.
    n_intermediate : int, default 20
        Dimension after the first step (the original searches 20, 40, 60, 80).
        Like the original, it is silently limited to the rank of the data
        (``n_intermediate_`` holds the value used).
    n_neighbors : int, default 7
        Neighbours per point in both graphs.
    sigma : float or None, default None
        Heat-kernel width in both steps (standardised units); ``None`` is the
        ``sigma -> inf`` limit (unit weights). The original's search picks
        ``sigma = 90`` on its Si data, where weights are all within 1e-3 of 1.
    standardize : bool, default True
        z-score the features (population std), dropping constant ones.
    solver : {"sparse", "dense"}, default "sparse"
        Graph construction: tree kNN search (scales) or the dense N x N kernel.
    n_jobs : int or None, default None
        Threads for the neighbour search (``None``: 1, ``-1``: all cores).
    neighbors : {"auto", "exact", "approximate"}, default "auto"
        Neighbour search of the sparse graph: ``"auto"`` and ``"exact"`` are exact
        (a k-d tree where it prunes, else brute force below 20 000 points and
        k-means cells pruned by the triangle inequality above);
        ``"approximate"``: random-projection forest + NN-descent.

    Attributes
    ----------
    components_ : ndarray of shape (n_kept_features, n_components)
    embedding_ : ndarray of shape (n_samples, n_components)
    intermediate_ : ndarray of shape (n_samples, n_intermediate_)
        The first step's output.
    n_intermediate_ : int
        The intermediate dimension used (``n_intermediate`` or the data's rank).
    first_components_, second_components_ : ndarray
        The two projections.
    eigenvalues_ : ndarray of shape (n_components,)
        Second-step eigenvalues.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 8))
    >>> ts = TSLPP(n_components=2, n_intermediate=4).fit(X)
    >>> np.allclose(ts.transform(X), ts.embedding_)
    True
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        n_intermediate: int = 20,
        n_neighbors: int = 7,
        sigma: float | None = None,
        standardize: bool = True,
        solver: str = "sparse",
        n_jobs: int | None = None,
        neighbors: str = "auto",
    ) -> None:
        self.n_components = n_components
        self.n_intermediate = n_intermediate
        self.n_neighbors = n_neighbors
        self.sigma = sigma
        self.standardize = standardize
        self.solver = solver
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def fit(self, X: Any, y: Any = None) -> TSLPP:
        """Fit both LPP steps on ``X`` (``y`` is ignored)."""
        with one_blas_thread():
            return self._fit(X)

    def _fit(self, X: Any) -> TSLPP:
        check_positive_int(self.n_intermediate, "n_intermediate")
        if self.n_components > self.n_intermediate:
            raise MIInputError(
                f"n_components={self.n_components} must not exceed "
                f"n_intermediate={self.n_intermediate}."
            )
        Z = self._prepare(X)
        steps = (self.n_neighbors, self.sigma, self.solver, self.n_jobs, self.neighbors)
        first, _ = _lpp_step(Z, self.n_intermediate, *steps, clip_to_rank=True)
        if first.embedding.shape[1] < self.n_components:
            raise MIInputError(
                f"n_components={self.n_components} exceeds the rank "
                f"{first.embedding.shape[1]} of the data; ask for fewer components."
            )
        second, graph = _lpp_step(first.embedding, self.n_components, *steps)
        self.first_components_ = first.projection
        self.second_components_ = second.projection
        self.components_ = first.projection @ second.projection
        self.intermediate_ = first.embedding
        self.n_intermediate_ = first.embedding.shape[1]
        self.embedding_ = second.embedding
        self.eigenvalues_ = second.eigenvalues
        self.graph_ = graph
        return self


# --------------------------------------------------------------------------- helpers
def make_tslpp_classifier(
    knn: int = 5, *, embedding: BaseEstimator | None = None, **tslpp_params: Any
) -> Pipeline:
    """A kNN classifier in the TS-LPP plane: ``Pipeline([tslpp, knn])``.

    Fitting learns the embedding from the training points (labels are not used
    by TS-LPP) and stores them for kNN; ``predict`` projects new points linearly
    and votes among their ``n_neighbors`` nearest training points.

    Parameters
    ----------
    knn : int, default 5
        Neighbours that vote in the embedding (``n_neighbors`` is TS-LPP's graph).
    embedding : estimator, optional
        Use this transformer instead of ``TSLPP(**tslpp_params)`` (e.g. ``PCA``).
    **tslpp_params
        Passed to :class:`TSLPP`.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = np.vstack([rng.normal(0, 1, (40, 6)), rng.normal(4, 1, (40, 6))])
    >>> y = np.repeat([0, 1], 40)
    >>> clf = make_tslpp_classifier(n_intermediate=4).fit(X, y)
    >>> float(clf.score(X, y))
    1.0
    """
    check_positive_int(knn, "knn")
    transformer = embedding if embedding is not None else TSLPP(**tslpp_params)
    return Pipeline([("embedding", transformer), ("knn", KNeighborsClassifier(n_neighbors=knn))])


@dataclass(frozen=True)
class TSLPPSearchResult:
    """Outcome of :func:`select_tslpp_params`.

    Attributes
    ----------
    sigma : float
        The chosen heat-kernel width.
    n_intermediate : int
        The chosen intermediate dimension.
    score : float
        Its Calinski-Harabasz index (pseudo-F) of k-means on the embedding.
    scores : ndarray of shape (n_intermediates, n_sigmas)
        Every grid point's score (rows: ``n_intermediates``; columns: ``sigmas``).
    sigmas, n_intermediates : tuple
        The grid.
    """

    sigma: float
    n_intermediate: int
    score: float
    scores: np.ndarray
    sigmas: tuple[float, ...]
    n_intermediates: tuple[int, ...]


def select_tslpp_params(
    X: Any,
    n_clusters: int,
    *,
    n_components: int = 3,
    sigmas: Any = None,
    n_intermediates: Any = None,
    n_neighbors: int = 7,
    solver: str = "sparse",
    random_state: int = 10,
    n_init: int = 10,
) -> TSLPPSearchResult:
    """The original's parameter search: grid over sigma and the intermediate dimension.

    Each grid point fits TS-LPP, clusters the embedding with k-means
    (``n_clusters``) and scores it with the Calinski-Harabasz index; the
    highest score wins (the first one on ties, sigma varying fastest, as in the
    original loops).

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
    n_clusters : int
        Clusters for k-means (the number of phases expected).
    n_components : int, default 3
        Final TS-LPP dimension during the search (the original uses 3).
    sigmas : sequence of float, optional
        Default ``5, 10, ..., 100`` as the original.
    n_intermediates : sequence of int, optional
        Default ``n_features * (1, 2, 3, 4) // 5`` as the original (20, 40, 60,
        80 for 100 features), limited to the rank of the data.
    n_neighbors : int, default 7
    solver : {"sparse", "dense"}
    random_state : int, default 10
        k-means seed (the original's).
    n_init : int, default 10
        k-means restarts (scikit-learn's default when the original was written).

    Returns
    -------
    TSLPPSearchResult

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> X = np.vstack([rng.normal(0, 1, (30, 5)), rng.normal(5, 1, (30, 5))])
    >>> best = select_tslpp_params(X, 2, n_components=2, sigmas=[1.0, 5.0], n_intermediates=[3])
    >>> best.n_intermediate
    3
    """
    X = _check_features(X, min_rows=n_neighbors + 2)
    check_positive_int(n_clusters, "n_clusters", minimum=2, maximum=X.shape[0] - 1)
    n_features = X.shape[1]
    sigmas = tuple(5.0 * np.arange(1, 21)) if sigmas is None else tuple(map(float, sigmas))
    if n_intermediates is None:
        n_intermediates = [int(n_features / 5 * i) for i in range(1, 5)]
        n_intermediates = [d for d in n_intermediates if d >= n_components] or [n_components]
    n_intermediates = tuple(int(d) for d in n_intermediates)
    scores = np.full((len(n_intermediates), len(sigmas)), -np.inf)
    for (i, dim), (j, sigma) in product(enumerate(n_intermediates), enumerate(sigmas)):
        embedding = TSLPP(
            n_components, n_intermediate=dim, n_neighbors=n_neighbors, sigma=sigma, solver=solver
        ).fit_transform(X)
        labels = KMeans(n_clusters, random_state=random_state, n_init=n_init).fit_predict(embedding)
        if np.unique(labels).size > 1:
            scores[i, j] = calinski_harabasz_score(embedding, labels)
    best_i, best_j = np.unravel_index(np.argmax(scores), scores.shape)
    return TSLPPSearchResult(
        sigma=sigmas[best_j],
        n_intermediate=n_intermediates[best_i],
        score=float(scores[best_i, best_j]),
        scores=scores,
        sigmas=sigmas,
        n_intermediates=n_intermediates,
    )
