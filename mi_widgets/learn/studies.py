"""Model-choice studies built on scikit-learn: learning curves, grid vs random search,
network depth, training length, and model selection with a held-out test set.

Every study takes ``groups`` (one label per row, e.g. the composition): the
folds and splits are then grouped, so that no composition is on both sides of
a split.  Every study takes ``progress(done, total)``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import loguniform, uniform
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import (
    GroupShuffleSplit,
    ParameterGrid,
    ParameterSampler,
    ShuffleSplit,
    cross_val_score,
    learning_curve,
)
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int
from mi_widgets._threads import one_blas_thread
from mi_widgets.learn.models import (
    _check_groups,
    compare_models,
    cv_folds,
    elemnet_mlp,
    make_regressor,
)

Progress = Callable[[int, int], None] | None

__all__ = [
    "DepthStudy",
    "EpochCurve",
    "LearningCurves",
    "ModelChoice",
    "SearchComparison",
    "choose_model",
    "compare_searches",
    "depth_study",
    "epoch_curve",
    "krr_search_space",
    "learning_curves",
    "split_rows",
]


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = check_finite_array(X, "X", ndim=2)
    y = check_finite_array(y, "y", ndim=1)
    if len(X) != len(y):
        raise MIInputError(f"X has {len(X)} rows but y has {len(y)}; give one target per row.")
    return X, y


def _one_blas_thread(func):
    """Run ``func`` with one BLAS thread: many small fits gain nothing from threads, and on
    shared cores oversubscription made kernel ridge 20x slower."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return func(*args, **kwargs)

    return wrapper


