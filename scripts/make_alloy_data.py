"""Compute ``data/alloys.csv``: random fcc alloys of Al, Ni, Cu, Pd, Ag, Pt, Au with ASE's EMT.

Physics
-------
Every alloy is a small periodic fcc supercell (8 atoms: the primitive cell
repeated 2x2x2; or 16 atoms: the cubic cell repeated 2x2x1) whose sites are
filled at random with the alloy's atoms.  The effective-medium-theory
potential of Jacobsen, Stoltze and Norskov (ASE's ``EMT`` calculator) gives
energies and forces.  Each cell is relaxed (cell shape, volume and positions:
``FrechetCellFilter`` + BFGS to ``fmax = 0.05 eV/Angstrom``).  Then

* ``mixing_energy_eV_per_atom`` = E(alloy)/N - sum_i x_i E(pure i)/atom, with
  the pure elements relaxed the same way in their fcc ground state;
* ``lattice_constant_A`` = (4 V0 / N)^(1/3), the lattice constant of the fcc
  cell with the alloy's equilibrium volume per atom V0;
* ``bulk_modulus_GPa`` from a Birch-Murnaghan fit (``ase.eos``) of the energy
  at seven volumes within +-3 % of the relaxed one (cell scaled uniformly,
  atoms not re-relaxed, so this is the clamped-ion bulk modulus);
* ``stable`` = 1 when the mixing energy is negative (the alloy is stable
  against separating into its pure elements), else 0.  It is not a convex-hull
  criterion: an alloy with E_mix < 0 may still be above the hull of ordered
  compounds.

Usage
-----
``nice python scripts/make_alloy_data.py`` writes ``data/alloys.csv`` (about
2300 alloys, ~10 min on one core); ``--small --out FILE`` writes a few alloys in
seconds (a test uses it).  Fixed seed: the same file every run.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import time

# One BLAS thread: the 3x3 matrix functions of the cell filter get ~10x slower when
# BLAS threads compete with other processes on a shared machine.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.eos import EquationOfState  # noqa: E402
from ase.filters import FrechetCellFilter  # noqa: E402
from ase.optimize import BFGS  # noqa: E402
from ase.units import GPa  # noqa: E402

ELEMENTS = ("Al", "Ni", "Cu", "Pd", "Ag", "Pt", "Au")
SEED = 20261121
FMAX = 0.05  # eV/Angstrom
EOS_STRAINS = np.linspace(0.97, 1.03, 7) ** (1 / 3)  # linear scale for +-3 % in volume
COLUMNS = (
    "composition",
    "system",
    "n_elements",
    "n_atoms",
    "config",
    *(f"x_{el}" for el in ELEMENTS),
    "energy_eV_per_atom",
    "mixing_energy_eV_per_atom",
    "volume_A3_per_atom",
    "lattice_constant_A",
    "bulk_modulus_GPa",
    "relax_steps",
    "stable",
)


@dataclass(frozen=True)
class AlloySpec:
    """One alloy to compute: which elements, how many atoms of each, which cell, which seed."""

    elements: tuple[str, ...]
    counts: tuple[int, ...]
    cell: str  # "prim8" or "cubic16"
    config: int


def template(cell: str) -> Atoms:
    """The empty fcc supercell (Cu as placeholder species, a = 3.8 Angstrom)."""
    if cell == "prim8":
        return bulk("Cu", "fcc", a=3.8).repeat((2, 2, 2))
    return bulk("Cu", "fcc", a=3.8, cubic=True).repeat((2, 2, 1))


def relax(atoms: Atoms) -> int:
    """Relax cell and positions in place with EMT; return the number of BFGS steps."""
    atoms.calc = EMT()
    optimiser = BFGS(FrechetCellFilter(atoms), logfile=None)
    optimiser.run(fmax=FMAX, steps=300)
    return int(optimiser.nsteps)


def equation_of_state(atoms: Atoms) -> tuple[float, float, float]:
    """Birch-Murnaghan fit around the relaxed cell.

    Returns V0 per atom (A^3), E0 per atom (eV) and the bulk modulus B (GPa).
    """
    volumes, energies = [], []
    cell = atoms.get_cell()
    for s in EOS_STRAINS:
        strained = atoms.copy()
        strained.set_cell(cell * s, scale_atoms=True)
        strained.calc = EMT()
        volumes.append(strained.get_volume())
        energies.append(strained.get_potential_energy())
    v0, e0, b = EquationOfState(volumes, energies, eos="birchmurnaghan").fit()
    n = len(atoms)
    return v0 / n, e0 / n, b / GPa


def pure_references() -> dict[str, float]:
    """Relaxed energy per atom (eV) of each pure fcc element."""
    energies = {}
    for el in ELEMENTS:
        atoms = bulk(el, "fcc", a=3.8)
        relax(atoms)
        energies[el] = atoms.get_potential_energy() / len(atoms)
    return energies


def build(spec: AlloySpec, rng: np.random.Generator) -> Atoms:
    """The supercell with the alloy's atoms placed on random sites."""
    atoms = template(spec.cell)
    symbols = np.repeat(spec.elements, spec.counts)
    atoms.set_chemical_symbols(list(rng.permutation(symbols)))
    return atoms


