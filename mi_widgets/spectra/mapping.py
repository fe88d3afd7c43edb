"""Phase (character) mapping: cluster the pixels of a map by their fitted peak parameters."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from mi_widgets._errors import check_positive_int
from mi_widgets.spectra.results import BatchFitResult

__all__ = ["cluster_phases", "phase_features"]


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
    features = StandardScaler().fit_transform(phase_features(batch))
    labels = KMeans(n_clusters=n_phases, n_init=4, random_state=random_state).fit_predict(features)
    order = np.argsort([batch.center[labels == k, 0].mean() for k in range(n_phases)])
    rank = np.empty(n_phases, dtype=int)
    rank[order] = np.arange(n_phases)
    return rank[labels]
