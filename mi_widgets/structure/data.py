"""Read MD trajectories safely (user files and uploads) and load the Si MD data of lab 08.

:func:`read_trajectory` reads anything ASE can read (extended XYZ, LAMMPS
dump, ASE .traj, CIF, POSCAR, ...), from a path or from the bytes of an
upload, and checks every frame: at least one atom, finite positions, a
periodic cell (descriptors of an MD box need one). Every failure is one
:class:`~mi_widgets._errors.MIInputError` sentence. For single structures in
the text formats of lab 01 use :func:`mi_widgets.structure.io.read_structure`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import ase.io
from ase import Atoms

from mi_widgets._errors import MIInputError, check_choice
from mi_widgets._reference import REPO_ROOT
from mi_widgets.structure._neighbors import check_atoms

__all__ = ["SI_MD_KINDS", "load_si_md", "read_frames", "read_trajectory", "si_md_path"]

#: The files written by ``scripts/make_si_md.py``: the phase and thermostat temperature.
SI_MD_KINDS = ("crystal_300K", "crystal_1600K", "liquid_2000K", "amorphous_300K", "quench")

DATA_DIR = REPO_ROOT / "data"

# ASE's Python-script format is never read from user files
_REFUSED_FORMATS = {"py"}


def read_trajectory(
    source: str | os.PathLike | bytes,
    *,
    filename: str | None = None,
    format: str | None = None,
    index: int | str = ":",
) -> list[Atoms]:
    """Read every frame of an MD trajectory (or ``index``) and check each one.

    Parameters
    ----------
    source : str, path-like or bytes
        A file path, or the content of an uploaded file.
    filename : str, optional
        The file name; with bytes it lets ASE guess the format from the
        extension (``"run.extxyz"``, ``"dump.lammpstrj"``) and names the file
        in errors.
    format : str, optional
        An ASE format name (``"extxyz"``, ``"lammps-dump-text"``, ``"traj"``,
        ``"vasp-xdatcar"``) when the name does not tell.
    index : int or str, default ":"
        An ASE index: ``":"`` for all frames, ``-1`` for the last, ``"::10"``.

    Returns
    -------
    list of ase.Atoms
        Frames with finite positions and a periodic cell.

    Raises
    ------
    MIInputError
        If the file does not exist, is not a structure ASE can read, holds no
        atoms, has NaN positions or has no periodic cell.

    Examples
    --------
    >>> frames = read_trajectory(b"1\\nLattice=\\"5 0 0 0 5 0 0 0 5\\"\\nSi 0 0 0\\n",
    ...                          filename="one.extxyz")
    >>> len(frames), frames[0].cell.lengths().tolist()
    (1, [5.0, 5.0, 5.0])
    """
    if format is not None and format in _REFUSED_FORMATS:
        raise MIInputError(f"format {format!r} is not allowed for files; save as extended XYZ.")
    if isinstance(source, (bytes, bytearray)):
        name = Path(filename or "upload").name
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(bytes(source))
            frames = _read(path, name, format, index)
    else:
        path = Path(source)
        name = filename or path.name
        if not path.is_file():
            raise MIInputError(f"{name} does not exist or is not a file; check the path.")
        frames = _read(path, name, format, index)
    for number, atoms in enumerate(frames):
        where = name if len(frames) == 1 else f"{name} (frame {number})"
        check_atoms(atoms, where)
        if atoms.cell.rank < 3 or not atoms.pbc.any():
            raise MIInputError(
                f"{where} has no periodic cell; save it with its simulation box "
                "(extended XYZ Lattice=..., CIF, POSCAR) or set atoms.cell and atoms.pbc."
            )
    return frames


def _read(path: Path, name: str, format: str | None, index: int | str) -> list[Atoms]:
    try:
        frames = ase.io.read(path, index=index, format=format)
    except Exception as error:  # any parser failure of a user file is bad input
        text = str(error).replace(str(path), name)
        reason = text.splitlines()[0][:120] if text else type(error).__name__
        raise MIInputError(
            f"{name} is not a structure file ASE can read ({reason}); "
            "give extended XYZ, CIF, POSCAR or another ASE format, or set format=."
        ) from None
    frames = frames if isinstance(frames, list) else [frames]
    if not frames or not all(isinstance(a, Atoms) for a in frames):
        raise MIInputError(f"{name} holds no structure; give a file with atoms in it.")
    return frames


#: Older name of :func:`read_trajectory` (used by ``mi_widgets.embedding.widgets``).
read_frames = read_trajectory


def si_md_path(kind: str) -> Path:
    """Path of one Si MD file in ``data/`` (see :data:`SI_MD_KINDS`).

    Examples
    --------
    >>> si_md_path("quench").name
    'si_md_quench.extxyz'
    """
    check_choice(kind, "kind", SI_MD_KINDS)
    return DATA_DIR / f"si_md_{kind}.extxyz"


def load_si_md(kind: str) -> list[Atoms]:
    """Frames of the Stillinger-Weber Si molecular dynamics (216 atoms each).

    Parameters
    ----------
    kind : str
        ``"crystal_300K"``, ``"crystal_1600K"`` (near the SW melting point,
        about 1690 K), ``"liquid_2000K"``, ``"amorphous_300K"`` (melt-quenched)
        or ``"quench"`` (frames every 100 K while cooling 2000 K -> 300 K at
        5e13 K/s).

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
        If ``kind`` is not one of :data:`SI_MD_KINDS`.
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
