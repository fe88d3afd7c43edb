"""Read the shipped alloy / element tables and users' CSV tables, without pandas.

This module depends on nothing else in ``mi_widgets.learn``; composition
features (``composition.py``) build on it, never the reverse.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mi_widgets._csv import check_line_count, csv_text
from mi_widgets._errors import MIInputError, short_repr, short_text
from mi_widgets._resources import data_dir

__all__ = ["COMPOSITION_COLUMNS", "DATA_DIR", "Table", "load_alloys", "read_table"]

DATA_DIR = data_dir()
_MISSING = {"", "na", "nan", "n/a", "null", "none", "?"}
COMPOSITION_COLUMNS = ("composition", "formula")


@dataclass(frozen=True)
class Table:
    """A CSV table as named text columns, with typed access.

    Attributes
    ----------
    name : str
        Where it came from (a file name), used in messages.
    columns : tuple of str
        Column names in file order.
    cells : dict of str to numpy.ndarray
        The raw text of each column (dtype str).
    """

    name: str
    columns: tuple[str, ...]
    cells: dict[str, np.ndarray]

    @property
    def n_rows(self) -> int:
        """Number of data rows."""
        return len(next(iter(self.cells.values())))

    def take(self, rows: np.ndarray) -> Table:
        """The table restricted to the data rows ``rows`` (indices)."""
        rows = np.asarray(rows, dtype=int)
        return Table(self.name, self.columns, {c: v[rows] for c, v in self.cells.items()})

    def column(self, name: str) -> np.ndarray:
        """The raw text of column ``name``."""
        if name not in self.cells:
            listed = short_text(", ".join(self.columns), 120)
            raise MIInputError(
                f"{self.name} has no column {short_repr(name)}; its columns are {listed}."
            )
        return self.cells[name]

    def is_numeric(self, name: str) -> bool:
        """True if every non-missing cell of the column parses as a number."""
        try:
            self.numeric(name, allow_missing=True)
        except MIInputError:
            return False
        return True

    def numeric(self, name: str, *, allow_missing: bool = False) -> np.ndarray:
        """Column ``name`` as float64; missing cells are NaN only if ``allow_missing``.

        Raises
        ------
        MIInputError
            Naming the first row (1-based, as in a spreadsheet) with text or a gap.
        """
        text = np.char.strip(self.column(name))
        missing = np.isin(np.char.lower(text), list(_MISSING))
        if missing.any() and not allow_missing:
            row = int(np.flatnonzero(missing)[0])
            raise MIInputError(
                f"Column {name!r} of {self.name} has a missing value in data row {row + 1}; "
                "fill it or remove the row."
            )
        try:  # vectorised: a 10^5-row column parses in milliseconds
            values = np.where(missing, "nan", text).astype(float)
        except ValueError:
            for i, cell in enumerate(text):
                if missing[i]:
                    continue
                try:
                    float(cell)
                except ValueError:
                    raise MIInputError(
                        f"Column {name!r} of {self.name} has the non-numeric value {str(cell)!r} "
                        f"in data row {i + 1}; use numbers only (or drop the column)."
                    ) from None
            raise  # pragma: no cover - numpy and float() disagree
        bad = ~np.isfinite(values) & ~missing
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise MIInputError(
                f"Column {name!r} of {self.name} has {str(text[row])!r} in data row {row + 1}; "
                "use finite numbers."
            )
        return values


def read_table(
    source: str | Path | bytes, *, name: str | None = None, max_rows: int | None = None
) -> Table:
    """Read a comma-separated table with a header row; lines starting with '#' are comments.

    Parameters
    ----------
    source : str, Path or bytes
        A path, or the bytes of an uploaded file.
    name : str, optional
        Name used in messages (default: the file name, or "the table").
    max_rows : int, optional
        Refuse files with more lines than this (plus the header), before parsing.

    Raises
    ------
    MIInputError
        If the file is not UTF-8 text, has no header or no data rows, rows of
        unequal length, or more than ``max_rows`` rows.

    Examples
    --------
    >>> t = read_table(b"a,b\\n1,2\\n3,4\\n")
    >>> t.columns, t.numeric("b")
    (('a', 'b'), array([2., 4.]))
    """
    text, label = csv_text(source, name or ("the table" if isinstance(source, bytes) else None))
    if max_rows is not None:
        check_line_count(text, label, max_rows + 1, "subsample it first")
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # old Mac line ends too
    lines = [ln for ln in io.StringIO(text) if ln.strip() and not ln.lstrip().startswith("#")]
    try:
        rows = list(csv.reader(lines))
    except csv.Error as error:
        raise MIInputError(f"{label} is not a readable CSV table ({error}).") from None
    if len(rows) < 2:
        raise MIInputError(f"{label} needs a header row and at least one data row.")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header) or any(not h for h in header):
        raise MIInputError(f"{label} needs a header row of distinct, non-empty column names.")
    for i, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise MIInputError(
                f"Data row {i} of {label} has {len(row)} cells but the header has "
                f"{len(header)}; every row needs one value per column."
            )
    body = np.array(rows[1:], dtype=str).reshape(len(rows) - 1, len(header))
    return Table(label, tuple(header), {h: body[:, j] for j, h in enumerate(header)})


def load_alloys(path: str | Path | None = None) -> Table:
    """The EMT alloy data set (``data/alloys.csv``; EMT and its limits: ``data/README.md``).

    Columns include ``composition``, ``mixing_energy_eV_per_atom``,
    ``lattice_constant_A``, ``bulk_modulus_GPa`` and ``stable`` (1 when the
    mixing energy is negative).

    Examples
    --------
    >>> alloys = load_alloys()
    >>> alloys.n_rows > 600
    True
    """
    return read_table(path or DATA_DIR / "alloys.csv")
