"""The phase-diagram sampling loop, expressed over :class:`~mi_widgets.active.campaign.Campaign`.

:func:`run_sampling` steps a :class:`~mi_widgets.active.pdc.PhaseDiagramSampler` against an
oracle (the true labels, or an experiment) and records Macro-F1; :func:`compare_with_random`
does it from the same initial designs with uncertainty and random choice, seed by seed;
:func:`sampling_step` is one "measure the proposals, propose again" step as a lab shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets.active.campaign import Campaign
from mi_widgets.active.design import initial_design
from mi_widgets.active.metrics import macro_f1, macro_f1_metric, samples_to_reach
from mi_widgets.active.pdc import BATCHES, PhaseDiagramSampler, _check_indices

__all__ = [
    "SamplingComparison",
    "SamplingRun",
    "SamplingStep",
    "compare_with_random",
    "run_sampling",
    "sampling_step",
]


@dataclass(frozen=True)
class SamplingRun:
    """One sampling run: Macro-F1 against the truth after each evaluated step.

    Attributes
    ----------
    n_samples : ndarray of int
        Measured points at each evaluation.
    macro_f1 : ndarray
        Macro-F1 of the prediction over all candidates at those points.
    order : ndarray of int
        Every measured candidate in the order measured (initial points first).
    """

    n_samples: np.ndarray
    macro_f1: np.ndarray
    order: np.ndarray


def run_sampling(
    sampler: PhaseDiagramSampler,
    oracle: Callable[[np.ndarray], Sequence[Any]] | Sequence[Any] | np.ndarray,
    n_steps: int,
    *,
    truth: Any = None,
    batch_size: int = 1,
    batch: str = "ranked",
    k: int = 1,
    eval_every: int = 1,
    stop_at: float | None = None,
    callback: Callable[[int], None] | None = None,
) -> SamplingRun:
    """Step the loop: suggest, measure with ``oracle``, tell; record Macro-F1.

    While fewer than two phases are known the proposal is random (uncertainty is
    undefined then).

    Parameters
    ----------
    sampler : PhaseDiagramSampler
        Starts from its current measurements (tell the initial points first).
    oracle : callable or array_like
        ``oracle(indices) -> labels`` (an experiment), or the true label of every
        candidate.
    n_steps : int
        Number of suggest/tell steps.
    truth : array_like, optional
        True labels for Macro-F1; defaults to ``oracle`` when it is an array.
    batch_size, batch, k
        Passed to :meth:`PhaseDiagramSampler.suggest`.
    eval_every : int, default 1
        Evaluate Macro-F1 every this many steps (and after the last one).
    stop_at : float, optional
        Stop early once Macro-F1 reaches this value.
    callback : callable, optional
        Called with the step number after each step (for progress bars).

    Returns
    -------
    SamplingRun

    Examples
    --------
    >>> x = np.linspace(0, 1, 50)[:, None]
    >>> truth = np.where(x[:, 0] < 0.3, "a", "b")
    >>> s = PhaseDiagramSampler(x)
    >>> s.tell([0, 49], truth[[0, 49]])
    >>> run = run_sampling(s, truth, 6)
    >>> float(run.macro_f1[-1])
    1.0
    """
    n_steps = check_positive_int(n_steps, "n_steps", minimum=0)
    eval_every = check_positive_int(eval_every, "eval_every")
    if callable(oracle):
        measure = oracle
    else:
        labels_all = np.asarray(oracle)
        if len(labels_all) != sampler.n_candidates:
            raise MIInputError(
                f"oracle has {len(labels_all)} labels for {sampler.n_candidates} candidates; "
                "give one true label per candidate."
            )
        truth = labels_all if truth is None else truth

        def measure(idx):
            return labels_all[idx]

    metric = None if truth is None else macro_f1_metric(truth)
    campaign, restore = _campaign_from(sampler, measure, batch_size, batch, k)
    counts, scores = [], []

    def evaluate() -> None:
        if metric is not None:
            counts.append(campaign.n_observations)
            scores.append(metric(sampler))

    try:
        if campaign.n_observations:
            evaluate()
        for step in range(1, n_steps + 1):
            remaining = int((~sampler.measured_mask).sum())
            if remaining == 0:
                break
            campaign.step(min(batch_size, remaining))
            if step % eval_every == 0 or step == n_steps:
                evaluate()
            if callback is not None:
                callback(step)
            if stop_at is not None and scores and scores[-1] >= stop_at:
                break
    finally:
        restore()
    return SamplingRun(np.array(counts, dtype=int), np.array(scores), np.array(sampler.order_))


def _campaign_from(
    sampler: PhaseDiagramSampler, measure: Callable, batch_size: int, batch: str, k: int
) -> tuple[Campaign, Callable[[], None]]:
    """A Campaign that continues from the sampler's measurements (their labels kept).

    The sampler proposes at random while fewer than two phases are known and uses the
    given batch rule; ``restore()`` puts its own settings back afterwards.
    """
    order = list(sampler.order_)
    known = dict(zip(order, sampler.labels[order].tolist(), strict=True))
    saved = (sampler.batch, sampler.k, sampler.until_two_phases)

    def oracle(indices: np.ndarray) -> list:
        fresh = [int(i) for i in indices if int(i) not in known]
        measured = list(measure(np.array(fresh, dtype=int))) if fresh else []
        values = dict(zip(fresh, measured, strict=True))
        return [known[int(i)] if int(i) in known else values[int(i)] for i in indices]

    sampler.batch = check_choice(batch, "batch", BATCHES)
    sampler.k = check_positive_int(k, "k")
    sampler.until_two_phases = "random"

    def restore() -> None:
        sampler.batch, sampler.k, sampler.until_two_phases = saved

    try:
        campaign = Campaign(
            sampler,
            oracle,
            initial=list(known),
            batch=check_positive_int(batch_size, "batch_size"),
        )
    except Exception:
        restore()
        raise
    return campaign, restore


@dataclass(frozen=True)
class SamplingStep:
    """One step of the loop as a lab shows it.

    Attributes
    ----------
    measured : ndarray of int
        The candidates measured in this step (empty when nothing was measured).
    n_samples : int
        Measured candidates after the step.
    macro_f1 : float
        Macro-F1 against the truth after the step (NaN without a truth).
    proposals : ndarray of int
        The next proposals.
    """

    measured: np.ndarray
    n_samples: int
    macro_f1: float
    proposals: np.ndarray


def sampling_step(
    sampler: PhaseDiagramSampler,
    truth: Any = None,
    measure: Any = (),
    *,
    n: int = 1,
    batch: str = "ranked",
    k: int = 1,
    random_until_two_phases: bool = True,
) -> SamplingStep:
    """Measure ``measure`` with the true labels (if any), then propose the next ``n``.

    While fewer than two phases are measured the proposals are random (or, with
    ``random_until_two_phases=False``, the sampler's MIInputError says so).

    Parameters
    ----------
    sampler : PhaseDiagramSampler
    truth : array_like, optional
        True label of every candidate (a simulated experiment); without it nothing is
        measured and only proposals are made (the user's own experiments).
    measure : sequence of int
        Candidates to measure now (usually the previous proposals).
    n, batch, k
        Passed to :meth:`PhaseDiagramSampler.suggest`.

    Returns
    -------
    SamplingStep

    Examples
    --------
    >>> x = np.linspace(0, 1, 21)[:, None]
    >>> truth = np.where(x[:, 0] < 0.4, "a", "b")
    >>> s = PhaseDiagramSampler(x)
    >>> first = sampling_step(s, truth, [0, 20])
    >>> first.n_samples, int(first.proposals[0])
    (2, 10)
    """
    measured = _check_indices(measure, sampler.n_candidates) if len(measure) else np.array([], int)
    if measured.size:
        if truth is None:
            raise MIInputError("Without true labels nothing can be measured; tell() labels.")
        sampler.tell(measured, np.asarray(truth)[measured])
    unlabelled = int((~sampler.labelled_mask).sum())
    known = len(set(sampler.labels[sampler.labelled_mask].tolist()))
    proposals = np.array([], dtype=int)
    if unlabelled:
        score = "random" if known < 2 and random_until_two_phases else None
        proposals = sampler.suggest(n, batch=batch, k=k, score=score)
    f1 = float("nan")
    if truth is not None and known:
        f1 = macro_f1(truth, sampler.predict())
    return SamplingStep(measured, int(sampler.labelled_mask.sum()), f1, proposals)


@dataclass(frozen=True)
class SamplingComparison:
    """Uncertainty sampling against random sampling, over several seeds.

    Attributes
    ----------
    uncertainty, random : list of SamplingRun
        One run per seed (same initial points for both).
    samples_uncertainty, samples_random : ndarray
        Samples needed to reach ``threshold`` per seed (inf if never).
    threshold : float
    """

    uncertainty: list[SamplingRun]
    random: list[SamplingRun]
    samples_uncertainty: np.ndarray
    samples_random: np.ndarray
    threshold: float = 0.95
    settings: dict = field(default_factory=dict)

    def mean_curve(self, which: str = "uncertainty") -> tuple[np.ndarray, np.ndarray]:
        """Macro-F1 against samples averaged over seeds.

        Each run's curve is held at its last evaluated value until its next evaluation
        (and after it stopped early).

        Parameters
        ----------
        which : {"uncertainty", "random"}

        Returns
        -------
        n_samples, macro_f1 : ndarray
        """
        which = check_choice(which, "which", ["uncertainty", "random"])
        runs = self.uncertainty if which == "uncertainty" else self.random
        grid = np.unique(np.concatenate([r.n_samples for r in runs]))
        held = [r.macro_f1[np.searchsorted(r.n_samples, grid, side="right") - 1] for r in runs]
        return grid, np.mean(held, axis=0)

    @property
    def ratio(self) -> float:
        """Median samples of uncertainty sampling over the median of random sampling."""
        return float(np.median(self.samples_uncertainty) / np.median(self.samples_random))


def compare_with_random(
    candidates: Any,
    truth: Any,
    *,
    n_steps: int,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_initial: int = 5,
    threshold: float = 0.95,
    random_steps: int | None = None,
    random_eval_every: int = 10,
    eval_every: int = 1,
    stop_early: bool = True,
    **sampler_kwargs: Any,
) -> SamplingComparison:
    """Samples to reach Macro-F1 >= ``threshold``: uncertainty vs random sampling.

    Both start from the same :func:`initial_design` points for each seed.

    Parameters
    ----------
    candidates, truth : array_like
        The candidate grid and the true label of every candidate.
    n_steps : int
        Steps of uncertainty sampling per seed.
    seeds : sequence of int
    n_initial : int
    threshold : float
    random_steps : int, optional
        Steps of random sampling (default ``4 * n_steps``).
    random_eval_every, eval_every : int
        Evaluation strides (random sampling only needs a fit when evaluated).
    stop_early : bool, default True
        Stop each run once it reaches ``threshold`` (the curves then end there).
    **sampler_kwargs
        Passed to :class:`PhaseDiagramSampler`.

    Returns
    -------
    SamplingComparison

    Examples
    --------
    >>> x = np.linspace(0, 1, 60)[:, None]
    >>> truth = np.where(x[:, 0] < 0.5, "a", "b")
    >>> cmp = compare_with_random(x, truth, n_steps=10, seeds=[0], random_steps=40)
    >>> bool(cmp.samples_uncertainty[0] <= cmp.samples_random[0])
    True
    """
    truth = np.asarray(truth)
    random_steps = 4 * n_steps if random_steps is None else random_steps
    stop_early = threshold if stop_early else None
    us_runs, rs_runs = [], []
    for seed in seeds:
        start = initial_design(truth, n_initial, random_state=seed)
        for runs, score, steps, stride in (
            (us_runs, sampler_kwargs.get("score", "least_confident"), n_steps, eval_every),
            (rs_runs, "random", random_steps, random_eval_every),
        ):
            kwargs = {**sampler_kwargs, "score": score, "random_state": seed}
            sampler = PhaseDiagramSampler(candidates, **kwargs)
            sampler.tell(start, truth[start])
            runs.append(run_sampling(sampler, truth, steps, eval_every=stride, stop_at=stop_early))
    return SamplingComparison(
        us_runs,
        rs_runs,
        np.array([samples_to_reach(r, threshold) for r in us_runs]),
        np.array([samples_to_reach(r, threshold) for r in rs_runs]),
        threshold,
        dict(sampler_kwargs, n_initial=n_initial, seeds=list(seeds)),
    )
