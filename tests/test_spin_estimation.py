"""Hamiltonian estimation: recovery of injected couplings, F(sigma), posterior, elbow, searches."""

from __future__ import annotations

import numpy as np
import pytest

from mi_widgets import MIInputError
from mi_widgets.spin import SpinCluster, magnetization, spin_gap
from mi_widgets.spin.data import (
    KCU4P3O12_COUPLINGS,
    KCU4P3O12_G,
    load_kcu4p3o12,
    make_magnetization_data,
)
from mi_widgets.spin.estimation import (
    GridCouplingSearch,
    HamiltonianEstimator,
    RandomCouplingSearch,
    equivalent_fits,
)

DIMER = SpinCluster(2, [(0, 1, "J")])


def _dimer_data(noise=0.02, seed=4):
    return make_magnetization_data(
        DIMER, {"J": -4.0}, np.linspace(0, 80, 41), [2.0, 8.0], noise=noise, seed=seed
    )


def _chi2_on_grid(data, lo=-12.0, hi=12.0, centre=-4.0):
    """chi^2(J) on a grid: coarse over the box, fine near the optimum."""
    est = HamiltonianEstimator(DIMER, data.fields, data.m, data.temperatures, bounds=(lo, hi))
    grid = np.unique(np.concatenate([np.linspace(lo, hi, 1201), np.linspace(-1, 1, 2001) + centre]))
    return grid, np.array([est.misfit([j]) for j in grid])


def _quadrature(data, sigma, grid_chi2, lo=-12.0, hi=12.0):
    """F(sigma), posterior mean and sd of J by quadrature (flat prior on [lo, hi])."""
    grid, chi2 = grid_chi2
    log_w = -chi2 / (2 * sigma**2)
    shift = log_w.max()
    w = np.exp(log_w - shift)
    norm = np.trapezoid(w, grid)
    mean = np.trapezoid(w * grid, grid) / norm
    sd = np.sqrt(np.trapezoid(w * (grid - mean) ** 2, grid) / norm)
    free = data.m.size / 2 * np.log(2 * np.pi * sigma**2) - (np.log(norm / (hi - lo)) + shift)
    return free, mean, sd


def _dimer_fit(data, n_starts: int, random_state: int) -> HamiltonianEstimator:
    """Multistart L-BFGS-B on dimer curves."""
    return HamiltonianEstimator(
        DIMER,
        data.fields,
        data.m,
        data.temperatures,
        optimizer="lbfgs",
        n_starts=n_starts,
        random_state=random_state,
    ).fit()


def test_multistart_recovers_a_dimer_exactly_without_noise():
    est = _dimer_fit(_dimer_data(noise=0.0), n_starts=4, random_state=0)
    assert est.couplings_["J"] == pytest.approx(-4.0, abs=1e-4)
    assert est.gap_ == pytest.approx(4.0, abs=1e-4)
    assert est.n_forward_calls_ == len(est.trace_.energy)


def test_free_energy_matches_quadrature_and_is_minimal_near_the_injected_noise():
    data = _dimer_data(noise=0.02)
    est = _dimer_fit(data, n_starts=3, random_state=1)
    sigmas = np.array([0.01, 0.015, 0.02, 0.03, 0.05])
    curve = est.free_energy(sigmas, n_sweeps=400, n_burn=100)
    grid = _chi2_on_grid(data)
    exact = np.array([_quadrature(data, s, grid)[0] for s in sigmas])
    assert curve.free_energy == pytest.approx(exact, abs=0.5)
    assert curve.sigma_min == 0.02
    assert 0.1 < curve.swap_acceptance <= 1


