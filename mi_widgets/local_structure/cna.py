"""Classical labels: adaptive common-neighbour analysis and q-threshold rules.

Adaptive CNA follows Stukowski, Modelling Simul. Mater. Sci. Eng. 20, 045021
(2012): for fcc / hcp each atom's 12 nearest neighbours are taken and bonds
between them use the local cut-off ``(1 + sqrt 2)/2 x`` their mean distance; an
atom is fcc when all 12 neighbour pairs have the signature (4, 2, 1), hcp when
six have (4, 2, 1) and six (4, 2, 2). For bcc the 14 nearest neighbours are
taken with the cut-off ``(1 + sqrt 2)/2 x (2/sqrt 3 x sum_1^8 r_j + sum_9^14 r_j)
/ 14``, and the signatures are eight (6, 6, 6) and six (4, 4, 4). Everything
else is ``"other"``. The signatures are read from small boolean bond matrices,
vectorised over atoms (no loop over atoms).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from mi_widgets._errors import MIInputError
from mi_widgets.structure._neighbors import check_atoms, nearest_neighbors

__all__ = ["CNA_LABELS", "adaptive_cna", "q_threshold_labels"]

#: Labels that :func:`adaptive_cna` returns.
CNA_LABELS = ("fcc", "hcp", "bcc", "other")

_HALF_1_SQRT2 = 0.5 * (1.0 + np.sqrt(2.0))
_CHUNK = 4096


def adaptive_cna(atoms: Atoms) -> np.ndarray:
    """Adaptive common-neighbour analysis label of every atom.

    Parameters
    ----------
    atoms : ase.Atoms
        A periodic structure or a cluster of at least 15 atoms.

    Returns
    -------
    ndarray of str, shape (n_atoms,)
        ``"fcc"``, ``"hcp"``, ``"bcc"`` or ``"other"``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> adaptive_cna(bulk("Cu", "fcc", a=3.6, cubic=True)).tolist()
    ['fcc', 'fcc', 'fcc', 'fcc']
    >>> adaptive_cna(bulk("Fe", "bcc", a=2.87, cubic=True)).tolist()
    ['bcc', 'bcc']
    """
    check_atoms(atoms)
    if not atoms.pbc.any() and len(atoms) < 15:
        raise MIInputError(f"Adaptive CNA needs at least 15 atoms in a cluster; got {len(atoms)}.")
    n = len(atoms)
    labels = np.full(n, "other", dtype=object)
    twelve = nearest_neighbors(atoms, 12)
    vectors12 = twelve.vectors.reshape(n, 12, 3)
    cut12 = _HALF_1_SQRT2 * twelve.distances.reshape(n, 12).mean(axis=1)
    fourteen = nearest_neighbors(atoms, 14)
    distances14 = fourteen.distances.reshape(n, 14)
    vectors14 = fourteen.vectors.reshape(n, 14, 3)
    cut14 = (
        _HALF_1_SQRT2
        * (2.0 / np.sqrt(3.0) * distances14[:, :8].sum(axis=1) + distances14[:, 8:].sum(axis=1))
        / 14.0
    )
    for start in range(0, n, _CHUNK):  # memory chunks of atoms, vectorised inside
        part = slice(start, min(start + _CHUNK, n))
        n_cn, n_bonds, max_degree, _ = _signatures(vectors12[part], cut12[part], rings=None)
        s421 = (n_cn == 4) & (n_bonds == 2) & (max_degree == 1)
        s422 = (n_cn == 4) & (n_bonds == 2) & (max_degree == 2)
        fcc = s421.sum(axis=1) == 12
        hcp = (s421.sum(axis=1) == 6) & (s422.sum(axis=1) == 6)
        n_cn, n_bonds, max_degree, ring = _signatures(vectors14[part], cut14[part], rings=6)
        s666 = (n_cn == 6) & (n_bonds == 6) & (max_degree == 2) & ring
        s444 = (n_cn == 4) & (n_bonds == 4) & (max_degree == 2)
        bcc = (s666.sum(axis=1) == 8) & (s444.sum(axis=1) == 6)
        chunk = labels[part]
        chunk[fcc] = "fcc"
        chunk[hcp] = "hcp"
        chunk[bcc & ~fcc & ~hcp] = "bcc"
        labels[part] = chunk
    return labels.astype(str)


def _signatures(vectors: np.ndarray, cutoff: np.ndarray, rings: int | None):
    """CNA numbers of every (atom, neighbour) pair from the neighbours' bond matrix.

    Returns, each of shape (n_atoms, k): the number of common neighbours, the
    number of bonds among them, the largest number of those bonds at one common
    neighbour (1: isolated bonds, 2: chains or rings) and, with ``rings = 6``,
    whether six bonds on six common neighbours form one ring (bcc's (6, 6, 6))
    rather than two triangles. With ``max_degree == 2`` a four-bond, four-atom
    pattern is always one ring, so (4, 4, 4) needs no extra test.
    """
    k = vectors.shape[1]
    gaps = np.linalg.norm(vectors[:, :, None, :] - vectors[:, None, :, :], axis=-1)
    bonded = (gaps < cutoff[:, None, None]) & ~np.eye(k, dtype=bool)
    common = bonded  # row a: the common neighbours of the centre and neighbour a
    sub = common[:, :, :, None] & common[:, :, None, :] & bonded[:, None, :, :]
    degree = sub.sum(axis=-1)
    n_cn = common.sum(axis=-1)
    n_bonds = degree.sum(axis=-1) // 2
    max_degree = degree.max(axis=-1)
    ring = np.zeros(n_cn.shape, dtype=bool)
    if rings is not None:
        candidate = (n_cn == rings) & (n_bonds == rings) & (max_degree == 2)
        adjacency = sub[candidate].astype(np.float32)  # (m, k, k), few pairs
        triangles = np.einsum("mab,mab->m", adjacency @ adjacency, adjacency)
        ring[candidate] = triangles < 0.5  # two triangles would give 12
    return n_cn, n_bonds, max_degree, ring


def q_threshold_labels(avg_q4: np.ndarray, avg_q6: np.ndarray) -> np.ndarray:
    """The literature's threshold rules on the averaged (q4, q6) map.

    Liquid when ``avg_q6 < 0.28`` (solid-like atoms have larger averaged q6;
    Lechner & Dellago 2008 use a q6 cut of this kind), otherwise bcc when
    ``avg_q4 < 0.06``, hcp when ``avg_q4 < 0.13``, else fcc (the averaged q4 of
    the ideal lattices: bcc 0.036, hcp 0.097, fcc 0.191).

    Examples
    --------
    >>> q_threshold_labels(np.array([0.19, 0.03, 0.1]), np.array([0.57, 0.5, 0.2])).tolist()
    ['fcc', 'bcc', 'liquid']
    """
    q4 = np.asarray(avg_q4, dtype=float)
    q6 = np.asarray(avg_q6, dtype=float)
    labels = np.where(q4 < 0.06, "bcc", np.where(q4 < 0.13, "hcp", "fcc"))
    return np.where(q6 < 0.28, "liquid", labels)
