"""Linear (ridge) baseline: exact recovery of a linear model, forces, calculator use."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from mi_widgets._errors import MIInputError
from mi_widgets.potentials import LinearPotential, default_acsf

# the synthetic reference is itself a potential fitted on few cells: it may extrapolate
pytestmark = pytest.mark.filterwarnings("ignore::mi_widgets.potentials.ExtrapolationWarning")


def _cells(n_frames, seed):
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n_frames):
        atoms = bulk("NaCl", "rocksalt", a=5.6 * rng.uniform(0.95, 1.05), cubic=True)
        atoms.rattle(0.1, seed=int(rng.integers(2**31)))
        frames.append(atoms)
    return frames


def _teacher():
    """A linear potential with known random weights plays the reference."""
    teacher = LinearPotential(["Na", "Cl"], default_acsf(["Na", "Cl"], r_cut=5.0))
    frames = _cells(6, seed=0)
    for atoms in frames:
        atoms.calc = SinglePointCalculator(atoms, energy=-3.0 * len(atoms), forces=np.zeros((8, 3)))
    teacher.fit(frames, force_weight=0)
    rng = np.random.default_rng(1)
    teacher.weights_ = rng.normal(0, 0.05, teacher.weights_.shape)
    teacher.offsets_ = np.array([-1.2, -2.5])
    return teacher


def _labelled(teacher, frames):
    out = []
    for atoms in frames:
        atoms = atoms.copy()
        atoms.calc = teacher
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        out.append(atoms)
    return out


def test_recovers_a_linear_reference_from_energies_and_forces():
    teacher = _teacher()
    training = _labelled(teacher, _cells(30, seed=2))
    student = LinearPotential(["Na", "Cl"], teacher.settings_, alpha=0.0).fit(training)
    for atoms in _labelled(teacher, _cells(3, seed=3)):
        copy = atoms.copy()
        copy.calc = student
        assert copy.get_potential_energy() == pytest.approx(atoms.get_potential_energy(), abs=1e-8)
        np.testing.assert_allclose(copy.get_forces(), atoms.get_forces(), atol=1e-8)


def test_forces_are_minus_energy_gradient():
    teacher = _teacher()
    atoms = _cells(1, seed=4)[0]
    atoms.calc = teacher
    forces = atoms.get_forces()
    step = 1e-5
    for a, c in [(0, 0), (3, 2), (6, 1)]:
        energies = []
        for sign in (1, -1):
            moved = atoms.copy()
            moved.positions[a, c] += sign * step
            moved.calc = teacher
            energies.append(moved.get_potential_energy())
        numeric = -(energies[0] - energies[1]) / (2 * step)
        assert forces[a, c] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_bad_input():
    with pytest.raises(MIInputError, match="alpha"):
        LinearPotential(["Na", "Cl"], alpha=-1).fit(_labelled(_teacher(), _cells(2, seed=5)))
    with pytest.raises(MIInputError, match="not trained"):
        LinearPotential(["Na", "Cl"]).get_potential_energy(_cells(1, seed=6)[0])
