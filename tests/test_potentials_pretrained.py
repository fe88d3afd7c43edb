"""The shipped Si network: the script runs, the file loads, forces are -dE/dr, the
held-out errors are those its JSON records, and NVE MD with it conserves energy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from mi_widgets import MIInputError
from mi_widgets.potentials import (
    NeuralNetworkPotential,
    energy_drift,
    evaluate,
    load_pretrained,
    load_si_frames,
    pretrained_info,
    run_md,
    split_frames,
)

REPO = Path(__file__).resolve().parents[1]


def test_train_script_small_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train_si_potential.py"), "--small", "--out",
         tmp_path],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    model = NeuralNetworkPotential.load(tmp_path / "potential_si_network.npz")
    info = json.loads((tmp_path / "potential_si_network.json").read_text())
    assert model.species == ("Si",) and info["seed"] == 2028
    assert info["held_out"]["energy_rmse_meV_per_atom"] > 0


def test_pretrained_forces_are_minus_the_energy_gradient():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=3)
    atoms.calc = load_pretrained("Si")
    forces = atoms.get_forces()
    h = 1e-5
    for a, c in ((0, 0), (17, 2), (40, 1)):
        shifted = []
        for sign in (1, -1):
            moved = atoms.copy()
            moved.calc = atoms.calc
            moved.positions[a, c] += sign * h
            shifted.append(moved.get_potential_energy())
        assert -(shifted[0] - shifted[1]) / (2 * h) == pytest.approx(forces[a, c], rel=1e-6,
                                                                      abs=1e-7)  # fmt: skip


def test_unknown_element_has_no_pretrained_potential():
    with pytest.raises(MIInputError, match="No pretrained potential"):
        load_pretrained("Cu")


@pytest.mark.slow
def test_held_out_errors_are_those_recorded():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import train_si_potential as script
    finally:
        sys.path.pop(0)
    info = pretrained_info("Si")
    rng = np.random.default_rng(script.SEED)  # the script's stream: the same extra liquid
    frames = load_si_frames() + script.liquid_frames(rng, script.LIQUID_FRAMES, 600)
    _, test = split_frames(frames, 0.2, random_state=info["seed"])
    errors = evaluate(load_pretrained("Si"), test)
    assert 1e3 * errors.energy_rmse == pytest.approx(
        info["held_out"]["energy_rmse_meV_per_atom"], rel=1e-6
    )
    assert errors.force_rmse == pytest.approx(info["held_out"]["force_rmse_eV_per_A"], rel=1e-6)


@pytest.mark.slow
def test_nve_drift_at_1000_K_with_a_1_fs_step():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    atoms.calc = load_pretrained("Si")
    hot = run_md(atoms, 200, timestep_fs=1.0, ensemble="nvt", temperature_K=1000,
                 initialise_velocities=True, sample_every=50, random_state=1)  # fmt: skip
    hot.last.calc = atoms.calc
    traj = run_md(hot.last, 1000, timestep_fs=1.0, sample_every=10)
    assert abs(energy_drift(traj)) < 1e-3  # eV/atom/ps, the goal
    assert np.ptp(traj.total_energy) < 5e-3
