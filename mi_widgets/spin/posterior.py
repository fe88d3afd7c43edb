"""Around the MAP estimate of the couplings: regularisation elbow, noise, posterior.

The methods of :class:`~mi_widgets.spin.estimation.HamiltonianEstimator` that take its
fitted estimate further (the module docstring of :mod:`mi_widgets.spin.estimation` gives
the equations):

* :meth:`~PosteriorMethods.elbow`: MAP estimates along lambda, with the elbow of
  chi^2(x*_lambda) against 2 sigma^2 lambda;
* :meth:`~PosteriorMethods.free_energy`: F(sigma) = -log p(y | sigma) by replica-exchange
  Metropolis and stepping-stone ratios;
* :meth:`~PosteriorMethods.posterior_samples`: random-walk Metropolis on p(x | y);
* :func:`equivalent_fits`: the L-BFGS-B optima about as good as the best, and their gaps;

and the frozen dataclasses they return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets.spin.ed import check_fields, spin_gap
from mi_widgets.spin.search import Progress

if TYPE_CHECKING:  # the estimator subclasses PosteriorMethods
    from mi_widgets.spin.estimation import HamiltonianEstimator

__all__ = [
    "ElbowCurve",
    "EquivalentFits",
    "FreeEnergyCurve",
    "PosteriorMethods",
    "PosteriorSamples",
    "equivalent_fits",
]


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


# ------------------------------------------------------------------- methods
class PosteriorMethods:
    """The estimator's methods around its MAP estimate: elbow, free energy, posterior.

    A base class of :class:`~mi_widgets.spin.estimation.HamiltonianEstimator`; the
    methods use its forward model (``misfit``, ``penalty``, ``names``, the box maps
    ``_to_x`` and ``_to_u``, the noise ``_sigma``) and its local search ``_local``.
    """

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
