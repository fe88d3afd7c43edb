"""Neighbour searches against exact search: NN-descent (approximate) and k-means cells (exact)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from mi_widgets._errors import MIInputError
from mi_widgets.embedding import TSLPP
from mi_widgets.embedding.ann import approximate_knn, knn_recall
from mi_widgets.embedding.cells import cell_knn
from mi_widgets.embedding.graph import CELL_SEARCH_MIN_SAMPLES, _search_kind
from mi_widgets.embedding.structure_map import LAAFSettings
from mi_widgets.structure import load_si_md


def _exact(X: np.ndarray, k: int) -> np.ndarray:
    found = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)
    return found[:, 1:]


@pytest.fixture(scope="module")
def laaf() -> tuple[np.ndarray, np.ndarray]:
    kinds = ("crystal_300K", "liquid_2000K", "amorphous_300K")
    frames = [frame for kind in kinds for frame in load_si_md(kind)]
    X = LAAFSettings().features(frames, ("Si",))
    scale = X.std(axis=0)
    X = (X[:, scale > 0] - X[:, scale > 0].mean(axis=0)) / scale[scale > 0]
    return X, np.repeat([0, 1, 2], len(X) // 3)


def test_recall_on_lab_laaf_descriptors_is_at_least_099(laaf):
    X, _ = laaf
    for k in (7, 30):
        approx, _ = approximate_knn(X, k)
        assert knn_recall(approx, _exact(X, k)) >= 0.99


def test_result_is_a_clean_neighbour_table(laaf):
    X, _ = laaf
    idx, d2 = approximate_knn(X, 7, random_state=3)
    n = len(X)
    assert idx.shape == d2.shape == (n, 7)
    assert not np.any(idx == np.arange(n)[:, None])  # never oneself
    assert all(len(set(row)) == 7 for row in idx)  # distinct
    assert np.all(np.diff(d2, axis=1) >= 0)  # nearest first
    diff = X[:, None, :] - X[idx]
    np.testing.assert_allclose(d2, np.einsum("ijk,ijk->ij", diff, diff), rtol=1e-12)


def test_gaussian_clusters_same_downstream_accuracy():
    """100-D isotropic clusters: tree search cannot prune; the map's accuracy is unchanged."""
    X, y = make_blobs(3000, 100, centers=3, cluster_std=4.0, random_state=0)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = {}
    for search in ("exact", "approximate"):
        xy = TSLPP(2, n_intermediate=20, neighbors=search).fit_transform(X)
        knn = KNeighborsClassifier(5)
        scores[search] = cross_val_score(knn, xy, y, cv=folds).mean()
    assert scores["approximate"] == pytest.approx(scores["exact"], abs=0.005)
    assert scores["exact"] > 0.99


def test_tslpp_on_laaf_gives_the_same_map_quality(laaf):
    X, y = laaf
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = {}
    for search in ("exact", "approximate"):
        xy = TSLPP(2, n_intermediate=10, n_neighbors=30, neighbors=search).fit_transform(X)
        scores[search] = cross_val_score(KNeighborsClassifier(5), xy, y, cv=folds).mean()
    assert scores["approximate"] == pytest.approx(scores["exact"], abs=0.01)


def test_auto_search_chooses_by_size_and_shape():
    smooth = np.array([10.0, 5.0, 2.0, 1.0] + [1e-4] * 96)  # LAAF-like: a tree prunes
    blobs = np.array([10.0, 9.0] + [1.0] * 98)  # separated clusters, isotropic inside
    assert _search_kind(10**5, smooth, "auto") == "tree"
    assert _search_kind(1000, blobs, "auto") == "brute"
    assert _search_kind(CELL_SEARCH_MIN_SAMPLES, blobs, "auto") == "cells"
    assert _search_kind(10**5, blobs, "exact") == "cells"
    assert _search_kind(100, smooth, "approximate") == "approximate"


def test_bad_input_is_refused():
    with pytest.raises(MIInputError):
        approximate_knn(np.zeros((5, 2)), 5)
    with pytest.raises(MIInputError, match="neighbors"):
        TSLPP(2, neighbors="fast").fit(np.random.default_rng(0).normal(size=(50, 4)))
    with pytest.raises(MIInputError, match="one row per point"):
        knn_recall(np.zeros((2, 1)), np.zeros((3, 1)))


# --------------------------------------------------------------------------- exact cell search
@pytest.mark.parametrize(
    ("X", "n_cells"),
    [
        (make_blobs(4000, 100, centers=3, random_state=0)[0], 16),  # prunes the far clusters
        (np.random.default_rng(1).normal(size=(1500, 40)), 9),  # no structure: all cells visited
        (np.random.default_rng(2).integers(0, 3, size=(800, 5)).astype(float), 7),  # many ties
    ],
)
def test_cell_search_is_exact(X, n_cells):
    k = 7
    idx, d2 = cell_knn(X, k, n_cells=n_cells, random_state=5)
    exact_d2, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    # the same distances (indices may differ only between equally distant points)
    np.testing.assert_allclose(d2, exact_d2[:, 1:] ** 2, rtol=1e-9, atol=1e-9)
    assert not np.any(idx == np.arange(len(X))[:, None])
    assert all(len(set(row)) == k for row in idx)


def test_cell_search_recall_on_gaussian_clusters_where_nn_descent_misses():
    X, _ = make_blobs(6000, 100, centers=3, random_state=0)
    exact = _exact(X, 7)
    assert knn_recall(cell_knn(X, 7)[0], exact) == 1.0
    assert knn_recall(approximate_knn(X, 7)[0], exact) < 0.9  # why "auto" does not use it


def test_cell_search_bad_input():
    with pytest.raises(MIInputError, match="at least two points"):
        cell_knn(np.zeros((1, 3)), 1)
    with pytest.raises(MIInputError, match="n_neighbors"):
        cell_knn(np.zeros((4, 3)), 4)
    with pytest.raises(MIInputError, match=r"NaN|finite"):
        cell_knn(np.full((4, 3), np.nan), 1)
