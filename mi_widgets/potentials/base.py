"""What every descriptor-based potential shares: labelled frames, the ASE calculator part.

A potential of this family writes the energy as a sum of atomic energies,
``E = sum_i E_{s_i}(G_i)``, where ``G_i`` are the symmetry functions of atom ``i`` and
``s_i`` its element. A subclass supplies the atomic energies and their gradients
``dE_i/dG_i``; the forces then follow through the per-pair descriptor derivatives,
``dE/dd_p = (dG_i/dd_p) . dE_i/dG_i`` summed onto both atoms of each pair, and the
stress from the virial ``sum_p d_p (x) dE/dd_p / V``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

from mi_widgets._errors import MIInputError
from mi_widgets.potentials.acsf import ACSFDerivatives, ACSFSettings, acsf_from_settings

__all__ = ["DescriptorPotential", "ExtrapolationWarning", "LabelledFrame", "default_acsf"]


class ExtrapolationWarning(UserWarning):
    """A structure lies outside what the potential was trained on."""


def default_acsf(species: Sequence[str], r_cut: float = 4.5) -> ACSFSettings:
    """Eight shifted radial Gaussians and eight angular functions: a small, general set.

    Examples
    --------
    >>> default_acsf(["Si"]).n_features
    17
    """
    centres = np.linspace(1.5, r_cut - 0.5, 8)
    width = centres[1] - centres[0]
    g2 = [(1.0 / width**2, float(c)) for c in centres]
    g4 = [(0.005, zeta, lam) for zeta in (1.0, 2.0, 4.0, 16.0) for lam in (1.0, -1.0)]
    return ACSFSettings.create(r_cut, species, g2, g4)


@dataclass(frozen=True)
class LabelledFrame:
    """One structure with its descriptors and reference labels, ready for fitting.

    Attributes
    ----------
    features : numpy.ndarray, shape (n_atoms, n_features)
    derivatives : ACSFDerivatives
    kinds : numpy.ndarray of int
        Index of each atom's element in the settings' species.
    energy : float
        Reference energy (eV).
    forces : numpy.ndarray, shape (n_atoms, 3) or None
        Reference forces (eV/Angstrom), None if the frame has none.
    min_distance : float
        Shortest pair distance (Angstrom), ``inf`` without pairs.
    """

    features: np.ndarray
    derivatives: ACSFDerivatives
    kinds: np.ndarray
    energy: float
    forces: np.ndarray | None
    min_distance: float

    @property
    def n_atoms(self) -> int:
        return len(self.kinds)


def _as_number(value) -> float | None:
    """``value`` as a float, or None when it is none (``energy=abc`` reads as text)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _reference_labels(atoms: Atoms, index: int, need_forces: bool):
    """Energy and forces stored with a frame (calculator results or info / arrays)."""
    energy = forces = None
    if atoms.calc is not None:
        try:
            energy = atoms.get_potential_energy()
        except (PropertyNotImplementedError, RuntimeError):
            energy = None
        try:
            forces = atoms.get_forces()
        except (PropertyNotImplementedError, RuntimeError):
            forces = None
    energy = _as_number(atoms.info.get("energy", energy) if energy is None else energy)
    forces = atoms.arrays.get("forces", forces) if forces is None else forces
    if energy is None or not np.isfinite(energy):
        raise MIInputError(
            f"Frame {index} has no (finite) energy; every training frame needs its reference "
            "energy (extended XYZ: energy=... in the comment line)."
        )
    if need_forces:
        if forces is None or np.shape(forces) != (len(atoms), 3):
            raise MIInputError(
                f"Frame {index} has no forces; give forces for every frame (extended XYZ "
                "'forces' column) or train on energies alone with force_weight=0."
            )
        if not np.isfinite(forces).all():
            raise MIInputError(f"Frame {index} has NaN or infinite forces; fix or drop it.")
    return float(energy), None if forces is None else np.asarray(forces, dtype=float)


def label_frames(
    frames: Sequence[Atoms], settings: ACSFSettings, need_forces: bool
) -> list[LabelledFrame]:
    """Descriptors, derivatives and labels of every frame (validated)."""
    if isinstance(frames, Atoms):
        frames = [frames]
    if len(frames) == 0:
        raise MIInputError("No frames given; train on a list of ase.Atoms with energies.")
    labelled = []
    for index, atoms in enumerate(frames):
        if not isinstance(atoms, Atoms):
            raise MIInputError(
                f"Frame {index} is a {type(atoms).__name__}, not an ase.Atoms structure."
            )
        energy, forces = _reference_labels(atoms, index, need_forces)
        features, derivatives = acsf_from_settings(atoms, settings, derivatives=True)
        distances = np.linalg.norm(derivatives.vectors, axis=1)
        labelled.append(
            LabelledFrame(
                features=features,
                derivatives=derivatives,
                kinds=settings.species_index(atoms),
                energy=energy,
                forces=forces,
                min_distance=float(distances.min()) if len(distances) else np.inf,
            )
        )
    return labelled


def pair_gradients(derivatives: ACSFDerivatives, feature_gradients: np.ndarray) -> np.ndarray:
    """``dE/dd_p`` of every pair from ``dE_i/dG_i`` (n_atoms, n_features)."""
    return derivatives.contract(feature_gradients)


