"""Area-normalised peak profiles, their cumulative integrals and derivatives.

Every profile is parametrised by ``center``, ``fwhm`` (full width at half
maximum, in x units) and, for the pseudo-Voigt, ``eta``: the Lorentzian
fraction, with the same meaning as lmfit's ``fraction`` parameter
(``pV = (1 - eta) * G + eta * L``, both with the same centre and FWHM).
A profile integrates to one over the real line, so ``area * profile(x)`` is a
peak of that area (y units times x units). All functions broadcast.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

__all__ = ["gaussian", "lorentzian", "pseudo_voigt", "unit_height"]

#: FWHM / sigma for a Gaussian: 2 sqrt(2 ln 2).
GAUSS_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
_SQRT_2PI = np.sqrt(2.0 * np.pi)


def gaussian(x: np.ndarray, center: float, fwhm: float, area: float = 1.0) -> np.ndarray:
    """Gaussian peak of given centre, FWHM and area.

    Parameters
    ----------
    x : array_like
        Positions (x units).
    center, fwhm : float or array_like
        Peak position and full width at half maximum (x units, fwhm > 0).
    area : float or array_like, default 1
        Integral of the peak over x (y units times x units).

    Returns
    -------
    numpy.ndarray
        The peak evaluated at ``x``.

    Examples
    --------
    >>> round(float(gaussian(0.0, 0.0, 2.0) * 2.0), 4)  # height * fwhm
    0.9394
    """
    sigma = np.asarray(fwhm) / GAUSS_FWHM_PER_SIGMA
    z = (np.asarray(x) - center) / sigma
    return area * np.exp(-0.5 * z * z) / (sigma * _SQRT_2PI)


def lorentzian(x: np.ndarray, center: float, fwhm: float, area: float = 1.0) -> np.ndarray:
    """Lorentzian (Cauchy) peak of given centre, FWHM and area.

    Parameters
    ----------
    x : array_like
        Positions (x units).
    center, fwhm : float or array_like
        Peak position and full width at half maximum (x units, fwhm > 0).
    area : float or array_like, default 1
        Integral of the peak over x.

    Returns
    -------
    numpy.ndarray
        The peak evaluated at ``x``.

    Examples
    --------
    >>> round(float(lorentzian(0.0, 0.0, 2.0)), 4)  # 1 / (pi * gamma), gamma = fwhm / 2
    0.3183
    """
    gamma = 0.5 * np.asarray(fwhm)
    d = np.asarray(x) - center
    return area * gamma / (np.pi * (gamma * gamma + d * d))


def pseudo_voigt(
    x: np.ndarray, center: float, fwhm: float, area: float = 1.0, eta: float = 0.5
) -> np.ndarray:
    """Pseudo-Voigt peak: ``(1 - eta) * Gaussian + eta * Lorentzian``.

    ``eta`` is the Lorentzian fraction (0 = Gaussian, 1 = Lorentzian), the
    same as lmfit's ``PseudoVoigtModel`` ``fraction``; both parts share the
    centre, the FWHM and the area.

    Parameters
    ----------
    x : array_like
        Positions (x units).
    center, fwhm : float or array_like
        Peak position and full width at half maximum (x units).
    area : float or array_like, default 1
        Integral of the peak over x.
    eta : float or array_like, default 0.5
        Lorentzian fraction in [0, 1].

    Returns
    -------
    numpy.ndarray
        The peak evaluated at ``x``.

    Examples
    --------
    >>> x = np.linspace(-50, 50, 20001)
    >>> round(float(np.trapezoid(pseudo_voigt(x, 0.0, 1.0, 3.0, 0.3), x)), 2)
    2.99
    """
    return (1.0 - eta) * gaussian(x, center, fwhm, area) + eta * lorentzian(x, center, fwhm, area)


def unit_height(fwhm: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Peak height of a unit-area pseudo-Voigt (1 / x units).

    Examples
    --------
    >>> round(float(unit_height(2.0, 1.0)), 4)
    0.3183
    """
    gauss = GAUSS_FWHM_PER_SIGMA / (_SQRT_2PI * np.asarray(fwhm))
    lorentz = 2.0 / (np.pi * np.asarray(fwhm))
    return (1.0 - eta) * gauss + eta * lorentz


def profile_parts(
    x: np.ndarray, center: np.ndarray, fwhm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit-area Gaussian and Lorentzian parts and the offset ``x - center``.

    ``center`` and ``fwhm`` have shape ``(..., K)``; ``x`` has shape ``(C,)``;
    the outputs have shape ``(..., K, C)``.
    """
    d = x - center[..., None]
    w = fwhm[..., None]
    sigma = w / GAUSS_FWHM_PER_SIGMA
    g = np.exp(-0.5 * (d / sigma) ** 2) / (sigma * _SQRT_2PI)
    gamma = 0.5 * w
    lor = gamma / (np.pi * (gamma * gamma + d * d))
    return g, lor, d


def cumulative_parts(
    x: np.ndarray, center: np.ndarray, fwhm: np.ndarray, falling: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative integrals (from minus infinity) of the unit Gaussian and Lorentzian parts.

    ``falling=True`` gives the integrals to plus infinity instead (one minus the above).
    """
    d = x - center[..., None]
    w = fwhm[..., None]
    sigma = w / GAUSS_FWHM_PER_SIGMA
    cdf_g = 0.5 * (1.0 + erf(d / (sigma * np.sqrt(2.0))))
    cdf_l = 0.5 + np.arctan(d / (0.5 * w)) / np.pi
    if falling:
        return 1.0 - cdf_g, 1.0 - cdf_l
    return cdf_g, cdf_l
