"""Fit one spectrum: multi-start EM, least-squares polish, peak count by BIC.

:func:`fit_peaks` runs the batched EM of :mod:`mi_widgets.spectra.em` on one
spectrum: ``n_starts`` starts are a batch of ``n_starts``.

Its stages live beside it: the starts in :mod:`mi_widgets.spectra.starts`, the
least-squares polish, restarts and BIC in :mod:`mi_widgets.spectra.polish`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

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
from mi_widgets.spectra.em import EMGrid, EMState, run_em, state_to_params
from mi_widgets.spectra.polish import _polish_one, _restart_components, _sorted_by_centre, bic
from mi_widgets.spectra.results import (
    MAX_PEAKS,
    BackgroundFit,
    EMHistory,
    PeakFitResult,
    PeakModel,
    PeakTable,
)
from mi_widgets.spectra.starts import _starting_states, init_vector

__all__ = ["fit_peaks", "least_squares_from", "random_start"]

_SHORT_RUN = 40
#: distinct EM solutions polished; the best fit to the data is returned
_KEEP = 3


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
    background : {"linear", "none", "uniform", "exponential", "shirley", "shirley_kinetic"}
        Background component(s), fitted inside the model. The Shirley
        background's shape is recomputed from the current peaks at every EM
        iteration and in the polish; ``"shirley"`` rises towards larger x (a
        binding-energy axis), ``"shirley_kinetic"`` towards smaller x (a
        kinetic-energy axis).
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


@dataclass(frozen=True)
class _EMPath:
    """One start run to convergence: final state (batch of one) and the path to it."""

    state: EMState
    loglik: float
    n_iter: int
    converged: bool
    frames: list[tuple[EMState, float]]


def _multi_start_em(grid, weights, start, model: PeakModel, max_iter, tol) -> list[_EMPath]:
    """Short runs from every start, then the most likely few continue to convergence.

    Running all starts to convergence is wasted work: after a few tens of
    iterations the starts that will win are almost always ahead (the
    "short-run EM" initialisation of Biernacki, Celeux & Govaert 2003). The
    mixture likelihood does not rank solutions the way the fit to the data
    does (a broad peak can take over the background), so the best
    ``_KEEP`` distinct starts are returned, best first, for the caller to
    judge after the least-squares polish.
    """
    shape, background = model.shape, model.background
    n_starts = start.center.shape[0]
    burn = max_iter if n_starts == 1 else min(max_iter, _SHORT_RUN)
    tiled = np.tile(weights, (n_starts, 1))
    first = run_em(grid, tiled, start, shape, background, max_iter=burn, tol=tol, record=True)
    keep = _distinct_best(first.state, first.loglik, _KEEP)
    paths = []
    for i in keep:
        frames = [(s.take(np.array([i])), float(ll[i])) for s, ll in first.history]
        paths.append(
            _EMPath(
                first.state.take(np.array([i])),
                float(first.loglik[i]),
                int(first.n_iter[i]),
                bool(first.converged[i]),
                frames,
            )
        )
    if burn >= max_iter:
        return paths
    going = [j for j, p in enumerate(paths) if not p.converged]
    if going:
        state = paths[going[0]].state
        for j in going[1:]:
            state = _concat_states(state, paths[j].state)
        rest = run_em(
            grid,
            np.tile(weights, (len(going), 1)),
            state,
            shape,
            background,
            max_iter=max_iter - burn,
            tol=tol,
            record=True,
        )
        for b, j in enumerate(going):
            pick = np.array([b])
            old = paths[j]
            paths[j] = _EMPath(
                rest.state.take(pick),
                float(rest.loglik[b]),
                old.n_iter + int(rest.n_iter[b]),
                bool(rest.converged[b]),
                old.frames[:-1] + [(s.take(pick), float(ll[b])) for s, ll in rest.history],
            )
    return paths


def _concat_states(a: EMState, b: EMState) -> EMState:
    return EMState(*(np.concatenate([p, q]) for p, q in zip(a.arrays(), b.arrays(), strict=True)))


def _distinct_best(state: EMState, loglik: np.ndarray, n: int) -> list[int]:
    """Indices of the ``n`` most likely members whose peak centres differ (best first)."""
    order = np.argsort(np.where(np.isfinite(loglik), loglik, -np.inf))[::-1]
    centres = np.sort(state.center, axis=1)
    width = np.median(state.fwhm, axis=1)
    chosen: list[int] = []
    for i in order:
        same = any(np.all(np.abs(centres[i] - centres[j]) < 0.1 * width[j]) for j in chosen)
        if not same:
            chosen.append(int(i))
        if len(chosen) == n:
            break
    return chosen


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
    # Fit in units where x spans [0, 1] and max |y| is 1, report in the user's units: the
    # tolerances and floors inside are then the same for eV and counts as for m and J.
    units = _Units.of(x, y)
    x_user, y_user = x, y
    x, y = units.x_in(x), y / units.sy
    if init is not None:
        init = units.params_in(init, model) if init.size == model.n_params else units.x_in(init)
    grid = EMGrid.from_x(x)
    weights = em_weights(y, grid.dx)
    start = _starting_states(grid, weights, model, n_starts, init, rng)
    # the products in EM are small: threaded BLAS only adds overhead (10x under load)
    with one_blas_thread():
        paths = _multi_start_em(grid, weights, start, model, max_iter, tol)
    candidates = []
    for path in paths:
        em_params = state_to_params(grid, path.state, model.background)[0]
        params, cov = _polish_one(x, y, em_params, model, grid) if polish else (em_params, None)
        rss = float(np.sum((model.curve(x, params) - y) ** 2))
        candidates.append((rss, path, em_params, params, cov))
    # polished: the best fit to the data wins; unpolished: the most likely EM solution
    rss, path, em_params, params, cov = (
        min(candidates, key=lambda c: c[0]) if polish else candidates[0]
    )
    if polish and init is None:
        params, cov = _restart_components(x, y, params, cov, rss, model, grid)
    history = EMHistory(
        params=units.params_out(
            np.concatenate([state_to_params(grid, s, model.background) for s, _ in path.frames]),
            model,
        ),
        loglik=units.loglik_out(np.array([ll for _, ll in path.frames]), weights.sum()),
    )
    params, cov = _sorted_by_centre(params, cov, model.n_peaks)
    params, cov = units.params_out(params, model), units.cov_out(cov, model)
    x, y = x_user, y_user
    fitted = model.curve(x, params)
    return PeakFitResult(
        peaks=PeakTable.from_params(params, model.n_peaks, cov),
        background=BackgroundFit.from_params(params, model, cov, float(x[0])),
        loglik=float(units.loglik_out(np.array(path.loglik), weights.sum())),
        bic=bic(y, fitted, model.n_free),
        rss=float(np.sum((fitted - y) ** 2)),
        n_iter=path.n_iter,
        converged=path.converged,
        history=history,
        params=params,
        em_params=units.params_out(em_params, model),
        shape=model.shape,
        background_kind=model.background,
        polished=polish,
    )


@dataclass(frozen=True)
class _Units:
    """The user's units: internal x = (x - x0) / sx, internal y = y / sy."""

    x0: float
    sx: float
    sy: float

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> _Units:
        top = float(np.max(np.abs(y)))
        return cls(float(x[0]), float(x[-1] - x[0]), top if top > 0 else 1.0)

    def x_in(self, x: np.ndarray) -> np.ndarray:
        return (x - self.x0) / self.sx

    def _scale(self, model: PeakModel) -> np.ndarray:
        """Internal to user units, entry by entry: user = scale * internal (+ x0 for centres)."""
        sx, sy = self.sx, self.sy
        peaks = np.tile([sx, sx, sx * sy, 1.0], model.n_peaks)
        background = {
            "none": [],
            "uniform": [sy],
            "linear": [sy, sy / sx],
            "exponential": [sy, 1.0 / sx],
            "shirley": [sy, 1.0 / sx],
            "shirley_kinetic": [sy, 1.0 / sx],
        }[model.background]
        return np.r_[peaks, background]

    def _shift(self, model: PeakModel) -> np.ndarray:
        shift = np.zeros(model.n_params)
        shift[: 4 * model.n_peaks : 4] = self.x0
        return shift

    def params_in(self, params: np.ndarray, model: PeakModel) -> np.ndarray:
        return (params - self._shift(model)) / self._scale(model)

    def params_out(self, params: np.ndarray, model: PeakModel) -> np.ndarray:
        return params * self._scale(model) + self._shift(model)

    def cov_out(self, cov: np.ndarray | None, model: PeakModel) -> np.ndarray | None:
        if cov is None:
            return None
        scale = self._scale(model)
        return cov * np.outer(scale, scale)

    def loglik_out(self, loglik: np.ndarray, total_weight: float) -> np.ndarray:
        """``sum_i w_i log p(x_i)`` in user units: weights scale by sx sy, densities by 1/sx."""
        return self.sx * self.sy * (loglik - total_weight * np.log(self.sx))


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
    units = _Units.of(x, y)
    x_in = units.x_in(x)
    params, _ = _polish_one(
        x_in, y / units.sy, units.params_in(start, model), model, EMGrid.from_x(x_in), max_nfev
    )
    return units.params_out(_sorted_by_centre(params, None, n_peaks)[0], model)
