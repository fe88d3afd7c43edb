"""Gaussian-process regression for Bayesian optimisation, in numpy and scipy.

Three pieces, all on inputs the caller has already scaled:

* :func:`kernel_matrix` and :func:`log_marginal_likelihood` (with its analytic
  gradient) for a stationary kernel (``"rbf"`` or ``"matern52"``) with one length
  scale per feature (ARD), a signal amplitude and a white-noise level;
  :func:`learn_hyperparameters` maximises the marginal likelihood with L-BFGS-B.
* :class:`GaussianProcess`, a small scikit-learn-style regressor (``fit`` /
  ``predict``) on those pieces.
* :class:`CandidateGP` and :class:`RandomFeatureRegression`: posteriors over a
  *fixed* candidate set that are updated one observation at a time. The exact
  GP keeps ``V = L^-1 K(X, C)`` and appends one row per observation (incremental
  Cholesky, ``O(n N)`` per step); the random-feature model is Bayesian linear
  regression on random Fourier features whose posterior precision is updated by
  rank-1 Cholesky updates (``O(M^2)`` per step).

References
----------
C. E. Rasmussen and C. K. I. Williams, *Gaussian Processes for Machine Learning*,
MIT Press (2006), Algorithm 2.1 and Eq. 5.9. A. Rahimi and B. Recht, "Random
features for large-scale kernel machines", NeurIPS (2007). J. T. Wilson et al.,
"Efficiently sampling functions from Gaussian process posteriors", ICML (2020).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.optimize import minimize

from mi_widgets._errors import MIInputError, check_choice, check_finite_array

__all__ = [
    "KERNELS",
    "CandidateGP",
    "GaussianProcess",
    "KernelParams",
    "RandomFeatureRegression",
    "kernel_matrix",
    "learn_hyperparameters",
    "log_marginal_likelihood",
]

#: Kernels understood by this module.
KERNELS = ("rbf", "matern52")
_SQRT5 = np.sqrt(5.0)
#: Bounds of the learnt hyperparameters (inputs and targets standardised).
LENGTH_BOUNDS = (0.03, 30.0)
AMPLITUDE_BOUNDS = (0.05, 10.0)
NOISE_BOUNDS = (1e-3, 1.0)
#: Added to the diagonal so that duplicate inputs with a tiny noise stay factorisable.
_JITTER = 1e-10


@dataclass(frozen=True)
class KernelParams:
    """Hyperparameters of a stationary kernel plus white noise.

    Attributes
    ----------
    kind : str
        ``"rbf"`` (squared exponential) or ``"matern52"``.
    length_scale : tuple of float
        One length scale per input feature (ARD), in input units.
    amplitude : float
        Signal standard deviation ``sigma_f`` (the kernel is ``sigma_f^2 k(r)``).
    noise : float
        Noise standard deviation ``sigma_n`` added on the training diagonal.
    log_marginal_likelihood : float
        The log marginal likelihood these values reached (NaN when not learnt).
    """

    kind: str
    length_scale: tuple[float, ...]
    amplitude: float = 1.0
    noise: float = 0.01
    log_marginal_likelihood: float = float("nan")

    @property
    def theta(self) -> np.ndarray:
        """``log([sigma_f, l_1, ..., l_d, sigma_n])``, the optimiser's coordinates."""
        return np.log([self.amplitude, *self.length_scale, self.noise])

    @classmethod
    def from_theta(cls, kind: str, theta: np.ndarray, lml: float = float("nan")) -> KernelParams:
        """Inverse of :attr:`theta`."""
        values = np.exp(np.asarray(theta, dtype=float))
        return cls(
            kind,
            tuple(float(v) for v in values[1:-1]),
            float(values[0]),
            float(values[-1]),
            float(lml),
        )


