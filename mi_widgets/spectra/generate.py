"""Seeded synthetic spectra: one spectrum with known peaks, and a spectral image of a sample."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets.spectra import model as pm

__all__ = [
    "OVERLAPPING_PEAKS",
    "SpectralImage",
    "SpectrumTruth",
    "make_spectral_image",
    "make_spectrum",
]

#: Settings of :func:`make_spectrum` for the lab 02 fidelity check: centres 20-80 of 0-100,
#: FWHM 3-7, neighbours at least 0.6 mean FWHM apart (strongly overlapping peaks).
OVERLAPPING_PEAKS = {
    "fwhm_range": (3.0, 7.0),
    "min_separation": 0.6,
    "separation_of": "mean",
    "center_range": (20.0, 80.0),
}


@dataclass(frozen=True)
class SpectrumTruth:
    """The parameters a synthetic spectrum was drawn from (arrays of length K)."""

    center: np.ndarray
    fwhm: np.ndarray
    area: np.ndarray
    eta: np.ndarray
    background: str
    params: np.ndarray
    expected: np.ndarray


def make_spectrum(
    n_peaks: int = 3,
    *,
    n_channels: int = 1000,
    x_range: tuple[float, float] = (0.0, 100.0),
    shape: str = "pseudo_voigt",
    background: str = "linear",
    total_counts: float = 1e5,
    background_share: float = 0.2,
    fwhm_range: tuple[float, float] = (3.0, 8.0),
    min_separation: float = 0.8,
    separation_of: str = "larger",
    center_range: tuple[float, float] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, SpectrumTruth]:
    """A spectrum of random overlapping peaks on a background, with Poisson noise.

    Centres are drawn in ``center_range`` (default: the middle 70 % of the
    window), no closer than ``min_separation`` times the larger (or mean) FWHM
    of the pair; areas vary by up to 3x; eta is drawn in [0, 0.8] for
    pseudo-Voigt peaks.

    Parameters
    ----------
    n_peaks : int, default 3
        Number of peaks.
    n_channels : int, default 1000
        Channels on an even grid over ``x_range``.
    x_range : (float, float)
        Axis limits (x units).
    shape : {"pseudo_voigt", "gaussian", "lorentzian"}
        Peak profile.
    background : {"linear", "none", "uniform", "exponential"}
        Background kind.
    total_counts : float, default 1e5
        Expected total counts in the spectrum (sets the Poisson noise).
    background_share : float, default 0.2
        Fraction of the counts in the background.
    fwhm_range : (float, float)
        Range of the peak FWHMs (x units).
    min_separation : float, default 0.8
        Smallest centre distance in units of the larger FWHM of the pair.
    separation_of : {"larger", "mean"}, default "larger"
        Which FWHM of a pair ``min_separation`` multiplies.
    center_range : (float, float), optional
        Range of the centres (x units); default: the middle 70 % of ``x_range``.
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    x, y : numpy.ndarray
        Axis and counts per channel.
    truth : SpectrumTruth
        The parameters (areas in counts x x units) and the noise-free spectrum.

    Examples
    --------
    >>> x, y, truth = make_spectrum(2, random_state=1)
    >>> x.shape, truth.center.shape
    ((1000,), (2,))
    """
    check_positive_int(n_peaks, "n_peaks", maximum=20)
    check_choice(shape, "shape", pm.SHAPES)
    check_choice(background, "background", ("none", "uniform", "linear", "exponential"))
    check_choice(separation_of, "separation_of", ("larger", "mean"))
    rng = np.random.default_rng(random_state)
    x = np.linspace(*x_range, n_channels)
    span = x_range[1] - x_range[0]
    if center_range is None:
        center_range = (x_range[0] + 0.15 * span, x_range[1] - 0.15 * span)
    fwhm = rng.uniform(*fwhm_range, n_peaks)
    center = _separated_centres(rng, center_range, fwhm, min_separation, separation_of)
    order = np.argsort(center)
    center, fwhm = center[order], fwhm[order]
    share = rng.uniform(1.0, 3.0, n_peaks)
    eta = {"gaussian": np.zeros(n_peaks), "lorentzian": np.ones(n_peaks)}.get(
        shape, rng.uniform(0.0, 0.8, n_peaks)
    )
    dx = span / (n_channels - 1)
    peak_counts = total_counts * (1 - background_share if background != "none" else 1.0)
    area = peak_counts * share / share.sum() * dx  # counts per channel x x units
    bg_counts = total_counts - peak_counts
    level = bg_counts / n_channels
    bg = {
        "none": [],
        "uniform": [level],
        "linear": [1.5 * level, -level / span],
        "exponential": [2.0 * level, 2.0 / span],
    }[background]
    params = pm.join(center, fwhm, area, eta, np.array(bg, dtype=float))
    expected = np.clip(pm.model(x, params, n_peaks, background), 0.0, None)
    y = rng.poisson(expected).astype(float)
    return x, y, SpectrumTruth(center, fwhm, area, eta, background, params, expected)


def _separated_centres(rng, center_range, fwhm, min_separation, separation_of) -> np.ndarray:
    pair = (
        np.maximum(fwhm[:, None], fwhm[None, :])
        if separation_of == "larger"
        else 0.5 * (fwhm[:, None] + fwhm[None, :])
    )
    for _ in range(1000):
        center = rng.uniform(*center_range, fwhm.size)
        gaps = np.abs(center[:, None] - center[None, :])
        need = min_separation * pair
        if np.all((gaps >= need) | np.eye(fwhm.size, dtype=bool)):
            return center
    raise MIInputError(
        "The peaks do not fit in the window at that separation; use fewer or narrower peaks."
    )


@dataclass(frozen=True)
class SpectralImage:
    """A synthetic spectral map.

    Attributes
    ----------
    x : numpy.ndarray, shape (C,)
        Energy axis (eV).
    spectra : numpy.ndarray, shape (ny, nx, C)
        Counts per channel and pixel.
    phase : numpy.ndarray, shape (ny, nx)
        Phase label per pixel.
    center, area : numpy.ndarray, shape (ny, nx, K)
        True peak centres (eV) and areas per pixel.
    fwhm : numpy.ndarray, shape (K,)
        Peak widths (eV).
    """

    x: np.ndarray
    spectra: np.ndarray
    phase: np.ndarray
    center: np.ndarray
    area: np.ndarray
    fwhm: np.ndarray


#: Per phase: peak-1 and peak-2 centres (eV) and the area of peak 2 relative to peak 1.
_PHASES = np.array([[530.0, 536.0, 0.5], [531.2, 535.2, 1.0], [532.0, 537.0, 2.0]])


def make_spectral_image(
    ny: int,
    nx: int,
    *,
    n_channels: int = 300,
    counts_per_pixel: float = 3000.0,
    random_state: int | np.random.Generator | None = 0,
) -> SpectralImage:
    """A map of a three-phase sample: two pseudo-Voigt peaks per pixel, Poisson noise.

    The phases are Voronoi domains (two relaxed seeds per phase), so each
    phase covers a real share of the map. Each phase has its own peak
    positions (a chemical shift) and area ratio; on top, a strain gradient
    shifts the peaks by up to 0.3 eV across the map and the sample thickness
    (total counts) varies smoothly by +-30 %. The background is linear.

    Parameters
    ----------
    ny, nx : int
        Map size in pixels.
    n_channels : int, default 300
        Energy channels over 525-542 eV.
    counts_per_pixel : float, default 3000
        Mean expected counts per spectrum.
    random_state : int or numpy.random.Generator, default 0
        Seed.

    Returns
    -------
    SpectralImage

    Examples
    --------
    >>> image = make_spectral_image(8, 10, random_state=0)
    >>> image.spectra.shape, sorted(set(image.phase.ravel().tolist())) == [0, 1, 2]
    ((8, 10, 300), True)
    """
    check_positive_int(ny, "ny", maximum=2000)
    check_positive_int(nx, "nx", maximum=2000)
    check_positive_int(n_channels, "n_channels", minimum=20, maximum=10000)
    rng = np.random.default_rng(random_state)
    x = np.linspace(525.0, 542.0, n_channels)
    phase = _phase_domains(rng, ny, nx)
    yy, xx = np.meshgrid(np.linspace(-1, 1, ny), np.linspace(-1, 1, nx), indexing="ij")
    strain = 0.15 * (xx + yy)
    thickness = 1.0 + 0.3 * np.sin(1.5 * xx + 0.5) * np.cos(1.2 * yy)
    table = _PHASES[phase]
    center = table[..., :2] + strain[..., None]
    ratio = table[..., 2]
    total = counts_per_pixel * thickness
    peak_total = 0.8 * total
    dx = (x[-1] - x[0]) / (n_channels - 1)
    area = np.stack([peak_total / (1 + ratio), peak_total * ratio / (1 + ratio)], axis=-1) * dx
    fwhm = np.array([1.2, 2.0])
    eta = np.array([0.3, 0.5])
    level = 0.2 * total / n_channels
    span = x[-1] - x[0]
    bg = np.stack([1.3 * level, -0.6 * level / span], axis=-1)
    params = pm.join(
        center, np.broadcast_to(fwhm, center.shape), area, np.broadcast_to(eta, center.shape), bg
    )
    expected = np.clip(pm.model(x, params, 2, "linear"), 0.0, None)
    spectra = rng.poisson(expected).astype(float)
    return SpectralImage(x, spectra, phase, center, area, fwhm)


def _phase_domains(rng: np.random.Generator, ny: int, nx: int, n_phases: int = 3) -> np.ndarray:
    """Voronoi domains: each phase owns the cells of two seeds, relaxed to near-equal area.

    Seeds are drawn uniformly, moved a few times to the centroid of their cell
    (Lloyd's algorithm) so that no cell is a sliver, and dealt to the phases in
    turn, so every phase holds about a third of the map on any seed and size.
    """
    n_seeds = 2 * n_phases
    yy, xx = np.meshgrid(np.arange(ny) + 0.5, np.arange(nx) + 0.5, indexing="ij")
    pixels = np.stack([yy.ravel(), xx.ravel()], axis=1)
    seeds = rng.uniform(0, 1, (n_seeds, 2)) * [ny, nx]
    for _ in range(5):
        owner = np.argmin(((pixels[:, None, :] - seeds[None]) ** 2).sum(axis=2), axis=1)
        for k in range(n_seeds):
            if np.any(owner == k):
                seeds[k] = pixels[owner == k].mean(axis=0)
    owner = np.argmin(((pixels[:, None, :] - seeds[None]) ** 2).sum(axis=2), axis=1)
    phase_of_seed = rng.permutation(np.arange(n_seeds) % n_phases)
    labels = phase_of_seed[owner].reshape(ny, nx)
    for k in range(n_phases):  # every phase present, even on tiny maps
        if not np.any(labels == k):
            labels.flat[rng.integers(labels.size)] = k
    return labels
