"""Atom-centred symmetry functions (Behler, J. Chem. Phys. 134, 074106 (2011)).

The same values and conventions as DScribe's ``ACSF`` (Himanen et al., Comput. Phys.
Commun. 247, 106949 (2020)). With the cosine cut-off
:math:`f_c(r) = \\tfrac12 [\\cos(\\pi r / r_c) + 1]` for :math:`r < r_c`,

.. math::

    G^1_i = \\sum_j f_c(r_{ij}), \\qquad
    G^2_i = \\sum_j e^{-\\eta (r_{ij} - r_s)^2} f_c(r_{ij}),

    G^4_i = 2^{1-\\zeta} \\sum_{j<k} (1 + \\lambda \\cos\\theta_{jik})^\\zeta
            e^{-\\eta (r_{ij}^2 + r_{ik}^2 + r_{jk}^2)}
            f_c(r_{ij}) f_c(r_{ik}) f_c(r_{jk}),

    G^5_i = 2^{1-\\zeta} \\sum_{j<k} (1 + \\lambda \\cos\\theta_{jik})^\\zeta
            e^{-\\eta (r_{ij}^2 + r_{ik}^2)} f_c(r_{ij}) f_c(r_{ik}),

where :math:`G^4` and :math:`G^5` run over unordered pairs of neighbours (:math:`G^5`
has no :math:`j`-:math:`k` term, so it also sees the wide angles whose :math:`r_{jk}`
lies beyond the cut-off). Radial functions are
resolved by the neighbour's element and angular ones by the unordered pair of
neighbour elements; the element of the centre atom is not encoded (one network per
element handles it).

Feature order (that of DScribe): elements sorted by atomic number ``Z_0 < Z_1 < ...``;
first, for each element ``a``, the block ``[G1, G2(eta_1, r_s1), G2(eta_2, r_s2), ...]``
for neighbours of element ``a``; then, for each unordered element pair ``(a, b)`` with
``a >= b`` in the order ``(0, 0), (1, 0), (1, 1), (2, 0), ...`` (block index
``a (a + 1) / 2 + b``), the block ``[G4(eta_1, zeta_1, lambda_1), ..., G5(eta_1, zeta_1,
lambda_1), ...]``.
:meth:`ACSFSettings.feature_labels` spells it out.

Everything is computed on flat arrays of neighbour pairs and of triplets (two pairs
sharing a centre atom) from one neighbour list; there is no loop over atoms. The
derivatives are kept per directed pair: the gradient of atom ``i``'s features with
respect to the pair vector ``d_p = r_j - r_i`` (image shift included). Those blocks
give forces (``dG_i/dr_j = sum_p dG_i/dd_p``, ``dG_i/dr_i = -sum_p dG_i/dd_p``) and the
virial stress (``sum_p d_p (x) dE/dd_p``) without ever forming a dense array.

Values alone take a lighter path that builds no derivative array: the factors
``exp(-eta r^2) f_c(r)`` are computed once per pair (and distinct eta), so a triplet's
radial part is two gathered pair factors times its own j-k term; the powers
``(1 +- cos)^zeta`` of all zeta share their repeated squares; the prefactor
``2^(1 - zeta)`` multiplies the sums, not the triplets.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ase import Atoms
from ase.data import atomic_numbers, chemical_symbols

from mi_widgets._errors import MIInputError
from mi_widgets.potentials._acsf_values import _chunk_bounds, _triplet_layout, _values
from mi_widgets.structure._neighbors import pairs_within

__all__ = ["ACSFDerivatives", "ACSFSettings", "acsf"]

#: Triplets handled at once (memory: about 50 bytes per triplet and angular function).
TRIPLETS_PER_CHUNK = 200_000


def _parameter_table(values, name: str, columns: tuple[str, ...]) -> tuple:
    """Validate ``((a, b), ...)`` rows of finite numbers and return them as a tuple of tuples."""
    if values is None:
        return ()
    try:
        table = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise MIInputError(
            f"{name} must be a list of ({', '.join(columns)}) tuples of numbers; got {values!r}."
        ) from None
    if table.size == 0:
        return ()
    if table.ndim == 1 and table.size == len(columns):
        table = table[None, :]
    if table.ndim != 2 or table.shape[1] != len(columns):
        raise MIInputError(
            f"{name} must be a list of ({', '.join(columns)}) tuples; got an array of shape "
            f"{table.shape}."
        )
    if not np.isfinite(table).all():
        raise MIInputError(f"{name} contains NaN or infinite numbers; give finite parameters.")
    if (table[:, 0] <= 0).any():
        raise MIInputError(f"Every eta in {name} must be positive (1/Angstrom^2).")
    return tuple(tuple(float(x) for x in row) for row in table)


def _species_tuple(species: Iterable) -> tuple[str, ...]:
    symbols = []
    for item in species:
        if isinstance(item, (int, np.integer)) and 0 < int(item) < len(chemical_symbols):
            symbols.append(chemical_symbols[int(item)])
        elif isinstance(item, str) and item in atomic_numbers:
            symbols.append(item)
        else:
            raise MIInputError(
                f"{item!r} is not a chemical element; give symbols like 'Si' or atomic numbers."
            )
    if not symbols:
        raise MIInputError("species is empty; give at least one element, e.g. ['Si'].")
    return tuple(sorted(set(symbols), key=lambda s: atomic_numbers[s]))


@dataclass(frozen=True)
class ACSFSettings:
    """Parameters of a set of symmetry functions (validated, hashable, JSON-friendly).

    Parameters
    ----------
    r_cut : float
        Cut-off radius (Angstrom).
    species : tuple of str
        Elements, sorted by atomic number (the constructor :meth:`create` sorts them).
    g2 : tuple of (eta, r_s)
        Radial functions: eta in 1/Angstrom^2, r_s in Angstrom.
    g4 : tuple of (eta, zeta, lambda)
        Angular functions: eta in 1/Angstrom^2, zeta >= 1, lambda = +1 or -1.
    g5 : tuple of (eta, zeta, lambda)
        Angular functions without the j-k distance (same parameters); default none.

    Examples
    --------
    >>> s = ACSFSettings.create(5.0, ["Si"], g2=[(1.0, 2.3)], g4=[(0.01, 1.0, -1.0)])
    >>> s.n_features, s.feature_labels()
    (3, ['G1[Si]', 'G2[Si](eta=1, r_s=2.3)', 'G4[Si-Si](eta=0.01, zeta=1, lambda=-1)'])
    """

    r_cut: float
    species: tuple[str, ...]
    g2: tuple[tuple[float, float], ...] = ()
    g4: tuple[tuple[float, float, float], ...] = ()
    g5: tuple[tuple[float, float, float], ...] = ()

    @classmethod
    def create(
        cls,
        r_cut: float,
        species: Iterable,
        g2: Sequence[Sequence[float]] | None = (),
        g4: Sequence[Sequence[float]] | None = (),
        g5: Sequence[Sequence[float]] | None = (),
    ) -> ACSFSettings:
        """Validate the parameters and sort the species by atomic number."""
        try:
            r_cut = float(r_cut)
        except (TypeError, ValueError):
            raise MIInputError(f"r_cut must be a distance in Angstrom; got {r_cut!r}.") from None
        if not np.isfinite(r_cut) or r_cut <= 0:
            raise MIInputError(f"r_cut must be a positive distance in Angstrom; got {r_cut!r}.")
        g2 = _parameter_table(g2, "g2", ("eta", "r_s"))
        g4 = _parameter_table(g4, "g4", ("eta", "zeta", "lambda"))
        g5 = _parameter_table(g5, "g5", ("eta", "zeta", "lambda"))
        for _eta, zeta, lam in g4 + g5:
            if zeta < 1:
                raise MIInputError(
                    f"zeta in g4 and g5 must be at least 1 (smooth angular term); got {zeta:g}."
                )
            if lam not in (-1.0, 1.0):
                raise MIInputError(f"lambda in g4 and g5 must be +1 or -1; got {lam:g}.")
        return cls(r_cut, _species_tuple(species), g2, g4, g5)

    @property
    def n_radial(self) -> int:
        """Features per element in the radial part (G1 and the G2)."""
        return 1 + len(self.g2)

    @property
    def n_features(self) -> int:
        """Length of each atom's feature vector."""
        n = len(self.species)
        return n * self.n_radial + n * (n + 1) // 2 * (len(self.g4) + len(self.g5))

    def feature_labels(self) -> list[str]:
        """A readable name for every feature, in output order."""
        labels = []
        for s in self.species:
            labels.append(f"G1[{s}]")
            labels += [f"G2[{s}](eta={e:g}, r_s={r:g})" for e, r in self.g2]
        for a in range(len(self.species)):
            for b in range(a + 1):
                pair = f"{self.species[b]}-{self.species[a]}"
                labels += [
                    f"G4[{pair}](eta={e:g}, zeta={z:g}, lambda={lam:g})" for e, z, lam in self.g4
                ]
                labels += [
                    f"G5[{pair}](eta={e:g}, zeta={z:g}, lambda={lam:g})" for e, z, lam in self.g5
                ]
        return labels

    def to_dict(self) -> dict:
        """Plain lists and numbers (for JSON); ``g5`` only if there are any."""
        out = {
            "r_cut": self.r_cut,
            "species": list(self.species),
            "g2": [list(row) for row in self.g2],
            "g4": [list(row) for row in self.g4],
        }
        if self.g5:
            out["g5"] = [list(row) for row in self.g5]
        return out

    def species_index(self, atoms: Atoms) -> np.ndarray:
        """Index into :attr:`species` of every atom; refuses elements not in it."""
        known = np.array([atomic_numbers[s] for s in self.species])
        lookup = np.full(max(int(atoms.numbers.max(initial=0)), int(known.max())) + 1, -1)
        lookup[known] = np.arange(len(known))
        index = lookup[atoms.numbers]
        if (index < 0).any():
            unknown = sorted(set(np.array(atoms.get_chemical_symbols())[index < 0]))
            raise MIInputError(
                f"The structure contains {', '.join(unknown)}, not in species "
                f"({', '.join(self.species)}); add it to species or remove those atoms."
            )
        return index


