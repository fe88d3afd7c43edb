"""Read the shipped alloy / element tables and users' CSV tables, without pandas."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mi_widgets._errors import MIInputError
from mi_widgets._resources import data_dir

__all__ = ["DATA_DIR", "Table", "load_alloys", "read_table", "table_features"]

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

    def column(self, name: str) -> np.ndarray:
        """The raw text of column ``name``."""
        if name not in self.cells:
            listed = ", ".join(self.columns)
            raise MIInputError(f"{self.name} has no column {name!r}; its columns are {listed}.")
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
        text = self.column(name)
        values = np.empty(len(text))
        for i, cell in enumerate(text):
            stripped = cell.strip()
            if stripped.lower() in _MISSING:
                if not allow_missing:
                    raise MIInputError(
                        f"Column {name!r} of {self.name} has a missing value in data row {i + 1}; "
                        "fill it or remove the row."
                    )
                values[i] = np.nan
                continue
            try:
                values[i] = float(stripped)
            except ValueError:
                raise MIInputError(
                    f"Column {name!r} of {self.name} has the non-numeric value {stripped!r} in "
                    f"data row {i + 1}; use numbers only (or drop the column)."
                ) from None
            if not np.isfinite(values[i]):
                raise MIInputError(
                    f"Column {name!r} of {self.name} has {stripped!r} in data row {i + 1}; "
                    "use finite numbers."
                )
        return values


def read_table(source: str | Path | bytes, *, name: str | None = None) -> Table:
    """Read a comma-separated table with a header row; lines starting with '#' are comments.

    Parameters
    ----------
    source : str, Path or bytes
        A path, or the bytes of an uploaded file.
    name : str, optional
        Name used in messages (default: the file name, or "the table").

    Raises
    ------
    MIInputError
        If the file is not UTF-8 text, has no header or no data rows, or rows of
        unequal length.

    Examples
    --------
    >>> t = read_table(b"a,b\\n1,2\\n3,4\\n")
    >>> t.columns, t.numeric("b")
    (('a', 'b'), array([2., 4.]))
    """
    if isinstance(source, bytes):
        label = name or "the table"
        try:
            text = source.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MIInputError(f"{label} is not UTF-8 text; save it as a CSV file.") from None
    else:
        path = Path(source)
        label = name or path.name
        text = path.read_text(encoding="utf-8-sig")
    lines = [ln for ln in io.StringIO(text) if ln.strip() and not ln.lstrip().startswith("#")]
    rows = list(csv.reader(lines))
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
    """The EMT alloy data set (``data/alloys.csv``, see ``data/README.md``).

    Columns include ``composition``, ``mixing_energy_eV_per_atom``,
    ``lattice_constant_A``, ``bulk_modulus_GPa`` and ``stable`` (1 when the
    mixing energy is negative).

    Examples
    --------
    >>> alloys = load_alloys()
    >>> alloys.n_rows > 1000
    True
    """
    return read_table(path or DATA_DIR / "alloys.csv")


def table_features(
    table: Table, target: str, *, exclude: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Feature matrix, target and feature names from a user's table.

    Every numeric column except ``target`` (and ``exclude``) is a feature; a
    text column named ``composition`` or ``formula`` is turned into
    Magpie-style composition features.  Any other text column is an error.

    Raises
    ------
    MIInputError
        No such target, non-numeric or missing values, fewer than 5 rows, a
        constant target, or no feature columns.

    Examples
    --------
    >>> t = read_table(b"a,b,y\\n1,2,3\\n2,1,4\\n3,5,1\\n4,4,2\\n5,3,6\\n")
    >>> X, y, names = table_features(t, "y")
    >>> X.shape, names
    ((5, 2), ('a', 'b'))
    """
    from mi_widgets.learn.composition import composition_features

    y = table.numeric(target)
    if table.n_rows < 5:
        raise MIInputError(
            f"{table.name} has {table.n_rows} data row(s); a model needs at least 5 rows."
        )
    if np.ptp(y) == 0:
        raise MIInputError(
            f"The target {target!r} is constant ({y[0]:g}); choose a column that varies."
        )
    blocks, names = [], []
    for column in table.columns:
        if column == target or column in exclude:
            continue
        if column.lower() in COMPOSITION_COLUMNS and not table.is_numeric(column):
            features = composition_features(table.column(column))
            blocks.append(features.values)
            names += features.names
        else:
            blocks.append(table.numeric(column)[:, None])
            names.append(column)
    if not blocks:
        raise MIInputError(f"{table.name} has no feature columns besides the target {target!r}.")
    return np.hstack(blocks), y, tuple(names)
