"""Magnetisation data: the KCu4(PO4)3 model "experiment", CSV readers for your own curves.

The built-in data set follows the effective model of KCu4P3O12 in Tamura et al.,
PRB 101, 224435 (2020): a quantum Heisenberg chain of 8 Cu2+ spins (S = 1/2) with
four couplings J1 = -8.54, J2 = -2.67, J3 = 3.90, J4 = 6.24 meV (J < 0
antiferromagnetic) and g = 2.08 (ESR). The paper's figure of the bond map is not
available offline here, and the J4 value is as read from the paper's abstract
without a check against its full text; the bonds below are therefore a documented
stand-in: an open zigzag chain (nearest bonds i-(i+1), next-nearest bonds
i-(i+2)), mirror symmetric about its centre, chosen among such maps so that the
paper's couplings give a spin gap (2.86 meV) close to the paper's 2.87 +- 0.06 meV.
It is not the crystal's exchange map. ``scripts/make_spin_data.py`` computes the
curves by exact diagonalisation and adds Gaussian noise of a stated size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mi_widgets._csv import check_line_count, csv_rows
from mi_widgets._errors import MIInputError, check_file, check_finite_array, short_text
from mi_widgets._resources import data_dir
from mi_widgets.spin.ed import (
    SpinCluster,
    check_fields,
    check_temperatures,
    magnetization,
    susceptibility,
)

__all__ = [
    "KCU4P3O12_BONDS",
    "KCU4P3O12_COUPLINGS",
    "KCU4P3O12_G",
    "MagnetizationData",
    "SusceptibilityData",
    "kcu4p3o12_cluster",
    "load_kcu4p3o12",
    "make_magnetization_data",
    "make_susceptibility_data",
    "read_bonds_csv",
    "read_magnetization_csv",
    "read_susceptibility_csv",
]

_NEAREST = ("J2", "J2", "J1", "J4", "J1", "J2", "J2")
_NEXT_NEAREST = ("J4", "J3", "J3", "J3", "J3", "J4")
#: The 8-spin zigzag stand-in for KCu4P3O12: (i, j, coupling name).
KCU4P3O12_BONDS: tuple[tuple[int, int, str], ...] = tuple(
    sorted(
        [(i, i + 1, name) for i, name in enumerate(_NEAREST)]
        + [(i, i + 2, name) for i, name in enumerate(_NEXT_NEAREST)],
        key=lambda bond: (bond[2], bond[0]),
    )
)
#: Couplings of the paper's effective model (meV; J > 0 ferromagnetic).
KCU4P3O12_COUPLINGS: dict[str, float] = {"J1": -8.54, "J2": -2.67, "J3": 3.90, "J4": 6.24}
#: The g-factor from ESR.
KCU4P3O12_G = 2.08
#: Temperatures (K), fields (T) and noise (mu_B per spin) of the built-in curves.
KCU4P3O12_TEMPERATURES = (1.4, 4.2, 20.0)
KCU4P3O12_FIELDS = tuple(float(b) for b in range(76))
KCU4P3O12_NOISE = 0.01 * KCU4P3O12_G / 2
KCU4P3O12_SEED = 20200612

DATA_DIR = data_dir()
#: Most lines read from a CSV of curves (a measured M(B) has hundreds to thousands).
MAX_CSV_LINES = 100_000
#: Most lines of a bonds CSV (12 spins have 66 pairs; comments and blank lines allowed).
MAX_BOND_LINES = 10_000
#: Most temperatures in one magnetisation CSV.
MAX_TEMPERATURES = 50
MAGNETIZATION_FILE = "kcu4p3o12_magnetization.csv"
SUSCEPTIBILITY_FILE = "kcu4p3o12_susceptibility.csv"
BONDS_FILE = "kcu4p3o12_bonds.csv"


@dataclass(frozen=True)
class MagnetizationData:
    """Magnetisation curves on one field grid at several temperatures.

    Attributes
    ----------
    fields : numpy.ndarray
        B (T), strictly increasing, shape (n_fields,).
    temperatures : numpy.ndarray
        T (K), shape (n_temperatures,).
    m : numpy.ndarray
        M (mu_B per spin), shape (n_temperatures, n_fields).
    noise : float or None
        The standard deviation of the added noise when known (generated data).
    """

    fields: np.ndarray
    temperatures: np.ndarray
    m: np.ndarray
    noise: float | None = None

    def to_csv(self) -> str:
        """The curves as CSV text: ``temperature_K,field_T,magnetization_muB``."""
        lines = ["temperature_K,field_T,magnetization_muB"]
        for t, row in zip(self.temperatures, self.m, strict=True):
            lines += [f"{t:.6g},{b:.6g},{m:.8f}" for b, m in zip(self.fields, row, strict=True)]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SusceptibilityData:
    """Zero-field susceptibility chi(T) (mu_B / T per spin) at temperatures T (K)."""

    temperatures: np.ndarray
    chi: np.ndarray
    noise: float | None = None

    def to_csv(self) -> str:
        """The curve as CSV text: ``temperature_K,chi_muB_per_T``."""
        rows = [f"{t:.6g},{c:.8f}" for t, c in zip(self.temperatures, self.chi, strict=True)]
        return "\n".join(["temperature_K,chi_muB_per_T", *rows]) + "\n"


def kcu4p3o12_cluster() -> SpinCluster:
    """The 8-spin zigzag stand-in cluster of KCu4P3O12 (see the module docstring).

    Examples
    --------
    >>> kcu4p3o12_cluster().names
    ('J1', 'J2', 'J3', 'J4')
    """
    return SpinCluster(8, KCU4P3O12_BONDS)


def make_magnetization_data(
    cluster: SpinCluster,
    couplings: Mapping[str, float],
    fields,
    temperatures,
    *,
    g: float = 2.0,
    noise: float = 0.0,
    seed: int | None = 0,
) -> MagnetizationData:
    """Exact-diagonalisation curves plus Gaussian noise of standard deviation ``noise``.

    Examples
    --------
    >>> dimer = SpinCluster(2, [(0, 1, "J")])
    >>> data = make_magnetization_data(dimer, {"J": -1.0}, [0, 30], [1.0], noise=0.0)
    >>> data.m.shape
    (1, 2)
    """
    b = check_fields(fields)
    t = check_temperatures(temperatures, "temperatures")
    if noise < 0:
        raise MIInputError(f"noise must be 0 or positive; got {noise:g}.")
    m = np.atleast_2d(magnetization(cluster, couplings, b, t, g=g))
    rng = np.random.default_rng(seed)
    m = m + rng.normal(0.0, noise, m.shape) if noise > 0 else m
    return MagnetizationData(b, t, m, float(noise))


def make_susceptibility_data(
    cluster: SpinCluster,
    couplings: Mapping[str, float],
    temperatures,
    *,
    g: float = 2.0,
    noise: float = 0.0,
    seed: int | None = 0,
) -> SusceptibilityData:
    """chi(T) by exact diagonalisation plus Gaussian noise of standard deviation ``noise``."""
    t = check_temperatures(temperatures, "temperatures")
    chi = susceptibility(cluster, couplings, t, g=g)
    rng = np.random.default_rng(seed)
    chi = chi + rng.normal(0.0, noise, chi.shape) if noise > 0 else chi
    return SusceptibilityData(t, chi, float(noise))


def _text(source: str | Path, what: str) -> str:
    """The CSV text: ``source`` itself when it holds a line break, else the file it names."""
    if isinstance(source, str) and ("\n" in source or "\r" in source):
        return source
    path = check_file(source)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise MIInputError(f"the {what} CSV is not UTF-8 text; save it as CSV.") from None


def _rows(source: str | Path, expected: int, what: str) -> np.ndarray:
    """The numeric rows of a CSV (a header line and ``#`` comments skipped), all finite."""
    text = _text(source, what)
    check_line_count(text, f"the {what} CSV", MAX_CSV_LINES, "thin the curve")
    rows: list[list[float]] = []
    for k, row in enumerate(csv_rows(text, f"the {what} CSV")):
        if not row or row[0].lstrip().startswith("#"):
            continue
        if len(row) != expected:
            raise MIInputError(
                f"line {k + 1} of the {what} CSV has {len(row)} columns; expected {expected}."
            )
        try:
            rows.append([float(v) for v in row])
        except ValueError:
            if rows:
                shown = short_text(", ".join(row), 60)
                raise MIInputError(
                    f"line {k + 1} of the {what} CSV is not numeric: {shown}."
                ) from None
            continue  # a header line
    if not rows:
        raise MIInputError(f"the {what} CSV holds no numeric rows.")
    return check_finite_array(np.array(rows), f"the {what} CSV (row, column)", ndim=2)


def read_magnetization_csv(source: str | Path) -> MagnetizationData:
    """Read curves from CSV: columns B (T), M (mu_B per spin), optionally T (K) first.

    Two columns ``B, M`` give one curve (temperature 0 unless stated later);
    three columns ``T, B, M`` give one curve per temperature, all on one field
    grid. A header line and ``#`` comments are skipped.

    Parameters
    ----------
    source : str or pathlib.Path
        A path, or the CSV text itself.

    Examples
    --------
    >>> read_magnetization_csv("T,B,M\\n2,0,0\\n2,10,0.3\\n").m.tolist()
    [[0.0, 0.3]]
    """
    text = _text(source, "magnetisation")
    first = next((line for line in text.splitlines() if line.strip()), "")
    n_cols = len(csv_rows(first, "the magnetisation CSV")[0]) if first else 0
    if n_cols not in (2, 3):
        raise MIInputError(
            f"a magnetisation CSV needs columns B, M or T, B, M; got {n_cols} columns."
        )
    table = _rows(text + "\n", n_cols, "magnetisation")
    if n_cols == 2:
        table = np.column_stack([np.zeros(len(table)), table])
    temps = list(dict.fromkeys(table[:, 0].tolist()))
    if len(temps) > MAX_TEMPERATURES:
        raise MIInputError(
            f"the magnetisation CSV holds curves at {len(temps):,} temperatures; give at most "
            f"{MAX_TEMPERATURES}, each with the same field grid."
        )
    fields = None
    curves = []
    for t in temps:
        rows = table[table[:, 0] == t]
        b = check_fields(rows[:, 1], f"the fields at T = {t:g} K")
        if fields is None:
            fields = b
        elif b.shape != fields.shape or not np.allclose(b, fields):
            raise MIInputError(
                f"the curve at T = {t:g} K uses other fields than the first; give every "
                "temperature the same field grid."
            )
        curves.append(rows[:, 2])
    t_arr = check_temperatures(np.array(temps), "temperatures")
    return MagnetizationData(fields, t_arr, np.array(curves))


def read_susceptibility_csv(source: str | Path) -> SusceptibilityData:
    """Read chi(T) from CSV: columns T (K), chi (mu_B / T per spin)."""
    table = _rows(source, 2, "susceptibility")
    t = check_fields(table[:, 0], "temperatures")
    return SusceptibilityData(check_temperatures(t, "temperatures"), table[:, 1])


def read_bonds_csv(source: str | Path, n_spins: int | None = None) -> SpinCluster:
    """A cluster from CSV rows ``i, j, name`` (0-based spins); a header line is skipped.

    Examples
    --------
    >>> read_bonds_csv("i,j,name\\n0,1,J1\\n1,2,J1\\n").names
    ('J1',)
    """
    text = _text(source, "bonds")
    check_line_count(text, "the bonds CSV", MAX_BOND_LINES, "list each bond once")
    bonds = []
    for k, row in enumerate(csv_rows(text, "the bonds CSV")):
        if not row or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 3:
            raise MIInputError(
                f"line {k + 1} of the bonds CSV needs i, j, name; "
                f"got {short_text(', '.join(row), 60)}."
            )
        try:
            bonds.append((int(row[0]), int(row[1]), row[2].strip()))
        except ValueError:
            if bonds:
                raise MIInputError(
                    f"line {k + 1} of the bonds CSV has non-integer spins."
                ) from None
    if not bonds:
        raise MIInputError("the bonds CSV holds no bonds.")
    size = n_spins if n_spins is not None else 1 + max(max(i, j) for i, j, _ in bonds)
    return SpinCluster(size, bonds)


def load_kcu4p3o12() -> tuple[SpinCluster, MagnetizationData, SusceptibilityData]:
    """The built-in KCu4P3O12 stand-in: cluster, noisy M(B) at 3 temperatures, noisy chi(T).

    Made by ``scripts/make_spin_data.py`` (see ``data/README.md``).

    Examples
    --------
    >>> cluster, curves, chi = load_kcu4p3o12()
    >>> curves.m.shape
    (3, 76)
    """
    paths = [DATA_DIR / name for name in (BONDS_FILE, MAGNETIZATION_FILE, SUSCEPTIBILITY_FILE)]
    for path in paths:
        if not path.exists():
            raise MIInputError(f"{path} is missing; run python scripts/make_spin_data.py.")
    cluster = read_bonds_csv(paths[0])
    curves = read_magnetization_csv(paths[1])
    chi = read_susceptibility_csv(paths[2])
    return (
        cluster,
        MagnetizationData(curves.fields, curves.temperatures, curves.m, KCU4P3O12_NOISE),
        SusceptibilityData(chi.temperatures, chi.chi, CHI_NOISE),
    )


#: chi(T) points (K) and noise (mu_B / T per spin) of the built-in susceptibility.
CHI_TEMPERATURES = tuple(float(t) for t in np.linspace(2.0, 100.0, 50))
CHI_NOISE = 2e-4