@dataclass(frozen=True)
class ACSFDerivatives:
    """Derivatives of the features, one (3, n_features) block per directed neighbour pair.

    Attributes
    ----------
    i, j : numpy.ndarray of int, shape (n_pairs,)
        Centre atom and neighbour of each pair (a neighbour may appear through several
        periodic images).
    vectors : numpy.ndarray, shape (n_pairs, 3)
        Pair vectors ``d_p = r_j - r_i`` with the image shift (Angstrom).
    values : numpy.ndarray, shape (n_pairs, 3, n_features)
        ``values[p, c, f] = dG_{i_p, f} / d(d_p)_c`` (1/Angstrom); features of atom ``i_p``
        depend on the positions only through its pair vectors.
    n_atoms : int
        Number of atoms.
    """

    i: np.ndarray
    j: np.ndarray
    vectors: np.ndarray
    values: np.ndarray
    n_atoms: int

    def wrt_positions(self) -> np.ndarray:
        """Dense array ``D[i, a, c, f] = dG_{i, f} / dr_{a, c}`` (DScribe's layout).

        Memory grows as ``n_atoms^2``: use it for small cells and checks only.
        """
        n, n_features = self.n_atoms, self.values.shape[2]
        dense = np.zeros((n * n, 3 * n_features))
        flat = self.values.reshape(len(self.i), -1)
        np.add.at(dense, self.i * n + self.j, flat)
        np.add.at(dense, self.i * n + self.i, -flat)
        return dense.reshape(n, n, 3, n_features)

    def contract(self, weights: np.ndarray) -> np.ndarray:
        """``dX/d(d_p)`` for ``X = sum_i weights[i] . G_i``: one 3-vector per pair."""
        return np.einsum("pcf,pf->pc", self.values, weights[self.i])


