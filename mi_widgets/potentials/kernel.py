"""Kernel (GAP-style) potential: sparse Gaussian-process regression of atomic energies.

The idea of the Gaussian approximation potential (Bartok et al., PRL 104, 136403
(2010)): the atomic energy is a kernel expansion over representative atomic
environments ("sparse points") ``m`` of the same element,

.. math::

    E_i = b_{s_i} + \\sum_m \\alpha_m k(x_i, x_m), \\qquad
    k(x, x') = \\exp(-|x - x'|^2 / 2\\ell^2),

on standardised symmetry functions ``x``. Only total energies are observed, so the
design matrix sums the kernel over the atoms of each frame; the weights solve the
subset-of-regressors problem ``(A^T A + \\sigma^2 K_{mm}) \\alpha = A^T y`` (per-atom
energies, ``sigma`` the energy noise per atom). Forces follow from the kernel's
gradient through the same per-pair descriptor derivatives as every potential here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms

from mi_widgets._errors import MIInputError, check_positive_int
from mi_widgets.potentials.acsf import ACSFSettings
from mi_widgets.potentials.base import (
    DescriptorPotential,
    feature_standardisation,
    label_frames,
)

__all__ = ["KernelPotential"]


class KernelPotential(DescriptorPotential):
    """Sparse Gaussian-process (kernel ridge) regression of energies as sums of atomic terms.

    Parameters
    ----------
    species : sequence of str
        Elements the potential covers.
    descriptor : ACSFSettings, optional
        Symmetry functions (default :func:`~mi_widgets.potentials.base.default_acsf`).
    n_sparse : int, default 200
        Representative environments per element, drawn from the training atoms.
    length_scale : float, optional
        Kernel length in standardised feature units (default ``2 sqrt(n_features)``:
        standardised environments lie about ``sqrt(2 n_features)`` apart).
    noise : float, default 0.001
        Energy noise per atom (eV): the regularisation.
    random_state : int, default 0
        Seed of the choice of sparse points.
    **kwargs
        Passed to :class:`ase.calculators.calculator.Calculator`.

    Attributes
    ----------
    settings_ : ACSFSettings
    sparse_points_ : list of numpy.ndarray
        Standardised features of each element's sparse points.
    weights_ : list of numpy.ndarray
        Their weights ``alpha`` (eV).
    offsets_ : numpy.ndarray
        Per-element energy ``b`` (eV).

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> frames = []
    >>> for a in (3.5, 3.6, 3.7, 3.8):
    ...     atoms = bulk("Cu", "fcc", a=a)
    ...     atoms.calc = EMT()
    ...     _ = atoms.get_potential_energy()
    ...     frames.append(atoms)
    >>> model = KernelPotential(["Cu"], noise=1e-4).fit(frames)
    >>> round(model.get_potential_energy(bulk("Cu", "fcc", a=3.6)), 3)
    -0.007
    """

    def __init__(
        self,
        species: Sequence[str] = ("Si",),
        descriptor: ACSFSettings | None = None,
        n_sparse: int = 200,
        length_scale: float | None = None,
        noise: float = 1e-3,
        random_state: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.species = tuple(species)
        self.descriptor = descriptor
        self.n_sparse = n_sparse
        self.length_scale = length_scale
        self.noise = noise
        self.random_state = random_state

    def _kernel(self, x: np.ndarray, points: np.ndarray) -> np.ndarray:
        squared = (
            np.einsum("if,if->i", x, x)[:, None]
            + np.einsum("mf,mf->m", points, points)[None, :]
            - 2.0 * x @ points.T
        )
        return np.exp(-np.maximum(squared, 0.0) / (2.0 * self.length_**2))

    def fit(self, frames: Sequence[Atoms]) -> KernelPotential:
        """Fit the weights to the energies of ``frames`` (forces are not needed).

        Returns
        -------
        KernelPotential
            ``self``, fitted.
        """
        n_sparse = check_positive_int(self.n_sparse, "n_sparse")
        noise = float(self.noise)
        if not np.isfinite(noise) or noise <= 0:
            raise MIInputError(f"noise must be a positive energy in eV; got {self.noise!r}.")
        settings = self._settings()
        labelled = label_frames(frames, settings, need_forces=False)
        n_species = len(settings.species)
        features = np.concatenate([f.features for f in labelled])
        kinds = np.concatenate([f.kinds for f in labelled])
        frame_of_atom = np.repeat(np.arange(len(labelled)), [f.n_atoms for f in labelled])
        sizes = np.array([f.n_atoms for f in labelled], dtype=float)
        energies = np.array([f.energy for f in labelled])
        mean, scale = feature_standardisation(features, kinds, n_species)
        self.feature_mean_, self.feature_scale_ = mean, scale
        default_length = 2.0 * np.sqrt(settings.n_features)
        self.length_ = default_length if self.length_scale is None else float(self.length_scale)
        if not np.isfinite(self.length_) or self.length_ <= 0:
            raise MIInputError(f"length_scale must be positive; got {self.length_scale!r}.")
        x = (features - mean[kinds]) / scale[kinds]
        counts = np.stack([np.bincount(f.kinds, minlength=n_species) for f in labelled])
        offsets, *_ = np.linalg.lstsq(counts.astype(float), energies, rcond=None)
        residual = (energies - counts @ offsets) / sizes
        rng = np.random.default_rng(self.random_state)
        points, columns = [], []
        for s in range(n_species):
            mine = np.flatnonzero(kinds == s)
            chosen = rng.choice(mine, min(n_sparse, len(mine)), replace=False)
            points.append(x[chosen])
            kernel = self._kernel(x[mine], x[chosen])  # (atoms of s, sparse points of s)
            design = np.zeros((len(labelled), len(chosen)))
            np.add.at(design, frame_of_atom[mine], kernel)
            columns.append(design / sizes[:, None])
        design = np.hstack(columns)
        prior = np.zeros((design.shape[1], design.shape[1]))
        start = 0
        for p in points:
            block = self._kernel(p, p) + 1e-8 * np.eye(len(p))
            prior[start : start + len(p), start : start + len(p)] = block
            start += len(p)
        root = np.linalg.cholesky(prior)
        augmented = np.vstack([design, noise * root.T])
        target = np.concatenate([residual, np.zeros(design.shape[1])])
        alpha, *_ = np.linalg.lstsq(augmented, target, rcond=None)
        self.sparse_points_ = points
        self.weights_ = np.split(alpha, np.cumsum([len(p) for p in points])[:-1])
        self.offsets_ = offsets
        self.settings_ = settings
        self.min_distance_ = float(min(f.min_distance for f in labelled))
        return self

    def atomic_energies(self, features, kinds, gradients: bool = True):
        """Atomic energies (eV) and ``dE_i/dG_i`` from the kernel expansion."""
        self._check_fitted()
        energies = self.offsets_[kinds].astype(float)
        slopes = np.zeros_like(features)
        for s, (points, alpha) in enumerate(zip(self.sparse_points_, self.weights_, strict=True)):
            rows = np.flatnonzero(kinds == s)
            if not len(rows) or not len(points):
                continue
            x = (features[rows] - self.feature_mean_[s]) / self.feature_scale_[s]
            weighted = self._kernel(x, points) * alpha  # (atoms, sparse points)
            energies[rows] += weighted.sum(axis=1)
            if gradients:
                # d/dx sum_m alpha_m k(x, x_m) = -sum_m alpha_m k (x - x_m) / l^2
                grad_x = -(weighted.sum(axis=1)[:, None] * x - weighted @ points) / self.length_**2
                slopes[rows] = grad_x / self.feature_scale_[s]
        return energies, slopes if gradients else None
