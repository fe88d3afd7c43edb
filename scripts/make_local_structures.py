"""Generate the local-structure data of lab 07: thermalised Cu phases from EMT molecular dynamics.

Physics: ASE's effective-medium-theory (EMT) copper, Langevin NVT at fixed
cells, time step 5 fs, friction 0.02 / fs, fixed seed.

* fcc (500 atoms, a = 3.59 A, the EMT equilibrium), hcp (480 atoms, the same
  nearest-neighbour distance, ideal c/a) and bcc (432 atoms, the same volume per
  atom) at 300, 600, 900 and 1100 K: 1.5 ps equilibration, then 3 frames 0.25 ps
  apart. bcc copper is not stable in EMT: in a fixed cubic cell it stays bcc
  for these picoseconds (the Bain path needs the cell to change shape), a
  metastable run that the lab says is one.
* liquid (500 atoms, 10 % more volume than the crystal: a liquid at the
  crystal's density is under such pressure that it recrystallises): melted at
  3000 K for 2.5 ps, then 1.5 ps at 1400 K or 1800 K, then 3 frames 0.25 ps
  apart.
* a crystal-liquid interface (640 atoms, 4 x 4 x 10 fcc cells, the upper half
  given 10 % more volume along z): the upper half melted at 2500 K (lower half
  held fixed), then 0.25 ps at 1100 K with every atom free; the true label is the
  half the atom started in.
* gold at 600 K (fcc, 500 atoms) as an element the classifier never saw.

Every atom carries its true class in the ``structure_class`` array; each frame
has ``phase``, ``temperature_K`` and ``element`` in ``atoms.info``. Each part
(fcc, hcp, bcc, liquid, interface, gold) has its own seed, ``SEED + part
number``, so the parts run as parallel processes and give the same frames as one
process would. ``--small``
runs a few steps on small cells (seconds) for the test that proves the script
works. Run from the repository root::

    nice python scripts/make_local_structures.py   # writes data/local_structures_cu.extxyz
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.constraints import FixAtoms
from ase.md.velocitydistribution import Stationary, thermalize_momenta
from make_si_md import thermostat

SEED = 2027
TIMESTEP_FS = 5.0
FRICTION_PER_FS = 0.02
A_FCC = {"Cu": 3.59, "Au": 4.07}
CRYSTAL_TEMPERATURES = (300, 600, 900, 1100)
LIQUID_TEMPERATURES = (1400, 1800)
LIQUID_VOLUME = 1.10
PARTS = ("fcc", "hcp", "bcc", "liquid", "interface", "gold")


def crystal(phase: str, element: str = "Cu", small: bool = False) -> Atoms:
    """A periodic crystal of ``phase`` with the fcc nearest-neighbour distance of ``element``."""
    a = A_FCC[element]
    d = a / np.sqrt(2.0)
    if phase == "fcc":
        atoms = bulk(element, "fcc", a=a, cubic=True).repeat((3, 3, 3) if small else (5, 5, 5))
    elif phase == "hcp":
        cell = bulk(element, "hcp", a=d, c=d * np.sqrt(8.0 / 3.0), orthorhombic=True)
        atoms = cell.repeat((3, 2, 2) if small else (6, 4, 5))
    elif phase == "bcc":
        a_bcc = (2.0 * a**3 / 4.0) ** (1.0 / 3.0)  # same volume per atom as fcc
        atoms = bulk(element, "bcc", a=a_bcc, cubic=True).repeat((3, 3, 3) if small else (6, 6, 6))
    else:
        raise ValueError(phase)
    atoms.arrays["structure_class"] = np.array([phase] * len(atoms))
    return atoms


def run_md(atoms: Atoms, temperature: float, steps: int, rng: np.random.Generator) -> Atoms:
    """Langevin NVT with EMT for ``steps`` steps; returns ``atoms`` (moved in place)."""
    atoms.calc = EMT()
    if not atoms.has("momenta") or not np.any(atoms.get_momenta()):
        thermalize_momenta(atoms, temperature_K=temperature, rng=rng)
        Stationary(atoms)
    dyn = thermostat(
        atoms, temperature, rng, timestep_fs=TIMESTEP_FS, friction_per_fs=FRICTION_PER_FS
    )
    dyn.run(steps)
    return atoms


def frames_of(atoms, temperature, rng, *, equilibrate, every, n_frames, info) -> list[Atoms]:
    """Equilibrate, then take ``n_frames`` snapshots ``every`` steps apart."""
    run_md(atoms, temperature, equilibrate, rng)
    frames = []
    for _ in range(n_frames):
        run_md(atoms, temperature, every, rng)
        frame = atoms.copy()
        frame.calc = None
        frame.info.update(info, temperature_K=float(temperature))
        frames.append(frame)
    return frames


def generate_part(part: str, small: bool = False) -> list[Atoms]:
    """The frames of one part of the data set, from that part's own seed."""
    rng = np.random.default_rng(SEED + PARTS.index(part))
    scale = 10 if small else 1
    equilibrate, every, n_frames = 300 // scale, 50 // scale, 3 if not small else 1
    steps = {"equilibrate": equilibrate, "every": every}
    if part in ("fcc", "hcp", "bcc"):
        frames = []
        for temperature in CRYSTAL_TEMPERATURES if not small else (600,):
            atoms = crystal(part, small=small)
            info = {"phase": part, "element": "Cu"}
            frames += frames_of(atoms, temperature, rng, n_frames=n_frames, info=info, **steps)
        return frames
    if part == "liquid":
        frames = []
        for temperature in LIQUID_TEMPERATURES if not small else (1800,):
            atoms = crystal("fcc", small=small)
            atoms.set_cell(atoms.cell * LIQUID_VOLUME ** (1 / 3), scale_atoms=True)
            run_md(atoms, 3000.0, 500 // scale, rng)
            atoms.arrays["structure_class"] = np.array(["liquid"] * len(atoms))
            info = {"phase": "liquid", "element": "Cu"}
            frames += frames_of(atoms, temperature, rng, n_frames=n_frames, info=info, **steps)
        return frames
    if part == "interface":
        return [interface(rng, small=small)]
    gold = crystal("fcc", "Au", small=small)
    info = {"phase": "fcc", "element": "Au"}
    return frames_of(gold, 600.0, rng, n_frames=1, info=info, **steps)


def generate(small: bool = False) -> list[Atoms]:
    """All frames of the data set, part after part."""
    return [frame for part in PARTS for frame in generate_part(part, small)]


def interface(rng: np.random.Generator, small: bool = False) -> Atoms:
    """A crystal-liquid slab: the upper half, given room, melted while the lower half is fixed."""
    a = A_FCC["Cu"]
    atoms = bulk("Cu", "fcc", a=a, cubic=True).repeat((3, 3, 6) if small else (4, 4, 10))
    height = atoms.cell[2, 2]
    z = atoms.positions[:, 2]
    upper = z >= 0.5 * height
    stretch = LIQUID_VOLUME  # upper half: 10 % more volume
    atoms.positions[upper, 2] = 0.5 * height + (z[upper] - 0.5 * height) * stretch
    cell = atoms.cell.copy()
    cell[2, 2] = height * (0.5 + 0.5 * LIQUID_VOLUME)
    atoms.set_cell(cell)
    labels = np.where(upper, "liquid", "fcc")
    atoms.set_constraint(FixAtoms(mask=~upper))
    run_md(atoms, 2500.0, 400 // (10 if small else 1), rng)
    atoms.set_constraint()
    run_md(atoms, 1100.0, 50 // (10 if small else 1), rng)
    frame = atoms.copy()
    frame.calc = None
    frame.arrays["structure_class"] = labels
    frame.info.update(phase="interface", element="Cu", temperature_K=1100.0)
    return frame


def _write_part(part: str, small: bool, folder: str) -> str:
    """Generate one part into ``folder`` (for a pool of processes); returns the file."""
    path = Path(folder) / f"{part}.extxyz"
    frames = generate_part(part, small)
    ase.io.write(path, frames, format="extxyz", columns=["symbols", "positions", "structure_class"])
    return str(path)


def main() -> None:
    """Write the frames as extended XYZ and print their sha256."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a quick run on small cells")
    parser.add_argument("--out", default="data", help="output folder")
    parser.add_argument("--processes", type=int, default=len(PARTS), help="parallel parts")
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, ProcessPoolExecutor(args.processes) as pool:
        paths = list(pool.map(_write_part, PARTS, [args.small] * len(PARTS), [folder] * len(PARTS)))
        frames = [frame for path in paths for frame in ase.io.read(path, ":", format="extxyz")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "local_structures_cu.extxyz"
    ase.io.write(path, frames, format="extxyz", columns=["symbols", "positions", "structure_class"])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    atoms = sum(len(f) for f in frames)
    print(f"{path}: {len(frames)} frames, {atoms} atoms, {time.perf_counter() - start:.0f} s")
    print(f"sha256 {digest}")


if __name__ == "__main__":
    main()
