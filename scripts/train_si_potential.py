"""Train the Si network potential that lab 06 ships, ``data/potential_si_network.{npz,json}``.

Reference: the Stillinger-Weber potential (``mi_widgets.structure.StillingerWeber``,
1985 parameters) plays "DFT". Frames: ``data/potentials_si.extxyz`` (65 cells of 64
atoms: crystal MD 300-1600 K, strained +-8 %, vacancy, (001) slab, liquid), the 38
216-atom frames of ``data/si_md_*.extxyz`` (crystal 300 / 1600 K, amorphous, liquid
2000 K, melt-quench) and ``LIQUID_FRAMES`` extra 64-atom liquid cells this script
samples with SW Langevin MD (the lab's scale-up runs the liquid). 20 % of every group
is held out (seeded) and never seen in training. The hot liquids (3000 K, 3500 K) hold the
close contacts (down to about 1.8 A) that teach the network the repulsive wall: without them
a 2000 K liquid run collapsed within 0.1 ps once a pair came closer than the 2.0 A the data
had. The JSON sidecar records the held-out errors (all frames, the 25 at or below 2000 K
that the issue's goal covers, per group) and those of the same network trained on energies
alone, which trains in a second process at the same time.

Held out (2026-12-02): 3.0 meV/atom and 0.083 eV/A on all 31 frames, 3.0 meV/atom and 0.077
eV/A on the 25 at or below 2000 K (before: 13.0 / 0.249 and 12.0 / 0.231 with ``si_descriptor``
at r_cut 4.5 A, no baseline, energy weight 30, early stopping); 423 CPU s for both networks.

Network: two tanh layers of 24 on top of a ridge baseline (``linear_baseline=1e-6``: a
linear model on the same features is fitted first, the networks learn what it leaves and
their output weights start at zero). Symmetry functions ``sw_si_descriptor()``: r_cut
3.8 A (SW's range ends at a sigma = 3.77 A), G1, 10 unshifted G2 (eta 0.02-2 / A^2), the
8 G4 of ``default_acsf`` and 24 G5 (eta 0.005-0.8 / A^2, zeta 1 and 2, lambda +-1): SW's
three-body term, (cos theta + 1/3)^2 times a function of r_ij and one of r_ik, has no j-k
distance, and the G4's cut-off of r_jk hides the tetrahedral triplets (r_jk = 3.84 A).
Adam, step decaying geometrically from 0.005 to 5e-5 over 300 epochs, energy weight 3,
force weight 1, every training frame used (no validation split; the last weights kept).
Run from the repository root::

    nice python scripts/train_si_potential.py   # about 7 CPU minutes (two networks, two processes)
    python scripts/train_si_potential.py --small --out /tmp/si   # seconds, a test
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from ase import units
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, thermalize_momenta

from mi_widgets.potentials import NeuralNetworkPotential
from mi_widgets.potentials.training import (
    evaluate,
    load_si_frames,
    split_frames,
    sw_si_descriptor,
)
from mi_widgets.structure import StillingerWeber

SEED = 2028
R_CUT = 3.8
LIQUID_TEMPERATURES = (1800.0, 2000.0, 2300.0, 3000.0, 3500.0)
LIQUID_FRAMES = 12  # per temperature
SETTINGS = {
    "hidden": (24, 24),
    "learning_rate": 0.005,
    "final_learning_rate": 5e-5,
    "batch_size": 8,
    "max_epochs": 300,
    "patience": 300,
    "validation_fraction": 0.0,
    "linear_baseline": 1e-6,
    "energy_weight": 3.0,
    "force_weight": 1.0,
}
#: The issue's range: held-out errors are also reported on the frames at or below it.
ISSUE_MAX_TEMPERATURE = 2000.0


def liquid_frames(rng, n_frames: int, melt_steps: int) -> list:
    """64-atom SW liquid cells at each temperature, 60 steps (90 fs) apart."""
    frames = []
    for temperature in LIQUID_TEMPERATURES:
        atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
        atoms.calc = StillingerWeber(skin=1.0)
        thermalize_momenta(atoms, temperature_K=3500.0, rng=rng)
        Stationary(atoms)
        dyn = Langevin(atoms, 1.5 * units.fs, temperature_K=3500.0,
                       friction=0.02 / units.fs, fixcm=False, rng=rng)  # fmt: skip
        dyn.run(melt_steps)
        dyn.set_temperature(temperature_K=temperature)
        dyn.run(melt_steps)
        for _ in range(n_frames):
            dyn.run(60)
            frame = atoms.copy()
            frame.calc = SinglePointCalculator(
                frame, energy=atoms.get_potential_energy(), forces=atoms.get_forces()
            )
            frame.info.update(group=f"liquid_{temperature:.0f}K", temperature_K=temperature)
            frames.append(frame)
    return frames


def train(train_frames, settings: dict, force_weight: float) -> NeuralNetworkPotential:
    options = {k: v for k, v in settings.items() if k not in ("energy_weight", "force_weight")}
    model = NeuralNetworkPotential(["Si"], sw_si_descriptor(R_CUT), random_state=SEED, **options)
    return model.fit(train_frames, settings["energy_weight"], force_weight)


def energy_only_errors(train_frames, test_frames, settings: dict) -> tuple:
    """Held-out errors of the same network trained on energies alone, and its CPU seconds."""
    start = time.process_time()
    errors = evaluate(train(train_frames, settings, 0.0), test_frames)
    return errors, time.process_time() - start


def _force_rmse(errors, frames, mask) -> float:
    """Force RMSE (eV/A) over the frames selected by ``mask``."""
    per_frame = np.split(errors.force_predicted - errors.force_reference,
                         np.cumsum([3 * len(f) for f in frames])[:-1])  # fmt: skip
    squares = np.concatenate([per_frame[k] ** 2 for k in np.flatnonzero(mask)])
    return float(np.sqrt(np.mean(squares)))


def summary(errors, frames) -> dict:
    """Held-out errors: all frames, those at or below 2000 K, and per group."""
    temperatures = np.array([f.info.get("temperature_K", np.inf) for f in frames])
    issue = temperatures <= ISSUE_MAX_TEMPERATURE
    energy = errors.energy_predicted - errors.energy_reference
    groups = sorted(set(errors.groups))
    return {
        "energy_rmse_meV_per_atom": 1e3 * errors.energy_rmse,
        "force_rmse_eV_per_A": errors.force_rmse,
        "up_to_2000K": {
            "n_frames": int(issue.sum()),
            "energy_rmse_meV_per_atom": 1e3 * float(np.sqrt(np.mean(energy[issue] ** 2))),
            "force_rmse_eV_per_A": _force_rmse(errors, frames, issue),
        },
        "energy_rmse_meV_per_atom_by_group": {g: 1e3 * v for g, v in errors.by_group().items()},
        "force_rmse_eV_per_A_by_group": {
            g: _force_rmse(errors, frames, errors.groups == g) for g in groups
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a few epochs only (a test)")
    parser.add_argument("--out", type=Path, default=Path("data"), help="output folder")
    args = parser.parse_args()
    settings = dict(SETTINGS, max_epochs=3) if args.small else SETTINGS
    rng = np.random.default_rng(SEED)
    start = time.process_time()
    frames = load_si_frames() + liquid_frames(
        rng, 1 if args.small else LIQUID_FRAMES, 20 if args.small else 600
    )
    train_frames, test_frames = split_frames(frames, 0.2, random_state=SEED)
    # the energy-only network trains in a second process at the same time (two cores)
    with ProcessPoolExecutor(max_workers=1) as pool:
        job = pool.submit(energy_only_errors, train_frames, test_frames, settings)
        model = train(train_frames, settings, settings["force_weight"])
        held_out = evaluate(model, test_frames)
        energy_only, energy_only_cpu = job.result()
    args.out.mkdir(parents=True, exist_ok=True)
    path = model.save(args.out / "potential_si_network.npz")
    info = {
        "reference": "Stillinger-Weber Si (1985), mi_widgets.structure.StillingerWeber",
        "script": "scripts/train_si_potential.py",
        "seed": SEED,
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
        "n_train_frames": len(train_frames),
        "n_test_frames": len(test_frames),
        "epochs": len(model.history_["train_loss"]),
        "min_distance_A": model.min_distance_,
        "held_out": summary(held_out, test_frames),
        "energy_only": summary(energy_only, test_frames),
        "force_error_factor_energy_only_over_energy_force": energy_only.force_rmse
        / held_out.force_rmse,
        "cpu_seconds": time.process_time() - start + energy_only_cpu,  # both processes
        "npz_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    side = args.out / "potential_si_network.json"
    side.write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps(info, indent=1))
    print(f"sha256 {side.name} {hashlib.sha256(side.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
