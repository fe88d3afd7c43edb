"""Compute the built-in phase diagrams of notebook 09 and write them to data/.

Physics: equilibrium phase assemblages from the lower convex hull of model Gibbs energies
(regular-solution liquid and solid solutions, intermediate compounds), see
``mi_widgets/active/thermo.py``. Deterministic (no random numbers).

Usage: ``python scripts/make_phase_diagrams.py [--out DIR] [--small]``
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from mi_widgets.active.io import write_phase_csv
from mi_widgets.active.thermo import BUILTIN_DIAGRAMS, builtin_diagram

ROOT = Path(__file__).resolve().parents[1]


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
    return written


if __name__ == "__main__":
    main()
