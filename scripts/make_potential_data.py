"""Generate training data for lab 06 (machine-learning potentials) from reference potentials.

Two reference methods play "DFT": the Stillinger-Weber potential for Si
(:class:`mi_widgets.structure.StillingerWeber`, 1985 parameters) and ASE's EMT for Cu.
For each, small cells (64 Si atoms: 2 x 2 x 2 cubic diamond cells, a = 5.431 A; 32 Cu
atoms: 2 x 2 x 2 cubic fcc cells, a = 3.61 A) are sampled in five subsets, tagged
``info['subset']``:

* ``md``: the crystal under a Langevin thermostat (time step 1.5 fs for Si, 2 fs for Cu,
  friction 0.02 / fs) at several temperatures up to near melting;
* ``strained``: the lattice constant scaled by 0.92 ... 1.08 (five steps) plus a random
  shear of up to 3 %, each cell rattled by a short MD at 600 K;
* ``vacancy``: one atom removed, MD at two temperatures;
* ``surface``: a (001) slab of the same cell with 8 A of vacuum, MD at 600 K;
* ``liquid``: the cell melted far above melting, then sampled at the liquid temperature.

Cu has 10 more slab frames (300 and 900 K) and 10 more liquid ones (1500 and 2200 K),
drawn after all the others so that the first 65 frames (and the Si file) are unchanged.

Every frame carries the reference energy, forces and stress (extended XYZ) and
``info`` keys ``subset``, ``temperature_K``, ``seed``, ``potential``. One
``numpy.random.default_rng(SEED)`` stream drives everything. ``--small`` runs the same
protocol with a few steps (seconds), for the test that proves this script works::

    nice python scripts/make_potential_data.py          # writes data/potentials_*.extxyz
    python scripts/make_potential_data.py --small --out /tmp/pot
"""

from __future__ import annotations

import argparse
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms, units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, thermalize_momenta

from mi_widgets.structure import StillingerWeber

SEED = 2026
FRICTION_PER_FS = 0.02


@dataclass(frozen=True)
class Protocol:
    """MD steps of each stage and frames per run."""

    equilibrate: int = 300
    frame_every: int = 40
    n_frames: int = 5
    melt: int = 1500
    strain_steps: int = 60


SMALL = Protocol(equilibrate=10, frame_every=4, n_frames=1, melt=20, strain_steps=4)


@dataclass(frozen=True)
class Material:
    """A reference method and its crystal."""

    name: str
    potential: str
    timestep_fs: float
    md_temperatures: tuple[float, ...]
    vacancy_temperatures: tuple[float, ...]
    melt_temperature: float
    liquid_temperature: float
    more_surface_temperatures: tuple[float, ...] = ()
    more_liquid_temperatures: tuple[float, ...] = ()

    def crystal(self) -> Atoms:
        if self.name == "si":
            atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
        else:
            atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
        atoms.calc = self.calculator()
        return atoms

    def calculator(self):
        return StillingerWeber(skin=1.0) if self.name == "si" else EMT()


SILICON = Material(
    "si", "Stillinger-Weber", 1.5, (300.0, 900.0, 1300.0, 1600.0), (600.0, 1200.0), 3500.0, 2000.0
)
# Cu gets more slab and liquid frames (drawn after all others, so the first 65 frames and
# the Si file are those of the first version): with 5 of each, a held-out fold trained its
# network on 3-4 slabs and liquids and the surface and liquid forces stayed above 0.015 eV/A.
COPPER = Material(
    "cu", "EMT", 2.0, (300.0, 600.0, 900.0, 1200.0), (500.0, 1000.0), 3000.0, 1800.0,
    more_surface_temperatures=(300.0, 900.0), more_liquid_temperatures=(1500.0, 2200.0),
)  # fmt: skip


