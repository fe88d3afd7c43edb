"""Computed phase diagrams: equilibrium phase labels from Gibbs energies and the convex hull.

At fixed temperature and pressure the equilibrium state of an alloy of overall
composition ``x`` minimises the Gibbs energy; the minimum over all mixtures of phases is
the lower convex hull of the phases' molar Gibbs energy curves (surfaces for ternaries).
A hull facet whose vertices all belong to one phase is a single-phase region; a facet
spanning two (three) phases is a tie line (tie triangle), i.e. the two- (three-) phase
region ``"A+B"`` (``"A+B+C"``).

Phases:

* :class:`SolutionPhase`, a regular solution,
  ``G = sum_i x_i G_i(T) + R T sum_i x_i ln x_i + sum_{i<j} W_ij x_i x_j``,
  with the pure-component terms ``G_i(T) = H_i - T S_i`` (J/mol).
* :class:`CompoundPhase`, an intermediate compound at composition ``c``:
  ``G = H - T S + K |x - c|^2`` (``K = 0`` -> a line compound, a single point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull

from mi_widgets._errors import MIInputError, check_finite_array

__all__ = [
    "BUILTIN_DIAGRAMS",
    "GAS_CONSTANT",
    "CompoundPhase",
    "PhaseDiagram",
    "SolutionPhase",
    "binary_phase_labels",
    "builtin_diagram",
    "simplex_grid",
    "ternary_phase_labels",
]

GAS_CONSTANT = 8.314462618  # J/(mol K)


@dataclass(frozen=True)
class SolutionPhase:
    """A regular-solution phase.

    Parameters
    ----------
    name : str
    enthalpy : tuple of float
        ``H_i`` of each pure component in this structure (J/mol).
    entropy : tuple of float
        ``S_i`` of each pure component in this structure (J/(mol K)).
    interaction : tuple of float
        Regular-solution parameters ``W_ij`` (J/mol) for the pairs (0,1) [, (0,2), (1,2)].

    Examples
    --------
    >>> liquid = SolutionPhase("L", (10000.0, 8000.0), (10.0, 10.0), (0.0,))
    >>> float(liquid.gibbs(np.array([[0.5, 0.5]]), 1000.0)[0].round(1))
    -6763.1
    """

    name: str
    enthalpy: tuple[float, ...]
    entropy: tuple[float, ...]
    interaction: tuple[float, ...]

    def gibbs(self, x: np.ndarray, temperature: float) -> np.ndarray:
        """Molar Gibbs energy (J/mol) at mole fractions ``x`` (shape (m, n_components))."""
        pure = np.asarray(self.enthalpy) - temperature * np.asarray(self.entropy)
        with np.errstate(divide="ignore", invalid="ignore"):
            xlogx = np.where(x > 0, x * np.log(x), 0.0)
        pairs = [(i, j) for i in range(x.shape[1]) for j in range(i + 1, x.shape[1])]
        excess = sum(
            w * x[:, i] * x[:, j] for w, (i, j) in zip(self.interaction, pairs, strict=True)
        )
        return x @ pure + GAS_CONSTANT * temperature * xlogx.sum(axis=1) + excess


@dataclass(frozen=True)
class CompoundPhase:
    """An intermediate compound of composition ``composition``.

    Parameters
    ----------
    name : str
    composition : tuple of float
        Mole fractions of the compound (summing to 1).
    enthalpy, entropy : float
        ``G = enthalpy - T entropy`` at the exact composition (J/mol, J/(mol K)).
    stiffness : float, default 0
        ``K`` in J/mol: 0 gives a line compound; a large value a narrow homogeneity range.

    Examples
    --------
    >>> CompoundPhase("AB", (0.5, 0.5), -5000.0, -1.0).gibbs(np.array([[0.5, 0.5]]), 1000.0)
    array([-4000.])
    """

    name: str
    composition: tuple[float, ...]
    enthalpy: float
    entropy: float
    stiffness: float = 0.0

    def gibbs(self, x: np.ndarray, temperature: float) -> np.ndarray:
        """Molar Gibbs energy (J/mol) at mole fractions ``x`` (shape (m, n_components))."""
        offset = x - np.asarray(self.composition)
        return self.enthalpy - temperature * self.entropy + self.stiffness * (offset**2).sum(1)


Phase = SolutionPhase | CompoundPhase


def simplex_grid(n_components: int, steps: int) -> np.ndarray:
    """All mole-fraction vectors with components ``i / steps`` summing to 1.

    Examples
    --------
    >>> simplex_grid(3, 1).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if n_components == 2:
        b = np.arange(steps + 1)
        return np.column_stack([steps - b, b]) / steps
    c, b = np.meshgrid(np.arange(steps + 1), np.arange(steps + 1), indexing="ij")
    keep = (b + c) <= steps
    b, c = b[keep], c[keep]
    return np.column_stack([steps - b - c, b, c]) / steps


