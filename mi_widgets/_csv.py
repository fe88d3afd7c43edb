"""CSV text to rows, with any line ending and one sentence for malformed quoting."""

from __future__ import annotations

import csv
import io

from mi_widgets._errors import MIInputError

__all__ = ["check_line_count", "count_lines", "csv_rows"]


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
