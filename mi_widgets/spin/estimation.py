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

The estimator (forward model, E(x), searches, ``fit``) is here; its methods around the
estimate (elbow, free energy, posterior samples, in the base class ``PosteriorMethods``),
:func:`equivalent_fits` and their results are in :mod:`mi_widgets.spin.posterior`, and
the stepped searches in :mod:`mi_widgets.spin.search`; this module re-exports both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
from mi_widgets.spin.posterior import (
    ElbowCurve,
    EquivalentFits,
    FreeEnergyCurve,
    PosteriorMethods,
    PosteriorSamples,
    equivalent_fits,
)
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


# ------------------------------------------------------------------- estimator
class HamiltonianEstimator(PosteriorMethods):
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
