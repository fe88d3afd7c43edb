"""Sequential design over a fixed candidate set: one protocol, one loop, one history.

Every loop a user steps (uncertainty sampling of a phase diagram, Bayesian
optimisation) is a :class:`CandidateSampler`: it is told observations of some
candidates and suggests which to measure next. A :class:`Campaign` couples a
sampler to an *oracle* (the experiment or simulation that measures candidates),
a *metric* (how good the current estimate is) and, optionally, a random-choice
*baseline* stepped in lockstep; it keeps the history that plots and the CSV
export read. Widgets read the history from the campaign and never keep their own.

Examples
--------
>>> import numpy as np
>>> class Nearest:
...     "A toy sampler: suggests the unmeasured candidate farthest from any measured one."
...     def __init__(self, candidates):
...         self.candidates = np.asarray(candidates, float); self.reset()
...     def reset(self):
...         self.measured_mask = np.zeros(len(self.candidates), bool); self.values = {}
...     def tell(self, indices, values):
...         for i, v in zip(indices, values):
...             self.measured_mask[i] = True; self.values[int(i)] = v
...     def suggest(self, n=1):
...         done = self.candidates[self.measured_mask]
...         d = np.abs(self.candidates[:, None] - done[None, :]).min(axis=1)
...         d[self.measured_mask] = -1
...         return np.argsort(-d, kind="stable")[:n]
...     def predict(self):
...         return np.array([self.values.get(i, 0.0) for i in range(len(self.candidates))])
...     @property
...     def scores_(self):
...         return np.zeros(len(self.candidates))
>>> x = np.linspace(0, 1, 5)
>>> campaign = Campaign(Nearest(x), oracle=lambda idx: x[idx] ** 2, initial=[0])
>>> campaign.step().indices
(4,)
>>> [r.n_observations for r in campaign.run(2)]
[3, 4]
>>> campaign.to_csv().splitlines()[0]
'step,n_observations,index,value,metric,baseline_metric,seconds'
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from mi_widgets._errors import MIInputError, check_positive_int

__all__ = [
    "Campaign",
    "CampaignComparison",
    "CampaignRecord",
    "CandidateSampler",
    "RandomChoice",
    "compare_with_random",
]

#: ``oracle(indices) -> values``: measures candidates (an experiment, a simulation, a table).
Oracle = Callable[[np.ndarray], Sequence[Any]]
#: ``metric(sampler) -> float``: quality of the current estimate (Macro-F1, best value, ...).
Metric = Callable[[Any], float]


@runtime_checkable
class CandidateSampler(Protocol):
    """What every sequential-design sampler over a fixed candidate set provides.

    Attributes
    ----------
    candidates : ndarray, shape (n, d)
        The fixed candidate set.
    measured_mask : ndarray of bool, shape (n,)
        Which candidates have been told an observation.
    scores_ : ndarray, shape (n,)
        The current ranking score of every candidate (uncertainty, acquisition);
        larger means "measure sooner".
    """

    candidates: np.ndarray

    def tell(self, indices: Any, values: Any) -> None:
        """Record observations ``values`` of the candidates ``indices``."""

    def suggest(self, n: int = 1) -> np.ndarray:
        """Indices of the ``n`` candidates to measure next (unmeasured, distinct)."""

    def predict(self) -> Any:
        """The current estimate for every candidate (labels, or mean values)."""

    def reset(self) -> None:
        """Forget every observation."""

    @property
    def measured_mask(self) -> np.ndarray:
        """Boolean mask of measured candidates."""

    @property
    def scores_(self) -> np.ndarray:
        """Ranking score of every candidate."""


class RandomChoice:
    """Wrap a sampler so that it chooses uniformly at random among unmeasured candidates.

    Estimation (``tell``, ``predict``, scores) is the wrapped sampler's, so a random
    baseline is judged by the same estimator: the fair comparison of PDC and BO papers.

    Parameters
    ----------
    sampler : CandidateSampler
    random_state : int or None
    """

    def __init__(self, sampler: Any, random_state: int | None = None) -> None:
        self.sampler = sampler
        self.random_state = random_state
        self._rng = np.random.default_rng(random_state)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sampler, name)

    def tell(self, indices: Any, values: Any) -> None:
        """Pass observations to the wrapped sampler."""
        self.sampler.tell(indices, values)

    def predict(self) -> Any:
        """The wrapped sampler's estimate."""
        return self.sampler.predict()

    def reset(self) -> None:
        """Forget every observation and restart the random stream."""
        self.sampler.reset()
        self._rng = np.random.default_rng(self.random_state)

    def suggest(self, n: int = 1) -> np.ndarray:
        """``n`` distinct unmeasured candidates drawn uniformly."""
        free = np.flatnonzero(~np.asarray(self.sampler.measured_mask))
        n = min(int(n), free.size)
        return np.sort(self._rng.choice(free, size=n, replace=False)) if n else free[:0]