def test_posterior_matches_quadrature_mean_and_sd():
    data = _dimer_data(noise=0.05, seed=7)
    est = HamiltonianEstimator(
        DIMER,
        data.fields,
        data.m,
        data.temperatures,
        sigma=0.05,
        optimizer="lbfgs",
        n_starts=3,
        random_state=2,
    ).fit()
    post = est.posterior_samples(400, thin=5)
    _, mean, sd = _quadrature(data, 0.05, _chi2_on_grid(data))
    assert post.mean["J"] == pytest.approx(mean, abs=0.5 * sd)
    assert post.std["J"] == pytest.approx(sd, rel=0.3)
    gap_mean, gap_sd = post.gap
    assert gap_mean == pytest.approx(-mean, abs=0.5 * sd) and gap_sd == pytest.approx(sd, rel=0.3)


def test_l1_elbow_switches_off_a_redundant_coupling():
    # Truth: a 4-spin chain with J only; the model also offers K on a long bond.
    truth = SpinCluster(4, [(0, 1, "J"), (1, 2, "J"), (2, 3, "J")])
    model = SpinCluster(4, [(0, 1, "J"), (1, 2, "J"), (2, 3, "J"), (0, 3, "K")])
    b = np.linspace(0, 60, 31)
    t = [2.0, 10.0]
    m = magnetization(truth, {"J": -3.0}, b, t)
    m = m + np.random.default_rng(0).normal(0, 0.01, m.shape)
    est = HamiltonianEstimator(
        model, b, m, t, sigma=0.01, prior="l1", optimizer="lbfgs", n_starts=6, random_state=0
    ).fit()
    curve = est.elbow(np.logspace(-1, 4, 11))
    assert np.all(np.diff(curve.misfit) >= -1e-6)  # more regularisation never fits better
    at_elbow = dict(zip(curve.names, curve.couplings[curve.elbow_index], strict=True))
    assert abs(at_elbow["K"]) < 0.1 and at_elbow["J"] == pytest.approx(-3.0, abs=0.3)


def test_grid_and_random_searches_use_their_budget_and_are_seeded():
    data = _dimer_data()
    est = HamiltonianEstimator(DIMER, data.fields, data.m, data.temperatures, n_calls=9)
    grid = GridCouplingSearch(est, random_state=0).run(9)
    assert len(grid.energy) == 9 and np.unique(grid.x).size == 9
    one = RandomCouplingSearch(est, random_state=3).run(5)
    two = RandomCouplingSearch(est, random_state=3).step(5)
    assert np.array_equal(one.x, two.x)
    assert np.all(np.diff(one.best_so_far) <= 0)


@pytest.mark.slow
def test_multistart_recovers_the_kcu4p3o12_model_and_its_gap():
    cluster, curves, _ = load_kcu4p3o12()
    est = HamiltonianEstimator(
        cluster,
        curves.fields,
        curves.m,
        curves.temperatures,
        g=KCU4P3O12_G,
        sigma=curves.noise,
        optimizer="lbfgs",
        random_state=0,
    ).fit()
    for name, value in KCU4P3O12_COUPLINGS.items():
        assert est.couplings_[name] == pytest.approx(value, abs=0.15)
    assert est.gap_ == pytest.approx(spin_gap(cluster, KCU4P3O12_COUPLINGS), abs=0.01)
    truth = np.array([KCU4P3O12_COUPLINGS[n] for n in est.names])
    assert est.misfit_ <= est.misfit(truth)
    fits = equivalent_fits(est, tolerance=0.25)
    assert np.ptp(fits.gaps) < 0.01


def test_bad_input_messages():
    data = _dimer_data()
    with pytest.raises(MIInputError, match="shape"):
        HamiltonianEstimator(DIMER, data.fields, data.m[:, :-1], data.temperatures).fit()
    bad = data.m.copy()
    bad[0, 3] = np.nan
    with pytest.raises(MIInputError, match="NaN"):
        HamiltonianEstimator(DIMER, data.fields, bad, data.temperatures).fit()
    with pytest.raises(MIInputError, match="optimizer must be one of"):
        HamiltonianEstimator(DIMER, data.fields, data.m, data.temperatures, optimizer="x").fit()
    with pytest.raises(MIInputError, match="bounds lack J"):
        HamiltonianEstimator(
            DIMER, data.fields, data.m, data.temperatures, bounds={"K": (0, 1)}
        ).fit()
    with pytest.raises(MIInputError, match="0 K or above"):
        HamiltonianEstimator(DIMER, data.fields, data.m, [-1.0, 2.0]).fit()
    with pytest.raises(MIInputError, match="call fit"):
        HamiltonianEstimator(DIMER, data.fields, data.m, data.temperatures).posterior_samples(10)


