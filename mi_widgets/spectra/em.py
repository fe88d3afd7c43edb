"""Intensity-weighted EM for a mixture of peaks and fixed-shape backgrounds, batched.

The spectrum is read as a histogram: channel i at position x_i holds weight
``w_i = y_i * dx_i`` (intensity times channel width). Peaks are mixture
components with a density ``f_k`` (Gaussian, Lorentzian or pseudo-Voigt);
backgrounds are extra components whose shape is fixed (uniform, two linear
ramps, a truncated exponential whose decay rate is re-estimated, or a
Shirley step recomputed from the current peaks). One iteration
(Ando's EMPeaks; Dempster, Laird & Rubin 1977):

- E step: ``g_ik = m_k f_k(x_i) / sum_j m_j f_j(x_i)``;
- M step: ``m_k = N_k = sum_i w_i g_ik``; for a Gaussian
  ``mu_k = sum_i w_i g_ik x_i / N_k`` and ``sigma_k^2 = sum_i w_i g_ik (x_i - mu_k)^2 / N_k``;
  a pseudo-Voigt splits ``g_ik`` into its Gaussian and Lorentzian parts, the
  Lorentzian part is a Student-t with one degree of freedom (latent scale
  ``u_i = 2 / (1 + (x_i - mu)^2 / gamma^2)``), and centre, FWHM and ``eta``
  are updated in closed form (an ECM step).

Each iteration costs O(batch x components x channels), whatever the total
counts. Arrays are shaped ``(batch, K, channels)``: a single spectrum is the
batch-of-one case of the same code path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mi_widgets.spectra.model import join, split
from mi_widgets.spectra.shapes import GAUSS_FWHM_PER_SIGMA, cumulative_parts, profile_parts

N_BACKGROUND_COMPONENTS = {
    "none": 0,
    "uniform": 1,
    "linear": 2,
    "exponential": 1,
    "shirley": 2,
    "shirley_kinetic": 2,
}
_C_G2 = GAUSS_FWHM_PER_SIGMA**2
_TINY = 1e-300
_FLOOR = 1e-200


@dataclass
class EMState:
    """Mutable EM parameters for a batch (shapes (B, K), (B, K + n_bg), (B,))."""

    center: np.ndarray
    fwhm: np.ndarray
    eta: np.ndarray
    mass: np.ndarray
    rate: np.ndarray

    def take(self, index: np.ndarray) -> EMState:
        return EMState(*(a[index] for a in self.arrays()))

    def put(self, index: np.ndarray, other: EMState) -> None:
        for mine, theirs in zip(self.arrays(), other.arrays(), strict=True):
            mine[index] = theirs

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.center, self.fwhm, self.eta, self.mass, self.rate

    def copy(self) -> EMState:
        return EMState(*(a.copy() for a in self.arrays()))


@dataclass
class EMGrid:
    """The channel positions and what every iteration reuses."""

    x: np.ndarray
    dx: np.ndarray
    t: np.ndarray
    min_fwhm: float
    max_fwhm: float

    @classmethod
    def from_x(cls, x: np.ndarray) -> EMGrid:
        dx = np.gradient(x)
        span = float(x[-1] - x[0])
        return cls(x, dx, x - x[0], 2.0 * float(np.median(dx)), 4.0 * span)


def _normalise(shape: np.ndarray, dx: np.ndarray) -> np.ndarray:
    return shape / np.maximum(np.sum(shape * dx, axis=-1, keepdims=True), _TINY)


def background_densities(grid: EMGrid, state: EMState, background: str) -> np.ndarray:
    """Grid-normalised background shapes, (B, n_bg, C): each sums to one with weights dx."""
    n = state.center.shape[0]
    x, dx, t = grid.x, grid.dx, grid.t
    if background == "none":
        return np.zeros((n, 0, x.size))
    if background == "uniform":
        return np.broadcast_to(_normalise(np.ones_like(x), dx), (n, 1, x.size))
    if background == "linear":
        ramps = np.stack([_normalise(t, dx), _normalise(t[-1] - t, dx)])
        return np.broadcast_to(ramps, (n, 2, x.size))
    if background == "exponential":
        decay = np.exp(-state.rate[:, None] * t)
        return _normalise(decay, dx)[:, None, :]
    cdf_g, cdf_l = cumulative_parts(x, state.center, state.fwhm, background == "shirley_kinetic")
    e = state.eta[..., None]
    k = state.center.shape[1]
    step = np.sum(state.mass[:, :k, None] * ((1.0 - e) * cdf_g + e * cdf_l), axis=1)
    flat = np.broadcast_to(_normalise(np.ones_like(x), dx), (n, x.size))
    return np.stack([flat, _normalise(step + _TINY, dx)], axis=1)


def component_intensities(grid: EMGrid, state: EMState, background: str) -> np.ndarray:
    """Every component's intensity on the grid, (B, K + n_bg, C); they sum to the EM model."""
    g, lor, _ = profile_parts(grid.x, state.center, state.fwhm)
    e = state.eta[..., None]
    k = state.center.shape[1]
    peaks = state.mass[:, :k, None] * ((1.0 - e) * g + e * lor)
    bg = state.mass[:, k:, None] * background_densities(grid, state, background)
    return np.concatenate([peaks, bg], axis=1)


