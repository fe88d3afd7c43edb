"""A Pearson-correlation feature filter as a scikit-learn transformer."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["CorrelationFilter"]


class CorrelationFilter(TransformerMixin, BaseEstimator):
    """Drop features that are strongly correlated with an earlier kept feature.

    Features are visited in column order; a feature is kept unless its
    absolute Pearson correlation with a feature already kept exceeds
    ``threshold``.  Constant features are dropped (their correlation is
    undefined and they carry no information).  This is the pre-screening step
    of Pilania et al. (Sci. Rep. 6, 19375, 2016) before kernel ridge
    regression.

    Parameters
    ----------
    threshold : float, default 0.95
        Largest allowed absolute correlation between two kept features, in (0, 1].

    Attributes
    ----------
    correlation_ : numpy.ndarray, shape (n_features, n_features)
        Pearson correlation matrix of the training features (0 for constant ones).
    support_ : numpy.ndarray of bool
        Which input features are kept.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0, 0.3], [2.0, 4.1, 0.1], [3.0, 6.0, 0.4], [4.0, 7.9, 0.2]])
    >>> CorrelationFilter(threshold=0.9).fit(X).support_
    array([ True, False,  True])
    """

    def __init__(self, threshold: float = 0.95):
        self.threshold = threshold

    def fit(self, X, y=None):
        """Compute the correlation matrix and choose the kept features."""
        from mi_widgets._errors import MIInputError

        X = validate_data(self, X, ensure_min_samples=2)
        if not 0 < self.threshold <= 1:
            raise MIInputError(f"threshold must be in (0, 1]; got {self.threshold!r}.")
        std = X.std(axis=0)
        constant = std == 0
        centred = (X - X.mean(axis=0)) / np.where(constant, 1.0, std)
        self.correlation_ = centred.T @ centred / X.shape[0]
        self.correlation_[constant, :] = 0.0
        self.correlation_[:, constant] = 0.0
        keep = np.zeros(X.shape[1], dtype=bool)
        for j in np.flatnonzero(~constant):
            keep[j] = not np.any(np.abs(self.correlation_[j, keep]) > self.threshold)
        self.support_ = keep
        return self

    def transform(self, X):
        """Keep the chosen columns."""
        check_is_fitted(self, "support_")
        X = validate_data(self, X, reset=False)
        return X[:, self.support_]

    def get_support(self, indices: bool = False) -> np.ndarray:
        """Mask (or indices) of the kept features, as in ``SelectorMixin``."""
        check_is_fitted(self, "support_")
        return np.flatnonzero(self.support_) if indices else self.support_

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the kept features."""
        check_is_fitted(self, "support_")
        if input_features is None:
            input_features = getattr(
                self, "feature_names_in_", [f"x{i}" for i in range(self.n_features_in_)]
            )
        return np.asarray(input_features, dtype=object)[self.support_]
