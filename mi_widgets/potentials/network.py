"""Behler-Parrinello neural-network potential (Behler & Parrinello, PRL 98, 146401 (2007)).

One small feed-forward network per element maps the symmetry functions of an atom
to its energy, ``E = sum_i NN_{s_i}(G_i)``. Everything is numpy with hand-written
gradients:

* forces, ``F = -dE/dr``, by back-propagating to the inputs and then through the
  per-pair descriptor derivatives;
* the gradient of the loss with respect to the weights, including the force term.
  The force loss depends on the weights through ``g_i = dE_i/dG_i``; its gradient is
  that of ``sum_i g_i . v_i`` with ``v_i = dL/dg_i`` held fixed, which is the
  directional derivative of the network along ``v_i``. That is computed by a forward
  pass carrying tangents and one reverse pass through both (reverse over forward mode).

Training minimises, averaged over the frames of a mini-batch,

.. math::

    L = \\lambda_E \\left(\\frac{E - \\hat E}{N}\\right)^2
        + \\frac{\\lambda_F}{3N} \\sum_i |F_i - \\hat F_i|^2

(energy per atom, so cells of any size weigh alike) with Adam, and keeps the weights
with the lowest validation loss (early stopping).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int
from mi_widgets._npz import read_npz
from mi_widgets.potentials.acsf import ACSFSettings
from mi_widgets.potentials.base import (
    DescriptorPotential,
    LabelledFrame,
    feature_standardisation,
    forces_from_pairs,
    label_frames,
)
from mi_widgets.potentials.linear import LinearPotential

__all__ = ["NeuralNetworkPotential"]

FORMAT = "mi-lab neural-network potential, version 1"


def _check_weight(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise MIInputError(f"{name} must be a number >= 0; got {value!r}.")
    return value


class _Batch:
    """Frames concatenated: atoms, pairs and labels of a mini-batch as flat arrays."""

    def __init__(self, frames: Sequence[LabelledFrame]) -> None:
        sizes = np.array([f.n_atoms for f in frames])
        offsets = np.cumsum(sizes) - sizes
        self.n_frames = len(frames)
        self.n_atoms = int(sizes.sum())
        self.sizes = sizes.astype(float)
        self.frame_of_atom = np.repeat(np.arange(len(frames)), sizes)
        self.features = np.concatenate([f.features for f in frames])
        self.kinds = np.concatenate([f.kinds for f in frames])
        self.energy = np.array([f.energy for f in frames])
        self.i = np.concatenate([f.derivatives.i + o for f, o in zip(frames, offsets, strict=True)])
        self.j = np.concatenate([f.derivatives.j + o for f, o in zip(frames, offsets, strict=True)])
        self.values = np.concatenate([f.derivatives.values for f in frames])
        has_forces = all(f.forces is not None for f in frames)
        self.forces = np.concatenate([f.forces for f in frames]) if has_forces else None


class NeuralNetworkPotential(DescriptorPotential):
    """Behler-Parrinello network potential: one tanh network per element, an ASE calculator.

    Parameters
    ----------
    species : sequence of str
        Elements the potential covers, e.g. ``["Si"]``.
    descriptor : ACSFSettings, optional
        Symmetry functions (default :func:`~mi_widgets.potentials.base.default_acsf`).
    hidden : tuple of int, default (16, 16)
        Hidden layer widths of every element's network.
    learning_rate : float, default 0.01
        Adam step size (of the first epoch).
    final_learning_rate : float, optional
        Step size of the last epoch: the step decays geometrically from
        ``learning_rate`` to this over ``max_epochs`` (default: constant).
    batch_size : int, default 8
        Frames per mini-batch.
    max_epochs : int, default 200
        Passes over the training frames at most.
    patience : int, default 30
        Stop after this many epochs without a better validation loss.
    validation_fraction : float, default 0.2
        Share of the frames held out for early stopping (0 to train on all and keep the
        last weights).
    random_state : int, default 0
        Seed of the weight initialisation, the split and the batch order.
    linear_baseline : float, optional
        Ridge penalty of a linear baseline (delta learning): a
        :class:`~mi_widgets.potentials.LinearPotential` is fitted on the training frames
        first and the networks learn what it leaves, ``E_i = w_s . G_i + c_s +
        NN_s(G_i)``; the output weights start at zero, so training starts from the ridge
        model. The linear part extrapolates gently where the data are thin (a liquid, a
        slab), the network adds the curvature. Default: no baseline.
    **kwargs
        Passed to :class:`ase.calculators.calculator.Calculator`.

    Attributes
    ----------
    settings_ : ACSFSettings
    coefficients_ : numpy.ndarray
        All weights and biases, flat.
    feature_mean_, feature_scale_ : numpy.ndarray, shape (n_species, n_features)
        Input standardisation per element (training atoms).
    linear_weights_ : numpy.ndarray, shape (n_species, n_features)
        Slopes of the linear baseline on the raw features (eV; zero without one).
    linear_offsets_ : numpy.ndarray, shape (n_species,)
        Its energy at zero features (eV).
    min_distance_ : float
        Shortest interatomic distance in the training data (Angstrom).
    history_ : dict of str to list of float
        Per epoch: ``train_loss``, ``validation_loss``, ``energy_rmse`` (eV/atom),
        ``force_rmse`` (eV/Angstrom), both on the validation frames (training frames if
        there are none).

    Examples
    --------
    >>> from ase.build import bulk
    >>> from mi_widgets.potentials.base import default_acsf
    >>> potential = NeuralNetworkPotential(["Cu"], default_acsf(["Cu"]), hidden=(4,))
    >>> potential.initialize_weights(n_features=17).coefficients_.shape
    (77,)
    """

    def __init__(
        self,
        species: Sequence[str] = ("Si",),
        descriptor: ACSFSettings | None = None,
        hidden: Sequence[int] = (16, 16),
        learning_rate: float = 0.01,
        final_learning_rate: float | None = None,
        batch_size: int = 8,
        max_epochs: int = 200,
        patience: int = 30,
        validation_fraction: float = 0.2,
        random_state: int = 0,
        linear_baseline: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.species = tuple(species)
        self.descriptor = descriptor
        self.hidden = tuple(hidden)
        self.learning_rate = learning_rate
        self.final_learning_rate = final_learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.linear_baseline = linear_baseline

    # -- network layout -------------------------------------------------------------------
    def _layer_shapes(self, n_features: int) -> list[tuple[int, int]]:
        widths = [n_features, *self.hidden, 1]
        return list(itertools.pairwise(widths))

    def _unpack(self, coefficients: np.ndarray) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        """Views ``[species][layer] = (W, b)`` into the flat coefficient vector."""
        networks, start = [], 0
        for _ in range(self._n_species):
            layers = []
            for n_in, n_out in self._shapes:
                W = coefficients[start : start + n_in * n_out].reshape(n_in, n_out)
                start += n_in * n_out
                b = coefficients[start : start + n_out]
                start += n_out
                layers.append((W, b))
            networks.append(layers)
        return networks

    def initialize_weights(self, n_features: int | None = None) -> NeuralNetworkPotential:
        """Random (Glorot) weights, unit feature scaling; no training."""
        for width in self.hidden:
            check_positive_int(width, "Every hidden layer width")
        settings = self._settings()
        n_features = settings.n_features if n_features is None else n_features
        self.settings_ = settings
        self._n_species = len(settings.species)
        self._shapes = self._layer_shapes(n_features)
        rng = np.random.default_rng(self.random_state)
        size = self._n_species * sum(a * b + b for a, b in self._shapes)
        self.coefficients_ = np.zeros(size)
        for layers in self._unpack(self.coefficients_):
            for W, _ in layers:
                W[...] = rng.normal(0.0, np.sqrt(1.0 / W.shape[0]), W.shape)
        self.feature_mean_ = np.zeros((self._n_species, n_features))
        self.feature_scale_ = np.ones((self._n_species, n_features))
        self.linear_weights_ = np.zeros((self._n_species, n_features))
        self.linear_offsets_ = np.zeros(self._n_species)
        self.min_distance_ = None
        return self

    # -- evaluation -----------------------------------------------------------------------
    def _forward(self, coefficients, features, kinds, tangents=None):
        """Per-element passes; returns energies, input gradients and the caches."""
        networks = self._unpack(coefficients)
        energies = np.zeros(len(kinds))
        gradients = np.zeros_like(features)
        caches = []
        for s, layers in enumerate(networks):
            rows = np.flatnonzero(kinds == s)
            if not len(rows):
                caches.append(None)
                continue
            scale = self.feature_scale_[s]
            x = (features[rows] - self.feature_mean_[s]) / scale
            t = None if tangents is None else tangents[rows] / scale
            activations, tangent_list, pre_tangents = [x], [t], []
            for W, b in layers[:-1]:
                a = np.tanh(activations[-1] @ W + b)
                activations.append(a)
                if t is not None:
                    u = tangent_list[-1] @ W
                    pre_tangents.append(u)
                    tangent_list.append((1.0 - a**2) * u)
            W_out, b_out = layers[-1]
            slope = self.linear_weights_[s]
            energies[rows] = (
                (activations[-1] @ W_out).ravel() + b_out[0] + features[rows] @ slope
            ) + self.linear_offsets_[s]
            # back-propagate dE/dx, then to the unscaled features
            delta = np.broadcast_to(W_out.T, (len(rows), W_out.shape[0]))
            for (W, _), a in zip(reversed(layers[:-1]), reversed(activations[1:]), strict=True):
                delta = (delta * (1.0 - a**2)) @ W.T
            gradients[rows] = delta / scale + slope
            caches.append((rows, activations, tangent_list, pre_tangents))
        return energies, gradients, caches

    def atomic_energies(self, features, kinds, gradients: bool = True):
        """Atomic energies (eV) and ``dE_i/dG_i`` from the per-element networks."""
        self._check_fitted()
        energies, feature_gradients, _ = self._forward(self.coefficients_, features, kinds)
        return energies, feature_gradients if gradients else None

    def _loss(self, coefficients, batch: _Batch, energy_weight, force_weight, gradient=True):
        """Loss of a batch and its gradient with respect to the coefficients."""
        energies, feature_gradients, _ = self._forward(coefficients, batch.features, batch.kinds)
        frame_energy = np.bincount(batch.frame_of_atom, weights=energies, minlength=batch.n_frames)
        energy_error = (frame_energy - batch.energy) / batch.sizes
        loss = energy_weight * np.mean(energy_error**2)
        use_forces = force_weight > 0 and batch.forces is not None
        if use_forces:
            pair_gradient = np.einsum("pcf,pf->pc", batch.values, feature_gradients[batch.i])
            forces = forces_from_pairs(batch.i, batch.j, pair_gradient, batch.n_atoms)
            force_error = forces - batch.forces
            per_atom = 1.0 / (3.0 * batch.sizes[batch.frame_of_atom] * batch.n_frames)
            loss += force_weight * float(np.sum(per_atom[:, None] * force_error**2))
        if not gradient:
            return loss, None
        # dL/dE_i (energy term) and v_i = dL/dg_i (force term)
        d_energy = (2.0 * energy_weight / batch.n_frames * energy_error / batch.sizes)[
            batch.frame_of_atom
        ]
        tangents = None
        if use_forces:
            d_forces = 2.0 * force_weight * per_atom[:, None] * force_error
            d_pair = d_forces[batch.i] - d_forces[batch.j]  # dL/d(dE/dd_p)
            v = np.einsum("pcf,pc->pf", batch.values, d_pair)
            tangents = np.zeros_like(batch.features)
            np.add.at(tangents, batch.i, v)
        _, _, caches = self._forward(coefficients, batch.features, batch.kinds, tangents)
        grad = np.zeros_like(coefficients)
        grad_layers = self._unpack(grad)
        networks = self._unpack(coefficients)
        for s, cache in enumerate(caches):
            if cache is None:
                continue
            rows, activations, tangent_list, pre_tangents = cache
            layers, out = networks[s], grad_layers[s]
            W_out = layers[-1][0]
            g_energy = d_energy[rows][:, None]
            out[-1][0][...] += activations[-1].T @ g_energy
            out[-1][1][...] += g_energy.sum()
            g_a = g_energy @ W_out.T
            g_t = None
            if tangents is not None:
                out[-1][0][...] += tangent_list[-1].sum(axis=0)[:, None]
                g_t = np.broadcast_to(W_out.T, g_a.shape)
            for depth in range(len(layers) - 2, -1, -1):
                W = layers[depth][0]
                a = activations[depth + 1]
                slope = 1.0 - a**2
                if g_t is not None:
                    u = pre_tangents[depth]
                    g_u = g_t * slope
                    g_a = g_a - 2.0 * a * g_t * u
                g_z = g_a * slope
                out[depth][0][...] += activations[depth].T @ g_z
                out[depth][1][...] += g_z.sum(axis=0)
                g_a = g_z @ W.T
                if g_t is not None:
                    out[depth][0][...] += tangent_list[depth].T @ g_u
                    g_t = g_u @ W.T
        return loss, grad

    # -- training -------------------------------------------------------------------------
    def _standardise(self, frames: Sequence[LabelledFrame]) -> None:
        features = np.concatenate([f.features for f in frames])
        kinds = np.concatenate([f.kinds for f in frames])
        self.feature_mean_, self.feature_scale_ = feature_standardisation(
            features, kinds, self._n_species
        )

    def _fit_baseline(self, frames, energy_weight: float, force_weight: float) -> None:
        """The linear baseline (``linear_baseline`` = its ridge penalty) on ``frames``."""
        if self.linear_baseline is None:
            return
        alpha = _check_weight(self.linear_baseline, "linear_baseline")
        ridge = LinearPotential(self.species, self.settings_, alpha=alpha)
        ridge._fit_labelled(frames, self.settings_, energy_weight, force_weight)
        self.linear_weights_ = ridge.weights_ / ridge.feature_scale_
        self.linear_offsets_ = ridge.offsets_ - np.sum(
            ridge.feature_mean_ * self.linear_weights_, axis=1
        )
        # output weights start at zero, so training starts from the ridge model: random ones
        # add forces far larger than its residual, which small data do not train away
        for layers in self._unpack(self.coefficients_):
            layers[-1][0][...] = 0.0

    def _initial_offsets(self, frames: Sequence[LabelledFrame]) -> None:
        """Output biases = per-element energies of a least-squares composition fit."""
        counts = np.array([np.bincount(f.kinds, minlength=self._n_species) for f in frames])
        energies = np.array(
            [
                f.energy
                - np.einsum("if,if->", f.features, self.linear_weights_[f.kinds])
                - self.linear_offsets_[f.kinds].sum()
                for f in frames
            ]
        )
        offsets, *_ = np.linalg.lstsq(counts.astype(float), energies, rcond=None)
        for s, layers in enumerate(self._unpack(self.coefficients_)):
            layers[-1][1][...] = offsets[s]

    def fit(
        self,
        frames: Sequence[Atoms],
        energy_weight: float = 1.0,
        force_weight: float = 1.0,
        progress: Callable[[int, int], None] | None = None,
    ) -> NeuralNetworkPotential:
        """Train on reference energies (and forces) of ``frames``.

        Parameters
        ----------
        frames : sequence of ase.Atoms
            Structures with energies (and forces unless ``force_weight`` is 0), as
            calculator results or ``info['energy']`` / ``arrays['forces']``.
        energy_weight, force_weight : float
            ``lambda_E`` and ``lambda_F`` of the loss (1/eV^2 per atom^2 and
            Angstrom^2/eV^2).
        progress : callable, optional
            Called as ``progress(epoch, max_epochs)`` after every epoch.

        Returns
        -------
        NeuralNetworkPotential
            ``self``, trained.
        """
        energy_weight = _check_weight(energy_weight, "energy_weight")
        force_weight = _check_weight(force_weight, "force_weight")
        if energy_weight == 0 and force_weight == 0:
            raise MIInputError("energy_weight and force_weight are both 0; set one above 0.")
        max_epochs = check_positive_int(self.max_epochs, "max_epochs")
        batch_size = check_positive_int(self.batch_size, "batch_size")
        patience = check_positive_int(self.patience, "patience")
        learning_rate = _check_weight(self.learning_rate, "learning_rate")
        if learning_rate == 0:
            raise MIInputError("learning_rate must be above 0; try 0.005.")
        decay = self._decay_per_epoch(learning_rate, max_epochs)
        if not 0 <= float(self.validation_fraction) < 1:
            raise MIInputError(
                f"validation_fraction must be in [0, 1); got {self.validation_fraction!r}."
            )
        self.initialize_weights()
        labelled = label_frames(frames, self.settings_, need_forces=force_weight > 0)
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(labelled))
        n_validation = round(float(self.validation_fraction) * len(labelled))
        if n_validation and len(labelled) - n_validation < 1:
            raise MIInputError("Too few frames to hold some out; give more frames.")
        validation = [labelled[k] for k in order[:n_validation]]
        training = [labelled[k] for k in order[n_validation:]]
        self.min_distance_ = float(min(f.min_distance for f in labelled))
        self._standardise(training)
        self._fit_baseline(training, energy_weight, force_weight)
        self._initial_offsets(training)
        monitor = _Batch(validation or training)

        moment1 = np.zeros_like(self.coefficients_)
        moment2 = np.zeros_like(self.coefficients_)
        beta1, beta2, step = 0.9, 0.999, 0
        best = (np.inf, self.coefficients_.copy())
        history = {"train_loss": [], "validation_loss": [], "energy_rmse": [], "force_rmse": []}
        self.history_ = history  # filled epoch by epoch: a progress callback may plot it
        stale = 0
        for epoch in range(1, max_epochs + 1):
            permutation = rng.permutation(len(training))
            losses = []
            step_size = learning_rate * decay ** (epoch - 1)
            for start in range(0, len(training), batch_size):
                batch = _Batch([training[k] for k in permutation[start : start + batch_size]])
                loss, grad = self._loss(self.coefficients_, batch, energy_weight, force_weight)
                step += 1
                moment1 = beta1 * moment1 + (1 - beta1) * grad
                moment2 = beta2 * moment2 + (1 - beta2) * grad**2
                corrected1 = moment1 / (1 - beta1**step)
                corrected2 = moment2 / (1 - beta2**step)
                self.coefficients_ -= step_size * corrected1 / (np.sqrt(corrected2) + 1e-8)
                losses.append(loss)
            validation_loss, _ = self._loss(
                self.coefficients_, monitor, energy_weight, force_weight, gradient=False
            )
            energy_rmse, force_rmse = self._errors(monitor)
            history["train_loss"].append(float(np.mean(losses)))
            history["validation_loss"].append(float(validation_loss))
            history["energy_rmse"].append(energy_rmse)
            history["force_rmse"].append(force_rmse)
            if progress is not None:
                progress(epoch, max_epochs)
            if validation_loss < best[0]:
                best, stale = (validation_loss, self.coefficients_.copy()), 0
            else:
                stale += 1
                if validation and stale >= patience:
                    break
        if validation:
            self.coefficients_ = best[1]
        self.history_ = history
        return self

    def _decay_per_epoch(self, learning_rate: float, max_epochs: int) -> float:
        """Factor per epoch that takes the step from ``learning_rate`` to the final one."""
        if self.final_learning_rate is None:
            return 1.0
        final = _check_weight(self.final_learning_rate, "final_learning_rate")
        if final == 0:
            raise MIInputError("final_learning_rate must be above 0; try 1e-4.")
        return (final / learning_rate) ** (1.0 / max(max_epochs - 1, 1))

    def _errors(self, batch: _Batch) -> tuple[float, float]:
        energies, feature_gradients, _ = self._forward(
            self.coefficients_, batch.features, batch.kinds
        )
        frame_energy = np.bincount(batch.frame_of_atom, weights=energies, minlength=batch.n_frames)
        energy_rmse = float(np.sqrt(np.mean(((frame_energy - batch.energy) / batch.sizes) ** 2)))
        if batch.forces is None:
            return energy_rmse, float("nan")
        pair_gradient = np.einsum("pcf,pf->pc", batch.values, feature_gradients[batch.i])
        forces = forces_from_pairs(batch.i, batch.j, pair_gradient, batch.n_atoms)
        return energy_rmse, float(np.sqrt(np.mean((forces - batch.forces) ** 2)))

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the trained potential to ``path`` (.npz of plain arrays; settings as JSON)."""
        settings = self._check_fitted()
        meta = {
            "format": FORMAT,
            "species": list(self.species),
            "descriptor": settings.to_dict(),
            "hidden": list(self.hidden),
            "min_distance": self.min_distance_,
            "random_state": self.random_state,
            "linear_baseline": self.linear_baseline,
        }
        path = Path(path)
        np.savez(
            path,
            meta=np.array(json.dumps(meta)),
            coefficients=self.coefficients_,
            feature_mean=self.feature_mean_,
            feature_scale=self.feature_scale_,
            linear_weights=self.linear_weights_,
            linear_offsets=self.linear_offsets_,
        )
        return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")

    @classmethod
    def load(cls, path: str | Path) -> NeuralNetworkPotential:
        """Read a potential written by :meth:`save` (no pickle; sizes checked before reading).

        Raises
        ------
        MIInputError
            If the file is not such a potential, or its arrays do not fit its layout.
        """
        name = Path(path).name if isinstance(path, (str, Path)) else "the potential"
        what = "a saved neural-network potential (an .npz archive)"
        arrays = read_npz(path, name, max_values=MAX_SAVED_VALUES, text=("meta",), what=what)
        meta = _saved_meta(arrays, name)
        d = meta["descriptor"]
        try:
            settings = ACSFSettings.create(
                d["r_cut"], d["species"], d["g2"], d["g4"], d.get("g5", ())
            )
            potential = cls(meta["species"], settings, tuple(meta["hidden"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise MIInputError(f"{name} is not a saved neural-network potential.") from None
        potential.random_state = meta["random_state"]
        potential.linear_baseline = meta.get("linear_baseline")
        potential.initialize_weights(settings.n_features)
        try:
            coefficients, mean, scale = (
                check_finite_array(arrays[k], f"{name} array {k}")
                for k in ("coefficients", "feature_mean", "feature_scale")
            )
        except KeyError as missing:
            raise MIInputError(f"{name} lacks the array {missing}; save it again.") from None
        features = potential.feature_mean_.shape  # (species, features)
        if coefficients.shape != potential.coefficients_.shape or not (
            mean.shape == scale.shape == features and (scale > 0).all()
        ):
            raise MIInputError(f"{name} holds weights that do not match its network layout.")
        potential.coefficients_ = coefficients
        potential.feature_mean_, potential.feature_scale_ = mean, scale
        _load_baseline(potential, arrays, name)
        potential.min_distance_ = meta["min_distance"]
        return potential


#: The most values one array of a saved potential may hold.
MAX_SAVED_VALUES = 2**22


def _load_baseline(potential: NeuralNetworkPotential, arrays: dict, name: str) -> None:
    """The linear baseline's arrays, if the file has them (files before it have none)."""
    if "linear_weights" not in arrays and "linear_offsets" not in arrays:
        return
    try:
        weights, offsets = (
            check_finite_array(arrays[k], f"{name} array {k}")
            for k in ("linear_weights", "linear_offsets")
        )
    except KeyError as missing:
        raise MIInputError(f"{name} lacks the array {missing}; save it again.") from None
    if weights.shape != potential.linear_weights_.shape or offsets.shape != (
        potential.linear_offsets_.shape
    ):
        raise MIInputError(f"{name} holds a linear baseline that does not match its layout.")
    potential.linear_weights_, potential.linear_offsets_ = weights, offsets


def _saved_meta(arrays: dict[str, np.ndarray], name: str) -> dict:
    """The JSON settings of a saved potential, checked before anything is built from them."""
    refused = f"{name} is not a saved neural-network potential of this format."
    try:
        meta = json.loads(str(arrays["meta"]))
        hidden = [int(width) for width in meta["hidden"]]
        min_distance = float(meta["min_distance"])
        seed = meta["random_state"]
        baseline = meta.get("linear_baseline")
        if baseline is not None:
            baseline = float(baseline)
        ok = (
            (baseline is None or (np.isfinite(baseline) and baseline >= 0))
            and meta.get("format") == FORMAT
            and isinstance(meta["descriptor"], dict)
            and 1 <= len(hidden) <= 16
            and all(1 <= width <= 4096 for width in hidden)
            and np.isfinite(min_distance)
            and (seed is None or (isinstance(seed, int) and not isinstance(seed, bool)))
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError):
        ok = False
    if not ok:
        raise MIInputError(refused)
    return {**meta, "hidden": hidden, "min_distance": min_distance, "linear_baseline": baseline}
