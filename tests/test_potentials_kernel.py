"""Kernel (GAP-style) baseline: forces from the kernel gradient, accuracy on EMT Cu."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from mi_widgets._errors import MIInputError
from mi_widgets.potentials import KernelPotential

pytestmark = pytest.mark.filterwarnings("ignore::mi_widgets.potentials.ExtrapolationWarning")


def emt_copper_frames(n_frames, seed):
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n_frames):
        atoms = bulk("Cu", "fcc", a=3.61 * rng.uniform(0.95, 1.05), cubic=True) * (2, 1, 1)
        atoms.rattle(0.1, seed=int(rng.integers(2**31)))
        atoms.calc = EMT()
        atoms.get_forces()
        frames.append(atoms)
    return frames


@pytest.fixture(scope="module")
def fitted():
    return KernelPotential(["Cu"], n_sparse=100, noise=1e-4).fit(emt_copper_frames(60, seed=0))


def test_forces_are_minus_energy_gradient(fitted):
    atoms = emt_copper_frames(1, seed=1)[0].copy()
    atoms.calc = fitted
    forces = atoms.get_forces()
    step = 1e-5
    for a, c in [(0, 0), (3, 1), (7, 2)]:
        energies = []
        for sign in (1, -1):
            moved = atoms.copy()
            moved.positions[a, c] += sign * step
            moved.calc = fitted
            energies.append(moved.get_potential_energy())
        numeric = -(energies[0] - energies[1]) / (2 * step)
        assert forces[a, c] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_energy_accuracy_on_held_out_strained_cells(fitted):
    held_out = emt_copper_frames(15, seed=2)

    def rmse(model):
        errors = [
            (model.get_potential_energy(f.copy()) - f.get_potential_energy()) / len(f)
            for f in held_out
        ]
        return np.sqrt(np.mean(np.square(errors)))

    spread = np.std([f.get_potential_energy() / len(f) for f in held_out])
    assert rmse(fitted) < 0.1 * spread  # the energies vary by ~50 meV/atom


def test_bad_input():
    frames = emt_copper_frames(2, seed=3)
    with pytest.raises(MIInputError, match="noise"):
        KernelPotential(["Cu"], noise=0).fit(frames)
    with pytest.raises(MIInputError, match="n_sparse"):
        KernelPotential(["Cu"], n_sparse=0).fit(frames)
    with pytest.raises(MIInputError, match="no \\(finite\\) energy"):
        KernelPotential(["Cu"]).fit([f.copy() for f in frames])
