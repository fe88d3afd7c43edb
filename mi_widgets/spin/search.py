"""The searches of the Hamiltonian estimator, stepped one forward call at a time.

Bayesian optimisation with :class:`mi_widgets.bayesopt.BayesianOptimizer` on scrambled Sobol
candidates of a box that shrinks around the incumbent, then short least-squares polishes
(:class:`BayesianCouplingSearch`); a regular grid (:class:`GridCouplingSearch`) and uniform
random points (:class:`RandomCouplingSearch`). Each keeps a :class:`SearchTrace` of every
forward call, so an app can step it and draw its best-so-far curve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import least_squares, minimize
from scipy.stats import qmc

from mi_widgets._errors import MIInputError, check_positive_int

if TYPE_CHECKING:  # the estimator imports this module
    from mi_widgets.spin.estimation import HamiltonianEstimator

__all__ = [
    "BayesianCouplingSearch",
    "GridCouplingSearch",
    "RandomCouplingSearch",
    "SearchTrace",
]

Progress = Callable[[int, int], None]


def _bayesian_optimizer_class():
    """lab 04's BayesianOptimizer, or a clear message when it is not installed."""
    try:
        from mi_widgets.bayesopt import BayesianOptimizer
    except ImportError:
        raise MIInputError(
            "optimizer='bo' needs mi_widgets.bayesopt.BayesianOptimizer (lab 04), which is "
            "not available in this installation; use optimizer='lbfgs'."
        ) from None
    return BayesianOptimizer


@dataclass(frozen=True)
class SearchTrace:
    """Every point a search evaluated, in order.

    Attributes
    ----------
    method : str
    x : numpy.ndarray
        Couplings (meV), shape (n_calls, n_couplings).
    energy : numpy.ndarray
        E(x) of each call.
    """

    method: str
    x: np.ndarray
    energy: np.ndarray

    @property
    def best_so_far(self) -> np.ndarray:
        """The lowest E(x) after each forward call."""
        return np.minimum.accumulate(self.energy) if self.energy.size else self.energy

    @property
    def best_x(self) -> np.ndarray:
        """The couplings of the lowest E(x) found."""
        return self.x[int(np.argmin(self.energy))]


def _sobol(n: int, dim: int, seed: int | None) -> np.ndarray:
    """The first ``n`` points of a scrambled Sobol sequence in the unit cube."""
    m = max(int(np.ceil(np.log2(n))), 0)
    return qmc.Sobol(dim, scramble=True, seed=seed).random_base2(m)[:n]


class _Stop(Exception):
    """Ends a polish from inside its objective."""


def _polish(estimator, x0, max_calls: int, ends, near: float):
    """A local descent from ``x0``, cut short after ``max_calls`` forward calls.

    Bounded least squares (trust-region reflective, ``scipy.optimize.least_squares``) on
    the residuals and their Jacobian from one forward call; L-BFGS-B on E(x) and dE/dx
    when E(x) has no residual form (an L1 prior). The descent also stops when its last
    point is within ``near`` (box-scaled) of one of ``ends``, the ends of earlier
    polishes: it is going down a valley already known.

    Returns
    -------
    (list of numpy.ndarray, list of float)
        Every point evaluated and its E(x).
    """
    est = estimator
    xs: list[np.ndarray] = []
    es: list[float] = []
    residual_form = not (est.lam and est.prior == "l1")

    def call(u):
        if len(es) >= max_calls or (xs and _within(est._to_u(xs[-1]), ends, near)):
            raise _Stop
        x = est._to_x(u)
        if residual_form:
            r, jac = est.residuals_and_jacobian(x)
            value, slope = float(r @ r), jac * (est._hi - est._lo)
        else:
            value, grad = est.energy_and_gradient(x)
            slope = grad * (est._hi - est._lo)
        xs.append(x)
        es.append(value)
        return (r, slope) if residual_form else (value, slope)

    u0 = est._to_u(x0)
    try:
        if residual_form:
            _least_squares(call, u0)
        else:
            minimize(call, u0, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * u0.size)
    except _Stop:
        pass
    return xs, es


