"""The optimiser's Gaussian process against a linear model trained on the same observations.

The "GP vs linear" tab of lab 04: a white-box linear fit next to the GP, judged on the
candidates not measured yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mi_widgets._errors import MIInputError

if TYPE_CHECKING:  # the optimiser module re-exports this one
    from mi_widgets.bayesopt.optimizer import BayesianOptimizer

__all__ = ["SurrogateComparison", "compare_with_linear"]


@dataclass(frozen=True)
class SurrogateComparison:
    """The GP and an ordinary least-squares linear model, trained on the same observations.

    Attributes
    ----------
    indices : ndarray of int
        The unmeasured candidates both models are judged on.
    truth, gp, linear : ndarray
        True values and the two predictions there.
    rmse_gp, rmse_linear : float
        Root-mean-square errors.
    intercept : float
    coefficients : tuple of float
        The linear model: value = intercept + sum(coefficients * features), in the
        units of the candidate features (the "white box").
    """

    indices: np.ndarray
    truth: np.ndarray
    gp: np.ndarray
    linear: np.ndarray
    rmse_gp: float
    rmse_linear: float
    intercept: float
    coefficients: tuple[float, ...]


def compare_with_linear(optimizer: BayesianOptimizer, truth: Any) -> SurrogateComparison:
    """Judge the optimiser's GP against a linear model fitted to the same observations.

    Parameters
    ----------
    optimizer : BayesianOptimizer
        With at least two observations.
    truth : array_like, shape (N,)
        The true value of every candidate (NaN where unknown: those are skipped).

    Returns
    -------
    SurrogateComparison

    Examples
    --------
    >>> from mi_widgets.bayesopt import BayesianOptimizer
    >>> x = np.linspace(0, 1, 50)
    >>> bo = BayesianOptimizer(x, random_state=0)
    >>> bo.tell([0, 10, 25, 40, 49], np.sin(6 * x[[0, 10, 25, 40, 49]]))
    >>> c = compare_with_linear(bo, np.sin(6 * x))
    >>> bool(c.rmse_gp < c.rmse_linear)
    True
    """
    from sklearn.linear_model import LinearRegression

    truth = np.asarray(truth, dtype=float).reshape(-1)
    if truth.size != optimizer.n_candidates:
        raise MIInputError(
            f"truth has {truth.size} values for {optimizer.n_candidates} candidates."
        )
    if optimizer.n_observations < 2:
        raise MIInputError("Comparing models needs at least two observations; step first.")
    x = optimizer.candidates
    model = LinearRegression().fit(x[optimizer.observed_indices_], optimizer.observed_values_)
    held = np.flatnonzero(~optimizer.measured_mask & np.isfinite(truth))
    gp = optimizer.predict(return_std=False)[held]
    linear = model.predict(x[held])
    t = truth[held]
    return SurrogateComparison(
        indices=held,
        truth=t,
        gp=gp,
        linear=linear,
        rmse_gp=float(np.sqrt(np.mean((gp - t) ** 2))) if held.size else float("nan"),
        rmse_linear=float(np.sqrt(np.mean((linear - t) ** 2))) if held.size else float("nan"),
        intercept=float(model.intercept_),
        coefficients=tuple(float(c) for c in model.coef_),
    )
