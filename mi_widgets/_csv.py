"""CSV text to rows, with any line ending and one sentence for malformed quoting."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from mi_widgets._errors import MIInputError, check_file

__all__ = ["check_line_count", "count_lines", "csv_rows", "csv_text"]


def csv_rows(text: str, label: str) -> list[list[str]]:
    """Every row of CSV ``text`` (blank rows included, so line numbers stay true).

    Old Mac line ends (a bare carriage return) count as line ends; the csv module
    would otherwise stop on them with a message about "universal-newline mode".

    Parameters
    ----------
    text : str
        The file's text.
    label : str
        How the file is named in the message (``"bonds.csv"``, ``"The results file"``).

    Raises
    ------
    MIInputError
        If the csv module cannot split the text (e.g. a field longer than 131072 characters).

    Examples
    --------
    >>> csv_rows("a,b\\r1,2\\r", "t.csv")
    [['a', 'b'], ['1', '2']]
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise MIInputError(f"{label} is not a readable CSV table ({error}).") from None


def count_lines(text: str) -> int:
    """How many lines ``text`` has, with any line ending (``\\n``, ``\\r\\n`` or ``\\r``).

    Examples
    --------
    >>> count_lines("a\\r\\nb\\rc\\nd")
    4
    """
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    return breaks + (1 if text and not text.endswith(("\n", "\r")) else 0)


def check_line_count(text: str, label: str, limit: int, fix: str) -> None:
    """Refuse ``text`` before parsing it when it has more than ``limit`` lines.

    Raises
    ------
    MIInputError
        Naming the count, the limit and ``fix`` (what to do instead).

    Examples
    --------
    >>> check_line_count("a\\nb\\nc\\n", "t.csv", 2, "thin it")
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: t.csv has 3 lines; the lab reads at most 2, so thin it.
    """
    n_lines = count_lines(text)
    if n_lines > limit:
        raise MIInputError(
            f"{label} has {n_lines:,} lines; the lab reads at most {limit:,}, so {fix}."
        )


def csv_text(source: bytes | str | Path, label: str | None = None) -> tuple[str, str]:
    """The text of a CSV upload (bytes) or file (a path), and how messages name it.

    Parameters
    ----------
    source : bytes, str or Path
        The uploaded bytes, or the path of a file.
    label : str, optional
        The name for messages; default the file's name, or ``"The file"`` for bytes.

    Raises
    ------
    MIInputError
        If the path names no file, or the bytes are not UTF-8 text.

    Examples
    --------
    >>> csv_text(b"\\xef\\xbb\\xbfa,b\\n1,2\\n")
    ('a,b\\n1,2\\n', 'The file')
    >>> csv_text(b"\\xff\\xfe", "phase.csv")
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: phase.csv is not UTF-8 text; save it as CSV.
    """
    if isinstance(source, (bytes, bytearray)):
        data, label = bytes(source), label or "The file"
    else:
        path = check_file(source)
        data, label = path.read_bytes(), label or path.name
    try:
        return data.decode("utf-8-sig"), label
    except UnicodeDecodeError:
        raise MIInputError(f"{label} is not UTF-8 text; save it as CSV.") from None