def acsf(
    atoms: Atoms,
    r_cut: float,
    g2: Sequence[Sequence[float]] | None = (),
    g4: Sequence[Sequence[float]] | None = (),
    species: Iterable | None = None,
    derivatives: bool = False,
    g5: Sequence[Sequence[float]] | None = (),
) -> np.ndarray | tuple[np.ndarray, ACSFDerivatives]:
    """Atom-centred symmetry functions of every atom, as DScribe's ``ACSF`` computes them.

    Parameters
    ----------
    atoms : ase.Atoms
        The structure (periodic along any directions, or a cluster).
    r_cut : float
        Cut-off radius (Angstrom).
    g2 : sequence of (eta, r_s), optional
        Radial functions: eta (1/Angstrom^2) and centre r_s (Angstrom).
    g4 : sequence of (eta, zeta, lambda), optional
        Angular functions: eta (1/Angstrom^2), zeta >= 1 and lambda = +1 or -1.
    species : iterable of str or int, optional
        Elements the features resolve (default: those in ``atoms``); must contain every
        element of ``atoms``.
    derivatives : bool, default False
        Also return the derivatives with respect to the positions, as
        :class:`ACSFDerivatives` (per neighbour pair).
    g5 : sequence of (eta, zeta, lambda), optional
        Angular functions without the j-k distance (DScribe's ``g5_params``).

    Returns
    -------
    features : numpy.ndarray, shape (n_atoms, n_features)
        In the order described in the module docstring (G1, G2 per element; then G4 and G5
        per element pair).
    derivatives : ACSFDerivatives
        Only if ``derivatives`` is True.

    Raises
    ------
    MIInputError
        For a bad structure, bad parameters or an element missing from ``species``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> g = acsf(bulk("Cu", "fcc", a=3.6), 3.0, g2=[(1.0, 2.5)])
    >>> g.shape, round(float(g[0, 0]), 6)
    ((1, 2), 0.666613)
    """
    if species is None and isinstance(atoms, Atoms):
        species = atoms.get_chemical_symbols()
    settings = ACSFSettings.create(r_cut, species if species is not None else (), g2, g4, g5)
    return acsf_from_settings(atoms, settings, derivatives=derivatives)