def composition_string(elements: tuple[str, ...], counts: tuple[int, ...]) -> str:
    """'Al0.375Ni0.625': symbols with atomic fractions (the form composition_features reads)."""
    total = sum(counts)
    return "".join(f"{el}{c / total:.4g}" for el, c in zip(elements, counts, strict=True))


def compute(spec: AlloySpec, rng: np.random.Generator, references: dict[str, float]) -> dict:
    """Relax one alloy and measure mixing energy, lattice constant and bulk modulus."""
    atoms = build(spec, rng)
    steps = relax(atoms)
    n = len(atoms)
    energy = atoms.get_potential_energy() / n
    fractions = dict.fromkeys(ELEMENTS, 0.0)
    for el, c in zip(spec.elements, spec.counts, strict=True):
        fractions[el] = c / n
    mixing = energy - sum(fractions[el] * references[el] for el in ELEMENTS)
    v0, _, bulk_modulus = equation_of_state(atoms)
    return {
        "composition": composition_string(spec.elements, spec.counts),
        "system": "-".join(spec.elements),
        "n_elements": len(spec.elements),
        "n_atoms": n,
        "config": spec.config,
        **{f"x_{el}": f"{fractions[el]:.4f}" for el in ELEMENTS},
        "energy_eV_per_atom": f"{energy:.6f}",
        "mixing_energy_eV_per_atom": f"{mixing:.6f}",
        "volume_A3_per_atom": f"{v0:.5f}",
        "lattice_constant_A": f"{(4 * v0) ** (1 / 3):.5f}",
        "bulk_modulus_GPa": f"{bulk_modulus:.3f}",
        "relax_steps": steps,
        "stable": int(mixing < 0),
    }


def alloy_specs(small: bool, rng: np.random.Generator) -> list[AlloySpec]:
    """Every alloy of the data set, in a fixed order."""
    specs: list[AlloySpec] = []
    if small:
        for pair in (("Cu", "Au"), ("Ni", "Ag")):
            specs += [AlloySpec(pair, (k, 8 - k), "prim8", 0) for k in (2, 4, 6)]
        specs.append(AlloySpec(("Al", "Ni", "Pt"), (2, 3, 3), "prim8", 0))
        return specs
    for pair in itertools.combinations(ELEMENTS, 2):
        for k in range(1, 8):
            specs += [AlloySpec(pair, (k, 8 - k), "prim8", c) for c in range(2)]
        specs += [AlloySpec(pair, (k, 16 - k), "cubic16", 0) for k in range(1, 16)]
    ternary8 = [(a, b, 8 - a - b) for a in range(1, 7) for b in range(1, 8 - a) if 8 - a - b >= 1]
    ternary16 = [
        (a, b, 16 - a - b) for a in range(1, 15) for b in range(1, 16 - a) if 16 - a - b >= 1
    ]
    for triple in itertools.combinations(ELEMENTS, 3):
        for counts in ternary8:
            specs += [AlloySpec(triple, counts, "prim8", c) for c in range(2)]
        for i in rng.choice(len(ternary16), size=6, replace=False):
            specs.append(AlloySpec(triple, ternary16[i], "cubic16", 0))
    return specs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a few alloys, for tests")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parents[1] / "data" / "alloys.csv"
    )
    args = parser.parse_args(argv)

    rng = np.random.default_rng(SEED)
    references = pure_references()
    specs = alloy_specs(args.small, rng)
    start = time.perf_counter()
    rows = []
    for i, spec in enumerate(specs):
        rows.append(compute(spec, rng, references))
        if (i + 1) % 100 == 0:
            elapsed = time.perf_counter() - start
            print(f"{i + 1}/{len(specs)} alloys, {elapsed:.0f} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as handle:
        handle.write(
            f"# EMT random fcc alloys; scripts/make_alloy_data.py; seed {SEED}; fmax {FMAX} eV/A\n"
        )
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} alloys to {args.out} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