def _within(u: np.ndarray, points, distance: float) -> bool:
    """True when ``u`` is closer than ``distance`` to one of ``points``."""
    return any(np.linalg.norm(u - a) < distance for a in points)


def _least_squares(call, u0: np.ndarray) -> None:
    """least_squares on the unit box, residuals and Jacobian from one ``call`` per point."""
    cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def both(u):
        key = np.asarray(u, float).tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = call(u)
        return cache[key]

    least_squares(
        lambda u: both(u)[0],
        u0,
        jac=lambda u: both(u)[1],
        bounds=(0.0, 1.0),
        method="trf",
        xtol=1e-8,
        ftol=1e-8,
        gtol=1e-10,
    )


class _SteppedSearch:
    """A search that can be advanced one forward call at a time (for the lab's Step button)."""

    method = "search"

    def __init__(self, estimator: HamiltonianEstimator, *, random_state: int | None = None):
        estimator._check()
        self.estimator = estimator
        self.random_state = random_state
        self._x: list[np.ndarray] = []
        self._e: list[float] = []

    @property
    def trace(self) -> SearchTrace:
        """Every point evaluated so far."""
        dim = len(self.estimator.names)
        x = np.array(self._x) if self._x else np.zeros((0, dim))
        return SearchTrace(self.method, x, np.array(self._e))

    @property
    def n_calls(self) -> int:
        """Forward calls so far."""
        return len(self._e)

    def _evaluate(self, x: np.ndarray) -> float:
        value = self.estimator.energy(x)
        self._x.append(np.array(x, float))
        self._e.append(value)
        return value

    def step(self, n: int = 1) -> SearchTrace:
        """Make ``n`` more forward calls."""
        check_positive_int(n, "n")
        for _ in range(n):
            self._next()
        return self.trace

    def run(self, n_calls: int, progress: Progress | None = None) -> SearchTrace:
        """Continue until ``n_calls`` forward calls in total."""
        check_positive_int(n_calls, "n_calls")
        while self.n_calls < n_calls:
            self._next()
            if progress:
                progress(self.n_calls, n_calls)
        return self.trace

    def _next(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class RandomCouplingSearch(_SteppedSearch):
    """Uniform random couplings in the box (seeded)."""

    method = "random"

    def __init__(self, estimator, *, random_state=None):
        super().__init__(estimator, random_state=random_state)
        self._rng = np.random.default_rng(random_state)

    def _next(self) -> None:
        lo, hi = self.estimator.box
        self._evaluate(lo + self._rng.random(lo.size) * (hi - lo))


class GridCouplingSearch(_SteppedSearch):
    """A regular grid over the box, visited in a seeded random order.

    The grid has k points per coupling, k the largest with k^d <= the budget given
    to :meth:`run` (default ``estimator.n_calls``); cell centres, so no point lies
    on the box walls.
    """

    method = "grid"

    def __init__(self, estimator, *, random_state=None, n_calls: int | None = None):
        super().__init__(estimator, random_state=random_state)
        self._budget = n_calls or estimator.n_calls
        self._build(self._budget)

    def _build(self, budget: int) -> None:
        lo, hi = self.estimator.box
        d = lo.size
        k = max(int(np.floor(budget ** (1.0 / d) + 1e-9)), 1)
        axes = [lo[i] + (np.arange(k) + 0.5) / k * (hi[i] - lo[i]) for i in range(d)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
        self._points = grid[np.random.default_rng(self.random_state).permutation(len(grid))]

    def run(self, n_calls: int, progress: Progress | None = None) -> SearchTrace:
        if n_calls != self._budget and not self._e:
            self._budget = n_calls
            self._build(n_calls)
        return super().run(min(n_calls, len(self._points)), progress)

    def _next(self) -> None:
        if self.n_calls >= len(self._points):
            raise MIInputError("the grid is exhausted; every grid point has been evaluated.")
        self._evaluate(self._points[self.n_calls])


class BayesianCouplingSearch(_SteppedSearch):
    """Bayesian optimisation of E(x) with lab 04's ``BayesianOptimizer``, then local polishes.

    Global stage: ``n_candidates`` scrambled Sobol points of the coupling box are
    the candidate set; the first ``n_initial`` calls take Sobol points, then each
    call is the candidate of highest expected improvement of log E (a
    Gaussian-process surrogate). Every ``stage_calls`` calls (default: never) the
    box shrinks by ``shrink`` around the incumbent, fresh Sobol points fill it and
    the points already evaluated inside it are told to a new optimizer.

    Polish stage (after ``n_global`` calls): a candidate set is finite and E(x)
    has narrow valleys, so a local descent follows: bounded least squares on the
    residuals, whose Jacobian comes with them from one forward call (L-BFGS-B on
    E(x) and dE/dx under an L1 prior). The first polish starts from the best point
    of the global stage; E(x) has several valleys and the global stage's best
    points tend to lie in one of them, so the later polishes start from
    quasi-random (Sobol) points of the box farther than ``separation`` (box-scaled)
    from every earlier start and end. Each polish stops after ``polish_calls``
    calls, or as soon as it comes within ``near`` of an earlier polish's end (a
    valley already known), and so on until the budget is spent. Each polish's
    calls are replayed one per step, so E(x) best-so-far against forward calls
    counts every call of both stages.

    Parameters
    ----------
    estimator : HamiltonianEstimator
    n_global : int, default 100
        Calls of the Bayesian-optimisation stage.
    n_candidates : int, default 1024
    n_initial : int, default 8
    stage_calls : int, optional
        Calls per box stage (default: one stage, the whole box).
    shrink : float, default 0.5
    separation : float, default 0.15
        Smallest box-scaled distance of a new polish start from earlier starts and ends.
    polish_calls : int, default 30
        Forward calls of one polish at most.
    near : float, default 0.1
        A polish stops within this box-scaled distance of an earlier polish's end.
    acquisition : {"EI", "PI", "UCB", "TS"}, default "EI"
        Passed to ``BayesianOptimizer``.
    random_state : int or None
    """

    method = "bo"

    def __init__(
        self,
        estimator: HamiltonianEstimator,
        *,
        n_global: int = 100,
        n_candidates: int = 1024,
        n_initial: int = 8,
        stage_calls: int | None = None,
        shrink: float = 0.5,
        separation: float = 0.15,
        polish_calls: int = 30,
        near: float = 0.1,
        acquisition: str = "EI",
        random_state: int | None = None,
    ):
        super().__init__(estimator, random_state=random_state)
        self._bo_class = _bayesian_optimizer_class()
        self.acquisition = acquisition
        self.n_global = check_positive_int(n_global, "n_global", minimum=2)
        self.n_candidates = check_positive_int(n_candidates, "n_candidates", minimum=16)
        self.n_initial = check_positive_int(n_initial, "n_initial")
        self.stage_calls = (
            self.n_global
            if stage_calls is None
            else check_positive_int(stage_calls, "stage_calls", minimum=2)
        )
        if not 0 < shrink < 1:
            raise MIInputError(f"shrink must be between 0 and 1; got {shrink!r}.")
        self.shrink = float(shrink)
        self.separation = float(separation)
        self.polish_calls = check_positive_int(polish_calls, "polish_calls", minimum=2)
        self.near = float(near)
        self.stage = 0
        self.polish_starts: list[np.ndarray] = []
        self._polish: list[tuple[np.ndarray, float]] = []
        self._avoid: list[np.ndarray] = []
        self._ends: list[np.ndarray] = []
        self._lo0, self._hi0 = estimator.box
        self._half = (self._hi0 - self._lo0) / 2
        seed = None if random_state is None else random_state + 104729
        self._starts = self._lo0 + _sobol(256, self._lo0.size, seed) * (self._hi0 - self._lo0)
        self._new_stage((self._lo0 + self._hi0) / 2)

    @property
    def phase(self) -> str:
        """``"global"`` (Bayesian optimisation) or ``"polish"`` (local descents)."""
        return "global" if self.n_calls < self.n_global else "polish"

    def _new_stage(self, centre: np.ndarray) -> None:
        lo = np.maximum(centre - self._half, self._lo0)
        hi = np.minimum(centre + self._half, self._hi0)
        seed = None if self.random_state is None else self.random_state + 7919 * self.stage
        fresh = lo + _sobol(self.n_candidates, lo.size, seed) * (hi - lo)
        old_x = np.array(self._x) if self._x else np.zeros((0, lo.size))
        inside = np.all((old_x >= lo) & (old_x <= hi), axis=1) if len(old_x) else np.zeros(0, bool)
        told_x = old_x[inside]
        told_y = np.log(np.maximum(np.array(self._e)[inside], 1e-300)) if inside.any() else []
        self.candidates = np.vstack([told_x, fresh])
        self._optimizer = self._bo_class(
            self.candidates, acquisition=self.acquisition, goal="minimize", random_state=seed
        )
        if len(told_x):
            self._optimizer.tell(np.arange(len(told_x)), np.asarray(told_y))
        self._n_told = len(told_x)
        self._fresh = len(told_x)  # the next unused Sobol point for the initial design
        self._stage_start = self.n_calls

    def _next(self) -> None:
        if self.n_calls >= self.n_global:
            self._next_polish()
            return
        if self.n_calls - self._stage_start >= self.stage_calls:
            self.stage += 1
            self._half = self._half * self.shrink
            self._new_stage(self.trace.best_x)
        if self._n_told < self.n_initial:
            index = self._fresh
            self._fresh += 1
        else:
            index = int(np.asarray(self._optimizer.suggest(1)).ravel()[0])
        value = self._evaluate(self.candidates[index])
        self._optimizer.tell([index], [np.log(max(value, 1e-300))])
        self._n_told += 1

    def _polish_start(self) -> np.ndarray | None:
        """The best global-stage point for the first polish, then quasi-random points."""
        if not self.polish_starts:
            order = iter(np.argsort(self._e[: self.n_global]))
            pool = (self._x[k] for k in order)
        else:
            pool = iter(self._starts)
        est = self.estimator
        for x in pool:
            if all(np.linalg.norm(est._to_u(x) - a) > self.separation for a in self._avoid):
                return x
        return None

    def _next_polish(self) -> None:
        if not self._polish:
            start = self._polish_start()
            if start is None:
                raise MIInputError("every promising start has been polished; no call is left.")
            est = self.estimator
            before = getattr(est, "_calls", 0)
            xs, es = _polish(est, start, self.polish_calls, self._ends, self.near)
            est._calls = before  # the calls are counted when replayed below
            end = xs[int(np.argmin(es))]
            self.polish_starts.append(np.array(start))
            self._avoid += [est._to_u(start), est._to_u(end)]
            self._ends.append(est._to_u(end))
            self._polish = list(zip(xs, es, strict=True))
        x, e = self._polish.pop(0)
        self.estimator._calls = getattr(self.estimator, "_calls", 0) + 1
        self._x.append(np.array(x, float))
        self._e.append(float(e))

    @property
    def converged(self) -> bool:
        """True when no polish is under way and no start is left to polish."""
        return self.n_calls >= self.n_global and not self._polish and self._polish_start() is None

    def step(self, n: int = 1) -> SearchTrace:
        """Make up to ``n`` more forward calls (fewer once nothing is left to polish)."""
        check_positive_int(n, "n")
        for _ in range(n):
            if self.converged:
                break
            self._next()
        return self.trace

    def run(self, n_calls: int, progress: Progress | None = None) -> SearchTrace:
        """Continue until ``n_calls`` forward calls in total (or nothing is left to polish)."""
        check_positive_int(n_calls, "n_calls")
        while self.n_calls < n_calls and not self.converged:
            self._next()
            if progress:
                progress(self.n_calls, n_calls)
        return self.trace
