"""Fit one peak model to many spectra on a common axis: vectorised EM, batched least squares.

Spectra are split into chunks (independent tasks for :func:`mi_widgets._parallel.map_chunks`,
on local threads or a Dask cluster); inside a chunk, blocks of spectra run as
arrays of shape (block, K, channels).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mi_widgets._errors import check_choice, check_positive_int
from mi_widgets._parallel import map_chunks, split_rows
from mi_widgets._threads import one_blas_thread
from mi_widgets.spectra import model as pm
from mi_widgets.spectra.em import EMGrid, EMState, params_to_state, run_em, state_to_params
from mi_widgets.spectra.polish import parameter_bounds
from mi_widgets.spectra.results import BatchFitResult, PeakFitResult, PeakModel
from mi_widgets.spectra.single import check_spectrum, em_weights, fit_peaks
from mi_widgets.spectra.starts import init_vector

__all__ = ["fit_many"]

_BLOCK = 32
#: batched LM stops when an accepted step lowers the RSS by less than this fraction
_LM_GAIN = 1e-8
_LM_ITERATIONS = 20


def lm_polish(
    x: np.ndarray,
    y: np.ndarray,
    params: np.ndarray,
    model: PeakModel,
    grid: EMGrid,
    n_iter: int,
) -> np.ndarray:
    """Batched Levenberg-Marquardt: the same least-squares problem as the scipy polish."""
    free = model.free
    lower, upper = parameter_bounds(x, model, grid)
    params = np.clip(params, lower, upper)
    residual = y - model.curve(x, params)
    rss = np.sum(residual**2, axis=1)
    damping = np.full(y.shape[0], 1e-3)
    active = np.arange(y.shape[0])
    eye = np.eye(int(free.sum()))
    lower_free, upper_free = lower[free], upper[free]
    for _ in range(n_iter):
        p = params[active]
        jac = model.jacobian(x, p)[:, :, free]
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
        trial_res = y[active] - model.curve(x, trial)
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
    spectra: np.ndarray,
    x: np.ndarray,
    start_params: np.ndarray,
    model: PeakModel,
    max_iter: int,
    tol: float,
    polish: bool,
) -> np.ndarray:
    """EM from a common start, then batched least squares, for one chunk of spectra.

    Returns one row per spectrum: parameters, RSS, EM iterations, converged.
    The chunk runs in blocks of ``_BLOCK`` spectra so that the
    (block, K, channels) work arrays stay in the CPU cache.
    """
    with one_blas_thread():
        blocks = [
            _fit_block(x, block, start_params, model, max_iter, tol, polish)
            for block in split_rows(spectra, _BLOCK)
        ]
    return np.concatenate(blocks, axis=0)


def _fit_block(x, y, start_params, model: PeakModel, max_iter, tol, polish) -> np.ndarray:
    grid = EMGrid.from_x(x)
    weights = em_weights(y, grid.dx)
    state = _state_from_params(grid, start_params, weights, model)
    run = run_em(grid, weights, state, model.shape, model.background, max_iter=max_iter, tol=tol)
    params = state_to_params(grid, run.state, model.background)
    if polish:
        params = lm_polish(x, y, params, model, grid, n_iter=_LM_ITERATIONS)
    params = sort_peaks(params, model.n_peaks)
    rss = np.sum((model.curve(x, params) - y) ** 2, axis=1)
    return np.concatenate(
        [params, rss[:, None], run.n_iter[:, None], run.converged[:, None]], axis=1
    )


def sort_peaks(params: np.ndarray, n_peaks: int) -> np.ndarray:
    """Order the peaks of every parameter vector by centre."""
    center, fwhm, area, eta, bg = pm.split(params, n_peaks)
    order = np.argsort(center, axis=1)
    center, fwhm, area, eta = (
        np.take_along_axis(a, order, axis=1) for a in (center, fwhm, area, eta)
    )
    return pm.join(center, fwhm, area, eta, bg)


def _state_from_params(
    grid: EMGrid, params: np.ndarray, weights: np.ndarray, model: PeakModel
) -> EMState:
    """EM start for every spectrum: the common parameters, masses scaled to each spectrum."""
    state = params_to_state(grid, params[None, :], model.n_peaks, model.background)
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
    check_choice(shape, "shape", pm.SHAPES)
    check_choice(background, "background", pm.BACKGROUNDS)
    x, spectra = check_spectrum(x, spectra, ndim=2)
    model = PeakModel(n_peaks, shape, background)
    model.check_channels(x.size)
    check_positive_int(chunk_size, "chunk_size")
    if n_jobs is not None:
        check_positive_int(n_jobs, "n_jobs")
    em_weights(spectra, EMGrid.from_x(x).dx, "spectra")
    start = _common_start(x, spectra, model, init, random_state)
    outputs = map_chunks(
        _fit_chunk,
        split_rows(spectra, chunk_size),
        shared=(x, start, model, max_iter, tol, polish),
        n_jobs=n_jobs,
        client=client,
        progress=progress,
    )
    out = np.concatenate(outputs, axis=0)
    n_par = model.n_params
    return BatchFitResult.from_params(
        x, model, out[:, :n_par], out[:, n_par], out[:, n_par + 1], out[:, n_par + 2]
    )


def _common_start(x, spectra, model: PeakModel, init, random_state) -> np.ndarray:
    if isinstance(init, PeakFitResult):
        model.check_same(init.peak_model)
        return init.params
    if init is not None:
        init = init_vector(init, model)
    fit = fit_peaks(
        x,
        spectra.mean(axis=0),
        model.n_peaks,
        shape=model.shape,
        background=model.background,
        init=init,
        random_state=random_state,
    )
    return fit.params
