"""Permutation importance predicts each chunk's permutations in one stacked call, exactly."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.inspection import permutation_importance
from sklearn.linear_model import Ridge

from mi_widgets.learn import chunked_permutation_importance, make_regressor
from mi_widgets.learn.permutation import sklearn_row_orders


def _counting(model, method: str = "predict") -> list[int]:
    """Count the calls of ``model.<method>`` (an instance attribute shadows the class's)."""
    calls = [0]
    original = getattr(model, method)

    @functools.wraps(original)
    def counted(X):
        calls[0] += 1
        return original(X)

    setattr(model, method, counted)
    return calls


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 6))
    y = X[:, 0] - 2 * X[:, 2] + 0.5 * X[:, 0] * X[:, 4]
    return X, y


def test_row_orders_are_sklearns(data):
    """Shuffling column 0 by our orders reproduces sklearn's permuted scores of a ridge fit."""
    X, y = data
    model = Ridge().fit(X, y)
    orders = sklearn_row_orders(len(X), 3, random_state=7)
    ours = []
    for order in orders:
        permuted = X.copy()
        permuted[:, 0] = X[order, 0]
        ours.append(np.mean(np.abs(model.predict(permuted) - y)))
    ref = permutation_importance(
        model, X, y, scoring="neg_mean_absolute_error", n_repeats=3, random_state=7
    )
    base = np.mean(np.abs(model.predict(X) - y))
    assert np.array_equal(np.array(ours) - base, ref.importances[0])


@pytest.mark.parametrize("chunk_size", [1, 4, 6])
def test_a_forest_is_called_once_per_chunk_and_gives_sklearns_numbers(data, chunk_size):
    X, y = data
    model = make_regressor("random_forest", n_estimators=15).fit(X, y)
    ref = permutation_importance(
        model, X, y, scoring="neg_mean_absolute_error", n_repeats=4, random_state=5
    )
    calls = _counting(model)
    ours = chunked_permutation_importance(
        model, X, y, n_repeats=4, random_state=5, chunk_size=chunk_size
    )
    assert np.array_equal(ours.importances, ref.importances)
    assert calls[0] == -(-X.shape[1] // chunk_size)  # one stacked call per chunk


def test_a_scaled_forest_classifier_with_probabilities_is_exact(data):
    X, y = data
    labels = (y > 0).astype(int)
    model = make_regressor("random_forest", n_estimators=10)  # pipeline shape, then swap
    model.steps[-1] = ("model", RandomForestClassifier(n_estimators=10, random_state=0))
    model.fit(X, labels)
    ours = chunked_permutation_importance(
        model, X, labels, scoring="neg_log_loss", n_repeats=3, random_state=0
    )
    ref = permutation_importance(
        model, X, labels, scoring="neg_log_loss", n_repeats=3, random_state=0
    )
    assert np.array_equal(ours.importances, ref.importances)


def test_models_built_on_matrix_products_are_called_once_per_permutation(data):
    """A taller matrix can round a product differently: no stacking for linear models."""
    X, y = data
    model = Ridge().fit(X, y)
    calls = _counting(model)
    ours = chunked_permutation_importance(model, X, y, n_repeats=2, random_state=1, chunk_size=3)
    assert calls[0] == 2 * (1 + 3 * 2)  # per chunk: the baseline and each permutation
    ref = permutation_importance(
        model, X, y, scoring="neg_mean_absolute_error", n_repeats=2, random_state=1
    )
    assert np.array_equal(ours.importances, ref.importances)


def test_a_forest_with_parallel_prediction_is_not_stacked(data):
    X, y = data
    model = RandomForestRegressor(n_estimators=5, random_state=0, n_jobs=2).fit(X, y)
    calls = _counting(model)
    chunked_permutation_importance(model, X, y, n_repeats=2, random_state=1, chunk_size=6)
    assert calls[0] == 1 + 6 * 2
