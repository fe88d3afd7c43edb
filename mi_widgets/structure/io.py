"""Reading a user's structure file safely, and the built-in example crystals."""

from __future__ import annotations

import io
import itertools
import re
import tempfile
import warnings
from pathlib import Path

from ase import Atoms
from ase.build import bulk

from mi_widgets._errors import MIInputError, check_file, short_text
from mi_widgets._limits import MAX_FRAME_ATOMS, MAX_READ_ATOMS
from mi_widgets.structure._neighbors import check_atoms

__all__ = [
    "BUILTIN_CRYSTALS",
    "MAX_FRAME_ATOMS",
    "MAX_READ_ATOMS",
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
    ".lammpstrj": "lammps-dump-text",
    ".dump": "lammps-dump-text",
}
#: Files known by their name rather than an extension (VASP).
NAMED_FORMATS = {"POSCAR": "vasp", "CONTCAR": "vasp", "XDATCAR": "vasp-xdatcar"}

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
        raise MIInputError(f"Unknown crystal {str(name)[:40]!r}; choose one of {listed}.")
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
    for prefix, named_format in NAMED_FORMATS.items():
        if path.name.upper().startswith(prefix):
            return named_format
    suffix = path.suffix.lower()
    if suffix not in ALLOWED_FORMATS:
        kinds = ", ".join(sorted(ALLOWED_FORMATS))
        raise MIInputError(
            f"Cannot tell the format of {path.name!r}; name it with one of {kinds} "
            "(or POSCAR / CONTCAR / XDATCAR)."
        )
    return ALLOWED_FORMATS[suffix]


def validate_atoms(atoms: Atoms, name: str = "structure") -> Atoms:
    """Check that a structure has atoms, finite positions, and a cell where it is periodic.

    Examples
    --------
    >>> validate_atoms(Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])).get_chemical_formula()
    'H2'
    """
    return check_atoms(atoms, name)


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
    source: str | Path | bytes,
    *,
    filename: str | None = None,
    format: str | None = None,
    index: int | str = ":",
) -> list[Atoms]:
    """Read the frames of a structure file or trajectory (path or uploaded bytes), validated.

    Only text formats that ASE parses without ``pickle`` or ``eval`` are accepted
    (uploads reach this function), chosen by the file name: CIF, extended XYZ,
    POSCAR/CONTCAR, XDATCAR, PDB, XSF, Quantum ESPRESSO input and LAMMPS text dumps.

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        A path, or the bytes of an uploaded file.
    filename : str, optional
        The file's name, used to tell its format when ``source`` is bytes.
    format : str, optional
        One of the accepted ASE format names; guessed from the name when omitted.
    index : int or str, default ":"
        An ASE index: ``":"`` for all frames, ``-1`` for the last, ``"::10"``.

    Returns
    -------
    list of ase.Atoms

    Raises
    ------
    MIInputError
        If the file is missing or empty, its format is not accepted, or it cannot
        be read as a structure.

    Examples
    --------
    >>> text = b"1\\nLattice=\\"3 0 0 0 3 0 0 0 3\\" Properties=species:S:1:pos:R:3\\nCu 0 0 0\\n"
    >>> read_frames(text, filename="cu.xyz")[0].get_chemical_formula()
    'Cu'
    """
    if isinstance(source, (bytes, bytearray)):
        name = Path(filename or "upload").name
        data = bytes(source)
    else:
        path = Path(source)
        name = filename or path.name
        try:
            check_file(path)
        except MIInputError:
            raise MIInputError(
                f"{short_text(name, 120)} does not exist or is not a file; check the path."
            ) from None
        data = path.read_bytes()
    if not data.strip():
        raise MIInputError(f"{name} is empty; choose a file with a structure in it.")
    fmt = _format_for(name, format)
    check_claimed_atoms(data, name, fmt)
    frames = _parse(data, name, fmt, index)
    total = 0
    for k, atoms in enumerate(frames):
        total += len(atoms)
        if len(atoms) > MAX_FRAME_ATOMS or total > MAX_READ_ATOMS:
            raise _too_many(name, len(atoms) if len(atoms) > MAX_FRAME_ATOMS else total, k)
    return [validate_atoms(atoms, name) for atoms in frames]


