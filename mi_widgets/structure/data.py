"""Read MD trajectories safely (user files and uploads) and load the Si MD data of lab 08.

:func:`read_trajectory` reads the text formats that
:func:`mi_widgets.structure.io.read_frames` accepts (extended XYZ, LAMMPS text
dump, XDATCAR, CIF, POSCAR, ...; never pickle-based files such as old ASE .traj),
from a path or from the bytes of an upload, and checks every frame: at least one
atom, finite positions, a periodic cell (descriptors of an MD box need one). Every
failure is one :class:`~mi_widgets._errors.MIInputError` sentence.
"""

from __future__ import annotations

import os
from pathlib import Path

from ase import Atoms

from mi_widgets._errors import MIInputError, check_choice
from mi_widgets._resources import data_dir
from mi_widgets.structure.io import read_frames

__all__ = ["SI_MD_KINDS", "load_si_md", "read_trajectory", "si_md_path"]

#: The files written by ``scripts/make_si_md.py``: the phase and thermostat temperature.
SI_MD_KINDS = ("crystal_300K", "crystal_1600K", "liquid_2000K", "amorphous_300K", "quench")
#: Amorphous Si from Vink's refitted SW, quenched 5x slower (scripts/make_si_amorphous_vink.py).
SI_AMORPHOUS_VINK = "amorphous_vink_300K"

DATA_DIR = data_dir()


def read_trajectory(
    source: str | os.PathLike | bytes,
    *,
    filename: str | None = None,
    format: str | None = None,
    index: int | str = ":",
) -> list[Atoms]:
    """Read every frame of an MD trajectory (or ``index``) and check each has a periodic cell.

    Reading is :func:`mi_widgets.structure.io.read_frames` (text formats only, no
    pickle: extended XYZ, LAMMPS text dump, XDATCAR, CIF, POSCAR, ...); descriptors
    of an MD box also need its cell, which this checks per frame.

    Parameters
    ----------
    source : str, path-like or bytes
        A file path, or the content of an uploaded file.
    filename : str, optional
        The file name; with bytes it tells the format from the extension
        (``"run.extxyz"``, ``"dump.lammpstrj"``) and names the file in errors.
    format : str, optional
        An accepted ASE format name when the name does not tell.
    index : int or str, default ":"
        An ASE index: ``":"`` for all frames, ``-1`` for the last, ``"::10"``.

    Returns
    -------
    list of ase.Atoms
        Frames with finite positions and a periodic cell.

    Raises
    ------
    MIInputError
        If the file does not exist, is not a structure in an accepted format,
        holds no atoms, has NaN positions or has no periodic cell.

    Examples
    --------
    >>> frames = read_trajectory(b"1\\nLattice=\\"5 0 0 0 5 0 0 0 5\\"\\nSi 0 0 0\\n",
    ...                          filename="one.extxyz")
    >>> len(frames), frames[0].cell.lengths().tolist()
    (1, [5.0, 5.0, 5.0])
    """
    name = Path(filename or (source if not isinstance(source, (bytes, bytearray)) else "upload"))
    frames = read_frames(source, filename=filename, format=format, index=index)
    for number, atoms in enumerate(frames):
        where = name.name if len(frames) == 1 else f"{name.name} (frame {number})"
        if atoms.cell.rank < 3 or not atoms.pbc.any():
            raise MIInputError(
                f"{where} has no periodic cell; save it with its simulation box "
                "(extended XYZ Lattice=..., CIF, POSCAR) or set atoms.cell and atoms.pbc."
            )
    return frames


def si_md_path(kind: str) -> Path:
    """Path of one Si MD file in ``data/`` (see :data:`SI_MD_KINDS`).

    Examples
    --------
    >>> si_md_path("quench").name
    'si_md_quench.extxyz'
    """
    check_choice(kind, "kind", (*SI_MD_KINDS, SI_AMORPHOUS_VINK))
    return DATA_DIR / f"si_md_{kind}.extxyz"


def load_si_md(kind: str) -> list[Atoms]:
    """Frames of the Stillinger-Weber Si molecular dynamics (216 atoms each).

    Parameters
    ----------
    kind : str
        ``"crystal_300K"``, ``"crystal_1600K"`` (near the SW melting point,
        about 1690 K), ``"liquid_2000K"``, ``"amorphous_300K"`` (melt-quenched;
        an over-coordinated SW glass, mean coordination 4.5), ``"quench"``
        (frames every 100 K while cooling 2000 K -> 300 K at 5e13 K/s), or
        ``"amorphous_vink_300K"`` (Vink's SW refitted for a-Si, quenched at
        1e13 K/s: mean coordination 4.0, 95 % of atoms 4-fold; its energies are
        those of the refitted potential).

    Returns
    -------
    list of ase.Atoms
        Each frame with SW energy, forces and stress attached and
        ``info["phase"]``, ``info["temperature_K"]`` (thermostat),
        ``info["temperature_inst_K"]`` (kinetic); quench frames also carry
        ``info["time_ps"]`` and ``info["cooling_rate_K_per_s"]``.

    Raises
    ------
    MIInputError
        If ``kind`` is not one of :data:`SI_MD_KINDS` or ``"amorphous_vink_300K"``.
    FileNotFoundError
        If the data file is missing (regenerate with ``scripts/make_si_md.py``).

    Examples
    --------
    >>> frames = load_si_md("liquid_2000K")
    >>> len(frames[0]), frames[0].info["phase"]
    (216, 'liquid')
    """
    path = si_md_path(kind)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run `python scripts/make_si_md.py`.")
    frames = read_trajectory(path)
    for frame in frames:
        if frame.info.get("phase") not in {"crystal", "liquid", "amorphous", "quench"}:
            raise MIInputError(f"{path.name} lacks the phase label of its frames; regenerate it.")
    return frames
