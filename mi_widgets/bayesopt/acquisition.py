"""Acquisition functions: how promising each candidate is, from the posterior mean and sd.

Closed forms for maximisation, vectorised over candidates (EI: Jones, Schonlau and Welch,
J. Glob. Optim. 13, 455 (1998); UCB: Srinivas et al. 2010).
:class:`~mi_widgets.bayesopt.optimizer.BayesianOptimizer` scores its candidates with them;
Thompson sampling, the fourth choice, draws from the posterior instead and lives there.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

__all__ = ["expected_improvement", "probability_of_improvement", "upper_confidence_bound"]

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _z(mean: np.ndarray, std: np.ndarray, best: float, xi: float) -> tuple[np.ndarray, np.ndarray]:
    gain = np.asarray(mean, dtype=float) - best - xi
    std = np.asarray(std, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std > 0, gain / np.where(std > 0, std, 1.0), np.sign(gain) * np.inf)
    return gain, z


def expected_improvement(
    mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """Expected improvement over ``best`` for maximisation (Jones et al. 1998).

    ``EI = (mu - best - xi) Phi(z) + sigma phi(z)``, ``z = (mu - best - xi) / sigma``;
    where ``sigma = 0`` it is ``max(mu - best - xi, 0)``.

    Parameters
    ----------
    mean, std : ndarray
        Posterior mean and standard deviation.
    best : float
        The best value observed so far.
    xi : float, default 0
        Margin that favours exploration.

    Examples
    --------
    >>> float(expected_improvement(np.array([0.0]), np.array([1.0]), 0.0)[0])  # 1/sqrt(2 pi)
    0.3989422804014327
    """
    gain, z = _z(mean, std, best, xi)
    std = np.asarray(std, dtype=float)
    finite = np.isfinite(z)
    zf = np.where(finite, z, 0.0)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * zf * zf)
    ei = np.where(finite, gain * ndtr(zf) + std * pdf, np.maximum(gain, 0.0))
    return np.maximum(ei, 0.0)


def probability_of_improvement(
    mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """Probability that the value exceeds ``best + xi``: ``Phi((mu - best - xi) / sigma)``.

    Examples
    --------
    >>> float(probability_of_improvement(np.array([1.0]), np.array([1.0]), 0.0)[0])
    0.8413447460685429
    """
    _, z = _z(mean, std, best, xi)
    return ndtr(z)


def upper_confidence_bound(mean: np.ndarray, std: np.ndarray, kappa: float = 2.0) -> np.ndarray:
    """Optimistic bound ``mu + kappa sigma`` (Srinivas et al. 2010).

    Examples
    --------
    >>> upper_confidence_bound(np.array([1.0]), np.array([0.5]), kappa=2.0)
    array([2.])
    """
    return np.asarray(mean, dtype=float) + kappa * np.asarray(std, dtype=float)
