"""Fit one spectrum: multi-start EM, least-squares polish, peak count by BIC.

:func:`fit_peaks` runs the batched EM of :mod:`mi_widgets.spectra.em` on one
spectrum: ``n_starts`` starts are a batch of ``n_starts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import least_squares
from scipy.signal import find_peaks, peak_widths
from scipy.special import gammaln

from mi_widgets._errors import (
    MIInputError,
    check_choice,
    check_finite_array,
    check_increasing,
    check_positive_int,
    check_same_length,
)
from mi_widgets._threads import one_blas_thread
from mi_widgets.spectra import model as pm
from mi_widgets.spectra.em import (
    N_BACKGROUND_COMPONENTS,
    EMGrid,
    EMState,
    params_to_state,
    run_em,
    state_to_params,
)
from mi_widgets.spectra.results import (
    MAX_PEAKS,
    BackgroundFit,
    EMHistory,
    PeakFitResult,
    PeakModel,
    PeakTable,
)
from mi_widgets.spectra.shapes import unit_height

__all__ = ["fit_peaks", "least_squares_from", "random_start"]

_INITIAL_BACKGROUND_SHARE = 0.2
_SHORT_RUN = 40


# ---------------------------------------------------------------- validation
def check_spectrum(x: Any, y: Any, ndim: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """x (strictly increasing) and y (one spectrum, or a stack when ``ndim`` is 2) as arrays."""
    x = check_finite_array(x, "x", ndim=1, min_size=3)
    y = check_finite_array(y, "y" if ndim == 1 else "spectra", ndim=ndim, min_size=3)
    check_same_length(x=x, y=y if ndim == 1 else y[0])
    check_increasing(x)
    return x, y


def em_weights(y: np.ndarray, dx: np.ndarray, what: str = "y") -> np.ndarray:
    """Channel weights for EM: negative intensities (noise) count as zero."""
    weights = np.clip(y, 0.0, None) * dx
    empty = ~(weights.sum(axis=-1) > 0)
    if np.any(empty):
        where = "" if y.ndim == 1 else f" (spectrum {int(np.flatnonzero(empty)[0])})"
        raise MIInputError(
            f"{what}{where} has no positive intensity; EM needs a spectrum with counts."
        )
    return weights


# ---------------------------------------------------------------- starts
def _detected_peaks(x: np.ndarray, y: np.ndarray, n_peaks: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres and FWHMs of the most prominent maxima of the smoothed spectrum."""
    smooth = gaussian_filter1d(y, 2.0)
    index, props = find_peaks(smooth, prominence=0.0)
    order = np.argsort(props["prominences"])[::-1][:n_peaks]
    index = np.sort(index[order])
    if index.size == 0:
        return np.empty(0), np.empty(0)
    widths = peak_widths(smooth, index, rel_height=0.5)[0] * float(np.median(np.diff(x)))
    return x[index], np.maximum(widths, 2.0 * float(np.median(np.diff(x))))


def _starting_states(
    grid: EMGrid,
    weights: np.ndarray,
    model: PeakModel,
    n_starts: int,
    init: np.ndarray | None,
    rng: np.random.Generator,
) -> EMState:
    """Multi-start initial states for one spectrum: detected maxima, then random draws.

    ``init`` is either K starting centres or a full parameter vector.
    """
    x, n_peaks = grid.x, model.n_peaks
    if init is not None and init.size == model.n_params:
        return params_to_state(grid, init[None, :], n_peaks, model.background)
    span = float(x[-1] - x[0])
    centers = np.empty((n_starts, n_peaks))
    fwhms = np.empty((n_starts, n_peaks))
    probability = weights / weights.sum()
    if init is not None:
        centers[0] = np.sort(init)
        fwhms[0] = _width_near(grid, centers[0], n_peaks)
    else:
        found_c, found_w = _detected_peaks(x, weights / grid.dx, n_peaks)
        extra = n_peaks - found_c.size
        centers[0] = np.sort(np.concatenate([found_c, rng.choice(x, extra, p=probability)]))
        fwhms[0] = np.concatenate([found_w, np.full(extra, span / (3 * n_peaks))])
    for s in range(1, n_starts):
        centers[s] = np.sort(
            rng.choice(x, n_peaks, p=probability) + rng.normal(0, 0.01 * span, n_peaks)
        )
        fwhms[s] = span / (2.0 * n_peaks) * rng.uniform(0.3, 1.0, n_peaks)
    fwhms = np.clip(fwhms, grid.min_fwhm, grid.max_fwhm)
    total = weights.sum()
    n_bg = N_BACKGROUND_COMPONENTS[model.background]
    bg_share = _INITIAL_BACKGROUND_SHARE if n_bg else 0.0
    mass = np.concatenate(
        [
            np.full(n_peaks, total * (1 - bg_share) / n_peaks),
            np.full(n_bg, total * bg_share / max(n_bg, 1)),
        ]
    )
    return EMState(
        centers,
        fwhms,
        np.full((n_starts, n_peaks), model.default_eta),
        np.tile(mass, (n_starts, 1)),
        np.zeros(n_starts),
    )


