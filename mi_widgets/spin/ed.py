"""Spin-1/2 Heisenberg clusters: exact diagonalisation by S^z sectors.

Conventions (as in Tamura & Hukushima, PRB 95, 064407 (2017) and Tamura et al.,
PRB 101, 224435 (2020)):

    H = - sum_b J_b [S^x_i S^x_j + S^y_i S^y_j + Delta S^z_i S^z_j] - g mu_B B sum_i S^z_i

with S = 1/2 operators, J in meV (J > 0 ferromagnetic, J < 0 antiferromagnetic),
B in tesla, T in kelvin and the magnetisation in mu_B per spin,
M = g <S^z_total> / N (saturation g / 2).

The total S^z commutes with H, so H is block diagonal in the sectors of fixed
S^z = m (``k`` up spins, m = k - N/2), and the Zeeman term only shifts each
sector rigidly by -g mu_B B m. One diagonalisation of every sector at B = 0
therefore gives the levels at every field and every temperature:
E_{m,n}(B) = E_{m,n}(0) - g mu_B B m. The global spin flip maps sector m onto
-m with the same zero-field spectrum, so only m <= 0 is diagonalised. Thermal
averages shift the exponent by the lowest level at each field (log-sum-exp) and
stay finite down to T -> 0; T = 0 is the limit (ground state, degenerate
ground states averaged).

Beyond :data:`MAX_FULL_ED` spins only the T = 0 path is offered: the lowest
level of every sector by sparse Lanczos (:func:`scipy.sparse.linalg.eigsh`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.linalg import eigh
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh
from scipy.special import comb

from mi_widgets._errors import MIInputError, check_finite_array, check_increasing
from mi_widgets._threads import one_blas_thread

__all__ = [
    "BOHR_MAGNETON_MEV_PER_T",
    "BOLTZMANN_MEV_PER_K",
    "MAX_FULL_ED",
    "MAX_SPARSE_ED",
    "Spectrum",
    "SpinCluster",
    "check_fields",
    "check_temperatures",
    "differential_susceptibility",
    "energy_levels",
    "ground_state_energies",
    "magnetization",
    "spin_gap",
    "susceptibility",
]

#: Bohr magneton in meV per tesla (CODATA 2018).
BOHR_MAGNETON_MEV_PER_T = 5.7883818060e-2
#: Boltzmann constant in meV per kelvin (CODATA 2018).
BOLTZMANN_MEV_PER_K = 8.617333262e-2
#: Largest cluster for full diagonalisation (finite temperature).
MAX_FULL_ED = 14
#: Largest cluster for the sparse (Lanczos) T = 0 path.
MAX_SPARSE_ED = 20
#: Sectors up to this dimension are stored and diagonalised as dense matrices.
_DENSE_LIMIT = 1200


class SpinCluster:
    """A cluster of S = 1/2 spins and its bonds, each bond carrying a named coupling.

    Parameters
    ----------
    n_spins : int
        Number of spins, 1 to :data:`MAX_SPARSE_ED`.
    bonds : sequence of (int, int, str)
        ``(i, j, name)``: spins ``i`` and ``j`` (0-based) interact through the
        coupling ``name``; several bonds may share one name.

    Attributes
    ----------
    n_spins : int
    bonds : tuple of (int, int, str)
    names : tuple of str
        The coupling names in order of first appearance.
    components : tuple of tuple of int
        The connected groups of spins; more than one means a disconnected
        cluster (allowed: the groups are independent), see :attr:`is_connected`.

    Examples
    --------
    >>> dimer = SpinCluster(2, [(0, 1, "J")])
    >>> dimer.names
    ('J',)
    >>> SpinCluster(4, [(0, 1, "J"), (2, 3, "J")]).components
    ((0, 1), (2, 3))
    """

    def __init__(self, n_spins: int, bonds: Iterable[Sequence[Any]]) -> None:
        if isinstance(n_spins, bool) or not isinstance(n_spins, (int, np.integer)):
            raise MIInputError(f"n_spins must be a whole number; got {n_spins!r}.")
        if not 1 <= n_spins <= MAX_SPARSE_ED:
            raise MIInputError(
                f"n_spins must be between 1 and {MAX_SPARSE_ED} for exact diagonalisation; "
                f"got {n_spins}."
            )
        self.n_spins = int(n_spins)
        checked: list[tuple[int, int, str]] = []
        seen: dict[tuple[int, int], int] = {}
        for k, bond in enumerate(bonds):
            if isinstance(bond, str) or len(bond) != 3:
                raise MIInputError(f"bond {k} must be (i, j, name); got {bond!r}.")
            i, j, name = bond
            for index in (i, j):
                if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                    raise MIInputError(f"bond {k} has a non-integer spin index {index!r}.")
                if not 0 <= index < self.n_spins:
                    raise MIInputError(
                        f"bond {k} joins spin {index}, but the cluster has spins "
                        f"0 to {self.n_spins - 1}."
                    )
            if i == j:
                raise MIInputError(f"bond {k} joins spin {i} to itself; a bond needs two spins.")
            if not isinstance(name, str) or not name.strip():
                raise MIInputError(f"bond {k} needs a non-empty coupling name; got {name!r}.")
            key = (min(int(i), int(j)), max(int(i), int(j)))
            if key in seen:
                raise MIInputError(
                    f"bond {k} repeats the pair {key} of bond {seen[key]}; list each pair once."
                )
            seen[key] = k
            checked.append((int(i), int(j), name.strip()))
        self.bonds = tuple(checked)
        self.names = tuple(dict.fromkeys(name for _, _, name in self.bonds))
        self.components = self._find_components()
        self._sectors: dict[int, _Sector] = {}

    def _find_components(self) -> tuple[tuple[int, ...], ...]:
        n = self.n_spins
        if not self.bonds:
            return tuple((i,) for i in range(n))
        rows = [i for i, _, _ in self.bonds]
        cols = [j for _, j, _ in self.bonds]
        graph = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        groups: dict[int, list[int]] = {}
        for spin, label in enumerate(labels):
            groups.setdefault(int(label), []).append(spin)
        return tuple(tuple(g) for g in groups.values())

    @property
    def is_connected(self) -> bool:
        """True when every spin is linked to every other through bonds."""
        return len(self.components) == 1

    def __repr__(self) -> str:
        extra = "" if self.is_connected else f", {len(self.components)} disconnected parts"
        return (
            f"SpinCluster(n_spins={self.n_spins}, {len(self.bonds)} bonds, "
            f"couplings {list(self.names)}{extra})"
        )

    def coupling_vector(self, couplings: Mapping[str, float]) -> np.ndarray:
        """The couplings as an array in the order of :attr:`names` (meV).

        Raises
        ------
        MIInputError
            If a name is missing, unknown, or a value is not a finite number.
        """
        if not isinstance(couplings, Mapping):
            raise MIInputError(
                f"couplings must be a dict of name -> value in meV; got {type(couplings).__name__}."
            )
        missing = [n for n in self.names if n not in couplings]
        if missing:
            raise MIInputError(
                f"couplings lack {', '.join(missing)}; give a value (meV) for every name in "
                f"{list(self.names)}."
            )
        unknown = [str(n) for n in couplings if n not in self.names]
        if unknown:
            raise MIInputError(
                f"couplings name {', '.join(unknown)}, which no bond uses; the cluster's "
                f"couplings are {list(self.names)}."
            )
        values = np.array([_as_float(couplings[n], f"coupling {n}") for n in self.names])
        return values

    def sector(self, n_up: int) -> _Sector:
        """The S^z sector with ``n_up`` up spins (built once, then cached)."""
        if n_up not in self._sectors:
            self._sectors[n_up] = _Sector(self, n_up)
        return self._sectors[n_up]


def _as_float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MIInputError(f"{name} must be a number; got {value!r}.") from None
    if not np.isfinite(number):
        raise MIInputError(f"{name} must be finite; got {value!r}.")
    return number


class _Sector:
    """The basis and the per-coupling bond operators of one S^z sector."""

    def __init__(self, cluster: SpinCluster, n_up: int) -> None:
        n = cluster.n_spins
        states = _states_with_popcount(n, n_up)
        self.n_up = n_up
        self.sz = n_up - n / 2
        self.dim = states.size
        n_names = len(cluster.names)
        name_index = {name: k for k, name in enumerate(cluster.names)}
        # Diagonal S^z_i S^z_j per coupling name, and the flip-flop (S+S- + S-S+)/2 part.
        self.zz = np.zeros((n_names, self.dim))
        rows: list[list[np.ndarray]] = [[] for _ in range(n_names)]
        cols: list[list[np.ndarray]] = [[] for _ in range(n_names)]
        for i, j, name in cluster.bonds:
            c = name_index[name]
            bi = (states >> i) & 1
            bj = (states >> j) & 1
            self.zz[c] += np.where(bi == bj, 0.25, -0.25)
            differ = np.flatnonzero(bi != bj)
            if differ.size:
                flipped = states[differ] ^ ((1 << i) | (1 << j))
                rows[c].append(differ)
                cols[c].append(np.searchsorted(states, flipped))
        self.xy: list[sparse.csr_matrix] = []
        for c in range(n_names):
            r = np.concatenate(rows[c]) if rows[c] else np.zeros(0, int)
            q = np.concatenate(cols[c]) if cols[c] else np.zeros(0, int)
            self.xy.append(
                sparse.csr_matrix((np.full(r.size, 0.5), (r, q)), shape=(self.dim, self.dim))
            )
        self.dense = self.dim <= _DENSE_LIMIT
        self.xy_dense = np.stack([m.toarray() for m in self.xy]) if self.dense else None

    def hamiltonian(self, j: np.ndarray, delta: float) -> np.ndarray | sparse.csr_matrix:
        """H at B = 0 in this sector (dense when small, CSR otherwise)."""
        diag = -delta * (j @ self.zz)
        if self.dense:
            h = -np.tensordot(j, self.xy_dense, axes=1)
            h[np.diag_indices(self.dim)] += diag
            return h
        h = sparse.diags(diag, format="csr")
        for jc, m in zip(j, self.xy, strict=True):
            if jc != 0.0:
                h = h - jc * m
        return h.tocsr()

    def eigenvalues(self, j: np.ndarray, delta: float) -> np.ndarray:
        h = self.hamiltonian(j, delta)
        if sparse.issparse(h):
            h = h.toarray()
        return eigh(h, eigvals_only=True, overwrite_a=True, check_finite=False)

    def lowest(self, j: np.ndarray, delta: float) -> float:
        h = self.hamiltonian(j, delta)
        if self.dim <= 64 or not sparse.issparse(h):
            dense = h.toarray() if sparse.issparse(h) else h
            return float(eigh(dense, eigvals_only=True, subset_by_index=[0, 0])[0])
        v0 = np.random.default_rng(self.n_up).standard_normal(self.dim)
        value = eigsh(h, k=1, which="SA", v0=v0, tol=1e-12, return_eigenvectors=False)
        return float(value[0])


def _states_with_popcount(n: int, k: int) -> np.ndarray:
    """All n-bit integers with k bits set, sorted."""
    every = np.arange(1 << n, dtype=np.int64)
    bits = np.zeros(every.size, dtype=np.int64)
    for b in range(n):
        bits += (every >> b) & 1
    return every[bits == k]


@dataclass(frozen=True)
class Spectrum:
    """All levels of a cluster at B = 0 with their S^z, ready for any field and temperature.

    Attributes
    ----------
    energies : numpy.ndarray
        Zero-field levels (meV), every S^z member of every multiplet, shape (2^N,)
        for full ED or one lowest level per sector for the T = 0 path.
    sz : numpy.ndarray
        Total S^z of each level.
    n_spins : int
    complete : bool
        True for the full spectrum (finite temperatures allowed).
    """

    energies: np.ndarray
    sz: np.ndarray
    n_spins: int
    complete: bool = True

    def at_field(self, fields: np.ndarray, g: float = 2.0) -> np.ndarray:
        """Levels at each field (meV), shape (n_fields, n_levels)."""
        zeeman = g * BOHR_MAGNETON_MEV_PER_T * np.asarray(fields, float)
        return self.energies[None, :] - zeeman[:, None] * self.sz[None, :]

    def moments(self, fields: np.ndarray, temperature: float, g: float = 2.0):
        """Thermal <S^z_total> and Var(S^z_total) at each field (one temperature)."""
        levels = self.at_field(fields, g)
        if temperature == 0.0:
            low = levels.min(axis=1, keepdims=True)
            scale = np.maximum(1.0, np.abs(low))
            weights = (levels - low <= 1e-9 * scale).astype(float)
        else:
            if not self.complete:
                raise MIInputError(
                    "finite temperatures need the full spectrum; this one holds only the "
                    "lowest level of each sector (T = 0)."
                )
            beta = 1.0 / (BOLTZMANN_MEV_PER_K * temperature)
            weights = np.exp(-beta * (levels - levels.min(axis=1, keepdims=True)))
        weights /= weights.sum(axis=1, keepdims=True)
        mean = weights @ self.sz
        second = weights @ (self.sz**2)
        return mean, np.maximum(second - mean**2, 0.0)


def check_fields(fields: Any, name: str = "fields") -> np.ndarray:
    """Fields in tesla: 1-D, finite, strictly increasing.

    Examples
    --------
    >>> check_fields([0, 1, 2])
    array([0., 1., 2.])
    """
    values = check_finite_array(fields, name, ndim=(0, 1))
    values = np.atleast_1d(values)
    if values.size > 1:
        check_increasing(values, name)
    return values


def check_temperatures(temperature: Any, name: str = "temperature") -> np.ndarray:
    """Temperatures in kelvin, finite and not negative, as a 1-D array."""
    values = np.atleast_1d(check_finite_array(temperature, name, ndim=(0, 1)))
    if (values < 0).any():
        bad = float(values[values < 0][0])
        raise MIInputError(f"{name} must be 0 K or above; got {bad:g} K.")
    return values


def _check_g_delta(g: Any, delta: Any) -> tuple[float, float]:
    g = _as_float(g, "g")
    if g <= 0:
        raise MIInputError(f"g must be positive (about 2 for Cu2+); got {g:g}.")
    return g, _as_float(delta, "delta")


def energy_levels(
    cluster: SpinCluster,
    couplings: Mapping[str, float],
    delta: float = 1.0,
    *,
    lowest_only: bool = False,
) -> Spectrum:
    """The zero-field spectrum of ``cluster``, sector by sector.

    Parameters
    ----------
    cluster : SpinCluster
    couplings : dict of str to float
        One value (meV) per coupling name.
    delta : float, default 1.0
        XXZ anisotropy of every bond (1: isotropic Heisenberg).
    lowest_only : bool, default False
        Keep only the lowest level of each sector (sparse Lanczos beyond 12
        spins): enough for T = 0 curves and the spin gap, up to
        :data:`MAX_SPARSE_ED` spins.

    Returns
    -------
    Spectrum
        Levels at any field follow from :meth:`Spectrum.at_field`.

    Raises
    ------
    MIInputError
        For a missing coupling, or a full spectrum beyond :data:`MAX_FULL_ED` spins.

    Examples
    --------
    >>> dimer = SpinCluster(2, [(0, 1, "J")])
    >>> spec = energy_levels(dimer, {"J": -1.0})
    >>> sorted(spec.energies.round(3).tolist())
    [-0.75, 0.25, 0.25, 0.25]
    """
    j = cluster.coupling_vector(couplings)
    _, delta = _check_g_delta(2.0, delta)
    n = cluster.n_spins
    if not lowest_only and n > MAX_FULL_ED:
        raise MIInputError(
            f"full exact diagonalisation is limited to {MAX_FULL_ED} spins; got {n}. "
            f"Use temperature 0, which takes sparse Lanczos ground states (up to "
            f"{MAX_SPARSE_ED} spins)."
        )
    energies: list[np.ndarray] = []
    sz: list[np.ndarray] = []
    # Small dense blocks: threaded BLAS only adds contention on shared cores.
    with one_blas_thread():
        for n_up in range(n // 2 + 1):
            sector = cluster.sector(n_up)
            if lowest_only:
                values = np.array([sector.lowest(j, delta)])
            else:
                values = sector.eigenvalues(j, delta)
            mirrored = n - n_up != n_up
            for m in (sector.sz, -sector.sz) if mirrored else (sector.sz,):
                energies.append(values)
                sz.append(np.full(values.size, m))
    return Spectrum(np.concatenate(energies), np.concatenate(sz), n, complete=not lowest_only)


def _spectrum_for(cluster, couplings, temperatures, delta) -> Spectrum:
    lowest_only = bool((temperatures == 0).all()) and cluster.n_spins > 12
    if cluster.n_spins > MAX_FULL_ED and not lowest_only:
        raise MIInputError(
            f"finite temperatures need full exact diagonalisation, limited to {MAX_FULL_ED} "
            f"spins; got {cluster.n_spins}. Use temperature 0, which takes sparse Lanczos "
            f"ground states (up to {MAX_SPARSE_ED} spins)."
        )
    return energy_levels(cluster, couplings, delta, lowest_only=lowest_only)


def magnetization(
    cluster: SpinCluster,
    couplings: Mapping[str, float],
    fields: Any,
    temperature: Any,
    g: float = 2.0,
    delta: float = 1.0,
) -> np.ndarray:
    """Magnetisation per spin M(B) (mu_B) at one or several temperatures.

    Parameters
    ----------
    cluster : SpinCluster
    couplings : dict of str to float
        Coupling per name (meV; J > 0 ferromagnetic).
    fields : array_like
        Magnetic fields B (T), strictly increasing.
    temperature : float or array_like
        Temperature(s) T (K), 0 or above; 0 gives the ground-state curve.
    g : float, default 2.0
        g-factor.
    delta : float, default 1.0
        XXZ anisotropy.

    Returns
    -------
    numpy.ndarray
        ``g <S^z_total> / N``: shape (n_fields,) for one temperature,
        (n_temperatures, n_fields) for several.

    Examples
    --------
    >>> dimer = SpinCluster(2, [(0, 1, "J")])
    >>> magnetization(dimer, {"J": -1.0}, [0.0, 20.0], 0.0).round(3).tolist()
    [0.0, 1.0]
    """
    b = check_fields(fields)
    temps = check_temperatures(temperature)
    g, delta = _check_g_delta(g, delta)
    spectrum = _spectrum_for(cluster, couplings, temps, delta)
    out = np.array([spectrum.moments(b, t, g)[0] for t in temps]) * g / cluster.n_spins
    return out[0] if np.ndim(temperature) == 0 else out


def differential_susceptibility(
    cluster: SpinCluster,
    couplings: Mapping[str, float],
    fields: Any,
    temperature: Any,
    g: float = 2.0,
    delta: float = 1.0,
) -> np.ndarray:
    """dM/dB per spin (mu_B / T) at finite temperature(s), from the S^z fluctuations.

    dM/dB = g^2 mu_B Var(S^z_total) / (k_B T N): exact, no finite differences.

    Examples
    --------
    >>> dimer = SpinCluster(2, [(0, 1, "J")])
    >>> float(differential_susceptibility(dimer, {"J": 0.0}, [0.0], 10.0)[0]) > 0
    True
    """
    b = check_fields(fields)
    temps = check_temperatures(temperature)
    if (temps == 0).any():
        raise MIInputError("dM/dB needs temperatures above 0 K (at 0 K it is a set of steps).")
    g, delta = _check_g_delta(g, delta)
    spectrum = _spectrum_for(cluster, couplings, temps, delta)
    rows = []
    for t in temps:
        _, var = spectrum.moments(b, t, g)
        rows.append(g**2 * BOHR_MAGNETON_MEV_PER_T * var / (BOLTZMANN_MEV_PER_K * t))
    out = np.array(rows) / cluster.n_spins
    return out[0] if np.ndim(temperature) == 0 else out


def susceptibility(
    cluster: SpinCluster,
    couplings: Mapping[str, float],
    temperatures: Any,
    g: float = 2.0,
    delta: float = 1.0,
) -> np.ndarray:
    """Zero-field susceptibility chi(T) per spin (mu_B / T), the slope of M(B) at B = 0.

    Examples
    --------
    >>> free = SpinCluster(2, [(0, 1, "J")])
    >>> chi = susceptibility(free, {"J": 0.0}, [10.0])  # Curie: g^2 mu_B / (4 k_B T)
    >>> bool(np.isclose(chi[0], 4 * BOHR_MAGNETON_MEV_PER_T / (4 * BOLTZMANN_MEV_PER_K * 10)))
    True
    """
    temps = check_temperatures(temperatures, "temperatures")
    if (temps == 0).any():
        raise MIInputError("chi(T) needs temperatures above 0 K.")
    out = differential_susceptibility(cluster, couplings, [0.0], temps, g, delta)
    return out[:, 0]


def ground_state_energies(
    cluster: SpinCluster, couplings: Mapping[str, float], delta: float = 1.0
) -> dict[float, float]:
    """The lowest zero-field level of each S^z sector (meV), keyed by S^z >= 0."""
    spectrum = energy_levels(cluster, couplings, delta, lowest_only=cluster.n_spins > 12)
    out: dict[float, float] = {}
    for m in np.unique(spectrum.sz):
        if m >= 0:
            out[float(m)] = float(spectrum.energies[spectrum.sz == m].min())
    return out


def spin_gap(cluster: SpinCluster, couplings: Mapping[str, float], delta: float = 1.0) -> float:
    """The spin gap (meV): lowest level with S^z = S0 + 1 minus the ground level at B = 0.

    S0 is 0 for an even number of spins and 1/2 for an odd one, so for a
    singlet ground state this is the singlet-triplet gap, and g mu_B B_c = gap
    is the field of the first magnetisation step at T = 0. A magnetic ground
    state (ferromagnetic couplings) gives 0.

    Examples
    --------
    >>> dimer = SpinCluster(2, [(0, 1, "J")])
    >>> spin_gap(dimer, {"J": -3.0})
    3.0
    """
    lowest = ground_state_energies(cluster, couplings, delta)
    s0 = 0.0 if cluster.n_spins % 2 == 0 else 0.5
    if s0 + 1 not in lowest:
        raise MIInputError("the spin gap needs at least two spins.")
    gap = lowest[s0 + 1] - min(lowest.values())
    return float(round(max(gap, 0.0), 12))


def n_states(n_spins: int, n_up: int) -> int:
    """Dimension of the sector with ``n_up`` up spins out of ``n_spins``."""
    return int(comb(n_spins, n_up, exact=True))
