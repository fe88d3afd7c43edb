"""Stillinger-Weber potential for Si (and Ge, Si-Ge) as an ASE calculator.

The energy is a sum of pair and triplet terms (Stillinger & Weber, PRB 31,
5262 (1985)):

.. math::

    E = \\sum_{i<j} \\phi_2(r_{ij})
        + \\sum_i \\sum_{j<k} \\phi_3(r_{ij}, r_{ik}, \\theta_{jik}),

    \\phi_2(r) = A\\varepsilon [B (\\sigma/r)^p - (\\sigma/r)^q]
                 \\exp[\\sigma / (r - a\\sigma)],

    \\phi_3 = \\lambda\\varepsilon (\\cos\\theta_{jik} + 1/3)^2
              \\exp[\\gamma\\sigma / (r_{ij} - a\\sigma)]
              \\exp[\\gamma\\sigma / (r_{ik} - a\\sigma)],

both zero beyond :math:`r = a\\sigma`. Everything is computed on flat arrays of
neighbour pairs and of triplets (pairs of pairs sharing a centre atom) built
from :func:`ase.neighborlist.neighbor_list`; there is no loop over atoms.
Because the pair list carries image offsets, cells smaller than twice the
cut-off work too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.data import atomic_numbers
from ase.neighborlist import neighbor_list

from mi_widgets._errors import MIInputError
from mi_widgets.structure._neighbors import (
    MIN_ATOM_DISTANCE,
    check_atoms,
    check_neighbor_search,
    refuse_close_pairs,
)

#: Neighbours per atom within the cut-off beyond which the three-body sum (which grows as
#: the square) is refused: a compressed liquid has about 20, a tiny cell millions.
SW_MAX_NEIGHBORS_PER_ATOM = 500

__all__ = [
    "SW_GERMANIUM",
    "SW_SILICON",
    "SWParameters",
    "StillingerWeber",
    "sw_pairs_and_triplets",
]


@dataclass(frozen=True)
class SWParameters:
    """Stillinger-Weber parameters of one element.

    Parameters
    ----------
    epsilon : float
        Energy scale (eV).
    sigma : float
        Length scale (Angstrom).
    a : float
        Cut-off in units of ``sigma``.
    lambda_ : float
        Strength of the three-body term.
    gamma : float
        Range of the three-body term in units of ``sigma``.
    A, B, p, q : float
        Shape of the two-body term.

    Examples
    --------
    >>> round(SW_SILICON.a * SW_SILICON.sigma, 4)  # cut-off in Angstrom
    3.7712
    """

    epsilon: float
    sigma: float
    a: float = 1.80
    lambda_: float = 21.0
    gamma: float = 1.20
    A: float = 7.049556277
    B: float = 0.6022245584
    p: float = 4.0
    q: float = 0.0


#: The original Si parameters, Stillinger & Weber, PRB 31, 5262 (1985).
SW_SILICON = SWParameters(epsilon=2.1683, sigma=2.0951)

#: Ge parameters of Ding & Andersen, PRB 34, 6987 (1986): only epsilon,
#: sigma and lambda differ from Si.
SW_GERMANIUM = SWParameters(epsilon=1.93, sigma=2.181, lambda_=31.0)


def _pair_table(elements: dict[str, SWParameters]) -> dict[str, np.ndarray]:
    """Per element-pair parameter tables with the usual mixing rules.

    epsilon and lambda mix geometrically, sigma arithmetically (Lorentz-Berthelot
    style, the kind of rule used for SW Si-Ge alloys, e.g. by Laradji, Landau &
    Duenweg, PRB 51, 4894 (1995)); a, gamma, A, B, p, q are the same for Si and
    Ge, and are averaged otherwise. The three-body strength of a triplet j-i-k
    is sqrt(lambda_ij eps_ij lambda_ik eps_ik). The binary is meant for
    examples: check it against the paper before quantitative alloy work.
    """
    params = list(elements.values())

    def table(name: str, rule: str) -> np.ndarray:
        values = np.array([getattr(prm, name) for prm in params], dtype=float)
        if rule == "geometric":
            return np.sqrt(np.outer(values, values))
        return 0.5 * (values[:, None] + values[None, :])

    return {
        "epsilon": table("epsilon", "geometric"),
        "lambda_": table("lambda_", "geometric"),
        "sigma": table("sigma", "arithmetic"),
        "a": table("a", "arithmetic"),
        "gamma": table("gamma", "arithmetic"),
        "A": table("A", "arithmetic"),
        "B": table("B", "arithmetic"),
        "p": table("p", "arithmetic"),
        "q": table("q", "arithmetic"),
    }


def sw_pairs_and_triplets(
    atoms: Atoms, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Neighbour pairs within ``cutoff`` and all triplets that share a centre.

    Parameters
    ----------
    atoms : ase.Atoms
        The structure (periodic or not).
    cutoff : float
        Largest pair distance kept (Angstrom).

    Returns
    -------
    i, j : numpy.ndarray of int
        Centre and neighbour atom of each directed pair, sorted by ``i``.
    vectors : numpy.ndarray, shape (n_pairs, 3)
        ``r_j - r_i`` including the periodic image offset (Angstrom).
    distances : numpy.ndarray
        Pair lengths (Angstrom).
    first, second : numpy.ndarray of int
        Pair indices of each triplet: pairs ``first`` and ``second`` share the
        centre atom and ``first < second`` (each unordered triplet once).

    Examples
    --------
    >>> from ase.build import bulk
    >>> i, j, D, d, t1, t2 = sw_pairs_and_triplets(bulk("Si", "diamond", a=5.431), 3.0)
    >>> len(i), len(t1)  # 2 atoms x 4 bonds, 2 atoms x 6 bond angles
    (8, 12)
    """
    check_atoms(atoms, "The structure")
    cutoff = check_neighbor_search(atoms, cutoff, "cutoff", max_per_atom=SW_MAX_NEIGHBORS_PER_ATOM)
    i, j, vectors, distances = neighbor_list("ijDd", atoms, cutoff)
    order = np.argsort(i, kind="stable")
    i, j, vectors, distances = i[order], j[order], vectors[order], distances[order]
    first, second = _triplets_from_sorted_centres(i, len(atoms))
    return i, j, vectors, distances, first, second