def _width_near(grid: EMGrid, centers: np.ndarray, n_peaks: int) -> np.ndarray:
    """A starting FWHM for user-picked centres: a fraction of the spacing between them."""
    span = float(grid.x[-1] - grid.x[0])
    if n_peaks == 1:
        return np.full(1, span / 6.0)
    gaps = np.diff(np.sort(centers))
    nearest = np.minimum(np.r_[np.inf, gaps], np.r_[gaps, np.inf])
    return np.clip(nearest, grid.min_fwhm, span / 3.0)


# ---------------------------------------------------------------- polish
def parameter_bounds(
    x: np.ndarray, model: PeakModel, grid: EMGrid
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of every parameter in the least-squares polish."""
    span = float(x[-1] - x[0])
    lower = np.tile([x[0] - 0.5 * span, 0.5 * grid.min_fwhm, 0.0, 0.0], model.n_peaks)
    upper = np.tile([x[-1] + 0.5 * span, grid.max_fwhm, np.inf, 1.0], model.n_peaks)
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


# ---------------------------------------------------------------- fit_peaks
def fit_peaks(
    x: Any,
    y: Any,
    n_peaks: int | str,
    *,
    shape: str = "pseudo_voigt",
    background: str = "linear",
    init: Sequence[float] | Mapping[str, Any] | PeakFitResult | None = None,
    n_starts: int = 10,
    max_iter: int = 500,
    tol: float = 1e-7,
    polish: bool = True,
    max_peaks: int = 6,
    random_state: int | np.random.Generator | None = None,
) -> PeakFitResult:
    """Fit peaks to one spectrum by intensity-weighted EM, then least squares.

    The spectrum is read as a histogram (weights ``y_i * dx_i``) and fitted
    as a mixture of peaks and background components by EM from
    ``n_starts`` starts (the most prominent maxima, then random draws); the
    start with the best log-likelihood wins. ``polish`` then refines it with
    :func:`scipy.optimize.least_squares` and gives standard errors from the
    Jacobian. Negative intensities (noise after a background subtraction)
    count as zero weight in EM; the polish fits ``y`` as given.

    Parameters
    ----------
    x : array_like, shape (C,)
        Channel positions, strictly increasing (e.g. eV).
    y : array_like, shape (C,)
        Intensities (any unit; areas come out in y units x x units).
    n_peaks : int or "auto"
        Number of peaks; ``"auto"`` tries 1..``max_peaks`` and keeps the lowest BIC
        (see :attr:`PeakFitResult.bic` for the likelihood it uses).
    shape : {"pseudo_voigt", "gaussian", "lorentzian"}
        Peak profile. For pseudo-Voigt, ``eta`` is the Lorentzian fraction
        (lmfit's ``fraction``).
    background : {"linear", "none", "uniform", "exponential", "shirley"}
        Background component(s), fitted inside the model. The Shirley
        background's shape is recomputed from the current peaks at every EM
        iteration and in the polish.
    init : sequence of float, mapping or PeakFitResult, optional
        Starting centres (x units), e.g. picked by hand; or a mapping with
        ``center``, ``fwhm``, ``area`` (or ``height``), optionally ``eta`` and
        ``background`` (a dict of background parameters); or a previous fit.
        Then only this start is run.
    n_starts : int, default 10
        Number of EM starts when ``init`` is None.
    max_iter : int, default 500
        Maximum EM iterations.
    tol : float, default 1e-7
        EM stops when the log-likelihood gain per unit weight falls below this.
    polish : bool, default True
        Refine by least squares and compute standard errors.
    max_peaks : int, default 6
        Largest count tried with ``n_peaks="auto"``.
    random_state : int or numpy.random.Generator, optional
        Seed for the random starts.

    Returns
    -------
    PeakFitResult

    Raises
    ------
    MIInputError
        For NaN / inf, x not strictly increasing, lengths that differ, an
        all-zero spectrum, too many peaks or too few channels.

    Examples
    --------
    >>> from mi_widgets.spectra import make_spectrum
    >>> x, y, truth = make_spectrum(n_peaks=2, random_state=0)
    >>> fit = fit_peaks(x, y, 2, random_state=0)
    >>> bool(np.allclose(fit.peaks.center, truth.center, atol=0.5))
    True
    """
    check_choice(shape, "shape", pm.SHAPES)
    check_choice(background, "background", pm.BACKGROUNDS)
    x, y = check_spectrum(x, y)
    rng = np.random.default_rng(random_state)
    options = {"max_iter": max_iter, "tol": tol, "polish": polish, "rng": rng}
    if isinstance(n_peaks, str):
        check_choice(n_peaks, "n_peaks", ["auto"])
        check_positive_int(max_peaks, "max_peaks", maximum=MAX_PEAKS)
        check_positive_int(n_starts, "n_starts", maximum=1000)
        check_positive_int(max_iter, "max_iter")
        return _fit_auto(x, y, shape, background, max_peaks, n_starts=n_starts, **options)
    model = PeakModel(n_peaks, shape, background)
    model.check_channels(x.size)
    check_positive_int(n_starts, "n_starts", maximum=1000)
    check_positive_int(max_iter, "max_iter")
    if init is not None:
        init = init_vector(init, model)
        n_starts = 1
    return _fit_one(x, y, model, init=init, n_starts=n_starts, **options)


def _multi_start_em(grid, weights, start, model: PeakModel, max_iter, tol):
    """Short runs from every start, then the best one continues to convergence.

    Running all starts to convergence is wasted work: after a few tens of
    iterations the start that will win is almost always ahead (the
    "short-run EM" initialisation of Biernacki, Celeux & Govaert 2003).
    Returns the final state (batch of one), its log-likelihood, iterations,
    convergence and the winner's path as (state, loglik) frames.
    """
    shape, background = model.shape, model.background
    n_starts = start.center.shape[0]
    burn = max_iter if n_starts == 1 else min(max_iter, _SHORT_RUN)
    tiled = np.tile(weights, (n_starts, 1))
    first = run_em(grid, tiled, start, shape, background, max_iter=burn, tol=tol, record=True)
    best = int(np.argmax(np.where(np.isfinite(first.loglik), first.loglik, -np.inf)))
    pick = np.array([best])
    frames = [(s.take(pick), float(ll[best])) for s, ll in first.history]
    state, n_iter = first.state.take(pick), int(first.n_iter[best])
    converged, loglik = bool(first.converged[best]), float(first.loglik[best])
    if not converged and burn < max_iter:
        rest = run_em(
            grid,
            weights[None, :],
            state,
            shape,
            background,
            max_iter=max_iter - burn,
            tol=tol,
            record=True,
        )
        frames = frames[:-1] + [(s, float(ll[0])) for s, ll in rest.history]
        state, n_iter = rest.state, n_iter + int(rest.n_iter[0])
        converged, loglik = bool(rest.converged[0]), float(rest.loglik[0])
    return state, loglik, n_iter, converged, frames


def init_vector(init: Any, model: PeakModel) -> np.ndarray:
    """Starting centres (K,), or a full parameter vector from a mapping of start values."""
    n_peaks = model.n_peaks
    if isinstance(init, PeakFitResult):
        model.check_same(init.peak_model)
        return init.params.copy()
    if not isinstance(init, Mapping):
        centres = check_finite_array(init, "init", ndim=1)
        if centres.size == model.n_params:
            return centres  # a full parameter vector
        if centres.size != n_peaks:
            raise MIInputError(
                f"init gives {centres.size} starting centres for {n_peaks} peaks; "
                "give one per peak."
            )
        return centres
    needed = {"center", "fwhm"} | ({"area"} if "height" not in init else {"height"})
    missing = sorted(needed - set(init))
    if missing:
        raise MIInputError(
            f"init is missing {', '.join(missing)}; give center, fwhm and area (or height)."
        )
    center = check_finite_array(init["center"], "init center", ndim=1)
    fwhm = check_finite_array(init["fwhm"], "init fwhm", ndim=1)
    eta = check_finite_array(
        init.get("eta", np.full(n_peaks, model.default_eta)), "init eta", ndim=1
    )
    if "height" in init:
        area = check_finite_array(init["height"], "init height", ndim=1) / unit_height(fwhm, eta)
    else:
        area = check_finite_array(init["area"], "init area", ndim=1)
    if not center.size == fwhm.size == area.size == eta.size == n_peaks:
        raise MIInputError(f"init must give {n_peaks} values for each peak parameter.")
    given = init.get("background", {})
    bg = np.array([float(given.get(name, 0.0)) for name in model.background_names])
    return pm.join(center, fwhm, area, eta, bg)


def _fit_one(
    x: np.ndarray,
    y: np.ndarray,
    model: PeakModel,
    *,
    init: np.ndarray | None,
    n_starts: int,
    max_iter: int,
    tol: float,
    polish: bool,
    rng: np.random.Generator,
) -> PeakFitResult:
    grid = EMGrid.from_x(x)
    weights = em_weights(y, grid.dx)
    start = _starting_states(grid, weights, model, n_starts, init, rng)
    # the products in EM are small: threaded BLAS only adds overhead (10x under load)
    with one_blas_thread():
        state, loglik, n_iter, converged, frames = _multi_start_em(
            grid, weights, start, model, max_iter, tol
        )
    em_params = state_to_params(grid, state, model.background)[0]
    history = EMHistory(
        params=np.concatenate([state_to_params(grid, s, model.background) for s, _ in frames]),
        loglik=np.array([ll for _, ll in frames]),
    )
    cov = None
    params = em_params
    if polish:
        params, cov = _polish_one(x, y, em_params, model, grid)
    params, cov = _sorted_by_centre(params, cov, model.n_peaks)
    fitted = model.curve(x, params)
    return PeakFitResult(
        peaks=PeakTable.from_params(params, model.n_peaks, cov),
        background=BackgroundFit.from_params(params, model, cov, float(x[0])),
        loglik=loglik,
        bic=bic(y, fitted, model.n_free),
        rss=float(np.sum((fitted - y) ** 2)),
        n_iter=n_iter,
        converged=converged,
        history=history,
        params=params,
        em_params=em_params,
        shape=model.shape,
        background_kind=model.background,
        polished=polish,
    )


def _fit_auto(x, y, shape, background, max_peaks, **options) -> PeakFitResult:
    fits = {}
    for n in range(1, max_peaks + 1):
        model = PeakModel(n, shape, background)
        if x.size <= model.n_free:
            break
        fits[n] = _fit_one(x, y, model, init=None, **options)
    if not fits:
        PeakModel(1, shape, background).check_channels(x.size)
    scores = {n: f.bic for n, f in fits.items()}
    best = min(scores, key=scores.get)
    return replace(fits[best], bic_by_n_peaks=scores)


# ---------------------------------------------------------------- teaching helpers
def random_start(
    x: Any, n_peaks: int, *, random_state: int | np.random.Generator | None = None
) -> np.ndarray:
    """Starting centres drawn uniformly over the axis (a deliberately naive start).

    Examples
    --------
    >>> random_start(np.linspace(0, 10, 11), 2, random_state=0).shape
    (2,)
    """
    x = check_finite_array(x, "x", ndim=1, min_size=3)
    check_positive_int(n_peaks, "n_peaks", maximum=MAX_PEAKS)
    rng = np.random.default_rng(random_state)
    span = x[-1] - x[0]
    return np.sort(rng.uniform(x[0] + 0.05 * span, x[-1] - 0.05 * span, n_peaks))


def least_squares_from(
    x: Any,
    y: Any,
    start: np.ndarray,
    n_peaks: int,
    *,
    shape: str = "pseudo_voigt",
    background: str = "linear",
    max_nfev: int = 2000,
) -> np.ndarray:
    """Plain least squares (scipy, trust-region) from a given parameter vector.

    What a user of a least-squares-only tool gets from the same start as EM;
    the EM player shows both side by side.

    Parameters
    ----------
    x, y : array_like
        The spectrum.
    start : numpy.ndarray
        Starting parameter vector (see :mod:`mi_widgets.spectra.model`), e.g.
        ``result.history.params[0]``.
    n_peaks : int
        Number of peaks.
    shape, background : str
        As in :func:`fit_peaks`.
    max_nfev : int, default 2000
        Largest number of model evaluations.

    Returns
    -------
    numpy.ndarray
        The final parameter vector, peaks sorted by centre.

    Examples
    --------
    >>> from mi_widgets.spectra import make_spectrum
    >>> x, y, truth = make_spectrum(1, random_state=0)
    >>> p = least_squares_from(x, y, truth.params, 1)
    >>> bool(abs(p[0] - truth.center[0]) < 0.1)
    True
    """
    check_choice(shape, "shape", pm.SHAPES)
    check_choice(background, "background", pm.BACKGROUNDS)
    x, y = check_spectrum(x, y)
    model = PeakModel(n_peaks, shape, background)
    start = check_finite_array(start, "start", ndim=1)
    if start.size != model.n_params:
        raise MIInputError(
            f"start has {start.size} values; {n_peaks} peaks with a {background} background "
            f"need {model.n_params}."
        )
    check_positive_int(max_nfev, "max_nfev")
    params, _ = _polish_one(x, y, start, model, EMGrid.from_x(x), max_nfev)
    return _sorted_by_centre(params, None, n_peaks)[0]
