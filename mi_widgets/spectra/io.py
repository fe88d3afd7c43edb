"""Read spectra from text / CSV / .npz files or uploaded bytes, with validation."""

from __future__ import annotations

import io
import math
import re
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from mi_widgets._errors import MIInputError, check_finite_array

__all__ = [
    "MAX_APP_MAP_VALUES",
    "MAX_MAP_VALUES",
    "load_example_spectrum",
    "load_spectra",
    "load_spectrum",
]

#: Largest stack a loader reads, in values (pixels x channels): 2^25 floats are 256 MiB.
MAX_MAP_VALUES = 2**25
#: Largest map the spectral-map app fits at once (about 5-10 s of CPU on one core).
MAX_APP_MAP_VALUES = 4_000_000

_COMMENT = ("#", "%", "//")
_DELIMITERS = (",", ";", "\t")


def _read_text(source: str | Path | bytes, name: str) -> str:
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise MIInputError(
                f"{name} starts like UTF-16 text but does not decode; save it as UTF-8 CSV."
            ) from None
    if b"\x00" in raw[:4096]:
        raise MIInputError(
            f"{name} holds zero bytes: it is binary, or UTF-16 text without a byte-order mark; "
            "save it as UTF-8 CSV or plain text."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
            raise MIInputError(
                f"{name} is not a text file; save it as CSV or plain text."
            ) from None


def _split(line: str) -> list[str]:
    for delimiter in _DELIMITERS:
        if delimiter in line:
            return [cell.strip() for cell in line.split(delimiter) if cell.strip() != ""]
    return line.split()


def _fast_table(text: str) -> np.ndarray | None:
    """The numbers of a well-formed table in one pass of numpy's C parser, else None.

    Only an optimisation: any file it does not read exactly as :func:`_parse_table`
    would (ragged rows, text, empty cells, mixed delimiters) returns None, and the line
    by line parser reads it and names the problem.
    """
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith(_COMMENT)]
    start = next((i for i, ln in enumerate(lines[:100]) if _numeric(ln)), None)
    if start is None:
        return None
    first = lines[start]
    delimiter = next((d for d in _DELIMITERS if d in first), None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = np.loadtxt(lines[start:], delimiter=delimiter, comments=None, ndmin=2)
    except (ValueError, TypeError, IndexError):
        return None
    return table if table.shape[0] and table.shape[1] == len(_split(first.strip())) else None


def _numeric(line: str) -> bool:
    try:
        [float(cell) for cell in _split(line.strip())]
    except ValueError:
        return False
    return True


def _parse_table(text: str, name: str) -> np.ndarray:
    """Numbers of a delimited table; leading non-numeric lines are a header."""
    fast = _fast_table(text)
    if fast is not None:
        return fast
    rows: list[list[float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(_COMMENT):
            continue
        cells = _split(stripped)
        try:
            values = [float(cell) for cell in cells]
        except ValueError:
            if not rows:
                continue  # a header line
            bad = next(c for c in cells if not _is_number(c))
            raise MIInputError(
                f"{name} line {number} has text ({bad!r}) in a data column; "
                "keep only numbers below the header."
            ) from None
        if rows and len(values) != len(rows[0]):
            raise MIInputError(
                f"{name} line {number} has {len(values)} columns where earlier lines have "
                f"{len(rows[0])}; "
                "give every row the same columns."
            )
        rows.append(values)
    if not rows:
        data = [ln.strip() for ln in text.splitlines() if ln.strip()]
        data = [ln for ln in data if not ln.startswith(_COMMENT)]
        if any(re.search(r"\d,\d+\s*[;\t]|[;\t]\s*-?\d+,\d", ln) for ln in data):
            raise MIInputError(
                f"{name} writes decimals with commas (like 1,5); save it with points as "
                "decimal separators (1.5)."
            )
        first = data[0][:40] if data else ""
        raise MIInputError(
            f"{name} contains no rows of numbers (every line has text, the first is "
            f"{first!r}); give two columns of numbers: x and intensity."
        )
    return np.array(rows)


def _is_number(cell: str) -> bool:
    return (
        re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(inf|nan)", cell.lower())
        is not None
    )


def _orient(x: np.ndarray, y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Reverse a decreasing axis (e.g. binding energy); reject repeats and disorder."""
    x = check_finite_array(x, f"{name} x column", ndim=1, min_size=3)
    if x[-1] < x[0]:
        x, y = x[::-1], y[..., ::-1]
    steps = np.diff(x)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0]) + 1
        what = "repeats" if steps[i - 1] == 0 else "goes back"
        raise MIInputError(
            f"{name}: x {what} at row {i} ({x[i]:g}); sort the rows by x and remove duplicates."
        )
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


def load_spectrum(
    source: str | Path | bytes, *, name: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read one spectrum: two columns, x then intensity.

    Commas, semicolons, tabs or spaces separate the columns; header lines
    and lines starting with ``#`` or ``%`` are skipped. A decreasing x axis
    (binding energy) is reversed together with the intensities. Extra
    columns beyond the second are ignored.

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        A file path, or the file's bytes (e.g. from an upload).
    name : str, optional
        Name used in error messages (default: the file name or "the file").

    Returns
    -------
    x, y : numpy.ndarray
        Strictly increasing axis and intensities.

    Raises
    ------
    MIInputError
        For text in a data column, ragged rows, fewer than two columns,
        NaN / inf, or a repeated or unsorted x.

    Examples
    --------
    >>> x, y = load_spectrum(b"energy,counts\\n1,10\\n2,12\\n3,9\\n")
    >>> x.tolist(), y.tolist()
    ([1.0, 2.0, 3.0], [10.0, 12.0, 9.0])
    """
    label = name or (Path(source).name if not isinstance(source, bytes) else "the file")
    table = _parse_table(_read_text(source, label), label)
    if table.shape[1] < 2:
        raise MIInputError(f"{label} has one column; give two columns: x and intensity.")
    y = check_finite_array(table[:, 1], f"{label} intensity column", ndim=1)
    return _orient(table[:, 0], y, label)


def load_spectra(
    source: str | Path | bytes, *, name: str | None = None, max_values: int = MAX_MAP_VALUES
) -> tuple[np.ndarray, np.ndarray]:
    """Read a stack of spectra on a common axis.

    Either an ``.npz`` archive (no pickles) with arrays ``x`` (C,) and
    ``spectra`` (n, C) or (ny, nx, C), or a text table whose first column is
    x and every further column one spectrum.

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        A file path or the file's bytes.
    name : str, optional
        Name used in error messages.
    max_values : int, default MAX_MAP_VALUES
        The most values an ``.npz`` array may claim (checked before it is unpacked).

    Returns
    -------
    x : numpy.ndarray, shape (C,)
    spectra : numpy.ndarray, shape (n, C) or (ny, nx, C)

    Examples
    --------
    >>> x, s = load_spectra(b"x,a,b\\n1,1,2\\n2,3,4\\n3,5,6\\n")
    >>> s.shape
    (2, 3)
    """
    label = name or (Path(source).name if not isinstance(source, bytes) else "the file")
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    if raw[:4] == b"PK\x03\x04" or label.lower().endswith(".npz"):
        return _load_npz(raw, label, max_values)
    table = _parse_table(_read_text(raw, label), label)
    if table.shape[1] < 2:
        raise MIInputError(f"{label} has one column; give x and then one column per spectrum.")
    spectra = check_finite_array(table[:, 1:].T, f"{label} spectra", ndim=2)
    return _orient(table[:, 0], spectra, label)


_NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _npz_member(
    archive: zipfile.ZipFile, key: str, label: str, ndims: tuple[int, ...], max_values: int
) -> np.ndarray:
    """One numeric array of an .npz, its size and shape checked from its header first."""
    member = f"{key}.npy"
    if member not in archive.namelist():
        raise MIInputError(f"{label} must hold arrays named 'x' and 'spectra'.")
    info = archive.getinfo(member)
    limit = max_values * 8 + 2**16
    if info.file_size > limit:
        raise MIInputError(
            f"{label}: {key} would unpack to {info.file_size / 2**30:.3g} GiB; the limit is "
            f"{limit / 2**20:.0f} MiB ({max_values:,} values): crop or bin the map."
        )
    with archive.open(member) as stream:
        try:
            version = np.lib.format.read_magic(stream)
            read_header = _NPY_HEADERS.get(version)
            if read_header is None:
                raise ValueError(version)
            shape, _, dtype = read_header(stream)
        except (ValueError, OSError, EOFError):
            raise MIInputError(f"{label}: {key} is not a readable numpy array.") from None
        if dtype.kind not in "biuf":
            what = "text" if dtype.kind in "SUO" else f"values of type {dtype}"
            raise MIInputError(f"{label}: {key} holds {what}; it must hold numbers.")
        n_values = math.prod(shape)
        if n_values > max_values:
            raise MIInputError(
                f"{label}: {key} claims {n_values:,} values ({n_values * 8 / 2**40:.3g} TiB as "
                f"floats); the limit is {max_values:,}: crop or bin the map."
            )
        if len(shape) not in ndims:
            wanted = " or ".join(str(n) for n in ndims)
            raise MIInputError(
                f"{label}: {key} must be {wanted}-dimensional; its header says shape {shape}."
            )
    with archive.open(member) as stream:
        try:
            return np.lib.format.read_array(stream, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile):
            raise MIInputError(
                f"{label}: {key} is shorter than its header says; the file is damaged."
            ) from None


def _load_npz(raw: bytes, label: str, max_values: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise MIInputError(
            f"{label} is not a readable .npz (zip) archive; save the arrays with numpy.savez."
        ) from None
    with archive:
        try:
            x = _npz_member(archive, "x", label, (1,), max_values)
            spectra = _npz_member(archive, "spectra", label, (2, 3), max_values)
        except MIInputError:
            raise
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, zlib.error):
            raise MIInputError(
                f"{label} is a damaged .npz archive; save the arrays again with numpy.savez."
            ) from None
    x = check_finite_array(x, f"{label} x", ndim=1, min_size=3)
    spectra = check_finite_array(spectra, f"{label} spectra", ndim=(2, 3))
    if spectra.shape[-1] != np.size(x):
        raise MIInputError(
            f"{label}: spectra have {spectra.shape[-1]} channels but x has {np.size(x)}; "
            "they must match."
        )
    return _orient(np.asarray(x, dtype=float), spectra, label)


def load_example_spectrum() -> tuple[np.ndarray, np.ndarray]:
    """The C 1s XPS example spectrum shipped in ``data/xps_c1s.csv``.

    Made by ``scripts/make_spectra_data.py`` (three carbon chemical states,
    pseudo-Voigt lines on a Shirley background, Poisson noise, fixed seed).

    Returns
    -------
    x, y : numpy.ndarray
        Binding energy (eV) and counts.

    Examples
    --------
    >>> x, y = load_example_spectrum()
    >>> x.size
    400
    """
    from mi_widgets._resources import data_path

    path = data_path("xps_c1s.csv")
    if not path.exists():
        raise MIInputError(
            f"{path} is missing; run python scripts/make_spectra_data.py to make it."
        )
    return load_spectrum(path)
