"""Unsupervised discovery of local structures: an autoencoder, then a Gaussian mixture.

Follows Boattini, Dijkstra & Filion, J. Chem. Phys. 151, 154901 (2019): bond-order
parameters of every atom are compressed by an autoencoder whose bottleneck size
is read at the elbow of the reconstruction error, and the atoms are clustered by
a Gaussian mixture in the latent space whose number of components is read at
the elbow (or minimum) of the BIC. The autoencoder is scikit-learn's
``MLPRegressor`` trained to reproduce its (standardised) input through a narrow
middle layer; the encoder is evaluated in numpy from its weights.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.neural_network import MLPRegressor
from sklearn.utils.validation import check_is_fitted

from mi_widgets._errors import MIInputError, check_finite_array

__all__ = [
    "BondOrderAutoencoder",
    "MixtureCurves",
    "bottleneck_curve",
    "elbow",
    "mixture_curves",
    "smallest_sufficient",
]


class BondOrderAutoencoder(TransformerMixin, BaseEstimator):
    """An MLP autoencoder: input -> hidden -> bottleneck -> hidden -> input.

    Parameters
    ----------
    bottleneck : int, default 2
        Units of the middle layer (the latent dimension).
    hidden : int, default 24
        Units of the encoder's and decoder's hidden layers (tanh).
    alpha : float, default 1e-4
        L2 penalty.
    max_iter : int, default 400
        Epochs at most (Adam).
    random_state : int or None

    Attributes
    ----------
    mean_, scale_ : ndarray
        Input standardisation.
    coefs_, intercepts_ : list of ndarray
        Weights of the whole network.
    reconstruction_error_ : float
        Mean squared error on the training data, in standardised units.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(-1, 1, (300, 1))
    >>> X = np.hstack([t, 2 * t, -t]) + rng.normal(0, 0.01, (300, 3))
    >>> ae = BondOrderAutoencoder(bottleneck=1, hidden=8, random_state=0).fit(X)
    >>> ae.transform(X).shape, ae.reconstruction_error_ < 0.05
    ((300, 1), True)
    """

    def __init__(
        self,
        bottleneck: int = 2,
        hidden: int = 24,
        alpha: float = 1e-4,
        max_iter: int = 400,
        random_state: int | None = None,
    ) -> None:
        self.bottleneck = bottleneck
        self.hidden = hidden
        self.alpha = alpha
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y=None) -> BondOrderAutoencoder:
        """Train the network to reproduce ``X``."""
        X = check_finite_array(X, "X", ndim=2, min_size=2)
        if not 1 <= int(self.bottleneck) <= X.shape[1]:
            raise MIInputError(
                f"bottleneck must be between 1 and the {X.shape[1]} features; "
                f"got {self.bottleneck}."
            )
        self.mean_ = X.mean(axis=0)
        self.scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        Z = (X - self.mean_) / self.scale_
        net = MLPRegressor(
            hidden_layer_sizes=(int(self.hidden), int(self.bottleneck), int(self.hidden)),
            activation="tanh",
            alpha=self.alpha,
            max_iter=self.max_iter,
            n_iter_no_change=20,
            tol=1e-5,
            random_state=self.random_state,
        )
        with warnings.catch_warnings():  # the epoch cap is a chosen budget, not a failure
            warnings.simplefilter("ignore", ConvergenceWarning)
            net.fit(Z, Z)
        self.coefs_ = [w.copy() for w in net.coefs_]
        self.intercepts_ = [b.copy() for b in net.intercepts_]
        self.reconstruction_error_ = float(np.mean((net.predict(Z) - Z) ** 2))
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        """The latent coordinates (the bottleneck's activations), shape (n, bottleneck)."""
        check_is_fitted(self, "coefs_")
        h = (check_finite_array(X, "X", ndim=2) - self.mean_) / self.scale_
        h = np.tanh(h @ self.coefs_[0] + self.intercepts_[0])
        return np.tanh(h @ self.coefs_[1] + self.intercepts_[1])

    def reconstruction_error(self, X) -> float:
        """Mean squared reconstruction error of ``X`` in standardised units."""
        check_is_fitted(self, "coefs_")
        Z = (check_finite_array(X, "X", ndim=2) - self.mean_) / self.scale_
        h = Z
        for k, (w, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            h = h @ w + b
            if k < len(self.coefs_) - 1:
                h = np.tanh(h)
        return float(np.mean((h - Z) ** 2))


def bottleneck_curve(
    X, sizes: Sequence[int] = (1, 2, 3, 4, 6), *, random_state: int | None = 0, **kwargs
) -> np.ndarray:
    """Reconstruction error of an autoencoder for each bottleneck size (elbow plot)."""
    return np.array(
        [
            BondOrderAutoencoder(bottleneck=s, random_state=random_state, **kwargs)
            .fit(X)
            .reconstruction_error_
            for s in sizes
        ]
    )


@dataclass(frozen=True)
class MixtureCurves:
    """BIC and mean assignment entropy of Gaussian mixtures over K.

    Attributes
    ----------
    ks : ndarray of int
    bic : ndarray
        Bayesian information criterion (lower is better).
    entropy : ndarray
        Mean entropy of the atoms' cluster memberships, in nats (0: every atom
        sure of its cluster).
    labels : dict of int to ndarray
        Cluster of every atom for each K.
    """

    ks: np.ndarray
    bic: np.ndarray
    entropy: np.ndarray
    labels: dict

    def adjusted_rand(self, truth, k: int) -> float:
        """Adjusted Rand index of the K-cluster labelling against ``truth``."""
        return float(adjusted_rand_score(np.asarray(truth), self.labels[int(k)]))


def mixture_curves(
    Z, ks: Sequence[int] = (1, 2, 3, 4, 5, 6, 7), *, random_state: int | None = 0
) -> MixtureCurves:
    """Fit a full-covariance Gaussian mixture for each K and report BIC and entropy."""
    Z = check_finite_array(Z, "latent coordinates", ndim=2, min_size=2)
    bic, entropy, labels = [], [], {}
    for k in ks:  # a few mixture sizes, not atoms
        gmm = GaussianMixture(int(k), n_init=3, random_state=random_state).fit(Z)
        p = gmm.predict_proba(Z)
        bic.append(gmm.bic(Z))
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy.append(float(-np.where(p > 0, p * np.log(p), 0.0).sum(axis=1).mean()))
        labels[int(k)] = p.argmax(axis=1)
    return MixtureCurves(np.asarray(ks), np.array(bic), np.array(entropy), labels)


def elbow(x, y) -> float:
    """The x at the elbow of a decreasing curve: the point farthest below the chord.

    Examples
    --------
    >>> elbow([1, 2, 3, 4, 5], [10.0, 6.0, 1.2, 1.0, 0.9])
    3.0
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 3:
        return float(x[np.argmin(y)])
    xs = (x - x[0]) / (x[-1] - x[0])
    span = y[0] - y[-1]
    ys = (y - y[-1]) / span if span else np.zeros_like(y)
    chord = 1.0 - xs  # the straight line from the first point to the last
    return float(x[np.argmax(chord - ys)])


def smallest_sufficient(x, y, fraction: float = 0.05) -> float:
    """The smallest x whose y is within ``fraction`` of the total improvement of the best.

    For a criterion to minimise (BIC against the number of clusters): past this
    point more components buy less than ``fraction`` of what the first ones bought,
    the knee of the curve even when the minimum itself lies further out.

    Examples
    --------
    >>> smallest_sufficient([1, 2, 3, 4, 5, 6], [5000, 2800, 2100, 1118, 1090, 1098])
    4.0
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    best = y.min()
    tolerance = fraction * (y[0] - best)
    return float(x[np.flatnonzero(y - best <= tolerance)[0]])