def em_step(
    grid: EMGrid, weights: np.ndarray, state: EMState, shape: str, background: str
) -> tuple[EMState, np.ndarray]:
    """One EM iteration; returns the new state and the log-likelihood of the old one."""
    x = grid.x
    k = state.center.shape[1]
    g, lor, d = profile_parts(x, state.center, state.fwhm)
    e = state.eta[..., None]
    peak_mass = state.mass[:, :k, None]
    if shape == "gaussian":
        peaks = peak_mass * g
    elif shape == "lorentzian":
        peaks = peak_mass * lor
    else:
        peaks = peak_mass * ((1.0 - e) * g + e * lor)
    total = peaks.sum(axis=1)
    bg = None
    if background != "none":
        bg = state.mass[:, k:, None] * background_densities(grid, state, background)
        total += bg.sum(axis=1)
    total += _TINY
    total_weight = weights.sum(axis=1)
    ratio = weights / total
    loglik = np.sum(weights * np.log(total), axis=1) - total_weight * np.log(total_weight)
    wr_peak = peaks * ratio[:, None, :]  # w_i g_ik for the peaks
    n_peak = np.maximum(wr_peak.sum(axis=2), _FLOOR)
    # per-channel precision factor: c_G^2 for the Gaussian share, 4 u for the Lorentzian share
    if shape == "gaussian":
        factor = _C_G2
        lorentz_mass = None
    else:
        gamma2 = 0.25 * state.fwhm[..., None] ** 2
        u4 = 8.0 * gamma2 / (gamma2 + d * d)
        if shape == "lorentzian":
            factor = u4
            lorentz_mass = None
        else:
            share = peak_mass * e * lor * ratio[:, None, :]  # w_i g_ik h_ik (Lorentzian part)
            lorentz_mass = share.sum(axis=2)
            factor = None
    if factor is None:
        precision = _C_G2 * wr_peak + share * (u4 - _C_G2)
    else:
        precision = wr_peak * factor
    p0 = np.maximum(precision.sum(axis=2), _TINY)
    p1 = precision @ x
    p2 = precision @ (x * x)
    # the Lorentzian precision weights can be negative in the tails: keep centres on the data
    center = np.clip(p1 / p0, x[0], x[-1])
    fwhm2 = np.maximum(p2 - center * p1, 0.0) / n_peak
    fwhm = np.clip(np.sqrt(fwhm2), grid.min_fwhm, grid.max_fwhm)
    eta = state.eta if lorentz_mass is None else np.clip(lorentz_mass / n_peak, 0.0, 1.0)
    mass = np.empty_like(state.mass)
    mass[:, :k] = n_peak
    rate = state.rate
    if bg is not None:
        wr_bg = bg * ratio[:, None, :]
        mass[:, k:] = np.maximum(wr_bg.sum(axis=2), _FLOOR)
        if background == "exponential":
            rate = _update_rate(grid, wr_bg[:, 0], state.rate)
    return EMState(center, fwhm, eta, mass, rate), loglik