def _too_many(name: str, count: int, frame: int | None = None) -> MIInputError:
    where = "" if frame is None else f" (frame {frame})"
    return MIInputError(
        f"{name} has {count:,} atoms{where}; the apps show at most {MAX_FRAME_ATOMS:,} atoms "
        f"per frame and read at most {MAX_READ_ATOMS:,} in all. Cut the structure or the "
        "trajectory down (e.g. every 10th frame) before uploading."
    )


def _int_or_none(text: bytes) -> int | None:
    try:
        return int(text.split()[0])
    except (IndexError, ValueError):
        return None


def check_claimed_atoms(data: bytes, name: str, fmt: str) -> None:
    """Refuse a file whose claimed atom counts do not fit in it, before any parser runs.

    XYZ frames, LAMMPS dumps, POSCAR/XDATCAR, XSF and Quantum ESPRESSO inputs state how
    many atoms follow; ASE believes them and loops over the claimed count (a 22-byte
    file claiming 10^9 atoms kept a kernel busy for an hour) or returns fewer atoms
    than claimed. Each claimed count must be at most the lines that follow and at
    most :data:`MAX_FRAME_ATOMS`; a LAMMPS dump must list exactly the atoms it claims.

    Raises
    ------
    MIInputError
        With one sentence naming the line, the claim and what the file holds.

    Examples
    --------
    >>> check_claimed_atoms(b"1000000000\\n\\nH 0 0 0\\n", "big.xyz", "extxyz")
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: big.xyz claims 1,000,000,000 atoms ...
    """
    lines = data.splitlines()
    if fmt == "extxyz":
        _check_xyz_counts(lines, name)
    elif fmt == "lammps-dump-text":
        _check_dump_counts(lines, name)
    elif fmt in ("vasp", "vasp-xdatcar"):
        _check_vasp_counts(lines, name)
    elif fmt == "xsf":
        for k, line in enumerate(lines[:-1]):
            if line.strip().upper().startswith(b"PRIMCOORD"):
                _check_claim(_int_or_none(lines[k + 1]), len(lines) - k - 2, name, k + 2)
    elif fmt == "cif":
        _check_cif_size(lines, name)
    elif fmt == "espresso-in":
        for k, line in enumerate(lines):
            match = re.search(rb"\bnat\s*=\s*(\d+)", line, flags=re.IGNORECASE)
            if match:
                _check_claim(int(match.group(1)), len(lines) - k - 1, name, k + 1)


def _check_cif_size(lines: list[bytes], name: str) -> None:
    """A CIF states no atom count: refuse one whose lines alone list more sites than fit.

    Each atom site takes at least one line, so a file with more data lines than
    :data:`MAX_READ_ATOMS` (plus room for its header) cannot be shown; ASE would parse
    all of it first (19 MB: about 8 s).
    """
    data_lines = sum(1 for line in lines if line.strip() and not line.lstrip().startswith(b"#"))
    if data_lines > MAX_READ_ATOMS + 1000:
        raise MIInputError(
            f"{name} has {data_lines:,} lines of data, more atom sites than the apps read "
            f"({MAX_READ_ATOMS:,}); give a smaller structure (one unit cell is enough)."
        )


def _check_claim(claimed: int | None, available: int, name: str, line: int) -> None:
    if claimed is None:
        return  # not a count: the parser will say what is wrong
    if claimed < 0:
        raise MIInputError(f"{name} claims {claimed} atoms at line {line}; a count is >= 0.")
    if claimed > max(available, 0):
        raise MIInputError(
            f"{name} claims {claimed:,} atoms at line {line} but only {max(available, 0):,} "
            "lines follow; the file is cut short or the count is wrong."
        )
    if claimed > MAX_FRAME_ATOMS:
        raise _too_many(name, claimed)


