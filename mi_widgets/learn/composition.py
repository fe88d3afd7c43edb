"""Composition parsing and Magpie-style composition features.

A composition ("Cu0.5Ni0.25Au0.25", "Cu2Ni", ``{"Cu": 0.5, "Ni": 0.5}``) becomes
a fixed-length vector of statistics of elemental properties, the fingerprint
of Ward et al. (npj Comput. Mater. 2, 16028, 2016) that matminer's
``ElementProperty.from_preset("magpie")`` computes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from mi_widgets._errors import MIInputError
from mi_widgets.learn.io import COMPOSITION_COLUMNS, DATA_DIR, Table, load_alloys, read_table

__all__ = [
    "DEFAULT_PROPERTIES",
    "STATISTICS",
    "AlloyFeatures",
    "CompositionFeatures",
    "ElementTable",
    "composition_features",
    "composition_groups",
    "composition_matrix",
    "load_alloy_features",
    "load_element_table",
    "parse_composition",
    "table_features",
]

#: The statistics of each elemental property, in column order.
STATISTICS = ("mean", "avg_dev", "min", "max", "range")
_TOKEN = re.compile(r"([A-Z][a-z]?)(\d+(?:\.\d*)?|\.\d+)?")
_SUM_TOLERANCE = 0.01


@dataclass(frozen=True)
class ElementTable:
    """Elemental properties: one row per element, one column per property.

    Attributes
    ----------
    symbols : tuple of str
        Element symbols, in row order.
    properties : tuple of str
        Property names with units in the name (``"melting_point_K"``).
    values : numpy.ndarray, shape (n_elements, n_properties)
    """

    symbols: tuple[str, ...]
    properties: tuple[str, ...]
    values: np.ndarray

    def select(self, properties: Sequence[str] | None) -> ElementTable:
        """The same table restricted to ``properties`` (all when None)."""
        if properties is None:
            return self
        unknown = [p for p in properties if p not in self.properties]
        if unknown:
            known = ", ".join(self.properties)
            raise MIInputError(f"Unknown element property {unknown[0]!r}; choose from {known}.")
        columns = [self.properties.index(p) for p in properties]
        return ElementTable(self.symbols, tuple(properties), self.values[:, columns])


@lru_cache(maxsize=4)
def _load_element_table(path: str) -> ElementTable:
    table = read_table(Path(path))
    symbols = tuple(str(s) for s in table.column("symbol"))
    properties = tuple(c for c in table.columns if c != "symbol")
    values = np.column_stack([table.numeric(p) for p in properties])
    return ElementTable(symbols, properties, values)


def load_element_table(path: str | Path | None = None) -> ElementTable:
    """Read an element-property table (default: the shipped ``data/elements.csv``).

    Parameters
    ----------
    path : str or Path, optional
        A CSV with a ``symbol`` column and numeric property columns.

    Examples
    --------
    >>> table = load_element_table()
    >>> "Cu" in table.symbols and "electronegativity_pauling" in table.properties
    True
    """
    return _load_element_table(str(path or DATA_DIR / "elements.csv"))


def _parse_string(text: str) -> tuple[list[str], list[float], bool]:
    compact = re.sub(r"\s+", "", text)
    if not compact:
        raise MIInputError("A composition is empty; write it like 'Cu0.5Ni0.5' or 'Cu2Ni'.")
    symbols, amounts, fractional = [], [], False
    position = 0
    for match in _TOKEN.finditer(compact):
        if match.start() != position:
            break
        symbols.append(match.group(1))
        number = match.group(2)
        amounts.append(float(number) if number else 1.0)
        fractional |= bool(number) and "." in number
        position = match.end()
    if position != len(compact):
        raise MIInputError(
            f"Cannot read composition {text!r} at {compact[position:]!r}; "
            "write it like 'Cu0.5Ni0.5' or 'Cu2Ni'."
        )
    return symbols, amounts, fractional


def parse_composition(composition: str | Mapping[str, float]) -> dict[str, float]:
    """Atomic fractions of a composition, summing to one.

    Whole-number amounts ("Cu2Ni", ``{"Cu": 2, "Ni": 1}``) are counts and are
    normalised; decimal amounts ("Cu0.5Ni0.5") are fractions and must sum to
    one (within 0.01).  Repeated elements add up.

    Raises
    ------
    MIInputError
        For unreadable text, negative or zero amounts, or fractions that do not
        sum to one.

    Examples
    --------
    >>> parse_composition("Cu2Ni")
    {'Cu': 0.6666666666666666, 'Ni': 0.3333333333333333}
    >>> parse_composition({"Cu": 0.5, "Au": 0.5})
    {'Cu': 0.5, 'Au': 0.5}
    """
    if isinstance(composition, Mapping):
        symbols = [str(s) for s in composition]
        try:
            amounts = [float(v) for v in composition.values()]
        except (TypeError, ValueError):
            raise MIInputError(
                f"Composition {composition!r} must map elements to numbers."
            ) from None
        fractional = any(a != int(a) for a in amounts if np.isfinite(a))
    elif isinstance(composition, str):
        composition = str(composition)  # numpy str_ -> str, for readable messages
        symbols, amounts, fractional = _parse_string(composition)
    else:
        raise MIInputError(
            "A composition must be text like 'Cu0.5Ni0.5' or a dict; "
            f"got {type(composition).__name__}."
        )
    if not symbols or not all(np.isfinite(a) and a > 0 for a in amounts):
        raise MIInputError(f"Composition {composition!r} needs positive amounts for every element.")
    total = sum(amounts)
    if fractional and abs(total - 1.0) > _SUM_TOLERANCE:
        raise MIInputError(
            f"The fractions of {composition!r} sum to {total:.3g}, not 1; fix them or give counts."
        )
    fractions: dict[str, float] = {}
    for symbol, amount in zip(symbols, amounts, strict=True):
        fractions[symbol] = fractions.get(symbol, 0.0) + amount / total
    return fractions


def composition_matrix(
    compositions: Iterable[str | Mapping[str, float]], symbols: Sequence[str]
) -> np.ndarray:
    """Atomic fractions as a matrix, one row per composition, one column per symbol.

    Raises
    ------
    MIInputError
        If a composition contains an element not in ``symbols``.

    Examples
    --------
    >>> composition_matrix(["CuNi", "Cu"], ["Cu", "Ni"])
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    column = {s: j for j, s in enumerate(symbols)}
    rows = []
    for i, composition in enumerate(compositions):
        if isinstance(composition, str):
            composition = str(composition)
        fractions = parse_composition(composition)
        row = np.zeros(len(symbols))
        for symbol, x in fractions.items():
            if symbol not in column:
                raise MIInputError(
                    f"Composition {i} ({composition!r}) contains {symbol!r}, which is not in the "
                    "element table; check the symbol or add the element to the table."
                )
            row[column[symbol]] = x
        rows.append(row)
    if not rows:
        raise MIInputError("No compositions given; pass at least one, like 'Cu0.5Ni0.5'.")
    return np.array(rows)