def acsf_from_settings(
    atoms: Atoms, settings: ACSFSettings, derivatives: bool = False
) -> np.ndarray | tuple[np.ndarray, ACSFDerivatives]:
    """:func:`acsf` with validated :class:`ACSFSettings` (what potentials call)."""
    pairs = pairs_within(atoms, settings.r_cut)
    kinds = settings.species_index(atoms)
    i, j, vectors, r = pairs.i, pairs.j, pairs.vectors, pairs.distances
    if not derivatives and not settings.g5:  # the lighter values path knows G1, G2 and G4
        return _values(i, j, vectors, r, kinds, settings)
    features, derivative = _features_and_derivatives(i, j, vectors, r, kinds, settings)
    return (features, derivative) if derivatives else features


def _features_and_derivatives(i, j, vectors, r, kinds, settings: ACSFSettings):
    """Features and :class:`ACSFDerivatives` of every atom, chunk by chunk of centres."""
    n_atoms = len(kinds)
    # centre atoms in chunks of at most TRIPLETS_PER_CHUNK triplets bound the memory of the
    # (triplet, 3, n_g4) temporaries; pairs are sorted by centre, so a chunk is a slice
    bounds = _chunk_bounds(i, n_atoms, settings, TRIPLETS_PER_CHUNK)
    if len(bounds) <= 2:
        return _compute(i, j, vectors, r, kinds, settings)
    features, blocks = 0.0, []
    for start, stop in itertools.pairwise(bounds):
        if start == stop:
            continue
        part, block = _compute(
            i[start:stop], j[start:stop], vectors[start:stop], r[start:stop], kinds, settings
        )
        blocks.append(block.values)
        features = features + part
    values = np.concatenate(blocks)
    return features, ACSFDerivatives(i=i, j=j, vectors=vectors, values=values, n_atoms=n_atoms)


def _cutoff(r: np.ndarray, r_cut: float) -> tuple[np.ndarray, np.ndarray]:
    """Cosine cut-off and its slope."""
    phase = np.pi * r / r_cut
    return 0.5 * (np.cos(phase) + 1.0), -0.5 * np.pi / r_cut * np.sin(phase)


