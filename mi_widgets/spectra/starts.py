"""Starting points of the EM fit of one spectrum: detected maxima, random draws, user starts.

:func:`~mi_widgets.spectra.single.fit_peaks` runs EM from a batch of starts built here (the
most prominent maxima of the smoothed spectrum first, then random draws weighted by the
intensity); :func:`init_vector` reads the starts a user gives (centres, a mapping of peak
parameters, or a previous fit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks, peak_widths

from mi_widgets._errors import MIInputError, check_finite_array
from mi_widgets.spectra import model as pm
from mi_widgets.spectra.em import N_BACKGROUND_COMPONENTS, EMGrid, EMState, params_to_state
from mi_widgets.spectra.results import PeakFitResult, PeakModel
from mi_widgets.spectra.shapes import unit_height

__all__ = ["init_vector"]

_INITIAL_BACKGROUND_SHARE = 0.2


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
