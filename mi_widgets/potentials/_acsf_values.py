"""Symmetry-function values without derivatives: the lighter path of :func:`acsf`.

Per-pair factors are computed once (``exp(-eta r^2) f_c(r)`` for every distinct eta), so a
triplet's radial factor is two gathered pair factors times its own j-k term; the powers
``(1 + lambda cos)^zeta`` share their repeated squares; per-atom sums are sparse products.
Also the helpers both paths share (chunk bounds of centres, the triplet layout).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from mi_widgets.potentials.acsf import ACSFSettings

__all__: list[str] = []

#: Triplets handled at once for values alone: smaller chunks keep the flat temporaries
#: (under 1 MB each) in the CPU cache and out of fresh memory pages, about twice as fast.
TRIPLETS_PER_VALUE_CHUNK = 50_000


def _chunk_bounds(i: np.ndarray, n_atoms: int, settings: ACSFSettings, per_chunk: int):
    """Pair indices that cut the pairs (sorted by centre) into chunks of whole centres.

    A chunk holds at most ``per_chunk`` triplets, or a single centre with more; the first
    bound is 0 and the last ``len(i)`` (consecutive bounds may repeat).
    """
    if not len(i):
        return np.zeros(1, dtype=int)
    counts = np.bincount(i, minlength=n_atoms)
    angular = settings.g4 or settings.g5
    per_atom = counts * (counts - 1) // 2 if angular else np.zeros_like(counts)
    chunk_of_atom = np.cumsum(per_atom) // per_chunk
    return np.searchsorted(chunk_of_atom[i], np.arange(chunk_of_atom[-1] + 2))


def _cutoff_value(r: np.ndarray, r_cut: float) -> np.ndarray:
    """Cosine cut-off alone (no slope), computed in place on one temporary."""
    value = np.cos(np.multiply(r, np.pi / r_cut))
    value += 1.0
    value *= 0.5
    return value


def _triplet_layout(i: np.ndarray, n_atoms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`triplets` and ``after``: how many triplets each pair opens as ``first``.

    ``first`` is ``np.repeat(np.arange(len(i)), after)``, so a pair quantity ``x`` reads
    ``x[first]`` as ``np.repeat(x, after)``, a faster copy than the gather.
    """
    counts = np.bincount(i, minlength=n_atoms)
    starts = np.cumsum(counts) - counts
    pair = np.arange(len(i))
    after = counts[i] - (pair - starts[i]) - 1  # later pairs of the same centre
    opened = np.cumsum(after) - after  # triplets before those pair p opens
    # triplet t of pair p pairs it with p + 1 + (t - opened[p])
    second = np.repeat(pair + 1 - opened, after)
    second += np.arange(len(second))
    return np.repeat(pair, after), second, after


def _values(i, j, vectors, r, kinds, settings: ACSFSettings) -> np.ndarray:
    """Features alone: no derivative arrays, the angular part chunk by chunk of centres."""
    n_atoms, n_species = len(kinds), len(settings.species)
    features = np.zeros((n_atoms, settings.n_features))
    if not len(i):
        return features
    fc = _cutoff_value(r, settings.r_cut)
    radial_columns = n_species * settings.n_radial
    features[:, :radial_columns] = _radial_values(i, j, r, fc, kinds, settings)
    if settings.g4:
        _angular_values(i, j, vectors, r, fc, kinds, settings, out=features[:, radial_columns:])
    return features


def _row_sums(weights: np.ndarray, n_rows: int, rows=None, indptr=None) -> sp.csr_matrix:
    """Sparse matrix ``M``: ``(M @ x)[m]`` sums ``weights[t] x[t]`` over the entries of row m.

    Give the row of every entry, ``rows`` (any order), or, for entries already in row
    order, ``indptr`` (row m holds entries ``indptr[m]:indptr[m + 1]``; no sorting).
    """
    n = len(weights)
    index = np.int32 if n < np.iinfo(np.int32).max else np.int64  # what scipy would pick
    columns = np.arange(n, dtype=index)
    if indptr is None:
        return sp.csr_matrix((weights, (rows, columns)), shape=(n_rows, n))
    return sp.csr_matrix((weights, columns, indptr.astype(index)), shape=(n_rows, n))


def _radial_values(i, j, r, fc, kinds, settings: ACSFSettings) -> np.ndarray:
    """G1 and G2 columns, (n_atoms, n_species * n_radial): one sparse product over the pairs."""
    n_atoms, n_species = len(kinds), len(settings.species)
    g2 = np.array(settings.g2, dtype=float).reshape(-1, 2)
    radial = np.ones((len(r), settings.n_radial))
    np.exp(-g2[:, 0] * (r[:, None] - g2[:, 1]) ** 2, out=radial[:, 1:])
    if n_species == 1:
        sums = _row_sums(fc, n_atoms, indptr=np.searchsorted(i, np.arange(n_atoms + 1)))
    else:  # rows (centre, element of the neighbour)
        sums = _row_sums(fc, n_atoms * n_species, rows=i * n_species + kinds[j])
    total = sums @ radial
    return total.reshape(n_atoms, n_species * settings.n_radial)