def _powers(base: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """``base[:, k] ** exponents[k]``; small integer exponents by repeated squaring.

    Angular functions mostly use zeta = 1, 2, 4, 16..., where a few multiplications are
    several times cheaper than the general power.
    """
    out = np.empty_like(base)
    for k, exponent in enumerate(exponents):
        column = base[:, k]
        if exponent == int(exponent) and 0 <= exponent <= 64:
            n, square, result = int(exponent), column, np.ones_like(column)
            while n:
                if n & 1:
                    result = result * square
                n >>= 1
                if n:
                    square = square * square
            out[:, k] = result
        else:
            out[:, k] = column**exponent
    return out


def triplets(i: np.ndarray, n_atoms: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``(p, q)``, ``p < q``, of directed pairs sharing a centre (``i`` sorted)."""
    first, second, _ = _triplet_layout(i, n_atoms)
    return first, second


def _compute(i, j, vectors, r, kinds, settings: ACSFSettings):
    """Features and their per-pair derivatives of the centres of pairs ``i`` (sorted)."""
    n_atoms, n_pairs = len(kinds), len(i)
    n_features, n_radial = settings.n_features, settings.n_radial
    n_species = len(settings.species)
    fc, dfc = _cutoff(r, settings.r_cut)

    # radial part: columns [G1, G2...] of the neighbour's element
    g2 = np.array(settings.g2, dtype=float).reshape(-1, 2)
    gauss = np.exp(-g2[:, 0] * (r[:, None] - g2[:, 1]) ** 2)  # (pairs, n_g2)
    radial = np.concatenate([fc[:, None], gauss * fc[:, None]], axis=1)
    columns = kinds[j][:, None] * n_radial + np.arange(n_radial)
    features = np.bincount(
        (i[:, None] * n_features + columns).ravel(),
        weights=radial.ravel(),
        minlength=n_atoms * n_features,
    )
    radial_slope = dfc[:, None] - 2.0 * g2[:, 0] * (r[:, None] - g2[:, 1]) * fc[:, None]
    slope = np.concatenate([dfc[:, None], gauss * radial_slope], axis=1)
    unit = vectors / r[:, None]
    flat_index = (np.arange(n_pairs)[:, None, None] * 3 + np.arange(3)[None, :, None]) * n_features
    flat_index = flat_index + columns[:, None, :]  # (pairs, 3, n_radial)
    grad = np.bincount(
        flat_index.ravel(),
        weights=(unit[:, :, None] * slope[:, None, :]).ravel(),
        minlength=n_pairs * 3 * n_features,
    )

    n_g4, n_g5 = len(settings.g4), len(settings.g5)
    if (n_g4 or n_g5) and n_pairs:
        n_blocks = n_species * (n_species + 1) // 2
        n_angular = n_g4 + n_g5
        start = n_species * n_radial
        features = features.reshape(n_atoms, n_features)
        grad = grad.reshape(n_pairs, 3, n_features)
        all_first, all_second = triplets(i, n_atoms)
        dot_all = np.einsum("ij,ij->i", vectors[all_first], vectors[all_second])
        r12_all = np.sqrt(np.maximum(r[all_first] ** 2 + r[all_second] ** 2 - 2.0 * dot_all, 0.0))
        for params, offset, with_jk in ((settings.g4, 0, True), (settings.g5, n_g4, False)):
            if not params:
                continue
            params = np.array(params, dtype=float).reshape(-1, 3)
            if with_jk:
                keep = np.flatnonzero(r12_all < settings.r_cut)  # DScribe drops j-k beyond r_c
            else:
                keep = np.arange(len(all_first))
            if not len(keep):  # e.g. a crystal whose j-k distances all lie beyond r_c
                continue
            first, second, r12 = all_first[keep], all_second[keep], r12_all[keep]
            r1, r2 = r[first], r[second]
            cos = dot_all[keep] / (r1 * r2)
            if with_jk:
                f12, df12 = _cutoff(r12, settings.r_cut)
            else:
                f12, df12 = np.ones_like(r12), np.zeros_like(r12)
            eta, zeta, lam = params[:, 0], params[:, 1], params[:, 2]
            base = 1.0 + lam * cos[:, None]  # (triplets, n_params)
            lower = _powers(base, zeta - 1.0)  # zeta >= 1: finite where the base vanishes
            angular = lower * base
            squares = r1**2 + r2**2 + (r12**2 if with_jk else 0.0)
            # settings often share one eta among the angular functions: one exp per distinct eta
            unique_eta, which = np.unique(eta, return_inverse=True)
            gauss3 = np.exp(-unique_eta * squares[:, None])[:, which]
            cut3 = (fc[first] * fc[second] * f12)[:, None]
            prefactor = 2.0 ** (1.0 - zeta)
            value = prefactor * angular * gauss3 * cut3
            a, b = kinds[j[first]], kinds[j[second]]
            high, low = np.maximum(a, b), np.minimum(a, b)
            block = high * (high + 1) // 2 + low
            scatter = sp.csr_matrix(
                (np.ones(len(first)), (i[first] * n_blocks + block, np.arange(len(first)))),
                shape=(n_atoms * n_blocks, len(first)),
            )
            angular_features = (scatter @ value).reshape(n_atoms, n_blocks, len(params))
            for b in range(n_blocks):
                columns = slice(start + b * n_angular + offset,
                                start + b * n_angular + offset + len(params))  # fmt: skip
                features[:, columns] += angular_features[:, b]
            d1, d2 = vectors[first], vectors[second]
            d12 = d2 - d1
            angular_grad = _angular_gradient(
                first, second, d1, d2, d12, r1, r2, r12, fc, dfc, f12, df12, cos,
                eta, zeta, lam, lower, angular, gauss3, prefactor, block, len(params),
                n_pairs, n_blocks, with_jk,
            )  # fmt: skip
            for b in range(n_blocks):
                columns = slice(start + b * n_angular + offset,
                                start + b * n_angular + offset + len(params))  # fmt: skip
                grad[:, :, columns] += angular_grad[:, b]

    features = features.reshape(n_atoms, n_features)
    derivatives = ACSFDerivatives(
        i=i, j=j, vectors=vectors, values=grad.reshape(n_pairs, 3, n_features), n_atoms=n_atoms
    )
    return features, derivatives


def _angular_gradient(
    first, second, d1, d2, d12, r1, r2, r12, fc, dfc, f12, df12, cos,
    eta, zeta, lam, lower, angular, gauss3, prefactor, block, n_g4, n_pairs, n_blocks,
    with_jk=True,
):  # fmt: skip
    """dG4/d(d_p) summed over the triplets of every pair: (n_pairs, n_blocks, 3, n_g4).

    With ``with_jk`` False, that of G5 (no j-k distance in the Gaussian; ``f12`` is 1 and
    ``df12`` 0).

    Each triplet's gradient with respect to one of its bond vectors is a sum of three
    outer products (a 3-vector times an n_g4 row), and it is added to the row
    ``(pair, element-pair block)`` with one sparse product.
    """
    f1, f2, s1, s2 = fc[first], fc[second], dfc[first], dfc[second]
    cut3 = f1 * f2 * f12
    # d cos / d d1 and d cos / d d2
    dcos1 = d2 / (r1 * r2)[:, None] - (cos / r1**2)[:, None] * d1
    dcos2 = d1 / (r1 * r2)[:, None] - (cos / r2**2)[:, None] * d2
    # (1 + lam cos)^zeta: its slope in cos is zeta lam (1 + lam cos)^(zeta - 1) = ... lower
    common = prefactor * gauss3  # (t, g)
    slope_cos = common * zeta * lam * lower * cut3[:, None]
    slope_gauss = -2.0 * eta * common * angular * cut3[:, None]  # times d(r1^2+r2^2+r12^2)/2
    slope_cut = common * angular
    unit12 = d12 / r12[:, None]  # d r12 / d d2 = unit12, d r12 / d d1 = -unit12
    cut_d1 = (s1 * f2 * f12 / r1)[:, None] * d1 - (f1 * f2 * df12)[:, None] * unit12
    cut_d2 = (f1 * s2 * f12 / r2)[:, None] * d2 + (f1 * f2 * df12)[:, None] * unit12
    n_trip = len(first)
    stacked = np.empty((2 * n_trip, 3, n_g4))
    # d(r1^2 + r2^2 [+ r12^2]) / 2 by d1 and by d2
    dsq1, dsq2 = (d1 - d12, d2 + d12) if with_jk else (d1, d2)
    for rows, dcos, dsq, dcut in (
        (slice(0, n_trip), dcos1, dsq1, cut_d1),
        (slice(n_trip, 2 * n_trip), dcos2, dsq2, cut_d2),
    ):
        out = stacked[rows]
        np.multiply(dcos[:, :, None], slope_cos[:, None, :], out=out)
        out += dsq[:, :, None] * slope_gauss[:, None, :]
        out += dcut[:, :, None] * slope_cut[:, None, :]
    targets = np.concatenate([first, second]) * n_blocks + np.tile(block, 2)
    scatter = sp.csr_matrix(
        (np.ones(2 * n_trip), (targets, np.arange(2 * n_trip))),
        shape=(n_pairs * n_blocks, 2 * n_trip),
    )
    return (scatter @ stacked.reshape(2 * n_trip, -1)).reshape(n_pairs, n_blocks, 3, n_g4)
