"""Bayesian optimisation over a fixed candidate set (the PHYSBO / COMBO setting).

A :class:`BayesianOptimizer` predicts the value *and its uncertainty* at every
candidate with a Gaussian process (or Bayesian linear regression on random
Fourier features for large sets), scores the unmeasured candidates with an
acquisition function (EI, PI, UCB or Thompson sampling) and suggests the best
ones. It implements the :class:`~mi_widgets.active.campaign.CandidateSampler`
protocol, so a :class:`~mi_widgets.active.campaign.Campaign` can step it
against an oracle and a random baseline.

Continuous search spaces (a box of model parameters, for example) are handled
by passing a dense set of points of the box as candidates: a grid, or
quasi-random points from :func:`scipy.stats.qmc.Sobol`; 10^3-10^4 points in 2-4
dimensions are cheap (see :class:`BayesianOptimizer`, "Continuous boxes").

The acquisition functions are in :mod:`~mi_widgets.bayesopt.acquisition` and the GP vs
linear comparison in :mod:`~mi_widgets.bayesopt.comparison`; both are re-exported here.

References
----------
D. R. Jones, M. Schonlau and W. J. Welch, "Efficient global optimization of
expensive black-box functions", J. Glob. Optim. 13, 455 (1998) (EI).
T. Ueno, T. D. Rhone, Z. Hou, T. Mizoguchi and K. Tsuda, "COMBO: An efficient
Bayesian optimization library for materials science", Mater. Discov. 4, 18 (2016).
Y. Motoyama et al., "Bayesian optimization package: PHYSBO", Comput. Phys.
Commun. 278, 108405 (2022).
S. Kiyohara, H. Oda, K. Tsuda and T. Mizoguchi, "Acceleration of stable interface
structure searching using a kriging approach", Jpn. J. Appl. Phys. 55, 045502 (2016).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from mi_widgets._errors import MIInputError, check_choice, check_finite_array, check_positive_int
from mi_widgets._threads import one_blas_thread
from mi_widgets.bayesopt.acquisition import (
    expected_improvement,
    probability_of_improvement,
    upper_confidence_bound,
)
from mi_widgets.bayesopt.comparison import SurrogateComparison, compare_with_linear
from mi_widgets.bayesopt.gp import (
    KERNELS,
    CandidateGP,
    KernelParams,
    RandomFeatureRegression,
    RandomFeatures,
    learn_hyperparameters,
)

__all__ = [
    "ACQUISITIONS",
    "BayesianOptimizer",
    "SurrogateComparison",
    "compare_with_linear",
    "expected_improvement",
    "probability_of_improvement",
    "upper_confidence_bound",
]

ACQUISITIONS = ("EI", "PI", "UCB", "TS")
SURROGATES = ("auto", "gp", "random_features")
#: "auto" keeps the exact GP while its cache ``n_obs x N`` stays below this many numbers.
AUTO_MAX_CACHE = 32_000_000
#: ... and while there are at most this many observations.
AUTO_MAX_OBSERVATIONS = 1000
#: Hyperparameters are learnt from at most this many observations (a random subset beyond).
MAX_LEARN_OBSERVATIONS = 1000
#: Default normal prior (mean, sd) on log length scales in standardised units: centred on one
#: standard deviation of the feature, sd 0.6 (the spread of BoTorch's Gamma(3, 6) prior).
LENGTH_PRIOR = (0.0, 0.6)
#: With the length prior, noise above this (standardised units) is penalised, so that a
#: handful of points is not explained as pure noise when the length prior leans on it.
NOISE_SCALE = 0.3


def _check_prior(prior: Any) -> tuple[float, float] | None:
    """``None`` or a (mean, positive sd) pair of finite numbers."""
    if prior is None:
        return None
    try:
        values = np.asarray(prior, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        values = np.zeros(0)
    if values.size != 2 or not np.all(np.isfinite(values)) or values[1] <= 0:
        raise MIInputError(f"length_prior must be None or (mean, sd) with sd > 0; got {prior!r}.")
    return float(values[0]), float(values[1])


class BayesianOptimizer:
    """Gaussian-process Bayesian optimisation over a fixed candidate set.

    Parameters
    ----------
    candidates : array_like, shape (N,) or (N, d)
        The candidate inputs (up to ~10^5 x 20). Each feature is standardised with
        the mean and standard deviation over the candidates.
    acquisition : {"EI", "PI", "UCB", "TS"}, default "EI"
        Expected improvement, probability of improvement, upper confidence bound
        (``mu + kappa sigma``) or Thompson sampling (argmax of one posterior draw).
    surrogate : {"auto", "gp", "random_features"}, default "auto"
        ``"gp"``: exact GP with an incremental Cholesky factor; ``"random_features"``:
        Bayesian linear regression on ``n_features`` random Fourier features of the
        same kernel (rank-1 updates, cheap at 10^5 candidates); ``"auto"``: exact
        while the GP cache (observations x candidates) is below 3.2e7 numbers and
        there are at most 1000 observations, random features beyond.
    goal : {"maximize", "minimize"}, default "maximize"
    n_features : int, optional
        Random Fourier features (default 500) of the ``"random_features"``
        surrogate and of Thompson draws from the exact GP.
    kernel : {"matern52", "rbf"}, default "matern52"
    length_scale, amplitude, noise : float
        Starting values of the kernel hyperparameters in standardised units
        (features scaled to unit variance, targets to zero mean and unit variance):
        length scale (every feature), signal standard deviation, noise standard
        deviation.
    learn_every : int, default 10
        Hyperparameter re-learning schedule: by maximum marginal likelihood once two
        observations exist, then whenever the number of observations has grown by
        ``min(learn_every, max(1, n_last // 2))`` since the last learning (so at
        2, 3, 4, 6, 9, 13, 19, 28, 38, 48, ... observations). ``0`` keeps the given
        hyperparameters fixed.
    ard : bool, default True
        One length scale per feature; otherwise one shared length scale.
    length_prior : (float, float) or None, default (0.0, 0.6)
        Mean and standard deviation of a normal prior on each log length scale
        (standardised units); the hyperparameters are then the posterior mode. ``None``
        maximises the marginal likelihood alone (see Notes, "Hyperparameters").
    xi : float, default 0.0
        EI / PI margin, in units of the observed standard deviation.
    kappa : float, default 2.0
        UCB width.
    random_state : int or None
        Seeds the first design (without observations), Thompson draws and features.

    Attributes
    ----------
    candidates : ndarray, shape (N, d)
    measured_mask : ndarray of bool, shape (N,)
    observed_indices_ : ndarray of int
        Measured candidates in the order they were told.
    observed_values_ : ndarray of float
        Their values.
    params_ : KernelParams
        The current kernel hyperparameters (standardised units).
    surrogate_ : str
        The surrogate in use: ``"gp"`` or ``"random_features"``.
    relearned_ : bool
        Whether the last :meth:`tell` re-learnt the hyperparameters.
    timings_ : dict
        Seconds spent in the last ``tell`` (``"fit"``: updating the posterior,
        ``"learn"``: re-learning hyperparameters) and the last scoring (``"score"``).

    Notes
    -----
    *Batches.* ``suggest(n)`` with EI, PI or UCB uses the kriging believer: the
    best candidate is chosen, its posterior mean is told as if observed (a
    fantasy, undone afterwards), the acquisition is recomputed, and so on. With
    TS each of the ``n`` candidates is the argmax of an independent posterior
    draw (a later draw's argmax that was already chosen gives way to the draw's
    next best).

    *Before any observation* ``suggest`` draws candidates uniformly at random
    (seeded by ``random_state``). With one observation the prior
    hyperparameters are used.

    *Thompson draws from the exact GP* use pathwise conditioning: a random-feature
    draw of the prior is corrected by the exact posterior update (Wilson et al. 2020).

    *Hyperparameters.* With one length scale per feature, maximising the marginal
    likelihood alone on a few tens of observations of a rough function often sends a
    length scale to a bound: ``0.03`` (that feature looks like noise) or ``30`` (that
    feature is ignored, so no candidate differing only in it looks uncertain). The
    search then stops looking along that feature. The default log-normal prior keeps
    length scales near the candidates' spread unless the data insist (on the Sigma5
    grain boundary, 40 held-out seeds, it cut the median number of evaluations to the
    optimum from 93.5 to 77; see ``benchmarks/RESULTS.md``).

    *Continuous boxes.* To optimise over a box (say 2-4 model parameters), pass
    points of the box as candidates, e.g. ``scipy.stats.qmc.Sobol(d, seed=0)
    .random_base2(12)`` scaled to the bounds (4096 points); use
    ``goal="minimize"`` for a loss and ``suggest(n)`` for batches. Steps then take
    milliseconds; refine by building a new optimiser on a smaller box around
    :attr:`best_` and telling it the observations inside it.

    Examples
    --------
    >>> x = np.linspace(0, 1, 201)
    >>> f = lambda i: -((x[i] - 0.3) ** 2)
    >>> bo = BayesianOptimizer(x, random_state=0)
    >>> bo.tell([0, 100, 200], f(np.array([0, 100, 200])))
    >>> for _ in range(8):
    ...     i = bo.suggest()
    ...     bo.tell(i, f(i))
    >>> idx, value = bo.best_
    >>> bool(abs(x[idx] - 0.3) <= 0.01)
    True
    """

    def __init__(
        self,
        candidates: Any,
        *,
        acquisition: str = "EI",
        surrogate: str = "auto",
        goal: str = "maximize",
        n_features: int | None = None,
        kernel: str = "matern52",
        length_scale: float = 1.0,
        amplitude: float = 1.0,
        noise: float = 0.1,
        learn_every: int = 10,
        ard: bool = True,
        length_prior: tuple[float, float] | None = LENGTH_PRIOR,
        xi: float = 0.0,
        kappa: float = 2.0,
        random_state: int | None = None,
    ) -> None:
        x = check_finite_array(candidates, "candidates", ndim=(1, 2))
        if x.ndim == 1:
            x = x[:, None]
        if x.shape[0] < 1 or x.shape[1] < 1:
            raise MIInputError(f"candidates must have at least one row and column; got {x.shape}.")
        self.candidates = x
        self.acquisition = check_choice(acquisition, "acquisition", ACQUISITIONS)
        self.surrogate = check_choice(surrogate, "surrogate", SURROGATES)
        self.goal = check_choice(goal, "goal", ("maximize", "minimize"))
        self.n_features = (
            500 if n_features is None else check_positive_int(n_features, "n_features")
        )
        self.kernel = check_choice(kernel, "kernel", KERNELS)
        for name, value in (
            ("length_scale", length_scale),
            ("amplitude", amplitude),
            ("noise", noise),
        ):
            if not (
                isinstance(value, (int, float, np.floating)) and np.isfinite(value) and value > 0
            ):
                raise MIInputError(f"{name} must be a positive number; got {value!r}.")
        self.length_scale = float(length_scale)
        self.amplitude = float(amplitude)
        self.noise = float(noise)
        self.learn_every = check_positive_int(learn_every, "learn_every", minimum=0)
        self.ard = bool(ard)
        self.length_prior = _check_prior(length_prior)
        self.xi = float(xi)
        self.kappa = float(kappa)
        self.random_state = random_state
        mean = x.mean(0)
        std = x.std(0)
        self._x = (x - mean) / np.where(std > 0, std, 1.0)
        self.reset()

    # ----------------------------------------------------------------- state
    def reset(self) -> None:
        """Forget every observation (hyperparameters return to their starting values)."""
        self._rng = np.random.default_rng(self.random_state)
        n, d = self._x.shape
        self.params_ = KernelParams(
            self.kernel, (self.length_scale,) * d, self.amplitude, self.noise
        )
        self.measured_mask = np.zeros(n, dtype=bool)
        self._indices: list[int] = []
        self._values: list[float] = []
        self._model: CandidateGP | RandomFeatureRegression | None = None
        self._features: RandomFeatures | None = None
        self.surrogate_ = "random_features" if self.surrogate == "random_features" else "gp"
        self.n_learned_ = 0
        self.relearned_ = False
        self.timings_ = {"fit": 0.0, "learn": 0.0, "score": 0.0}
        self._scores: np.ndarray | None = None
        self._pending: tuple[int, np.ndarray] | None = None

    @property
    def n_candidates(self) -> int:
        """Number of candidates."""
        return self._x.shape[0]

    @property
    def n_observations(self) -> int:
        """Number of measured candidates."""
        return len(self._indices)

    @property
    def observed_indices_(self) -> np.ndarray:
        """Measured candidates in the order they were told."""
        return np.asarray(self._indices, dtype=int)

    @property
    def observed_values_(self) -> np.ndarray:
        """Observed values in the order of :attr:`observed_indices_`."""
        return np.asarray(self._values, dtype=float)

    @property
    def best_(self) -> tuple[int, float]:
        """``(index, value)`` of the best observation (largest, or smallest when minimising)."""
        if not self._indices:
            raise MIInputError("No observation yet; tell at least one value first.")
        values = self.observed_values_
        k = int(np.argmax(values) if self.goal == "maximize" else np.argmin(values))
        return self._indices[k], float(values[k])

    def best_trace(self) -> np.ndarray:
        """Best value found after each observation, in the order they were told."""
        values = self.observed_values_
        return (
            np.maximum.accumulate(values)
            if self.goal == "maximize"
            else (np.minimum.accumulate(values))
        )

    # ------------------------------------------------------------- observing
    def tell(self, indices: Any, values: Any) -> None:
        """Record observed ``values`` of the candidates ``indices`` and update the posterior.

        Parameters
        ----------
        indices : int or sequence of int
        values : float or sequence of float

        Raises
        ------
        MIInputError
            An index out of range, repeated, or already measured; a value that is
            NaN or infinite; or lengths that differ.
        """
        idx = np.atleast_1d(np.asarray(indices))
        if idx.dtype.kind not in "iu":
            if idx.dtype.kind == "f" and np.all(np.isfinite(idx)) and np.all(idx == np.round(idx)):
                idx = idx.astype(int)
            else:
                raise MIInputError("indices must be whole numbers (candidate row numbers).")
        idx = idx.reshape(-1).astype(int)
        vals = check_finite_array(values, "values", min_size=0).reshape(-1)
        if vals.size != idx.size:
            raise MIInputError(
                f"Got {idx.size} indices but {vals.size} values; give one value per index."
            )
        out = idx[(idx < 0) | (idx >= self.n_candidates)]
        if out.size:
            raise MIInputError(
                f"Index {int(out[0])} is out of range; candidates are numbered "
                f"0 to {self.n_candidates - 1}."
            )
        uniq, counts = np.unique(idx, return_counts=True)
        if (counts > 1).any():
            raise MIInputError(f"Candidate {int(uniq[counts > 1][0])} appears twice in one tell.")
        told = idx[self.measured_mask[idx]]
        if told.size:
            raise MIInputError(
                f"Candidate {int(told[0])} is already measured; each candidate is told once."
            )
        self._indices.extend(int(i) for i in idx)
        self._values.extend(float(v) for v in vals)
        if idx.size == 0:
            return
        self.measured_mask[idx] = True
        self._scores = None
        self._pending = None
        # one BLAS thread: on shared cores threaded BLAS made these small solves slower
        with one_blas_thread():
            self._update(idx)

    def learn(self) -> KernelParams:
        """Re-learn the kernel hyperparameters now by maximum marginal likelihood.

        Raises
        ------
        MIInputError
            With fewer than two observations.
        """
        if self.n_observations < 2:
            raise MIInputError(
                "Learning kernel hyperparameters needs at least two observations; "
                f"got {self.n_observations}."
            )
        start = time.perf_counter()
        with one_blas_thread():
            self._learn()
            self._rebuild()
        self.timings_ = {**self.timings_, "learn": time.perf_counter() - start, "fit": 0.0}
        self.relearned_ = True
        self._scores = None
        self._pending = None
        return self.params_

    def set_hyperparameters(
        self,
        *,
        length_scale: float | None = None,
        amplitude: float | None = None,
        noise: float | None = None,
    ) -> None:
        """Set kernel hyperparameters by hand (standardised units) and refit the posterior.

        Learning stays as scheduled by ``learn_every``; set ``learn_every=0`` to keep these.
        """
        changes: dict[str, Any] = {}
        for name, value in (
            ("length_scale", length_scale),
            ("amplitude", amplitude),
            ("noise", noise),
        ):
            if value is None:
                continue
            if not (np.isfinite(value) and value > 0):
                raise MIInputError(f"{name} must be a positive number; got {value!r}.")
            changes[name] = (
                (float(value),) * self._x.shape[1] if name == "length_scale" else float(value)
            )
        self.params_ = replace(self.params_, **changes, log_marginal_likelihood=float("nan"))
        self._scores = None
        self._pending = None
        if self._indices:
            self._rebuild()

    def _learn_due(self) -> bool:
        n = self.n_observations
        if self.learn_every == 0 or n < 2:
            return False
        if self.n_learned_ == 0:
            return True
        return n - self.n_learned_ >= min(self.learn_every, max(1, self.n_learned_ // 2))

    def _target(self) -> tuple[np.ndarray, float, float]:
        """Observed values standardised with their own mean and standard deviation."""
        y = self.observed_values_
        if y.size == 0:
            return y, 0.0, 1.0
        m = float(y.mean())
        s = float(y.std())
        if y.size < 2 or not s > 1e-12 * max(1.0, abs(m)):
            s = 1.0
        return (y - m) / s, m, s

    def _learn(self) -> None:
        y, _, _ = self._target()
        rows = np.arange(y.size)
        if y.size > MAX_LEARN_OBSERVATIONS:
            rows = np.sort(self._rng.choice(y.size, MAX_LEARN_OBSERVATIONS, replace=False))
        x = self._x[self.observed_indices_[rows]]
        self.params_ = learn_hyperparameters(
            x,
            y[rows],
            self.params_,
            ard=self.ard,
            length_prior=self.length_prior,
            noise_scale=NOISE_SCALE if self.length_prior is not None else None,
        )
        self.n_learned_ = self.n_observations

    def _choose_surrogate(self) -> str:
        if self.surrogate != "auto":
            return self.surrogate
        n = self.n_observations
        cheap = n <= AUTO_MAX_OBSERVATIONS and n * self.n_candidates <= AUTO_MAX_CACHE
        return "gp" if cheap else "random_features"

    def _rebuild(self) -> None:
        self.surrogate_ = self._choose_surrogate()
        if self.surrogate_ == "gp":
            if not isinstance(self._model, CandidateGP):
                self._model = CandidateGP(self._x, self.params_)
            self._model.rebuild(self._indices, self.params_)
        else:
            if not isinstance(self._model, RandomFeatureRegression):
                self._model = RandomFeatureRegression(
                    self._x, self.params_, self.n_features, np.random.default_rng(self.random_state)
                )
            self._model.set_params(self.params_, self._indices)

    def _update(self, new: np.ndarray) -> None:
        self.relearned_ = False
        learn_seconds = 0.0
        start = time.perf_counter()
        if self._learn_due():
            self._learn()
            learn_seconds = time.perf_counter() - start
            self.relearned_ = True
            self._rebuild()
        elif self._model is None or self._choose_surrogate() != self.surrogate_:
            self._rebuild()
        else:
            for i in new:
                self._model.append(int(i))
        total = time.perf_counter() - start
        self.timings_ = {**self.timings_, "fit": total - learn_seconds, "learn": learn_seconds}

    # ------------------------------------------------------------ predicting
    def _posterior_std_units(self) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation in standardised units."""
        if self._model is None:
            n = self.n_candidates
            return np.zeros(n), np.full(n, self.params_.amplitude)
        y, _, _ = self._target()
        mean, var = self._model.mean_var(y)
        return mean, np.sqrt(var)

    def predict(self, return_std: bool = True) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Posterior mean (and standard deviation) of the value at every candidate.

        Parameters
        ----------
        return_std : bool, default True

        Returns
        -------
        mean : ndarray, shape (N,)
        std : ndarray, shape (N,)
            Of the latent function (noise excluded), in the units of the values.
        """
        _, m, s = self._target()
        mean, std = self._posterior_std_units()
        if not return_std:
            return m + s * mean
        return m + s * mean, s * std

    def _score(self, mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
        if self.acquisition == "EI":
            return expected_improvement(mean, std, best, self.xi)
        if self.acquisition == "PI":
            return probability_of_improvement(mean, std, best, self.xi)
        return upper_confidence_bound(mean, std, self.kappa)

    def _sign(self) -> float:
        return 1.0 if self.goal == "maximize" else -1.0

    def _thompson_draw(self) -> np.ndarray:
        """One posterior draw over the candidates, in standardised units, goal-signed."""
        y, _, _ = self._target()
        if self._model is None:
            return self._rng.standard_normal(self.n_candidates)
        if isinstance(self._model, RandomFeatureRegression):
            return self._sign() * self._model.sample(y, self._rng)
        if self._features is None:
            rng = np.random.default_rng(self.random_state)
            self._features = RandomFeatures(self._x.shape[1], self.n_features, self.kernel, rng)
        self._features.params = self.params_
        return self._sign() * self._model.sample(y, self._features, self._rng)

    def acquisition_(self) -> np.ndarray:
        """Acquisition score of every candidate (larger = measure sooner; measured: -inf).

        For TS this is one fresh posterior draw (goal-signed); otherwise EI, PI or UCB
        of the goal-signed, standardised posterior.
        """
        start = time.perf_counter()
        if self.acquisition == "TS":
            scores = self._thompson_draw()
        else:
            mean, std = self._posterior_std_units()
            sign = self._sign()
            y, _, _ = self._target()
            best = float(np.max(sign * y)) if y.size else 0.0
            scores = self._score(sign * mean, std, best)
        scores = np.where(self.measured_mask, -np.inf, scores)
        self.timings_ = {**self.timings_, "score": time.perf_counter() - start}
        self._scores = scores
        return scores

    @property
    def scores_(self) -> np.ndarray:
        """The latest acquisition scores (computed now if none are current)."""
        if self._scores is None:
            return self.acquisition_()
        return self._scores

    # ------------------------------------------------------------ suggesting
    def suggest(self, n: int = 1) -> np.ndarray:
        """Indices of the ``n`` unmeasured candidates to measure next (fewer if fewer remain).

        Batches: kriging believer for EI / PI / UCB, independent draws for TS (see Notes).
        The proposal stands until something changes: calling ``suggest(n)`` again before
        the next :meth:`tell` returns the same candidates (also for TS).
        """
        n = check_positive_int(n, "n")
        if self._pending is not None and self._pending[0] == n:
            return self._pending[1].copy()
        free = np.flatnonzero(~self.measured_mask)
        m = min(n, free.size)
        if m == 0:
            return free[:0]
        if not self._indices:
            chosen = np.sort(self._rng.choice(free, size=m, replace=False))
        else:
            with one_blas_thread():
                if self.acquisition == "TS":
                    chosen = self._suggest_thompson(m)
                else:
                    chosen = self._suggest_believer(m)
        self._pending = (n, chosen)
        return chosen.copy()

    def set_acquisition(self, acquisition: str) -> None:
        """Switch the acquisition function (the posterior is kept)."""
        self.acquisition = check_choice(acquisition, "acquisition", ACQUISITIONS)
        self._scores = None
        self._pending = None

    def _suggest_thompson(self, n: int) -> np.ndarray:
        chosen: list[int] = []
        total = 0.0
        for k in range(n):
            scores = self.acquisition_()
            total += self.timings_["score"]
            scores[chosen] = -np.inf
            chosen.append(int(np.argmax(scores)))
            if k == 0:
                first = scores
        self._scores = first
        self.timings_["score"] = total
        return np.asarray(chosen, dtype=int)

    def _suggest_believer(self, n: int) -> np.ndarray:
        first = self.acquisition_()
        if n == 1:
            return np.array([int(np.argmax(first))])
        start = time.perf_counter()
        model = self._model
        y, _, _ = self._target()
        sign = self._sign()
        best = float(np.max(sign * y))
        n_real = model.n
        saved = model.chol.copy() if isinstance(model, RandomFeatureRegression) else None
        scores = first.copy()
        chosen: list[int] = []
        fantasy = list(y)
        try:
            for k in range(n):
                j = int(np.argmax(scores))
                chosen.append(j)
                if k == n - 1:
                    break
                mean_all, _ = model.mean_var(np.asarray(fantasy))
                model.append(j)
                fantasy.append(float(mean_all[j]))
                best = max(best, sign * fantasy[-1])
                mean, var = model.mean_var(np.asarray(fantasy))
                scores = self._score(sign * mean, np.sqrt(var), best)
                scores[self.measured_mask] = -np.inf
                scores[chosen] = -np.inf
        finally:
            if isinstance(model, RandomFeatureRegression):
                model.chol = saved
                del model.indices[n_real:]
            else:
                model.truncate(n_real)
        self._scores = first
        self.timings_["score"] += time.perf_counter() - start
        return np.asarray(chosen, dtype=int)