def _scaled_sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of ``a`` and ``b`` (already scaled)."""
    d2 = a @ b.T  # in place from here: these matrices are the largest arrays of a step
    d2 *= -2.0
    d2 += (a * a).sum(1)[:, None]
    d2 += (b * b).sum(1)[None, :]
    return np.maximum(d2, 0.0, out=d2)


def _profile(kind: str, d2: np.ndarray) -> np.ndarray:
    """``k(r)`` of unit amplitude from the squared scaled distance (overwrites ``d2``)."""
    if kind == "rbf":
        d2 *= -0.5
        return np.exp(d2, out=d2)
    r = np.sqrt(d2)
    r *= _SQRT5
    d2 *= 5.0 / 3.0
    d2 += 1.0
    d2 += r  # 1 + sqrt(5) r + 5 r^2 / 3
    np.negative(r, out=r)
    d2 *= np.exp(r, out=r)
    return d2


def kernel_matrix(a: np.ndarray, b: np.ndarray, params: KernelParams) -> np.ndarray:
    """Covariance ``sigma_f^2 k(|a_i - b_j|_l)`` between the rows of ``a`` and ``b``.

    Parameters
    ----------
    a, b : ndarray, shape (n, d) and (m, d)
    params : KernelParams

    Returns
    -------
    ndarray, shape (n, m)

    Examples
    --------
    >>> p = KernelParams("rbf", (1.0,), amplitude=2.0)
    >>> round(float(kernel_matrix(np.zeros((1, 1)), np.ones((1, 1)), p)[0, 0]), 12)  # 4 exp(-1/2)
    2.426122638851
    """
    scale = np.asarray(params.length_scale, dtype=float)
    k = _profile(params.kind, _scaled_sqdist(a / scale, b / scale))
    k *= params.amplitude**2
    return k


def log_marginal_likelihood(
    x: np.ndarray, y: np.ndarray, theta: np.ndarray, kind: str = "rbf"
) -> tuple[float, np.ndarray]:
    """Log marginal likelihood ``log p(y | X, theta)`` and its gradient in ``theta``.

    Parameters
    ----------
    x : ndarray, shape (n, d)
    y : ndarray, shape (n,)
        Targets (zero prior mean).
    theta : ndarray, shape (d + 2,)
        ``log([sigma_f, l_1, ..., l_d, sigma_n])``; a single length scale
        (``theta`` of length 3) is shared by every feature.
    kind : {"rbf", "matern52"}

    Returns
    -------
    value : float
        ``-y^T K^-1 y / 2 - log|K| / 2 - n log(2 pi) / 2`` (Rasmussen and Williams Eq. 2.30).
    gradient : ndarray, shape (len(theta),)
        Eq. 5.9: ``tr((alpha alpha^T - K^-1) dK/dtheta_j) / 2``.
    """
    theta = np.asarray(theta, dtype=float)
    n, d = x.shape
    amp2 = np.exp(2.0 * theta[0])
    scales = np.exp(theta[1:-1])
    noise2 = np.exp(2.0 * theta[-1])
    shared = scales.size == 1 and d > 1
    xs = x / scales
    parts = (xs[:, None, :] - xs[None, :, :]) ** 2  # (n, n, d) scaled squared differences
    d2 = parts.sum(-1)
    if kind == "rbf":
        kf = amp2 * np.exp(-0.5 * d2)
        dk_dpart = kf  # d k / d log l_k = k * part_k
    else:
        r = np.sqrt(d2)
        e = np.exp(-_SQRT5 * r)
        kf = amp2 * (1.0 + _SQRT5 * r + (5.0 / 3.0) * d2) * e
        dk_dpart = amp2 * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e
    k = kf + (noise2 + _JITTER) * np.eye(n)
    try:
        chol = cholesky(k, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return -np.inf, np.zeros_like(theta)
    alpha = cho_solve((chol, True), y, check_finite=False)
    value = -0.5 * y @ alpha - np.log(np.diag(chol)).sum() - 0.5 * n * np.log(2.0 * np.pi)
    inner = np.outer(alpha, alpha) - cho_solve((chol, True), np.eye(n), check_finite=False)
    grad = np.empty_like(theta)
    grad[0] = 0.5 * np.sum(inner * 2.0 * kf)
    weighted = inner * dk_dpart
    if shared:
        grad[1] = 0.5 * np.sum(weighted * d2)
    else:
        grad[1:-1] = 0.5 * np.einsum("ij,ijk->k", weighted, parts)
    grad[-1] = 0.5 * np.trace(inner) * 2.0 * noise2
    return float(value), grad


def learn_hyperparameters(
    x: np.ndarray,
    y: np.ndarray,
    start: KernelParams,
    *,
    ard: bool = True,
    fix_noise: bool = False,
    length_prior: tuple[float, float] | None = None,
    noise_scale: float | None = None,
) -> KernelParams:
    """Maximise the log marginal likelihood from ``start`` (and a default start up to 100 points).

    Inputs and targets should be standardised: the bounds are length scales in
    ``[0.03, 30]``, amplitude in ``[0.05, 10]`` and noise in ``[1e-3, 1]``. With
    ``length_prior`` the maximum is a posterior mode (MAP): each log length scale
    has a normal prior, which keeps a few observations from sending a length scale
    to a bound (``0.03``: the feature seen as noise; ``30``: the feature ignored);
    ``noise_scale`` keeps a handful of points from being explained as pure noise.

    Parameters
    ----------
    x : ndarray, shape (n, d)
    y : ndarray, shape (n,)
    start : KernelParams
        The current values (warm start); the kernel kind is kept.
    ard : bool, default True
        One length scale per feature; otherwise a single shared one.
    fix_noise : bool, default False
        Keep ``start.noise`` instead of learning it.
    length_prior : (float, float), optional
        Mean and standard deviation of a normal prior on every ``log(length_scale)``;
        ``None`` (default) maximises the marginal likelihood alone (ML-II).
    noise_scale : float, optional
        Penalise noise above this level: the log prior ``-sigma_n^2 / (2 s^2)`` in the
        optimiser's coordinates (flat for ``sigma_n << s``); ``None`` (default): no prior.

    Returns
    -------
    KernelParams
        With ``log_marginal_likelihood`` set (the likelihood alone, prior excluded).

    Raises
    ------
    MIInputError
        With fewer than two observations.
    """
    n, d = x.shape
    if n < 2:
        raise MIInputError(
            f"Learning kernel hyperparameters needs at least two observations; got {n}."
        )
    n_scales = d if ard else 1
    bounds = [np.log(AMPLITUDE_BOUNDS)] + [np.log(LENGTH_BOUNDS)] * n_scales
    bounds.append(np.log(NOISE_BOUNDS) if not fix_noise else (np.log(start.noise),) * 2)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    warm = start.theta
    if not ard:
        warm = np.array([warm[0], np.mean(warm[1:-1]), warm[-1]])
    default = np.zeros(n_scales + 2)
    default[-1] = np.log(0.1) if not fix_noise else warm[-1]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = log_marginal_likelihood(x, y, theta, start.kind)
        if not np.isfinite(value):
            return 1e25, np.zeros_like(theta)
        prior, prior_grad = _log_prior(theta, length_prior, noise_scale)
        return -(value + prior), -(grad + prior_grad)

    best = None
    starts = [np.clip(warm, lo, hi)]
    if n <= 100:  # beyond, the warm start (the previous optimum) is a reliable single start
        starts.append(np.clip(default, lo, hi))
    for theta0 in starts:
        res = minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            bounds=list(zip(lo, hi, strict=True)),
            options={"maxiter": 200},
        )
        if best is None or res.fun < best.fun:
            best = res
    theta = best.x
    lml = -float(best.fun) - _log_prior(theta, length_prior, noise_scale)[0]
    if not ard:
        theta = np.concatenate([[theta[0]], np.full(d, theta[1]), [theta[-1]]])
    return KernelParams.from_theta(start.kind, theta, lml)


def _log_prior(
    theta: np.ndarray,
    length_prior: tuple[float, float] | None,
    noise_scale: float | None,
) -> tuple[float, np.ndarray]:
    """Log prior of ``theta`` (up to a constant) and its gradient.

    Normal on each log length scale; ``-sigma_n^2 / (2 s^2)`` on the noise.
    """
    grad = np.zeros_like(theta)
    value = 0.0
    if length_prior is not None:
        mean, std = length_prior
        offset = theta[1:-1] - mean
        grad[1:-1] = -offset / std**2
        value -= 0.5 * float(np.sum(offset**2)) / std**2
    if noise_scale is not None:
        variance = np.exp(2.0 * theta[-1]) / noise_scale**2
        value -= 0.5 * float(variance)
        grad[-1] = -variance
    return float(value), grad


class GaussianProcess:
    """Exact Gaussian-process regression with a fixed or learnt ARD kernel.

    A small scikit-learn-style estimator: zero prior mean on the (optionally
    standardised) targets, kernel ``sigma_f^2 k(r) + sigma_n^2 delta``.

    Parameters
    ----------
    kernel : {"rbf", "matern52"}, default "rbf"
    length_scale : float or sequence of float, default 1.0
    amplitude : float, default 1.0
        Signal standard deviation ``sigma_f``.
    noise : float, default 0.01
        Noise standard deviation ``sigma_n`` (training diagonal only).
    learn : bool, default False
        Learn amplitude, length scales and noise by maximum marginal likelihood in ``fit``.
    normalize_y : bool, default False
        Subtract the mean of ``y`` and divide by its standard deviation before fitting.

    Attributes
    ----------
    params_ : KernelParams
        The kernel used (learnt when ``learn=True``).

    Examples
    --------
    >>> x = np.linspace(0, 1, 5)[:, None]
    >>> gp = GaussianProcess(length_scale=0.3, noise=1e-4).fit(x, np.sin(3 * x[:, 0]))
    >>> mean, std = gp.predict(x[:2], return_std=True)
    >>> bool(np.allclose(mean, np.sin(3 * x[:2, 0]), atol=1e-6)), bool(std.max() < 1e-3)
    (True, True)
    """

    def __init__(
        self,
        kernel: str = "rbf",
        *,
        length_scale: float | tuple[float, ...] = 1.0,
        amplitude: float = 1.0,
        noise: float = 0.01,
        learn: bool = False,
        normalize_y: bool = False,
    ) -> None:
        self.kernel = kernel
        self.length_scale = length_scale
        self.amplitude = amplitude
        self.noise = noise
        self.learn = learn
        self.normalize_y = normalize_y

    def fit(self, x: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """Factorise the training covariance (and learn the kernel if asked)."""
        check_choice(self.kernel, "kernel", KERNELS)
        x = check_finite_array(x, "x", ndim=2)
        y = check_finite_array(y, "y", ndim=1)
        if x.shape[0] != y.size:
            raise MIInputError(f"x has {x.shape[0]} rows but y has {y.size} values.")
        scale = np.broadcast_to(np.asarray(self.length_scale, dtype=float), (x.shape[1],))
        params = KernelParams(self.kernel, tuple(scale), float(self.amplitude), float(self.noise))
        self.y_mean_, self.y_std_ = 0.0, 1.0
        if self.normalize_y:
            self.y_mean_ = float(y.mean())
            self.y_std_ = float(y.std()) or 1.0
        target = (y - self.y_mean_) / self.y_std_
        if self.learn:
            params = learn_hyperparameters(x, target, params)
        k = kernel_matrix(x, x, params) + (params.noise**2 + _JITTER) * np.eye(y.size)
        self.chol_ = cholesky(k, lower=True, check_finite=False)
        self.alpha_ = cho_solve((self.chol_, True), target, check_finite=False)
        self.x_train_ = x
        self.params_ = params
        return self

    def predict(
        self, x: np.ndarray, return_std: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Posterior mean (and standard deviation of the latent function) at ``x``."""
        x = check_finite_array(x, "x", ndim=2)
        ks = kernel_matrix(x, self.x_train_, self.params_)
        mean = self.y_mean_ + self.y_std_ * (ks @ self.alpha_)
        if not return_std:
            return mean
        v = solve_triangular(self.chol_, ks.T, lower=True, check_finite=False)
        var = np.maximum(self.params_.amplitude**2 - (v * v).sum(0), 0.0)
        return mean, self.y_std_ * np.sqrt(var)


