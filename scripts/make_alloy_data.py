"""Compute ``data/alloys.csv``: random fcc alloys of Ni, Cu, Pd, Ag, Pt, Au with ASE's EMT.

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

Where EMT is not a fair model
-----------------------------
EMT is fitted to the pure fcc metals; the alloy energies come from the
overlap of the atoms' electron densities, with no charge transfer and no
covalent (sp-d) bonding.  Two failures matter here, each a wrong *sign* of the
mixing energy, so a model trained on such rows learns the wrong chemistry:

* **Al with a transition metal.**  Al-Ni and Al-Pd bond strongly through sp-d
  hybridisation (B2 NiAl: formation enthalpy about -0.6 eV/atom, measured);
  EMT gives Al-Ni +0.21 eV/atom and Al-Cu +0.11 eV/atom at x = 0.5.
* **Noble-metal pairs with ordering tendencies.**  Measured enthalpies of
  mixing of the disordered fcc solid solutions at x = 0.5 are negative
  (Hultgren et al., *Selected Values of the Thermodynamic Properties of Binary
  Alloys*, ASM 1973): Cu-Au about -0.05 eV/atom (the alloy orders to Cu3Au and
  CuAu), Ag-Pd and Au-Pd negative as well (complete solid solutions with
  short-range order).  EMT gives +0.013 (Cu-Au), +0.029 (Pd-Ag) and +0.007
  eV/atom (Pd-Au).

Pairs where EMT gets the sign right are kept: the miscibility gaps of Ni-Ag,
Ni-Au, Cu-Ag, Ag-Pt and Pt-Au and the small positive Cu-Ni (EMT positive), the
ordering alloys Cu-Pt, Ni-Pt and Cu-Pd and the weakly negative Ag-Au (EMT
negative; EMT underestimates the magnitude of Ag-Au and Cu-Pd).  Every alloy
that contains Al or one of the three unfair pairs goes to
``data/alloys_emt_unfair.csv`` instead of the main table ("garbage in": for an
exercise, clearly labelled).

Symmetry-equivalent cells
-------------------------
Two random configurations of an 8-atom cell are often the same structure (a
single minority atom, for example, has one site up to symmetry): identical
energy, volume and bulk modulus.  Such copies would put the same alloy on both
sides of a cross-validation split; each is kept once (:func:`deduplicate`).
Different cells or configurations of one composition remain, so models in the
labs are scored with folds grouped by composition.

Usage
-----
``nice python scripts/make_alloy_data.py`` computes every alloy (about 2300,
~6 min on one core), deduplicates and splits them, and writes
``data/alloys.csv``, ``data/alloys_emt_unfair.csv`` and
``data/alloys_example.csv`` (120 rows of alloys.csv, composition and lattice
constant only: the example of a user's table in the notebooks).  ``--from-raw FILE``
skips the EMT runs and applies the same deduplication and split to the rows of
an earlier full run (the rows of the computation, all columns; this is how the
shipped files were made from the previous ``data/alloys.csv``, which a full run
reproduces).  ``--small --out FILE`` writes a few alloys in seconds (a test
uses it).  Fixed seed: the same files every run.
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
#: Elements for which EMT gives the wrong sign of the mixing energy with the others.
EMT_UNFAIR_ELEMENTS = ("Al",)
#: Pairs whose measured mixing enthalpy is negative while EMT's is positive.
EMT_UNFAIR_PAIRS = (frozenset({"Cu", "Au"}), frozenset({"Pd", "Ag"}), frozenset({"Pd", "Au"}))
#: The elements of the main table.
FAIR_ELEMENTS = tuple(e for e in ELEMENTS if e not in EMT_UNFAIR_ELEMENTS)
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
#: Columns of the main table: no fraction column for the dropped elements.
FAIR_COLUMNS = tuple(c for c in COLUMNS if c not in {f"x_{e}" for e in EMT_UNFAIR_ELEMENTS})


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
        for pair in (("Cu", "Ni"), ("Ni", "Ag")):
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


def emt_is_fair(system: str) -> bool:
    """True unless the alloy system ("Cu-Au-Ni") has an element or pair EMT gets wrong."""
    elements = system.split("-")
    if any(e in EMT_UNFAIR_ELEMENTS for e in elements):
        return False
    return not any(
        frozenset(pair) in EMT_UNFAIR_PAIRS for pair in itertools.combinations(elements, 2)
    )


def deduplicate(rows: list[dict]) -> list[dict]:
    """Keep the first of rows that are the same structure (same composition, energy, volume, B)."""
    seen, kept = set(), []
    for row in rows:
        key = (
            row["composition"],
            row["energy_eV_per_atom"],
            row["volume_A3_per_atom"],
            row["bulk_modulus_GPa"],
        )
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def write_table(path: Path, rows: list[dict], columns: tuple[str, ...], title: str) -> None:
    """Write rows as CSV with a one-line '#' header naming the data and the script."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        handle.write(f"# {title}; scripts/make_alloy_data.py; seed {SEED}; fmax {FMAX} eV/A\n")
        writer = csv.DictWriter(
            handle, fieldnames=columns, lineterminator="\n", extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(rows)


def read_raw(path: Path) -> list[dict]:
    """Rows of an earlier full run (every column of ``COLUMNS``)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise SystemExit(f"{path} is not a raw alloy table with the columns {COLUMNS}")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a few alloys, for tests")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parents[1] / "data" / "alloys.csv"
    )
    parser.add_argument(
        "--unfair-out",
        type=Path,
        default=None,
        help="where the rows EMT gets wrong go (default: <out stem>_emt_unfair.csv)",
    )
    parser.add_argument(
        "--from-raw", type=Path, default=None, help="reuse the rows of an earlier full run"
    )
    args = parser.parse_args(argv)
    unfair_out = args.unfair_out or args.out.with_name(
        f"{args.out.stem}_emt_unfair{args.out.suffix}"
    )

    start = time.perf_counter()
    if args.from_raw is not None:
        rows = read_raw(args.from_raw)
    else:
        rng = np.random.default_rng(SEED)
        references = pure_references()
        specs = alloy_specs(args.small, rng)
        rows = []
        for i, spec in enumerate(specs):
            rows.append(compute(spec, rng, references))
            if (i + 1) % 100 == 0:
                elapsed = time.perf_counter() - start
                print(f"{i + 1}/{len(specs)} alloys, {elapsed:.0f} s", flush=True)
    unique = deduplicate(rows)
    fair = [r for r in unique if emt_is_fair(r["system"])]
    unfair = [r for r in unique if not emt_is_fair(r["system"])]
    write_table(args.out, fair, FAIR_COLUMNS, "EMT random fcc alloys")
    if not args.small:
        # A small table in the shape a user uploads: composition and one property.
        example = np.random.default_rng(SEED).choice(len(fair), 120, replace=False)
        write_table(
            args.out.with_name("alloys_example.csv"),
            [fair[i] for i in sorted(example)],
            ("composition", "lattice_constant_A"),
            "Example user table: 120 EMT alloys from alloys.csv",
        )
    write_table(
        unfair_out,
        unfair,
        COLUMNS,
        "GARBAGE IN: EMT alloys with the wrong sign of the mixing energy (Al; Cu-Au, Pd-Ag, Pd-Au)",
    )
    print(
        f"{len(rows)} alloys, {len(rows) - len(unique)} symmetry-equivalent copies dropped; "
        f"wrote {len(fair)} to {args.out} and {len(unfair)} to {unfair_out} "
        f"in {time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
