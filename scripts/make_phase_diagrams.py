"""Compute the built-in phase diagrams of notebook 09 and write them to data/.

Physics: equilibrium phase assemblages from the lower convex hull of model Gibbs energies
(regular-solution liquid and solid solutions, intermediate compounds), see
``mi_widgets/active/thermo.py``. The diagrams are deterministic (no random numbers).

Also writes ``phase_observations_example.csv``, the "your own data" example of the
notebook: a coarse eutectic grid (11 compositions x 10 temperatures) on which only
``EXAMPLE_MEASURED`` candidates, drawn with seed ``EXAMPLE_SEED``, carry their phase; the
other rows are empty (not measured yet), as in a user's file.

Usage: ``python scripts/make_phase_diagrams.py [--out DIR] [--small]``
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from mi_widgets.active.design import initial_design
from mi_widgets.active.io import PhaseObservations, write_phase_csv
from mi_widgets.active.thermo import BUILTIN_DIAGRAMS, builtin_diagram

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SEED = 20261201
EXAMPLE_MEASURED = 8


def example_observations() -> PhaseObservations:
    """A coarse eutectic grid with a few measured phases and the rest unmeasured."""
    diagram = builtin_diagram("eutectic", n_x=11, n_t=10)
    measured = initial_design(diagram.labels, EXAMPLE_MEASURED, random_state=EXAMPLE_SEED)
    labels = np.full(len(diagram.labels), None, dtype=object)
    labels[measured] = diagram.labels[measured]
    return PhaseObservations(
        "phase_observations_example",
        diagram.coordinates,
        labels,
        diagram.columns,
        diagram.kind,
        f"{EXAMPLE_MEASURED} of {len(labels)} candidates measured",
    )


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data")
    parser.add_argument("--small", action="store_true", help="coarse grids (for tests)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    grid = {"n_x": 21, "n_t": 11, "steps": 20} if args.small else {}
    written = []
    for name in BUILTIN_DIAGRAMS:
        diagram = builtin_diagram(name, **grid)
        path = args.out / f"phase_diagram_{name}.csv"
        write_phase_csv(path, diagram)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(
            f"{path.name}: {len(diagram.labels)} points, {len(set(diagram.labels))} labels, "
            f"sha256 {digest}"
        )
        written.append(path)
    path = args.out / "phase_observations_example.csv"
    write_phase_csv(path, example_observations())
    print(f"{path.name}: sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")
    written.append(path)
    return written


if __name__ == "__main__":
    main()
