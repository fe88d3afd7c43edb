"""Per-atom structure descriptors: LAAF (for TS-LPP) and Steinhardt bond order.

Both work on periodic cells (any shape, cells smaller than the cut-off
included, through periodic images) and on clusters, and are vectorised over
neighbour pairs with sparse neighbour matrices; there is no loop over atoms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from ase import Atoms
from scipy.special import gammaln

from mi_widgets._errors import MIInputError, check_finite_array
from mi_widgets.structure._neighbors import _check_overlap, check_atoms, neighbors, pairs_within

__all__ = [
    "LAAF_SI_SETTINGS",
    "SteinhardtResult",
    "laaf_descriptor",
    "spherical_harmonics",
    "steinhardt",
    "wigner_3j_lll",
]


# ----------------------------------------------------------------------------- LAAF

#: LAAF settings that separate the Si MD phases of ``data/`` well: 100 widths
#: 0.05..6 A, R_c = 6 A, R_a = 5 A. With them a 5-nearest-neighbour classifier
#: on the standardised 100-D LAAF tells crystal / liquid / amorphous atoms of
#: ``load_si_md`` apart with 0.998 accuracy (5-fold CV; R_a = 3 A gives 0.93).
LAAF_SI_SETTINGS = {"etas": tuple(np.linspace(0.05, 6.0, 100)), "r_cut": 6.0, "r_avg": 5.0}


def laaf_descriptor(
    atoms: Atoms,
    etas: Sequence[float] | np.ndarray,
    r_cut: float,
    r_avg: float,
    species: Sequence[str] | None = None,
    include_self: bool = True,
) -> np.ndarray:
    """Locally averaged atomic fingerprints (LAAF) of every atom.

    The fingerprint of atom ``i`` at width ``eta_m`` is

    .. math::

        V_i(\\eta_m; R_c) = \\sum_{j \\ne i} \\exp[-(r_{ij}/\\eta_m)^2] f(r_{ij}; R_c),
        \\quad f(r; R_c) = \\tfrac12 [\\cos(\\pi r / R_c) + 1] \\text{ for } r < R_c,

    and the LAAF averages it over the neighbours within :math:`R_a`
    (Tamura et al., PRB 105, 075107 (2022)):
    :math:`\\bar V_i = (V_i + \\sum_{k \\in N_a(i)} V_k) / (|N_a(i)| + 1)`.
    By default atom ``i`` itself is part of its own average (the
    Lechner-Dellago convention the LAAF borrows; our reading of the paper,
    not checked against its text here); ``include_self=False`` gives the
    neighbours-only mean.

    Parameters
    ----------
    atoms : ase.Atoms
        Periodic structure or cluster.
    etas : sequence of float
        Gaussian widths eta_m (Angstrom), positive.
    r_cut : float
        Cut-off R_c of the fingerprint (Angstrom).
    r_avg : float
        Averaging radius R_a (Angstrom); 0 means no averaging.
    species : sequence of str, optional
        Chemical symbols of the neighbour species. With several species the
        fingerprint is resolved by the species of ``j``: one block of
        ``len(etas)`` columns per species, in the order given (the Si-Ge
        construction of the lecture). Default: all neighbours in one block.
    include_self : bool, default True
        Whether atom ``i`` itself is part of its own average.

    Returns
    -------
    numpy.ndarray, shape (n_atoms, n_species * len(etas))
        Column ``s * len(etas) + m`` is species ``s`` at ``etas[m]``.

    Raises
    ------
    MIInputError
        For bad structures, non-positive widths or radii, or unknown species.

    Examples
    --------
    >>> from ase.build import bulk
    >>> si = bulk("Si", "diamond", a=5.431, cubic=True)
    >>> laaf_descriptor(si, etas=[1.0, 2.0], r_cut=3.0, r_avg=3.0).round(4)[0]
    array([0.0018, 0.1113])
    """
    check_atoms(atoms)
    etas = check_finite_array(etas, "etas", ndim=1)
    if (etas <= 0).any():
        raise MIInputError("etas must all be positive widths in Angstrom.")
    try:
        r_cut, r_avg = float(r_cut), float(r_avg)
    except (TypeError, ValueError):
        raise MIInputError(
            f"r_cut and r_avg must be distances in Angstrom; got {r_cut!r} and {r_avg!r}."
        ) from None
    if not np.isfinite(r_cut) or r_cut <= 0:
        raise MIInputError(f"r_cut must be a positive distance in Angstrom; got {r_cut!r}.")
    if not np.isfinite(r_avg) or r_avg < 0:
        raise MIInputError(f"r_avg must be a distance >= 0 in Angstrom; got {r_avg!r}.")
    symbols = np.array(atoms.get_chemical_symbols())
    species = _check_species(species, symbols)

    r_search = max(float(r_cut), r_avg)
    pairs = _check_overlap(pairs_within(atoms, r_search))
    fingerprint = _fingerprint(pairs, symbols, species, etas, float(r_cut))
    if r_avg == 0:
        return fingerprint
    near = pairs.distances < r_avg
    centres, others = pairs.i[near], pairs.j[near]
    if include_self:
        centres = np.concatenate([centres, np.arange(len(atoms))])
        others = np.concatenate([others, np.arange(len(atoms))])
    averaging = sp.csr_matrix(
        (np.ones(len(centres)), (centres, others)), shape=(len(atoms), len(atoms))
    )
    sizes = np.maximum(np.asarray(averaging.sum(axis=1)).ravel(), 1.0)
    return np.asarray(averaging @ fingerprint) / sizes[:, None]


def _fingerprint(pairs, symbols, species, etas, r_cut, chunk=16384) -> np.ndarray:
    """V_i(eta_m) for every atom, one block of columns per neighbour species.

    Each unordered pair is evaluated once (the Gaussian is symmetric in i, j)
    and added to both atoms through a sparse (n_atoms x n_pairs) matrix whose
    entries are the cut-off weights; pairs are processed in chunks so the
    (pairs x etas) table stays small.
    """
    n_atoms = pairs.n_atoms
    once = _one_direction(pairs) & (pairs.distances < r_cut)
    i, j, r = pairs.i[once], pairs.j[once], pairs.distances[once]
    weight = 0.5 * (np.cos(np.pi * r / r_cut) + 1.0)
    inv_width2 = -1.0 / etas**2
    n_species = len(species)
    if n_species == 1:
        kind = np.zeros(len(symbols), dtype=int)
    else:
        lookup = {name: k for k, name in enumerate(species)}
        kind = np.array([lookup[s] for s in symbols])
    # neighbour j counts in atom i's block of j's species, and vice versa
    target_i = i * n_species + kind[j]
    target_j = j * n_species + kind[i]
    out = np.zeros((n_atoms * n_species, len(etas)))
    n_pairs = len(r)
    for start in range(0, n_pairs, chunk):  # blocks of pairs, to bound memory
        stop = min(start + chunk, n_pairs)
        gauss = np.exp(np.multiply.outer(r[start:stop] ** 2, inv_width2))
        local = np.arange(stop - start)
        selector = sp.csr_matrix(
            (
                np.concatenate([weight[start:stop], weight[start:stop]]),
                (
                    np.concatenate([target_i[start:stop], target_j[start:stop]]),
                    np.concatenate([local, local]),
                ),
            ),
            shape=(n_atoms * n_species, stop - start),
        )
        out += selector @ gauss
    return out.reshape(n_atoms, n_species * len(etas))


def _one_direction(pairs) -> np.ndarray:
    """Keep one of each pair of directed pairs (i -> j and j -> i have the same length).

    For i == j (an atom and its own periodic image) the two directions have
    opposite vectors; keep the one whose first non-zero component is positive.
    """
    x, y, z = pairs.vectors.T
    first_nonzero = np.where(x != 0, x, np.where(y != 0, y, z))
    return (pairs.i < pairs.j) | ((pairs.i == pairs.j) & (first_nonzero > 0))


def _check_species(species: Sequence[str] | None, symbols: np.ndarray) -> list[str]:
    present = sorted(set(symbols.tolist()))
    if species is None:
        return present[:1] if len(present) == 1 else ["*"]
    species = [str(s) for s in species]
    if not species:
        raise MIInputError("species must name at least one element, e.g. ['Si', 'Ge'].")
    missing = sorted(set(present) - set(species))
    if missing:
        raise MIInputError(
            f"The structure contains {', '.join(missing)}, which is not in species "
            f"{species}; add it or remove those atoms."
        )
    return species


# ----------------------------------------------------------------------------- Steinhardt


@dataclass(frozen=True)
class SteinhardtResult:
    """Steinhardt bond-orientational order parameters of every atom.

    Attributes
    ----------
    ls : tuple of int
        The spherical-harmonic degrees l.
    q : numpy.ndarray, shape (n_atoms, len(ls))
        q_l (or the Lechner-Dellago averaged q_l when ``averaged``).
    w : numpy.ndarray or None, shape (n_atoms, len(ls))
        Normalised w_l (hat w_l), or None when not asked for.
    averaged : bool
        Whether q and w are Lechner-Dellago averaged.
    neighbor_counts : numpy.ndarray of int
        Number of neighbours of each atom.
    """

    ls: tuple[int, ...]
    q: np.ndarray
    w: np.ndarray | None
    averaged: bool
    neighbor_counts: np.ndarray

    def as_array(self) -> np.ndarray:
        """Columns q_l for every l, then w_l for every l when present."""
        return self.q if self.w is None else np.hstack([self.q, self.w])

    def column_names(self) -> list[str]:
        """Names of the columns of :meth:`as_array` (``"q4"``, ``"w6"``, ...)."""
        prefix = "avg_" if self.averaged else ""
        names = [f"{prefix}q{ell}" for ell in self.ls]
        if self.w is not None:
            names += [f"{prefix}w{ell}" for ell in self.ls]
        return names


def steinhardt(
    atoms: Atoms,
    ls: Sequence[int] = (4, 6),
    n_neighbors: int | None = None,
    r_cut: float | None = None,
    averaged: bool = False,
    w: bool = False,
) -> SteinhardtResult:
    """Steinhardt q_l, Lechner-Dellago averaged q_l and normalised w_l of every atom.

    .. math::

        q_{lm}(i) = \\frac{1}{N_b(i)} \\sum_{j \\in N_b(i)} Y_{lm}(\\hat r_{ij}), \\quad
        q_l(i) = \\sqrt{\\frac{4\\pi}{2l+1} \\sum_{m=-l}^{l} |q_{lm}(i)|^2},

        \\hat w_l(i) = \\frac{\\sum_{m_1+m_2+m_3=0}
            \\begin{pmatrix} l & l & l \\\\ m_1 & m_2 & m_3 \\end{pmatrix}
            q_{lm_1} q_{lm_2} q_{lm_3}}{(\\sum_m |q_{lm}|^2)^{3/2}}

    (Steinhardt, Nelson & Ronchetti, PRB 28, 784 (1983)). With ``averaged``,
    :math:`q_{lm}` is first averaged over the atom and its neighbours,
    :math:`\\bar q_{lm}(i) = (q_{lm}(i) + \\sum_{k \\in N_b(i)} q_{lm}(k)) / (N_b(i) + 1)`
    (Lechner & Dellago, J. Chem. Phys. 129, 114707 (2008)), and q_l, w_l are
    computed from :math:`\\bar q_{lm}`.

    Parameters
    ----------
    atoms : ase.Atoms
        Periodic structure or cluster.
    ls : sequence of int, default (4, 6)
        Degrees l (0 to 20).
    n_neighbors : int, optional
        Use the ``n_neighbors`` nearest neighbours of each atom (e.g. 12 for
        fcc, 8 for bcc first shell, 4 for diamond).
    r_cut : float, optional
        Or use all neighbours closer than ``r_cut`` (Angstrom). Give exactly one.
    averaged : bool, default False
        Lechner-Dellago neighbour-averaged parameters.
    w : bool, default False
        Also compute the normalised third-order invariants w_l.

    Returns
    -------
    SteinhardtResult
        ``q`` and ``w`` arrays of shape (n_atoms, len(ls)).

    Raises
    ------
    MIInputError
        For bad structures, both or neither of ``n_neighbors`` / ``r_cut``,
        invalid ``ls``, or an atom with no neighbour within ``r_cut``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> fcc = bulk("Cu", "fcc", a=3.6)
    >>> steinhardt(fcc, ls=(4, 6), n_neighbors=12).q.round(5)
    array([[0.19094, 0.57452]])
    """
    check_atoms(atoms)
    ls = _check_ls(ls)
    pairs = neighbors(atoms, n_neighbors=n_neighbors, r_cut=r_cut)
    counts = pairs.counts()
    if (counts == 0).any():
        lonely = int(np.flatnonzero(counts == 0)[0])
        raise MIInputError(
            f"Atom {lonely} has no neighbour within r_cut = {r_cut} A; "
            "increase r_cut or use n_neighbors."
        )
    unit = pairs.vectors / pairs.distances[:, None]
    moments = bond_moments(ls, unit, pairs.i, 1.0 / counts[pairs.i], len(atoms))
    averaging = pairs.adjacency(include_self=True) if averaged else None
    q_columns, w_columns = [], []
    for ell, qlm in zip(ls, moments, strict=True):  # a few degrees, not atoms
        if averaging is not None:
            qlm = np.asarray(averaging @ qlm)
        power = np.einsum("ij,ij->i", qlm.real, qlm.real) + np.einsum(
            "ij,ij->i", qlm.imag, qlm.imag
        )
        q_columns.append(np.sqrt(4.0 * np.pi / (2 * ell + 1) * power))
        if w:
            w_columns.append(_normalised_w(ell, qlm, power))
    return SteinhardtResult(
        ls=ls,
        q=np.column_stack(q_columns),
        w=np.column_stack(w_columns) if w else None,
        averaged=bool(averaged),
        neighbor_counts=counts,
    )


def _check_ls(ls: Sequence[int]) -> tuple[int, ...]:
    values = np.atleast_1d(np.asarray(ls, dtype=object))
    whole = [isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values]
    if not values.size or not all(whole) or not all(0 <= v <= 20 for v in values):
        raise MIInputError(f"ls must be whole numbers from 0 to 20, such as (4, 6); got {ls!r}.")
    return tuple(int(v) for v in values)


def _bond_average_matrix(centres: np.ndarray, n_atoms: int):
    counts = np.bincount(centres, minlength=n_atoms)
    weights = 1.0 / counts[centres]
    return sp.csr_matrix(
        (weights, (centres, np.arange(len(centres)))), shape=(n_atoms, len(centres))
    )


@lru_cache(maxsize=64)
def _legendre_norms(ell: int) -> np.ndarray:
    """sqrt((2l+1)/(4 pi) (l-m)!/(l+m)!) (-1)^m (2m-1)!! for m = 0..l."""
    m = np.arange(ell + 1)
    log_norm = 0.5 * (
        np.log((2 * ell + 1) / (4 * np.pi)) + gammaln(ell - m + 1) - gammaln(ell + m + 1)
    )
    # (2m-1)!! = (2m)! / (2^m m!)
    log_double_factorial = gammaln(2 * m + 1) - m * np.log(2.0) - gammaln(m + 1)
    return (-1.0) ** m * np.exp(log_norm + log_double_factorial)


def spherical_harmonics(ell: int, unit_vectors: np.ndarray) -> np.ndarray:
    """Complex spherical harmonics Y_lm(r_hat) for m = -l..l (Condon-Shortley phase).

    Uses ``sin^m(theta) e^{i m phi} = ((x + i y) / r)^m`` and the three-term
    recursion of the associated Legendre functions in ``cos theta``, so no
    trigonometric function is evaluated; it matches
    :func:`scipy.special.sph_harm_y` (tested) and is several times faster.

    Parameters
    ----------
    ell : int
        Degree l >= 0.
    unit_vectors : numpy.ndarray, shape (n, 3)
        Directions of unit length.

    Returns
    -------
    numpy.ndarray, shape (n, 2l + 1), complex
        Column ``m + l`` holds Y_lm.

    Examples
    --------
    >>> z = np.array([[0.0, 0.0, 1.0]])
    >>> float(spherical_harmonics(1, z)[0, 1].real)  # Y_10 at the pole = sqrt(3 / 4 pi)
    0.4886025119029199
    """
    x, y, z = unit_vectors.T
    phase = x + 1j * y
    norms = _legendre_norms(ell)
    out = np.empty((len(unit_vectors), 2 * ell + 1), dtype=complex)
    azimuthal = np.ones_like(phase)
    for m in range(ell + 1):  # degrees and orders, not atoms
        # R_l^m(z): R_m^m = 1, R_{m+1}^m = (2m+1) z, three-term recursion in l
        previous, current = np.zeros_like(z), np.ones_like(z)
        for degree in range(m + 1, ell + 1):
            previous, current = (
                current,
                ((2 * degree - 1) * z * current - (degree + m - 1) * previous) / (degree - m),
            )
        value = norms[m] * current * azimuthal
        out[:, ell + m] = value
        if m:
            out[:, ell - m] = (-1) ** m * np.conj(value)
        azimuthal = azimuthal * phase
    return out


def bond_moments(
    ls: Sequence[int],
    unit_vectors: np.ndarray,
    centres: np.ndarray,
    weights: np.ndarray,
    n_atoms: int,
    chunk: int = 1 << 16,
) -> list[np.ndarray]:
    """Weighted sums of Y_lm over each atom's bonds, for several degrees at once.

    ``q_lm(i) = sum_b w_b Y_lm(r_hat_b)`` over the bonds ``b`` centred on atom ``i``.
    One pass of the Legendre recursion per order ``m`` serves every degree in ``ls``
    (instead of one pass per degree), and the bonds are taken in chunks, so the memory
    stays ``chunk x sum(2l+1)`` whatever the number of atoms.

    Parameters
    ----------
    ls : sequence of int
        Degrees l >= 0.
    unit_vectors : numpy.ndarray, shape (n_bonds, 3)
        Bond directions of unit length.
    centres : numpy.ndarray of int, shape (n_bonds,)
        The atom each bond belongs to.
    weights : numpy.ndarray, shape (n_bonds,)
        Weight of each bond (``1 / n_neighbours`` gives the mean over bonds).
    n_atoms : int
    chunk : int, default 65536
        Bonds per chunk.

    Returns
    -------
    list of numpy.ndarray
        One complex array of shape (n_atoms, 2l + 1) per degree in ``ls``, in order.

    Examples
    --------
    >>> z = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]])
    >>> (q1,) = bond_moments([1], z, np.array([0, 0]), np.array([0.5, 0.5]), n_atoms=1)
    >>> bool(np.abs(q1).max() < 1e-12)  # opposite bonds cancel for odd l
    True
    """
    ls = tuple(int(ell) for ell in ls)
    # real and imaginary parts of m >= 0 only; Y_l,-m = (-1)^m conj(Y_lm) gives the rest
    sums = {ell: np.zeros((n_atoms, 2 * (ell + 1))) for ell in set(ls)}
    order = np.argsort(centres, kind="stable")  # a chunk then touches a band of rows only
    for start in range(0, len(order), chunk):
        bonds = order[start : start + chunk]
        first, last = int(centres[bonds[0]]), int(centres[bonds[-1]]) + 1
        spread = sp.csr_matrix(
            (weights[bonds], (centres[bonds] - first, np.arange(len(bonds)))),
            shape=(last - first, len(bonds)),
        )
        for ell, parts in _harmonics_of_degrees(sums, unit_vectors[bonds]).items():
            sums[ell][first:last] += spread @ parts
    return [_all_orders(ell, sums[ell]) for ell in ls]


def _all_orders(ell: int, parts: np.ndarray) -> np.ndarray:
    """(n, 2l+1) complex q_lm from the real and imaginary parts of m = 0..l."""
    positive = parts[:, : ell + 1] + 1j * parts[:, ell + 1 :]
    signs = (-1.0) ** np.arange(ell, 0, -1)  # m = -l..-1
    return np.hstack([signs * np.conj(positive[:, :0:-1]), positive])


def _harmonics_of_degrees(degrees, unit_vectors: np.ndarray) -> dict[int, np.ndarray]:
    """Real and imaginary parts of Y_lm, m = 0..l, for every degree in ``degrees``.

    The recursion of :func:`spherical_harmonics`, run once per order up to the largest
    degree. Each array has shape (n, 2(l+1)): real parts of m = 0..l, then imaginary.
    """
    x, y, z = unit_vectors.T
    wanted = sorted(degrees)
    out = {ell: np.empty((len(z), 2 * (ell + 1))) for ell in wanted}
    norms = {ell: _legendre_norms(ell) for ell in wanted}
    cos_part, sin_part = np.ones_like(z), np.zeros_like(z)  # Re, Im of ((x + iy))^m
    for m in range(wanted[-1] + 1):  # orders, not atoms
        previous, current = np.zeros_like(z), np.ones_like(z)
        for degree in range(m, wanted[-1] + 1):
            if degree > m:
                previous, current = (
                    current,
                    ((2 * degree - 1) * z * current - (degree + m - 1) * previous) / (degree - m),
                )
            if degree in out:
                radial = norms[degree][m] * current
                out[degree][:, m] = radial * cos_part
                out[degree][:, degree + 1 + m] = radial * sin_part
        cos_part, sin_part = cos_part * x - sin_part * y, cos_part * y + sin_part * x
    return out


@lru_cache(maxsize=64)
def wigner_3j_lll(ell: int) -> np.ndarray:
    """Wigner 3j symbols (l l l; m1 m2 -m1-m2) for all m1, m2 in -l..l (Racah's formula).

    Returns
    -------
    numpy.ndarray, shape (2l + 1, 2l + 1)
        Entry ``[m1 + l, m2 + l]``; zero where ``|m1 + m2| > l``.

    Examples
    --------
    >>> round(float(wigner_3j_lll(2)[2, 2]), 6)  # (2 2 2; 0 0 0) = -sqrt(2/35)
    -0.239046
    """
    m1, m2 = np.meshgrid(np.arange(-ell, ell + 1), np.arange(-ell, ell + 1), indexing="ij")
    m3 = -m1 - m2
    valid = np.abs(m3) <= ell
    k = np.arange(0, 3 * ell + 1)[:, None, None]
    # the six factorial arguments of Racah's sum with j1 = j2 = j3 = l
    zero = np.zeros_like(k + m1)
    args = np.stack([k + zero, k + m1, k - m2, ell - k + zero, ell - k - m1, ell - k + m2])
    in_range = (args >= 0).all(axis=0) & valid
    log_terms = -gammaln(np.where(args >= 0, args, 0) + 1).sum(axis=0)
    triangle = 0.5 * (3 * gammaln(ell + 1) - gammaln(3 * ell + 2))
    m_part = 0.5 * (
        gammaln(ell + m1 + 1) + gammaln(ell - m1 + 1) + gammaln(ell + m2 + 1)
        + gammaln(ell - m2 + 1)
        + gammaln(ell + np.where(valid, m3, 0) + 1) + gammaln(ell - np.where(valid, m3, 0) + 1)
    )  # fmt: skip
    signs = (-1.0) ** k * (-1.0) ** np.abs(-np.where(valid, m3, 0))  # (-1)^(j1-j2-m3) = (-1)^m3
    summed = np.where(in_range, signs * np.exp(log_terms + triangle + m_part), 0.0).sum(axis=0)
    return np.where(valid, summed, 0.0)


def _normalised_w(ell: int, qlm: np.ndarray, power: np.ndarray) -> np.ndarray:
    """hat w_l from q_lm (n_atoms, 2l+1): a contraction with the 3j table."""
    symbols = wigner_3j_lll(ell)
    m = np.arange(-ell, ell + 1)
    third = -(m[:, None] + m[None, :])
    third_index = np.clip(third + ell, 0, 2 * ell)  # masked by the zero 3j entries
    q3 = qlm[:, third_index]  # (n_atoms, 2l+1, 2l+1)
    w = np.einsum("ab,ia,ib,iab->i", symbols, qlm, qlm, q3).real
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(power > 1e-20, w / power**1.5, 0.0)
