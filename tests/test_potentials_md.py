"""MD and its analysis (mi_widgets.potentials.md) against closed forms and the SW reference."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms, units
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from scipy.spatial import cKDTree

from mi_widgets._errors import MIInputError
from mi_widgets.potentials.md import (
    diffusion_constant,
    energy_drift,
    mean_squared_displacement,
    radial_distribution,
    run_md,
    scale_up,
    unwrap,
    vibrational_dos,
)
from mi_widgets.structure import StillingerWeber


class Harmonic(Calculator):
    """Every atom tied to its start by a spring of stiffness k (eV/A^2)."""

    implemented_properties = ("energy", "forces")

    def __init__(self, k: float, origin: np.ndarray) -> None:
        super().__init__()
        self.k, self.origin = k, origin

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        u = self.atoms.positions - self.origin
        self.results = {"energy": 0.5 * self.k * np.sum(u**2), "forces": -self.k * u}


def test_unwrap_undoes_wrapping_of_a_random_walk():
    rng = np.random.default_rng(0)
    cell = np.array([[8.0, 0, 0], [1.0, 9.0, 0], [0.5, 0.3, 7.0]])
    walk = np.cumsum(rng.normal(0, 0.4, (200, 5, 3)), axis=0)
    fractional = walk @ np.linalg.inv(cell)
    wrapped = (fractional - np.floor(fractional)) @ cell
    assert np.allclose(unwrap(wrapped, cell) - walk, unwrap(wrapped, cell)[0] - walk[0])


def test_msd_of_ballistic_and_brownian_particles():
    t = np.linspace(0, 2, 201)
    velocity = np.array([1.0, -2.0, 0.5])
    ballistic = (t[:, None] * velocity)[:, None, :]
    lags, msd = mean_squared_displacement(ballistic, t)
    assert np.allclose(msd, lags**2 * (velocity @ velocity))
    # Brownian: steps of variance 2 D dt per component -> MSD = 6 D t, D recovered
    rng = np.random.default_rng(1)
    dt, D = 0.01, 0.3
    walk = np.cumsum(rng.normal(0, np.sqrt(2 * D * dt), (400, 500, 3)), axis=0)
    lags, msd = mean_squared_displacement(walk, np.arange(400) * dt)
    assert diffusion_constant(lags, msd) == pytest.approx(D, rel=0.1)


def _gas(rng, n=2000, box=30.0) -> Atoms:
    """Uniform random points; one of each pair closer than 0.6 A dropped (no overlaps)."""
    points = rng.uniform(0, box, (n, 3))
    pairs = cKDTree(points, boxsize=box).query_pairs(0.6, output_type="ndarray")
    keep = np.setdiff1d(np.arange(n), pairs[:, 1])
    return Atoms(f"Ar{len(keep)}", positions=points[keep], cell=[box] * 3, pbc=True)


def test_ideal_gas_g_of_r_is_one():
    rng = np.random.default_rng(2)
    r, g = radial_distribution([_gas(rng) for _ in range(3)], r_max=8.0, n_bins=16)
    assert np.abs(g[r > 3] - 1).max() < 0.08


def test_vacf_from_fft_equals_the_direct_sum():
    rng = np.random.default_rng(3)
    v = rng.normal(size=(64, 4, 3))
    masses = np.array([1.0, 2.0, 3.0, 4.0])
    result = vibrational_dos(v, 0.01, masses)
    direct = np.array(
        [np.einsum("tac,tac,a->", v[: 64 - k], v[k:], masses) / (64 - k) for k in range(64)]
    )
    assert np.allclose(result.vacf, direct / direct[0])
    assert np.trapezoid(result.dos, result.frequency) == pytest.approx(1.0)


def test_vdos_peak_of_a_harmonic_oscillator_run_with_ase():
    k = 5.0  # eV/A^2
    atoms = Atoms("Si", positions=[[0, 0, 0]], cell=[10] * 3, pbc=False)
    atoms.calc = Harmonic(k, atoms.positions.copy())
    atoms.set_velocities([[0.01, 0.02, -0.01]])
    traj = run_md(atoms, 4000, timestep_fs=1.0)
    omega = np.sqrt(k / atoms.get_masses()[0])  # per ASE time unit
    expected_THz = omega / (2 * np.pi) * units.fs * 1000.0
    vdos = vibrational_dos(traj.velocities, traj.times[1] - traj.times[0])
    assert vdos.peak() == pytest.approx(expected_THz, abs=0.25)  # resolution 1/(2*4 ps)
    assert abs(energy_drift(traj)) < 1e-5


def test_nve_with_stillinger_weber_conserves_energy():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    atoms.calc = StillingerWeber()
    traj = run_md(atoms, 200, timestep_fs=1.0, temperature_K=1000, initialise_velocities=True)
    assert abs(energy_drift(traj)) < 1e-3  # eV/atom/ps
    assert traj.temperature[-1] == pytest.approx(500, rel=0.4)  # equipartition halves it
    assert traj.atom_steps_per_cpu_second > 0


def test_nvt_reaches_its_temperature():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    atoms.calc = StillingerWeber()
    traj = run_md(atoms, 600, ensemble="nvt", temperature_K=800, friction_per_fs=0.05,
                  initialise_velocities=True, random_state=4)  # fmt: skip
    assert traj.temperature[300:].mean() == pytest.approx(800, rel=0.15)


def test_bad_md_input_gets_one_sentence():
    atoms = bulk("Si", "diamond", a=5.431)
    with pytest.raises(MIInputError, match="no calculator"):
        run_md(atoms, 10)
    atoms.calc = StillingerWeber()
    with pytest.raises(MIInputError, match="ensemble"):
        run_md(atoms, 10, ensemble="npt")
    with pytest.raises(MIInputError, match="timestep"):
        run_md(atoms, 10, timestep_fs=-1)


def test_scale_up_of_the_reference_against_itself_is_exact():
    sw = StillingerWeber()
    result = scale_up(sw, sw, repeat=2, n_steps=40, equilibrate_steps=10)
    assert result.rdf_difference == 0.0
    assert result.diffusion_ratio == pytest.approx(1.0)
    assert result.model.r.shape == result.model.g.shape


def test_a_collapsing_model_is_named_in_one_sentence():
    sw = StillingerWeber()
    attractive = Harmonic(20.0, np.full(3, 5.4))  # pulls every atom to one point
    with pytest.raises(MIInputError, match="MD with the model broke down"):
        scale_up(attractive, sw, repeat=2, n_steps=40, equilibrate_steps=200)
