"""Permutation importance in chunks of features, identical to scikit-learn's.

``sklearn.inspection.permutation_importance`` draws one integer seed from
``random_state`` and shuffles *every* column with a ``RandomState`` started
from that same seed.  So the permutations of a column do not depend on which
other columns are permuted in the same call.  Calling
``permutation_importance`` on a few columns at a time - through a thin
estimator that puts those columns back into the full matrix - therefore gives
exactly the numbers of one big call, while a progress bar can move between
chunks.  A test checks the equality.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from joblib import parallel_backend
from sklearn.base import BaseEstimator, clone
from sklearn.inspection import permutation_importance
from sklearn.metrics import mean_absolute_error
from sklearn.utils import Bunch

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int

__all__ = ["chunked_permutation_importance", "drop_column_importance", "permuted_prediction"]


class _ColumnsInFullMatrix(BaseEstimator):
    """Predicts with ``estimator`` after writing the given columns into a copy of ``X_full``."""

    def __init__(self, estimator, X_full: np.ndarray, columns: Sequence[int]):
        self.estimator = estimator
        self.X_full = X_full
        self.columns = columns

    def __sklearn_tags__(self):
        return self.estimator.__sklearn_tags__()

    @property
    def classes_(self):
        return self.estimator.classes_

    def fit(self, X, y=None):  # already fitted; scikit-learn's checks only need the method
        return self

    def _full(self, X_columns: np.ndarray) -> np.ndarray:
        X = self.X_full.copy()
        X[:, self.columns] = X_columns
        return X

    def predict(self, X):
        return self.estimator.predict(self._full(X))

    def predict_proba(self, X):
        return self.estimator.predict_proba(self._full(X))

    def decision_function(self, X):
        return self.estimator.decision_function(self._full(X))

    def score(self, X, y, sample_weight=None):
        return self.estimator.score(self._full(X), y, sample_weight=sample_weight)


def chunked_permutation_importance(
    estimator,
    X: np.ndarray,
    y: np.ndarray,
    *,
    scoring: str | Callable | None = "neg_mean_absolute_error",
    n_repeats: int = 5,
    random_state: int = 0,
    chunk_size: int = 4,
    n_jobs: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Bunch:
    """``permutation_importance`` computed a few features at a time, reporting progress.

    Parameters
    ----------
    estimator : fitted scikit-learn estimator
    X : array, shape (n_samples, n_features)
        Data to score on (ideally held out from training).
    y : array, shape (n_samples,)
    scoring, n_repeats
        As in :func:`sklearn.inspection.permutation_importance`.  With the
        default scoring the importance is the increase in mean absolute error
        (units of y) when a feature is shuffled.
    n_jobs : int, optional
        Features of a chunk scored in parallel *threads* (scikit-learn's trees
        and linear models release the GIL), so the model is not copied to
        worker processes; the result does not change.
    random_state : int
        Seed; the result equals ``permutation_importance(..., random_state=random_state)``.
    chunk_size : int
        Features per call.
    on_progress : callable, optional
        Called as ``on_progress(done, total)`` after each chunk.

    Returns
    -------
    sklearn.utils.Bunch
        ``importances_mean``, ``importances_std``, ``importances`` (n_features, n_repeats).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 3)); y = 3 * X[:, 0]
    >>> model = LinearRegression().fit(X, y)
    >>> r = chunked_permutation_importance(model, X, y, n_repeats=3, chunk_size=2)
    >>> int(np.argmax(r.importances_mean))
    0
    """
    X = check_finite_array(X, "X", ndim=2)
    y = np.asarray(y)
    if len(y) != len(X):
        raise MIInputError(f"X has {len(X)} rows but y has {len(y)}; give one target per row.")
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise MIInputError(f"random_state must be a whole number; got {random_state!r}.")
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    n_features = X.shape[1]
    blocks = []
    for start in range(0, n_features, chunk_size):
        columns = list(range(start, min(start + chunk_size, n_features)))
        wrapped = _ColumnsInFullMatrix(estimator, X, columns)
        with parallel_backend("threading", n_jobs=n_jobs or 1):
            part = permutation_importance(
                wrapped,
                X[:, columns],
                y,
                scoring=scoring,
                n_repeats=n_repeats,
                random_state=int(random_state),
                n_jobs=n_jobs,
            )
        blocks.append(part.importances)
        if on_progress is not None:
            on_progress(columns[-1] + 1, n_features)
    importances = np.vstack(blocks)
    return Bunch(
        importances_mean=np.mean(importances, axis=1),
        importances_std=np.std(importances, axis=1),
        importances=importances,
    )


def permuted_prediction(
    estimator, X: np.ndarray, column: int, *, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions before and after shuffling one column (the first permutation of the seed).

    Returns
    -------
    before, after : numpy.ndarray
        ``estimator.predict`` on ``X`` and on ``X`` with column ``column`` shuffled.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(10, 2))
    >>> model = LinearRegression().fit(X, X[:, 0])
    >>> before, after = permuted_prediction(model, X, 0)
    >>> bool(np.allclose(before, X[:, 0])), bool(np.allclose(np.sort(after), np.sort(X[:, 0])))
    (True, True)
    """
    X = check_finite_array(X, "X", ndim=2)
    if not 0 <= int(column) < X.shape[1]:
        raise MIInputError(f"column must be between 0 and {X.shape[1] - 1}; got {column}.")
    order = np.arange(len(X))
    np.random.RandomState(random_state).shuffle(order)
    shuffled = X.copy()
    shuffled[:, column] = X[order, column]
    return estimator.predict(X), estimator.predict(shuffled)


