"""Behler-Parrinello network: analytic gradients, ASE calculator, training, persistence."""

from __future__ import annotations

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.md.velocitydistribution import thermalize_momenta
from ase.md.verlet import VelocityVerlet
from ase.stress import full_3x3_to_voigt_6_stress

from mi_widgets._errors import MIInputError
from mi_widgets.potentials import (
    ACSFSettings,
    ExtrapolationWarning,
    LinearPotential,
    NeuralNetworkPotential,
)
from mi_widgets.potentials.base import label_frames
from mi_widgets.potentials.network import _Batch


def emt_copper_frames(n_frames, seed, repeat=(2, 2, 1)):
    """Strained, rattled fcc Cu cells labelled by EMT."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n_frames):
        lattice = 3.61 * rng.uniform(0.96, 1.04)
        atoms = bulk("Cu", "fcc", a=lattice, cubic=True) * repeat
        atoms.rattle(0.08, seed=int(rng.integers(2**31)))
        atoms.calc = EMT()
        atoms.get_forces()
        frames.append(atoms)
    return frames


@pytest.fixture(scope="module")
def trained():
    potential = NeuralNetworkPotential(
        ["Cu"], hidden=(16, 16), max_epochs=300, learning_rate=0.005, patience=100
    )
    return potential.fit(emt_copper_frames(40, seed=0))


def _perturbed_potential(hidden=(5, 4), linear_baseline=None):
    frames = emt_copper_frames(3, seed=5, repeat=(2, 1, 1))
    potential = NeuralNetworkPotential(
        ["Cu"], hidden=hidden, random_state=1, linear_baseline=linear_baseline
    )
    potential.initialize_weights()
    labelled = label_frames(frames, potential.settings_, need_forces=True)
    potential._standardise(labelled)
    potential._fit_baseline(labelled, 1.0, 1.0)
    potential._initial_offsets(labelled)
    potential.coefficients_ += np.random.default_rng(0).normal(
        0, 0.3, potential.coefficients_.shape
    )
    return potential, frames, _Batch(labelled)


@pytest.mark.parametrize("linear_baseline", [None, 1e-6])
def test_weight_gradient_equals_central_differences(linear_baseline):
    potential, _, batch = _perturbed_potential(linear_baseline=linear_baseline)
    coefficients = potential.coefficients_
    loss, gradient = potential._loss(coefficients, batch, 1.0, 0.7)
    numeric = np.zeros_like(gradient)
    step = 1e-6
    for k in range(len(coefficients)):
        plus, minus = coefficients.copy(), coefficients.copy()
        plus[k] += step
        minus[k] -= step
        numeric[k] = (
            potential._loss(plus, batch, 1.0, 0.7, gradient=False)[0]
            - potential._loss(minus, batch, 1.0, 0.7, gradient=False)[0]
        ) / (2 * step)
    assert loss > 0
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-6 * np.abs(numeric).max())


@pytest.mark.parametrize("linear_baseline", [None, 1e-6])
def test_forces_and_stress_are_minus_energy_gradients(linear_baseline):
    potential, frames, _ = _perturbed_potential(linear_baseline=linear_baseline)
    assert (np.abs(potential.linear_weights_).max() > 0) == (linear_baseline is not None)
    atoms = frames[0].copy()
    atoms.calc = potential
    forces, stress = atoms.get_forces(), atoms.get_stress()
    step = 1e-5
    numeric = np.zeros_like(forces)
    for a in range(len(atoms)):
        for c in range(3):
            energies = []
            for sign in (1, -1):
                moved = atoms.copy()
                moved.positions[a, c] += sign * step
                moved.calc = potential
                energies.append(moved.get_potential_energy())
            numeric[a, c] = -(energies[0] - energies[1]) / (2 * step)
    np.testing.assert_allclose(forces, numeric, rtol=1e-6, atol=1e-6 * np.abs(numeric).max())
    strain = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            energies = []
            for sign in (1, -1):
                deformation = np.eye(3)
                deformation[a, b] += sign * 1e-6
                strained = atoms.copy()
                strained.set_cell(atoms.cell.array @ deformation, scale_atoms=True)
                strained.calc = potential
                energies.append(strained.get_potential_energy())
            strain[a, b] = (energies[0] - energies[1]) / (2e-6 * atoms.get_volume())
    numeric_stress = full_3x3_to_voigt_6_stress(strain)
    np.testing.assert_allclose(stress, numeric_stress, rtol=1e-6, atol=1e-6 * np.abs(stress).max())


def test_energy_is_a_sum_of_atomic_energies_and_extends_to_larger_cells(trained):
    small = bulk("Cu", "fcc", a=3.61, cubic=True) * (2, 2, 2)
    large = small * (2, 1, 1)
    small.calc, large.calc = trained, trained
    assert large.get_potential_energy() == pytest.approx(2 * small.get_potential_energy())
    assert small.get_potential_energies().sum() == pytest.approx(small.get_potential_energy())


def test_training_on_emt_copper_reaches_useful_accuracy(trained):
    held_out = emt_copper_frames(10, seed=1)
    energy_errors, force_errors, force_scale = [], [], []
    for frame in held_out:
        atoms = frame.copy()
        atoms.calc = trained
        energy_errors.append(
            (atoms.get_potential_energy() - frame.get_potential_energy()) / len(atoms)
        )
        force_errors.append(atoms.get_forces() - frame.get_forces())
        force_scale.append(frame.get_forces())
    energy_rmse = np.sqrt(np.mean(np.square(energy_errors)))
    force_rmse = np.sqrt(np.mean(np.square(np.concatenate(force_errors))))
    assert energy_rmse < 0.010  # eV/atom, for an energy spread of ~60 meV/atom
    assert force_rmse < 0.2 * np.std(np.concatenate(force_scale))
    history = trained.history_
    assert history["validation_loss"][-1] < 0.1 * history["validation_loss"][0]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::mi_widgets.potentials.ExtrapolationWarning")
def test_nve_run_conserves_energy(trained):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True) * (2, 2, 2)
    atoms.calc = trained
    # 2000 K of kinetic energy: about 1000 K once shared with the potential energy
    thermalize_momenta(atoms, temperature_K=2000, rng=np.random.default_rng(0))
    dynamics = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    times, totals, temperatures = [], [], []
    for step in range(40):
        dynamics.run(5)
        times.append(5e-3 * (step + 1))  # ps
        totals.append(atoms.get_total_energy() / len(atoms))
        temperatures.append(atoms.get_temperature())
    assert np.mean(temperatures[10:]) > 700  # hot: atoms move far from the lattice
    drift = np.polyfit(times, totals, 1)[0]  # eV/atom per ps
    assert abs(drift) < 1e-3
    assert np.ptp(totals) < 1e-3  # eV/atom over 200 fs


def test_save_and_load_round_trip(trained, tmp_path):
    path = trained.save(tmp_path / "cu_potential.npz")
    loaded = NeuralNetworkPotential.load(path)
    atoms = emt_copper_frames(1, seed=3)[0].copy()
    atoms.calc = trained
    energy, forces = atoms.get_potential_energy(), atoms.get_forces()
    atoms.calc = loaded
    assert loaded.get_potential_energy(atoms) == pytest.approx(energy, rel=1e-14)
    np.testing.assert_allclose(atoms.get_forces(), forces, rtol=1e-12, atol=1e-14)
    with np.load(path, allow_pickle=False) as data:
        assert data["coefficients"].dtype == float


def test_linear_baseline_is_fitted_saved_and_loaded(tmp_path):
    train = emt_copper_frames(9, seed=4)
    ridge = LinearPotential(["Cu"], alpha=1e-6).fit(train)
    settings = {"hidden": (8,), "max_epochs": 60, "learning_rate": 0.005, "validation_fraction": 0}
    network = NeuralNetworkPotential(["Cu"], linear_baseline=1e-6, **settings).fit(train)
    plain = NeuralNetworkPotential(["Cu"], **settings).fit(train)
    # the baseline is the ridge model of the same frames, on the raw features
    np.testing.assert_allclose(network.linear_weights_, ridge.weights_ / ridge.feature_scale_)
    assert not plain.linear_weights_.any()
    # the same network and epochs fit the training forces better on top of the baseline
    assert network.history_["force_rmse"][-1] < plain.history_["force_rmse"][-1]
    loaded = NeuralNetworkPotential.load(network.save(tmp_path / "with_baseline.npz"))
    assert loaded.linear_baseline == 1e-6
    atoms = emt_copper_frames(1, seed=7)[0]
    np.testing.assert_allclose(
        loaded.predict_frame(atoms.copy())["forces"],
        network.predict_frame(atoms.copy())["forces"],
        rtol=1e-12,
        atol=1e-14,
    )


def test_progress_is_reported_per_epoch():
    calls = []
    NeuralNetworkPotential(["Cu"], hidden=(4,), max_epochs=3, validation_fraction=0).fit(
        emt_copper_frames(4, seed=2), progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_step_decays_to_the_final_learning_rate():
    frames = emt_copper_frames(4, seed=2)
    settings = {"hidden": (4,), "max_epochs": 5, "validation_fraction": 0}
    constant = NeuralNetworkPotential(["Cu"], **settings).fit(frames)
    same = NeuralNetworkPotential(["Cu"], final_learning_rate=0.01, **settings).fit(frames)
    decayed = NeuralNetworkPotential(["Cu"], final_learning_rate=1e-4, **settings).fit(frames)
    np.testing.assert_allclose(same.coefficients_, constant.coefficients_, rtol=1e-12)
    assert not np.allclose(decayed.coefficients_, constant.coefficients_)
    assert decayed._decay_per_epoch(0.01, 5) ** 4 == pytest.approx(1e-2)
    with pytest.raises(MIInputError, match="final_learning_rate must be above 0"):
        NeuralNetworkPotential(["Cu"], final_learning_rate=0, **settings).fit(frames)


def test_bad_input_says_what_to_fix(trained, tmp_path):
    frames = emt_copper_frames(3, seed=4)
    bare = [frame.copy() for frame in frames]  # copies carry no calculator
    with pytest.raises(MIInputError, match="no \\(finite\\) energy"):
        NeuralNetworkPotential(["Cu"], hidden=(4,), max_epochs=2).fit(bare)
    energy_only = [frame.copy() for frame in frames]
    for copy, frame in zip(energy_only, frames, strict=True):
        copy.calc = SinglePointCalculator(copy, energy=frame.get_potential_energy())
    with pytest.raises(MIInputError, match="no forces"):
        NeuralNetworkPotential(["Cu"], hidden=(4,), max_epochs=2).fit(energy_only)
    NeuralNetworkPotential(["Cu"], hidden=(4,), max_epochs=2).fit(energy_only, force_weight=0)
    alloy = frames[0].copy()
    alloy[0].symbol = "Au"
    alloy.calc = EMT()
    with pytest.raises(MIInputError, match="Au, not in species"):
        NeuralNetworkPotential(["Cu"], hidden=(4,), max_epochs=2).fit([alloy])
    squeezed = bulk("Cu", "fcc", a=3.61, cubic=True) * (2, 2, 1)
    squeezed.positions[0] += (0.9, 0.9, 0.0)
    squeezed.calc = trained
    with pytest.warns(ExtrapolationWarning, match="extrapolates"):
        squeezed.get_potential_energy()
    with pytest.raises(MIInputError, match="not trained"):
        NeuralNetworkPotential(["Cu"]).get_potential_energy(squeezed)
    (tmp_path / "junk.npz").write_text("not a potential")
    with pytest.raises(MIInputError, match="not a saved"):
        NeuralNetworkPotential.load(tmp_path / "junk.npz")


@pytest.mark.slow
def test_on_sw_silicon_forces_in_training_help_and_the_network_beats_ridge():
    from pathlib import Path

    import ase.io

    from mi_widgets.potentials import LinearPotential

    path = Path(__file__).resolve().parents[1] / "data" / "potentials_si.extxyz"
    if not path.is_file():
        pytest.skip("data/ files not generated")
    frames = ase.io.read(path, index=":")
    folds = np.random.default_rng(0).permutation(len(frames)) % 4
    train = [f for f, k in zip(frames, folds, strict=True) if k != 0]
    test = [f for f, k in zip(frames, folds, strict=True) if k == 0]

    def force_rmse(model, subset=None):
        errors = [
            model.predict_frame(f.copy())["forces"] - f.get_forces()
            for f in test
            if subset is None or f.info["subset"] == subset
        ]
        return np.sqrt(np.mean(np.square(np.concatenate(errors))))

    settings = {"hidden": (16, 16), "max_epochs": 150, "learning_rate": 0.005, "patience": 50}
    both = NeuralNetworkPotential(["Si"], **settings).fit(train)
    energy_only = NeuralNetworkPotential(["Si"], **settings).fit(train, force_weight=0)
    ridge = LinearPotential(["Si"]).fit(train)
    assert force_rmse(energy_only) > 3 * force_rmse(both)
    assert force_rmse(both, "strained") < force_rmse(ridge, "strained")


def test_g5_descriptor_is_saved_and_loaded(tmp_path):
    train = emt_copper_frames(3, seed=5)
    settings = ACSFSettings.create(4.5, ["Cu"], [(0.1, 0.0)], [(0.005, 1.0, 1.0)],
                                   [(0.05, 1.0, -1.0), (0.2, 2.0, 1.0)])  # fmt: skip
    network = NeuralNetworkPotential(["Cu"], settings, hidden=(4,), max_epochs=3).fit(train)
    loaded = NeuralNetworkPotential.load(network.save(tmp_path / "g5.npz"))
    assert loaded.settings_ == settings and loaded.settings_.n_features == 5
    atoms = train[0].copy()
    assert loaded.get_potential_energy(atoms) == pytest.approx(
        network.get_potential_energy(atoms), rel=1e-14
    )