@dataclass(frozen=True)
class CampaignRecord:
    """One step of a campaign.

    Attributes
    ----------
    step : int
        0 for the initial design, then 1, 2, ...
    n_observations : int
        Candidates measured after this step.
    indices : tuple of int
        Candidates measured in this step.
    values : tuple
        Their observed values, in the same order.
    metric : float
        The metric after this step (NaN without a metric).
    baseline_metric : float
        The random baseline's metric after the same number of observations (NaN
        without a baseline).
    seconds : float
        Wall-clock time of the step (suggest + oracle + tell + metric).
    """

    step: int
    n_observations: int
    indices: tuple[int, ...]
    values: tuple[Any, ...]
    metric: float
    baseline_metric: float
    seconds: float


class Campaign:
    """A sampler, its oracle, a metric, an optional random baseline, and the history.

    Parameters
    ----------
    sampler : CandidateSampler
        The sampler to step (it is reset when the campaign starts).
    oracle : callable
        ``oracle(indices) -> values`` measures candidates.
    metric : callable, optional
        ``metric(sampler) -> float`` after every step (e.g. Macro-F1 against the
        truth, or the best value found).
    baseline : CandidateSampler, optional
        A second, independent sampler (usually a fresh copy of ``sampler``) that is
        wrapped in :class:`RandomChoice` and stepped with the same batch sizes, so
        the history holds "this method" and "random" side by side.
    initial : sequence of int, optional
        Candidates measured before the first step (both runs start from them).
    batch : int, default 1
        Candidates per step.
    random_state : int or None
        Seed of the random baseline.

    Attributes
    ----------
    history : tuple of CampaignRecord
        Every step so far, the initial design first.
    """

    def __init__(
        self,
        sampler: Any,
        oracle: Oracle,
        *,
        metric: Metric | None = None,
        baseline: Any | None = None,
        initial: Sequence[int] | np.ndarray = (),
        batch: int = 1,
        random_state: int | None = None,
    ) -> None:
        self.sampler = sampler
        self.oracle = oracle
        self.metric = metric
        self.baseline = None if baseline is None else RandomChoice(baseline, random_state)
        self.initial = np.asarray(initial, dtype=int).reshape(-1)
        self.batch = check_positive_int(batch, "batch")
        self.random_state = random_state
        self.reset()

    # ----------------------------------------------------------------- state
    def reset(self) -> None:
        """Forget every observation and measure the initial design again."""
        self.sampler.reset()
        if self.baseline is not None:
            self.baseline.reset()
        self._history: list[CampaignRecord] = []
        self._indices: list[int] = []
        self._values: list[Any] = []
        if self.initial.size:
            self._record(0, self.initial, self._measure(self.sampler, self.initial), 0.0)
            if self.baseline is not None:
                self.baseline.tell(self.initial, self._values[: self.initial.size])
                self._history[-1] = self._with_baseline(self._history[-1])

    @property
    def history(self) -> tuple[CampaignRecord, ...]:
        """Every step so far."""
        return tuple(self._history)

    @property
    def observed_indices(self) -> np.ndarray:
        """Measured candidates in the order they were measured."""
        return np.asarray(self._indices, dtype=int)

    @property
    def observed_values(self) -> list[Any]:
        """Observed values, in the order of :attr:`observed_indices`."""
        return list(self._values)

    @property
    def n_observations(self) -> int:
        """How many candidates are measured."""
        return len(self._indices)

    # ------------------------------------------------------------------ loop
    def step(self, n: int | None = None) -> CampaignRecord:
        """Suggest ``n`` candidates (default: ``batch``), measure them, tell the sampler.

        Raises
        ------
        MIInputError
            When every candidate is measured.
        """
        n = self.batch if n is None else check_positive_int(n, "n")
        start = time.perf_counter()
        chosen = np.asarray(self.sampler.suggest(n), dtype=int).reshape(-1)
        if chosen.size == 0:
            raise MIInputError("Every candidate is measured; reset the campaign to start again.")
        values = self._measure(self.sampler, chosen)
        record = self._record(len(self._history), chosen, values, start)
        if self.baseline is not None:
            free = int((~np.asarray(self.baseline.measured_mask)).sum())
            picked = self.baseline.suggest(min(chosen.size, free))
            if picked.size:
                self.baseline.tell(picked, list(self.oracle(picked)))
            self._history[-1] = record = self._with_baseline(record)
        return record

    def run(
        self, n_steps: int, *, progress: Callable[[int, int], None] | None = None
    ) -> list[CampaignRecord]:
        """Do ``n_steps`` steps (fewer if the candidates run out); ``progress(done, total)``."""
        n_steps = check_positive_int(n_steps, "n_steps")
        records = []
        for done in range(n_steps):
            if np.asarray(self.sampler.measured_mask).all():
                break
            records.append(self.step())
            if progress is not None:
                progress(done + 1, n_steps)
        return records

    def _measure(self, sampler: Any, indices: np.ndarray) -> list[Any]:
        values = list(self.oracle(indices))
        if len(values) != indices.size:
            raise MIInputError(
                f"The oracle returned {len(values)} values for {indices.size} candidates; "
                "it must return one value per index."
            )
        sampler.tell(indices, values)
        return values

    def _record(
        self, step: int, indices: np.ndarray, values: list[Any], start: float
    ) -> CampaignRecord:
        self._indices.extend(int(i) for i in indices)
        self._values.extend(values)
        metric = float(self.metric(self.sampler)) if self.metric is not None else float("nan")
        seconds = time.perf_counter() - start if start else 0.0
        record = CampaignRecord(
            step=step,
            n_observations=len(self._indices),
            indices=tuple(int(i) for i in indices),
            values=tuple(values),
            metric=metric,
            baseline_metric=float("nan"),
            seconds=seconds,
        )
        self._history.append(record)
        return record

    def _with_baseline(self, record: CampaignRecord) -> CampaignRecord:
        if self.metric is None or self.baseline is None:
            return record
        value = float(self.metric(self.baseline.sampler))
        return CampaignRecord(**{**record.__dict__, "baseline_metric": value})

    # ---------------------------------------------------------------- export
    def curve(self, which: str = "metric") -> tuple[np.ndarray, np.ndarray]:
        """``(n_observations, metric)`` per step; ``which="baseline_metric"`` for random."""
        if which not in ("metric", "baseline_metric"):
            raise MIInputError(f"which must be 'metric' or 'baseline_metric'; got {which!r}.")
        n = np.array([r.n_observations for r in self._history], dtype=int)
        return n, np.array([getattr(r, which) for r in self._history], dtype=float)

    def to_csv(self) -> str:
        """The history as CSV text: one row per measured candidate."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["step", "n_observations", "index", "value", "metric", "baseline_metric", "seconds"]
        )
        for r in self._history:
            for i, v in zip(r.indices, r.values, strict=True):
                seconds = f"{r.seconds:.4f}"
                row = [r.step, r.n_observations, i, v, r.metric, r.baseline_metric, seconds]
                writer.writerow(row)
        return out.getvalue()


@dataclass(frozen=True)
class CampaignComparison:
    """A method against random choice over several seeds.

    Attributes
    ----------
    n_observations : ndarray, shape (n_points,)
    method : ndarray, shape (n_seeds, n_points)
        The metric of the method.
    random : ndarray, shape (n_seeds, n_points)
        The metric of random choice with the same estimator.
    """

    n_observations: np.ndarray
    method: np.ndarray
    random: np.ndarray

    def median(self, which: str = "method") -> np.ndarray:
        """Median curve over seeds of ``"method"`` or ``"random"``."""
        return np.median(getattr(self, which), axis=0)


def compare_with_random(
    make_sampler: Callable[[int], Any],
    oracle: Oracle,
    metric: Metric,
    *,
    make_initial: Callable[[int], Sequence[int]],
    n_steps: int,
    seeds: Sequence[int] = (0, 1, 2),
    batch: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> CampaignComparison:
    """Run the method and random choice from the same initial designs, seed by seed.

    Parameters
    ----------
    make_sampler : callable
        ``make_sampler(seed)`` returns a fresh sampler.
    oracle, metric : callable
        As in :class:`Campaign`.
    make_initial : callable
        ``make_initial(seed)`` returns the initial design for that seed.
    n_steps : int
        Steps per run.
    seeds : sequence of int
    batch : int
    progress : callable, optional
        ``progress(done, total)`` over seeds.

    Returns
    -------
    CampaignComparison
    """
    method, random = [], []
    for done, seed in enumerate(seeds):
        campaign = Campaign(
            make_sampler(seed),
            oracle,
            metric=metric,
            baseline=make_sampler(seed),
            initial=make_initial(seed),
            batch=batch,
            random_state=seed,
        )
        campaign.run(n_steps)
        n, m = campaign.curve("metric")
        method.append(m)
        random.append(campaign.curve("baseline_metric")[1])
        if progress is not None:
            progress(done + 1, len(seeds))
    length = min(len(m) for m in method)
    return CampaignComparison(
        n_observations=n[:length],
        method=np.array([m[:length] for m in method]),
        random=np.array([r[:length] for r in random]),
    )