def composition_groups(compositions: Iterable[str | Mapping[str, float]]) -> np.ndarray:
    """One integer label per distinct composition, for grouped cross-validation.

    Two entries get the same label when their atomic fractions agree to four
    decimals, however they are written ("Cu2Ni", "Cu0.6667Ni0.3333",
    ``{"Ni": 1, "Cu": 2}``).

    Examples
    --------
    >>> composition_groups(["Cu2Ni", "Ni0.3333Cu0.6667", "CuNi"]).tolist()
    [0, 0, 1]
    """
    labels: dict[tuple, int] = {}
    out = []
    for composition in compositions:
        if isinstance(composition, str):
            composition = str(composition)
        fractions = parse_composition(composition)
        key = tuple(sorted((s, round(x, 4)) for s, x in fractions.items()))
        out.append(labels.setdefault(key, len(labels)))
    return np.array(out, dtype=int)


@dataclass(frozen=True)
class CompositionFeatures:
    """A feature matrix with named columns.

    Attributes
    ----------
    values : numpy.ndarray, shape (n_compositions, n_features)
    names : tuple of str
        ``"<statistic>_<property>"``, e.g. ``"mean_electronegativity_pauling"``.
    """

    values: np.ndarray
    names: tuple[str, ...]


def composition_features(
    compositions: Iterable[str | Mapping[str, float]],
    *,
    properties: Sequence[str] | None = None,
    table: ElementTable | None = None,
) -> CompositionFeatures:
    """Magpie-style statistics of elemental properties for each composition.

    For a property p and atomic fractions x_i (sum 1) the statistics are the
    fraction-weighted mean ``sum_i x_i p_i``, the average deviation
    ``sum_i x_i |p_i - mean|``, and the minimum, maximum and range
    (max - min) over the elements present.  These are matminer's
    ``PropertyStats`` ``mean``, ``avg_dev``, ``minimum``, ``maximum`` and
    ``range`` as used by ``ElementProperty.from_preset("magpie")`` (Ward et
    al. 2016); matminer adds ``mode`` and uses its own Magpie property
    tables, so values differ where the elemental data differ.

    Parameters
    ----------
    compositions : iterable of str or dict
        "Cu0.5Ni0.25Au0.25", "Cu2Ni", or ``{"Cu": 0.5, "Ni": 0.5}``.
    properties : sequence of str, optional
        Which element properties to use (default: every column of the table).
    table : ElementTable, optional
        Element properties (default: the shipped ``data/elements.csv``).

    Returns
    -------
    CompositionFeatures
        ``values`` of shape (n, 5 * n_properties) and the column names.

    Raises
    ------
    MIInputError
        For an unknown element, unreadable text or fractions not summing to one.

    Examples
    --------
    >>> f = composition_features(["Cu0.5Au0.5"], properties=["electronegativity_pauling"])
    >>> dict(zip(f.names, f.values[0].round(3)))["mean_electronegativity_pauling"]
    np.float64(2.15)
    """
    table = (table or load_element_table()).select(properties)
    fractions = composition_matrix(compositions, table.symbols)
    used = np.flatnonzero(fractions.any(axis=0))
    x, p = fractions[:, used], table.values[used]  # (n, e), (e, k)
    mean = x @ p
    avg_dev = np.einsum("ne,nek->nk", x, np.abs(p[None, :, :] - mean[:, None, :]))
    present = (x > 0)[:, :, None]
    minimum = np.where(present, p[None], np.inf).min(axis=1)
    maximum = np.where(present, p[None], -np.inf).max(axis=1)
    blocks = {"mean": mean, "avg_dev": avg_dev, "min": minimum, "max": maximum}
    blocks["range"] = maximum - minimum
    values = np.column_stack(
        [blocks[s][:, k] for k in range(len(table.properties)) for s in STATISTICS]
    )
    names = tuple(f"{s}_{prop}" for prop in table.properties for s in STATISTICS)
    return CompositionFeatures(values, names)


