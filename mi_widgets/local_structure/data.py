"""Structures for lab 07: ideal lattices with random displacements, and the Cu MD data.

Two noise models blur a crystal: random (Gaussian, uncorrelated) displacements
of a perfect lattice, and thermal motion in molecular dynamics (correlated,
anharmonic). The classifier is trained on one and tested on the other to show
distribution shift. The MD frames come from ``scripts/make_local_structures.py``
(EMT copper; see ``data/README.md``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from ase import Atoms
from ase.build import bulk

from mi_widgets._errors import MIInputError, check_choice
from mi_widgets._resources import data_path
from mi_widgets.structure.io import read_frames

__all__ = [
    "CRYSTAL_CLASSES",
    "LOCAL_STRUCTURE_CLASSES",
    "displaced_lattice",
    "load_local_structures",
    "local_structures_path",
]

#: The classes of lab 07, in the order of the palette.
LOCAL_STRUCTURE_CLASSES = ("fcc", "hcp", "bcc", "liquid")
#: The crystal classes :func:`displaced_lattice` builds.
CRYSTAL_CLASSES = ("fcc", "hcp", "bcc")

_D = 2.55  # nearest-neighbour distance of the generated lattices, Angstrom (copper)


def _ideal(phase: str, n_atoms: int) -> Atoms:
    if phase == "fcc":
        cell, per = bulk("Cu", "fcc", a=_D * np.sqrt(2.0), cubic=True), 4
    elif phase == "hcp":
        cell = bulk("Cu", "hcp", a=_D, c=_D * np.sqrt(8.0 / 3.0), orthorhombic=True)
        per = 4
    else:
        cell, per = bulk("Cu", "bcc", a=2.0 * _D / np.sqrt(3.0), cubic=True), 2
    m = max(2, round((n_atoms / per) ** (1.0 / 3.0)))
    return cell.repeat((m, m, m))


def displaced_lattice(
    phase: str, amplitude: float, *, n_atoms: int = 500, random_state: int | None = None
) -> Atoms:
    """A perfect fcc, hcp or bcc lattice with Gaussian random displacements.

    Parameters
    ----------
    phase : {"fcc", "hcp", "bcc"}
    amplitude : float
        Root-mean-square displacement in units of the nearest-neighbour distance
        (a Lindemann-like ratio; crystals melt near 0.1-0.15).
    n_atoms : int, default 500
        About how many atoms (whole unit cells).
    random_state : int or None

    Returns
    -------
    ase.Atoms
        With the true class in ``atoms.arrays["structure_class"]``.

    Examples
    --------
    >>> atoms = displaced_lattice("bcc", 0.05, n_atoms=128, random_state=0)
    >>> len(atoms), str(atoms.arrays["structure_class"][0])
    (128, 'bcc')
    """
    check_choice(phase, "phase", CRYSTAL_CLASSES)
    if not 0.0 <= float(amplitude) <= 0.5:
        raise MIInputError(
            f"amplitude must lie in [0, 0.5] nearest-neighbour distances; got {amplitude}."
        )
    atoms = _ideal(phase, int(n_atoms))
    rng = np.random.default_rng(random_state)
    sigma = float(amplitude) * _D / np.sqrt(3.0)  # per Cartesian component
    atoms.positions += rng.normal(0.0, sigma, atoms.positions.shape)
    atoms.arrays["structure_class"] = np.array([phase] * len(atoms))
    return atoms


def local_structures_path():
    """Path of ``data/local_structures_cu.extxyz``."""
    return data_path("local_structures_cu.extxyz")


def load_local_structures(phase: str | None = None, element: str | None = "Cu") -> list[Atoms]:
    """The EMT MD frames of lab 07, optionally only one ``phase`` or ``element``.

    Each frame has ``phase`` ("fcc", "hcp", "bcc", "liquid", "interface"),
    ``temperature_K`` and ``element`` in ``atoms.info`` and the true class of every
    atom in ``atoms.arrays["structure_class"]``.

    Raises
    ------
    MIInputError
        If no frame has that ``phase`` or ``element``.

    Examples
    --------
    >>> frames = load_local_structures("bcc")
    >>> sorted({float(f.info["temperature_K"]) for f in frames})
    [300.0, 600.0, 900.0, 1100.0]
    """
    path = local_structures_path()
    frames = _read_cached(str(path), path.stat().st_mtime_ns)
    for key, wanted in (("phase", phase), ("element", element)):
        if wanted is not None:
            check_choice(wanted, key, sorted({str(f.info.get(key)) for f in frames}))
    return [
        f.copy()
        for f in frames
        if (phase is None or f.info.get("phase") == phase)
        and (element is None or f.info.get("element") == element)
    ]


@lru_cache(maxsize=1)
def _read_cached(path: str, mtime_ns: int) -> tuple[Atoms, ...]:
    """The file's frames, read once per process (callers get copies)."""
    return tuple(read_frames(path))
