"""Peak fitting: multi-start EM, least-squares polish, peak count by BIC, batches of spectra.

:func:`fit_peaks` fits one spectrum; :func:`fit_many` fits many spectra on a
common axis. Both run the same batched EM (:mod:`mi_widgets.spectra.em`):
one spectrum with ``n_starts`` random starts is a batch of ``n_starts``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
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
from mi_widgets.spectra.shapes import unit_height

__all__ = [
    "BackgroundFit",
    "BatchFitResult",
    "EMHistory",
    "PeakFitResult",
    "PeakTable",
    "fit_many",
    "fit_peaks",
]

MAX_PEAKS = 20
_INITIAL_BACKGROUND_SHARE = 0.2
_SHORT_RUN = 40
_BLOCK = 32
#: batched LM stops when an accepted step lowers the RSS by less than this fraction
_LM_GAIN = 1e-8


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class PeakTable:
    """Fitted peaks: arrays of length K, each with its standard error (``*_err``).

    ``eta`` is the Lorentzian fraction (lmfit's ``fraction``); ``height`` is
    the peak maximum of the profile, ``area`` its integral (y units x x units).
    Errors are NaN when the fit was not polished.
    """

    center: np.ndarray
    fwhm: np.ndarray
    area: np.ndarray
    height: np.ndarray
    eta: np.ndarray
    center_err: np.ndarray
    fwhm_err: np.ndarray
    area_err: np.ndarray
    height_err: np.ndarray
    eta_err: np.ndarray

    def rows(self) -> list[dict[str, float]]:
        """One dict per peak, for display."""
        names = ("center", "fwhm", "area", "height", "eta")
        out = []
        for k in range(self.center.size):
            row = {}
            for name in names:
                row[name] = float(getattr(self, name)[k])
                row[name + "_err"] = float(getattr(self, name + "_err")[k])
            out.append(row)
        return out


@dataclass(frozen=True)
class BackgroundFit:
    """Fitted background: its kind, parameters and their standard errors.

    See :mod:`mi_widgets.spectra.model` for the formula of each kind; every
    formula uses ``x0``, the first channel position, which is stored too.
    """

    kind: str
    params: dict[str, float]
    errors: dict[str, float]
    x0: float


@dataclass(frozen=True)
class EMHistory:
    """Parameters and log-likelihood at every EM iteration (index 0 = the start).

    ``params[t]`` is a least-squares parameter vector (see
    :mod:`mi_widgets.spectra.model`), so ``model.model(x, params[t], ...)``
    draws the model at iteration ``t``.
    """

    params: np.ndarray
    loglik: np.ndarray

    @property
    def n_frames(self) -> int:
        return int(self.loglik.size)


@dataclass(frozen=True)
class PeakFitResult:
    """The fit of one spectrum.

    Attributes
    ----------
    peaks : PeakTable
        Centre, FWHM, area, height, eta and their standard errors.
    background : BackgroundFit
        The background kind, parameters and errors.
    loglik : float
        Intensity-weighted log-likelihood of the final EM solution,
        ``sum_i w_i log p(x_i)``.
    bic : float
        Bayesian information criterion ``-2 log L + p log n`` of the final
        model: Poisson likelihood when y are counts (non-negative whole
        numbers), else Gaussian, ``n log(RSS / n) + p log n``.
    rss : float
        Residual sum of squares of the final model (y units squared).
    n_iter : int
        EM iterations of the best start.
    converged : bool
        Whether EM met its tolerance before ``max_iter``.
    history : EMHistory
        The best start's EM path (what :class:`EMPlayer` replays).
    params : numpy.ndarray
        The final parameter vector; ``em_params`` is the one EM returned.
    bic_by_n_peaks : dict
        With ``n_peaks="auto"``: the BIC for every count tried.
    """

    peaks: PeakTable
    background: BackgroundFit
    loglik: float
    bic: float
    rss: float
    n_iter: int
    converged: bool
    history: EMHistory
    params: np.ndarray
    em_params: np.ndarray
    shape: str
    background_kind: str
    polished: bool
    bic_by_n_peaks: dict[int, float] = field(default_factory=dict)

    @property
    def n_peaks(self) -> int:
        return int(self.peaks.center.size)

    def model(self, x: Any) -> np.ndarray:
        """The fitted spectrum (peaks + background) at positions x."""
        return pm.model(np.asarray(x, dtype=float), self.params, self.n_peaks, self.background_kind)

    def components(self, x: Any) -> np.ndarray:
        """Each fitted peak at positions x, shape (K, len(x))."""
        return pm.peak_components(np.asarray(x, dtype=float), self.params, self.n_peaks)

    def background_curve(self, x: Any) -> np.ndarray:
        """The fitted background at positions x."""
        x = np.asarray(x, dtype=float)
        return pm.background_curve(x, self.params, self.n_peaks, self.background_kind)


# ---------------------------------------------------------------- validation
def _check_options(shape: str, background: str) -> None:
    check_choice(shape, "shape", pm.SHAPES)
    check_choice(background, "background", pm.BACKGROUNDS)


def _check_axis_and_values(x: Any, y: Any, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    x = check_finite_array(x, "x", ndim=1, min_size=3)
    y = check_finite_array(y, "y", ndim=ndim, min_size=3)
    check_same_length(x=x, y=y if ndim == 1 else y[0])
    check_increasing(x)
    return x, y


def _check_counts(n_channels: int, n_peaks: int, shape: str, background: str) -> None:
    check_positive_int(n_peaks, "n_peaks", maximum=MAX_PEAKS)
    n_free = int(pm.free_mask(n_peaks, shape, background).sum())
    if n_channels <= n_free:
        raise MIInputError(
            f"{n_peaks} peaks with a {background} background need more than {n_free} channels; "
            f"the spectrum has {n_channels}: use fewer peaks or more channels."
        )


def _em_weights(y: np.ndarray, dx: np.ndarray, what: str = "y") -> np.ndarray:
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
    n_peaks: int,
    shape: str,
    background: str,
    n_starts: int,
    init: np.ndarray | None,
    rng: np.random.Generator,
) -> EMState:
    """Multi-start initial states for one spectrum: detected maxima, then random draws.

    ``init`` is either K starting centres or a full parameter vector.
    """
    x = grid.x
    if init is not None and init.size == pm.n_params(n_peaks, background):
        return params_to_state(grid, init[None, :], n_peaks, background)
    span = float(x[-1] - x[0])
    centers = np.empty((n_starts, n_peaks))
    fwhms = np.empty((n_starts, n_peaks))
    if init is not None:
        centers[0] = np.sort(init)
        fwhms[0] = _width_near(grid, weights, centers[0], n_peaks)
    else:
        found_c, found_w = _detected_peaks(x, weights / grid.dx, n_peaks)
        extra = n_peaks - found_c.size
        probability = weights / weights.sum()
        centers[0] = np.sort(np.concatenate([found_c, rng.choice(x, extra, p=probability)]))
        fwhms[0] = np.concatenate([found_w, np.full(extra, span / (3 * n_peaks))])
    for s in range(1, n_starts):
        probability = weights / weights.sum()
        centers[s] = np.sort(
            rng.choice(x, n_peaks, p=probability) + rng.normal(0, 0.01 * span, n_peaks)
        )
        fwhms[s] = span / (2.0 * n_peaks) * rng.uniform(0.3, 1.0, n_peaks)
    fwhms = np.clip(fwhms, grid.min_fwhm, grid.max_fwhm)
    eta = {"gaussian": 0.0, "lorentzian": 1.0, "pseudo_voigt": 0.5}[shape]
    total = weights.sum()
    n_bg = N_BACKGROUND_COMPONENTS[background]
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
        np.full((n_starts, n_peaks), eta),
        np.tile(mass, (n_starts, 1)),
        np.zeros(n_starts),
    )


def _width_near(grid: EMGrid, weights: np.ndarray, centers: np.ndarray, n_peaks: int) -> np.ndarray:
    """A starting FWHM for user-picked centres: a fraction of the spacing between them."""
    span = float(grid.x[-1] - grid.x[0])
    if n_peaks == 1:
        return np.full(1, span / 6.0)
    gaps = np.diff(np.sort(centers))
    nearest = np.minimum(np.r_[np.inf, gaps], np.r_[gaps, np.inf])
    return np.clip(nearest, grid.min_fwhm, span / 3.0)


# ---------------------------------------------------------------- polish
def _bounds(
    x: np.ndarray, n_peaks: int, background: str, grid: EMGrid
) -> tuple[np.ndarray, np.ndarray]:
    span = float(x[-1] - x[0])
    lower = np.tile([x[0] - 0.5 * span, 0.5 * grid.min_fwhm, 0.0, 0.0], n_peaks)
    upper = np.tile([x[-1] + 0.5 * span, grid.max_fwhm, np.inf, 1.0], n_peaks)
    n_bg = len(pm.BACKGROUND_PARAMS[background])
    return np.r_[lower, np.full(n_bg, -np.inf)], np.r_[upper, np.full(n_bg, np.inf)]


def _polish_one(
    x: np.ndarray,
    y: np.ndarray,
    params: np.ndarray,
    n_peaks: int,
    shape: str,
    background: str,
    grid: EMGrid,
    max_nfev: int = 2000,
) -> tuple[np.ndarray, np.ndarray]:
    """scipy least squares from the EM solution; returns parameters and their covariance."""
    free = pm.free_mask(n_peaks, shape, background)
    lower, upper = _bounds(x, n_peaks, background, grid)
    start = np.clip(params, lower, upper)
    eps = 1e-9 * (np.abs(start) + 1.0)
    start = np.where(free, np.clip(start, lower + eps, upper - eps), start)

    def full(p_free: np.ndarray) -> np.ndarray:
        p = start.copy()
        p[free] = p_free
        return p

    def residual(p_free: np.ndarray) -> np.ndarray:
        return pm.model(x, full(p_free), n_peaks, background) - y

    def jac(p_free: np.ndarray) -> np.ndarray:
        return pm.jacobian(x, full(p_free), n_peaks, background)[:, free]

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


def _peak_table(params: np.ndarray, n_peaks: int, cov: np.ndarray | None) -> PeakTable:
    center, fwhm, area, eta, _ = pm.split(params, n_peaks)
    height = area * unit_height(fwhm, eta)
    if cov is None:
        nan = np.full(n_peaks, np.nan)
        return PeakTable(center, fwhm, area, height, eta, nan, nan, nan, nan, nan)
    var = np.diag(cov)[: 4 * n_peaks].reshape(n_peaks, 4)
    err = np.sqrt(np.maximum(var, 0.0))
    height_err = np.empty(n_peaks)
    for k in range(n_peaks):  # delta method; K is small
        h = 1e-7 * np.abs(params[4 * k : 4 * k + 4]) + 1e-12
        grad = np.zeros(4)
        for j in (1, 2, 3):
            step = np.zeros(4)
            step[j] = h[j]
            hi = params[4 * k : 4 * k + 4] + step
            lo = params[4 * k : 4 * k + 4] - step
            grad[j] = (hi[2] * unit_height(hi[1], hi[3]) - lo[2] * unit_height(lo[1], lo[3])) / (
                2 * h[j]
            )
        block = cov[4 * k : 4 * k + 4, 4 * k : 4 * k + 4]
        height_err[k] = np.sqrt(max(grad @ block @ grad, 0.0))
    return PeakTable(
        center, fwhm, area, height, eta, err[:, 0], err[:, 1], err[:, 2], height_err, err[:, 3]
    )


def _background_fit(
    params: np.ndarray, n_peaks: int, background: str, cov: np.ndarray | None, x0: float
) -> BackgroundFit:
    names = pm.BACKGROUND_PARAMS[background]
    values = params[4 * n_peaks :]
    if cov is None:
        errors = {n: float("nan") for n in names}
    else:
        var = np.diag(cov)[4 * n_peaks :]
        errors = {n: float(np.sqrt(max(v, 0.0))) for n, v in zip(names, var, strict=True)}
    return BackgroundFit(
        background, {n: float(v) for n, v in zip(names, values, strict=True)}, errors, x0
    )


def _bic(y: np.ndarray, fitted: np.ndarray, n_free: int) -> float:
    """BIC = -2 log L + p log n: Poisson likelihood for counts, Gaussian (RSS) otherwise.

    Counts (non-negative whole numbers) have a variance that grows with the
    signal; an RSS-based criterion then over-rewards extra peaks on the tall
    parts, so counts get their own likelihood.
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
    as a mixture of peaks and fixed-shape background components by EM from
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
        Number of peaks; ``"auto"`` tries 1..``max_peaks`` and keeps the lowest BIC.
    shape : {"pseudo_voigt", "gaussian", "lorentzian"}
        Peak profile. For pseudo-Voigt, ``eta`` is the Lorentzian fraction
        (lmfit's ``fraction``).
    background : {"linear", "none", "uniform", "exponential", "shirley"}
        Background component(s), fitted inside the model (Shirley iterated).
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
    _check_options(shape, background)
    x, y = _check_axis_and_values(x, y, ndim=1)
    rng = np.random.default_rng(random_state)
    if isinstance(n_peaks, str):
        check_choice(n_peaks, "n_peaks", ["auto"])
        check_positive_int(max_peaks, "max_peaks", maximum=MAX_PEAKS)
        return _fit_auto(x, y, shape, background, n_starts, max_iter, tol, polish, max_peaks, rng)
    _check_counts(x.size, n_peaks, shape, background)
    check_positive_int(n_starts, "n_starts", maximum=1000)
    check_positive_int(max_iter, "max_iter")
    if init is not None:
        init = _init_vector(init, n_peaks, shape, background)
        n_starts = 1
    return _fit_one(x, y, n_peaks, shape, background, init, n_starts, max_iter, tol, polish, rng)


def _multi_start_em(grid, weights, start, shape, background, max_iter, tol):
    """Short runs from every start, then the best one continues to convergence.

    Running all starts to convergence is wasted work: after a few tens of
    iterations the start that will win is almost always ahead (the
    "short-run EM" initialisation of Biernacki, Celeux & Govaert 2003).
    Returns the final state (batch of one), its log-likelihood, iterations,
    convergence and the winner's path as (state, loglik) frames.
    """
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


def _check_same_model(fit: PeakFitResult, n_peaks: int, shape: str, background: str) -> None:
    if (fit.n_peaks, fit.shape, fit.background_kind) != (n_peaks, shape, background):
        raise MIInputError(
            f"init was fitted with {fit.n_peaks} {fit.shape} peaks on a {fit.background_kind} "
            f"background; use the same options ({n_peaks} {shape} peaks, {background})."
        )


def _init_vector(init: Any, n_peaks: int, shape: str, background: str) -> np.ndarray:
    """Starting centres (K,), or a full parameter vector from a mapping of start values."""
    if isinstance(init, PeakFitResult):
        _check_same_model(init, n_peaks, shape, background)
        return init.params.copy()
    if not isinstance(init, Mapping):
        centres = check_finite_array(init, "init", ndim=1)
        if centres.size == pm.n_params(n_peaks, background):
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
    default_eta = {"gaussian": 0.0, "lorentzian": 1.0}.get(shape, 0.5)
    eta = check_finite_array(init.get("eta", np.full(n_peaks, default_eta)), "init eta", ndim=1)
    if "height" in init:
        area = check_finite_array(init["height"], "init height", ndim=1) / unit_height(fwhm, eta)
    else:
        area = check_finite_array(init["area"], "init area", ndim=1)
    if not center.size == fwhm.size == area.size == eta.size == n_peaks:
        raise MIInputError(f"init must give {n_peaks} values for each peak parameter.")
    given = init.get("background", {})
    names = pm.BACKGROUND_PARAMS[background]
    bg = np.array([float(given.get(name, 0.0)) for name in names])
    return pm.join(center, fwhm, area, eta, bg)


def _fit_one(
    x, y, n_peaks, shape, background, init, n_starts, max_iter, tol, polish, rng
) -> PeakFitResult:
    grid = EMGrid.from_x(x)
    weights = _em_weights(y, grid.dx)
    start = _starting_states(grid, weights, n_peaks, shape, background, n_starts, init, rng)
    state, loglik, n_iter, converged, frames = _multi_start_em(
        grid, weights, start, shape, background, max_iter, tol
    )
    em_params = state_to_params(grid, state, background)[0]
    history = EMHistory(
        params=np.concatenate([state_to_params(grid, s, background) for s, _ in frames]),
        loglik=np.array([ll for _, ll in frames]),
    )
    cov = None
    params = em_params
    if polish:
        params, cov = _polish_one(x, y, em_params, n_peaks, shape, background, grid)
    params, cov = _sorted_by_centre(params, cov, n_peaks)
    rss = float(np.sum((pm.model(x, params, n_peaks, background) - y) ** 2))
    n_free = int(pm.free_mask(n_peaks, shape, background).sum())
    return PeakFitResult(
        peaks=_peak_table(params, n_peaks, cov),
        background=_background_fit(params, n_peaks, background, cov, float(x[0])),
        loglik=loglik,
        bic=_bic(y, pm.model(x, params, n_peaks, background), n_free),
        rss=rss,
        n_iter=n_iter,
        converged=converged,
        history=history,
        params=params,
        em_params=em_params,
        shape=shape,
        background_kind=background,
        polished=polish,
    )


def _fit_auto(
    x, y, shape, background, n_starts, max_iter, tol, polish, max_peaks, rng
) -> PeakFitResult:
    fits = {}
    for n in range(1, max_peaks + 1):
        if x.size <= pm.free_mask(n, shape, background).sum():
            break
        fits[n] = _fit_one(x, y, n, shape, background, None, n_starts, max_iter, tol, polish, rng)
    if not fits:
        _check_counts(x.size, 1, shape, background)
    scores = {n: f.bic for n, f in fits.items()}
    best = min(scores, key=scores.get)
    return _replace(fits[best], bic_by_n_peaks=scores)


def _replace(result: PeakFitResult, **changes: Any) -> PeakFitResult:
    from dataclasses import replace

    return replace(result, **changes)


# ---------------------------------------------------------------- fit_many
@dataclass(frozen=True)
class BatchFitResult:
    """Fits of many spectra on a common axis: arrays of shape (n_spectra, K).

    Attributes
    ----------
    x : numpy.ndarray
        The common axis.
    center, fwhm, area, height, eta : numpy.ndarray
        Per spectrum and peak, shape (n_spectra, K); peaks are sorted by centre.
    background : dict of numpy.ndarray
        Background parameters, each of shape (n_spectra,).
    rss : numpy.ndarray
        Residual sum of squares per spectrum.
    n_iter, converged : numpy.ndarray
        EM iterations and convergence per spectrum.
    params : numpy.ndarray
        Parameter vectors, shape (n_spectra, P).
    """

    x: np.ndarray
    center: np.ndarray
    fwhm: np.ndarray
    area: np.ndarray
    height: np.ndarray
    eta: np.ndarray
    background: dict[str, np.ndarray]
    rss: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    params: np.ndarray
    shape: str
    background_kind: str

    @property
    def n_peaks(self) -> int:
        return int(self.center.shape[1])

    def model(self, index: int) -> np.ndarray:
        """Fitted spectrum number ``index`` on the common axis."""
        return pm.model(self.x, self.params[index], self.n_peaks, self.background_kind)

    def components(self, index: int) -> np.ndarray:
        """Peaks of spectrum ``index``, shape (K, C)."""
        return pm.peak_components(self.x, self.params[index], self.n_peaks)


def _lm_polish(
    x: np.ndarray,
    y: np.ndarray,
    params: np.ndarray,
    n_peaks: int,
    shape: str,
    background: str,
    grid: EMGrid,
    n_iter: int,
) -> np.ndarray:
    """Batched Levenberg-Marquardt: the same least-squares problem as the scipy polish."""
    free = pm.free_mask(n_peaks, shape, background)
    lower, upper = _bounds(x, n_peaks, background, grid)
    params = np.clip(params, lower, upper)
    residual = y - pm.model(x, params, n_peaks, background)
    rss = np.sum(residual**2, axis=1)
    damping = np.full(y.shape[0], 1e-3)
    active = np.arange(y.shape[0])
    eye = np.eye(int(free.sum()))
    lower_free, upper_free = lower[free], upper[free]
    for _ in range(n_iter):
        p = params[active]
        jac = pm.jacobian(x, p, n_peaks, background)[:, :, free]
        grad = np.einsum("bcp,bc->bp", jac, residual[active])
        # parameters held at a bound by the gradient sit out this step (projected LM)
        p_free = p[:, free]
        held = ((p_free <= lower_free) & (grad < 0)) | ((p_free >= upper_free) & (grad > 0))
        if held.any():
            jac = np.where(held[:, None, :], 0.0, jac)
            grad = np.where(held, 0.0, grad)
        jtj = np.matmul(jac.transpose(0, 2, 1), jac)
        diag = np.maximum(np.einsum("bii->bi", jtj), 1e-300)
        lhs = jtj + (damping[active, None] * diag + held)[:, :, None] * eye
        step = np.linalg.solve(lhs, grad[..., None])[..., 0]
        trial = p.copy()
        trial[:, free] += step
        trial = np.clip(trial, lower, upper)
        trial_res = y[active] - pm.model(x, trial, n_peaks, background)
        trial_rss = np.sum(trial_res**2, axis=1)
        better = trial_rss < rss[active]
        gain = (rss[active] - trial_rss) / np.maximum(rss[active], 1e-300)
        accepted = active[better]
        params[accepted] = trial[better]
        residual[accepted] = trial_res[better]
        rss[accepted] = trial_rss[better]
        damping[active] = np.where(better, damping[active] / 5.0, damping[active] * 5.0)
        # converged: the step changes the RSS by a negligible fraction, taken or not
        still = ~(np.abs(gain) < _LM_GAIN) & (damping[active] < 1e8)
        active = active[still]
        if active.size == 0:
            break
    return params


def _fit_chunk(
    x: np.ndarray,
    y: np.ndarray,
    start_params: np.ndarray,
    n_peaks: int,
    shape: str,
    background: str,
    max_iter: int,
    tol: float,
    polish: bool,
) -> np.ndarray:
    """EM from a common start, then batched least squares, for one chunk of spectra.

    The chunk is processed in blocks of ``_BLOCK`` spectra so that the
    (block, K, channels) work arrays stay in the CPU cache.
    """
    with one_blas_thread():
        blocks = [
            _fit_block(
                x,
                y[i : i + _BLOCK],
                start_params,
                n_peaks,
                shape,
                background,
                max_iter,
                tol,
                polish,
            )
            for i in range(0, y.shape[0], _BLOCK)
        ]
    return np.concatenate(blocks, axis=0)


def _fit_block(x, y, start_params, n_peaks, shape, background, max_iter, tol, polish) -> np.ndarray:
    grid = EMGrid.from_x(x)
    weights = _em_weights(y, grid.dx)
    state = _state_from_params(grid, start_params, weights, n_peaks, background)
    run = run_em(grid, weights, state, shape, background, max_iter=max_iter, tol=tol)
    params = state_to_params(grid, run.state, background)
    if polish:
        params = _lm_polish(x, y, params, n_peaks, shape, background, grid, n_iter=20)
    params = _sort_peaks(params, n_peaks)
    rss = np.sum((pm.model(x, params, n_peaks, background) - y) ** 2, axis=1)
    return np.concatenate(
        [params, rss[:, None], run.n_iter[:, None], run.converged[:, None]], axis=1
    )


def _sort_peaks(params: np.ndarray, n_peaks: int) -> np.ndarray:
    """Order the peaks of every parameter vector by centre."""
    center, fwhm, area, eta, bg = pm.split(params, n_peaks)
    order = np.argsort(center, axis=1)
    center, fwhm, area, eta = (
        np.take_along_axis(a, order, axis=1) for a in (center, fwhm, area, eta)
    )
    return pm.join(center, fwhm, area, eta, bg)


def _state_from_params(
    grid: EMGrid, params: np.ndarray, weights: np.ndarray, n_peaks: int, background: str
) -> EMState:
    """EM start for every spectrum: the common parameters, masses scaled to each spectrum."""
    state = params_to_state(grid, params[None, :], n_peaks, background)
    n = weights.shape[0]
    scale = weights.sum(axis=1, keepdims=True) / state.mass.sum()
    return EMState(
        np.repeat(state.center, n, axis=0),
        np.repeat(state.fwhm, n, axis=0),
        np.repeat(state.eta, n, axis=0),
        state.mass * scale,
        np.repeat(state.rate, n, axis=0),
    )


def fit_many(
    x: Any,
    spectra: Any,
    n_peaks: int,
    *,
    shape: str = "pseudo_voigt",
    background: str = "linear",
    init: Sequence[float] | Mapping[str, Any] | PeakFitResult | None = None,
    max_iter: int = 6,
    tol: float = 1e-8,
    polish: bool = True,
    chunk_size: int = 128,
    client: Any = None,
    n_jobs: int | None = None,
    progress: bool | Callable[[int, int], None] = False,
    random_state: int | np.random.Generator | None = None,
) -> BatchFitResult:
    """Fit the same peak model to many spectra on a common axis.

    All spectra start from one solution: ``init`` (a :class:`PeakFitResult`,
    or starting centres), or else a multi-start :func:`fit_peaks` of the mean
    spectrum. Then EM runs vectorised over chunks of ``chunk_size`` spectra
    (arrays of shape (chunk, K, channels)), and a batched Levenberg-Marquardt
    least-squares polish refines every spectrum.

    Parameters
    ----------
    x : array_like, shape (C,)
        Common channel positions, strictly increasing.
    spectra : array_like, shape (n_spectra, C)
        One spectrum per row (a map ``(ny, nx, C)`` can be reshaped).
    n_peaks : int
        Number of peaks.
    shape, background : str
        As in :func:`fit_peaks`.
    init : PeakFitResult or sequence of float, optional
        Common start; default: fit the mean spectrum.
    max_iter, tol : int, float
        EM iteration limit (default 6) and tolerance per spectrum. From a common start
        that is already close, a few EM iterations adapt each spectrum and
        the least-squares polish (quadratic convergence) finishes.
    polish : bool, default True
        Batched least-squares refinement after EM.
    chunk_size : int, default 128
        Spectra per task (a Dask task when ``client`` is given); inside a
        task, blocks of 32 spectra are vectorised (bounds memory).
    client : dask.distributed.Client, optional
        When given, chunks run on the cluster; otherwise locally.
    n_jobs : int, optional
        Threads that fit chunks at the same time when running locally (numpy
        releases the GIL in the vectorised updates); default: the number of CPUs.
    progress : bool or callable, default False
        True shows a ``tqdm.auto`` bar; a callable is called as
        ``progress(done_chunks, total_chunks)``.
    random_state : int or numpy.random.Generator, optional
        Seed for the fit of the mean spectrum.

    Returns
    -------
    BatchFitResult

    Notes
    -----
    Dask starts worker processes with ``MALLOC_TRIM_THRESHOLD_`` set, which
    makes every large numpy temporary a fresh ``mmap`` (measured 2-3x slower
    here). Before creating a local cluster, keep only the thread limits:
    ``dask.config.set({"distributed.nanny.pre-spawn-environ": {"OMP_NUM_THREADS": 1}})``.

    Examples
    --------
    >>> from mi_widgets.spectra import make_spectral_image
    >>> image = make_spectral_image(4, 5, random_state=0)
    >>> batch = fit_many(image.x, image.spectra.reshape(20, -1), 2, random_state=0)
    >>> batch.center.shape
    (20, 2)
    """
    _check_options(shape, background)
    spectra = check_finite_array(spectra, "spectra", ndim=2, min_size=3)
    x, spectra = _check_axis_and_values(x, spectra, ndim=2)
    _check_counts(x.size, n_peaks, shape, background)
    check_positive_int(chunk_size, "chunk_size")
    if n_jobs is not None:
        check_positive_int(n_jobs, "n_jobs")
    grid = EMGrid.from_x(x)
    _em_weights(spectra, grid.dx, "spectra")
    start = _common_start(x, spectra, n_peaks, shape, background, init, random_state)
    bounds = [*list(range(0, spectra.shape[0], chunk_size)), spectra.shape[0]]
    chunks = [spectra[a:b] for a, b in itertools.pairwise(bounds)]
    options = (start, n_peaks, shape, background, max_iter, tol, polish)
    report = _progress_reporter(progress, len(chunks))
    if client is None:
        outputs = _run_locally(x, chunks, options, report, n_jobs)
    else:
        outputs = _run_on_client(client, x, chunks, options, report)
    out = np.concatenate(outputs, axis=0)
    return _batch_result(x, out, n_peaks, shape, background)


def _run_locally(x, chunks, options, report, n_jobs: int | None) -> list[np.ndarray]:
    """Fit chunks in a pool of threads, reporting progress in completion order."""
    workers = min(n_jobs or os.cpu_count() or 1, len(chunks))
    if workers == 1:
        outputs = []
        for chunk in chunks:
            outputs.append(_fit_chunk(x, chunk, *options))
            report(len(outputs))
        return outputs
    # one limit around the whole pool: per-thread limits would restore each other's settings
    with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_fit_chunk, x, chunk, *options) for chunk in chunks]
        for done, _ in enumerate(as_completed(futures), start=1):
            report(done)
        return [future.result() for future in futures]