def snapshot(atoms: Atoms, subset: str, temperature: float) -> Atoms:
    """A copy with the reference energy, forces and stress frozen in."""
    frame = atoms.copy()
    results = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces()}
    if atoms.pbc.all():
        results["stress"] = atoms.get_stress()
    frame.calc = SinglePointCalculator(frame, **results)
    frame.info.update(subset=subset, temperature_K=temperature)
    return frame


def thermostat(atoms, material, temperature, rng) -> Langevin:
    thermalize_momenta(atoms, temperature_K=temperature, rng=rng)
    Stationary(atoms)
    return Langevin(
        atoms,
        material.timestep_fs * units.fs,
        temperature_K=temperature,
        friction=FRICTION_PER_FS / units.fs,
        fixcm=False,
        rng=rng,
    )


def run(atoms, material, temperature, rng, protocol, subset, equilibrate=None) -> list[Atoms]:
    """Thermalise, equilibrate, then take ``n_frames`` snapshots ``frame_every`` apart."""
    dyn = thermostat(atoms, material, temperature, rng)
    dyn.run(protocol.equilibrate if equilibrate is None else equilibrate)
    frames = []
    for _ in range(protocol.n_frames):
        dyn.run(protocol.frame_every)
        frames.append(snapshot(atoms, subset, temperature))
    return frames


def strained(material, rng, protocol) -> list[Atoms]:
    frames = []
    for scale in np.linspace(0.92, 1.08, 5):
        atoms = material.crystal()
        shear = np.eye(3) * scale + rng.uniform(-0.03, 0.03, (3, 3))
        atoms.set_cell(atoms.cell.array @ shear, scale_atoms=True)
        atoms.calc = material.calculator()
        frames += run(atoms, material, 600.0, rng, protocol, "strained", protocol.strain_steps)
    return frames


def surface(material, temperature, rng, protocol) -> list[Atoms]:
    """A (001) slab of the crystal cell, 8 A of vacuum between its periodic images."""
    slab = material.crystal()
    slab.center(vacuum=4.0, axis=2)
    slab.calc = material.calculator()
    return run(slab, material, temperature, rng, protocol, "surface")


def liquid(material, temperature, rng, protocol) -> list[Atoms]:
    """The crystal cell melted at the melting temperature, then sampled at ``temperature``."""
    atoms = material.crystal()
    thermostat(atoms, material, material.melt_temperature, rng).run(protocol.melt)
    return run(atoms, material, temperature, rng, protocol, "liquid")


def generate(material: Material, protocol: Protocol, rng) -> list[Atoms]:
    frames = []
    for temperature in material.md_temperatures:
        frames += run(material.crystal(), material, temperature, rng, protocol, "md")
    frames += strained(material, rng, protocol)
    for temperature in material.vacancy_temperatures:
        atoms = material.crystal()
        del atoms[int(rng.integers(len(atoms)))]
        frames += run(atoms, material, temperature, rng, protocol, "vacancy")
    frames += surface(material, 600.0, rng, protocol)
    frames += liquid(material, material.liquid_temperature, rng, protocol)
    for temperature in material.more_surface_temperatures:
        frames += surface(material, temperature, rng, protocol)
    for temperature in material.more_liquid_temperatures:
        frames += liquid(material, temperature, rng, protocol)
    for frame in frames:
        frame.info.update(seed=SEED, potential=material.potential)
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a few steps only (a test)")
    parser.add_argument("--out", type=Path, default=Path("data"), help="output folder")
    args = parser.parse_args()
    protocol = SMALL if args.small else Protocol()
    rng = np.random.default_rng(SEED)
    args.out.mkdir(parents=True, exist_ok=True)
    for material in (SILICON, COPPER):
        start = time.process_time()
        frames = generate(material, protocol, rng)
        path = args.out / f"potentials_{material.name}.extxyz"
        ase.io.write(path, frames, format="extxyz")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(
            f"| {path.name} | {len(frames)} frames | {path.stat().st_size / 1e3:.0f} kB | "
            f"{time.process_time() - start:.0f} CPU s | {digest} |"
        )


if __name__ == "__main__":
    main()
