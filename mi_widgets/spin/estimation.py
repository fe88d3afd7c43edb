"""Hamiltonian estimation: spin couplings from magnetisation curves, MAP and posterior.

Following Tamura & Hukushima, PRB 95, 064407 (2017) and Tamura et al., PRB 101,
224435 (2020). For couplings x (meV, one per coupling name of the cluster) the
forward model y_cal(B_l, T; x) is exact diagonalisation (:mod:`mi_widgets.spin.ed`)
and the estimate minimises

    E(x) = 1/(2 sigma^2) sum_l [y_ex(B_l) - y_cal(B_l; x)]^2 + lambda R(x),

R(x) = sum_k x_k^2 (``prior="l2"``) or sum_k |x_k| (``prior="l1"``), over a box
of couplings. sigma is the noise of the data (mu_B per spin); chi^2(x) below
is the plain sum of squared residuals (a chi(T) curve, when given, adds its
residuals weighted by (sigma / sigma_chi)^2).

* Searches (one forward call = one ED of every S^z sector, reused for all fields
  and temperatures): Bayesian optimisation with ``mi_widgets.bayesopt.BayesianOptimizer``
  on scrambled Sobol candidates of a box that shrinks around the incumbent, then
  short bounded least-squares polishes (:class:`BayesianCouplingSearch`), multistart
  L-BFGS-B, a regular grid and uniform random points.
* L-BFGS-B uses the analytic gradient dE/dx (:mod:`mi_widgets.spin.gradient`): the
  diagonalisation with eigenvectors also gives each level's slope dE_n/dJ_k, hence
  dM/dJ at every field and temperature, so one forward call yields E(x) and its
  gradient and counts once (finite differences would cost n_couplings + 1 calls); the
  same call gives the residuals' Jacobian, which the least-squares polishes use.
* The regularisation strength is read at the elbow of chi^2(x*_lambda) against
  2 sigma^2 lambda (:meth:`HamiltonianEstimator.elbow`).
* The noise is chosen at the minimum of the free energy
  F(sigma) = -log p(y | sigma) = (n/2) log(2 pi sigma^2) - log Z(sigma),
  Z(sigma) = <exp(-chi^2(x) / (2 sigma^2) - lambda R(x))>_uniform box,
  computed by replica-exchange Metropolis over beta = 1/(2 sigma^2) and
  stepping-stone ratios Z(beta') / Z(beta) = <exp(-(beta' - beta) chi^2)>_beta
  (:meth:`HamiltonianEstimator.free_energy`).
* The posterior p(x | y) ~ exp(-E(x)) on the box is sampled by random-walk
  Metropolis from the MAP estimate (:meth:`HamiltonianEstimator.posterior_samples`),
  giving error bars of the couplings and of derived quantities (the spin gap).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets.spin.ed import (
    BOHR_MAGNETON_MEV_PER_T,
    BOLTZMANN_MEV_PER_K,
    MAX_FULL_ED,
    SpinCluster,
    check_fields,
    check_temperatures,
    energy_levels,
    spin_gap,
)
from mi_widgets.spin.gradient import curves_with_gradients, levels_with_slopes
from mi_widgets.spin.search import (
    BayesianCouplingSearch,
    GridCouplingSearch,
    RandomCouplingSearch,
    SearchTrace,
    _sobol,
)

__all__ = [
    "BayesianCouplingSearch",
    "ElbowCurve",
    "EquivalentFits",
    "FreeEnergyCurve",
    "GridCouplingSearch",
    "HamiltonianEstimator",
    "PosteriorSamples",
    "RandomCouplingSearch",
    "SearchTrace",
    "equivalent_fits",
]

Progress = Callable[[int, int], None]
OPTIMIZERS = ("bo", "lbfgs", "grid", "random")


# --------------------------------------------------------------------- results
@dataclass(frozen=True)
class ElbowCurve:
    """chi^2 of the MAP estimate against the scaled regularisation 2 sigma^2 lambda.

    Attributes
    ----------
    lams : numpy.ndarray
        lambda values.
    scaled : numpy.ndarray
        2 sigma^2 lambda (the penalty weight in units of squared residuals).
    misfit : numpy.ndarray
        chi^2(x*_lambda), the sum of squared residuals at each optimum.
    couplings : numpy.ndarray
        x*_lambda, shape (n_lams, n_couplings).
    names : tuple of str
    prior : str
    elbow_index : int
        The chosen lambda: the largest whose chi^2 exceeds the smallest lambda's by
        no more than chi^2's statistical scatter, sigma^2 sqrt(2 n) for n data points
        (beyond it the prior visibly degrades the fit: the rise of the elbow plot).
    """

    lams: np.ndarray
    scaled: np.ndarray
    misfit: np.ndarray
    couplings: np.ndarray
    names: tuple[str, ...]
    prior: str
    elbow_index: int

    @property
    def lam(self) -> float:
        """lambda at the elbow."""
        return float(self.lams[self.elbow_index])


@dataclass(frozen=True)
class FreeEnergyCurve:
    """F(sigma) = -log p(data | sigma) from replica-exchange MCMC.

    Attributes
    ----------
    sigmas : numpy.ndarray
        Noise levels (mu_B per spin), increasing.
    free_energy : numpy.ndarray
        F at each sigma (dimensionless; up to a sigma-independent constant when
        a prior lambda > 0 is used).
    mean_misfit : numpy.ndarray
        <chi^2> of the posterior at each sigma.
    acceptance : numpy.ndarray
        Metropolis acceptance rate at each sigma.
    swap_acceptance : float
        Acceptance of replica exchanges between neighbouring rungs.
    n_forward_calls : int
    """

    sigmas: np.ndarray
    free_energy: np.ndarray
    mean_misfit: np.ndarray
    acceptance: np.ndarray
    swap_acceptance: float
    n_forward_calls: int

    @property
    def sigma_min(self) -> float:
        """The sigma of the lowest F."""
        return float(self.sigmas[int(np.argmin(self.free_energy))])


@dataclass(frozen=True)
class PosteriorSamples:
    """Samples of the couplings from p(x | data) and the spin gap of each.

    Attributes
    ----------
    names : tuple of str
    couplings : numpy.ndarray
        Shape (n, n_couplings), meV.
    gaps : numpy.ndarray
        Spin gap of each sample (meV).
    sigma : float
        The noise level used.
    acceptance : float
    """

    names: tuple[str, ...]
    couplings: np.ndarray
    gaps: np.ndarray
    sigma: float
    acceptance: float

    @property
    def mean(self) -> dict[str, float]:
        """Posterior mean of each coupling (meV)."""
        return dict(zip(self.names, self.couplings.mean(axis=0).tolist(), strict=True))

    @property
    def std(self) -> dict[str, float]:
        """Posterior standard deviation of each coupling (meV)."""
        return dict(zip(self.names, self.couplings.std(axis=0, ddof=1).tolist(), strict=True))

    @property
    def gap(self) -> tuple[float, float]:
        """Spin gap mean and standard deviation (meV)."""
        return float(self.gaps.mean()), float(self.gaps.std(ddof=1))


@dataclass(frozen=True)
class EquivalentFits:
    """Local optima that fit the data about as well as a reference, and their spin gaps.

    Attributes
    ----------
    names : tuple of str
    couplings : numpy.ndarray
        Shape (n_fits, n_couplings), meV.
    misfit : numpy.ndarray
        chi^2 of each fit.
    gaps : numpy.ndarray
        Spin gap of each fit (meV).
    reference_misfit : float
    tolerance : float
        Fits with chi^2 <= (1 + tolerance) * reference are kept.
    """

    names: tuple[str, ...]
    couplings: np.ndarray
    misfit: np.ndarray
    gaps: np.ndarray
    reference_misfit: float
    tolerance: float

    @property
    def coupling_range(self) -> dict[str, tuple[float, float]]:
        """Smallest and largest value of each coupling among the fits (meV)."""
        lo, hi = self.couplings.min(axis=0), self.couplings.max(axis=0)
        return {n: (float(a), float(b)) for n, a, b in zip(self.names, lo, hi, strict=True)}

    @property
    def gap_range(self) -> tuple[float, float]:
        """Smallest and largest spin gap among the fits (meV)."""
        return float(self.gaps.min()), float(self.gaps.max())


# ------------------------------------------------------------------- estimator
class HamiltonianEstimator:
    """Estimate the couplings of a spin cluster from magnetisation curves.

    Parameters
    ----------
    cluster : SpinCluster
        The model; one coupling is estimated per name in ``cluster.names``.
    fields : array_like
        B (T), strictly increasing, shape (n_fields,).
    m_observed : array_like
        M (mu_B per spin), shape (n_temperatures, n_fields) (or (n_fields,) for one).
    temperatures : float or array_like
        T (K) of each curve.
    g : float, default 2.0
        g-factor (fixed, e.g. from ESR).
    delta : float, default 1.0
        XXZ anisotropy (fixed).
    prior : {"l2", "l1"}, default "l2"
        R(x) = sum x^2 or sum |x|.
    lam : float, default 0.0
        lambda, the weight of the prior in E(x).
    sigma : float, optional
        Noise of M (mu_B per spin). Default: 1 % of saturation, g / 200.
    bounds : (float, float) or dict of str to (float, float), default (-12, 12)
        The coupling box (meV), one interval for all or one per name.
    optimizer : {"bo", "lbfgs", "grid", "random"}, default "bo"
    n_calls : int, default 300
        Forward-call budget of "bo", "grid" and "random" ("bo": a third, at most 100, for
        Bayesian optimisation, the rest for least-squares polishes of at most 30 calls,
        where one call gives the residuals and their Jacobian).
    n_starts : int, default 20
        Starting points of the L-BFGS-B multistart.
    chi_temperatures, chi_observed : array_like, optional
        A zero-field susceptibility curve chi(T) (K; mu_B / T per spin) fitted
        together with M(B).
    chi_sigma : float, optional
        Noise of chi (default 2 % of its largest value).
    random_state : int or None

    Attributes
    ----------
    couplings_ : dict of str to float
        The estimate (meV).
    x_ : numpy.ndarray
        The same as an array in the order of ``cluster.names``.
    energy_ : float
        E at the estimate.
    misfit_ : float
        chi^2 (sum of squared residuals) at the estimate.
    n_forward_calls_ : int
        Forward calls made by ``fit``: one per E(x), and one per E(x) with its
        gradient in L-BFGS-B (both come from the same diagonalisation).
    trace_ : SearchTrace
        Every point ``fit`` evaluated.
    local_fits_ : list of (numpy.ndarray, float)
        The L-BFGS-B optima and their chi^2 (``optimizer="lbfgs"``).
    gap_ : float
        Spin gap of the estimate (meV).

    Examples
    --------
    >>> from mi_widgets.spin import SpinCluster, magnetization
    >>> dimer = SpinCluster(2, [(0, 1, "J")])
    >>> b = np.linspace(0, 60, 31)
    >>> m = magnetization(dimer, {"J": -5.0}, b, [2.0, 10.0])
    >>> est = HamiltonianEstimator(dimer, b, m, [2.0, 10.0], optimizer="lbfgs",
    ...                            n_starts=3, random_state=0).fit()
    >>> round(est.couplings_["J"], 4)
    -5.0
    """

    def __init__(
        self,
        cluster: SpinCluster,
        fields: Any,
        m_observed: Any,
        temperatures: Any,
        *,
        g: float = 2.0,
        delta: float = 1.0,
        prior: str = "l2",
        lam: float = 0.0,
        sigma: float | None = None,
        bounds: Any = (-12.0, 12.0),
        optimizer: str = "bo",
        n_calls: int = 300,
        n_starts: int = 20,
        chi_temperatures: Any = None,
        chi_observed: Any = None,
        chi_sigma: float | None = None,
        random_state: int | None = None,
    ) -> None:
        self.cluster = cluster
        self.fields = fields
        self.m_observed = m_observed
        self.temperatures = temperatures
        self.g = g
        self.delta = delta
        self.prior = prior
        self.lam = lam
        self.sigma = sigma
        self.bounds = bounds
        self.optimizer = optimizer
        self.n_calls = n_calls
        self.n_starts = n_starts
        self.chi_temperatures = chi_temperatures
        self.chi_observed = chi_observed
        self.chi_sigma = chi_sigma
        self.random_state = random_state
        self._checked = False

    # ------------------------------------------------------------ validation
    def _check(self) -> None:
        if self._checked:
            return
        if not isinstance(self.cluster, SpinCluster):
            raise MIInputError("cluster must be a SpinCluster (spins and named bonds).")
        if self.cluster.n_spins > MAX_FULL_ED:
            raise MIInputError(
                f"estimation needs finite-temperature curves, so at most {MAX_FULL_ED} spins; "
                f"the cluster has {self.cluster.n_spins}."
            )
        if not self.cluster.names:
            raise MIInputError("the cluster has no bonds, so there is no coupling to estimate.")
        b = check_fields(self.fields)
        t = check_temperatures(self.temperatures, "temperatures")
        m = np.asarray(self.m_observed, dtype=float)
        m = m[None, :] if m.ndim == 1 else m
        if m.shape != (t.size, b.size):
            raise MIInputError(
                f"m_observed must have shape (n_temperatures, n_fields) = ({t.size}, {b.size}); "
                f"got {m.shape}."
            )
        if not np.isfinite(m).all():
            raise MIInputError("m_observed contains NaN or infinity; remove those points.")
        check_choice(self.prior, "prior", ("l2", "l1"))
        check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        if not np.isfinite(self.lam) or self.lam < 0:
            raise MIInputError(f"lam must be 0 or positive; got {self.lam!r}.")
        g = float(self.g)
        sigma = g / 200 if self.sigma is None else float(self.sigma)
        if not sigma > 0:
            raise MIInputError(f"sigma must be positive; got {self.sigma!r}.")
        check_positive_int(self.n_calls, "n_calls", minimum=2)
        check_positive_int(self.n_starts, "n_starts")
        self._lo, self._hi = self._check_bounds()
        self._b, self._t, self._m, self._sigma = b, t, m, sigma
        self._chi_t = self._chi = None
        if (self.chi_temperatures is None) != (self.chi_observed is None):
            raise MIInputError("give both chi_temperatures and chi_observed, or neither.")
        if self.chi_temperatures is not None:
            ct = check_temperatures(self.chi_temperatures, "chi_temperatures")
            if (ct == 0).any():
                raise MIInputError("chi_temperatures must be above 0 K.")
            chi = np.asarray(self.chi_observed, float)
            if chi.shape != ct.shape or not np.isfinite(chi).all():
                raise MIInputError(
                    "chi_observed needs one finite value per chi temperature; "
                    f"got shape {chi.shape} for {ct.size} temperatures."
                )
            chi_sigma = 0.02 * np.abs(chi).max() if self.chi_sigma is None else self.chi_sigma
            if not chi_sigma > 0:
                raise MIInputError(f"chi_sigma must be positive; got {chi_sigma!r}.")
            self._chi_t, self._chi = ct, chi
            self._chi_weight = (sigma / chi_sigma) ** 2
        self._checked = True

    def _check_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        names = self.cluster.names
        if isinstance(self.bounds, Mapping):
            missing = [n for n in names if n not in self.bounds]
            if missing:
                raise MIInputError(f"bounds lack {', '.join(missing)}; give (low, high) in meV.")
            pairs = [self.bounds[n] for n in names]
        else:
            pairs = [self.bounds] * len(names)
        try:
            lo, hi = np.array(pairs, dtype=float).T
        except (TypeError, ValueError):
            raise MIInputError("bounds must be (low, high) in meV, or a dict of them.") from None
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()) or (hi <= lo).any():
            raise MIInputError("every bound must be a finite interval (low, high) with low < high.")
        return lo, hi

    # -------------------------------------------------------- forward model
    @property
    def names(self) -> tuple[str, ...]:
        """The coupling names, in the order of the arrays."""
        return self.cluster.names

    @property
    def sigma_(self) -> float:
        """The working noise level sigma (mu_B per spin)."""
        self._check()
        return self._sigma

    @property
    def box(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the couplings (meV)."""
        self._check()
        return self._lo.copy(), self._hi.copy()

    def as_dict(self, x: Sequence[float]) -> dict[str, float]:
        """Couplings array -> {name: value}."""
        return dict(zip(self.names, (float(v) for v in x), strict=True))

    def forward(self, x: Sequence[float]) -> tuple[np.ndarray, np.ndarray | None]:
        """M(B, T) (and chi(T) when fitted) for couplings ``x``: one forward call."""
        self._check()
        self._calls = getattr(self, "_calls", 0) + 1
        spectrum = energy_levels(self.cluster, self.as_dict(x), self.delta)
        n = self.cluster.n_spins
        m = np.array([spectrum.moments(self._b, t, self.g)[0] for t in self._t]) * self.g / n
        chi = None
        if self._chi_t is not None:
            var = np.array([spectrum.moments(np.zeros(1), t, self.g)[1][0] for t in self._chi_t])
            chi = self.g**2 * BOHR_MAGNETON_MEV_PER_T * var / (BOLTZMANN_MEV_PER_K * self._chi_t)
            chi = chi / n
        return m, chi

    def misfit(self, x: Sequence[float]) -> float:
        """chi^2(x): sum of squared M residuals (+ weighted chi residuals)."""
        m, chi = self.forward(x)
        value = float(((m - self._m) ** 2).sum())
        if chi is not None:
            value += self._chi_weight * float(((chi - self._chi) ** 2).sum())
        return value

    def misfit_and_gradient(self, x: Sequence[float]) -> tuple[float, np.ndarray]:
        """chi^2(x) and its gradient (per meV) from one forward call.

        The diagonalisation that gives the levels also gives their slopes dE_n/dJ_k, from
        which dM/dJ follows at every field and temperature
        (:mod:`mi_widgets.spin.gradient`): one forward call yields chi^2 and its gradient.
        """
        self._check()
        self._calls = getattr(self, "_calls", 0) + 1
        spectrum = levels_with_slopes(self.cluster, self.as_dict(x), self.delta)
        m, dm, chi, dchi = curves_with_gradients(spectrum, self._b, self._t, self.g, self._chi_t)
        residual = m - self._m
        value = float((residual**2).sum())
        grad = 2 * (dm * residual).sum(axis=(1, 2))
        if chi is not None:
            residual = chi - self._chi
            value += self._chi_weight * float((residual**2).sum())
            grad = grad + 2 * self._chi_weight * (dchi * residual).sum(axis=1)
        return value, grad

    def residuals_and_jacobian(self, x: Sequence[float]) -> tuple[np.ndarray, np.ndarray] | None:
        """Residuals r(x) with E(x) = sum r^2, and dr/dx (per meV), from one forward call.

        The M residuals (and the weighted chi residuals) are divided by sqrt(2) sigma; an L2
        prior adds sqrt(lambda) x. An L1 prior with lambda > 0 has no smooth residual form,
        so then the answer is None (and no call is made).

        Returns
        -------
        (numpy.ndarray, numpy.ndarray) or None
            r of shape (n_residuals,) and the Jacobian of shape (n_residuals, n_couplings).
        """
        self._check()
        if self.lam and self.prior == "l1":
            return None
        self._calls = getattr(self, "_calls", 0) + 1
        spectrum = levels_with_slopes(self.cluster, self.as_dict(x), self.delta)
        m, dm, chi, dchi = curves_with_gradients(spectrum, self._b, self._t, self.g, self._chi_t)
        parts = [(m - self._m).ravel()]
        slopes = [dm.reshape(len(dm), -1).T]
        if chi is not None:
            weight = np.sqrt(self._chi_weight)
            parts.append(weight * (chi - self._chi))
            slopes.append(weight * dchi.T)
        scale = np.sqrt(2) * self._sigma
        r, jac = np.concatenate(parts) / scale, np.vstack(slopes) / scale
        if self.lam:
            x = np.asarray(x, float)
            r = np.concatenate([r, np.sqrt(self.lam) * x])
            jac = np.vstack([jac, np.sqrt(self.lam) * np.eye(x.size)])
        return r, jac

    def penalty(self, x: Sequence[float], *, smooth: float = 0.0) -> float:
        """R(x): sum x^2 (l2) or sum |x| (l1; sqrt(x^2 + smooth^2) when smoothed)."""
        x = np.asarray(x, float)
        if self.prior == "l2":
            return float((x**2).sum())
        return float(np.sqrt(x**2 + smooth**2).sum()) if smooth else float(np.abs(x).sum())

    def penalty_gradient(self, x: Sequence[float], *, smooth: float = 0.0) -> np.ndarray:
        """dR/dx: 2 x (l2); sign(x), a subgradient (l1), or x / sqrt(x^2 + smooth^2)."""
        x = np.asarray(x, float)
        if self.prior == "l2":
            return 2 * x
        return x / np.sqrt(x**2 + smooth**2) if smooth else np.sign(x)

    def energy(self, x: Sequence[float], *, lam: float | None = None) -> float:
        """E(x) = chi^2 / (2 sigma^2) + lambda R(x)."""
        self._check()
        lam = self.lam if lam is None else lam
        value = self.misfit(x) / (2 * self._sigma**2)
        return value + lam * self.penalty(x) if lam else value

    def energy_and_gradient(
        self, x: Sequence[float], *, lam: float | None = None, smooth: float = 0.0
    ) -> tuple[float, np.ndarray]:
        """E(x) and dE/dx (per meV) from one forward call (see :meth:`misfit_and_gradient`).

        The L1 prior contributes its subgradient sign(x) (or the smoothed
        x / sqrt(x^2 + smooth^2), with the smoothed penalty in E).
        """
        self._check()
        lam = self.lam if lam is None else lam
        chi2, grad = self.misfit_and_gradient(x)
        value = chi2 / (2 * self._sigma**2)
        grad = grad / (2 * self._sigma**2)
        if lam:
            value += lam * self.penalty(x, smooth=smooth)
            grad = grad + lam * self.penalty_gradient(x, smooth=smooth)
        return value, grad

    # --------------------------------------------------------------- search
    def _to_x(self, u: np.ndarray) -> np.ndarray:
        return self._lo + np.asarray(u) * (self._hi - self._lo)

    def _to_u(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x) - self._lo) / (self._hi - self._lo)

    def search(self, method: str, n_calls: int | None = None, progress: Progress | None = None):
        """Run one search with its own budget and return a :class:`SearchTrace`.

        ``"lbfgs"`` ignores ``n_calls`` (it runs ``n_starts`` local searches to convergence).
        """
        self._check()
        method = check_choice(method, "method", OPTIMIZERS)
        n_calls = self.n_calls if n_calls is None else check_positive_int(n_calls, "n_calls")
        if method == "lbfgs":
            return self._multistart(progress)
        if method == "bo":
            # a third of the budget for the global stage (at most 100 calls), the rest for
            # polishes of at most 30 calls (a least-squares descent that reaches the best
            # valley does so in some 10-25), from the best point and then from
            # quasi-random ones, since E(x) has several valleys
            n_global = max(2, min(100, n_calls // 3))
            searcher = BayesianCouplingSearch(
                self, n_global=n_global, random_state=self.random_state
            )
        elif method == "grid":
            searcher = GridCouplingSearch(self, random_state=self.random_state, n_calls=n_calls)
        else:
            searcher = RandomCouplingSearch(self, random_state=self.random_state)
        searcher.run(n_calls, progress=progress)
        return searcher.trace

    def _local(self, x0, lam: float, smooth: float = 0.0, ftol: float = 1e-10):
        xs: list[np.ndarray] = []
        es: list[float] = []

        def objective(u):
            x = self._to_x(u)
            value, grad = self.energy_and_gradient(x, lam=lam, smooth=smooth)
            xs.append(x)
            es.append(value)
            return value, grad * (self._hi - self._lo)

        result = minimize(
            objective,
            self._to_u(x0),
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, 1.0)] * len(self.names),
            options={"maxiter": 200, "ftol": ftol, "gtol": 1e-8},
        )
        return self._to_x(result.x), float(result.fun), xs, es

    def _multistart(self, progress: Progress | None):
        starts = _sobol(self.n_starts, len(self.names), self.random_state)
        xs: list[np.ndarray] = []
        es: list[float] = []
        local = []
        for k, u0 in enumerate(starts):
            x, e, path_x, path_e = self._local(self._to_x(u0), self.lam)
            xs += path_x
            es += path_e
            misfit = 2 * self._sigma**2 * (e - (self.lam * self.penalty(x) if self.lam else 0.0))
            local.append((x, misfit))
            if progress:
                progress(k + 1, self.n_starts)
        self.local_fits_ = local
        return SearchTrace("lbfgs", np.array(xs), np.array(es))

    def fit(self, progress: Progress | None = None) -> HamiltonianEstimator:
        """Minimise E(x) over the coupling box with the chosen optimizer.

        Parameters
        ----------
        progress : callable, optional
            ``progress(done, total)``.

        Returns
        -------
        self
        """
        self._check()
        self._calls = 0
        trace = self.search(self.optimizer, progress=progress)
        x = trace.best_x
        self.trace_ = trace
        self.x_ = np.array(x)
        self.couplings_ = self.as_dict(x)
        self.energy_ = float(trace.energy.min())
        self.n_forward_calls_ = self._calls
        self.misfit_ = self.misfit(x)
        self.gap_ = spin_gap(self.cluster, self.couplings_, self.delta)
        return self

    def _fitted(self) -> np.ndarray:
        if not hasattr(self, "x_"):
            raise MIInputError("call fit() first: this needs the MAP estimate.")
        return self.x_

    # ---------------------------------------------------------------- elbow
    def elbow(
        self, lams: Sequence[float], *, prior: str | None = None, progress: Progress | None = None
    ) -> ElbowCurve:
        """MAP estimates along lambda: chi^2(x*_lambda) against 2 sigma^2 lambda.

        Each lambda is a local L-BFGS-B search from the previous optimum and from
        the fitted estimate (the better one is kept); the L1 penalty is smoothed
        as sqrt(x^2 + 0.001^2) so that the gradient exists at 0.

        Parameters
        ----------
        lams : sequence of float
            lambda values, positive and increasing.
        prior : {"l2", "l1"}, optional
            Overrides the estimator's prior for this curve.
        """
        x0 = self._fitted()
        lams_arr = check_fields(lams, "lams")
        if (lams_arr <= 0).any():
            raise MIInputError("lams must be positive (use a log-spaced range, e.g. 1e-2 to 1e3).")
        saved = self.prior
        self.prior = check_choice(prior or saved, "prior", ("l2", "l1"))
        try:
            couplings, misfits = [], []
            previous = x0
            for k, lam in enumerate(lams_arr):
                best = None
                for start in (previous, x0):
                    x, e, _, _ = self._local(start, float(lam), smooth=1e-3)
                    if best is None or e < best[1]:
                        best = (x, e)
                previous = best[0]
                couplings.append(best[0])
                misfits.append(self.misfit(best[0]))
                if progress:
                    progress(k + 1, lams_arr.size)
            used = self.prior
        finally:
            self.prior = saved
        scaled = 2 * self._sigma**2 * lams_arr
        misfit = np.array(misfits)
        return ElbowCurve(
            lams_arr,
            scaled,
            misfit,
            np.array(couplings),
            self.names,
            used,
            _elbow_index(misfit, self._sigma, self._m.size),
        )

    # ------------------------------------------------------------- sampling
    def _log_target(self, x: np.ndarray, beta: float, lam: float) -> tuple[float, float]:
        chi2 = self.misfit(x)
        return -beta * chi2 - (lam * self.penalty(x) if lam else 0.0), chi2

    def free_energy(
        self,
        sigmas: Sequence[float],
        *,
        n_sweeps: int = 300,
        n_burn: int = 100,
        progress: Progress | None = None,
    ) -> FreeEnergyCurve:
        """F(sigma) = -log p(M | sigma) by replica-exchange MCMC and stepping stones.

        One Metropolis chain per inverse temperature beta = 1/(2 sigma^2): the
        requested sigmas plus a geometric ladder (ratio 1.5) down to the beta where
        beta <chi^2>_prior = 0.1, where the posterior is the flat prior on the box. Each sweep moves
        every chain once (Gaussian random walk in box-scaled coordinates,
        reflected at the walls, step adapted during burn-in towards 30 %
        acceptance) and proposes exchanges between neighbouring chains.
        log Z is summed over the ladder by stepping stones,
        Z(beta') / Z(beta) = <exp(-(beta' - beta) chi^2)>_beta, from 64 uniform draws at
        beta = 0 upwards. F(sigma) = (n/2) log(2 pi sigma^2) - log Z.
        The chi(T) term, if any, is left out here. Seeded by ``random_state``.

        Parameters
        ----------
        sigmas : sequence of float
            Noise levels (mu_B per spin), increasing.
        n_sweeps, n_burn : int
            Sweeps kept and sweeps discarded (forward calls = chains x (sweeps + burn)).
        """
        self._check()
        sig = check_fields(sigmas, "sigmas")
        if (sig <= 0).any():
            raise MIInputError("sigmas must be positive.")
        check_positive_int(n_sweeps, "n_sweeps", minimum=10)
        rng = np.random.default_rng(self.random_state)
        saved_chi = self._chi_t
        self._chi_t = None  # F(sigma) is about the M data only
        calls_before = getattr(self, "_calls", 0)
        try:
            betas_req = 1.0 / (2 * sig**2)
            n_points = self._m.size
            # chi^2 under the flat prior, from uniform draws
            u0 = rng.random((64, len(self.names)))
            prior_chi2 = np.array([self.misfit(self._to_x(u)) for u in u0])
            # the lowest rung: beta * <chi^2>_prior ~ 0.1, so its step from beta = 0 is easy
            beta_low = min(0.1 / max(float(prior_chi2.mean()), 1e-300), betas_req.min())
            n_extra = max(int(np.ceil(np.log(betas_req.min() / beta_low) / np.log(1.5))), 0)
            extra = beta_low * 1.5 ** np.arange(n_extra)
            betas = np.unique(np.concatenate([extra[extra < betas_req.min()], betas_req]))
            start = self._to_u(self.x_) if hasattr(self, "x_") else np.full(len(self.names), 0.5)
            kept_chi2, acc, swap = self._replica_exchange(
                betas, start, n_sweeps, n_burn, rng, progress
            )
            mean_chi2 = kept_chi2.mean(axis=1)
            # stepping stones: Z(b') / Z(b) = <exp(-(b' - b) chi^2)>_b
            log_z = np.empty(betas.size)
            log_z[0] = _log_mean_exp(-betas[0] * prior_chi2)
            for k in range(1, betas.size):
                log_z[k] = log_z[k - 1] + _log_mean_exp(
                    -(betas[k] - betas[k - 1]) * kept_chi2[k - 1]
                )
            f = n_points / 2 * np.log(np.pi / betas) - log_z  # 2 pi sigma^2 = pi / beta
            pick = np.searchsorted(betas, betas_req)
        finally:
            self._chi_t = saved_chi
        order = np.argsort(sig)
        return FreeEnergyCurve(
            sig[order],
            f[pick][order],
            mean_chi2[pick][order],
            acc[pick][order],
            swap,
            getattr(self, "_calls", 0) - calls_before,
        )

    def _replica_exchange(self, betas, start_u, n_sweeps, n_burn, rng, progress):
        n_rep, dim = betas.size, len(self.names)
        u = np.tile(start_u, (n_rep, 1))
        chi2 = np.full(n_rep, self.misfit(self._to_x(start_u)))
        logp = -betas * chi2 - self._prior_terms(u)
        # Initial steps: a posterior width estimate sqrt(1/beta)-like, in box units.
        step = np.clip(0.5 / np.sqrt(1.0 + betas / betas[0]), 1e-4, 0.3)
        accepted = np.zeros(n_rep)
        proposed = np.zeros(n_rep)
        swaps = swap_tries = 0
        kept = np.empty((n_rep, n_sweeps))
        total = n_sweeps + n_burn
        for sweep in range(total):
            for r in range(n_rep):
                new = _reflect(u[r] + step[r] * rng.standard_normal(dim))
                c = self.misfit(self._to_x(new))
                lp = -betas[r] * c - self._prior_terms(new[None, :])[0]
                proposed[r] += 1
                if np.log(rng.random()) < lp - logp[r]:
                    u[r], chi2[r], logp[r] = new, c, lp
                    accepted[r] += 1
            for r in range(sweep % 2, n_rep - 1, 2):
                swap_tries += 1
                delta = (betas[r + 1] - betas[r]) * (chi2[r + 1] - chi2[r])
                if np.log(rng.random()) < delta:
                    u[[r, r + 1]] = u[[r + 1, r]]
                    chi2[[r, r + 1]] = chi2[[r + 1, r]]
                    logp = -betas * chi2 - self._prior_terms(u)
                    swaps += 1
            if sweep < n_burn and (sweep + 1) % 20 == 0:
                rate = accepted / np.maximum(proposed, 1)
                step = np.clip(step * np.exp(rate - 0.3), 1e-5, 0.5)
                accepted[:] = 0
                proposed[:] = 0
            if sweep >= n_burn:
                kept[:, sweep - n_burn] = chi2
            if progress and (sweep + 1) % 10 == 0:
                progress(sweep + 1, total)
        rate = accepted / np.maximum(proposed, 1)
        return kept, rate, swaps / max(swap_tries, 1)

    def _prior_terms(self, u: np.ndarray) -> np.ndarray:
        if not self.lam:
            return np.zeros(len(u))
        return np.array([self.lam * self.penalty(self._to_x(v)) for v in u])

    def posterior_samples(
        self,
        n: int = 200,
        *,
        sigma: float | None = None,
        thin: int = 5,
        n_burn: int = 400,
        progress: Progress | None = None,
    ) -> PosteriorSamples:
        """Sample p(x | data) ~ exp(-E(x)) on the box by adaptive random-walk Metropolis.

        The chain starts at the MAP estimate. Proposals are Gaussian in box-scaled
        coordinates and reflected at the walls. During the first half of the burn-in
        the step is isotropic; then the covariance of the chain so far, scaled by
        2.38 / sqrt(d) (Haario et al. 2001), shapes the proposal, and an overall
        factor is tuned towards 25 % acceptance until the burn-in ends. After it the
        proposal is fixed (a valid Metropolis chain) and every ``thin``-th state is
        kept. Each kept sample's spin gap is computed.

        Parameters
        ----------
        n : int
            Samples kept.
        sigma : float, optional
            Noise level; default the estimator's working sigma.
        thin, n_burn : int
            Thinning and burn-in (forward calls = n_burn + n * thin + n gaps).
        """
        x0 = self._fitted()
        check_positive_int(n, "n", minimum=2)
        check_positive_int(thin, "thin")
        check_positive_int(n_burn, "n_burn", minimum=20)
        sigma = self._sigma if sigma is None else float(sigma)
        if not sigma > 0:
            raise MIInputError(f"sigma must be positive; got {sigma!r}.")
        rng = np.random.default_rng(self.random_state)
        beta = 1.0 / (2 * sigma**2)
        dim = len(self.names)
        u = self._to_u(x0)
        logp = -beta * self.misfit(x0) - self._prior_terms(u[None, :])[0]
        shape = np.eye(dim) * 0.01
        scale = 1.0
        accepted = proposed = 0
        kept_accepted = 0
        history: list[np.ndarray] = []
        samples = []
        total = n_burn + n * thin
        for it in range(total):
            new = _reflect(u + scale * (shape @ rng.standard_normal(dim)))
            lp = -beta * self.misfit(self._to_x(new)) - self._prior_terms(new[None, :])[0]
            proposed += 1
            if np.log(rng.random()) < lp - logp:
                u, logp = new, lp
                accepted += 1
                kept_accepted += it >= n_burn
            if it < n_burn:
                history.append(u.copy())
                if it + 1 == n_burn // 2:
                    cov = np.cov(np.array(history[n_burn // 4 :]).T).reshape(dim, dim)
                    cov += np.eye(dim) * 1e-12
                    shape = np.linalg.cholesky(cov) * 2.38 / np.sqrt(dim)
                    scale = 1.0
                    accepted = proposed = 0
                elif (it + 1) % 25 == 0:
                    scale = float(
                        np.clip(scale * np.exp(3 * (accepted / proposed - 0.25)), 1e-4, 50)
                    )
                    accepted = proposed = 0
            elif (it - n_burn) % thin == thin - 1:
                samples.append(self._to_x(u))
            if progress and (it + 1) % 25 == 0:
                progress(it + 1, total + n)
        couplings = np.array(samples)
        gaps = np.array([spin_gap(self.cluster, self.as_dict(x), self.delta) for x in couplings])
        return PosteriorSamples(self.names, couplings, gaps, sigma, kept_accepted / (n * thin))


def _log_mean_exp(values: np.ndarray) -> float:
    """log(mean(exp(values))) without overflow."""
    top = float(np.max(values))
    return top + float(np.log(np.mean(np.exp(values - top))))


def _reflect(u: np.ndarray) -> np.ndarray:
    """Fold a point back into the unit box (a symmetric proposal stays symmetric)."""
    u = np.mod(u, 2.0)
    return np.where(u > 1.0, 2.0 - u, u)


def _elbow_index(misfit: np.ndarray, sigma: float, n_points: int) -> int:
    """The strongest regularisation whose chi^2 rise stays within chi^2's own scatter.

    chi^2 of n points with noise sigma scatters by sigma^2 sqrt(2 n); the elbow is the
    last lambda (in increasing order) with chi^2(lambda) - chi^2(lambda_min) within that.
    """
    allowed = misfit[0] + sigma**2 * np.sqrt(2.0 * n_points)
    within = np.flatnonzero(misfit <= allowed)
    return int(within.max()) if within.size else 0


def equivalent_fits(
    estimator: HamiltonianEstimator,
    *,
    tolerance: float = 0.25,
    reference_misfit: float | None = None,
) -> EquivalentFits:
    """The L-BFGS-B optima with chi^2 within ``tolerance`` of a reference, and their gaps.

    Parameters
    ----------
    estimator : HamiltonianEstimator
        Fitted with ``optimizer="lbfgs"`` (its ``local_fits_``).
    tolerance : float, default 0.25
        Keep fits with chi^2 <= (1 + tolerance) * reference.
    reference_misfit : float, optional
        The reference chi^2 (e.g. the true couplings'); default the best fit's.
    """
    fits = getattr(estimator, "local_fits_", None)
    if not fits:
        raise MIInputError(
            "fit the estimator with optimizer='lbfgs' first (it keeps every optimum)."
        )
    xs = np.array([x for x, _ in fits])
    misfit = np.array([c for _, c in fits])
    reference = float(misfit.min() if reference_misfit is None else reference_misfit)
    keep = misfit <= (1 + tolerance) * reference
    if not keep.any():
        raise MIInputError("no fit is within the tolerance of the reference; raise tolerance.")
    gaps = np.array(
        [spin_gap(estimator.cluster, estimator.as_dict(x), estimator.delta) for x in xs[keep]]
    )
    return EquivalentFits(
        estimator.names, xs[keep], misfit[keep], gaps, reference, float(tolerance)
    )


# ------------------------------------------------------------ stepped searches
