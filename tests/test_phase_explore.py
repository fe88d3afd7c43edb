"""Lab 09's sampler explores: unreached candidates stay uncertain and every phase is found.

Measured on the former default (nearest-label start): the Spearman correlation between
uncertainty and distance to the nearest measured point was -0.04 to -0.70, the farthest
candidates' uncertainty 0.00-0.15, and on the ternary uncertainty sampling had not found
the single-phase gamma after 405 samples; these tests fail there.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree
from scipy.stats import spearmanr

from mi_widgets._errors import MIInputError
from mi_widgets.active import (
    PhaseDiagramSampler,
    compare_with_random,
    load_phase_diagram,
    run_sampling,
    samples_to_discover,
)
from mi_widgets.active.design import initial_design, unary_binary_design
from mi_widgets.active.thermo import builtin_diagram, simplex_grid
from mi_widgets.active.widgets import PhaseDiagramLab

BUILTIN = ("eutectic", "peritectic", "ternary")


def distance_to_measured(sampler):
    measured = np.flatnonzero(sampler.measured_mask)
    return cKDTree(sampler.features_[measured]).query(sampler.features_)[0]


def explore_state(diagram, n_samples, seed=0, **kwargs):
    """A sampler after ``n_samples`` of uncertainty sampling from a random start."""
    sampler = PhaseDiagramSampler(diagram.coordinates, random_state=seed, **kwargs)
    start = initial_design(diagram.labels, 5, random_state=seed)
    sampler.tell(start, diagram.labels[start])
    if n_samples > 5:
        run_sampling(sampler, diagram.labels, n_samples - 5, eval_every=1000)
    return sampler


def uncertainty_against_distance(sampler):
    free = ~sampler.measured_mask
    u, d = sampler.uncertainty_[free], distance_to_measured(sampler)[free]
    far = d >= np.quantile(d, 0.9)
    return spearmanr(u, d)[0], u[far].mean(), np.median(u)


@pytest.mark.parametrize("name", BUILTIN)
@pytest.mark.parametrize("n_samples", [5, 40])
def test_far_candidates_are_uncertain(name, n_samples):
    sampler = explore_state(load_phase_diagram(name), n_samples)
    rho, far, median = uncertainty_against_distance(sampler)
    assert rho > 0.3
    assert far > 0.4 and far > median


@pytest.mark.parametrize(
    "kwargs",
    [{"estimator": "label_spreading"}, {"graph": "rbf"}, {"n_neighbors": 5}],
)
def test_every_graph_and_estimator_of_the_lab_explores(kwargs):
    diagram = builtin_diagram("ternary", steps=20)  # 231 candidates: the dense graph is offered
    rho, far, median = uncertainty_against_distance(explore_state(diagram, 15, **kwargs))
    assert rho > 0 and far > median


def test_prior_gamma_zero_is_the_nearest_label_start_that_does_not_explore():
    diagram = load_phase_diagram("eutectic")
    rho_old = uncertainty_against_distance(explore_state(diagram, 40, prior_gamma=0.0))[0]
    rho_new = uncertainty_against_distance(explore_state(diagram, 40))[0]
    assert rho_old < 0 < rho_new
    with pytest.raises(MIInputError, match="prior_gamma must be a finite number >= 0"):
        PhaseDiagramSampler(diagram.coordinates, prior_gamma=-1.0)


def test_equal_uncertainty_goes_to_the_farthest_candidate():
    x = np.linspace(0, 1, 41)[:, None]
    s = PhaseDiagramSampler(x)
    s.tell([0, 1, 40], ["a", "a", "b"])
    s.tell([20], ["b"])
    u = s.uncertainty_
    first = s.suggest()[0]
    assert u[first] == pytest.approx(u.max())
    assert 2 < first < 20  # between the two labels, not next to a measured point


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILTIN)
def test_uncertainty_sampling_finds_every_phase_and_beats_random(name):
    diagram = load_phase_diagram(name)
    cmp = compare_with_random(
        diagram.coordinates,
        diagram.labels,
        n_steps=1500,
        seeds=(0, 1, 2),
        random_steps=len(diagram.labels) - 5,
        random_eval_every=50,
    )
    found_us = [samples_to_discover(r.order, diagram.labels) for r in cmp.uncertainty]
    found_random = [samples_to_discover(r.order, diagram.labels) for r in cmp.random]
    assert np.median(found_us) < np.median(found_random)
    assert np.median(cmp.samples_uncertainty) <= 0.3 * np.median(cmp.samples_random)


def test_app_default_run_is_above_random_from_the_first_tens_of_samples():
    lab = PhaseDiagramLab("eutectic", random_state=0)
    lab.run(45)
    n, method = lab.campaign.curve("metric")
    _, random = lab.campaign.curve("baseline_metric")
    tens = n >= 20
    assert (method[tens] > random[tens]).all()
    assert "random sampling:" in lab.status.value


def test_unary_binary_design_on_the_builtin_ternary():
    diagram = load_phase_diagram("ternary")
    idx = unary_binary_design(diagram.coordinates)
    fractions = diagram.coordinates[idx]
    assert len(idx) == 3 + 3 * 3 and len(set(idx.tolist())) == len(idx)
    np.testing.assert_array_equal(fractions[:3], np.eye(3))
    assert ((fractions == 0).sum(axis=1) >= 1).all()  # all on the edges
    every_edge = unary_binary_design(diagram.coordinates, n_per_edge=None)
    assert len(every_edge) == 3 * 101 - 3
    with pytest.raises(MIInputError, match="at least 3 components"):
        unary_binary_design(np.random.default_rng(0).random((10, 2)))
    with pytest.raises(MIInputError, match="one common sum"):
        unary_binary_design(simplex_grid(3, 4) * np.arange(1, 16)[:, None])


def test_lab_offers_the_unary_binary_start_for_ternaries():
    lab = PhaseDiagramLab("ternary", start="unary_binary")
    start = lab.history[0]
    assert start.n_observations == 12 and lab.start_choice.value == "unary_binary"
    np.testing.assert_array_equal(start.indices, unary_binary_design(lab.diagram.coordinates))
    lab.run(5)
    assert lab.history[-1].n_observations == 17
    lab.start_choice.value = "random"
    assert lab.history[-1].n_observations == 5
    lab.diagram_choice.value = "eutectic"
    lab.start_choice.value = "unary_binary"
    assert "for ternary compositions" in lab.banner.message
    assert lab.start_choice.value == "random" and lab.history[-1].n_observations == 5
