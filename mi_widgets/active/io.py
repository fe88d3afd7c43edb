"""Phase observations as CSV: the built-in diagrams in ``data/`` and the user's own files.

Format (as PDC's ``data.csv``): a header line, then one row per candidate condition:
the phase label first (empty = not measured yet; ``A+B`` for coexisting phases), then the
coordinates (composition, temperature, ...). Lines starting with ``#`` after the header are
comments. The phase column is found by its name (``phase``, ``phase_name``, ``label`` ...,
in any position) or, failing that, is the first column if it holds names rather than
numbers; a table without one is refused, so coordinates are never read as phases.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from mi_widgets._csv import check_line_count, csv_text
from mi_widgets._errors import MIInputError
from mi_widgets._resources import data_dir
from mi_widgets.active.thermo import BUILTIN_DIAGRAMS, PhaseDiagram

__all__ = [
    "DATA_DIR",
    "PhaseObservations",
    "load_phase_diagram",
    "proposals_csv",
    "read_phase_csv",
    "write_phase_csv",
]

DATA_DIR = data_dir()

#: Header names (case and ``#`` ignored) recognised as the phase column.
PHASE_COLUMN_NAMES = ("phase", "phases", "phase_name", "phase name", "label", "labels", "class")


class PhaseObservations(PhaseDiagram):
    """A candidate table read from CSV (a :class:`PhaseDiagram` whose labels may be empty).

    ``labels`` is an object array: the phase label, or ``None`` where not measured.
    """


def _parse_label(text: str):
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdecimal() else text


def read_phase_csv(
    source: str | Path | bytes, *, name: str | None = None, max_rows: int | None = None
) -> PhaseObservations:
    """Read a candidate table: label column first, then numeric coordinate columns.

    Parameters
    ----------
    source : str, Path or bytes
        A file path, or the file's content (an upload).
    name : str, optional
        Used in messages and as the dataset name.
    max_rows : int, optional
        Refuse files with more lines than this (plus the header), before parsing.

    Returns
    -------
    PhaseObservations

    Raises
    ------
    MIInputError
        Missing coordinate columns, ragged rows, non-numeric or non-finite coordinates,
        more than ``max_rows`` rows.

    Examples
    --------
    >>> obs = read_phase_csv(b"phase,x,T\\nL,0.1,900\\n,0.2,900\\n")
    >>> obs.labels.tolist(), obs.columns
    (['L', None], ('x', 'T'))
    """
    text, name = csv_text(source, name)
    if max_rows is not None:
        check_line_count(text, name, max_rows + 1, "subsample the candidates")
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if not rows:
        raise MIInputError(f"{name} is empty; it needs a header and one row per candidate.")
    header = [h.strip().lstrip("#").strip() for h in rows[0]]
    body = [r for r in rows[1:] if not r[0].lstrip().startswith("#")]
    if len(header) < 2:
        raise MIInputError(
            f"{name} has {len(header)} column; it needs a phase column and at least one "
            "coordinate column (e.g. phase,x,T)."
        )
    if not body:
        raise MIInputError(f"{name} has a header but no candidate rows.")
    width = len(header)
    lengths = np.array([len(r) for r in body])
    if (lengths != width).any():
        line = int(np.argmax(lengths != width))
        raise MIInputError(
            f"{name} line {line + 2} has {lengths[line]} fields but the header has {width}; "
            "give a phase (or nothing) and every coordinate on each line."
        )
    column = _phase_column(header, body, name)
    if column:  # the phase column first, the coordinates after it in their order
        order = [column, *(j for j in range(width) if j != column)]
        header = [header[j] for j in order]
        body = [[r[j] for j in order] for r in body]
    table = np.array(body, dtype=object)
    try:
        coords = np.array([[float(v) for v in r[1:]] for r in body])
    except ValueError:
        bad = next(
            (i, j) for i, r in enumerate(body) for j, v in enumerate(r[1:]) if not _is_float(v)
        )
        raise MIInputError(
            f"{name} line {bad[0] + 2}, column {header[bad[1] + 1]!r} is not a number "
            f"({body[bad[0]][bad[1] + 1]!r}); coordinates must be numbers."
        ) from None
    bad = ~np.isfinite(coords)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise MIInputError(
            f"{name} line {i + 2}, column {header[j + 1]!r} is not finite; fill or remove it."
        )
    labels = np.array([_parse_label(str(v)) for v in table[:, 0]], dtype=object)
    numeric = [i for i, v in enumerate(labels.tolist()) if isinstance(v, str) and _is_float(v)]
    if numeric:
        i = numeric[0]
        raise MIInputError(
            f"{name} line {i + 2} has the phase {labels[i]!r}, a number; phases must be names "
            "(e.g. L, alpha, A+B) or whole-number codes."
        )
    return PhaseObservations(
        name=name,
        coordinates=coords,
        labels=labels,
        columns=tuple(header[1:]),
        kind=_guess_kind(coords),
        description=f"{len(coords)} candidates from {name}",
    )


def _phase_column(header: list[str], body: list[list[str]], name: str) -> int:
    """The position of the phase column: by its name, else the first column if it holds text."""
    names = [h.strip().lower() for h in header]
    for j, h in enumerate(names):
        if h in PHASE_COLUMN_NAMES:
            return j
    values = [r[0].strip() for r in body if r[0].strip()]
    if not values or not all(_is_float(v) for v in values):
        return 0
    raise MIInputError(
        f"{name} has no phase column: its first column {header[0]!r} holds numbers; "
        "put the phase labels first under a header named 'phase' (empty where not measured)."
    )


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _guess_kind(coords: np.ndarray) -> str:
    if coords.shape[1] == 3:
        sums = coords.sum(axis=1)
        if np.allclose(sums, sums[0], rtol=1e-6, atol=1e-9) and (coords >= 0).all():
            return "ternary"
    return "binary" if coords.shape[1] == 2 else "other"


def write_phase_csv(path: str | Path, diagram: PhaseDiagram) -> None:
    """Write a diagram in the CSV format :func:`read_phase_csv` reads.

    Examples
    --------
    >>> import tempfile, os
    >>> from mi_widgets.active.thermo import builtin_diagram
    >>> d = builtin_diagram("eutectic", n_x=3, n_t=2)
    >>> p = os.path.join(tempfile.mkdtemp(), "d.csv")
    >>> write_phase_csv(p, d)
    >>> read_phase_csv(p).coordinates.shape
    (6, 2)
    """
    lines = [",".join(["phase", *diagram.columns])]
    for label, row in zip(diagram.labels, diagram.coordinates, strict=True):
        text = "" if label is None else str(label)
        lines.append(",".join([text, *(f"{v:.10g}" for v in row)]))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_phase_diagram(name_or_path: str | Path) -> PhaseDiagram:
    """Load a built-in diagram (``"eutectic"``, ``"peritectic"``, ``"ternary"``) or a CSV.

    Built-in labels are the true equilibrium phases computed by
    ``scripts/make_phase_diagrams.py``.

    Examples
    --------
    >>> load_phase_diagram("eutectic").coordinates.shape
    (5151, 2)
    """
    if str(name_or_path) in BUILTIN_DIAGRAMS:
        path = DATA_DIR / f"phase_diagram_{name_or_path}.csv"
        obs = read_phase_csv(path)
        if any(label is None for label in obs.labels):
            raise MIInputError(f"{path.name} has unlabelled rows; regenerate it with the script.")
        return PhaseDiagram(
            str(name_or_path),
            obs.coordinates,
            obs.labels.astype(str),
            obs.columns,
            obs.kind,
            f"Computed from Gibbs energies ({path.name}).",
        )
    return read_phase_csv(name_or_path)


def proposals_csv(coordinates: np.ndarray, columns, indices, uncertainty=None) -> str:
    """The proposed candidates as CSV text (index, coordinates[, uncertainty]).

    Examples
    --------
    >>> print(proposals_csv(np.array([[0.1, 900.0]]), ("x", "T"), [0]), end="")
    rank,index,x,T
    1,0,0.1,900
    """
    header = ["rank", "index", *columns] + ([] if uncertainty is None else ["uncertainty"])
    lines = [",".join(header)]
    for rank, i in enumerate(indices, start=1):
        values = [f"{v:.10g}" for v in coordinates[i]]
        extra = [] if uncertainty is None else [f"{uncertainty[i]:.4f}"]
        lines.append(",".join([str(rank), str(int(i)), *values, *extra]))
    return "\n".join(lines) + "\n"
