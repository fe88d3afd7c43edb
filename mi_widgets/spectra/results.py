"""The peak model (count, shape, background) and the results of single and batch fits.

:class:`PeakModel` names what is fitted and knows its parameter layout
(:mod:`mi_widgets.spectra.model`); :class:`PeakFitResult` and
:class:`BatchFitResult` are what :func:`~mi_widgets.spectra.fit_peaks` and
:func:`~mi_widgets.spectra.fit_many` return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets.spectra import model as pm
from mi_widgets.spectra.shapes import unit_height

__all__ = [
    "MAX_PEAKS",
    "BackgroundFit",
    "BatchFitResult",
    "EMHistory",
    "PeakFitResult",
    "PeakModel",
    "PeakTable",
]

#: Largest number of peaks one model may hold.
MAX_PEAKS = 20


@dataclass(frozen=True)
class PeakModel:
    """What is fitted: ``n_peaks`` peaks of one ``shape`` on a ``background``.

    Validated on creation; see :mod:`mi_widgets.spectra.model` for the layout
    of the parameter vectors the methods take.

    Examples
    --------
    >>> m = PeakModel(2, "gaussian", "linear")
    >>> m.n_params, int(m.free.sum())
    (10, 8)
    """

    n_peaks: int
    shape: str = "pseudo_voigt"
    background: str = "linear"

    def __post_init__(self) -> None:
        check_positive_int(self.n_peaks, "n_peaks", maximum=MAX_PEAKS)
        check_choice(self.shape, "shape", pm.SHAPES)
        check_choice(self.background, "background", pm.BACKGROUNDS)

    @property
    def n_params(self) -> int:
        """Entries of a parameter vector."""
        return pm.n_params(self.n_peaks, self.background)

    @property
    def free(self) -> np.ndarray:
        """Which parameters a fit varies (eta only for pseudo-Voigt peaks)."""
        return pm.free_mask(self.n_peaks, self.shape, self.background)

    @property
    def n_free(self) -> int:
        """Number of fitted parameters (the ``p`` of the BIC)."""
        return int(self.free.sum())

    @property
    def default_eta(self) -> float:
        """The Lorentzian fraction a start uses: 0, 1, or 0.5 for pseudo-Voigt."""
        return {"gaussian": 0.0, "lorentzian": 1.0}.get(self.shape, 0.5)

    @property
    def background_names(self) -> tuple[str, ...]:
        """Names of the background parameters."""
        return pm.BACKGROUND_PARAMS[self.background]

    def describe(self) -> str:
        """``"3 pseudo_voigt peaks, linear background"``, for messages."""
        return f"{self.n_peaks} {self.shape} peaks, {self.background} background"

    def check_channels(self, n_channels: int) -> None:
        """Refuse a spectrum with no more channels than free parameters."""
        if n_channels <= self.n_free:
            raise MIInputError(
                f"{self.n_peaks} peaks with a {self.background} background need more than "
                f"{self.n_free} channels; the spectrum has {n_channels}: "
                "use fewer peaks or more channels."
            )

    def check_same(self, other: PeakModel, what: str = "init") -> None:
        """Refuse a previous fit made with another model."""
        if other != self:
            raise MIInputError(
                f"{what} was fitted with {other.n_peaks} {other.shape} peaks on a "
                f"{other.background} background; use the same options ({self.n_peaks} "
                f"{self.shape} peaks, {self.background})."
            )

    def curve(self, x: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Peaks plus background on x, batched over leading axes of ``params``."""
        return pm.model(x, params, self.n_peaks, self.background)

    def components(self, x: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Each peak on x, shape (..., K, C)."""
        return pm.peak_components(x, params, self.n_peaks)

    def background_curve(self, x: np.ndarray, params: np.ndarray) -> np.ndarray:
        """The background on x."""
        return pm.background_curve(x, params, self.n_peaks, self.background)

    def jacobian(self, x: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Derivative of :meth:`curve` with respect to all parameters, (..., C, P)."""
        return pm.jacobian(x, params, self.n_peaks, self.background)


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

    @classmethod
    def from_params(cls, params: np.ndarray, n_peaks: int, cov: np.ndarray | None) -> PeakTable:
        """The table of a parameter vector, with errors from its covariance (or NaN)."""
        center, fwhm, area, eta, _ = pm.split(params, n_peaks)
        height = area * unit_height(fwhm, eta)
        if cov is None:
            nan = np.full(n_peaks, np.nan)
            return cls(center, fwhm, area, height, eta, nan, nan, nan, nan, nan)
        var = np.diag(cov)[: 4 * n_peaks].reshape(n_peaks, 4)
        err = np.sqrt(np.maximum(var, 0.0))
        # delta method with the analytic gradient of height = area * unit_height(fwhm, eta)
        unit = unit_height(fwhm, eta)
        grad = np.stack(
            [
                np.zeros(n_peaks),
                -area * unit / fwhm,
                unit,
                area * (unit_height(fwhm, 1.0) - unit_height(fwhm, 0.0)),
            ],
            axis=1,
        )
        blocks = np.stack([cov[4 * k : 4 * k + 4, 4 * k : 4 * k + 4] for k in range(n_peaks)])
        height_err = np.sqrt(np.maximum(np.einsum("ki,kij,kj->k", grad, blocks, grad), 0.0))
        return cls(
            center, fwhm, area, height, eta, err[:, 0], err[:, 1], err[:, 2], height_err, err[:, 3]
        )


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

    @classmethod
    def from_params(
        cls, params: np.ndarray, model: PeakModel, cov: np.ndarray | None, x0: float
    ) -> BackgroundFit:
        """The background part of a parameter vector, with errors from its covariance."""
        names = model.background_names
        start = 4 * model.n_peaks
        values = params[start:]
        if cov is None:
            errors = {n: float("nan") for n in names}
        else:
            var = np.diag(cov)[start:]
            errors = {n: float(np.sqrt(max(v, 0.0))) for n, v in zip(names, var, strict=True)}
        return cls(
            model.background, {n: float(v) for n, v in zip(names, values, strict=True)}, errors, x0
        )


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
        ``sum_i w_i log p(x_i)`` with ``w_i = y_i dx_i`` and ``p`` the mixture
        density (1 / x units).
    bic : float
        Bayesian information criterion ``-2 log L + p log n`` of the final
        (polished) model, with ``n`` channels and ``p`` free parameters. The
        likelihood ``L`` is that of the channels, not the EM one: Poisson
        ``sum_i y_i log mu_i - mu_i - log y_i!`` when every y is a count (a
        non-negative whole number), else Gaussian with one unknown variance,
        which gives ``n log(RSS / n) + p log n`` up to a constant.
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

    @property
    def peak_model(self) -> PeakModel:
        """The :class:`PeakModel` that was fitted."""
        return PeakModel(self.n_peaks, self.shape, self.background_kind)

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

    @property
    def peak_model(self) -> PeakModel:
        """The :class:`PeakModel` that was fitted."""
        return PeakModel(self.n_peaks, self.shape, self.background_kind)

    def model(self, index: int) -> np.ndarray:
        """Fitted spectrum number ``index`` on the common axis."""
        return pm.model(self.x, self.params[index], self.n_peaks, self.background_kind)

    def components(self, index: int) -> np.ndarray:
        """Peaks of spectrum ``index``, shape (K, C)."""
        return pm.peak_components(self.x, self.params[index], self.n_peaks)

    @classmethod
    def from_params(
        cls,
        x: np.ndarray,
        model: PeakModel,
        params: np.ndarray,
        rss: np.ndarray,
        n_iter: np.ndarray,
        converged: np.ndarray,
    ) -> BatchFitResult:
        """Split parameter vectors (n_spectra, P) into the per-quantity arrays."""
        center, fwhm, area, eta, bg = pm.split(params, model.n_peaks)
        return cls(
            x=x,
            center=center,
            fwhm=fwhm,
            area=area,
            height=area * unit_height(fwhm, eta),
            eta=eta,
            background={n: bg[:, i] for i, n in enumerate(model.background_names)},
            rss=rss,
            n_iter=n_iter.astype(int),
            converged=converged.astype(bool),
            params=params,
            shape=model.shape,
            background_kind=model.background,
        )