def _common_start(x, spectra, n_peaks, shape, background, init, random_state) -> np.ndarray:
    if isinstance(init, PeakFitResult):
        _check_same_model(init, n_peaks, shape, background)
        return init.params
    if init is not None:
        init = _init_vector(init, n_peaks, shape, background)
    mean = spectra.mean(axis=0)
    fit = fit_peaks(
        x, mean, n_peaks, shape=shape, background=background, init=init, random_state=random_state
    )
    return fit.params


def _progress_reporter(
    progress: bool | Callable[[int, int], None], total: int
) -> Callable[[int], None]:
    if callable(progress):
        return lambda done: progress(done, total)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc="fitting chunks")

        def update(done: int) -> None:
            bar.update(done - bar.n)
            if done == total:
                bar.close()

        return update
    return lambda done: None


def _run_on_client(client, x, chunks, options, report) -> list[np.ndarray]:
    from dask.distributed import as_completed

    x_future = client.scatter(x, broadcast=True, hash=False)  # a fresh key per call
    futures = [client.submit(_fit_chunk, x_future, c, *options, pure=False) for c in chunks]
    position = {f.key: i for i, f in enumerate(futures)}
    outputs: list[np.ndarray | None] = [None] * len(futures)
    for done, future in enumerate(as_completed(futures), start=1):
        outputs[position[future.key]] = future.result()
        report(done)
    return outputs


