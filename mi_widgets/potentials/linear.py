"""Linear (ridge) potential on symmetry functions: the baseline a network must beat.

The atomic energy is linear in the standardised features,
``E_i = w_{s_i} . x_i + b_{s_i}`` with ``x_i = (G_i - mu_s) / sigma_s``, so the total
energy is linear in the per-element sums of the features and the forces are linear
in the weights too. Energies and forces enter one weighted least-squares problem
with the same loss as the network's (per-atom energies, forces over ``3N``), solved
in closed form with a ridge penalty on the weights (not on the offsets ``b``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from ase import Atoms

from mi_widgets._errors import MIInputError
from mi_widgets.potentials.acsf import ACSFSettings
from mi_widgets.potentials.base import (
    DescriptorPotential,
    feature_standardisation,
    label_frames,
)

__all__ = ["LinearPotential"]


class LinearPotential(DescriptorPotential):
    """Ridge regression of energies (and forces) on summed symmetry functions.

    Parameters
    ----------
    species : sequence of str
        Elements the potential covers.
    descriptor : ACSFSettings, optional
        Symmetry functions (default :func:`~mi_widgets.potentials.base.default_acsf`).
    alpha : float, default 1e-6
        Ridge penalty on the weights of the standardised features.
    **kwargs
        Passed to :class:`ase.calculators.calculator.Calculator`.

    Attributes
    ----------
    settings_ : ACSFSettings
    weights_ : numpy.ndarray, shape (n_species, n_features)
        Weights of the standardised features (eV).
    offsets_ : numpy.ndarray, shape (n_species,)
        Energy of an atom with mean features (eV).
    feature_mean_, feature_scale_ : numpy.ndarray, shape (n_species, n_features)
    min_distance_ : float

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> frames = []
    >>> for a in (3.5, 3.6, 3.7, 3.8):
    ...     atoms = bulk("Cu", "fcc", a=a)
    ...     atoms.calc = EMT()
    ...     _ = atoms.get_forces()
    ...     frames.append(atoms)
    >>> model = LinearPotential(["Cu"]).fit(frames)
    >>> round(model.get_potential_energy(bulk("Cu", "fcc", a=3.6)), 3)
    -0.007
    """

    def __init__(
        self,
        species: Sequence[str] = ("Si",),
        descriptor: ACSFSettings | None = None,
        alpha: float = 1e-6,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.species = tuple(species)
        self.descriptor = descriptor
        self.alpha = alpha

    def fit(
        self,
        frames: Sequence[Atoms],
        energy_weight: float = 1.0,
        force_weight: float = 1.0,
    ) -> LinearPotential:
        """Solve for the weights on the energies (and forces) of ``frames``.

        Parameters
        ----------
        frames : sequence of ase.Atoms
            Structures with reference energies (and forces unless ``force_weight`` is 0).
        energy_weight, force_weight : float
            ``lambda_E`` and ``lambda_F`` of the loss (as for the network).

        Returns
        -------
        LinearPotential
            ``self``, fitted.
        """
        weights = []
        for value, name in ((energy_weight, "energy_weight"), (force_weight, "force_weight")):
            value = float(value)
            if not np.isfinite(value) or value < 0:
                raise MIInputError(f"{name} must be a number >= 0; got {value!r}.")
            weights.append(value)
        energy_weight, force_weight = weights
        alpha = float(self.alpha)
        if not np.isfinite(alpha) or alpha < 0:
            raise MIInputError(f"alpha must be a number >= 0; got {self.alpha!r}.")
        settings = self._settings()
        labelled = label_frames(frames, settings, need_forces=force_weight > 0)
        return self._fit_labelled(labelled, settings, energy_weight, force_weight)

    def _fit_labelled(self, labelled, settings, energy_weight, force_weight) -> LinearPotential:
        """The least-squares solve on frames already labelled with their descriptors."""
        alpha = float(self.alpha)
        n_species, n_features = len(settings.species), settings.n_features
        features = np.concatenate([f.features for f in labelled])
        kinds = np.concatenate([f.kinds for f in labelled])
        mean, scale = feature_standardisation(features, kinds, n_species)
        n_columns = n_species * (n_features + 1)  # weights of each element, then offsets
        blocks, targets = [], []
        n_frames = len(labelled)
        for frame in labelled:
            n = frame.n_atoms
            x = (frame.features - mean[frame.kinds]) / scale[frame.kinds]
            row = np.zeros(n_columns)
            for s in range(n_species):
                mine = frame.kinds == s
                row[s * n_features : (s + 1) * n_features] = x[mine].sum(axis=0)
                row[n_species * n_features + s] = mine.sum()
            factor = np.sqrt(energy_weight / n_frames) / n
            blocks.append(factor * row[None, :])
            targets.append([factor * frame.energy])
            if force_weight > 0:
                blocks.append(self._force_rows(frame, scale, n_columns, force_weight, n_frames))
                targets.append(np.sqrt(force_weight / (3.0 * n * n_frames)) * frame.forces.ravel())
        design, target = np.vstack(blocks), np.concatenate(targets)
        penalty = np.zeros(n_columns)
        penalty[: n_species * n_features] = alpha
        # least squares on the design stacked over sqrt(penalty) I: the minimum-norm solution
        # where the data leave directions free (e.g. one composition for every frame)
        augmented = np.vstack([design, np.diag(np.sqrt(penalty))])
        solution, *_ = np.linalg.lstsq(
            augmented, np.concatenate([target, np.zeros(n_columns)]), rcond=None
        )
        self.settings_ = settings
        self.weights_ = solution[: n_species * n_features].reshape(n_species, n_features)
        self.offsets_ = solution[n_species * n_features :]
        self.feature_mean_, self.feature_scale_ = mean, scale
        self.min_distance_ = float(min(f.min_distance for f in labelled))
        return self

    @staticmethod
    def _force_rows(frame, scale, n_columns, force_weight, n_frames) -> np.ndarray:
        """Rows ``F_{a,c}`` as linear functions of the weights (offsets do not enter)."""
        d = frame.derivatives
        n, n_pairs = frame.n_atoms, len(d.i)
        n_species, n_features = scale.shape
        # F_a = sum_{p: i_p = a} dE/dd_p - sum_{p: j_p = a} dE/dd_p
        signs = sp.csr_matrix(
            (
                np.concatenate([np.ones(n_pairs), -np.ones(n_pairs)]),
                (np.concatenate([d.i, d.j]), np.tile(np.arange(n_pairs), 2)),
            ),
            shape=(n, n_pairs),
        )
        rows = np.zeros((n, 3, n_columns))
        centre_kind = frame.kinds[d.i]
        for s in range(n_species):
            mine = (centre_kind == s)[:, None]
            for c in range(3):
                values = np.where(mine, d.values[:, c, :], 0.0) / scale[s]
                rows[:, c, s * n_features : (s + 1) * n_features] = signs @ values
        return np.sqrt(force_weight / (3.0 * n * n_frames)) * rows.reshape(3 * n, n_columns)

    def atomic_energies(self, features, kinds, gradients: bool = True):
        """Atomic energies (eV) and ``dE_i/dG_i``: linear in the standardised features."""
        self._check_fitted()
        x = (features - self.feature_mean_[kinds]) / self.feature_scale_[kinds]
        energies = np.einsum("if,if->i", x, self.weights_[kinds]) + self.offsets_[kinds]
        slope = self.weights_[kinds] / self.feature_scale_[kinds]
        return energies, slope if gradients else None
