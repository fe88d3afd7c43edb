"""PhaseDiagramSampler as a CandidateSampler: a Campaign runs it, the loop wrappers agree."""

from __future__ import annotations

import numpy as np
import pytest

from mi_widgets.active import (
    Campaign,
    CandidateSampler,
    PhaseDiagramSampler,
    macro_f1,
    macro_f1_metric,
    run_sampling,
    samples_to_discover,
)
from mi_widgets.active.design import initial_design
from mi_widgets.active.thermo import builtin_diagram


@pytest.fixture(scope="module")
def small():
    return builtin_diagram("eutectic", n_x=21, n_t=15)


def test_phase_sampler_is_a_candidate_sampler(small):
    sampler = PhaseDiagramSampler(small.coordinates)
    assert isinstance(sampler, CandidateSampler)
    sampler.tell([0, len(small.labels) - 1], small.labels[[0, -1]])
    np.testing.assert_array_equal(sampler.scores_, sampler.uncertainty_)
    assert sampler.measured_mask.sum() == 2
    sampler.reset()
    assert not sampler.measured_mask.any()


def test_campaign_runs_the_phase_sampler_with_a_random_baseline(small):
    truth = small.labels

    def make():
        return PhaseDiagramSampler(small.coordinates, until_two_phases="random", random_state=0)

    start = initial_design(truth, 5, random_state=0)
    campaign = Campaign(
        make(),
        oracle=lambda idx: truth[idx],
        metric=macro_f1_metric(truth),
        baseline=make(),
        initial=start,
        batch=2,
        random_state=0,
    )
    records = campaign.run(10)
    assert [r.n_observations for r in records] == list(range(7, 26, 2))
    assert campaign.history[0].indices == tuple(start.tolist())
    last = campaign.history[-1]
    assert last.metric == pytest.approx(macro_f1(truth, campaign.sampler.predict()))
    assert 0 <= last.baseline_metric <= 1
    n, f1 = campaign.curve()
    assert n[0] == 5 and n[-1] == 25 and np.isfinite(f1).all()
    # every measured candidate in the CSV, in order, with its true label
    rows = campaign.to_csv().strip().splitlines()[1:]
    assert [int(r.split(",")[2]) for r in rows] == campaign.observed_indices.tolist()
    assert [r.split(",")[3] for r in rows] == truth[campaign.observed_indices].tolist()


def test_run_sampling_continues_from_told_labels_and_restores_settings(small):
    truth = small.labels
    sampler = PhaseDiagramSampler(small.coordinates, random_state=1)
    sampler.tell([0, 5], ["told-by-user", truth[5]])
    run = run_sampling(sampler, truth, 4, batch_size=2)
    assert run.n_samples.tolist() == [2, 4, 6, 8, 10]
    assert sampler.labels[0] == "told-by-user"  # the user's label is kept, not re-measured
    assert sampler.until_two_phases == "raise" and sampler.batch == "ranked"
    assert run.order[:2].tolist() == [0, 5]


def test_suggest_is_stable_until_something_is_told(small):
    s = PhaseDiagramSampler(small.coordinates, score="random", random_state=3)
    first = s.suggest(3)
    np.testing.assert_array_equal(s.suggest(3), first)
    s.tell(first, small.labels[first])
    assert not np.isin(s.suggest(3), first).any()


def test_samples_to_discover_counts_until_the_last_new_label():
    truth = np.array(["a", "a", "b", "c", "c"])
    assert samples_to_discover([0, 1, 2, 4], truth) == 4.0
    assert samples_to_discover([2, 3, 0], truth) == 3.0
    assert samples_to_discover([0, 2], truth) == float("inf")
