"""Reading a user's structure file safely, and the built-in example crystals."""

from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk

from mi_widgets._errors import MIInputError

__all__ = [
    "BUILTIN_CRYSTALS",
    "builtin_crystal",
    "read_frames",
    "read_structure",
    "require_cell",
    "validate_atoms",
]

#: Formats accepted from users: text formats ASE parses without pickle or eval.
ALLOWED_FORMATS = {
    ".cif": "cif",
    ".xyz": "extxyz",
    ".extxyz": "extxyz",
    ".vasp": "vasp",
    ".poscar": "vasp",
    ".pdb": "proteindatabank",
    ".xsf": "xsf",
    ".pwi": "espresso-in",
    ".in": "espresso-in",
}
_VASP_NAMES = ("POSCAR", "CONTCAR")

#: Built-in crystals: name -> (ase.build.bulk arguments), lattice constants in Å
#: (room-temperature experimental values, Kittel, Introduction to Solid State Physics).
BUILTIN_CRYSTALS: dict[str, dict] = {
    "Cu (fcc)": {"name": "Cu", "crystalstructure": "fcc", "a": 3.615, "cubic": True},
    "Fe (bcc)": {"name": "Fe", "crystalstructure": "bcc", "a": 2.866, "cubic": True},
    "Mg (hcp)": {"name": "Mg", "crystalstructure": "hcp", "a": 3.209, "c": 5.211},
    "Si (diamond)": {"name": "Si", "crystalstructure": "diamond", "a": 5.431, "cubic": True},
    "NaCl (rocksalt)": {"name": "NaCl", "crystalstructure": "rocksalt", "a": 5.640, "cubic": True},
    "LiI (rocksalt)": {"name": "LiI", "crystalstructure": "rocksalt", "a": 6.000, "cubic": True},
    "CsCl (B2)": {"name": "CsCl", "crystalstructure": "cesiumchloride", "a": 4.123},
    "ZnO (wurtzite)": {"name": "ZnO", "crystalstructure": "wurtzite", "a": 3.250, "c": 5.207},
}


def builtin_crystal(name: str) -> Atoms:
    """Build one of the example crystals in :data:`BUILTIN_CRYSTALS`.

    Examples
    --------
    >>> len(builtin_crystal("Si (diamond)"))
    8
    """
    if name not in BUILTIN_CRYSTALS:
        listed = ", ".join(BUILTIN_CRYSTALS)
        raise MIInputError(f"Unknown crystal {name!r}; choose one of {listed}.")
    atoms = bulk(**BUILTIN_CRYSTALS[name])
    atoms.info["source"] = name
    return atoms


def _format_for(filename: str, format: str | None) -> str:
    if format is not None:
        if format not in set(ALLOWED_FORMATS.values()):
            allowed = ", ".join(sorted(set(ALLOWED_FORMATS.values())))
            raise MIInputError(f"Format {format!r} is not accepted; use one of {allowed}.")
        return format
    path = Path(filename)
    if path.name.upper().startswith(_VASP_NAMES):
        return "vasp"
    suffix = path.suffix.lower()
    if suffix not in ALLOWED_FORMATS:
        kinds = ", ".join(sorted(ALLOWED_FORMATS))
        raise MIInputError(
            f"Cannot tell the format of {path.name!r}; name it with one of {kinds} "
            "(or POSCAR / CONTCAR)."
        )
    return ALLOWED_FORMATS[suffix]


def validate_atoms(atoms: Atoms, name: str = "structure") -> Atoms:
    """Check that a structure has atoms and finite positions.

    Examples
    --------
    >>> validate_atoms(Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])).get_chemical_formula()
    'H2'
    """
    if len(atoms) == 0:
        raise MIInputError(f"{name} contains no atoms.")
    positions = atoms.get_positions()
    if not np.all(np.isfinite(positions)):
        first = int(np.flatnonzero(~np.isfinite(positions).all(axis=1))[0])
        raise MIInputError(f"{name} has a NaN or infinite position at atom {first}.")
    return atoms


