"""Permutation importance in chunks of features, identical to scikit-learn's.

``sklearn.inspection.permutation_importance`` draws one integer seed from
``random_state`` and shuffles *every* column with a ``RandomState`` started
from that same seed.  So the permutations of a column do not depend on which
other columns are permuted in the same call.  Calling
``permutation_importance`` on a few columns at a time - through a thin
estimator that puts those columns back into the full matrix - therefore gives
exactly the numbers of one big call, while a progress bar can move between
chunks.  A test checks the equality.

Scoring one permutation at a time costs one ``predict`` call per column and
repeat, and for a forest most of a call is per-tree overhead (lab 10: 41
features x 5 repeats = 205 calls of 60 trees on 209 rows, about 1 s).  The
thin estimator therefore predicts every permutation of its chunk in *one*
call on the stacked matrices, the first time scikit-learn asks, and answers
the individual calls from that result.  The row orders come from the same
seed as scikit-learn's; a matrix it does not expect is predicted directly, so
the numbers never depend on the shortcut (tests compare with scikit-learn).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from joblib import parallel_backend
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.inspection import permutation_importance
from sklearn.metrics import mean_absolute_error
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import BaseDecisionTree
from sklearn.utils import Bunch

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int
from mi_widgets.learn.features import CorrelationFilter

__all__ = [
    "chunked_permutation_importance",
    "drop_column_importance",
    "permuted_prediction",
    "sklearn_row_orders",
]


#: Largest stacked matrix (elements) predicted in one call; beyond it, one call per matrix.
MAX_STACKED_ELEMENTS = 4_000_000


def sklearn_row_orders(n_rows: int, n_repeats: int, random_state: int) -> list[np.ndarray]:
    """The row order of each repeat in ``permutation_importance(..., random_state=...)``.

    Repeat ``r`` puts ``X[orders[r], j]`` into column ``j``: scikit-learn draws one
    seed from ``random_state``, shuffles an index array with it once per repeat and
    applies each shuffle to the column shuffled before.

    Examples
    --------
    >>> [order.tolist() for order in sklearn_row_orders(4, 2, random_state=0)]
    [[1, 3, 2, 0], [0, 1, 2, 3]]
    """
    seed = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max + 1)
    rng = np.random.RandomState(seed)
    shuffling = np.arange(n_rows)
    order = np.arange(n_rows)
    orders = []
    for _ in range(n_repeats):
        rng.shuffle(shuffling)
        order = order[shuffling]
        orders.append(order)
    return orders


class _ColumnsInFullMatrix(BaseEstimator):
    """Predicts with ``estimator`` after writing the given columns into a copy of ``X_full``.

    ``expected`` lists the column matrices scikit-learn will ask about (the chunk
    unpermuted, then each permutation); the first call of a method predicts all of
    them in one call and the rest are looked up.
    """

    def __init__(
        self,
        estimator,
        X_full: np.ndarray,
        columns: Sequence[int],
        expected: Sequence[np.ndarray] = (),
    ):
        self.estimator = estimator
        self.X_full = X_full
        self.columns = columns
        self.expected = expected

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

    def _answer(self, method: str, X_columns) -> np.ndarray:
        """``estimator.<method>`` of the full matrix, from one stacked call where expected."""
        X_columns = np.asarray(X_columns)
        key = (X_columns.shape, X_columns.dtype.str, np.ascontiguousarray(X_columns).tobytes())
        answers = self.__dict__.setdefault("_answers", {})
        stacked_size = len(self.expected) * self.X_full.size
        if method not in answers and self.expected and stacked_size <= MAX_STACKED_ELEMENTS:
            out = getattr(self.estimator, method)(np.vstack([self._full(m) for m in self.expected]))
            pieces = np.split(np.asarray(out), len(self.expected))
            answers[method] = {
                (m.shape, m.dtype.str, np.ascontiguousarray(m).tobytes()): piece
                for m, piece in zip(self.expected, pieces, strict=True)
            }
        found = answers.get(method, {}).get(key)
        if found is not None:
            return found.copy()
        return getattr(self.estimator, method)(self._full(X_columns))

    def predict(self, X):
        return self._answer("predict", X)

    def predict_proba(self, X):
        return self._answer("predict_proba", X)

    def decision_function(self, X):
        return self._answer("decision_function", X)

    def score(self, X, y, sample_weight=None):
        return self.estimator.score(self._full(X), y, sample_weight=sample_weight)


#: Models whose prediction of a row does not depend on the other rows, bit for bit.
_ROW_EXACT_MODELS = (
    BaseDecisionTree,
    RandomForestRegressor,
    RandomForestClassifier,
    ExtraTreesRegressor,
    ExtraTreesClassifier,
    GradientBoostingRegressor,
    GradientBoostingClassifier,
)
#: Pipeline steps that transform each row on its own, elementwise or by selecting columns.
_ROW_EXACT_STEPS = (StandardScaler, CorrelationFilter)


def _rows_predicted_alone(estimator) -> bool:
    """Whether stacking matrices into one ``predict`` call gives bit-identical rows."""
    if isinstance(estimator, Pipeline):
        *steps, (_, last) = estimator.steps
        if not all(
            s is None or s == "passthrough" or isinstance(s, _ROW_EXACT_STEPS) for _, s in steps
        ):
            return False
        estimator = last
    return isinstance(estimator, _ROW_EXACT_MODELS) and getattr(estimator, "n_jobs", None) in (
        None,
        1,
    )


def _expected_matrices(X_columns: np.ndarray, orders: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The chunk unpermuted, then each column under each repeat's row order (sklearn's order)."""
    expected = [X_columns]
    for j in range(X_columns.shape[1]):
        for order in orders:
            permuted = X_columns.copy()
            permuted[:, j] = X_columns[order, j]
            expected.append(permuted)
    return expected


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
    orders = sklearn_row_orders(len(X), n_repeats, int(random_state))  # the stacked shortcut
    blocks = []
    for start in range(0, n_features, chunk_size):
        columns = list(range(start, min(start + chunk_size, n_features)))
        # with parallel workers each asks about its own column: no stacked shortcut then
        stacked = (n_jobs or 1) == 1 and _rows_predicted_alone(estimator)
        expected = _expected_matrices(X[:, columns], orders) if stacked else ()
        wrapped = _ColumnsInFullMatrix(estimator, X, columns, expected)
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