def _update_rate(grid: EMGrid, wr_exp: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """M step for the truncated-exponential decay rate: match the mean of x - x0 (Newton)."""
    t, dx = grid.t, grid.dx
    target = np.sum(wr_exp * t, axis=1) / np.maximum(wr_exp.sum(axis=1), _TINY)
    limit = 50.0 / max(float(t[-1]), _TINY)
    r = rate.copy()
    for _ in range(3):
        decay = np.exp(-r[:, None] * t) * dx
        z = decay.sum(axis=1)
        mean = (decay * t).sum(axis=1) / z
        var = (decay * t * t).sum(axis=1) / z - mean**2
        r = np.clip(r + (mean - target) / np.maximum(var, _TINY), -limit, limit)
    return r


@dataclass
class EMRun:
    """Outcome of :func:`run_em` for a batch."""

    state: EMState
    loglik: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    history: list[tuple[EMState, np.ndarray]] | None


def run_em(
    grid: EMGrid,
    weights: np.ndarray,
    state: EMState,
    shape: str,
    background: str,
    *,
    max_iter: int,
    tol: float,
    record: bool = False,
) -> EMRun:
    """Iterate EM on a batch until each member's log-likelihood gain per unit weight < tol.

    Converged members leave the active set, so the cost follows the slow ones only.
    """
    n = weights.shape[0]
    state = state.copy()
    loglik = np.full(n, -np.inf)
    n_iter = np.zeros(n, dtype=int)
    converged = np.zeros(n, dtype=bool)
    active = np.arange(n)
    scale = weights.sum(axis=1)
    history = [] if record else None
    for _ in range(max_iter):
        sub = state.take(active)
        new, ll = em_step(grid, weights[active], sub, shape, background)
        if record:
            history.append((state.copy(), loglik.copy()))
            history[-1][1][active] = ll
        gain = (ll - loglik[active]) / scale[active]
        loglik[active] = ll
        state.put(active, new)
        n_iter[active] += 1
        done = np.abs(gain) < tol
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    final = em_step(grid, weights, state, shape, background)[1]
    if record:
        history.append((state.copy(), final))
    return EMRun(state, final, n_iter, converged, history)


def state_to_params(grid: EMGrid, state: EMState, background: str) -> np.ndarray:
    """Least-squares parameter vectors (see :mod:`mi_widgets.spectra.model`) from an EM state."""
    k = state.center.shape[1]
    dens = background_densities(grid, state, background)
    bg_mass = state.mass[:, k:]
    if background == "none":
        bg = np.zeros((state.center.shape[0], 0))
    elif background == "uniform":
        bg = bg_mass * dens[:, 0, :1]
    elif background == "linear":
        curve = np.einsum("bj,bjc->bc", bg_mass, dens)
        slope = (curve[:, -1] - curve[:, 0]) / grid.t[-1]
        bg = np.stack([curve[:, 0], slope], axis=1)
    elif background == "exponential":
        bg = np.stack([bg_mass[:, 0] * dens[:, 0, 0], state.rate], axis=1)
    else:
        level = bg_mass[:, 0] * dens[:, 0, 0]
        falling = background == "shirley_kinetic"
        cdf_g, cdf_l = cumulative_parts(grid.x, state.center, state.fwhm, falling)
        e = state.eta[..., None]
        step = np.sum(state.mass[:, :k, None] * ((1.0 - e) * cdf_g + e * cdf_l), axis=1)
        # the normalised step density times its mass, written as k * step
        z = np.sum((step + _TINY) * grid.dx, axis=1)
        bg = np.stack([level, bg_mass[:, 1] / z], axis=1)
    return join(state.center, state.fwhm, state.mass[:, :k], state.eta, bg)


def params_to_state(grid: EMGrid, params: np.ndarray, n_peaks: int, background: str) -> EMState:
    """EM state from least-squares parameter vectors (B, P): the inverse of :func:`state_to_params`.

    Background masses are the background's integral over the window; negative
    parts (not representable as a mixture weight) are floored.
    """
    center, fwhm, area, eta, bg = split(params, n_peaks)
    fwhm = np.clip(fwhm, grid.min_fwhm, grid.max_fwhm)
    peak_mass = np.maximum(area, _FLOOR)
    n = params.shape[0]
    t, dx, span = grid.t, grid.dx, grid.t[-1]
    rate = np.zeros(n)
    if background == "none":
        bg_mass = np.zeros((n, 0))
    elif background == "uniform":
        bg_mass = bg[:, :1] * dx.sum()
    elif background == "linear":
        start, end = bg[:, 0], bg[:, 0] + bg[:, 1] * span
        rising, falling = np.sum(t * dx), np.sum((span - t) * dx)
        bg_mass = np.stack([end * rising / span, start * falling / span], axis=1)
    elif background == "exponential":
        rate = bg[:, 1].copy()
        bg_mass = (bg[:, 0] * np.sum(np.exp(-rate[:, None] * t) * dx, axis=1))[:, None]
    else:
        cdf_g, cdf_l = cumulative_parts(grid.x, center, fwhm, background == "shirley_kinetic")
        e = eta[..., None]
        step = np.sum(area[..., None] * ((1.0 - e) * cdf_g + e * cdf_l), axis=1)
        bg_mass = np.stack([bg[:, 0] * dx.sum(), bg[:, 1] * np.sum(step * dx, axis=1)], axis=1)
    mass = np.concatenate(
        [peak_mass, np.maximum(bg_mass, 1e-9 * peak_mass.sum(axis=1, keepdims=True))], axis=1
    )
    return EMState(center.copy(), fwhm, eta.copy(), mass, rate)
