"""Neighbour pairs for descriptors: validated input, periodic images, sparse output.

Two code paths give the same pairs:

* a :class:`scipy.spatial.cKDTree` (C, fast) for clusters and for fully
  periodic orthorhombic cells whose half-width exceeds the search radius
  (then the minimum image is the only image within reach);
* :func:`ase.neighborlist.neighbor_list` for everything else (triclinic cells,
  mixed periodicity, cells smaller than twice the cut-off, where an atom may
  see several images of the same neighbour, or itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ase import Atoms
from ase.neighborlist import neighbor_list
from scipy.spatial import cKDTree

from mi_widgets._errors import MIInputError, check_positive_int

#: Refuse searches that would give more neighbours than this per atom (memory guard).
MAX_NEIGHBORS_PER_ATOM = 2000
#: Refuse searches that would give more directed pairs than this in all (~50 bytes each).
MAX_NEIGHBOR_PAIRS = 5_000_000
#: Atoms closer than this (Angstrom) are duplicates or sit in a wrong cell; no bond is this short
#: (H2, the shortest, is 0.74 A).
MIN_ATOM_DISTANCE = 0.5
#: The most atoms per cubic Angstrom that atoms MIN_ATOM_DISTANCE apart can reach (fcc packing).
_MAX_DENSITY = np.sqrt(2.0) / MIN_ATOM_DISTANCE**3


@dataclass(frozen=True)
class NeighborPairs:
    """Directed neighbour pairs, sorted by centre atom (and by distance within a centre).

    Attributes
    ----------
    i, j : numpy.ndarray of int
        Centre and neighbour of each pair.
    vectors : numpy.ndarray, shape (n_pairs, 3)
        ``r_j - r_i`` with the periodic image shift (Angstrom).
    distances : numpy.ndarray
        Pair lengths (Angstrom).
    n_atoms : int
        Number of atoms.
    """

    i: np.ndarray
    j: np.ndarray
    vectors: np.ndarray
    distances: np.ndarray
    n_atoms: int

    def counts(self) -> np.ndarray:
        """Number of neighbours of each atom."""
        return np.bincount(self.i, minlength=self.n_atoms)

    def adjacency(self, include_self: bool = False) -> sp.csr_matrix:
        """Row-normalised neighbour matrix: ``A @ values`` averages over neighbours.

        An atom that sees the same neighbour through several periodic images
        counts it once per image, exactly as in a large enough supercell.
        """
        rows, cols = self.i, self.j
        if include_self:
            diagonal = np.arange(self.n_atoms)
            rows, cols = np.concatenate([rows, diagonal]), np.concatenate([cols, diagonal])
        matrix = sp.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(self.n_atoms, self.n_atoms)
        )
        sizes = np.asarray(matrix.sum(axis=1)).ravel()
        return sp.diags(1.0 / np.maximum(sizes, 1.0)) @ matrix


def check_atoms(atoms: Atoms, name: str = "atoms", *, overlaps: bool = True) -> Atoms:
    """Check that ``atoms`` is a usable structure.

    Finite positions and cell, a cell where it is periodic, a density that atoms can
    reach, and no two atoms closer than :data:`MIN_ATOM_DISTANCE` (periodic images
    included).

    Raises
    ------
    MIInputError
        If ``atoms`` is not an :class:`ase.Atoms`, is empty, has NaN or infinite
        positions or cell, is periodic along a direction with no cell vector, or has
        atoms on top of each other.

    Examples
    --------
    >>> from ase.build import bulk
    >>> len(check_atoms(bulk("Si")))
    2
    >>> check_atoms(bulk("Si") + bulk("Si")[:1])
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: Atoms 0 and 2 of atoms are 0 A apart: ...
    """
    if not isinstance(atoms, Atoms):
        raise MIInputError(f"{name} must be an ase.Atoms structure; got {type(atoms).__name__}.")
    if len(atoms) == 0:
        raise MIInputError(f"{name} contains no atoms; give a structure with at least one atom.")
    bad = ~np.isfinite(atoms.positions).all(axis=1)
    if bad.any():
        raise MIInputError(
            f"{name} has NaN or infinite positions (first at atom {int(np.flatnonzero(bad)[0])}); "
            "fix or remove those atoms."
        )
    if not np.isfinite(atoms.cell.array).all():
        raise MIInputError(
            f"{name} has NaN or infinite numbers in its cell (lattice); fix the cell vectors."
        )
    lengths = atoms.cell.lengths()
    flat = atoms.pbc & (lengths < 1e-8)
    if flat.any() or (atoms.pbc.all() and abs(atoms.cell.volume) < 1e-8):
        raise MIInputError(
            f"{name} is periodic but has no cell (or a flat one); set atoms.cell to the "
            "simulation box, or atoms.pbc = False for a cluster."
        )
    if atoms.pbc.all() and len(atoms) / abs(atoms.cell.volume) > _MAX_DENSITY:
        raise MIInputError(
            f"{name} packs {len(atoms)} atoms into {abs(atoms.cell.volume):.3g} A^3, denser than "
            f"atoms {MIN_ATOM_DISTANCE} A apart can be; check the cell (is it in Angstrom?)."
        )
    if overlaps:  # callers that list pairs anyway may check the distances themselves
        _refuse_overlaps(atoms, name)
    return atoms


def refuse_close_pairs(
    i: np.ndarray, j: np.ndarray, d: np.ndarray, name: str, limit: float = MIN_ATOM_DISTANCE
) -> None:
    """Refuse the closest of the pairs ``(i, j)`` at distances ``d`` if it is below ``limit``."""
    if len(d) and d.min() < limit:
        k = int(np.argmin(d))
        a, b = sorted((int(i[k]), int(j[k])))
        raise MIInputError(
            f"Atoms {a} and {b} of {name} are {d[k]:.2g} A apart: they sit on top of each "
            f"other (closer than {limit} A); remove duplicated atoms or fix the cell."
        )


def _refuse_overlaps(atoms: Atoms, name: str) -> None:
    """Refuse two atoms (or an atom and an image) closer than MIN_ATOM_DISTANCE."""
    box = _tree_box(atoms, MIN_ATOM_DISTANCE)
    if box is None:
        i, j, d = neighbor_list("ijd", atoms, MIN_ATOM_DISTANCE)
    else:
        tree, points = _tree(atoms, box)
        half = tree.query_pairs(MIN_ATOM_DISTANCE, output_type="ndarray")
        i, j = half[:, 0], half[:, 1]
        vectors = _minimum_image(points[j] - points[i], box)
        d = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    refuse_close_pairs(i, j, d, name)


def _atom_density(atoms: Atoms) -> float:
    """Number density (1/Angstrom^3) from the cell, or from the bounding box of a cluster."""
    if atoms.pbc.all():
        return len(atoms) / atoms.cell.volume
    span = np.ptp(atoms.positions, axis=0) + 3.0  # a cluster: its bounding box plus a margin
    return len(atoms) / float(np.prod(span))


def check_neighbor_search(
    atoms: Atoms,
    radius: float,
    name: str = "r_cut",
    *,
    max_per_atom: int = MAX_NEIGHBORS_PER_ATOM,
) -> float:
    """Refuse a neighbour search that would list too many pairs, before building any list.

    The count is estimated from the number density and the search sphere,
    ``N * 4/3 pi r^3 rho`` (periodic images included; at most ``N - 1`` per atom
    in a cluster). Every neighbour search of the package goes through this check.

    Parameters
    ----------
    atoms : ase.Atoms
        A structure that passed :func:`check_atoms`.
    radius : float
        Search radius (Angstrom).
    name : str
        The parameter's name in the message (``"r_max"``, ``"r_cut"``).
    max_per_atom : int
        The most neighbours per atom accepted.

    Returns
    -------
    float
        ``radius``.

    Raises
    ------
    MIInputError
        If ``radius`` is not a positive distance, or the search would give more
        than ``max_per_atom`` neighbours per atom or :data:`MAX_NEIGHBOR_PAIRS` pairs.

    Examples
    --------
    >>> from ase.build import bulk
    >>> check_neighbor_search(bulk("Si", cubic=True), 1000.0, "r_max")
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: r_max = 1000 A would give about 2.1e+08 neighbours ...
    """
    try:
        radius = float(radius)
    except (TypeError, ValueError):
        raise MIInputError(f"{name} must be a distance in Angstrom; got {radius!r}.") from None
    if not np.isfinite(radius) or radius <= 0:
        raise MIInputError(f"{name} must be a positive distance in Angstrom; got {radius!r}.")
    n_atoms = len(atoms)
    density = _atom_density(atoms)
    with np.errstate(over="ignore"):
        per_atom = 4.0 / 3.0 * np.pi * np.float64(radius) ** 3 * density
    if not atoms.pbc.any():
        per_atom = min(per_atom, n_atoms - 1.0)
    pairs = per_atom * n_atoms
    if per_atom > max_per_atom or pairs > MAX_NEIGHBOR_PAIRS:
        allowed = min(max_per_atom, MAX_NEIGHBOR_PAIRS / n_atoms)
        limit = (3.0 * allowed / (4.0 * np.pi * density)) ** (1 / 3)
        raise MIInputError(
            f"{name} = {radius:g} A would give about {per_atom:.2g} neighbours per atom "
            f"({pairs:.2g} pairs) in this structure; use a cut-off below {limit:.3g} A "
            "(a few neighbour shells)."
        )
    return radius


def _tree_box(atoms: Atoms, radius: float) -> np.ndarray | None:
    """Box lengths for a periodic cKDTree, ``[]`` for a cluster, or None for the ASE path."""
    if not atoms.pbc.any():
        return np.array([])
    cell = atoms.cell.array
    if not atoms.pbc.all() or np.abs(cell - np.diag(np.diag(cell))).max() > 1e-12:
        return None
    box = np.diag(cell).copy()
    if (box <= 0).any() or radius >= 0.5 * box.min():
        return None
    return box


def _tree(atoms: Atoms, box: np.ndarray) -> tuple[cKDTree, np.ndarray]:
    if box.size == 0:
        return cKDTree(atoms.positions), atoms.positions
    wrapped = np.mod(atoms.positions, box)
    wrapped[wrapped >= box] = 0.0  # mod can round up to the box length itself
    return cKDTree(wrapped, boxsize=box), wrapped


def _minimum_image(vectors: np.ndarray, box: np.ndarray) -> np.ndarray:
    if box.size:
        vectors = vectors - box * np.round(vectors / box)
    return vectors


def _from_ase(atoms: Atoms, radius: float) -> NeighborPairs:
    i, j, vectors, distances = neighbor_list("ijDd", atoms, radius)
    order = np.lexsort((distances, i))
    return NeighborPairs(i[order], j[order], vectors[order], distances[order], len(atoms))


def pairs_within(atoms: Atoms, r_cut: float) -> NeighborPairs:
    """All directed pairs closer than ``r_cut`` (Angstrom), periodic images included.

    Examples
    --------
    >>> from ase.build import bulk
    >>> pairs_within(bulk("Cu", "fcc", a=3.6), 3.0).counts()
    array([12])
    """
    # the pairs hold every overlap when r_cut reaches MIN_ATOM_DISTANCE: check them there
    check_atoms(atoms, overlaps=r_cut < MIN_ATOM_DISTANCE)
    r_cut = check_neighbor_search(atoms, r_cut, "r_cut")
    box = _tree_box(atoms, r_cut)
    if box is None:
        pairs = _from_ase(atoms, r_cut)
    else:
        tree, points = _tree(atoms, box)
        half = tree.query_pairs(r_cut, output_type="ndarray")
        i = np.concatenate([half[:, 0], half[:, 1]])
        j = np.concatenate([half[:, 1], half[:, 0]])
        vectors = _minimum_image(points[j] - points[i], box)
        distances = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
        order = np.lexsort((distances, i))
        pairs = NeighborPairs(i[order], j[order], vectors[order], distances[order], len(atoms))
    refuse_close_pairs(pairs.i, pairs.j, pairs.distances, "atoms")
    return pairs


def nearest_neighbors(atoms: Atoms, n_neighbors: int) -> NeighborPairs:
    """The ``n_neighbors`` nearest neighbours of every atom (ties broken by index).

    Examples
    --------
    >>> from ase.build import bulk
    >>> nearest_neighbors(bulk("Fe", "bcc", a=2.87), 8).distances.round(3)
    array([2.485, 2.485, 2.485, 2.485, 2.485, 2.485, 2.485, 2.485])
    """
    check_atoms(atoms, overlaps=False)  # an atom's nearest neighbour shows any overlap
    k = check_positive_int(n_neighbors, "n_neighbors")
    n_atoms = len(atoms)
    if not atoms.pbc.any() and k > n_atoms - 1:
        raise MIInputError(
            f"n_neighbors = {k} but the cluster has only {n_atoms} atoms; "
            f"use at most {n_atoms - 1}."
        )
    # a radius that holds about k neighbours at the mean density, grown until it does
    radius = 1.5 * (3.0 * (k + 1) / (4.0 * np.pi * _atom_density(atoms))) ** (1 / 3)
    box = _tree_box(atoms, radius)
    if box is not None:
        tree, points = _tree(atoms, box)
        distances, index = tree.query(points, k=k + 1)
        limit = 0.5 * box.min() if box.size else np.inf
        if distances[:, -1].max() < limit:  # only minimum images were needed
            i = np.repeat(np.arange(n_atoms), k)
            j = index[:, 1:].ravel()  # column 0 is the atom itself
            vectors = _minimum_image(points[j] - points[i], box)
            refuse_close_pairs(i, j, distances[:, 1:].ravel(), "atoms")
            return NeighborPairs(i, j, vectors, distances[:, 1:].ravel(), n_atoms)
    while True:  # a few radius doublings at most
        check_neighbor_search(atoms, radius, "The search radius for n_neighbors")
        pairs = _from_ase(atoms, radius)
        if pairs.counts().min() >= k:
            break
        radius *= 1.5
    rank = np.arange(len(pairs.i)) - (np.cumsum(pairs.counts()) - pairs.counts())[pairs.i]
    keep = rank < k
    refuse_close_pairs(pairs.i[keep], pairs.j[keep], pairs.distances[keep], "atoms")
    return NeighborPairs(
        pairs.i[keep], pairs.j[keep], pairs.vectors[keep], pairs.distances[keep], n_atoms
    )


def _check_overlap(pairs: NeighborPairs) -> NeighborPairs:
    """Refuse atoms on top of each other: their bond has no direction."""
    close = np.flatnonzero(pairs.distances < MIN_ATOM_DISTANCE)
    if close.size:
        a, b = int(pairs.i[close[0]]), int(pairs.j[close[0]])
        raise MIInputError(
            f"Atoms {a} and {b} sit on top of each other (closer than {MIN_ATOM_DISTANCE} A); "
            "remove the duplicate atoms."
        )
    return pairs


def neighbors(atoms: Atoms, *, n_neighbors: int | None, r_cut: float | None) -> NeighborPairs:
    """Neighbours by count or by cut-off (exactly one of the two)."""
    if (n_neighbors is None) == (r_cut is None):
        raise MIInputError(
            "Give exactly one of n_neighbors (e.g. 12) or r_cut (Angstrom) to define neighbours."
        )
    if n_neighbors is not None:
        return _check_overlap(nearest_neighbors(atoms, n_neighbors))
    return _check_overlap(pairs_within(atoms, r_cut))
