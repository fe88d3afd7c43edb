"""Exact diagonalisation of spin clusters against closed forms, dense 2^N ED and QuSpin."""

from __future__ import annotations

import numpy as np
import pytest

from mi_widgets import MIInputError
from mi_widgets.spin import (
    BOHR_MAGNETON_MEV_PER_T as MU_B,
)
from mi_widgets.spin import (
    BOLTZMANN_MEV_PER_K as K_B,
)
from mi_widgets.spin import (
    SpinCluster,
    differential_susceptibility,
    energy_levels,
    magnetization,
    spin_gap,
    susceptibility,
)

# Local basis: index 0 = spin down, 1 = spin up (bit i of a state is spin i, as in the core).
SX = np.array([[0, 0.5], [0.5, 0]])
SY = np.array([[0, 0.5j], [-0.5j, 0]])
SZ = np.diag([-0.5, 0.5])


def _site_op(op, i, n):
    out = np.ones((1, 1))
    for k in reversed(range(n)):
        out = np.kron(out, op if k == i else np.eye(2))
    return out


def _dense_hamiltonian(cluster, couplings, field=0.0, g=2.0, delta=1.0):
    """The full 2^N x 2^N Hamiltonian, built independently of the sector code."""
    n = cluster.n_spins
    sx, sy, sz = ([_site_op(o, i, n) for i in range(n)] for o in (SX, SY, SZ))
    h = np.zeros((2**n, 2**n), complex)
    for i, j, name in cluster.bonds:
        h -= couplings[name] * (sx[i] @ sx[j] + sy[i] @ sy[j] + delta * sz[i] @ sz[j])
    total_sz = sum(sz)
    h -= g * MU_B * field * total_sz
    return h, total_sz


def _random_cluster(n=8, seed=3):
    rng = np.random.default_rng(seed)
    pairs = [(i, i + 1) for i in range(n - 1)]
    extra = [(i, j) for i in range(n) for j in range(i + 2, n)]
    for k in rng.choice(len(extra), size=6, replace=False):
        pairs.append(extra[k])
    names = ["Ja", "Jb", "Jc"]
    bonds = [(i, j, names[k % 3]) for k, (i, j) in enumerate(pairs)]
    couplings = dict(zip(names, rng.uniform(-5, 5, 3), strict=True))
    return SpinCluster(n, bonds), couplings


def test_dimer_gap_is_abs_j_and_levels_are_singlet_triplet():
    dimer = SpinCluster(2, [(0, 1, "J")])
    assert spin_gap(dimer, {"J": -4.2}) == pytest.approx(4.2, abs=1e-12)
    assert spin_gap(dimer, {"J": 3.0}) == 0.0  # ferromagnetic: triplet ground state
    levels = np.sort(energy_levels(dimer, {"J": -4.2}).energies)
    assert levels == pytest.approx([3 * -4.2 / 4] + [4.2 / 4] * 3)  # singlet 3J/4, triplet -J/4


def test_dimer_magnetization_closed_form():
    # H = -J S1.S2 - h (S1z + S2z): singlet at 3J/4, triplet at -J/4 - h m.
    j, t, g = -3.0, 5.0, 2.1
    dimer = SpinCluster(2, [(0, 1, "J")])
    b = np.linspace(0, 60, 31)
    beta = 1 / (K_B * t)
    h = g * MU_B * b
    w = {m: np.exp(-beta * (-j / 4 - h * m)) for m in (-1, 0, 1)}
    z = np.exp(-beta * 3 * j / 4) + w[-1] + w[0] + w[1]
    expected = g * (w[1] - w[-1]) / z / 2
    assert magnetization(dimer, {"J": j}, b, t, g=g) == pytest.approx(expected, abs=1e-12)


def test_saturation_field_of_a_heisenberg_ring():
    # 4-ring: E(S) = -J/2 (S(S+1) - 4) for S_13 = S_24 = 1, so the last step S = 1 -> 2
    # (M from 1/2 to saturation) sits at g mu_B B = E(2) - E(1) = 2|J|.
    j = -2.0
    ring = SpinCluster(4, [(i, (i + 1) % 4, "J") for i in range(4)])
    h_sat = 2 * abs(j)
    b_sat = h_sat / (2.0 * MU_B)
    m = magnetization(ring, {"J": j}, [0.98 * b_sat, 1.02 * b_sat], 0.0)
    assert m == pytest.approx([0.5, 1.0])


