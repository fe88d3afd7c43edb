"""Stillinger-Weber calculator: published energies, finite differences, a brute-force reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress
from scipy.spatial.transform import Rotation

from mi_widgets._errors import MIInputError
from mi_widgets.structure.stillinger_weber import (
    SW_GERMANIUM,
    SW_SILICON,
    StillingerWeber,
    SWParameters,
)


def rattled_si(repeat: int = 2, amplitude: float = 0.15, seed: int = 3) -> Atoms:
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(repeat)
    atoms.rattle(amplitude, seed=seed)
    return atoms


def brute_force_sw(atoms: Atoms, prm: SWParameters = SW_SILICON) -> float:
    """Textbook loops over atoms and explicit periodic images (independent of the calculator)."""
    cut = prm.a * prm.sigma
    cell = atoms.cell.array
    images = [np.array(s) @ cell for s in itertools.product((-1, 0, 1), repeat=3)]
    energy = 0.0
    for ri in atoms.positions:
        bonds = []
        for rj in atoms.positions:
            for shift in images:
                d = rj + shift - ri
                r = np.linalg.norm(d)
                if 1e-8 < r < cut:
                    bonds.append(d)
                    x = prm.sigma / r
                    energy += 0.5 * (
                        prm.A * prm.epsilon * (prm.B * x**prm.p - x**prm.q)
                        * np.exp(prm.sigma / (r - cut))
                    )  # fmt: skip
        for d1, d2 in itertools.combinations(bonds, 2):
            r1, r2 = np.linalg.norm(d1), np.linalg.norm(d2)
            cos = d1 @ d2 / (r1 * r2)
            energy += (
                prm.lambda_ * prm.epsilon * (cos + 1 / 3) ** 2
                * np.exp(prm.gamma * prm.sigma / (r1 - cut))
                * np.exp(prm.gamma * prm.sigma / (r2 - cut))
            )  # fmt: skip
    return energy


def test_cohesive_energy_of_diamond_si_matches_stillinger_weber_1985():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    atoms.calc = StillingerWeber()
    assert atoms.get_potential_energy() / len(atoms) == pytest.approx(-4.3366, abs=1e-4)
    # the ideal lattice is the minimum: zero stress and zero forces
    np.testing.assert_allclose(atoms.get_forces(), 0.0, atol=1e-10)
    np.testing.assert_allclose(atoms.get_stress(), 0.0, atol=1e-4)


def test_primitive_and_supercell_give_the_same_energy_per_atom():
    # the 2-atom cell is smaller than twice the cut-off: neighbour images must be used
    primitive = bulk("Si", "diamond", a=5.431)
    primitive.calc = StillingerWeber()
    big = bulk("Si", "diamond", a=5.431, cubic=True).repeat(3)
    big.calc = StillingerWeber()
    assert primitive.get_potential_energy() / 2 == pytest.approx(
        big.get_potential_energy() / len(big), abs=1e-10
    )


def test_diamond_ge_scales_with_its_own_epsilon_and_sigma():
    # SW energy at the ideal diamond lattice is -2 epsilon per atom at a = 5.431 sigma / 2.0951
    a = 5.431 * SW_GERMANIUM.sigma / SW_SILICON.sigma
    atoms = bulk("Ge", "diamond", a=a, cubic=True)
    atoms.calc = StillingerWeber()
    assert atoms.get_potential_energy() / len(atoms) == pytest.approx(
        -2.0 * SW_GERMANIUM.epsilon, rel=2e-5
    )


def test_energy_matches_brute_force_loops_on_a_rattled_cell():
    atoms = rattled_si(repeat=1, amplitude=0.2, seed=7)
    atoms.calc = StillingerWeber()
    assert atoms.get_potential_energy() == pytest.approx(brute_force_sw(atoms), abs=1e-9)


def test_forces_match_finite_differences():
    atoms = rattled_si()
    atoms.calc = StillingerWeber()
    numeric = calculate_numerical_forces(atoms, eps=1e-5)
    np.testing.assert_allclose(atoms.get_forces(), numeric, atol=1e-7)
    assert np.abs(atoms.get_forces()).max() > 0.1  # a real test: forces are not all zero


def test_stress_matches_finite_differences():
    atoms = rattled_si()
    atoms.set_cell(
        atoms.cell.array @ np.array([[1.02, 0.01, 0], [0, 0.99, 0.02], [0, 0, 1.0]]), True
    )
    atoms.calc = StillingerWeber()
    numeric = calculate_numerical_stress(atoms, eps=1e-6)
    np.testing.assert_allclose(atoms.get_stress(), numeric, atol=1e-8)


def test_energy_is_invariant_under_translation_and_rotation():
    atoms = rattled_si(repeat=1)
    atoms.calc = StillingerWeber()
    energy = atoms.get_potential_energy()
    moved = atoms.copy()
    moved.translate([0.37, -1.2, 2.9])
    moved.wrap()
    moved.calc = StillingerWeber()
    assert moved.get_potential_energy() == pytest.approx(energy, abs=1e-10)
    rotation = Rotation.from_euler("xyz", [20, 35, -50], degrees=True).as_matrix()
    turned = atoms.copy()
    turned.set_cell(atoms.cell.array @ rotation.T, scale_atoms=True)
    turned.calc = StillingerWeber()
    assert turned.get_potential_energy() == pytest.approx(energy, abs=1e-10)
    forces = atoms.get_forces() @ rotation.T
    np.testing.assert_allclose(turned.get_forces(), forces, atol=1e-10)


def test_verlet_list_reuse_gives_the_same_result_as_a_fresh_calculator():
    atoms = rattled_si()
    calc = StillingerWeber(skin=0.5)
    atoms.calc = calc
    atoms.get_forces()
    rng = np.random.default_rng(0)
    for _ in range(5):  # small moves and a small strain: the cached list is reused
        atoms.positions += rng.normal(scale=0.03, size=atoms.positions.shape)
        atoms.set_cell(atoms.cell.array * 1.002, scale_atoms=True)
        fresh = StillingerWeber()
        np.testing.assert_allclose(atoms.get_forces(), fresh.get_forces(atoms), atol=1e-10)
        assert atoms.get_potential_energy() == pytest.approx(fresh.get_potential_energy(atoms))


def test_si_ge_alloy_forces_match_finite_differences():
    atoms = rattled_si(repeat=1, amplitude=0.1, seed=11)
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[::3] = "Ge"
    atoms.set_chemical_symbols(symbols)
    atoms.calc = StillingerWeber()
    numeric = calculate_numerical_forces(atoms, eps=1e-5)
    np.testing.assert_allclose(atoms.get_forces(), numeric, atol=1e-7)


def test_open_cluster_has_no_stress_but_forces():
    atoms = Atoms("Si3", positions=[[0, 0, 0], [2.3, 0, 0], [0.2, 2.2, 0.3]])
    atoms.calc = StillingerWeber()
    numeric = calculate_numerical_forces(atoms, eps=1e-5)
    np.testing.assert_allclose(atoms.get_forces(), numeric, atol=1e-7)
    assert "stress" not in atoms.calc.results


def test_unknown_element_and_nan_positions_raise_one_clear_error():
    atoms = bulk("C", "diamond", a=3.57)
    with pytest.raises(MIInputError, match="No Stillinger-Weber parameters for C"):
        StillingerWeber().get_potential_energy(atoms)
    si = bulk("Si", "diamond", a=5.431)
    si.positions[0, 1] = np.nan
    with pytest.raises(MIInputError, match="NaN"):
        StillingerWeber().get_potential_energy(si)