class CandidateGP:
    """Exact GP posterior over a fixed candidate matrix, grown one observation at a time.

    Keeps the lower Cholesky factor ``L`` of ``K(X, X) + sigma_n^2 I`` and the
    whitened cross-covariance ``V = L^-1 K(X, C)`` (one row per observation), so
    that adding observation ``j`` costs one kernel row and one ``n x N``
    product, and the posterior over all candidates is ``mean = V^T L^-1 y``,
    ``var = sigma_f^2 - sum(V^2, axis=0)``.

    Parameters
    ----------
    candidates : ndarray, shape (N, d)
        Scaled candidate inputs.
    params : KernelParams
    """

    def __init__(self, candidates: np.ndarray, params: KernelParams) -> None:
        self.candidates = candidates
        self.params = params
        self.indices: list[int] = []
        self._chol = np.zeros((0, 0))
        self._v = np.zeros((0, candidates.shape[0]))
        self._explained = np.zeros(candidates.shape[0])  # running sum of V**2 over rows

    @property
    def n(self) -> int:
        """Number of observations in the factor."""
        return len(self.indices)

    def rebuild(self, indices: list[int], params: KernelParams) -> None:
        """Factorise from scratch (new hyperparameters), in blocks over candidates."""
        self.params = params
        self.indices = list(indices)
        n = len(indices)
        x = self.candidates[indices]
        k = kernel_matrix(x, x, params) + (params.noise**2 + _JITTER) * np.eye(n)
        self._chol = cholesky(k, lower=True, check_finite=False) if n else np.zeros((0, 0))
        v = self._v  # the cache is the big array: reuse it, grow it by a quarter when full
        if v.shape[0] < n:
            v = np.empty((n + max(32, n // 4), self.candidates.shape[0]))
        explained = np.zeros(self.candidates.shape[0])
        for start in range(0, self.candidates.shape[0], 4096):
            block = slice(start, start + 4096)
            kx = kernel_matrix(x, self.candidates[block], params)
            vb = solve_triangular(self._chol, kx, lower=True, overwrite_b=True, check_finite=False)
            v[:n, block] = vb
            explained[block] = np.einsum("ij,ij->j", vb, vb)
        self._v = v
        self._explained = explained

    def append(self, index: int) -> None:
        """Add candidate ``index`` as an observation (one Cholesky row, one ``V`` row)."""
        n = self.n
        p = self.params
        l_row = self._v[:n, index].copy()
        d2 = p.amplitude**2 + p.noise**2 + _JITTER - l_row @ l_row
        d = np.sqrt(max(d2, _JITTER))
        krow = kernel_matrix(self.candidates[index : index + 1], self.candidates, p)[0]
        new_v = (krow - l_row @ self._v[:n]) / d
        chol = np.zeros((n + 1, n + 1))
        chol[:n, :n] = self._chol
        chol[n, :n] = l_row
        chol[n, n] = d
        if n + 1 > self._v.shape[0]:
            grown = np.empty((n + 1 + max(32, n // 4), self._v.shape[1]))
            grown[:n] = self._v[:n]
            self._v = grown
        self._v[n] = new_v
        self._chol = chol
        self._explained = self._explained + new_v**2
        self.indices.append(int(index))

    def truncate(self, n: int) -> None:
        """Drop every observation after the first ``n`` (undo fantasy appends)."""
        if n >= self.n:
            return
        self._explained = self._explained - (self._v[n : self.n] ** 2).sum(0)
        self._chol = self._chol[:n, :n]
        del self.indices[n:]

    def whiten(self, y: np.ndarray) -> np.ndarray:
        """``L^-1 y`` for targets ordered like :attr:`indices`."""
        return solve_triangular(self._chol, y, lower=True, check_finite=False)

    def mean_var(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and latent variance at every candidate for standardised ``y``."""
        mean = self.whiten(y) @ self._v[: self.n]
        var = np.maximum(self.params.amplitude**2 - self._explained, 0.0)
        return mean, var

    def sample(self, y: np.ndarray, features: RandomFeatures, rng: np.random.Generator):
        """One posterior draw over the candidates by pathwise conditioning (Wilson 2020).

        ``f_post = f_prior + K(C, X) (K + sigma_n^2 I)^-1 (y - f_prior(X) - eps)``
        with ``f_prior`` a random-Fourier-feature draw of the prior.
        """
        weights = rng.standard_normal(features.n_features)
        prior = features.apply(self.candidates, weights)
        eps = self.params.noise * rng.standard_normal(self.n)
        residual = y - prior[self.indices] - eps
        return prior + self.whiten(residual) @ self._v[: self.n]


class RandomFeatures:
    """Random Fourier features ``phi(x) = sigma_f sqrt(2/M) cos(W x / l + b)`` of a kernel.

    ``phi(x) . phi(x')`` tends to ``sigma_f^2 k(x - x')`` as ``M`` grows (Rahimi and
    Recht 2007). The spectral draws are fixed by the seed, so new hyperparameters
    only rescale them.

    Parameters
    ----------
    n_dims : int
    n_features : int
    kind : {"rbf", "matern52"}
        Gaussian frequencies for the RBF kernel, Student-t (5 degrees of freedom) for Matern 5/2.
    rng : numpy.random.Generator
    """

    def __init__(self, n_dims: int, n_features: int, kind: str, rng: np.random.Generator):
        self.n_features = n_features
        omega = rng.standard_normal((n_dims, n_features))
        if kind == "matern52":
            omega /= np.sqrt(rng.chisquare(5.0, n_features) / 5.0)
        self.omega = omega
        self.phase = rng.uniform(0.0, 2.0 * np.pi, n_features)
        self.params: KernelParams | None = None

    def matrix(self, x: np.ndarray, params: KernelParams, dtype=np.float64) -> np.ndarray:
        """Feature matrix, shape (len(x), M), computed in blocks of rows."""
        w = self.omega / np.asarray(params.length_scale)[:, None]
        scale = params.amplitude * np.sqrt(2.0 / self.n_features)
        out = np.empty((x.shape[0], self.n_features), dtype=dtype)
        for start in range(0, x.shape[0], 4096):
            block = slice(start, start + 4096)
            out[block] = scale * np.cos(x[block] @ w + self.phase)
        return out

    def apply(self, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``phi(x) @ weights`` without keeping the whole feature matrix."""
        out = np.empty(x.shape[0])
        for start in range(0, x.shape[0], 4096):
            block = slice(start, start + 4096)
            out[block] = self.matrix(x[block], self.params) @ weights
        return out


def _cholupdate(chol: np.ndarray, vec: np.ndarray) -> None:
    """In place: lower ``L`` becomes the factor of ``L L^T + v v^T`` (rank-1 update)."""
    x = vec.astype(float, copy=True)
    m = x.size
    for k in range(m):
        lkk = chol[k, k]
        r = np.hypot(lkk, x[k])
        c, s = r / lkk, x[k] / lkk
        chol[k, k] = r
        if k + 1 < m:
            chol[k + 1 :, k] = (chol[k + 1 :, k] + s * x[k + 1 :]) / c
            x[k + 1 :] = c * x[k + 1 :] - s * chol[k + 1 :, k]


class RandomFeatureRegression:
    """Bayesian linear regression on random Fourier features over a fixed candidate set.

    Prior ``w ~ N(0, I)``, likelihood ``y = phi(x) . w + N(0, sigma_n^2)``; the
    posterior precision ``A = I + Phi_X^T Phi_X / sigma_n^2`` is kept as its
    Cholesky factor and updated by one rank-1 update per observation. The feature
    matrix of every candidate is computed once per kernel (float32 above 10^7
    entries) so that scoring is one matrix-vector product.

    Parameters
    ----------
    candidates : ndarray, shape (N, d)
    params : KernelParams
    n_features : int
    rng : numpy.random.Generator
    """

    def __init__(
        self,
        candidates: np.ndarray,
        params: KernelParams,
        n_features: int,
        rng: np.random.Generator,
    ) -> None:
        self.candidates = candidates
        self.features = RandomFeatures(candidates.shape[1], n_features, params.kind, rng)
        self.indices: list[int] = []
        self.set_params(params)

    def set_params(self, params: KernelParams, indices: list[int] | None = None) -> None:
        """New hyperparameters: recompute the feature matrix and refactor ``A``."""
        self.params = params
        self.features.params = params
        big = self.candidates.shape[0] * self.features.n_features > 10**7
        dtype = np.float32 if big else np.float64
        self.phi = self.features.matrix(self.candidates, params, dtype)
        self.indices = list(self.indices if indices is None else indices)
        rows = self.phi[self.indices].astype(float)
        a = np.eye(self.features.n_features) + rows.T @ rows / params.noise**2
        self.chol = cholesky(a, lower=True, check_finite=False)

    @property
    def n(self) -> int:
        """Number of observations."""
        return len(self.indices)

    def append(self, index: int) -> None:
        """Add candidate ``index`` as an observation: one rank-1 update of ``chol(A)``."""
        _cholupdate(self.chol, self.phi[index].astype(float) / self.params.noise)
        self.indices.append(int(index))

    def weights(self, y: np.ndarray) -> np.ndarray:
        """Posterior mean of the weights for standardised ``y`` (ordered like :attr:`indices`)."""
        rhs = self.phi[self.indices].astype(float).T @ y / self.params.noise**2
        return cho_solve((self.chol, True), rhs, check_finite=False)

    def mean_var(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of ``phi(c) . w`` at every candidate."""
        mean = self.phi @ self.weights(y).astype(self.phi.dtype)
        var = np.empty(self.phi.shape[0])
        for start in range(0, var.size, 4096):
            block = slice(start, start + 4096)
            v = solve_triangular(
                self.chol, self.phi[block].T.astype(float), lower=True, check_finite=False
            )
            var[block] = (v * v).sum(0)
        return mean.astype(float), var

    def sample(self, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One posterior draw ``phi(C) w``, ``w ~ N(mu, A^-1)``: one product over candidates."""
        z = rng.standard_normal(self.features.n_features)
        w = self.weights(y) + solve_triangular(self.chol.T, z, lower=False, check_finite=False)
        return (self.phi @ w.astype(self.phi.dtype)).astype(float)