def _triplets_from_sorted_centres(i: np.ndarray, n_atoms: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of pair indices (p < q) with the same centre atom ``i[p] == i[q]``."""
    counts = np.bincount(i, minlength=n_atoms)
    starts = np.cumsum(counts) - counts
    partners = counts[i]  # each pair is combined with every pair of its centre
    first = np.repeat(np.arange(len(i)), partners)
    within = np.arange(len(first)) - np.repeat(np.cumsum(partners) - partners, partners)
    second = starts[i[first]] + within
    keep = first < second
    return first[keep], second[keep]


def _check_skin(skin) -> float:
    try:
        value = float(skin)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise MIInputError(f"skin must be a distance >= 0 in Angstrom; got {skin!r}.")
    return value


def _element_parameters(elements) -> dict[str, dict[str, float]]:
    """``{symbol: SWParameters or mapping}`` -> ``{symbol: {name: float}}`` (plain, JSON-able)."""
    if not isinstance(elements, Mapping) or not elements:
        raise MIInputError(
            "elements must map chemical symbols to SWParameters, e.g. {'Si': SW_SILICON}."
        )
    names = {f.name for f in fields(SWParameters)}
    plain = {}
    for symbol, values in elements.items():
        if symbol not in atomic_numbers:
            raise MIInputError(f"{symbol!r} is not a chemical symbol; use e.g. 'Si' or 'Ge'.")
        if isinstance(values, SWParameters):
            values = asdict(values)
        if not isinstance(values, Mapping) or not {"epsilon", "sigma"} <= set(values):
            raise MIInputError(
                f"Parameters of {symbol} must be SWParameters or a mapping with at least "
                "epsilon and sigma."
            )
        unknown = sorted(set(values) - names)
        if unknown:
            raise MIInputError(
                f"Unknown Stillinger-Weber parameter(s) {', '.join(unknown)} for {symbol}; "
                f"use {', '.join(sorted(names))}."
            )
        plain[symbol] = asdict(SWParameters(**{k: float(v) for k, v in values.items()}))
    return plain


class StillingerWeber(Calculator):
    """Stillinger-Weber potential as an ASE calculator (energy, forces, stress).

    Parameters
    ----------
    elements : dict of str to SWParameters (or to a mapping of its fields), optional
        Parameters per chemical symbol. Default: Si (Stillinger & Weber 1985)
        and Ge (Ding & Andersen 1986); Si-Ge cross terms by geometric /
        arithmetic mixing (see ``_pair_table``).
    skin : float, default 0.3
        Verlet-list skin (Angstrom): pairs up to cut-off + skin are stored and
        reused until an atom has moved more than skin / 2. Use ~1 A for hot
        liquids, 0 to rebuild every call.
    **kwargs
        Passed to :class:`ase.calculators.calculator.Calculator`.

    Attributes
    ----------
    parameters : ase.calculators.calculator.Parameters
        ``elements`` (symbol -> dict of plain numbers) and ``skin``, as ASE's own
        calculators keep them: ``todict()`` lists those that differ from the
        defaults, ``set(**kwargs)`` changes them and discards old results.

    Notes
    -----
    Implemented properties: ``energy`` and ``free_energy`` (eV), ``energies``
    (per atom, eV; each triplet counted on its centre atom, each pair split
    half and half), ``forces`` (eV/Angstrom) and ``stress`` (eV/Angstrom^3,
    Voigt order xx, yy, zz, yz, xz, xy, periodic cells only).

    Examples
    --------
    >>> from ase.build import bulk
    >>> si = bulk("Si", "diamond", a=5.431, cubic=True)
    >>> si.calc = StillingerWeber()
    >>> round(si.get_potential_energy() / len(si), 4)
    -4.3366
    """

    implemented_properties = ("energy", "free_energy", "energies", "forces", "stress")
    nolabel = True
    #: ASE convention: the parameters a new calculator starts from (plain numbers, so
    #: ``todict()`` output can be stored as JSON, e.g. in an ASE database).
    default_parameters: ClassVar[dict] = {
        "elements": {"Si": asdict(SW_SILICON), "Ge": asdict(SW_GERMANIUM)},
        "skin": 0.3,
    }

    def __init__(
        self,
        elements: Mapping[str, SWParameters | Mapping[str, float]] | None = None,
        skin: float = 0.3,
        **kwargs,
    ) -> None:
        self._verlet: dict | None = None
        if elements is not None:
            kwargs["elements"] = elements
        super().__init__(skin=skin, **kwargs)
        self._configure()

    def set(self, **kwargs) -> dict:
        """Change parameters (``elements``, ``skin``) like ASE's own calculators.

        Returns the parameters that changed; a change discards the results and
        the neighbour list, so the next call recomputes.

        Examples
        --------
        >>> calc = StillingerWeber()
        >>> calc.set(skin=0.5)
        {'skin': 0.5}
        >>> calc.todict()
        {'skin': 0.5}
        """
        if "elements" in kwargs:
            kwargs["elements"] = _element_parameters(kwargs["elements"])
        if "skin" in kwargs:
            kwargs["skin"] = _check_skin(kwargs["skin"])
        changed = super().set(**kwargs)
        if changed and getattr(self, "elements", None) is not None:
            self.reset()
            self._configure()
        return changed

    def _configure(self) -> None:
        """Derive the working tables from ``self.parameters`` and drop the neighbour list."""
        self.skin = float(self.parameters["skin"])
        self.elements = {
            symbol: SWParameters(**values) for symbol, values in self.parameters["elements"].items()
        }
        self._symbols = list(self.elements)
        self._table = _pair_table(self.elements)
        self._cut = self._table["a"] * self._table["sigma"]
        self._verlet = None

    def _species_index(self, atoms: Atoms) -> np.ndarray:
        numbers = atoms.numbers
        known = np.array([atomic_numbers[s] for s in self._symbols])
        lookup = np.full(max(numbers.max(initial=0), known.max()) + 1, -1)
        lookup[known] = np.arange(len(known))
        species = lookup[numbers]
        if (species < 0).any():
            unknown = sorted(set(np.array(atoms.get_chemical_symbols())[species < 0]))
            raise MIInputError(
                f"No Stillinger-Weber parameters for {', '.join(unknown)}; "
                f"this calculator knows {', '.join(self._symbols)}."
            )
        return species

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        # NaN/inf positions and cell, impossible densities and a search too large for the
        # three-body sum are refused here, overlapping atoms from the pair list (_evaluate):
        # with atoms apart and finite, the energy is finite
        check_atoms(atoms, "The structure", overlaps=False)
        check_neighbor_search(
            atoms,
            float(self._cut.max()) + self.skin,
            "The Stillinger-Weber cut-off",
            max_per_atom=SW_MAX_NEIGHBORS_PER_ATOM,
        )
        species = self._species_index(atoms)
        self.results.update(self._evaluate(atoms, species))

    def _pairs(self, atoms: Atoms) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pairs within the cut-off, from a Verlet list (cut-off + skin) rebuilt when needed.

        The list stores integer image shifts, so it stays valid while the cell
        changes a little (barostats). It is rebuilt when the atom count or
        periodicity changes or when ``2 d + (r_c + skin) |M - 1| > skin``, with
        ``d`` the largest displacement since the build (measured in the mapped
        cell) and ``M`` the cell deformation; then no pair inside the cut-off
        can be missing from the list.
        """
        cutoff = float(self._cut.max())
        cell = atoms.cell.array
        cache = self._verlet
        stale = (
            cache is None
            or len(atoms) != len(cache["positions"])
            or not np.array_equal(atoms.pbc, cache["pbc"])
            or atoms.cell.rank != cache["rank"]
        )
        if not stale:
            if cache["rank"] == 3:
                deformation = np.linalg.solve(cache["cell"], cell)
                strain = np.linalg.norm(deformation - np.eye(3), ord=2)
                mapped = cache["positions"] @ deformation
            else:
                strain = 0.0 if np.array_equal(cell, cache["cell"]) else np.inf
                mapped = cache["positions"]
            moved = np.sqrt(((atoms.positions - mapped) ** 2).sum(axis=1).max())
            stale = 2.0 * moved + (cutoff + self.skin) * strain > self.skin
        if stale:
            i, j, shifts = neighbor_list("ijS", atoms, cutoff + self.skin)
            order = np.argsort(i, kind="stable")
            cache = self._verlet = {
                "positions": atoms.positions.copy(),
                "cell": cell.copy(),
                "rank": atoms.cell.rank,
                "pbc": atoms.pbc.copy(),
                "i": i[order],
                "j": j[order],
                "shifts": shifts[order].astype(float),
            }
        i, j = cache["i"], cache["j"]
        vectors = atoms.positions[j] - atoms.positions[i] + cache["shifts"] @ cell
        r = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
        return i, j, vectors, r

    def _evaluate(self, atoms: Atoms, species: np.ndarray) -> dict:
        n_atoms = len(atoms)
        i, j, vectors, r = self._pairs(atoms)
        refuse_close_pairs(i, j, r, "The structure", MIN_ATOM_DISTANCE)
        si, sj = species[i], species[j]
        cut = self._cut[si, sj]
        inside = r < cut
        i, j, vectors, r = i[inside], j[inside], vectors[inside], r[inside]
        si, sj, cut = si[inside], sj[inside], cut[inside]
        first, second = _triplets_from_sorted_centres(i, n_atoms)
        t = self._table
        eps, sigma = t["epsilon"][si, sj], t["sigma"][si, sj]

        pair_energy, pair_slope = _two_body(
            r, eps, sigma, cut, t["A"][si, sj], t["B"][si, sj], t["p"][si, sj], t["q"][si, sj]
        )
        # every bond appears twice in the directed list
        energies = 0.5 * np.bincount(i, weights=pair_energy, minlength=n_atoms)
        gradient = (0.5 * pair_slope / r)[:, None] * vectors  # dE/d(vector) per pair

        if len(first):
            g, g_slope = _radial_three_body(r, sigma * t["gamma"][si, sj], cut)
            strength = np.sqrt(
                (t["lambda_"] * t["epsilon"])[si, sj][first]
                * (t["lambda_"] * t["epsilon"])[si, sj][second]
            )
            e3, grad_first, grad_second = _three_body(
                vectors[first], r[first], g[first], g_slope[first],
                vectors[second], r[second], g[second], g_slope[second],
                strength,
            )  # fmt: skip
            energies += np.bincount(i[first], weights=e3, minlength=n_atoms)
            gradient += _sum_rows(first, grad_first, len(r)) + _sum_rows(
                second, grad_second, len(r)
            )

        forces = _sum_rows(i, gradient, n_atoms) - _sum_rows(j, gradient, n_atoms)
        energy = float(energies.sum())
        results = {
            "energy": energy,
            "free_energy": energy,
            "energies": energies,
            "forces": forces,
        }
        if atoms.cell.rank == 3:
            virial = vectors.T @ gradient  # sum over pairs of D (x) dE/dD
            stress = 0.5 * (virial + virial.T) / atoms.get_volume()
            results["stress"] = stress.flat[[0, 4, 8, 5, 2, 1]]
        return results


def _sum_rows(index: np.ndarray, rows: np.ndarray, length: int) -> np.ndarray:
    """Scatter-add the rows of an (n, 3) array into ``length`` bins (faster than np.add.at)."""
    return np.stack(
        [np.bincount(index, weights=rows[:, axis], minlength=length) for axis in range(3)], axis=1
    )


def _two_body(r, eps, sigma, cut, A, B, p, q) -> tuple[np.ndarray, np.ndarray]:
    """phi_2(r) and d phi_2 / dr for pairs inside their cut-off."""
    s_over_r = sigma / r
    power = B * s_over_r**p - s_over_r**q
    power_slope = (-p * B * s_over_r**p + q * s_over_r**q) / r
    damp = np.exp(sigma / (r - cut))
    damp_slope = -sigma / (r - cut) ** 2 * damp
    energy = A * eps * power * damp
    slope = A * eps * (power_slope * damp + power * damp_slope)
    return energy, slope


def _radial_three_body(r, gamma_sigma, cut) -> tuple[np.ndarray, np.ndarray]:
    """exp(gamma sigma / (r - a sigma)) and its derivative in r."""
    g = np.exp(gamma_sigma / (r - cut))
    return g, -gamma_sigma / (r - cut) ** 2 * g


def _three_body(d1, r1, g1, dg1, d2, r2, g2, dg2, strength):
    """Energy of each triplet and its gradient with respect to both bond vectors."""
    cos = np.einsum("ij,ij->i", d1, d2) / (r1 * r2)
    shifted = cos + 1.0 / 3.0
    energy = strength * shifted**2 * g1 * g2
    # d cos / d d1 = d2 / (r1 r2) - cos d1 / r1^2, and symmetrically for d2
    dcos1 = d2 / (r1 * r2)[:, None] - (cos / r1**2)[:, None] * d1
    dcos2 = d1 / (r1 * r2)[:, None] - (cos / r2**2)[:, None] * d2
    angular = (2.0 * strength * shifted * g1 * g2)[:, None]
    radial1 = (strength * shifted**2 * dg1 * g2 / r1)[:, None]
    radial2 = (strength * shifted**2 * g1 * dg2 / r2)[:, None]
    grad1 = angular * dcos1 + radial1 * d1
    grad2 = angular * dcos2 + radial2 * d2
    return energy, grad1, grad2
