"""Search problems for Bayesian optimisation: test functions, the grain boundary, any table.

A :class:`SearchProblem` is a fixed candidate set with (some of) its values: the
1-D Forrester function and the 2-D Branin function for intuition (generated in
code), the Sigma5 grain-boundary energies of ``data/`` (one EMT relaxation per
candidate, ``scripts/make_grain_boundary.py``), or a user's CSV table (feature
columns and a value column; an empty value means "not measured yet").

Examples
--------
>>> problem = forrester_problem(201)
>>> problem.candidates.shape, problem.goal, round(float(problem.values.min()), 3)
((201, 1), 'minimize', -6.018)
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mi_widgets._csv import check_line_count, csv_rows, csv_text
from mi_widgets._errors import MIInputError, check_file, check_positive_int, short_text
from mi_widgets._resources import data_dir

__all__ = [
    "GRAIN_BOUNDARY_CSV",
    "GRAIN_BOUNDARY_STRUCTURE",
    "MAX_LAB_CANDIDATES",
    "SearchProblem",
    "branin",
    "branin_problem",
    "forrester",
    "forrester_problem",
    "load_grain_boundary",
    "proposals_table_csv",
    "read_candidate_table",
    "read_results",
]

DATA_DIR = data_dir()
#: Boundary energies of 960 Sigma5 (210) candidates (``scripts/make_grain_boundary.py``).
GRAIN_BOUNDARY_CSV = DATA_DIR / "grain_boundary_cu_sigma5.csv"
#: The lowest-energy boundary of that set, relaxed (extended XYZ).
GRAIN_BOUNDARY_STRUCTURE = DATA_DIR / "grain_boundary_cu_sigma5_best.extxyz"
_GB_FEATURES = ("tx_A", "ty_A", "tz_A", "removal_cutoff_A")
#: Most candidate rows the lab takes from a table (learning and drawing stay within ~3 s).
MAX_LAB_CANDIDATES = 20_000


@dataclass(frozen=True)
class SearchProblem:
    """A candidate set and its values.

    Attributes
    ----------
    name : str
    candidates : ndarray, shape (N, d)
    values : ndarray, shape (N,)
        NaN where a value is unknown (a user's unmeasured rows).
    feature_names : tuple of str
    value_name : str
    goal : {"maximize", "minimize"}
    """

    name: str
    candidates: np.ndarray
    values: np.ndarray
    feature_names: tuple[str, ...]
    value_name: str
    goal: str = "minimize"

    @property
    def measured(self) -> np.ndarray:
        """Boolean mask of candidates with a known value."""
        return np.isfinite(self.values)

    def optimum(self) -> tuple[int, float]:
        """Index and value of the best known candidate."""
        known = np.flatnonzero(self.measured)
        if known.size == 0:
            raise MIInputError(f"{self.name} has no measured value yet.")
        vals = self.values[known]
        k = int(np.argmin(vals) if self.goal == "minimize" else np.argmax(vals))
        return int(known[k]), float(vals[k])

    def oracle(self, indices: np.ndarray) -> np.ndarray:
        """The values of ``indices`` (a look-up: the calculations are done already)."""
        values = self.values[np.asarray(indices, dtype=int)]
        if not np.all(np.isfinite(values)):
            raise MIInputError(f"{self.name} has no value for some of these candidates.")
        return values


def forrester(x: np.ndarray) -> np.ndarray:
    """Forrester et al. (2008) test function ``(6x - 2)^2 sin(12x - 4)`` on [0, 1].

    Its minimum is -6.0207 at x = 0.7572, with a local minimum near 0.14.

    Examples
    --------
    >>> round(float(forrester(np.array([0.7572]))[0]), 4)
    -6.0207
    """
    x = np.asarray(x, dtype=float)
    return (6 * x - 2) ** 2 * np.sin(12 * x - 4)


def branin(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """Branin-Hoo function on ``x1`` in [-5, 10], ``x2`` in [0, 15].

    Three global minima of 0.397887 at (-pi, 12.275), (pi, 2.275), (9.42478, 2.475).

    Examples
    --------
    >>> round(float(branin(np.pi, 2.275)), 6)
    0.397887
    """
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    x1 = np.asarray(x1, dtype=float)
    x2 = np.asarray(x2, dtype=float)
    return (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * np.cos(x1) + s


def forrester_problem(n: int = 201) -> SearchProblem:
    """The Forrester function on ``n`` equally spaced points of [0, 1] (minimise)."""
    n = check_positive_int(n, "n", minimum=2)
    x = np.linspace(0.0, 1.0, n)
    return SearchProblem("Forrester 1-D", x[:, None], forrester(x), ("x",), "f(x)", "minimize")


def branin_problem(n: int = 100, *, negate: bool = True) -> SearchProblem:
    """Branin on an ``n x n`` grid; ``negate=True`` gives -Branin to maximise (the benchmark)."""
    n = check_positive_int(n, "n", minimum=2)
    g1, g2 = np.meshgrid(np.linspace(-5, 10, n), np.linspace(0, 15, n), indexing="ij")
    x = np.column_stack([g1.ravel(), g2.ravel()])
    f = branin(x[:, 0], x[:, 1])
    if negate:
        return SearchProblem("-Branin 2-D", x, -f, ("x1", "x2"), "-branin", "maximize")
    return SearchProblem("Branin 2-D", x, f, ("x1", "x2"), "branin", "minimize")


def load_grain_boundary(path: str | Path | None = None) -> SearchProblem:
    """Sigma5 [001](210) Cu boundary energies (J/m^2) over translations and cut-offs.

    Features: ``tx_A``, ``ty_A`` (translation in the boundary plane), ``tz_A``
    (opening), ``removal_cutoff_A`` (0: no atom removed); value: ``energy_J_m2``
    (minimise).

    Examples
    --------
    >>> gb = load_grain_boundary()
    >>> gb.candidates.shape
    (960, 4)
    """
    problem = read_candidate_table(
        Path(path) if path is not None else GRAIN_BOUNDARY_CSV,
        value_column="energy_J_m2",
        feature_columns=_GB_FEATURES,
        goal="minimize",
    )
    return SearchProblem(
        "Sigma5 (210) Cu grain boundary",
        problem.candidates,
        problem.values,
        problem.feature_names,
        problem.value_name,
        "minimize",
    )


def read_candidate_table(
    source: str | Path | bytes,
    *,
    value_column: str | None = None,
    feature_columns: tuple[str, ...] | None = None,
    goal: str = "minimize",
    name: str | None = None,
    max_rows: int | None = None,
) -> SearchProblem:
    """Read a candidate table: numeric feature columns and one value column.

    Parameters
    ----------
    source : path, str or bytes
        A CSV file (path), or its content (``bytes`` from an upload).
    value_column : str, optional
        The column to optimise (default: the last column). Empty cells mean
        "not measured yet".
    feature_columns : tuple of str, optional
        Default: every other numeric column.
    goal : {"maximize", "minimize"}
    name : str, optional
    max_rows : int, optional
        Refuse tables with more candidate rows than this (checked before parsing).

    Raises
    ------
    MIInputError
        No header or rows, a missing column, a non-numeric or empty feature cell,
        a non-finite value, more than ``max_rows`` rows.

    Examples
    --------
    >>> t = read_candidate_table(b"x,y,strength\\n0,1,2.5\\n1,0,\\n1,1,3.0\\n")
    >>> t.feature_names, t.values.tolist()[1] != t.values.tolist()[1]
    (('x', 'y'), True)
    """
    if goal not in ("maximize", "minimize"):
        raise MIInputError(f"goal must be 'maximize' or 'minimize'; got {goal!r}.")
    if isinstance(source, bytes):
        text, _ = csv_text(source, "The table")
        name = name or "uploaded table"
    else:
        try:
            check_file(source)
        except MIInputError:
            raise MIInputError(
                f"No file at {short_text(source, 200)}; give the path of a CSV table."
            ) from None
        text, _ = csv_text(source)
        name = name or Path(source).stem
    if max_rows is not None:
        check_line_count(text, "The table", max_rows + 1, "subsample or bin the candidates")
    rows = [r for r in csv_rows(text, "The table") if any(cell.strip() for cell in r)]
    if len(rows) < 3:
        raise MIInputError("The table needs a header line and at least two rows of candidates.")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    for k, row in enumerate(body):
        if len(row) != len(header):
            raise MIInputError(
                f"Row {k + 2} has {len(row)} cells but the header has {len(header)} columns."
            )
    value_column = value_column or header[-1]
    columns = short_text(", ".join(header), 120)
    if value_column not in header:
        raise MIInputError(f"No column {short_text(value_column)!r}; the columns are {columns}.")
    if feature_columns is None:
        feature_columns = tuple(h for h in header if h != value_column)
    missing = [c for c in feature_columns if c not in header]
    if missing:
        raise MIInputError(f"No column {short_text(missing[0])!r}; the columns are {columns}.")
    if not feature_columns:
        raise MIInputError("The table needs at least one feature column besides the value.")
    features = np.empty((len(body), len(feature_columns)))
    for j, column in enumerate(feature_columns):
        col = header.index(column)
        for k, row in enumerate(body):
            try:
                features[k, j] = float(row[col])
            except ValueError:
                raise MIInputError(
                    f"Feature {short_text(column)!r} in row {k + 2} is {short_text(row[col])!r}, "
                    "not a number; every candidate needs every feature."
                ) from None
    if not np.all(np.isfinite(features)):
        raise MIInputError("Feature cells must be finite numbers (no NaN or infinity).")
    _check_scale(features, feature_columns)
    col = header.index(value_column)
    values = np.full(len(body), np.nan)
    for k, row in enumerate(body):
        cell = row[col].strip()
        if cell:
            try:
                values[k] = float(cell)
            except ValueError:
                raise MIInputError(
                    f"Value {short_text(value_column)!r} in row {k + 2} is {short_text(cell)!r}: "
                    "give a number, or leave it empty for an unmeasured candidate."
                ) from None
    _check_values(values, value_column, "row")
    return SearchProblem(name, features, values, tuple(feature_columns), value_column, goal)


def proposals_table_csv(
    problem: SearchProblem,
    indices: np.ndarray,
    mean: np.ndarray | None = None,
    std: np.ndarray | None = None,
) -> str:
    """The proposed candidates as CSV: row number, features, an empty value column to fill.

    Tell the results back by filling the value column and uploading the table again.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    extra = [] if mean is None else ["predicted", "predicted_sd"]
    writer.writerow(["row", *problem.feature_names, problem.value_name, *extra])
    for i in np.asarray(indices, dtype=int):
        cells = [int(i), *(f"{v:.6g}" for v in problem.candidates[i]), ""]
        if mean is not None:
            cells += [f"{mean[i]:.6g}", f"{std[i]:.6g}"]
        writer.writerow(cells)
    return out.getvalue()


def read_results(source: str | bytes, problem: SearchProblem) -> tuple[np.ndarray, np.ndarray]:
    """Measured results from a filled-in proposals CSV: ``(row indices, values)``.

    The table needs the ``row`` column of :func:`proposals_table_csv` and the value
    column; rows whose value is still empty are skipped.

    Examples
    --------
    >>> p = forrester_problem(5)
    >>> read_results(b"row,x,f(x)\\n2,0.5,0.9\\n3,0.75,\\n", p)
    (array([2]), array([0.9]))
    """
    text = source.decode("utf-8-sig", errors="replace") if isinstance(source, bytes) else source
    # more lines than twice the candidates (blank lines allowed) must repeat rows
    limit = 2 * problem.candidates.shape[0] + 100
    check_line_count(text, "The results file", limit, "give each measured row once")
    rows = [r for r in csv_rows(text, "The results file") if any(cell.strip() for cell in r)]
    if not rows:
        raise MIInputError("The results file is empty.")
    header = [h.strip() for h in rows[0]]
    for column in ("row", problem.value_name):
        if column not in header:
            raise MIInputError(
                f"The results need a {column!r} column (as in the proposals CSV); "
                f"got {short_text(', '.join(header), 120)}."
            )
    at, vcol = header.index("row"), header.index(problem.value_name)
    indices, values, seen = [], [], set()
    for k, row in enumerate(rows[1:]):
        cell = row[vcol].strip() if vcol < len(row) else ""
        if not cell:
            continue
        try:
            index, value = int(row[at]), float(cell)
        except (ValueError, IndexError):
            raise MIInputError(
                f"Line {k + 2} of the results needs a whole row number and a numeric value."
            ) from None
        if not 0 <= index < problem.candidates.shape[0]:
            raise MIInputError(
                f"Row {index} on line {k + 2} is not a candidate "
                f"(rows are 0 to {problem.candidates.shape[0] - 1})."
            )
        if not math.isfinite(value):
            raise MIInputError(
                f"Line {k + 2} of the results has {short_text(cell)!r}; give a measured value."
            )
        if index in seen:
            raise MIInputError(f"Row {index} appears twice (line {k + 2}); give each row once.")
        seen.add(index)
        indices.append(index)
        values.append(value)
    if not indices:
        raise MIInputError(f"No filled-in {problem.value_name!r} value in the results file.")
    return np.asarray(indices, dtype=int), np.asarray(values, dtype=float)


def _check_values(values: np.ndarray, column: str, where: str) -> None:
    """Refuse infinite measured values (NaN marks an unmeasured candidate)."""
    bad = np.flatnonzero(np.isinf(values))
    if bad.size:
        raise MIInputError(
            f"{short_text(column)!r} in {where} {int(bad[0]) + 2} is infinite; give a measured "
            "value, or leave the cell empty."
        )
    _check_scale(values[np.isfinite(values)][:, None], (column,))


def _check_scale(table: np.ndarray, columns) -> None:
    """Refuse columns so large that their mean or spread overflows (the GP standardises)."""
    with np.errstate(over="ignore", invalid="ignore"):
        spread = np.abs(table).max(axis=0, initial=0.0) * np.sqrt(max(len(table), 1))
    bad = np.flatnonzero(~np.isfinite(spread) | (spread > 1e150))
    if bad.size:
        raise MIInputError(
            f"Column {short_text(columns[int(bad[0])])!r} holds numbers too large to "
            "standardise (above 1e150); rescale it, e.g. to other units."
        )
