"""Read ``.npz`` archives that may lie: sizes checked before anything is unpacked.

An archive names its members' sizes (the zip directory) and each member names its
array's shape (the ``.npy`` header). Both can be false, and a few megabytes of
zeros compress into a few kilobytes, so every claim is checked against a limit
before a byte is inflated, and anything that does not read becomes one sentence.
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from mi_widgets._errors import MIInputError, check_file

__all__ = ["read_npz"]

_NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
#: Everything the zip and zlib modules raise on a damaged archive.
_DAMAGED = (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, zlib.error)


def read_npz(
    source: str | Path | bytes,
    label: str,
    *,
    max_values: int,
    text: tuple[str, ...] = (),
    what: str = "a readable .npz (zip) archive",
) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` archive (no pickles), each at most ``max_values`` values.

    Parameters
    ----------
    source : str, pathlib.Path, bytes or file-like
        The archive's path, bytes, or an open binary file.
    label : str
        How the file is named in messages.
    max_values : int
        The most values one array may hold (its header is checked before it is read).
    text : tuple of str
        Members allowed to hold text (e.g. a JSON header); all others must be numbers.
    what : str
        What the file should be, for the message when it is not a zip archive at all.

    Returns
    -------
    dict of str to numpy.ndarray

    Raises
    ------
    MIInputError
        If the file is not a zip archive, is damaged, holds objects, or claims more values.

    Examples
    --------
    >>> buffer = io.BytesIO()
    >>> np.savez(buffer, a=np.arange(3))
    >>> read_npz(buffer.getvalue(), "a.npz", max_values=10)["a"].tolist()
    [0, 1, 2]
    >>> read_npz(buffer.getvalue(), "a.npz", max_values=2)
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: a.npz: a claims 3 values; the limit is 2.
    """
    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    elif hasattr(source, "read"):  # an open file or a BytesIO, as numpy.load accepts
        raw = source.read()
    else:
        raw = check_file(source).read_bytes()
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except _DAMAGED:
        raise MIInputError(f"{label} is not {what}.") from None
    with archive:
        try:
            return {
                name[:-4]: _member(archive, name, label, max_values, name[:-4] in text)
                for name in archive.namelist()
                if name.endswith(".npy")
            }
        except MIInputError:
            raise
        except _DAMAGED:
            raise MIInputError(f"{label} is a damaged .npz archive; save it again.") from None


def _member(
    archive: zipfile.ZipFile, member: str, label: str, max_values: int, text: bool
) -> np.ndarray:
    """One array, its unpacked size and its header checked before its data is read."""
    key = member[:-4]
    limit = max_values * 8 + 2**16
    if archive.getinfo(member).file_size > limit:
        raise MIInputError(
            f"{label}: {key} would unpack to more than {limit / 2**20:.0f} MiB; the limit is "
            f"{max_values:,} values."
        )
    with archive.open(member) as stream:
        try:
            read_header = _NPY_HEADERS.get(np.lib.format.read_magic(stream))
            if read_header is None:
                raise ValueError(member)
            shape, _, dtype = read_header(stream)
        except (ValueError, OSError, EOFError):
            raise MIInputError(f"{label}: {key} is not a readable numpy array.") from None
    allowed = "biufSU" if text else "biuf"
    if dtype.kind not in allowed:
        raise MIInputError(f"{label}: {key} holds values of type {dtype}; it must hold numbers.")
    if math.prod(shape) > max_values:
        raise MIInputError(
            f"{label}: {key} claims {math.prod(shape):,} values; the limit is {max_values:,}."
        )
    with archive.open(member) as stream:
        try:
            return np.lib.format.read_array(stream, allow_pickle=False)
        except _DAMAGED:
            raise MIInputError(
                f"{label}: {key} is shorter than its header says; the file is damaged."
            ) from None
