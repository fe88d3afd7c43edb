"""Supercells and a short description of a structure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import make_supercell as ase_make_supercell
from ase.neighborlist import neighbor_list

from mi_widgets._errors import MIInputError, check_positive_int
from mi_widgets.structure.io import require_cell, validate_atoms
from mi_widgets.structure.rdf import nearest_neighbor_distance

__all__ = [
    "MAX_SUPERCELL_ATOMS",
    "StructureSummary",
    "describe_structure",
    "first_shell_cutoff",
    "supercell",
]

#: The largest supercell the apps build (the 3D view and the RDF stay interactive).
MAX_SUPERCELL_ATOMS = 20_000
_AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660
#: Gaussian width given to each distance when looking for the first minimum of g(r),
#: as a fraction of the nearest-neighbour distance (thermal-vibration-like).
SHELL_SMEARING = 0.04
#: g(r) is searched for its first minimum up to this multiple of the nearest-neighbour distance.
_SHELL_SEARCH_RANGE = 2.5


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


def first_shell_cutoff(atoms: Atoms, *, smearing: float = SHELL_SMEARING) -> float:
    """The bond cut-off of a structure: the first minimum of its g(r) after the first peak (Å).

    Every pair distance up to 2.5 nearest-neighbour distances ``d_nn`` is smeared
    by a Gaussian of width ``smearing * d_nn``; ``g(r)`` is proportional to
    ``n(r) / r^2``. The cut-off is the first local minimum after the first peak;
    where ``g`` is (numerically) zero over a range, as between the shells of a
    perfect crystal, it is the middle of that range. Counting neighbours within
    it gives the coordination a chemist expects, also where the second shell is
    close: 8 in CsCl and bcc Fe (second shell at 1.155 ``d_nn``), 12 in hcp Mg
    (two sub-shells 0.6 % apart), 4 in wurtzite ZnO.

    Parameters
    ----------
    atoms : ase.Atoms
        A periodic structure (a unit cell is enough).
    smearing : float, default 0.04
        Width of each distance, relative to ``d_nn``.

    Returns
    -------
    float
        The cut-off in Å. Without a minimum in range (very disordered
        structures), ``1.2 * d_nn``.

    Raises
    ------
    MIInputError
        For structures without a periodic cell or with a non-positive ``smearing``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from mi_widgets.structure.rdf import coordination_numbers
    >>> cscl = bulk("CsCl", "cesiumchloride", a=4.123)
    >>> coordination_numbers(cscl, first_shell_cutoff(cscl)).tolist()
    [8, 8]
    """
    if not (np.isfinite(smearing) and smearing > 0):
        raise MIInputError(f"smearing must be a positive fraction; got {smearing!r}.")
    d_nn = nearest_neighbor_distance(atoms)  # also validates the structure and its cell
    width = smearing * d_nn
    r_max = _SHELL_SEARCH_RANGE * d_nn
    distances = neighbor_list("d", atoms, r_max + 4 * width)
    distances = distances[distances > 1e-8]
    r = np.linspace(0.5 * d_nn, r_max, 1200)
    # a histogram on a fine grid, then smeared: cheap for any number of pairs
    step = r[1] - r[0]
    edges = np.append(r - step / 2, r[-1] + step / 2)
    counts, _ = np.histogram(distances, bins=edges)
    half = int(np.ceil(4 * width / step))
    offsets = np.arange(-half, half + 1) * step
    density = np.convolve(counts, np.exp(-0.5 * (offsets / width) ** 2), mode="same")
    g = density / r**2
    peak = int(np.argmax(g >= 0.5 * g.max()))  # the first shell: first point near the top
    while peak + 1 < len(g) and g[peak + 1] >= g[peak]:
        peak += 1
    low = peak
    while low + 1 < len(g) and g[low + 1] < g[low]:
        low += 1
    if low + 1 >= len(g):
        return float(1.2 * d_nn)
    floor = g[low] + 1e-6 * g[peak]  # a flat (empty) gap counts as one minimum
    high = low
    while high + 1 < len(g) and g[high + 1] <= floor:
        high += 1
    start = low
    while start > peak and g[start - 1] <= floor:
        start -= 1
    return float(0.5 * (r[start] + r[high]))
