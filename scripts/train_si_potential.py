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
had; the JSON sidecar records the held-out
errors, also per group, and those of the same network trained on energies alone.

Network: (16, 16) tanh, the default symmetry functions (r_cut 4.5 A, G1 + 8 G2 + 8 G4),
Adam, early stopping on 15 % of the training frames. Run from the repository root::

    nice python scripts/train_si_potential.py           # about 8 CPU minutes (two networks)
    python scripts/train_si_potential.py --small --out /tmp/si   # seconds, a test
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
from ase import units
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, thermalize_momenta

from mi_widgets.potentials import NeuralNetworkPotential
from mi_widgets.potentials.training import evaluate, load_si_frames, si_descriptor, split_frames
from mi_widgets.structure import StillingerWeber

SEED = 2028
R_CUT = 4.5
LIQUID_TEMPERATURES = (1800.0, 2000.0, 2300.0, 3000.0, 3500.0)
LIQUID_FRAMES = 12  # per temperature
SETTINGS = {
    "hidden": (24, 24),
    "learning_rate": 0.005,
    "batch_size": 8,
    "max_epochs": 1000,
    "patience": 150,
    "validation_fraction": 0.15,
    "energy_weight": 30.0,
    "force_weight": 1.0,
}


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
    model = NeuralNetworkPotential(
        ["Si"],
        si_descriptor(R_CUT),
        hidden=settings["hidden"],
        learning_rate=settings["learning_rate"],
        batch_size=settings["batch_size"],
        max_epochs=settings["max_epochs"],
        patience=settings["patience"],
        validation_fraction=settings["validation_fraction"],
        random_state=SEED,
    )
    return model.fit(train_frames, settings["energy_weight"], force_weight)


def summary(errors) -> dict:
    return {
        "energy_rmse_meV_per_atom": 1e3 * errors.energy_rmse,
        "force_rmse_eV_per_A": errors.force_rmse,
        "energy_rmse_meV_per_atom_by_group": {g: 1e3 * v for g, v in errors.by_group().items()},
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
    model = train(train_frames, settings, settings["force_weight"])
    held_out = evaluate(model, test_frames)
    energy_only = evaluate(train(train_frames, settings, 0.0), test_frames)
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
        "held_out": summary(held_out),
        "energy_only": summary(energy_only),
        "force_error_factor_energy_only_over_energy_force": energy_only.force_rmse
        / held_out.force_rmse,
        "cpu_seconds": time.process_time() - start,
        "npz_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    side = args.out / "potential_si_network.json"
    side.write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps(info, indent=1))
    print(f"sha256 {side.name} {hashlib.sha256(side.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