def _hull_points(phases, temperature, n_components, resolution):
    """(composition, G, phase index) of every phase sampled on a fine grid."""
    fine = simplex_grid(n_components, resolution)
    xs, gs, owner = [], [], []
    for p, phase in enumerate(phases):
        if isinstance(phase, CompoundPhase) and phase.stiffness == 0:
            x = np.asarray([phase.composition], dtype=float)
        else:
            x = fine
        xs.append(x)
        gs.append(phase.gibbs(x, temperature))
        owner.append(np.full(len(x), p))
    return np.concatenate(xs), np.concatenate(gs), np.concatenate(owner)


def equilibrium_labels(phases, compositions: np.ndarray, temperature: float, resolution: int):
    """Equilibrium phase assemblage at each composition (one temperature).

    Parameters
    ----------
    phases : sequence of SolutionPhase / CompoundPhase
    compositions : ndarray, shape (m, n_components)
        Mole fractions summing to 1.
    temperature : float
        Kelvin.
    resolution : int
        Fine-grid steps used to sample the solution phases' Gibbs energies.

    Returns
    -------
    ndarray of str, shape (m,)
        ``"A"``, ``"A+B"`` or ``"A+B+C"`` (phases in the order given).
    """
    x, g, owner = _hull_points(phases, temperature, compositions.shape[1], resolution)
    coords = np.column_stack([x[:, 1:], g])  # drop the dependent first component
    # rescale G so that the hull is not numerically flat; shifts do not change facets
    coords[:, -1] = (g - g.min()) / max(np.ptp(g), 1.0)
    hull = ConvexHull(coords)
    lower = hull.equations[:, -2] < -1e-9  # strictly downward normals (not the walls)
    normals, offsets = hull.equations[lower, :-1], hull.equations[lower, -1]
    facets = hull.simplices[lower]
    # hull height at q = max over lower facets of the facet plane (convexity)
    slope = -normals[:, :-1] / normals[:, -1:]
    intercept = -offsets / normals[:, -1]
    query = compositions[:, 1:]
    best = np.empty(len(query), dtype=int)
    for start in range(0, len(query), 512):
        block = query[start : start + 512]
        best[start : start + 512] = np.argmax(block @ slope.T + intercept, axis=1)
    unique_facets, inverse = np.unique(best, return_inverse=True)
    names = [phase.name for phase in phases]
    near = 2.5 / resolution  # vertices closer than this are the same phase instance
    texts = [_facet_label(x[facets[f]], owner[facets[f]], names, near) for f in unique_facets]
    return np.array(texts)[inverse]


def _facet_label(points: np.ndarray, owners: np.ndarray, names, near: float) -> str:
    """Phases of one hull facet; one phase twice (``"a+a"``) across a miscibility gap."""
    parts = []
    for i in range(len(owners)):
        same = [
            j
            for j in range(i)
            if owners[j] == owners[i] and np.abs(points[j] - points[i]).max() < near
        ]
        if not same:
            parts.append(names[owners[i]])
    return "+".join(sorted(parts))


def binary_phase_labels(
    phases, x: np.ndarray, temperatures: np.ndarray, *, resolution: int = 400
) -> np.ndarray:
    """Equilibrium labels on a binary (x, T) grid.

    Parameters
    ----------
    phases : sequence of SolutionPhase / CompoundPhase
        Two-component phases.
    x : ndarray, shape (m,)
        Mole fraction of the second component.
    temperatures : ndarray, shape (t,)
        Kelvin.
    resolution : int, default 400
        Fine composition steps for the Gibbs-energy curves.

    Returns
    -------
    ndarray of str, shape (t, m)

    Examples
    --------
    >>> diagram = builtin_diagram("eutectic", n_x=11, n_t=3)
    >>> diagram.labels.shape
    (33,)
    """
    x = check_finite_array(x, "x", ndim=1)
    temperatures = check_finite_array(temperatures, "temperatures", ndim=1)
    if (x < 0).any() or (x > 1).any():
        raise MIInputError("x must be mole fractions between 0 and 1.")
    comps = np.column_stack([1 - x, x])
    return np.array([equilibrium_labels(phases, comps, t, resolution) for t in temperatures])


def ternary_phase_labels(
    phases, compositions: np.ndarray, temperature: float, *, resolution: int = 100
) -> np.ndarray:
    """Equilibrium labels of an isothermal section of a ternary.

    Parameters
    ----------
    phases : sequence of SolutionPhase / CompoundPhase
        Three-component phases.
    compositions : ndarray, shape (m, 3)
        Mole fractions summing to 1.
    temperature : float
        Kelvin.
    resolution : int, default 100
        Fine-grid steps for the Gibbs-energy surfaces.

    Returns
    -------
    ndarray of str, shape (m,)
    """
    compositions = check_finite_array(compositions, "compositions", ndim=2)
    if compositions.shape[1] != 3 or not np.allclose(compositions.sum(axis=1), 1.0):
        raise MIInputError("compositions must have 3 mole fractions per row summing to 1.")
    return equilibrium_labels(phases, compositions, temperature, resolution)


