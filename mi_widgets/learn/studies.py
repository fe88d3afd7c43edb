"""Model-choice studies built on scikit-learn: learning curves, grid vs random search,
network depth, and model selection with a held-out test set."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    ParameterGrid,
    RandomizedSearchCV,
    cross_val_score,
    learning_curve,
    train_test_split,
)

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int
from mi_widgets.learn.models import compare_models, elemnet_mlp

__all__ = [
    "DepthStudy",
    "LearningCurves",
    "ModelChoice",
    "SearchComparison",
    "choose_model",
    "compare_searches",
    "depth_study",
    "learning_curves",
]


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = check_finite_array(X, "X", ndim=2)
    y = check_finite_array(y, "y", ndim=1)
    if len(X) != len(y):
        raise MIInputError(f"X has {len(X)} rows but y has {len(y)}; give one target per row.")
    return X, y


@dataclass(frozen=True)
class LearningCurves:
    """Train and validation MAE against training-set size, per model.

    Attributes
    ----------
    names : tuple of str
    train_sizes : numpy.ndarray
        Number of training samples.
    train_mae, validation_mae : numpy.ndarray, shape (n_models, n_sizes)
        Mean over CV folds.
    validation_std : numpy.ndarray, shape (n_models, n_sizes)
    """

    names: tuple[str, ...]
    train_sizes: np.ndarray
    train_mae: np.ndarray
    validation_mae: np.ndarray
    validation_std: np.ndarray


def learning_curves(
    models: Mapping[str, BaseEstimator],
    X: np.ndarray,
    y: np.ndarray,
    *,
    train_sizes: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 1.0),
    cv: int = 5,
    random_state: int = 0,
) -> LearningCurves:
    """``sklearn.model_selection.learning_curve`` for several models on the same folds (MAE).

    Examples
    --------
    >>> from mi_widgets.learn.models import make_regressor
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(80, 2)); y = X[:, 0]
    >>> lc = learning_curves({"ridge": make_regressor("ridge")}, X, y, cv=3)
    >>> lc.validation_mae.shape
    (1, 5)
    """
    X, y = _check_xy(X, y)
    folds = KFold(
        n_splits=check_positive_int(cv, "cv", minimum=2), shuffle=True, random_state=random_state
    )
    train, valid, std = [], [], []
    sizes = None
    for model in models.values():
        sizes, tr, va = learning_curve(
            model, X, y, train_sizes=train_sizes, cv=folds, scoring="neg_mean_absolute_error"
        )
        train.append(-tr.mean(axis=1))
        valid.append(-va.mean(axis=1))
        std.append(va.std(axis=1))
    return LearningCurves(
        tuple(models), np.asarray(sizes), np.array(train), np.array(valid), np.array(std)
    )


@dataclass(frozen=True)
class SearchComparison:
    """Grid search vs random search with the same number of evaluations.

    Attributes
    ----------
    grid_mae, random_mae : numpy.ndarray
        CV MAE of each evaluated setting, in the order it was evaluated.
    grid_best, random_best : dict
        Best parameters found by each.
    """

    grid_mae: np.ndarray
    random_mae: np.ndarray
    grid_best: dict
    random_best: dict

    @staticmethod
    def running_best(mae: np.ndarray) -> np.ndarray:
        """Best MAE after 1, 2, ... evaluations."""
        return np.minimum.accumulate(mae)


def compare_searches(
    estimator: BaseEstimator,
    param_grid: Mapping[str, Sequence[Any]],
    param_distributions: Mapping[str, Any],
    X: np.ndarray,
    y: np.ndarray,
    *,
    cv: int = 3,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> SearchComparison:
    """Run ``GridSearchCV`` and ``RandomizedSearchCV`` with equal budgets (number of settings).

    The random search gets ``n_iter`` = size of the grid and samples from
    ``param_distributions`` (scipy.stats distributions, e.g. ``loguniform``),
    so it tries a new value of every parameter at each evaluation (Bergstra
    and Bengio, JMLR 13, 281, 2012).  The grid's evaluation order is
    shuffled with the same seed, so its running best is not biased by the
    order in which the grid is written.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from mi_widgets.learn.models import make_regressor
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(60, 2)); y = X[:, 0]
    >>> s = compare_searches(make_regressor("ridge"), {"model__alpha": [0.01, 1, 100]},
    ...                      {"model__alpha": loguniform(1e-3, 1e3)}, X, y)
    >>> len(s.grid_mae) == len(s.random_mae) == 3
    True
    """
    X, y = _check_xy(X, y)
    folds = KFold(
        n_splits=check_positive_int(cv, "cv", minimum=2), shuffle=True, random_state=random_state
    )
    budget = len(ParameterGrid(param_grid))
    common = dict(cv=folds, scoring="neg_mean_absolute_error", n_jobs=n_jobs, refit=False)
    grid = GridSearchCV(clone(estimator), param_grid, **common).fit(X, y)
    rand = RandomizedSearchCV(
        clone(estimator), param_distributions, n_iter=budget, random_state=random_state, **common
    ).fit(X, y)
    order = np.random.default_rng(random_state).permutation(budget)
    grid_mae = -grid.cv_results_["mean_test_score"][order]
    return SearchComparison(
        grid_mae=grid_mae,
        random_mae=-rand.cv_results_["mean_test_score"],
        grid_best=grid.best_params_,
        random_best=rand.best_params_,
    )


@dataclass(frozen=True)
class DepthStudy:
    """CV MAE of ElemNet-style networks of increasing depth.

    Attributes
    ----------
    depths : numpy.ndarray
    mae, std : numpy.ndarray
        Mean and standard deviation of the fold MAEs.
    """

    depths: np.ndarray
    mae: np.ndarray
    std: np.ndarray


def depth_study(
    X: np.ndarray,
    y: np.ndarray,
    *,
    depths: Sequence[int] = (1, 2, 3, 5),
    width: int = 64,
    cv: int = 3,
    random_state: int = 0,
    max_iter: int = 300,
) -> DepthStudy:
    """Cross-validated MAE of :func:`elemnet_mlp` for each depth (number of hidden layers).

    Training stops at ``max_iter`` epochs (a compute budget, the same for every
    depth); scikit-learn's ConvergenceWarning for runs that reach it is
    silenced here on purpose.

    Examples
    --------
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(60, 2)); y = X[:, 0]
    >>> depth_study(X, y, depths=(1, 2), width=4, max_iter=50).mae.shape
    (2,)
    """
    X, y = _check_xy(X, y)
    folds = KFold(
        n_splits=check_positive_int(cv, "cv", minimum=2), shuffle=True, random_state=random_state
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = [
            -cross_val_score(
                elemnet_mlp(d, width, random_state=random_state, max_iter=max_iter),
                X,
                y,
                cv=folds,
                scoring="neg_mean_absolute_error",
            )
            for d in depths
        ]
    scores = np.array(scores)
    return DepthStudy(np.asarray(depths), scores.mean(axis=1), scores.std(axis=1))


@dataclass(frozen=True)
class ModelChoice:
    """Model selection by CV on the training split; the test split is used once, at the end.

    Attributes
    ----------
    names : tuple of str
    cv_mae, cv_std : numpy.ndarray
        CV MAE of each model on the training split.
    chosen : str
        The model with the smallest CV MAE.
    test_mae : float
        MAE of the chosen model, refitted on the whole training split, on the test split.
    n_train, n_test : int
    """

    names: tuple[str, ...]
    cv_mae: np.ndarray
    cv_std: np.ndarray
    chosen: str
    test_mae: float
    n_train: int
    n_test: int


def choose_model(
    models: Mapping[str, BaseEstimator],
    X: np.ndarray,
    y: np.ndarray,
    *,
    test_size: float = 0.2,
    cv: int = 5,
    random_state: int = 0,
) -> ModelChoice:
    """Hold out a test split, pick the model by K-fold CV on the rest, then test it once.

    Examples
    --------
    >>> from mi_widgets.learn.models import make_regressor
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(80, 2)); y = X[:, 0]
    >>> choose_model({"dummy": make_regressor("dummy"), "ridge": make_regressor("ridge")},
    ...              X, y, cv=3).chosen
    'ridge'
    """
    X, y = _check_xy(X, y)
    if not 0 < test_size < 1:
        raise MIInputError(f"test_size must be a fraction between 0 and 1; got {test_size!r}.")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state
    )
    comparison = compare_models(models, X_train, y_train, cv=cv, random_state=random_state)
    chosen = comparison.best
    final = clone(models[chosen]).fit(X_train, y_train)
    test_mae = float(mean_absolute_error(y_test, final.predict(X_test)))
    return ModelChoice(
        comparison.names,
        comparison.mean_mae,
        comparison.std_mae,
        chosen,
        test_mae,
        len(y_train),
        len(y_test),
    )
