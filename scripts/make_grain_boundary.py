"""Energies of Sigma5 [001](210) tilt grain boundaries in fcc Cu over a grid of candidates.

Every candidate is a real calculation: the bicrystal of
:func:`mi_widgets.bayesopt.grain_boundary.build_grain_boundary` (two mirror grains of
40 atoms, 8.03 x 3.59 A boundary, two boundaries in the periodic cell) with the upper
grain translated by ``(tx, ty)`` in the boundary plane and opened by ``tz``, atoms of the
upper grain closer than ``removal_cutoff`` to the lower grain removed, then relaxed with
ASE's EMT potential (L-BFGS, fmax 0.05 eV/A, at most 100 steps, the grain centres
fixed). Output: the boundary energy ``(E - N e_bulk) / (2 A)`` in J/m^2 per candidate
(CSV), the lowest-energy structure (extended XYZ) and a small example table for the
lab's "your own data" (the tz = 0, no-removal slice with a few energies filled in).

The grid: tx in [0, 8.03) A (16 steps), ty in [0, a/2) = [0, 1.79) A (5 steps;
(tx + 4.01, ty + 1.79) is a lattice translation of both grains, so this covers every
distinct translation), tz in {-0.3, 0, 0.3, 0.6} A, removal cut-off in {0, 1.6, 2.1} A
(0 = keep every atom): 960 candidates. When a cut-off removes no atom the structure
is the cut-off-0 one and its relaxed energy is reused (no random numbers anywhere:
the run is deterministic).

Usage: ``nice -n 10 python scripts/make_grain_boundary.py`` (about 3 CPU minutes);
``--small --out DIR`` for an 8-candidate test run (rows of the full grid).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from ase.io import write

from mi_widgets.bayesopt.grain_boundary import (
    CU_EMT_LATTICE,
    build_grain_boundary,
    grain_boundary_energy,
)

ROOT = Path(__file__).resolve().parents[1]
CSV_NAME = "grain_boundary_cu_sigma5.csv"
XYZ_NAME = "grain_boundary_cu_sigma5_best.extxyz"
EXAMPLE_NAME = "bo_example_table.csv"
COLUMNS = [
    "tx_A",
    "ty_A",
    "tz_A",
    "removal_cutoff_A",
    "n_atoms",
    "n_removed",
    "energy_J_m2",
    "total_energy_eV",
    "max_force_eV_A",
    "steps",
]


def grid(small: bool = False) -> list[tuple[float, float, float, float]]:
    """The candidate translations and cut-offs, in the CSV's row order."""
    lx = np.sqrt(5.0) * CU_EMT_LATTICE
    txs = np.linspace(0, lx, 16, endpoint=False)
    tys = np.linspace(0, CU_EMT_LATTICE / 2, 5, endpoint=False)
    tzs, cuts = [-0.3, 0.0, 0.3, 0.6], [0.0, 1.6, 2.1]
    if small:  # a subset of the full grid, so a test can compare rows
        txs, tys, tzs, cuts = txs[[0, 4]], tys[[0, 2]], [0.0], [0.0, 2.1]
    return [
        (float(a), float(b), float(c), float(d))
        for a in txs
        for b in tys
        for c in tzs
        for d in cuts
    ]


def write_example_table(full_csv: Path, out: Path) -> None:
    """A small "your own data" table: the tz = 0, no-removal slice, a few values filled in.

    Columns ``tx_A, ty_A, energy_J_m2``; every other energy is left empty (not measured),
    as a user's table of candidates would be.
    """
    with full_csv.open() as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if float(r["tz_A"]) == 0.0 and float(r["removal_cutoff_A"]) == 0.0
        ]
    measured = set(range(0, len(rows), max(1, len(rows) // 6)))
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["tx_A", "ty_A", "energy_J_m2"])
        for k, r in enumerate(rows):
            writer.writerow([r["tx_A"], r["ty_A"], r["energy_J_m2"] if k in measured else ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="8 candidates (a test run)")
    parser.add_argument("--out", type=Path, default=ROOT / "data", help="output folder")
    parser.add_argument(
        "--example-only",
        action="store_true",
        help=f"only rewrite {EXAMPLE_NAME} from the existing {CSV_NAME}",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.example_only:
        write_example_table(args.out / CSV_NAME, args.out / EXAMPLE_NAME)
        return
    rows, best, done = [], None, {}
    start = time.process_time()
    candidates = grid(args.small)
    for k, (tx, ty, tz, cut) in enumerate(candidates):
        atoms = build_grain_boundary(tx, ty, tz, cut)
        key = (tx, ty, tz, len(atoms))
        if atoms.info["n_removed"] == 0 and key in done:
            result = done[key]  # the same structure as without a cut-off
        else:
            result = grain_boundary_energy(atoms)
            done.setdefault(key, result)
        rows.append(
            [
                f"{tx:.4f}",
                f"{ty:.4f}",
                f"{tz:.2f}",
                f"{cut:.1f}",
                result.n_atoms,
                atoms.info["n_removed"],
                f"{result.energy:.6f}",
                f"{result.total_energy:.6f}",
                f"{result.max_force:.4f}",
                result.steps,
            ]
        )
        if best is None or result.energy < best.energy:
            best = result
        if k % 50 == 0:
            print(f"{k}/{len(candidates)} candidates, {time.process_time() - start:.0f} CPU s")
    with (args.out / CSV_NAME).open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    atoms = best.atoms.copy()
    atoms.calc = None
    atoms.info = {key: value for key, value in atoms.info.items() if key != "n_removed"}
    atoms.info.update(energy_J_m2=round(best.energy, 6), n_removed=best.n_removed)
    write(args.out / XYZ_NAME, atoms, format="extxyz")
    write_example_table(args.out / CSV_NAME, args.out / EXAMPLE_NAME)
    energies = np.array([float(r[6]) for r in rows])
    print(
        f"{len(rows)} candidates, {len(done)} relaxations, "
        f"{time.process_time() - start:.0f} CPU s; gamma {energies.min():.4f} to "
        f"{energies.max():.4f} J/m^2, optimum at row {int(energies.argmin())}"
    )


if __name__ == "__main__":
    main()
