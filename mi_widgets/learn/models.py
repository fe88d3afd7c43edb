"""The model zoo as scikit-learn pipelines, cross-validated comparisons and the reject option."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import BaseCrossValidator, GroupKFold, KFold, cross_val_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from mi_widgets._errors import MIInputError, check_choice, check_finite_array, check_positive_int
from mi_widgets._threads import one_blas_thread
from mi_widgets.learn.features import CorrelationFilter

__all__ = [
    "CLASSIFIERS",
    "REGRESSORS",
    "ModelComparison",
    "RejectOption",
    "compare_models",
    "cv_folds",
    "elemnet_mlp",
    "make_classifier",
    "make_regressor",
    "reject_option",
]

REGRESSORS = ("dummy", "ridge", "krr", "svr", "random_forest", "mlp")
CLASSIFIERS = ("dummy", "logistic", "random_forest", "mlp")


def _pipeline(
    model: BaseEstimator, *, scale: bool, correlation_threshold: float | None
) -> Pipeline:
    steps: list[tuple[str, Any]] = []
    if correlation_threshold is not None:
        steps.append(("filter", CorrelationFilter(threshold=correlation_threshold)))
    if scale:
        steps.append(("scale", StandardScaler()))
    steps.append(("model", model))
    return Pipeline(steps)


def elemnet_mlp(
    depth: int = 3,
    width: int = 64,
    *,
    classifier: bool = False,
    random_state: int = 0,
    max_iter: int = 400,
    correlation_threshold: float | None = None,
    **params: Any,
) -> Pipeline:
    """An ElemNet-style fully connected network: ``depth`` hidden ReLU layers of ``width`` units.

    ElemNet (Jha et al., Sci. Rep. 8, 17593, 2018) maps a composition vector
    through a deep stack of dense layers; here the depth is the knob, on top
    of standardised features (and, for regression, a standardised target),
    trained with Adam and early stopping.  For regression the ``model`` step is
    a ``TransformedTargetRegressor``; tune the network as
    ``model__regressor__<param>``.

    Examples
    --------
    >>> elemnet_mlp(depth=2, width=8).named_steps["model"].regressor.hidden_layer_sizes
    (8, 8)
    """
    depth = check_positive_int(depth, "depth", maximum=32)
    width = check_positive_int(width, "width", maximum=4096)
    settings = dict(
        hidden_layer_sizes=(width,) * depth,
        activation="relu",
        alpha=1e-4,
        learning_rate_init=1e-3,
        batch_size=32,  # several Adam steps per epoch even on a few hundred samples
        max_iter=max_iter,
        early_stopping=True,
        n_iter_no_change=20,
        random_state=random_state,
    )
    settings.update(params)
    if classifier:
        model = MLPClassifier(**settings)
    else:
        # Standardise the target too: with targets of ~0.05 eV the L2 penalty would
        # otherwise dominate the loss and flatten a shallow network.
        model = TransformedTargetRegressor(MLPRegressor(**settings), transformer=StandardScaler())
    return _pipeline(model, scale=True, correlation_threshold=correlation_threshold)


def make_regressor(
    name: str,
    *,
    random_state: int = 0,
    correlation_threshold: float | None = None,
    **params: Any,
) -> Pipeline:
    """A regression pipeline from the zoo, with sensible defaults for composition features.

    Parameters
    ----------
    name : {"dummy", "ridge", "krr", "svr", "random_forest", "mlp"}
        ``krr`` is kernel ridge regression with a Gaussian (RBF) kernel, as in
        Pilania et al. 2016; ``mlp`` is :func:`elemnet_mlp`.
    random_state : int
        Seed of the stochastic models.
    correlation_threshold : float, optional
        Put a :class:`CorrelationFilter` first.
    **params
        Passed to the final estimator (e.g. ``alpha=0.1``).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``filter`` (optional), ``scale`` (except trees and dummy), ``model``;
        tune with ``model__<param>`` names.

    Examples
    --------
    >>> make_regressor("ridge", alpha=0.1).named_steps["model"].alpha
    0.1
    """
    check_choice(name, "model", REGRESSORS)
    if name == "mlp":
        return elemnet_mlp(
            random_state=random_state, correlation_threshold=correlation_threshold, **params
        )
    factories = {
        "dummy": lambda: DummyRegressor(**({"strategy": "mean"} | params)),
        "ridge": lambda: Ridge(**({"alpha": 1.0} | params)),
        "krr": lambda: KernelRidge(**({"kernel": "rbf", "alpha": 1e-3, "gamma": 0.02} | params)),
        "svr": lambda: SVR(**({"C": 1.0, "epsilon": 0.005, "gamma": "scale"} | params)),
        "random_forest": lambda: RandomForestRegressor(
            **({"n_estimators": 100, "min_samples_leaf": 1, "random_state": random_state} | params)
        ),
    }
    scale = name not in ("dummy", "random_forest")
    return _pipeline(factories[name](), scale=scale, correlation_threshold=correlation_threshold)


def make_classifier(name: str, *, random_state: int = 0, **params: Any) -> Pipeline:
    """A classification pipeline that gives class probabilities (for the reject option).

    Parameters
    ----------
    name : {"dummy", "logistic", "random_forest", "mlp"}

    Examples
    --------
    >>> make_classifier("logistic").named_steps["model"].__class__.__name__
    'LogisticRegression'
    """
    check_choice(name, "model", CLASSIFIERS)
    if name == "mlp":
        return elemnet_mlp(classifier=True, random_state=random_state, **params)
    factories = {
        "dummy": lambda: DummyClassifier(**({"strategy": "prior"} | params)),
        "logistic": lambda: LogisticRegression(**({"C": 1.0, "max_iter": 2000} | params)),
        "random_forest": lambda: RandomForestClassifier(
            **({"n_estimators": 100, "random_state": random_state} | params)
        ),
    }
    scale = name == "logistic"
    return _pipeline(factories[name](), scale=scale, correlation_threshold=None)


def cv_folds(
    cv: int, groups: np.ndarray | None = None, *, random_state: int | None = 0
) -> BaseCrossValidator:
    """The K-fold splitter of every study: grouped when ``groups`` is given.

    Rows that share a group (the same composition in several cells or
    configurations) always land in the same fold, so a model is never scored
    on a near-copy of a training row; without groups the rows are shuffled
    into ordinary K folds.

    Parameters
    ----------
    cv : int
        Number of folds (at least 2).
    groups : array, optional
        One group label per row (e.g. from :func:`~mi_widgets.learn.composition_groups`).
    random_state : int or None
        Seed of the shuffling.

    Examples
    --------
    >>> cv_folds(3).__class__.__name__, cv_folds(3, np.arange(9)).__class__.__name__
    ('KFold', 'GroupKFold')
    """
    cv = check_positive_int(cv, "cv", minimum=2)
    if groups is None:
        return KFold(n_splits=cv, shuffle=True, random_state=random_state)
    n_groups = len(np.unique(np.asarray(groups)))
    if n_groups < cv:
        raise MIInputError(
            f"Grouped {cv}-fold cross-validation needs at least {cv} groups; got {n_groups}."
        )
    return GroupKFold(n_splits=cv, shuffle=True, random_state=random_state)


def _check_groups(groups: Any, n_rows: int) -> np.ndarray | None:
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n_rows:
        raise MIInputError(f"groups needs one label per row ({n_rows}); got shape {groups.shape}.")
    return groups


@dataclass(frozen=True)
class ModelComparison:
    """Cross-validated mean absolute error of several models on the same folds.

    Attributes
    ----------
    names : tuple of str
    fold_mae : numpy.ndarray, shape (n_models, n_folds)
        MAE of each model on each held-out fold (units of the target).
    """

    names: tuple[str, ...]
    fold_mae: np.ndarray

    @property
    def mean_mae(self) -> np.ndarray:
        """Mean over folds."""
        return self.fold_mae.mean(axis=1)

    @property
    def std_mae(self) -> np.ndarray:
        """Standard deviation over folds."""
        return self.fold_mae.std(axis=1)

    @property
    def best(self) -> str:
        """Name of the model with the smallest mean CV MAE."""
        return self.names[int(np.argmin(self.mean_mae))]


def compare_models(
    models: Mapping[str, BaseEstimator],
    X: np.ndarray,
    y: np.ndarray,
    *,
    cv: int = 5,
    groups: np.ndarray | None = None,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> ModelComparison:
    """K-fold cross-validated MAE of each model, all on the same shuffled folds.

    With ``groups`` (one label per row, e.g. the composition) the folds are
    grouped (:func:`cv_folds`): the honest error for data with repeated
    compositions.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3)); y = X @ [1.0, 2.0, 0.0]
    >>> result = compare_models({"dummy": make_regressor("dummy"),
    ...                          "ridge": make_regressor("ridge")}, X, y, cv=3)
    >>> result.best
    'ridge'
    """
    X = check_finite_array(X, "X", ndim=2)
    y = check_finite_array(y, "y", ndim=1)
    cv = check_positive_int(cv, "cv", minimum=2)
    if len(y) != len(X) or len(y) < cv:
        raise MIInputError(f"X and y need one row per sample and at least cv={cv} rows.")
    groups = _check_groups(groups, len(y))
    folds = cv_folds(cv, groups, random_state=random_state)
    with one_blas_thread():  # many small fits: BLAS threads only oversubscribe the cores
        scores = [
            -cross_val_score(
                m, X, y, groups=groups, cv=folds, scoring="neg_mean_absolute_error", n_jobs=n_jobs
            )
            for m in models.values()
        ]
    return ModelComparison(tuple(models), np.array(scores))


@dataclass(frozen=True)
class RejectOption:
    """Predictions with the reject option: classify only when max posterior >= theta.

    Attributes
    ----------
    theta : float
    predictions : numpy.ndarray
        Predicted class, or -1 where the sample is rejected.
    accepted : numpy.ndarray of bool
    coverage : float
        Fraction of samples classified.
    accuracy : float
        Accuracy on the accepted samples (NaN if none, or if no truth given).
    """

    theta: float
    predictions: np.ndarray
    accepted: np.ndarray
    coverage: float
    accuracy: float


def reject_option(
    probabilities: np.ndarray,
    theta: float,
    y_true: np.ndarray | None = None,
    *,
    classes: np.ndarray | None = None,
) -> RejectOption:
    """Apply Chow's reject rule: accept a sample only if its largest class probability >= theta.

    Parameters
    ----------
    probabilities : array, shape (n_samples, n_classes)
        Posterior class probabilities (``predict_proba``).
    theta : float
        Threshold in [0, 1]; 0 classifies everything, 1 only certain samples.
    y_true : array, optional
        True classes, to report accuracy on the accepted samples.
    classes : array, optional
        Class labels of the probability columns (default 0..n_classes-1).

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.55, 0.45], [0.2, 0.8]])
    >>> r = reject_option(p, 0.7, y_true=np.array([0, 1, 1]))
    >>> r.predictions.tolist(), r.coverage, r.accuracy
    ([0, -1, 1], 0.6666666666666666, 1.0)
    """
    p = check_finite_array(probabilities, "probabilities", ndim=2)
    theta = float(theta)
    if not 0.0 <= theta <= 1.0:
        raise MIInputError(f"theta must be between 0 and 1; got {theta:g}.")
    labels = np.arange(p.shape[1]) if classes is None else np.asarray(classes)
    accepted = p.max(axis=1) >= theta
    predictions = np.where(accepted, labels[p.argmax(axis=1)], -1)
    coverage = float(accepted.mean())
    accuracy = float("nan")
    if y_true is not None and accepted.any():
        accuracy = float(np.mean(predictions[accepted] == np.asarray(y_true)[accepted]))
    return RejectOption(theta, predictions, accepted, coverage, accuracy)
