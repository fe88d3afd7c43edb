"""The least-squares model: peaks plus background as one flat parameter vector.

Layout of a parameter vector (last axis, batched over any leading axes):
``[center_1, fwhm_1, area_1, eta_1, ..., center_K, ..., eta_K, *background]``.
Backgrounds, with ``x0 = x[0]``:

- ``none``: no parameters;
- ``uniform``: ``level``;
- ``linear``: ``level + slope * (x - x0)``;
- ``exponential``: ``amplitude * exp(-rate * (x - x0))``;
- ``shirley``: ``level + k * sum_j area_j * CDF_j(x)``: a step that rises with x by
  ``k`` times the peak area to its left, recomputed from the current peaks: on a
  binding-energy axis the background is higher on the high-binding-energy side, where
  electrons that lost energy appear;
- ``shirley_kinetic``: ``level + k * sum_j area_j * (1 - CDF_j(x))``: the same step for a
  kinetic-energy axis, higher on the low-kinetic-energy side of each peak.

The model and its analytic Jacobian are vectorised over a batch of spectra,
so one code path serves one spectrum (scipy polish) and many (batched
Levenberg-Marquardt in :mod:`mi_widgets.spectra.fitting`).
"""

from __future__ import annotations

import numpy as np

from mi_widgets.spectra.shapes import cumulative_parts, profile_parts

SHAPES = ("gaussian", "lorentzian", "pseudo_voigt")
BACKGROUNDS = ("none", "uniform", "linear", "exponential", "shirley", "shirley_kinetic")
BACKGROUND_PARAMS: dict[str, tuple[str, ...]] = {
    "none": (),
    "uniform": ("level",),
    "linear": ("level", "slope"),
    "exponential": ("amplitude", "rate"),
    "shirley": ("level", "k"),
    "shirley_kinetic": ("level", "k"),
}
PEAK_PARAMS = ("center", "fwhm", "area", "eta")


def n_params(n_peaks: int, background: str) -> int:
    """Number of entries of a parameter vector."""
    return 4 * n_peaks + len(BACKGROUND_PARAMS[background])


def free_mask(n_peaks: int, shape: str, background: str) -> np.ndarray:
    """Which parameters the fit varies (eta is fixed unless the shape is pseudo-Voigt)."""
    free = np.ones(n_params(n_peaks, background), dtype=bool)
    if shape != "pseudo_voigt":
        free[3 : 4 * n_peaks : 4] = False
    return free


def split(params: np.ndarray, n_peaks: int) -> tuple[np.ndarray, ...]:
    """Centre, fwhm, area, eta arrays of shape (..., K) and the background parameters."""
    peaks = params[..., : 4 * n_peaks].reshape(*params.shape[:-1], n_peaks, 4)
    return peaks[..., 0], peaks[..., 1], peaks[..., 2], peaks[..., 3], params[..., 4 * n_peaks :]


def join(center, fwhm, area, eta, background_params) -> np.ndarray:
    """Inverse of :func:`split`."""
    peaks = np.stack(np.broadcast_arrays(center, fwhm, area, eta), axis=-1)
    flat = peaks.reshape(*peaks.shape[:-2], -1)
    return np.concatenate([flat, np.asarray(background_params, dtype=float)], axis=-1)


def peak_components(x: np.ndarray, params: np.ndarray, n_peaks: int) -> np.ndarray:
    """Each peak evaluated on x, shape (..., K, C)."""
    center, fwhm, area, eta, _ = split(params, n_peaks)
    g, lor, _ = profile_parts(x, center, fwhm)
    e = eta[..., None]
    return area[..., None] * ((1.0 - e) * g + e * lor)


def background_curve(
    x: np.ndarray, params: np.ndarray, n_peaks: int, background: str
) -> np.ndarray:
    """The background on x, shape (..., C)."""
    center, fwhm, area, eta, b = split(params, n_peaks)
    t = x - x[0]
    if background == "none":
        return np.zeros((*params.shape[:-1], x.size))
    if background == "uniform":
        return np.broadcast_to(b[..., :1], (*params.shape[:-1], x.size)).copy()
    if background == "linear":
        return b[..., :1] + b[..., 1:2] * t
    if background == "exponential":
        return b[..., :1] * np.exp(-b[..., 1:2] * t)
    cdf_g, cdf_l = cumulative_parts(x, center, fwhm, background == "shirley_kinetic")
    e = eta[..., None]
    step = np.sum(area[..., None] * ((1.0 - e) * cdf_g + e * cdf_l), axis=-2)
    return b[..., :1] + b[..., 1:2] * step


def model(x: np.ndarray, params: np.ndarray, n_peaks: int, background: str) -> np.ndarray:
    """Peaks plus background on x, shape (..., C)."""
    peaks = peak_components(x, params, n_peaks).sum(axis=-2)
    return peaks + background_curve(x, params, n_peaks, background)


def jacobian(x: np.ndarray, params: np.ndarray, n_peaks: int, background: str) -> np.ndarray:
    """Analytic derivative of :func:`model` with respect to the parameters, shape (..., C, P)."""
    center, fwhm, area, eta, b = split(params, n_peaks)
    g, lor, d = profile_parts(x, center, fwhm)
    w = fwhm[..., None]
    e = eta[..., None]
    a = area[..., None]
    sigma2 = (w / (2.0 * np.sqrt(2.0 * np.log(2.0)))) ** 2
    gamma = 0.5 * w
    lor_den = gamma * gamma + d * d
    dg_dc = g * d / sigma2
    dl_dc = lor * 2.0 * d / lor_den
    dg_dw = g * (d * d / (sigma2 * w) - 1.0 / w)
    dl_dw = lor * (1.0 / w - gamma / lor_den)
    profile = (1.0 - e) * g + e * lor
    peak_jac = np.stack(
        [
            a * ((1.0 - e) * dg_dc + e * dl_dc),
            a * ((1.0 - e) * dg_dw + e * dl_dw),
            profile,
            a * (lor - g),
        ],
        axis=-1,
    )  # (..., K, C, 4)
    peak_jac = np.moveaxis(peak_jac, -3, -2)  # (..., C, K, 4)
    peak_jac = peak_jac.reshape(*peak_jac.shape[:-2], 4 * n_peaks)
    lead = params.shape[:-1]
    t = x - x[0]
    if background == "none":
        return peak_jac
    if background == "uniform":
        bg_jac = np.ones((*lead, x.size, 1))
    elif background == "linear":
        bg_jac = np.stack(
            np.broadcast_arrays(np.ones((*lead, x.size)), t + np.zeros(lead)[..., None]), axis=-1
        )
    elif background == "exponential":
        decay = np.exp(-b[..., 1:2] * t)
        bg_jac = np.stack([decay, -b[..., :1] * t * decay], axis=-1)
    else:
        falling = background == "shirley_kinetic"
        cdf_g, cdf_l = cumulative_parts(x, center, fwhm, falling)
        cdf = (1.0 - e) * cdf_g + e * cdf_l
        sign = 1.0 if falling else -1.0  # d CDF / d center = -profile
        k = b[..., 1][..., None, None]
        step = np.sum(a * cdf, axis=-2)
        shirley = np.stack(
            [sign * a * profile, sign * a * d / w * profile, cdf, a * (cdf_l - cdf_g)], axis=-1
        )  # (..., K, C, 4)
        shirley = np.moveaxis(shirley, -3, -2).reshape(*lead, x.size, 4 * n_peaks)
        peak_jac = peak_jac + k * shirley
        bg_jac = np.stack([np.ones((*lead, x.size)), step], axis=-1)
    return np.concatenate([peak_jac, bg_jac], axis=-1)
