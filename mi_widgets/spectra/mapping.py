"""Phase (character) mapping: cluster the pixels of a map by their fitted peak parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from mi_widgets._errors import MIInputError, check_positive_int
from mi_widgets.spectra.results import BatchFitResult

__all__ = ["PhaseAgreement", "cluster_phases", "compare_phases", "phase_features"]


def phase_features(batch: BatchFitResult) -> np.ndarray:
    """Per-spectrum features that characterise a phase: peak centres and area fractions.

    Area *fractions* (not areas) make the phases independent of thickness
    and exposure. Shape (n_spectra, 2K).

    Examples
    --------
    >>> from mi_widgets.spectra import fit_many, make_spectral_image
    >>> image = make_spectral_image(3, 3, random_state=0)
    >>> batch = fit_many(image.x, image.spectra.reshape(9, -1), 2, random_state=0)
    >>> phase_features(batch).shape
    (9, 4)
    """
    area = np.clip(batch.area, 0.0, None)
    fraction = area / np.maximum(area.sum(axis=1, keepdims=True), 1e-300)
    return np.concatenate([batch.center, fraction], axis=1)


def cluster_phases(
    batch: BatchFitResult, n_phases: int, *, random_state: int | None = 0
) -> np.ndarray:
    """Label every spectrum with a phase by k-means on standardised :func:`phase_features`.

    Labels are ordered by the mean centre of the first peak, so they are stable
    across runs.

    Parameters
    ----------
    batch : BatchFitResult
        Fits of the map's spectra.
    n_phases : int
        Number of phases (clusters), at least 1 and at most the number of spectra.
    random_state : int, optional
        Seed of k-means.

    Returns
    -------
    numpy.ndarray of int, shape (n_spectra,)

    Examples
    --------
    >>> from mi_widgets.spectra import fit_many, make_spectral_image
    >>> image = make_spectral_image(6, 6, random_state=0)
    >>> batch = fit_many(image.x, image.spectra.reshape(36, -1), 2, random_state=0)
    >>> sorted(set(cluster_phases(batch, 3).tolist()))
    [0, 1, 2]
    """
    n = batch.center.shape[0]
    check_positive_int(n_phases, "n_phases", maximum=max(1, min(n, 20)))
    # scikit-learn is imported here, not with the module: lab 02 never clusters, and the
    # import costs its Voila kernel about a second of CPU before the app shows
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    features = StandardScaler().fit_transform(phase_features(batch))
    labels = KMeans(n_clusters=n_phases, n_init=4, random_state=random_state).fit_predict(features)
    order = np.argsort([batch.center[labels == k, 0].mean() for k in range(n_phases)])
    rank = np.empty(n_phases, dtype=int)
    rank[order] = np.arange(n_phases)
    return rank[labels]


@dataclass(frozen=True)
class PhaseAgreement:
    """How well phase labels agree with known ones.

    Attributes
    ----------
    adjusted_rand : float
        Adjusted Rand index (1 = the same partition, about 0 = chance).
    matched : float
        Fraction of pixels whose label matches the truth after the best one-to-one
        renaming of the labels (Hungarian assignment).
    """

    adjusted_rand: float
    matched: float


def compare_phases(labels: Any, truth: Any) -> PhaseAgreement:
    """Score phase labels against known phases, independent of how the labels are numbered.

    Examples
    --------
    >>> a = compare_phases([0, 0, 1, 1, 2], [2, 2, 0, 0, 1])
    >>> a.adjusted_rand, a.matched
    (1.0, 1.0)
    """
    labels = np.asarray(labels).ravel()
    truth = np.asarray(truth).ravel()
    if labels.size != truth.size:
        raise MIInputError(
            f"labels have {labels.size} entries and truth {truth.size}; give one per pixel."
        )
    _, found = np.unique(labels, return_inverse=True)
    _, known = np.unique(truth, return_inverse=True)
    table = np.zeros((found.max() + 1, known.max() + 1))
    np.add.at(table, (found, known), 1)
    rows, cols = linear_sum_assignment(-table)
    return PhaseAgreement(
        adjusted_rand=float(_adjusted_rand(truth, labels)),
        matched=float(table[rows, cols].sum() / labels.size),
    )


def _adjusted_rand(truth: np.ndarray, labels: np.ndarray) -> float:
    """scikit-learn's adjusted Rand index, imported when first needed (see ``cluster_phases``)."""
    from sklearn.metrics import adjusted_rand_score

    return adjusted_rand_score(truth, labels)