def forces_from_pairs(i: np.ndarray, j: np.ndarray, gradient: np.ndarray, n_atoms: int):
    """Forces ``F_a = sum_{p: i_p = a} dE/dd_p - sum_{p: j_p = a} dE/dd_p``."""
    return np.stack(
        [
            np.bincount(i, weights=gradient[:, c], minlength=n_atoms)
            - np.bincount(j, weights=gradient[:, c], minlength=n_atoms)
            for c in range(3)
        ],
        axis=1,
    )


def feature_standardisation(
    features: np.ndarray, kinds: np.ndarray, n_species: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-element mean and spread of the features (spread 1 where a feature is constant).

    Parameters
    ----------
    features : numpy.ndarray, shape (n_atoms, n_features)
    kinds : numpy.ndarray of int, shape (n_atoms,)
        Element index of every atom.
    n_species : int

    Returns
    -------
    mean, scale : numpy.ndarray, shape (n_species, n_features)
        An element with no atoms keeps mean 0 and scale 1.

    Examples
    --------
    >>> features = np.array([[1.0, 2.0], [3.0, 2.0]])
    >>> mean, scale = feature_standardisation(features, np.array([0, 0]), n_species=2)
    >>> mean.tolist(), scale.tolist()
    ([[2.0, 2.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]])
    """
    mean = np.zeros((n_species, features.shape[1]))
    scale = np.ones((n_species, features.shape[1]))
    for s in range(n_species):
        rows = features[kinds == s]
        if len(rows):
            mean[s], spread = rows.mean(axis=0), rows.std(axis=0)
            scale[s] = np.where(spread > 1e-8, spread, 1.0)
    return mean, scale


class DescriptorPotential(Calculator):
    """ASE calculator for ``E = sum_i E_{s_i}(G_i)``; subclasses supply the atomic model.

    Implemented properties: ``energy``, ``free_energy`` (eV), ``energies`` (per atom),
    ``forces`` (eV/Angstrom) and ``stress`` (eV/Angstrom^3, Voigt order, periodic cells).
    A subclass implements :meth:`atomic_energies` and sets ``settings_`` when fitted.
    """

    implemented_properties = ("energy", "free_energy", "energies", "forces", "stress")
    nolabel = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)

    # -- to implement -------------------------------------------------------------------
    def atomic_energies(
        self, features: np.ndarray, kinds: np.ndarray, gradients: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Energies ``E_i`` (eV) and, if asked, ``dE_i/dG_i`` of every atom."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------
    def _settings(self) -> ACSFSettings:
        """The symmetry functions for ``self.species`` (from ``self.descriptor`` or the default)."""
        if self.descriptor is None:
            return default_acsf(self.species)
        if not isinstance(self.descriptor, ACSFSettings):
            raise MIInputError(
                "descriptor must be ACSFSettings, e.g. ACSFSettings.create(4.5, ['Si'], g2, g4)."
            )
        if set(self.descriptor.species) != set(self.species):
            d = self.descriptor
            return ACSFSettings.create(d.r_cut, self.species, d.g2, d.g4, d.g5)
        return self.descriptor

    def _check_fitted(self) -> ACSFSettings:
        settings = getattr(self, "settings_", None)
        if settings is None:
            raise MIInputError(
                f"This {type(self).__name__} is not trained yet; call fit(frames) or load a "
                "saved one first."
            )
        return settings

    def predict_frame(self, atoms: Atoms) -> dict:
        """Energy, per-atom energies, forces (and stress for a periodic cell) of ``atoms``."""
        settings = self._check_fitted()
        features, derivatives = acsf_from_settings(atoms, settings, derivatives=True)
        kinds = settings.species_index(atoms)
        self._warn_extrapolation(derivatives)
        energies, feature_gradients = self.atomic_energies(features, kinds)
        gradient = pair_gradients(derivatives, feature_gradients)
        forces = forces_from_pairs(derivatives.i, derivatives.j, gradient, len(atoms))
        energy = float(energies.sum())
        results = {
            "energy": energy,
            "free_energy": energy,
            "energies": energies,
            "forces": forces,
        }
        if atoms.pbc.all() and atoms.cell.rank == 3:
            virial = derivatives.vectors.T @ gradient
            stress = 0.5 * (virial + virial.T) / atoms.get_volume()
            results["stress"] = stress.flat[[0, 4, 8, 5, 2, 1]]
        return results

    def _warn_extrapolation(self, derivatives: ACSFDerivatives) -> None:
        shortest = getattr(self, "min_distance_", None)
        if shortest is None or not len(derivatives.i):
            return
        distances = np.linalg.norm(derivatives.vectors, axis=1)
        if distances.min() < shortest - 1e-9:
            warnings.warn(
                f"Two atoms are {distances.min():.3g} A apart, closer than anywhere in the "
                f"training data ({shortest:.3g} A): the potential extrapolates there.",
                ExtrapolationWarning,
                stacklevel=3,
            )

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        results = self.predict_frame(self.atoms)
        if "stress" in properties and "stress" not in results:
            raise PropertyNotImplementedError(
                "Stress needs a cell that is periodic in all three directions."
            )
        self.results.update(results)
