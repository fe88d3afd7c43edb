"""A Sigma5 [001](210) symmetric tilt grain boundary in fcc Cu, for the search of lab 04.

Two fcc grains (``x = [-1 2 0]``, ``y = [0 0 1]``, ``z = [2 1 0]``) mirror images of
each other across the (210) plane: a rotation of 53.13 degrees about [001], the
coincidence-site lattice Sigma 5. The cell is periodic, so it holds two
equivalent boundaries (at ``z = 0`` and half-way up). A candidate boundary is
the upper grain's rigid-body translation ``(tx, ty)`` in the boundary plane,
its opening ``tz`` normal to it, and a cut-off below which one of two atoms that
meet across a boundary is removed (Kiyohara et al. 2016 search the same two
degrees of freedom). :func:`grain_boundary_energy` relaxes a candidate with
ASE's EMT potential and returns the boundary energy
``gamma = (E - N e_bulk) / (2 A)``.

Examples
--------
>>> atoms = build_grain_boundary(0.0, 0.0, 0.0)
>>> len(atoms), [round(float(v), 2) for v in atoms.cell.lengths()]
(80, [8.03, 3.59, 32.11])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.calculators.emt import EMT
from ase.constraints import FixAtoms
from ase.lattice.cubic import FaceCenteredCubic
from ase.neighborlist import neighbor_list
from ase.optimize import LBFGS

from mi_widgets._errors import MIInputError

__all__ = [
    "CU_EMT_ENERGY",
    "CU_EMT_LATTICE",
    "GrainBoundaryEnergy",
    "build_grain_boundary",
    "grain_boundary_energy",
]

#: Equilibrium lattice constant of fcc Cu with ASE's EMT (A), from minimising the bulk energy.
CU_EMT_LATTICE = 3.589825
#: EMT energy per atom of bulk fcc Cu at that lattice constant (eV).
CU_EMT_ENERGY = -0.0070365
_EV_PER_A2_IN_J_PER_M2 = 16.021766


def _grain(layers: int) -> Atoms:
    return FaceCenteredCubic(
        directions=[[-1, 2, 0], [0, 0, 1], [2, 1, 0]],
        size=(1, 1, layers),
        symbol="Cu",
        latticeconstant=CU_EMT_LATTICE,
        pbc=True,
    )


def build_grain_boundary(
    tx: float,
    ty: float,
    tz: float = 0.0,
    removal_cutoff: float = 0.0,
    *,
    layers: int = 2,
    fixed_width: float = 4.0,
) -> Atoms:
    """The bicrystal with the upper grain translated by ``(tx, ty, tz)`` (A).

    Parameters
    ----------
    tx, ty : float
        Translation of the upper grain along ``[-1 2 0]`` and ``[0 0 1]`` (A).
    tz : float, default 0
        Opening of each boundary along ``[2 1 0]`` (A); 0 keeps the bulk spacing.
    removal_cutoff : float, default 0
        Atoms of the upper grain closer than this to an atom of the lower grain
        are removed (A); 0 removes none.
    layers : int, default 2
        Thickness of each grain in (210) repeat units (8.03 A each).
    fixed_width : float, default 4.0
        Atoms within this thickness (A) at the middle of each grain are fixed
        during relaxation, so that the translation is kept.

    Returns
    -------
    ase.Atoms
        With a ``FixAtoms`` constraint, ``arrays["grain"]`` (0 lower, 1 upper) and
        ``info`` holding the translation and the number of removed atoms.
    """
    for name, value in (("tx", tx), ("ty", ty), ("tz", tz), ("removal_cutoff", removal_cutoff)):
        if not np.isfinite(value):
            raise MIInputError(f"{name} must be a finite number; got {value!r}.")
    if tz <= -0.5:
        raise MIInputError(f"tz must be above -0.5 A (grains would overlap); got {tz}.")
    lower = _grain(layers)
    lx, ly, lz = lower.cell.lengths()
    upper = lower.copy()
    pos = upper.positions
    # mirror image across the (210) plane; rounding keeps the z = 0 plane at 0, not at lz
    pos[:, 2] = np.mod(np.round(-pos[:, 2], 8), lz) + lz + tz
    pos[:, 0] = np.mod(pos[:, 0] + tx, lx)
    pos[:, 1] = np.mod(pos[:, 1] + ty, ly)
    upper.positions = pos
    atoms = lower + upper
    atoms.set_cell([lx, ly, 2 * lz + 2 * tz])
    atoms.pbc = True
    grain = np.repeat([0, 1], len(lower))
    removed = 0
    if removal_cutoff > 0:
        i, j = neighbor_list("ij", atoms, removal_cutoff)
        cross = (grain[i] == 0) & (grain[j] == 1)
        drop = np.unique(j[cross])
        removed = int(drop.size)
        keep = np.setdiff1d(np.arange(len(atoms)), drop)
        atoms = atoms[keep]
        grain = grain[keep]
    atoms.arrays["grain"] = grain
    z = atoms.positions[:, 2]
    centres = np.array([0.5 * lz, 1.5 * lz + tz])
    fixed = np.abs(z - centres[grain]) < 0.5 * fixed_width
    atoms.set_constraint(FixAtoms(mask=fixed))
    atoms.info.update(
        tx=float(tx),
        ty=float(ty),
        tz=float(tz),
        removal_cutoff=float(removal_cutoff),
        n_removed=removed,
    )
    return atoms


@dataclass(frozen=True)
class GrainBoundaryEnergy:
    """A relaxed grain-boundary candidate.

    Attributes
    ----------
    energy : float
        Boundary energy ``(E - N e_bulk) / (2 A)`` in J/m^2.
    total_energy : float
        EMT energy of the relaxed cell (eV).
    n_atoms : int
    n_removed : int
    max_force : float
        Largest remaining force on a free atom (eV/A).
    steps : int
        Relaxation steps taken.
    atoms : ase.Atoms
        The relaxed structure.
    """

    energy: float
    total_energy: float
    n_atoms: int
    n_removed: int
    max_force: float
    steps: int
    atoms: Atoms


def grain_boundary_energy(
    atoms: Atoms, *, fmax: float = 0.05, max_steps: int = 100
) -> GrainBoundaryEnergy:
    """Relax a bicrystal from :func:`build_grain_boundary` with EMT (L-BFGS) and return gamma.

    Parameters
    ----------
    atoms : ase.Atoms
    fmax : float, default 0.05
        Force criterion (eV/A).
    max_steps : int, default 100
        Upper limit of L-BFGS steps (10-40 are typical).

    Returns
    -------
    GrainBoundaryEnergy
    """
    atoms = atoms.copy()
    atoms.calc = EMT()
    opt = LBFGS(atoms, logfile=None)
    opt.run(fmax=fmax, steps=max_steps)
    energy = atoms.get_potential_energy()
    area = atoms.cell.lengths()[0] * atoms.cell.lengths()[1]
    gamma = (energy - len(atoms) * CU_EMT_ENERGY) / (2.0 * area) * _EV_PER_A2_IN_J_PER_M2
    forces = atoms.get_forces()
    return GrainBoundaryEnergy(
        energy=float(gamma),
        total_energy=float(energy),
        n_atoms=len(atoms),
        n_removed=int(atoms.info.get("n_removed", 0)),
        max_force=float(np.linalg.norm(forces, axis=1).max()),
        steps=int(opt.nsteps),
        atoms=atoms,
    )
