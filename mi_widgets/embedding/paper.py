"""The TS-LPP paper's own result on its own data: PCA, LPP and TS-LPP maps of ``Training.csv``.

The original code (github.com/rtmr/TS-LPP, MIT licence) ships ``Training.csv``:
1200 Si atoms from MD snapshots, 100 LAAF values each, in three blocks of 400
(crystal, liquid, amorphous). Tamura et al. (Phys. Rev. B 105, 075107, 2022)
show that a 2D TS-LPP map separates the three phases where PCA and one-step
LPP do not. :func:`compare_maps` reproduces that comparison: each map is
fitted on all 1200 atoms with the original's parameters (sigma = 90,
intermediate dimension 20, 7 graph neighbours); a 5-nearest-neighbour
classifier is cross-validated on the 2D coordinates (5 stratified folds) and
the silhouette of the three phases measures how far apart they lie. The
result is TS-LPP 1.000, LPP 0.938, PCA 0.858.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int
from mi_widgets._reference import reference_dir
from mi_widgets._threads import one_blas_thread
from mi_widgets.embedding.lpp import LPP, TSLPP

__all__ = [
    "TRAINING_CLASSES",
    "MapComparison",
    "compare_maps",
    "load_tslpp_training",
    "tslpp_training_path",
]

#: The three blocks of 400 rows of ``Training.csv``, in order (see its README).
TRAINING_CLASSES = ("crystal", "liquid", "amorphous")
#: The original's parameters on ``Training.csv`` (its own search chose them).
PAPER_SIGMA, PAPER_INTERMEDIATE, PAPER_NEIGHBORS = 90.0, 20, 7
MAP_NAMES = ("PCA", "LPP", "TS-LPP")


def tslpp_training_path() -> Path | None:
    """Where ``Training.csv`` of the original TS-LPP code is, or ``None`` when absent.

    The repository ships it in ``data/reference/tslpp/``; a checkout without it
    falls back to the shared reference folder (:func:`mi_widgets._reference.reference_dir`).

    Examples
    --------
    >>> path = tslpp_training_path()
    >>> path is None or path.name == "Training.csv"
    True
    """
    return reference_dir("tslpp", "Training.csv")


def load_tslpp_training() -> tuple[np.ndarray, np.ndarray]:
    """The original's ``Training.csv`` (1200 x 100 LAAF values) and its phase per row (0, 1, 2).

    Returns
    -------
    features : ndarray of shape (1200, 100)
    labels : ndarray of int, shape (1200,)
        0 crystal, 1 liquid, 2 amorphous (:data:`TRAINING_CLASSES`).

    Raises
    ------
    MIInputError
        If the file is not found.

    Examples
    --------
    >>> X, y = load_tslpp_training()  # doctest: +SKIP
    >>> X.shape, np.bincount(y).tolist()  # doctest: +SKIP
    ((1200, 100), [400, 400, 400])
    """
    path = tslpp_training_path()
    if path is None:
        raise MIInputError(
            "Training.csv of the original TS-LPP code was not found; it belongs in "
            "data/reference/tslpp/ (or set MI_LAB_REFERENCE to a folder with tslpp/Training.csv)."
        )
    features = np.loadtxt(path, delimiter=",", ndmin=2)
    labels = np.repeat(np.arange(len(TRAINING_CLASSES)), len(features) // len(TRAINING_CLASSES))
    if len(labels) != len(features):
        raise MIInputError(f"{path.name} has {len(features)} rows; expected three equal blocks.")
    return features, labels


@dataclass(frozen=True)
class MapComparison:
    """Three 2D maps of one data set and how well each separates the classes.

    Attributes
    ----------
    names : tuple of str
        ``("PCA", "LPP", "TS-LPP")``.
    embeddings : dict of str to ndarray of shape (n_samples, 2)
    accuracy : dict of str to float
        Mean 5-fold cross-validated accuracy of a kNN classifier on the 2D coordinates.
    silhouette : dict of str to float
        Silhouette of the true classes in each plane (-1 to 1; higher: farther apart).
    labels : ndarray of int
    """

    names: tuple[str, ...]
    embeddings: dict[str, np.ndarray]
    accuracy: dict[str, float]
    silhouette: dict[str, float]
    labels: np.ndarray


def compare_maps(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    sigma: float | None = PAPER_SIGMA,
    n_intermediate: int = PAPER_INTERMEDIATE,
    n_neighbors: int = PAPER_NEIGHBORS,
    knn: int = 5,
    random_state: int = 0,
) -> MapComparison:
    """PCA, LPP and TS-LPP maps to 2D, with kNN accuracy and silhouette of each (the paper's test).

    Parameters
    ----------
    features : array_like of shape (n_samples, n_features)
    labels : array_like of int, shape (n_samples,)
        The true class of every row.
    sigma, n_intermediate, n_neighbors
        LPP / TS-LPP parameters; the defaults are the original's on ``Training.csv``.
    knn : int, default 5
        Neighbours voting in the plane.
    random_state : int, default 0
        Seed of the stratified folds.

    Returns
    -------
    MapComparison

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(c, 1.0, (40, 6)) for c in (0.0, 3.0, 6.0)])
    >>> y = np.repeat([0, 1, 2], 40)
    >>> result = compare_maps(X, y, sigma=None, n_intermediate=4)
    >>> result.names, result.accuracy["TS-LPP"] > 0.9
    (('PCA', 'LPP', 'TS-LPP'), True)
    """
    features = check_finite_array(features, "features", ndim=2)
    labels = np.asarray(labels)
    if labels.shape != (len(features),):
        raise MIInputError(
            f"labels needs one class per row ({len(features)}); got shape {labels.shape}."
        )
    check_positive_int(knn, "knn")
    n_splits = int(min(5, np.bincount(np.unique(labels, return_inverse=True)[1]).min()))
    if n_splits < 2:
        raise MIInputError("Every class needs at least two rows to cross-validate.")
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    with one_blas_thread():
        scale = features.std(axis=0)
        kept = scale > 0
        standardized = (features[:, kept] - features[:, kept].mean(axis=0)) / scale[kept]
        embeddings = {
            "PCA": PCA(2, random_state=random_state).fit_transform(standardized),
            "LPP": LPP(2, n_neighbors=n_neighbors, sigma=sigma).fit_transform(features),
            "TS-LPP": TSLPP(
                2, n_intermediate=n_intermediate, n_neighbors=n_neighbors, sigma=sigma
            ).fit_transform(features),
        }
        accuracy = {
            name: float(cross_val_score(KNeighborsClassifier(knn), xy, labels, cv=folds).mean())
            for name, xy in embeddings.items()
        }
        silhouette = {name: float(silhouette_score(xy, labels)) for name, xy in embeddings.items()}
    return MapComparison(MAP_NAMES, embeddings, accuracy, silhouette, labels)