def _report(progress: Progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def split_rows(
    n_rows: int,
    *,
    test_size: float = 0.2,
    groups: np.ndarray | None = None,
    random_state: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train / test split; grouped (no group on both sides) when ``groups`` is given.

    With groups, ``test_size`` is the fraction of *groups* held out, so the
    test share of rows is close to it but not exact.

    Examples
    --------
    >>> train, test = split_rows(10, test_size=0.3, groups=np.repeat(np.arange(5), 2))
    >>> len(test), set(np.repeat(np.arange(5), 2)[train]) & set(np.repeat(np.arange(5), 2)[test])
    (4, set())
    """
    if not 0 < test_size < 1:
        raise MIInputError(f"test_size must be a fraction between 0 and 1; got {test_size!r}.")
    groups = _check_groups(groups, n_rows)
    if groups is None:
        splitter = ShuffleSplit(1, test_size=test_size, random_state=random_state)
    else:
        splitter = GroupShuffleSplit(1, test_size=test_size, random_state=random_state)
    train, test = next(splitter.split(np.zeros((n_rows, 1)), groups=groups))
    if len(train) == 0 or len(test) == 0:
        raise MIInputError(
            f"{n_rows} rows cannot be split into a training and a test part; give more rows."
        )
    return train, test


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


@_one_blas_thread
def learning_curves(
    models: Mapping[str, BaseEstimator],
    X: np.ndarray,
    y: np.ndarray,
    *,
    train_sizes: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 1.0),
    cv: int = 5,
    groups: np.ndarray | None = None,
    random_state: int = 0,
    progress: Progress = None,
) -> LearningCurves:
    """``sklearn.model_selection.learning_curve`` for several models on the same folds (MAE).

    With ``groups`` the folds are grouped (:func:`~mi_widgets.learn.cv_folds`).

    Examples
    --------
    >>> from mi_widgets.learn.models import make_regressor
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(80, 2)); y = X[:, 0]
    >>> lc = learning_curves({"ridge": make_regressor("ridge")}, X, y, cv=3)
    >>> lc.validation_mae.shape
    (1, 5)
    """
    X, y = _check_xy(X, y)
    groups = _check_groups(groups, len(y))
    folds = cv_folds(cv, groups, random_state=random_state)
    train, valid, std = [], [], []
    sizes = None
    for k, model in enumerate(models.values()):
        sizes, tr, va = learning_curve(
            model,
            X,
            y,
            groups=groups,
            train_sizes=train_sizes,
            cv=folds,
            scoring="neg_mean_absolute_error",
        )
        train.append(-tr.mean(axis=1))
        valid.append(-va.mean(axis=1))
        std.append(va.std(axis=1))
        _report(progress, k + 1, len(models))
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
    grid_params, random_params : tuple of dict
        The settings, in the same order.
    grid_best, random_best : dict
        Best parameters found by each.
    """

    grid_mae: np.ndarray
    random_mae: np.ndarray
    grid_params: tuple[dict, ...]
    random_params: tuple[dict, ...]
    grid_best: dict
    random_best: dict

    @staticmethod
    def running_best(mae: np.ndarray) -> np.ndarray:
        """Best MAE after 1, 2, ... evaluations."""
        return np.minimum.accumulate(mae)

    def distinct_values(self, name: str) -> tuple[int, int]:
        """How many distinct values of parameter ``name`` the grid and the random search tried."""
        return (
            len({repr(p.get(name)) for p in self.grid_params}),
            len({repr(p.get(name)) for p in self.random_params}),
        )


@_one_blas_thread
def compare_searches(
    estimator: BaseEstimator,
    param_grid: Mapping[str, Sequence[Any]],
    param_distributions: Mapping[str, Any],
    X: np.ndarray,
    y: np.ndarray,
    *,
    cv: int = 3,
    groups: np.ndarray | None = None,
    random_state: int = 0,
    progress: Progress = None,
) -> SearchComparison:
    """Grid search and random search with equal budgets (number of settings), same folds.

    The random search draws as many settings as the grid has, from
    ``param_distributions`` (scipy.stats distributions, e.g. ``loguniform``;
    lists are sampled uniformly), so each evaluation tries a new value of every
    continuous parameter (Bergstra and Bengio, JMLR 13, 281, 2012).  The
    scores equal ``GridSearchCV`` / ``RandomizedSearchCV`` with the same
    splitter and seed (``ParameterSampler`` draws the same settings); they are
    computed one setting at a time so that ``progress`` can move.  The grid's
    evaluation order is shuffled with the seed, so its running best is not
    biased by the order in which the grid is written.

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
    groups = _check_groups(groups, len(y))
    folds = cv_folds(cv, groups, random_state=random_state)
    grid_settings = list(ParameterGrid(param_grid))
    budget = len(grid_settings)
    random_settings = list(
        ParameterSampler(param_distributions, n_iter=budget, random_state=random_state)
    )
    done = 0

    def score(params: dict) -> float:
        nonlocal done
        model = clone(estimator).set_params(**params)
        mae = -cross_val_score(
            model, X, y, groups=groups, cv=folds, scoring="neg_mean_absolute_error"
        ).mean()
        done += 1
        _report(progress, done, 2 * budget)
        return float(mae)

    grid_mae = np.array([score(p) for p in grid_settings])
    random_mae = np.array([score(p) for p in random_settings])
    grid_best = grid_settings[int(np.argmin(grid_mae))]  # GridSearchCV's tie rule: first
    random_best = random_settings[int(np.argmin(random_mae))]
    order = np.random.default_rng(random_state).permutation(budget)
    return SearchComparison(
        grid_mae=grid_mae[order],
        random_mae=random_mae,
        grid_params=tuple(grid_settings[i] for i in order),
        random_params=tuple(random_settings),
        grid_best=grid_best,
        random_best=random_best,
    )


def _log_grid(low: float, high: float, k: int) -> list[float]:
    """``k`` values at the centres of ``k`` equal log-bins of [low, high]."""
    edges = np.linspace(np.log10(low), np.log10(high), k + 1)
    return (10 ** ((edges[:-1] + edges[1:]) / 2)).tolist()


def krr_search_space(*, nuisance: bool = False) -> tuple[Pipeline, dict[str, list], dict[str, Any]]:
    """Kernel ridge (RBF) search spaces for grid vs random search, both with 16 settings.

    Without ``nuisance``: the two parameters that matter, alpha in [1e-4, 1e-1]
    and gamma in [1e-4, 10] (five decades: the scale is not known in advance), a
    4 x 4 grid.  With ``nuisance`` two more knobs of
    the pipeline join the search: the correlation filter's threshold (0.9-1.0)
    and whether the scaler centres the features (no effect at all on an RBF
    kernel, which depends on differences only).  The grid is then 2 x 2 x 2 x 2:
    the same budget, but only two distinct values of gamma, while random
    search still tries 16 - the situation in which random search wins
    (Bergstra and Bengio 2012: few parameters matter, and one does not know
    which).  Grid values sit at the centres of equal log-bins of each range.

    Returns
    -------
    estimator, param_grid, param_distributions

    Examples
    --------
    >>> _, grid, dists = krr_search_space(nuisance=True)
    >>> sorted(grid), len(grid["model__gamma"])
    (['filter__threshold', 'model__alpha', 'model__gamma', 'scale__with_mean'], 2)
    """
    estimator = make_regressor("krr", correlation_threshold=0.99)
    distributions: dict[str, Any] = {
        "model__alpha": loguniform(1e-4, 1e-1),
        "model__gamma": loguniform(1e-4, 1e1),
    }
    k = 2 if nuisance else 4
    grid: dict[str, list] = {
        "model__alpha": _log_grid(1e-4, 1e-1, k),
        "model__gamma": _log_grid(1e-4, 1e1, k),
    }
    if nuisance:
        grid["filter__threshold"] = [0.93, 0.97]
        grid["scale__with_mean"] = [True, False]
        distributions["filter__threshold"] = uniform(0.9, 0.1)
        distributions["scale__with_mean"] = [True, False]
    return estimator, grid, distributions


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


@_one_blas_thread
def depth_study(
    X: np.ndarray,
    y: np.ndarray,
    *,
    depths: Sequence[int] = (1, 2, 3, 5),
    width: int = 64,
    cv: int = 3,
    groups: np.ndarray | None = None,
    random_state: int = 0,
    max_iter: int = 300,
    progress: Progress = None,
) -> DepthStudy:
    """Cross-validated MAE of :func:`elemnet_mlp` for each depth (number of hidden layers).

    ``X`` may be hand-made features (Magpie statistics) or, as in ElemNet, the
    raw element fractions.  Training stops at ``max_iter`` epochs (a compute
    budget, the same for every depth); scikit-learn's ConvergenceWarning for
    runs that reach it is silenced here on purpose.

    Examples
    --------
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(60, 2)); y = X[:, 0]
    >>> depth_study(X, y, depths=(1, 2), width=4, max_iter=50).mae.shape
    (2,)
    """
    X, y = _check_xy(X, y)
    groups = _check_groups(groups, len(y))
    folds = cv_folds(cv, groups, random_state=random_state)
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k, d in enumerate(depths):
            scores.append(
                -cross_val_score(
                    elemnet_mlp(d, width, random_state=random_state, max_iter=max_iter),
                    X,
                    y,
                    groups=groups,
                    cv=folds,
                    scoring="neg_mean_absolute_error",
                )
            )
            _report(progress, k + 1, len(depths))
    scores = np.array(scores)
    return DepthStudy(np.asarray(depths), scores.mean(axis=1), scores.std(axis=1))


@dataclass(frozen=True)
class EpochCurve:
    """Training and validation MAE of one network after each epoch of training.

    Attributes
    ----------
    epochs : numpy.ndarray
        1, 2, ..., n_epochs.
    train_mae, validation_mae : numpy.ndarray
        MAE (units of y) on the training rows and on the held-out rows.
    n_train, n_validation : int
    """

    epochs: np.ndarray
    train_mae: np.ndarray
    validation_mae: np.ndarray
    n_train: int
    n_validation: int

    @property
    def best_epoch(self) -> int:
        """The epoch with the smallest validation MAE (where early stopping would stop)."""
        return int(self.epochs[int(np.argmin(self.validation_mae))])


@_one_blas_thread
def epoch_curve(
    X: np.ndarray,
    y: np.ndarray,
    *,
    depth: int = 3,
    width: int = 64,
    epochs: int = 200,
    validation_size: float = 0.2,
    groups: np.ndarray | None = None,
    random_state: int = 0,
    progress: Progress = None,
) -> EpochCurve:
    """Train an ElemNet-style MLP epoch by epoch; MAE on train and held-out rows after each.

    The same network as :func:`~mi_widgets.learn.elemnet_mlp` (standardised
    inputs and target, ReLU layers, Adam, mini-batches of 32, L2 penalty
    1e-4) without early stopping, so the whole curve is visible: the training
    error keeps falling while the validation error flattens or rises again
    (over-fitting), which is what early stopping watches.

    Examples
    --------
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(80, 2)); y = X[:, 0]
    >>> c = epoch_curve(X, y, depth=1, width=8, epochs=5)
    >>> c.epochs.tolist(), bool(c.train_mae[-1] < c.train_mae[0])
    ([1, 2, 3, 4, 5], True)
    """
    X, y = _check_xy(X, y)
    depth = check_positive_int(depth, "depth", maximum=32)
    width = check_positive_int(width, "width", maximum=4096)
    epochs = check_positive_int(epochs, "epochs", maximum=5000)
    train, valid = split_rows(
        len(y), test_size=validation_size, groups=groups, random_state=random_state
    )
    x_scale = StandardScaler().fit(X[train])
    y_mean, y_std = float(y[train].mean()), float(y[train].std()) or 1.0
    X_train, X_valid = x_scale.transform(X[train]), x_scale.transform(X[valid])
    target = (y[train] - y_mean) / y_std
    network = MLPRegressor(
        hidden_layer_sizes=(width,) * depth,
        activation="relu",
        alpha=1e-4,
        learning_rate_init=1e-3,
        batch_size=32,
        random_state=random_state,
    )
    train_mae, valid_mae = np.empty(epochs), np.empty(epochs)
    step = max(1, epochs // 50)
    for e in range(epochs):
        network.partial_fit(X_train, target)  # one pass over the shuffled training rows
        train_mae[e] = np.mean(np.abs(network.predict(X_train) * y_std + y_mean - y[train]))
        valid_mae[e] = np.mean(np.abs(network.predict(X_valid) * y_std + y_mean - y[valid]))
        if (e + 1) % step == 0 or e + 1 == epochs:
            _report(progress, e + 1, epochs)
    return EpochCurve(np.arange(1, epochs + 1), train_mae, valid_mae, len(train), len(valid))


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


@_one_blas_thread
def choose_model(
    models: Mapping[str, BaseEstimator],
    X: np.ndarray,
    y: np.ndarray,
    *,
    test_size: float = 0.2,
    cv: int = 5,
    groups: np.ndarray | None = None,
    random_state: int = 0,
    progress: Progress = None,
) -> ModelChoice:
    """Hold out a test split, pick the model by K-fold CV on the rest, then test it once.

    With ``groups`` the test split and the folds are grouped.

    Examples
    --------
    >>> from mi_widgets.learn.models import make_regressor
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(80, 2)); y = X[:, 0]
    >>> choose_model({"dummy": make_regressor("dummy"), "ridge": make_regressor("ridge")},
    ...              X, y, cv=3).chosen
    'ridge'
    """
    X, y = _check_xy(X, y)
    groups = _check_groups(groups, len(y))
    train, test = split_rows(len(y), test_size=test_size, groups=groups, random_state=random_state)
    names = tuple(models)
    scores = []
    for k, name in enumerate(names):
        comparison = compare_models(
            {name: models[name]},
            X[train],
            y[train],
            cv=cv,
            groups=None if groups is None else groups[train],
            random_state=random_state,
        )
        scores.append(comparison.fold_mae[0])
        _report(progress, k + 1, len(names) + 1)
    scores = np.array(scores)
    chosen = names[int(np.argmin(scores.mean(axis=1)))]
    final = clone(models[chosen]).fit(X[train], y[train])
    test_mae = float(mean_absolute_error(y[test], final.predict(X[test])))
    _report(progress, len(names) + 1, len(names) + 1)
    return ModelChoice(
        names,
        scores.mean(axis=1),
        scores.std(axis=1),
        chosen,
        test_mae,
        len(train),
        len(test),
    )