def test_brillouin_limit_at_zero_coupling():
    cluster = SpinCluster(3, [(0, 1, "J"), (1, 2, "J")])
    b = np.linspace(0, 30, 16)
    for t in (1.0, 7.0):
        x = 2.0 * MU_B * b / (2 * K_B * t)
        brillouin = 1.0 * np.tanh(x)  # g S B_{1/2}: (g/2) tanh(g mu_B B / 2kT)
        assert magnetization(cluster, {"J": 0.0}, b, t) == pytest.approx(brillouin, abs=1e-12)


def test_three_and_four_spin_closed_forms():
    # Triangle: H = -J/2 (S^2 - 9/4); S = 1/2 twice (4 states) and S = 3/2 (4 states).
    j = -1.7
    tri = SpinCluster(3, [(0, 1, "J"), (1, 2, "J"), (0, 2, "J")])
    levels = np.sort(energy_levels(tri, {"J": j}).energies)
    half, three_half = -j / 2 * (0.75 - 9 / 4), -j / 2 * (15 / 4 - 9 / 4)
    assert levels == pytest.approx(np.sort([half] * 4 + [three_half] * 4))
    # 4-site ring: E = -J/2 [S^2 - S_13^2 - S_24^2], singlet ground state at 2J, triplet at J.
    ring = SpinCluster(4, [(i, (i + 1) % 4, "J") for i in range(4)])
    assert spin_gap(ring, {"J": j}) == pytest.approx(abs(j))
    assert energy_levels(ring, {"J": j}).energies.min() == pytest.approx(2 * j)


def test_random_eight_spin_cluster_matches_dense_diagonalisation():
    cluster, couplings = _random_cluster()
    delta, g, field = 0.7, 2.08, 12.0
    h, sz = _dense_hamiltonian(cluster, couplings, field=0.0, delta=delta)
    dense = np.linalg.eigvalsh(h)
    ours = np.sort(energy_levels(cluster, couplings, delta).energies)
    assert ours == pytest.approx(dense, abs=1e-10)
    # Thermal magnetisation at one field from the dense 2^N matrix.
    hb, _ = _dense_hamiltonian(cluster, couplings, field=field, g=g, delta=delta)
    e, v = np.linalg.eigh(hb)
    t = 3.0
    w = np.exp(-(e - e.min()) / (K_B * t))
    mz = np.real(np.einsum("ik,ij,jk->k", v.conj(), sz, v))
    expected = g * (w @ mz) / w.sum() / cluster.n_spins
    ours_m = magnetization(cluster, couplings, [field], t, g=g, delta=delta)[0]
    assert ours_m == pytest.approx(expected, abs=1e-10)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_random_eight_spin_cluster_matches_quspin():
    quspin = pytest.importorskip("quspin.basis")
    from quspin.operators import hamiltonian

    cluster, couplings = _random_cluster(seed=5)
    n = cluster.n_spins
    basis = quspin.spin_basis_1d(n, pauli=False)
    pm = [[-couplings[name] / 2, i, j] for i, j, name in cluster.bonds]
    zz = [[-couplings[name], i, j] for i, j, name in cluster.bonds]
    h = hamiltonian(
        [["+-", pm], ["-+", pm], ["zz", zz]],
        [],
        basis=basis,
        dtype=np.float64,
        check_herm=False,
        check_symm=False,
        check_pcon=False,
    )
    reference = np.sort(h.eigvalsh())
    ours = np.sort(energy_levels(cluster, couplings).energies)
    assert ours == pytest.approx(reference, abs=1e-10)


def test_susceptibility_is_the_slope_of_m_and_curie_at_high_t():
    cluster, couplings = _random_cluster(seed=1)
    t = np.array([5.0, 40.0])
    chi = susceptibility(cluster, couplings, t)
    eps = 1e-3
    m = magnetization(cluster, couplings, [0.0, eps], t)
    assert chi == pytest.approx((m[:, 1] - m[:, 0]) / eps, rel=1e-4)
    dmdb = differential_susceptibility(cluster, couplings, [10.0, 10.0 + eps], 8.0)
    m = magnetization(cluster, couplings, [10.0 - eps, 10.0 + eps], 8.0)
    assert dmdb[0] == pytest.approx((m[1] - m[0]) / (2 * eps), rel=1e-5)
    # Free spins: Curie law g^2 mu_B S(S+1) / (3 k_B T).
    free = SpinCluster(2, [(0, 1, "J")])
    chi_free = susceptibility(free, {"J": 0.0}, [300.0])[0]
    assert chi_free == pytest.approx(4 * MU_B * 0.75 / (3 * K_B * 300.0))