def _angular_values(i, j, vectors, r, fc, kinds, settings: ACSFSettings, out) -> None:
    """Write the G4 columns into ``out``, (n_atoms, n_blocks * n_g4), chunk by chunk.

    Per-pair factors are computed once: the coordinates, ``1/r`` and, for every
    distinct eta, ``exp(-eta r^2) f_c(r)``, so that a triplet's radial factor is a product
    of two gathered pair factors and its own ``exp(-eta r_jk^2) f_c(r_jk)``.
    """
    g4 = np.array(settings.g4, dtype=float).reshape(-1, 3)
    r2 = r * r
    pair = {
        "xyz": np.ascontiguousarray(vectors.T),
        "inverse": 1.0 / r,
        "kind": kinds[j],
        "radial": {eta: np.exp(-eta * r2) * fc for eta in np.unique(g4[:, 0])},
    }
    bounds = _chunk_bounds(i, len(kinds), settings, TRIPLETS_PER_VALUE_CHUNK)
    for start, stop in itertools.pairwise(bounds):
        if start < stop:
            lo, hi = i[start], i[stop - 1] + 1
            out[lo:hi] = _angular_chunk(i[start:stop] - lo, start, pair, g4, settings)


def _angular_chunk(centre, offset, pair, g4, settings: ACSFSettings) -> np.ndarray:
    """G4 columns of the centres ``0 .. centre[-1]`` of pairs ``offset + arange(len(centre))``."""
    n_local = centre[-1] + 1
    local = slice(offset, offset + len(centre))
    first, second, cos, r12_squared = _close_triplets(centre, pair["xyz"][:, local], settings.r_cut)
    inverse = pair["inverse"][local]
    cos *= np.take(inverse, first)
    cos *= np.take(inverse, second)
    cut12 = _cutoff_value(np.sqrt(r12_squared), settings.r_cut)
    n_species = len(settings.species)
    n_blocks = n_species * (n_species + 1) // 2
    if n_blocks == 1:  # triplets come in centre order: row m ends where centre m + 1 begins
        rows = {"indptr": np.searchsorted(first, np.searchsorted(centre, np.arange(n_local + 1)))}
    else:  # row (centre, unordered element pair of the neighbours)
        a, b = np.take(pair["kind"][local], first), np.take(pair["kind"][local], second)
        high, low = np.maximum(a, b), np.minimum(a, b)
        rows = {"rows": np.take(centre, first) * n_blocks + high * (high + 1) // 2 + low}
    terms = _angular_terms(cos, g4)
    result = np.empty((n_local, n_blocks * len(g4)))
    for eta, radial in pair["radial"].items():
        weights = np.exp(-eta * r12_squared)
        weights *= cut12
        weights *= np.take(radial[local], first)
        weights *= np.take(radial[local], second)
        sums = _row_sums(weights, n_local * n_blocks, **rows)
        for k in np.flatnonzero(g4[:, 0] == eta):
            _, zeta, lam = g4[k]
            column = sums @ terms[lam, zeta]
            result[:, k :: len(g4)] = column.reshape(n_local, n_blocks) * 2.0 ** (1.0 - zeta)
    return result


def _close_triplets(centre, xyz, r_cut: float) -> tuple[np.ndarray, ...]:
    """Triplets of the pairs of ``centre`` (sorted) with the j-k distance below ``r_cut``.

    DScribe leaves out the others. Returns the pair indices ``first`` and ``second`` (into
    ``centre``), the dot product of the two pair vectors (``xyz``, shape (3, n_pairs))
    and the squared j-k distance.
    """
    first, second, after = _triplet_layout(centre, centre[-1] + 1)
    x, y, z = xyz
    dot = np.repeat(x, after) * np.take(x, second)
    dot += np.repeat(y, after) * np.take(y, second)
    dot += np.repeat(z, after) * np.take(z, second)
    squares = x * x + y * y + z * z
    r12_squared = np.repeat(squares, after)
    r12_squared += np.take(squares, second)
    r12_squared -= 2.0 * dot
    keep = np.flatnonzero(r12_squared < r_cut * r_cut)
    return tuple(np.take(a, keep) for a in (first, second, dot, r12_squared))


def _angular_terms(cos: np.ndarray, g4: np.ndarray) -> dict:
    """``(1 + lambda cos)^zeta`` for every distinct ``(lambda, zeta)`` of the G4 rows.

    Integer exponents are built from repeated squares shared by every zeta of one
    lambda: with zeta = 1, 2, 4, 16 the four columns cost four products.
    """
    terms = {}
    for lam in np.unique(g4[:, 2]):
        squares = [1.0 + cos if lam > 0 else 1.0 - cos]  # base^(2^k)
        for zeta in np.unique(g4[g4[:, 2] == lam, 1]):
            terms[lam, zeta] = _power(squares, zeta)
    return terms


def _power(squares: list, exponent: float) -> np.ndarray:
    """``squares[0] ** exponent``, extending ``squares`` (``base^(2^k)``) as it needs."""
    if exponent != int(exponent) or exponent > 64:
        return squares[0] ** exponent
    n, k, result = int(exponent), 0, None
    while n:
        if k == len(squares):
            squares.append(squares[-1] * squares[-1])
        if n & 1:
            result = squares[k] if result is None else result * squares[k]
        n >>= 1
        k += 1
    return result