def _batch_result(x, out, n_peaks, shape, background) -> BatchFitResult:
    n_par = pm.n_params(n_peaks, background)
    params = out[:, :n_par]
    center, fwhm, area, eta, bg = pm.split(params, n_peaks)
    names = pm.BACKGROUND_PARAMS[background]
    return BatchFitResult(
        x=x,
        center=center,
        fwhm=fwhm,
        area=area,
        height=area * unit_height(fwhm, eta),
        eta=eta,
        background={n: bg[:, i] for i, n in enumerate(names)},
        rss=out[:, n_par],
        n_iter=out[:, n_par + 1].astype(int),
        converged=out[:, n_par + 2].astype(bool),
        params=params,
        shape=shape,
        background_kind=background,
    )


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
    _check_options(shape, background)
    x, y = _check_axis_and_values(x, y, ndim=1)
    start = check_finite_array(start, "start", ndim=1)
    if start.size != pm.n_params(n_peaks, background):
        raise MIInputError(
            f"start has {start.size} values; {n_peaks} peaks with a {background} background "
            f"need {pm.n_params(n_peaks, background)}."
        )
    check_positive_int(max_nfev, "max_nfev")
    params, _ = _polish_one(x, y, start, n_peaks, shape, background, EMGrid.from_x(x), max_nfev)
    return _sorted_by_centre(params, None, n_peaks)[0]
