"""CSV text to rows, with any line ending and one sentence for malformed quoting."""

from __future__ import annotations

import csv
import io

from mi_widgets._errors import MIInputError

__all__ = ["csv_rows"]


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
