"""Approximate neighbours (random-projection forest + NN-descent) against exact search."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from mi_widgets._errors import MIInputError
from mi_widgets.embedding import TSLPP
from mi_widgets.embedding.ann import approximate_knn, knn_recall
from mi_widgets.embedding.lpp import APPROXIMATE_MIN_SAMPLES, _search_kind
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
    assert _search_kind(APPROXIMATE_MIN_SAMPLES, blobs, "auto") == "approximate"
    assert _search_kind(10**5, blobs, "exact") == "brute"
    assert _search_kind(100, smooth, "approximate") == "approximate"


def test_bad_input_is_refused():
    with pytest.raises(MIInputError):
        approximate_knn(np.zeros((5, 2)), 5)
    with pytest.raises(MIInputError, match="neighbors"):
        TSLPP(2, neighbors="fast").fit(np.random.default_rng(0).normal(size=(50, 4)))
    with pytest.raises(MIInputError, match="one row per point"):
        knn_recall(np.zeros((2, 1)), np.zeros((3, 1)))