def test_zero_temperature_limit_and_stability_at_tiny_t():
    cluster, couplings = _random_cluster(seed=2)
    b = np.linspace(0, 80, 41)
    m0 = magnetization(cluster, couplings, b, 0.0)
    m_tiny = magnetization(cluster, couplings, b, 1e-4)
    assert np.all(np.isfinite(m_tiny))
    steps = np.abs(m_tiny - m0) > 1e-6  # differ only exactly at a level crossing
    assert steps.sum() <= 1


@pytest.mark.slow
def test_sparse_lanczos_ground_states_match_full_ed_and_reach_16_spins():
    ring12 = SpinCluster(12, [(i, (i + 1) % 12, "J") for i in range(12)])
    full = energy_levels(ring12, {"J": -1.0})
    sparse = energy_levels(ring12, {"J": -1.0}, lowest_only=True)
    for m in np.unique(full.sz):
        assert sparse.energies[sparse.sz == m].min() == pytest.approx(
            full.energies[full.sz == m].min(), abs=1e-9
        )
    ring16 = SpinCluster(16, [(i, (i + 1) % 16, "J") for i in range(16)])
    # Heisenberg ring of 16: E0/J = -7.142296... (Bethe ansatz finite size, H = |J| sum S.S).
    e0 = energy_levels(ring16, {"J": -1.0}, lowest_only=True).energies.min()
    assert e0 == pytest.approx(-7.1422963, abs=1e-6)
    m = magnetization(ring16, {"J": -1.0}, [0.0, 40.0], 0.0)
    assert m == pytest.approx([0.0, 1.0])


def test_cluster_validation_messages():
    with pytest.raises(MIInputError, match="joins spin 5"):
        SpinCluster(4, [(0, 5, "J")])
    with pytest.raises(MIInputError, match="repeats the pair"):
        SpinCluster(3, [(0, 1, "J"), (1, 0, "K")])
    with pytest.raises(MIInputError, match="to itself"):
        SpinCluster(3, [(1, 1, "J")])
    with pytest.raises(MIInputError, match="non-empty coupling name"):
        SpinCluster(3, [(0, 1, "")])
    with pytest.raises(MIInputError, match="between 1 and 20"):
        SpinCluster(24, [])
    split = SpinCluster(4, [(0, 1, "J"), (2, 3, "J")])
    assert not split.is_connected and "2 disconnected parts" in repr(split)


def test_bad_input_messages():
    chain = SpinCluster(3, [(0, 1, "J1"), (1, 2, "J2")])
    with pytest.raises(MIInputError, match="lack J2"):
        magnetization(chain, {"J1": 1.0}, [0, 1], 1.0)
    with pytest.raises(MIInputError, match="which no bond uses"):
        magnetization(chain, {"J1": 1.0, "J2": 1.0, "J9": 0.0}, [0, 1], 1.0)
    with pytest.raises(MIInputError, match="decrease at index 2"):
        magnetization(chain, {"J1": 1.0, "J2": 1.0}, [0, 2, 1], 1.0)
    with pytest.raises(MIInputError, match="NaN"):
        magnetization(chain, {"J1": 1.0, "J2": 1.0}, [0, np.nan], 1.0)
    with pytest.raises(MIInputError, match="0 K or above"):
        magnetization(chain, {"J1": 1.0, "J2": 1.0}, [0, 1], -2.0)
    big = SpinCluster(20, [(i, i + 1, "J") for i in range(19)])
    with pytest.raises(MIInputError, match="Use temperature 0"):
        magnetization(big, {"J": -1.0}, [0, 1], 1.0)


def test_eight_spin_curve_shape_and_twelve_spin_curve():
    cluster, couplings = _random_cluster()
    b = np.linspace(0, 75, 76)
    m = magnetization(cluster, couplings, b, [1.4, 4.2, 20.0], g=2.08)
    assert m.shape == (3, 76)
    ring12 = SpinCluster(12, [(i, (i + 1) % 12, "J") for i in range(12)])
    m12 = magnetization(ring12, {"J": -1.0}, b, [2.0, 5.0])
    assert m12.shape == (2, 76) and np.all(np.diff(m12, axis=1) >= -1e-12)
