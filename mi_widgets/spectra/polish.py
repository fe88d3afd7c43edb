"""The least-squares stage of a peak fit: polish, single-peak restarts, BIC.

After EM, :func:`~mi_widgets.spectra.single.fit_peaks` refines the solution with
:func:`scipy.optimize.least_squares` inside :func:`parameter_bounds` (standard errors from
the Jacobian), then tries moving one peak at a time (re-seeded at the largest residual, or
split off the broadest) while that lowers the residual; :func:`bic` scores the result.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import least_squares
from scipy.special import gammaln

from mi_widgets._threads import one_blas_thread
from mi_widgets.spectra import model as pm
from mi_widgets.spectra.em import EMGrid
from mi_widgets.spectra.results import PeakModel

__all__ = ["bic", "parameter_bounds"]

#: model evaluations of the short polish that judges a restarted peak
_RESTART_NFEV = 60


def parameter_bounds(
    x: np.ndarray, model: PeakModel, grid: EMGrid
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of every parameter in the least-squares polish.

    Centres stay on the data and widths at or above one channel spacing: a peak outside
    the spectrum or narrower than a channel is not a peak the data can show.
    """
    lower = np.tile([x[0], 0.5 * grid.min_fwhm, 0.0, 0.0], model.n_peaks)
    upper = np.tile([x[-1], grid.max_fwhm, np.inf, 1.0], model.n_peaks)
    n_bg = len(model.background_names)
    return np.r_[lower, np.full(n_bg, -np.inf)], np.r_[upper, np.full(n_bg, np.inf)]


def _polish_one(
    x: np.ndarray,
    y: np.ndarray,
    params: np.ndarray,
    model: PeakModel,
    grid: EMGrid,
    max_nfev: int = 2000,
) -> tuple[np.ndarray, np.ndarray]:
    """scipy least squares from the EM solution; returns parameters and their covariance."""
    free = model.free
    lower, upper = parameter_bounds(x, model, grid)
    start = np.clip(params, lower, upper)
    eps = 1e-9 * (np.abs(start) + 1.0)
    start = np.where(free, np.clip(start, lower + eps, upper - eps), start)

    def full(p_free: np.ndarray) -> np.ndarray:
        p = start.copy()
        p[free] = p_free
        return p

    def residual(p_free: np.ndarray) -> np.ndarray:
        return model.curve(x, full(p_free)) - y

    def jac(p_free: np.ndarray) -> np.ndarray:
        return model.jacobian(x, full(p_free))[:, free]

    with one_blas_thread():
        fit = least_squares(
            residual,
            start[free],
            jac=jac,
            bounds=(lower[free], upper[free]),
            method="trf",
            x_scale="jac",
            ftol=1e-12,
            xtol=1e-12,
            gtol=1e-12,
            max_nfev=max_nfev,
        )
    j = fit.jac
    dof = max(x.size - int(free.sum()), 1)
    s2 = 2.0 * fit.cost / dof
    cov_free = np.linalg.pinv(j.T @ j) * s2
    cov = np.zeros((params.size, params.size))
    cov[np.ix_(free, free)] = cov_free
    return full(fit.x), cov


def _restart_moves(x: np.ndarray, y: np.ndarray, params: np.ndarray, model: PeakModel):
    """Starts that replace one peak: re-seeded at the largest residual, or split off the broadest.

    A fit can be stuck with one peak doing nothing useful (parked on a shoulder of
    another, or spread out as background) while two true peaks share one broad
    component; moving that one peak is what plain local search cannot do.
    """
    n_peaks = model.n_peaks
    center, fwhm, area, eta, bg = (a.copy() for a in pm.split(params, n_peaks))
    residual = gaussian_filter1d(y - model.curve(x, params), 2.0)
    top = int(np.argmax(residual))
    width = float(np.median(fwhm))
    new_area = max(float(residual[top]), 0.0) * width * 1.064 + 1e-12 * abs(area).sum()
    for j in range(n_peaks):
        c, w, a, e = center.copy(), fwhm.copy(), area.copy(), eta.copy()
        c[j], w[j], a[j], e[j] = x[top], width, new_area, model.default_eta
        yield pm.join(c, w, a, e, bg)
        if n_peaks < 2:
            continue
        others = np.flatnonzero(np.arange(n_peaks) != j)
        k = int(others[np.argmax(fwhm[others])])
        c, w, a, e = center.copy(), fwhm.copy(), area.copy(), eta.copy()
        c[j], c[k] = center[k] - 0.25 * fwhm[k], center[k] + 0.25 * fwhm[k]
        w[j] = w[k] = 0.5 * fwhm[k]
        a[j] = a[k] = 0.5 * area[k]
        e[j] = eta[k]
        yield pm.join(c, w, a, e, bg)


def _restart_components(x, y, params, cov, rss, model: PeakModel, grid: EMGrid, rounds: int = 2):
    """Restart single peaks (see :func:`_restart_moves`) while that lowers the RSS.

    Each move gets a short polish; only the best move is polished to convergence.
    """
    lower, upper = parameter_bounds(x, model, grid)
    for _ in range(rounds):
        best = None
        for start in _restart_moves(x, y, params, model):
            trial, _ = _polish_one(
                x, y, np.clip(start, lower, upper), model, grid, max_nfev=_RESTART_NFEV
            )
            trial_rss = float(np.sum((model.curve(x, trial) - y) ** 2))
            if trial_rss < rss * (1 - 1e-9) and (best is None or trial_rss < best[0]):
                best = (trial_rss, trial)
        if best is None:
            break
        trial, trial_cov = _polish_one(x, y, best[1], model, grid)
        trial_rss = float(np.sum((model.curve(x, trial) - y) ** 2))
        if not trial_rss < rss:
            break
        rss, params, cov = trial_rss, trial, trial_cov
    return params, cov


def _sorted_by_centre(
    params: np.ndarray, cov: np.ndarray | None, n_peaks: int
) -> tuple[np.ndarray, np.ndarray | None]:
    order = np.argsort(params[: 4 * n_peaks : 4])
    index = np.r_[(4 * order[:, None] + np.arange(4)).ravel(), np.arange(4 * n_peaks, params.size)]
    return params[index], None if cov is None else cov[np.ix_(index, index)]


def bic(y: np.ndarray, fitted: np.ndarray, n_free: int) -> float:
    """BIC = -2 log L + p log n: Poisson likelihood for counts, Gaussian (RSS) otherwise.

    Counts (non-negative whole numbers) have a variance that grows with the
    signal; an RSS-based criterion then over-rewards extra peaks on the tall
    parts, so counts get their own likelihood. Otherwise the channels are read
    as Gaussian with one unknown variance, whose maximised likelihood gives
    ``n log(RSS / n)`` up to a constant.
    """
    n = y.size
    if np.all(y >= 0) and np.all(y == np.round(y)):
        mu = np.clip(fitted, 1e-12, None)
        loglik = np.sum(y * np.log(mu) - mu - gammaln(y + 1.0))
        return float(-2.0 * loglik + n_free * np.log(n))
    rss = float(np.sum((y - fitted) ** 2))
    return float(n * np.log(max(rss, 1e-300) / n) + n_free * np.log(n))