@pytest.fixture(scope="module")
def bo_study():
    """Ten BO fits of the KCu4P3O12 stand-in (seeds 0-9) and the multistart reference.

    Fitted once for the tests below, which only read them.
    """
    active = pytest.importorskip("mi_widgets.active")
    if not hasattr(active, "BayesianOptimizer"):
        pytest.skip("mi_widgets.bayesopt.BayesianOptimizer (lab 04) is not available")
    cluster, curves, _ = load_kcu4p3o12()
    common = dict(g=KCU4P3O12_G, sigma=curves.noise)
    args = (cluster, curves.fields, curves.m, curves.temperatures)
    runs = [
        HamiltonianEstimator(*args, optimizer="bo", random_state=seed, **common).fit()
        for seed in range(10)
    ]
    reference = HamiltonianEstimator(*args, optimizer="lbfgs", random_state=0, **common).fit()
    return args, common, runs, reference


def _calls_to_reach(runs, reference, sigma: float) -> list[float]:
    """Forward calls each run took to come within 1 % of the reference's chi^2 (inf: never)."""
    calls = []
    for est in runs:
        best = est.trace_.best_so_far * 2 * sigma**2
        reached = np.flatnonzero(best <= 1.01 * reference.misfit_)
        calls.append(reached[0] + 1 if reached.size else np.inf)
    return calls


@pytest.mark.slow
def test_bayesian_optimisation_beats_random_search_at_300_calls(bo_study):
    args, common, runs, _ = bo_study
    runs = runs[:3]
    random = [
        HamiltonianEstimator(*args, optimizer="random", n_calls=300, random_state=s, **common).fit()
        for s in range(3)
    ]
    assert all(r.n_forward_calls_ <= 300 for r in runs)
    assert np.median([r.misfit_ for r in runs]) < 0.5 * np.median([r.misfit_ for r in random])


@pytest.mark.slow
def test_bayesian_optimisation_reaches_the_multistart_optimum_in_300_calls(bo_study):
    _, common, runs, reference = bo_study
    runs = runs[:3]
    gaps = [abs(est.gap_ - reference.gap_) for est in runs]
    errors = [
        max(abs(est.couplings_[n] - v) for n, v in KCU4P3O12_COUPLINGS.items()) for est in runs
    ]
    assert np.median(_calls_to_reach(runs, reference, common["sigma"])) <= 300
    assert np.median(errors) <= 0.15 and np.median(gaps) <= 0.01


@pytest.mark.slow
def test_bayesian_optimisation_reaches_the_multistart_optimum_on_most_of_ten_seeds(bo_study):
    _, common, runs, reference = bo_study
    calls = _calls_to_reach(runs, reference, common["sigma"])
    assert np.median(calls) <= 300 and np.isfinite(calls).sum() >= 8


def test_bayesian_search_polishes_with_l_bfgs_b_under_an_l1_prior():
    pytest.importorskip("mi_widgets.bayesopt")
    from mi_widgets.spin.search import BayesianCouplingSearch

    data = _dimer_data()
    est = HamiltonianEstimator(
        DIMER, data.fields, data.m, data.temperatures, prior="l1", lam=0.5, sigma=0.02
    )
    search = BayesianCouplingSearch(est, n_global=12, polish_calls=10, random_state=0)
    trace = search.run(40)
    assert len(trace.energy) == search.n_calls <= 40 and search.polish_starts
    assert trace.energy[12:].min() <= trace.energy[:12].min()
    assert est.energy(trace.best_x) == pytest.approx(trace.energy.min(), rel=1e-9)