def require_cell(atoms: Atoms, name: str = "structure") -> Atoms:
    """Check that a structure has a periodic cell of non-zero volume.

    Examples
    --------
    >>> require_cell(Atoms("H"))
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: structure has no periodic cell; ...
    """
    if not atoms.pbc.any() or atoms.cell.rank < 3 or abs(atoms.cell.volume) < 1e-9:
        raise MIInputError(
            f"{name} has no periodic cell; this needs a crystal or a periodic box "
            "(a CIF, POSCAR or extended XYZ with a Lattice)."
        )
    return atoms


def read_frames(
    source: str | Path | bytes, *, filename: str | None = None, format: str | None = None
) -> list[Atoms]:
    """Read every frame of a structure file (path or uploaded bytes), validated.

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        A path, or the bytes of an uploaded file.
    filename : str, optional
        The file's name, used to tell its format when ``source`` is bytes.
    format : str, optional
        An ASE format name from the accepted text formats (cif, extxyz, vasp,
        proteindatabank, xsf, espresso-in); guessed from the name when omitted.

    Returns
    -------
    list of ase.Atoms

    Raises
    ------
    MIInputError
        If the format is not accepted or the file cannot be read as a structure.

    Examples
    --------
    >>> text = b"1\\nLattice=\\"3 0 0 0 3 0 0 0 3\\" Properties=species:S:1:pos:R:3\\nCu 0 0 0\\n"
    >>> read_frames(text, filename="cu.xyz")[0].get_chemical_formula()
    'Cu'
    """
    if isinstance(source, (bytes, bytearray)):
        name = filename or "upload"
        data = bytes(source)
    else:
        name = filename or Path(source).name
        data = Path(source).read_bytes()
    if not data.strip():
        raise MIInputError(f"{name} is empty; choose a file with a structure in it.")
    fmt = _format_for(name, format)
    frames = _parse(data, name, fmt)
    return [validate_atoms(atoms, name) for atoms in frames]


def _parse(data: bytes, name: str, fmt: str) -> list[Atoms]:
    from ase.io import read

    suffix = Path(name).suffix or ".txt"
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ASE warns on CIF details; errors are what we report
        handle.write(data)
        handle.flush()
        try:
            frames = read(handle.name, index=":", format=fmt)
        except Exception as error:  # ASE raises many types for malformed text
            reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
            detail = f" ({type(error).__name__}: {reason})" if reason else ""
            raise MIInputError(
                f"{name} could not be read as {fmt}{detail}; check that it is a valid {fmt} file."
            ) from None
    frames = frames if isinstance(frames, list) else [frames]
    if not frames:
        raise MIInputError(f"{name} contains no structure; check that it is a valid {fmt} file.")
    return frames


def read_structure(
    source: str | Path | bytes,
    *,
    filename: str | None = None,
    format: str | None = None,
    index: int = -1,
) -> Atoms:
    """Read one structure (by default the last frame) from a path or uploaded bytes.

    See :func:`read_frames` for the parameters; ``index`` picks the frame.

    Examples
    --------
    >>> import io
    >>> from ase.io import write
    >>> buffer = io.StringIO(); write(buffer, builtin_crystal("Cu (fcc)"), format="extxyz")
    >>> len(read_structure(buffer.getvalue().encode(), filename="cu.xyz"))
    4
    """
    frames = read_frames(source, filename=filename, format=format)
    try:
        return frames[index]
    except IndexError:
        raise MIInputError(
            f"index {index} is out of range; the file has {len(frames)} frames."
        ) from None


def structure_to_text(atoms: Atoms, format: str) -> str:
    """Write a structure as text in ``format`` ("cif" or "extxyz"), for downloads.

    Examples
    --------
    >>> structure_to_text(builtin_crystal("Cu (fcc)"), "extxyz").splitlines()[0]
    '4'
    """
    from ase.io import write

    buffer = io.StringIO()
    if format == "cif":
        # ASE's CIF writer wants a binary stream
        raw = io.BytesIO()
        write(raw, atoms, format="cif")
        return raw.getvalue().decode()
    write(buffer, atoms, format=format)
    return buffer.getvalue()
