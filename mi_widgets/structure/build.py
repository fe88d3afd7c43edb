"""Supercells and a short description of a structure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import make_supercell as ase_make_supercell

from mi_widgets._errors import MIInputError, check_positive_int
from mi_widgets.structure.io import require_cell, validate_atoms

__all__ = ["MAX_SUPERCELL_ATOMS", "StructureSummary", "describe_structure", "supercell"]

#: The largest supercell the apps build (the 3D view and the RDF stay interactive).
MAX_SUPERCELL_ATOMS = 20_000
_AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660


def supercell(atoms: Atoms, repeat: tuple[int, int, int]) -> Atoms:
    """Repeat a periodic structure ``nx x ny x nz`` times (``ase.build.make_supercell``).

    Parameters
    ----------
    atoms : ase.Atoms
        A structure with a periodic cell.
    repeat : (int, int, int)
        Repetitions along the three cell vectors, each 1 to 20.

    Returns
    -------
    ase.Atoms

    Raises
    ------
    MIInputError
        If a repetition is not a whole number from 1 to 20, or the result would
        exceed :data:`MAX_SUPERCELL_ATOMS` atoms.

    Examples
    --------
    >>> from ase.build import bulk
    >>> len(supercell(bulk("Cu", "fcc", a=3.6, cubic=True), (3, 3, 3)))
    108
    """
    validate_atoms(atoms)
    require_cell(atoms)
    if len(repeat) != 3:
        raise MIInputError(f"repeat needs three numbers (nx, ny, nz); got {repeat!r}.")
    counts = [check_positive_int(n, "each repetition", maximum=20) for n in repeat]
    total = len(atoms) * int(np.prod(counts))
    if total > MAX_SUPERCELL_ATOMS:
        raise MIInputError(
            f"A {counts[0]}x{counts[1]}x{counts[2]} supercell would have {total} atoms; "
            f"the limit is {MAX_SUPERCELL_ATOMS}. Choose fewer repetitions."
        )
    result = ase_make_supercell(atoms, np.diag(counts))
    result.info = dict(atoms.info)
    return result


@dataclass(frozen=True)
class StructureSummary:
    """What a structure is, in numbers (lengths in Å, angles in degrees)."""

    formula: str
    n_atoms: int
    cell_lengths: tuple[float, float, float]
    cell_angles: tuple[float, float, float]
    volume: float
    density: float  # g/cm^3


def describe_structure(atoms: Atoms) -> StructureSummary:
    """Formula, size, cell parameters, volume (Å^3) and mass density (g/cm^3).

    Examples
    --------
    >>> from ase.build import bulk
    >>> round(describe_structure(bulk("Si", "diamond", a=5.431)).density, 3)
    2.329
    """
    validate_atoms(atoms)
    require_cell(atoms)
    cellpar = atoms.cell.cellpar()
    volume = float(atoms.get_volume())
    density = float(atoms.get_masses().sum() / volume * _AMU_PER_A3_TO_G_PER_CM3)
    return StructureSummary(
        formula=atoms.get_chemical_formula(mode="metal"),
        n_atoms=len(atoms),
        cell_lengths=tuple(float(v) for v in cellpar[:3]),
        cell_angles=tuple(float(v) for v in cellpar[3:]),
        volume=volume,
        density=density,
    )
