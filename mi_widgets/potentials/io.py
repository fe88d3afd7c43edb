"""Training frames from extended XYZ files (paths or uploaded bytes), validated."""

from __future__ import annotations

from pathlib import Path

from ase import Atoms

from mi_widgets._errors import MIInputError
from mi_widgets.potentials.base import _reference_labels
from mi_widgets.structure.io import read_frames

__all__ = ["read_training_frames"]


def read_training_frames(
    source: str | Path | bytes, *, filename: str | None = None, need_forces: bool = True
) -> list[Atoms]:
    """Read labelled frames (energy, and forces unless ``need_forces`` is False).

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        An extended XYZ file, or its bytes (an upload).
    filename : str, optional
        The upload's name (used in messages).
    need_forces : bool, default True
        Refuse frames without forces.

    Returns
    -------
    list of ase.Atoms
        Frames whose ``get_potential_energy()`` (and ``get_forces()``) return the labels.

    Raises
    ------
    MIInputError
        If the file is not extended XYZ, or a frame lacks its energy or forces.

    Examples
    --------
    >>> text = b'1\\nLattice="3 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3:forces:R:3 '
    >>> text += b'energy=-1.5 pbc="T T T"\\nCu 0 0 0 0 0 0\\n'
    >>> float(read_training_frames(text, filename="cu.extxyz")[0].get_potential_energy())
    -1.5
    """
    try:
        frames = read_frames(source, filename=filename, format="extxyz")
    except MIInputError as error:
        name = filename or (source if not isinstance(source, (bytes, bytearray)) else "upload")
        raise MIInputError(
            f"{name} could not be read as extended XYZ with energies and forces ({error})"
        ) from None
    for index, atoms in enumerate(frames):
        _reference_labels(atoms, index, need_forces)
    return frames