# ---------------------------------------------------------------- built-ins
def _binary_systems():
    s = 10.0  # entropy of fusion, J/(mol K) (Richards' rule ~ R)
    eutectic = (
        SolutionPhase("L", (s * 1300, s * 1000), (s, s), (-4000.0,)),
        SolutionPhase("alpha", (0.0, 5000.0), (0.0, 0.0), (14000.0,)),
        SolutionPhase("beta", (6000.0, 0.0), (0.0, 0.0), (14000.0,)),
    )
    peritectic = (
        SolutionPhase("L", (s * 1400, s * 1050), (s, s), (-3000.0,)),
        SolutionPhase("alpha", (0.0, 5000.0), (0.0, 0.0), (11000.0,)),
        SolutionPhase("beta", (7000.0, 0.0), (0.0, 0.0), (6000.0,)),
        CompoundPhase("gamma", (0.62, 0.38), -7000.0, -1.0, 1.0e5),
        CompoundPhase("delta", (0.2, 0.8), -4300.0, 0.0, 2.5e5),
    )
    return {"eutectic": eutectic, "peritectic": peritectic}


def _ternary_system():
    s = 10.0
    solid = (8000.0,) * 3
    return (
        SolutionPhase("L", (s * 1400, s * 1300, s * 750), (s, s, s), (0.0,) * 3),
        SolutionPhase("alpha", (0.0, 5000.0, 5000.0), (0.0, 0.0, 0.0), solid),
        SolutionPhase("beta", (5000.0, 0.0, 5000.0), (0.0, 0.0, 0.0), solid),
        SolutionPhase("gamma", (5000.0, 5000.0, 0.0), (0.0, 0.0, 0.0), solid),
        CompoundPhase("tau", (0.4, 0.4, 0.2), -3000.0, 0.0, 4.0e4),
    )


BUILTIN_DIAGRAMS = ("eutectic", "peritectic", "ternary")


@dataclass(frozen=True)
class PhaseDiagram:
    """A labelled candidate grid.

    Attributes
    ----------
    name : str
    coordinates : ndarray, shape (n, d)
        Binary: columns ``x_B`` (mole fraction) and ``T`` (K); ternary: mole fractions
        of A, B, C.
    labels : ndarray of str, shape (n,)
        Equilibrium phase assemblage per point.
    columns : tuple of str
        Coordinate names.
    kind : {"binary", "ternary", "other"}
    description : str
    """

    name: str
    coordinates: np.ndarray
    labels: np.ndarray
    columns: tuple[str, ...]
    kind: str
    description: str = ""


def builtin_diagram(
    name: str,
    *,
    n_x: int = 101,
    n_t: int = 51,
    steps: int = 100,
    t_range: tuple[float, float] = (600.0, 1500.0),
    temperature: float = 650.0,
    resolution: int | None = None,
) -> PhaseDiagram:
    """Compute one of the built-in model phase diagrams.

    Parameters
    ----------
    name : {"eutectic", "peritectic", "ternary"}
        ``"eutectic"``: liquid + two terminal solid solutions; ``"peritectic"``: adds a
        narrow compound gamma formed peritectically and a small phase delta;
        ``"ternary"``: an isothermal section with three terminal solid solutions, a
        liquid pocket and a ternary compound tau (1-, 2- and 3-phase regions).
    n_x, n_t : int
        Binary grid size (compositions x temperatures).
    steps : int
        Ternary grid: compositions ``i / steps`` (``(steps+1)(steps+2)/2`` points).
    t_range : (float, float)
        Binary temperature range (K).
    temperature : float
        Ternary section temperature (K).
    resolution : int, optional
        Fine-grid steps for the Gibbs energies (default 400 binary, 100 ternary).

    Returns
    -------
    PhaseDiagram

    Examples
    --------
    >>> d = builtin_diagram("ternary", steps=10)
    >>> d.coordinates.shape
    (66, 3)
    """
    if name in ("eutectic", "peritectic"):
        phases = _binary_systems()[name]
        x = np.linspace(0.0, 1.0, n_x)
        temps = np.linspace(*t_range, n_t)
        labels = binary_phase_labels(phases, x, temps, resolution=resolution or 400)
        xx, tt = np.meshgrid(x, temps)
        coords = np.column_stack([xx.ravel(), tt.ravel()])
        return PhaseDiagram(
            name, coords, labels.ravel(), ("x_B", "T_K"), "binary", _DESCRIPTIONS[name]
        )
    if name == "ternary":
        comps = simplex_grid(3, steps)
        labels = ternary_phase_labels(
            _ternary_system(), comps, temperature, resolution=resolution or 100
        )
        return PhaseDiagram(
            name, comps, labels, ("x_A", "x_B", "x_C"), "ternary", _DESCRIPTIONS[name]
        )
    raise MIInputError(f"name must be one of {', '.join(BUILTIN_DIAGRAMS)}; got {name!r}.")


_DESCRIPTIONS = {
    "eutectic": "Binary A-B eutectic: liquid L, terminal solid solutions alpha and beta.",
    "peritectic": (
        "Binary A-B with a peritectic compound gamma and a small phase delta besides L, "
        "alpha and beta."
    ),
    "ternary": (
        "Isothermal section of a ternary A-B-C at 650 K: L, alpha, beta, gamma and a "
        "ternary compound tau; 1-, 2- and 3-phase regions."
    ),
}
