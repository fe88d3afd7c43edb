"""Scale-free local-structure features: bond-order parameters and symmetry functions.

Every distance is measured in units of the frame's nearest-neighbour distance
``d`` (the median over atoms of the mean distance to the six nearest
neighbours), and neighbours are the atoms closer than ``1.207 d``, the midpoint
between the first (d) and second (sqrt 2 d) shells of fcc. That shell holds 12
neighbours in fcc and hcp and 14 (8 + 6) in bcc, and it is the same for copper,
gold, iron or a Lennard-Jones solid at any density, so one classifier serves any
monoatomic system.

Bond-order features follow Steinhardt, Nelson & Ronchetti, PRB 28, 784 (1983)
and Lechner & Dellago, J. Chem. Phys. 129, 114707 (2008); the angular features
are the bond-angle histogram of Ackland & Jones, PRB 73, 054104 (2006), smoothed
with Gaussians like Behler's angular symmetry functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms

from mi_widgets._errors import MIInputError, check_choice
from mi_widgets.structure._neighbors import check_atoms, nearest_neighbors, neighbors
from mi_widgets.structure.descriptors import _normalised_w, bond_moments

__all__ = [
    "FEATURE_KINDS",
    "MIN_NEIGHBOURS",
    "SHELL_CUTOFF",
    "LocalFeatures",
    "local_structure_features",
    "neighbour_distance_scale",
]

#: Neighbour cut-off in units of the nearest-neighbour distance.
SHELL_CUTOFF = 0.5 * (1.0 + np.sqrt(2.0))
#: Atoms with fewer neighbours than this get no features (labelled "rejected").
MIN_NEIGHBOURS = 4
#: The feature sets ``local_structure_features`` computes.
FEATURE_KINDS = ("bond_order", "averaged_q", "symmetry", "all")

_LS = tuple(range(4, 13))
_W_LS = (4, 6)
_AVG2_LS = (4, 6, 8, 10, 12)
_RADIAL_CENTRES = np.arange(0.85, 1.251, 0.05)
_RADIAL_WIDTH = 0.05
_ANGLE_CENTRES = np.linspace(-1.0, 1.0, 9)
_ANGLE_WIDTH = 0.12


@dataclass(frozen=True)
class LocalFeatures:
    """Per-atom features of one structure.

    Attributes
    ----------
    values : ndarray, shape (n_atoms, n_features)
        The features (zeros for atoms that have too few neighbours).
    names : tuple of str
        Column names (``"q4"``, ``"avg_q6"``, ``"w4"``, ``"g2_1.00"``, ``"cos_-0.50"``).
    scale : float
        The nearest-neighbour distance ``d`` (Angstrom) all distances were divided by.
    n_neighbours : ndarray of int, shape (n_atoms,)
        Neighbours of each atom within ``1.207 d``.
    """

    values: np.ndarray
    names: tuple[str, ...]
    scale: float
    n_neighbours: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """Atoms with enough neighbours for the features to mean something."""
        return self.n_neighbours >= MIN_NEIGHBOURS

    def column(self, name: str) -> np.ndarray:
        """One feature column by name."""
        if name not in self.names:
            raise MIInputError(f"No feature {name!r}; choose one of {', '.join(self.names)}.")
        return self.values[:, self.names.index(name)]


def neighbour_distance_scale(atoms: Atoms) -> float:
    """The frame's nearest-neighbour distance d in Angstrom.

    The median over atoms of the mean distance to the six nearest neighbours:
    the first shell in fcc, hcp and bcc, robust to thermal noise and to a few
    odd atoms.

    Examples
    --------
    >>> from ase.build import bulk
    >>> round(neighbour_distance_scale(bulk("Cu", "fcc", a=3.6)), 4)
    2.5456
    """
    check_atoms(atoms, overlaps=False)  # the neighbour search refuses overlaps
    if len(atoms) < 2 and not atoms.pbc.any():
        raise MIInputError("A single atom has no neighbours; give at least two atoms.")
    k = min(6, len(atoms) - 1) if not atoms.pbc.any() else 6
    pairs = nearest_neighbors(atoms, k)
    per_atom = pairs.distances.reshape(len(atoms), k).mean(axis=1)
    return float(np.median(per_atom))


def local_structure_features(
    atoms: Atoms, kind: str = "bond_order", *, scale: float | None = None
) -> LocalFeatures:
    """Scale-free features of every atom's neighbourhood.

    Parameters
    ----------
    atoms : ase.Atoms
        A monoatomic (or any) structure; periodic or a cluster.
    kind : {"bond_order", "averaged_q", "symmetry", "all"}
        ``"bond_order"``: q_l and Lechner-Dellago averaged q_l for l = 4..12,
        w_4 and w_6 of both, and the even-l q_l averaged twice (over the second
        shell too; 27 columns). ``"averaged_q"``: the averaged q_l alone
        (9 columns). ``"symmetry"``: radial Gaussians of the scaled neighbour
        distances (9) and a Gaussian-smoothed bond-angle histogram (9).
        ``"all"``: bond order and symmetry functions.
    scale : float, optional
        The nearest-neighbour distance to scale by (Angstrom); default
        :func:`neighbour_distance_scale`.

    Returns
    -------
    LocalFeatures

    Examples
    --------
    >>> from ase.build import bulk
    >>> f = local_structure_features(bulk("Cu", "fcc", a=3.6, cubic=True))
    >>> round(float(f.column("q6")[0]), 5), int(f.n_neighbours[0])
    (0.57452, 12)
    >>> bcc = local_structure_features(bulk("Fe", "bcc", a=2.87, cubic=True))
    >>> int(bcc.n_neighbours[0])
    14
    """
    check_atoms(atoms, overlaps=False)  # the neighbour search refuses overlaps
    check_choice(kind, "kind", FEATURE_KINDS)
    d = neighbour_distance_scale(atoms) if scale is None else float(scale)
    if not np.isfinite(d) or d <= 0:
        raise MIInputError(f"scale must be a positive distance in Angstrom; got {scale!r}.")
    pairs = neighbors(atoms, n_neighbors=None, r_cut=SHELL_CUTOFF * d)
    counts = pairs.counts()
    blocks: list[tuple[np.ndarray, list[str]]] = []
    if kind in ("bond_order", "all"):
        blocks.append(_bond_order(pairs, counts, len(atoms), averaged_only=False))
    if kind == "averaged_q":
        blocks.append(_bond_order(pairs, counts, len(atoms), averaged_only=True))
    if kind in ("symmetry", "all"):
        blocks.append(_symmetry(pairs, counts, d, len(atoms)))
    values = np.hstack([b[0] for b in blocks])
    values[counts < MIN_NEIGHBOURS] = 0.0
    names = tuple(name for b in blocks for name in b[1])
    return LocalFeatures(values=values, names=names, scale=d, n_neighbours=counts)


def _bond_order(pairs, counts, n_atoms: int, *, averaged_only: bool):
    unit = pairs.vectors / pairs.distances[:, None]
    weights = 1.0 / np.maximum(counts, 1)[pairs.i]
    moments = bond_moments(_LS, unit, pairs.i, weights, n_atoms)
    averaging = pairs.adjacency(include_self=True)
    plain_q, avg_q, avg2_q, plain_w, avg_w = [], [], [], [], []
    for ell, qlm in zip(_LS, moments, strict=True):  # degrees, not atoms
        avg_lm = np.asarray(averaging @ qlm)
        for target, w_target, lm in ((plain_q, plain_w, qlm), (avg_q, avg_w, avg_lm)):
            power = (lm.real**2 + lm.imag**2).sum(axis=1)
            target.append(np.sqrt(4.0 * np.pi / (2 * ell + 1) * power))
            if ell in _W_LS:
                w_target.append(_normalised_w(ell, lm, power))
        if ell in _AVG2_LS:  # averaged once more: the second shell quiets the noise further
            twice = np.asarray(averaging @ avg_lm)
            power = (twice.real**2 + twice.imag**2).sum(axis=1)
            avg2_q.append(np.sqrt(4.0 * np.pi / (2 * ell + 1) * power))
    if averaged_only:
        return np.column_stack(avg_q), [f"avg_q{ell}" for ell in _LS]
    columns = plain_q + avg_q + plain_w + avg_w + avg2_q
    names = (
        [f"q{ell}" for ell in _LS]
        + [f"avg_q{ell}" for ell in _LS]
        + [f"w{ell}" for ell in _W_LS]
        + [f"avg_w{ell}" for ell in _W_LS]
        + [f"avg2_q{ell}" for ell in _AVG2_LS]
    )
    return np.column_stack(columns), names


def _symmetry(pairs, counts, d: float, n_atoms: int):
    scaled = pairs.distances / d
    radial = np.exp(-(((scaled[:, None] - _RADIAL_CENTRES) / _RADIAL_WIDTH) ** 2))
    radial_sum = np.column_stack(
        [np.bincount(pairs.i, weights=column, minlength=n_atoms) for column in radial.T]
    )
    radial_sum /= np.maximum(counts, 1)[:, None]
    angular = _angle_histogram(pairs, counts, n_atoms)
    names = [f"g2_{c:.2f}" for c in _RADIAL_CENTRES] + [f"cos_{c:+.2f}" for c in _ANGLE_CENTRES]
    return np.hstack([radial_sum, angular]), names


def _angle_histogram(pairs, counts, n_atoms: int) -> np.ndarray:
    """Smoothed histogram of cos(angle j-i-k) over neighbour pairs of each atom."""
    unit = pairs.vectors / pairs.distances[:, None]
    order = np.argsort(pairs.i, kind="stable")  # the bonds of each centre side by side
    a, b, centre = _bond_pairs(counts)
    cosines = np.einsum("ij,ij->i", unit[order[a]], unit[order[b]])
    out = np.empty((n_atoms, len(_ANGLE_CENTRES)))
    for column, centre_value in enumerate(_ANGLE_CENTRES):  # nine bins, not atoms
        weights = np.exp(-(((cosines - centre_value) / _ANGLE_WIDTH) ** 2))
        out[:, column] = np.bincount(centre, weights=weights, minlength=n_atoms)
    n_angle_pairs = counts * (counts - 1) / 2.0
    return out / np.maximum(n_angle_pairs, 1.0)[:, None]


def _bond_pairs(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair a < b of bonds of the same centre, as positions in centre-sorted order.

    Returns
    -------
    a, b, centre : numpy.ndarray of int
        Positions of the two bonds (bonds sorted by centre) and the centre of the pair.
    """
    counts = counts.astype(np.int64)
    n_pairs = counts * (counts - 1) // 2
    centre = np.repeat(np.arange(len(counts)), n_pairs)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # rank of each pair inside its centre, then (row, column) of the upper triangle
    rank = np.arange(int(n_pairs.sum())) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    size = counts[centre]
    row = (
        size - 2 - np.floor(np.sqrt(-8.0 * rank + 4.0 * size * (size - 1) - 7) / 2.0 - 0.5)
    ).astype(np.int64)
    column = rank + row + 1 - size * (size - 1) // 2 + (size - row) * (size - row - 1) // 2
    return starts[centre] + row, starts[centre] + column, centre