@dataclass(frozen=True)
class AlloyFeatures:
    """Composition features and targets of the alloy data set.

    Attributes
    ----------
    X : numpy.ndarray, shape (n_alloys, n_features)
    y : numpy.ndarray
        The chosen target (default: mixing energy, eV/atom).
    stable : numpy.ndarray of int
        1 when the mixing energy is negative.
    names : tuple of str
        Feature names.
    compositions : numpy.ndarray of str
    groups : numpy.ndarray of int
        One label per distinct composition (:func:`composition_groups`): pass it to
        the studies so that cross-validation folds are grouped by composition.
    fractions : numpy.ndarray, shape (n_alloys, n_elements)
        The raw atomic fractions (the input of ElemNet), one column per element.
    elements : tuple of str
        The element of each column of ``fractions``.
    """

    X: np.ndarray
    y: np.ndarray
    stable: np.ndarray
    names: tuple[str, ...]
    compositions: np.ndarray
    groups: np.ndarray
    fractions: np.ndarray
    elements: tuple[str, ...]


#: Eight element properties -> 40 features: a readable default for the labs.
DEFAULT_PROPERTIES = (
    "atomic_number",
    "atomic_mass_u",
    "electronegativity_pauling",
    "covalent_radius_pm",
    "ionisation_energy_eV",
    "valence_electrons",
    "melting_point_K",
    "density_g_cm3",
)


def load_alloy_features(
    target: str = "mixing_energy_eV_per_atom",
    *,
    properties: Sequence[str] | None = DEFAULT_PROPERTIES,
    n_samples: int | None = None,
    random_state: int = 0,
    path: str | Path | None = None,
) -> AlloyFeatures:
    """Composition features of the EMT alloys (``data/alloys.csv``) with a target column.

    Parameters
    ----------
    target : str
        ``mixing_energy_eV_per_atom``, ``lattice_constant_A`` or ``bulk_modulus_GPa``.
    properties : sequence of str or None
        Element properties for the features (None: all of ``data/elements.csv``).
    n_samples : int, optional
        A random subset of this many alloys (for fast notebooks).
    random_state : int
        Seed of the subset.

    Examples
    --------
    >>> data = load_alloy_features(n_samples=100)
    >>> data.X.shape
    (100, 40)
    """
    table = load_alloys(path)
    rows = np.arange(table.n_rows)
    if n_samples is not None and n_samples < table.n_rows:
        rows = np.sort(np.random.default_rng(random_state).choice(rows, n_samples, replace=False))
    compositions = table.column("composition")[rows]
    features = composition_features(compositions, properties=properties)
    elements = tuple(c[2:] for c in table.columns if c.startswith("x_"))
    fractions = np.column_stack([table.numeric(f"x_{e}")[rows] for e in elements])
    return AlloyFeatures(
        X=features.values,
        y=table.numeric(target)[rows],
        stable=table.numeric("stable")[rows].astype(int),
        names=features.names,
        compositions=compositions,
        groups=composition_groups(compositions),
        fractions=fractions,
        elements=elements,
    )


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
