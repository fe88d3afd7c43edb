"""Radial distribution function and coordination numbers of periodic structures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

from mi_widgets._errors import MIInputError, check_positive_int
from mi_widgets.structure._neighbors import check_neighbor_search
from mi_widgets.structure.io import require_cell, validate_atoms

__all__ = ["RDFResult", "coordination_numbers", "nearest_neighbor_distance", "rdf"]

#: g(r) only counts pairs, so it may look further than the descriptors (which store each pair).
RDF_MAX_NEIGHBORS_PER_ATOM = 20_000


@dataclass(frozen=True)
class RDFResult:
    """A radial distribution function.

    Attributes
    ----------
    r : numpy.ndarray
        Bin centres (Å).
    g : numpy.ndarray
        g(r), dimensionless; tends to 1 at large r in a liquid.
    edges : numpy.ndarray
        Bin edges (Å), one more than ``r``.
    neighbors_per_atom : numpy.ndarray
        Mean number of neighbours of a centre atom in each bin.
    density : float
        Number density of the neighbour species (atoms / Å^3).
    """

    r: np.ndarray
    g: np.ndarray
    edges: np.ndarray
    neighbors_per_atom: np.ndarray
    density: float

    def running_coordination(self) -> np.ndarray:
        """Mean number of neighbours within each bin's upper edge."""
        return np.cumsum(self.neighbors_per_atom)


def _species_mask(atoms: Atoms, symbol: str | None, role: str) -> np.ndarray:
    symbols = np.array(atoms.get_chemical_symbols())
    if symbol is None:
        return np.ones(len(atoms), dtype=bool)
    mask = symbols == symbol
    if not mask.any():
        present = ", ".join(sorted(set(symbols)))
        raise MIInputError(f"{role} element {symbol!r} is not in the structure ({present}).")
    return mask


def rdf(
    atoms: Atoms,
    r_max: float = 6.0,
    n_bins: int = 120,
    *,
    pair: tuple[str, str] | None = None,
    smearing: float = 0.0,
) -> RDFResult:
    """Radial distribution function g(r) of a periodic structure.

    ``g(r) = n(r) / (4 pi r^2 dr rho)`` where ``n(r) dr`` is the mean number of
    neighbours of a centre atom between ``r`` and ``r + dr`` and ``rho`` the number
    density of the neighbour species. Periodic images are counted, so ``r_max``
    may exceed the cell. Pairs come from ASE's vectorised neighbour list.

    Parameters
    ----------
    atoms : ase.Atoms
        A structure with a periodic cell.
    r_max : float, default 6.0
        Largest distance (Å).
    n_bins : int, default 120
        Number of bins between 0 and ``r_max``.
    pair : (str, str), optional
        Centre and neighbour elements for a partial g_AB(r); all atoms when omitted.
    smearing : float, default 0.0
        Standard deviation (Å) of a Gaussian that broadens each distance, as thermal
        vibrations do; 0 counts exact distances. Neighbour counts are conserved.

    Returns
    -------
    RDFResult

    Raises
    ------
    MIInputError
        If the structure has no cell, bad positions, or an element of ``pair`` is absent.

    Examples
    --------
    >>> from ase.build import bulk
    >>> result = rdf(bulk("Cu", "fcc", a=3.6, cubic=True), r_max=3.0, n_bins=30)
    >>> float(result.neighbors_per_atom.sum())  # 12 nearest neighbours at 2.55 Å
    12.0
    """
    validate_atoms(atoms)
    require_cell(atoms)
    r_max = check_neighbor_search(atoms, r_max, "r_max", max_per_atom=RDF_MAX_NEIGHBORS_PER_ATOM)
    n_bins = check_positive_int(n_bins, "n_bins", maximum=100_000)
    centre_symbol, neighbour_symbol = pair if pair is not None else (None, None)
    centres = _species_mask(atoms, centre_symbol, "Centre")
    neighbours = _species_mask(atoms, neighbour_symbol, "Neighbour")
    i, j, d = neighbor_list("ijd", atoms, float(r_max))
    keep = centres[i] & neighbours[j]
    edges = np.linspace(0.0, float(r_max), n_bins + 1)
    counts, _ = np.histogram(d[keep], bins=edges)
    per_atom = _smeared(counts, edges, smearing) / centres.sum()
    density = neighbours.sum() / atoms.get_volume()
    shell_volume = 4.0 / 3.0 * np.pi * np.diff(edges**3)
    g = per_atom / (density * shell_volume)
    r = 0.5 * (edges[1:] + edges[:-1])
    return RDFResult(r=r, g=g, edges=edges, neighbors_per_atom=per_atom, density=float(density))


def _smeared(counts: np.ndarray, edges: np.ndarray, sigma: float) -> np.ndarray:
    """Convolve a histogram with a normalised Gaussian of width ``sigma`` (Å)."""
    if not (np.isfinite(sigma) and sigma >= 0):
        raise MIInputError(f"smearing must be a width of zero or more Å; got {sigma}.")
    width = edges[1] - edges[0]
    if sigma < 0.25 * width:
        return counts.astype(float)
    half = int(np.ceil(4 * sigma / width))
    offsets = np.arange(-half, half + 1) * width
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    return np.convolve(counts, kernel / kernel.sum(), mode="same")


def nearest_neighbor_distance(atoms: Atoms) -> float:
    """The shortest interatomic distance in a periodic structure (Å).

    Examples
    --------
    >>> from ase.build import bulk
    >>> round(nearest_neighbor_distance(bulk("Si", "diamond", a=5.431)), 4)
    2.3517
    """
    validate_atoms(atoms)
    require_cell(atoms)
    guess = 1.5 * (atoms.get_volume() / len(atoms)) ** (1.0 / 3.0)
    for _ in range(6):
        check_neighbor_search(atoms, guess, "The nearest-neighbour search radius")
        d = neighbor_list("d", atoms, guess)
        d = d[d > 1e-8]
        if d.size:
            return float(d.min())
        guess *= 2.0
    raise MIInputError("No two atoms are closer than 50 Å; is the cell much too large?")


def coordination_numbers(atoms: Atoms, cutoff: float | None = None) -> np.ndarray:
    """Number of neighbours of each atom within ``cutoff``.

    Parameters
    ----------
    atoms : ase.Atoms
        A structure with a periodic cell.
    cutoff : float, optional
        Bond cut-off (Å). Default: 1.2 x the nearest-neighbour distance, which
        separates the first shell of fcc, hcp, diamond and rocksalt crystals; for
        bcc it includes the second shell at 1.15 x (8 + 6 = 14 neighbours).

    Returns
    -------
    numpy.ndarray of int, one per atom.

    Examples
    --------
    >>> from ase.build import bulk
    >>> coordination_numbers(bulk("Si", "diamond", a=5.431)).tolist()
    [4, 4]
    """
    if cutoff is None:
        cutoff = 1.2 * nearest_neighbor_distance(atoms)
    else:
        validate_atoms(atoms)
        require_cell(atoms)
    cutoff = check_neighbor_search(atoms, cutoff, "cutoff")
    i = neighbor_list("i", atoms, cutoff)
    return np.bincount(i, minlength=len(atoms))
