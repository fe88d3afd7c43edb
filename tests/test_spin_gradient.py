"""Analytic dM/dJ and dE/dJ against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from mi_widgets import MIInputError
from mi_widgets.spin import SpinCluster, magnetization, susceptibility
from mi_widgets.spin.estimation import HamiltonianEstimator
from mi_widgets.spin.gradient import levels_with_slopes, magnetization_gradient

DIMER = SpinCluster(2, [(0, 1, "J")])
FIELDS = np.linspace(0, 60, 13)
TEMPERATURES = [1.4, 4.2, 20.0]
STEP = 1e-5  # meV


def _random_cluster(seed: int = 3) -> tuple[SpinCluster, dict[str, float]]:
    """8 spins, ring and next-nearest bonds, three couplings drawn at random."""
    rng = np.random.default_rng(seed)
    names = ["Ja", "Jb", "Jc"]
    pairs = [(i, (i + 1) % 8) for i in range(8)] + [(i, (i + 2) % 8) for i in range(8)]
    bonds = [(i, j, names[int(rng.integers(3))]) for i, j in pairs]
    cluster = SpinCluster(8, bonds)
    return cluster, dict(zip(cluster.names, rng.uniform(-6, 6, len(cluster.names)), strict=True))


def _central(f, x: np.ndarray) -> np.ndarray:
    """Central differences of f at x along each axis; f returns an array or a float."""
    rows = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = STEP
        rows.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * STEP))
    return np.array(rows)


def _close(analytic: np.ndarray, numeric: np.ndarray) -> None:
    scale = np.abs(numeric).max()
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize("delta", [1.0, 0.6])
@pytest.mark.parametrize("which", ["dimer", "random 8 spins"])
def test_magnetization_gradient_matches_finite_differences(which, delta):
    cluster, couplings = (DIMER, {"J": -4.0}) if which == "dimer" else _random_cluster()
    x = cluster.coupling_vector(couplings)
    m, dm = magnetization_gradient(cluster, couplings, FIELDS, TEMPERATURES, delta=delta)

    def curve(v):
        couplings = dict(zip(cluster.names, v, strict=True))
        return magnetization(cluster, couplings, FIELDS, TEMPERATURES, delta=delta)

    np.testing.assert_allclose(m, curve(x), atol=1e-12)
    _close(dm, _central(curve, x))


def test_level_slopes_are_hellmann_feynman_for_the_dimer():
    # H = -J S1.S2: singlet -(-3/4) J, triplet -(1/4) J, so dE/dJ = 3/4 and -1/4.
    spec = levels_with_slopes(DIMER, {"J": -2.0})
    assert sorted(spec.slopes[0].round(12).tolist()) == [-0.25, -0.25, -0.25, 0.75]


def test_the_gradient_at_zero_temperature_is_zero_between_the_steps():
    _, dm = magnetization_gradient(DIMER, {"J": -4.0}, [10.0, 50.0], 0.0)
    assert np.array_equal(dm, np.zeros((1, 2)))


def _estimator(prior: str, lam: float):
    """An estimator of M(B) and chi(T) data near the random cluster's couplings."""
    cluster, couplings = _random_cluster()
    truth = {name: value + 0.7 for name, value in couplings.items()}
    m = magnetization(cluster, truth, FIELDS, TEMPERATURES, delta=0.8)
    chi_t = np.array([5.0, 10.0, 40.0])
    est = HamiltonianEstimator(
        cluster,
        FIELDS,
        m,
        TEMPERATURES,
        delta=0.8,
        prior=prior,
        lam=lam,
        sigma=0.02,
        chi_temperatures=chi_t,
        chi_observed=susceptibility(cluster, truth, chi_t, delta=0.8),
    )
    return est, cluster.coupling_vector(couplings)


@pytest.mark.parametrize("prior, lam", [("l2", 0.0), ("l2", 3.0), ("l1", 2.0)])
def test_energy_gradient_matches_finite_differences(prior, lam):
    est, x = _estimator(prior, lam)
    assert np.abs(x).min() > 10 * STEP  # |x| is differentiable here
    value, grad = est.energy_and_gradient(x)
    assert value == pytest.approx(est.energy(x), rel=1e-12)
    _close(grad, _central(est.energy, x))


@pytest.mark.parametrize("prior, lam", [("l2", 0.0), ("l2", 3.0), ("l1", 0.0)])
def test_residuals_give_the_energy_and_its_gradient_in_one_call(prior, lam):
    est, x = _estimator(prior, lam)
    est._calls = 0
    r, jac = est.residuals_and_jacobian(x)
    assert est._calls == 1 and jac.shape == (r.size, x.size)
    value, grad = est.energy_and_gradient(x)
    assert r @ r == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(2 * jac.T @ r, grad, rtol=1e-10, atol=1e-12 * np.abs(grad).max())


def test_an_l1_prior_has_no_residual_form():
    est, x = _estimator("l1", 2.0)
    est._calls = 0
    assert est.residuals_and_jacobian(x) is None and est._calls == 0


def test_energy_and_gradient_is_one_forward_call_and_lbfgs_counts_them():
    m = magnetization(DIMER, {"J": -4.0}, FIELDS, TEMPERATURES)
    est = HamiltonianEstimator(
        DIMER, FIELDS, m, TEMPERATURES, optimizer="lbfgs", n_starts=2, random_state=0
    )
    est._check()
    est._calls = 0
    est.energy_and_gradient([-3.0])
    assert est._calls == 1
    est.fit()
    assert est.n_forward_calls_ == len(est.trace_.energy)
    assert est.couplings_["J"] == pytest.approx(-4.0, abs=1e-5)


def test_slopes_need_the_full_spectrum():
    big = SpinCluster(16, [(i, i + 1, "J") for i in range(15)])
    with pytest.raises(MIInputError, match="full spectrum"):
        levels_with_slopes(big, {"J": -1.0})