def _check_xyz_counts(lines: list[bytes], name: str) -> None:
    position, total = 0, 0
    while position < len(lines):  # one step per frame
        if not lines[position].strip():
            position += 1
            continue
        claimed = _int_or_none(lines[position])
        if claimed is None:
            found = lines[position][:40].decode(errors="replace")
            raise MIInputError(
                f"{name} could not be read as extxyz: line {position + 1} should hold the "
                f"number of atoms of a frame, not {found!r}."
            )
        _check_claim(claimed, len(lines) - position - 2, name, position + 1)
        total += claimed
        if total > MAX_READ_ATOMS:
            raise _too_many(name, total)
        position += claimed + 2


def _check_dump_counts(lines: list[bytes], name: str) -> None:
    items = [k for k, line in enumerate(lines) if line.lstrip().startswith(b"ITEM:")]
    items.append(len(lines))
    total, pending = 0, None
    for at, after in itertools.pairwise(items):
        if b"NUMBER OF ATOMS" in lines[at]:
            claimed = _int_or_none(lines[at + 1]) if at + 1 < len(lines) else None
            _check_claim(claimed, len(lines) - at - 2, name, at + 2)
            pending = claimed
        elif lines[at].split()[1:2] == [b"ATOMS"] and pending is not None:
            listed = sum(1 for line in lines[at + 1 : after] if line.strip())
            if listed != pending:
                raise MIInputError(
                    f"{name} claims {pending:,} atoms but lists {listed:,} after line {at + 1}; "
                    "the dump is cut short or its atom count is wrong."
                )
            total += listed
            if total > MAX_READ_ATOMS:
                raise _too_many(name, total)
            pending = None


def _check_vasp_counts(lines: list[bytes], name: str) -> None:
    for k in (5, 6):  # the counts line follows the species line in VASP 5 files
        if k < len(lines):
            fields = lines[k].split()
            if fields and all(field.isdigit() for field in fields):
                claimed = sum(int(field) for field in fields)
                _check_claim(claimed, len(lines) - k - 2, name, k + 1)
                return


#: Python's own messages, which say nothing to a user about their file.
_RAW_MESSAGE = re.compile(
    r"invalid literal for|could not convert|index out of range|not enough values"
    r"|too many values|NoneType|object has no attribute|unsupported operand|codec can't"
    r"|unhashable|not subscriptable|takes \d+ positional|object is not|must be real number"
    r"|out of bounds|unexpected keyword|setting an array element|inhomogeneous"
)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)])[.!?]\s+(?=[A-Z])")
_NOT_A_NUMBER = re.compile(r"could not convert string to float: '(.{0,40})")


def _parse(data: bytes, name: str, fmt: str, index: int | str) -> list[Atoms]:
    from ase.io import read

    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MIInputError(
            f"{name} is not UTF-8 text (byte {error.start} is {data[error.start]:#04x}); "
            f"upload the {fmt} text file itself, not a binary or compressed file."
        ) from None
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ASE warns on CIF details; errors are what we report
        path = Path(folder) / "upload"  # the format is known; the user's name is not a path
        path.write_bytes(data)
        try:
            frames = read(path, index=index, format=fmt)
        except Exception as error:  # ASE raises many types for malformed text
            raise MIInputError(_parse_failure(error, str(path), name, fmt)) from None
    frames = frames if isinstance(frames, list) else [frames]
    if not frames:
        raise MIInputError(f"{name} contains no structure; check that it is a valid {fmt} file.")
    return frames


def _parse_failure(error: Exception, path: str, name: str, fmt: str) -> str:
    """One sentence for a parser error: ASE's own words when they are meant for people."""
    text = str(error).replace(path, name).strip()
    reason = text.splitlines()[0][:160] if text else ""
    reason = _SENTENCE_END.split(reason, maxsplit=1)[0].rstrip(".")  # one sentence only
    reason = "".join(ch for ch in reason if ch.isprintable()).strip()
    number = _NOT_A_NUMBER.search(reason)
    if number:
        token = number.group(1).rstrip("'")
        return (
            f"{name} could not be read as {fmt}: {token!r} stands where a number should be; "
            f"check that it is a valid {fmt} file."
        )
    if not reason or _RAW_MESSAGE.search(reason) or len(reason) < 8:
        return f"{name} could not be read as {fmt}; check that it is a complete, valid {fmt} file."
    return f"{name} could not be read as {fmt} ({reason}); check that it is a valid {fmt} file."


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