def drop_column_importance(
    estimator,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    columns: Sequence[int] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Importance *with refitting*: test-MAE increase when a model is retrained without a column.

    Permutation importance (no refit) asks how much *this fitted model* relies
    on a feature.  Drop-column importance refits a fresh copy of the
    estimator without feature j and asks how much the *data* lose without it:
    a feature with a near-copy (a correlated twin) scores about zero, because
    the refitted model uses the twin instead - even when the original model
    leaned on the feature and its permutation importance is large.

    Parameters
    ----------
    estimator : scikit-learn estimator
        Unfitted (or fitted: it is cloned); refitted once per column plus once on all.
    X_train, y_train, X_test, y_test : arrays
    columns : sequence of int, optional
        Which features to drop, one at a time (default: all).
    on_progress : callable, optional
        ``on_progress(done, total)`` after each refit.

    Returns
    -------
    numpy.ndarray
        ``MAE(without j) - MAE(all features)`` on the test rows, one per column
        (units of y; negative when dropping the feature helps).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(200, 3))
    >>> X[:, 1] = X[:, 0] + 1e-3 * rng.normal(size=200)  # a twin of feature 0
    >>> y = X[:, 0] + X[:, 2]
    >>> imp = drop_column_importance(LinearRegression(), X[:150], y[:150], X[150:], y[150:])
    >>> np.abs(imp[:2]).max() < 0.01 < 0.5 < imp[2]
    np.True_
    """
    X_train = check_finite_array(X_train, "X_train", ndim=2)
    X_test = check_finite_array(X_test, "X_test", ndim=2)
    if X_train.shape[1] != X_test.shape[1] or X_train.shape[1] < 2:
        raise MIInputError(
            "X_train and X_test need the same columns, at least two; "
            f"got {X_train.shape[1]} and {X_test.shape[1]}."
        )
    columns = list(range(X_train.shape[1])) if columns is None else [int(c) for c in columns]
    if any(not 0 <= c < X_train.shape[1] for c in columns):
        raise MIInputError(f"columns must be between 0 and {X_train.shape[1] - 1}.")
    total = len(columns) + 1
    base = mean_absolute_error(y_test, clone(estimator).fit(X_train, y_train).predict(X_test))
    if on_progress is not None:
        on_progress(1, total)
    out = np.empty(len(columns))
    for k, c in enumerate(columns):
        keep = np.arange(X_train.shape[1]) != c
        model = clone(estimator).fit(X_train[:, keep], y_train)
        out[k] = mean_absolute_error(y_test, model.predict(X_test[:, keep])) - base
        if on_progress is not None:
            on_progress(k + 2, total)
    return out
