"""Training data, held-out splits, errors and the shipped Si potential (no UI imports).

The Si frames of lab 06 come from the Stillinger-Weber potential ("DFT" of the lab):
``data/potentials_si.extxyz`` (64-atom cells: crystal MD, strained, vacancy, slab,
liquid) and the 216-atom MD frames ``data/si_md_*.extxyz`` (crystal at 300 K and
1600 K, amorphous, liquid at 2000 K, melt-quench). :func:`split_frames` holds out a
seeded share of every group; :func:`evaluate` gives energy and force errors with the
values for parity plots; :func:`load_pretrained` reads the network that
``scripts/train_si_potential.py`` trained on them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ase.io
import numpy as np
from ase import Atoms

from mi_widgets._errors import MIInputError
from mi_widgets._resources import data_path
from mi_widgets.potentials.acsf import ACSFSettings, acsf_from_settings
from mi_widgets.potentials.base import (
    DescriptorPotential,
    ExtrapolationWarning,
    _reference_labels,
)
from mi_widgets.potentials.network import NeuralNetworkPotential

__all__ = [
    "InvarianceCheck",
    "PotentialErrors",
    "evaluate",
    "force_training_comparison",
    "invariance_check",
    "learning_curve",
    "load_pretrained",
    "load_si_frames",
    "pretrained_info",
    "si_descriptor",
    "split_frames",
    "sw_si_descriptor",
]

#: The 216-atom Stillinger-Weber MD files used besides ``potentials_si.extxyz``.
SI_MD_FILES = (
    "si_md_crystal_300K.extxyz",
    "si_md_crystal_1600K.extxyz",
    "si_md_amorphous_300K.extxyz",
    "si_md_liquid_2000K.extxyz",
    "si_md_quench.extxyz",
)
PRETRAINED = {"Si": "potential_si_network"}


def si_descriptor(r_cut: float = 4.5) -> ACSFSettings:
    """Symmetry functions of the shipped Si potential: G1, 12 G2, 12 G4 (25 features).

    Radial Gaussians of width equal to their spacing centred from 1.8 to 4.2 Angstrom;
    angular functions with eta = 0.005 and 0.04 / Angstrom^2, zeta = 1, 2, 4 and
    lambda = +-1.

    Examples
    --------
    >>> si_descriptor().n_features
    25
    """
    centres = np.linspace(1.8, 4.2, 12)
    width = centres[1] - centres[0]
    g2 = [(1.0 / width**2, float(c)) for c in centres]
    g4 = [(eta, zeta, lam) for eta in (0.005, 0.04) for zeta in (1.0, 2.0, 4.0)
          for lam in (1.0, -1.0)]  # fmt: skip
    return ACSFSettings.create(r_cut, ["Si"], g2, g4)


def sw_si_descriptor(r_cut: float = 3.8) -> ACSFSettings:
    """Symmetry functions of Stillinger-Weber Si: G1, 10 G2, 8 G4, 24 G5 (43 features).

    Stillinger-Weber's interactions end at a sigma = 3.77 Angstrom, hence the cut-off of
    3.8 Angstrom. The radial Gaussians are centred on the atom (r_s = 0, eta from 0.02 to
    2 / Angstrom^2). SW's three-body energy, (cos theta + 1/3)^2 times a function of r_ij
    and one of r_ik, has no j-k distance: the G5 (eta 0.005 to 0.8 / Angstrom^2, zeta = 1
    and 2, lambda = +-1) span it; a G4 multiplies by the cut-off of r_jk, which drops the
    tetrahedral triplets (r_jk = 3.84 Angstrom) of the crystal. The 8 G4 of
    :func:`~mi_widgets.potentials.base.default_acsf` stay for the close triplets.

    Examples
    --------
    >>> settings = sw_si_descriptor()
    >>> settings.n_features, len(settings.g5)
    (43, 24)
    """
    g2 = [(float(eta), 0.0) for eta in np.geomspace(0.02, 2.0, 10)]
    g4 = [(0.005, zeta, lam) for zeta in (1.0, 2.0, 4.0, 16.0) for lam in (1.0, -1.0)]
    g5 = [(eta, zeta, lam) for eta in (0.005, 0.03, 0.1, 0.2, 0.4, 0.8) for zeta in (1.0, 2.0)
          for lam in (1.0, -1.0)]  # fmt: skip
    return ACSFSettings.create(r_cut, ["Si"], g2, g4, g5)


def _group(atoms: Atoms, source: str) -> str:
    return str(atoms.info.get("subset", atoms.info.get("phase", source)))


def load_si_frames(include_md: bool = True) -> list[Atoms]:
    """Stillinger-Weber Si frames with energies and forces, ``info['group']`` set.

    Parameters
    ----------
    include_md : bool, default True
        Add the 216-atom MD frames (38) to the 65 small cells.

    Returns
    -------
    list of ase.Atoms

    Examples
    --------
    >>> frames = load_si_frames(include_md=False)
    >>> len(frames), frames[0].info["group"]
    (65, 'md')
    """
    frames = ase.io.read(data_path("potentials_si.extxyz"), index=":")
    for atoms in frames:
        atoms.info["group"] = _group(atoms, "md")
    if include_md:
        for name in SI_MD_FILES:
            for atoms in ase.io.read(data_path(name), index=":"):
                atoms.info["group"] = "md216_" + _group(atoms, name)
                frames.append(atoms)
    return frames


def split_frames(
    frames: Sequence[Atoms], test_fraction: float = 0.2, random_state: int = 0
) -> tuple[list[Atoms], list[Atoms]]:
    """Hold out ``test_fraction`` of the frames of every ``info['group']`` (at least one).

    Examples
    --------
    >>> train, test = split_frames(load_si_frames(include_md=False), 0.2, random_state=0)
    >>> len(train), len(test)
    (52, 13)
    """
    if not 0 < float(test_fraction) < 1:
        raise MIInputError(f"test_fraction must be between 0 and 1; got {test_fraction!r}.")
    rng = np.random.default_rng(random_state)
    groups = np.array([str(a.info.get("group", "all")) for a in frames])
    test_mask = np.zeros(len(frames), dtype=bool)
    for group in sorted(set(groups)):
        members = np.flatnonzero(groups == group)
        n_test = max(1, round(test_fraction * len(members))) if len(members) > 1 else 0
        test_mask[rng.permutation(members)[:n_test]] = True
    train = [frames[k] for k in np.flatnonzero(~test_mask)]
    test = [frames[k] for k in np.flatnonzero(test_mask)]
    if not train or not test:
        raise MIInputError("Too few frames to hold some out; give at least two frames.")
    return train, test


@dataclass(frozen=True)
class PotentialErrors:
    """Errors of a potential on labelled frames, with the values for parity plots.

    Attributes
    ----------
    energy_rmse : float
        Root-mean-square energy error per atom (eV/atom).
    force_rmse : float
        Root-mean-square force-component error (eV/Angstrom); NaN without forces.
    energy_reference, energy_predicted : numpy.ndarray
        Energies per atom of every frame (eV/atom).
    force_reference, force_predicted : numpy.ndarray
        All force components, flat (eV/Angstrom).
    groups : numpy.ndarray of str
        ``info['group']`` of every frame.
    extrapolating : int
        Frames with atoms closer than anywhere in the training data (the potential's
        :class:`~mi_widgets.potentials.ExtrapolationWarning`, collected here).
    """

    energy_rmse: float
    force_rmse: float
    energy_reference: np.ndarray
    energy_predicted: np.ndarray
    force_reference: np.ndarray
    force_predicted: np.ndarray
    groups: np.ndarray
    extrapolating: int = 0

    def by_group(self) -> dict[str, float]:
        """Energy RMSE (eV/atom) of each group."""
        error = self.energy_predicted - self.energy_reference
        return {
            g: float(np.sqrt(np.mean(error[self.groups == g] ** 2)))
            for g in sorted(set(self.groups))
        }


def evaluate(potential: DescriptorPotential, frames: Sequence[Atoms]) -> PotentialErrors:
    """Energy and force errors of ``potential`` on reference-labelled ``frames``.

    Examples
    --------
    >>> frames = load_si_frames(include_md=False)[:3]
    >>> errors = evaluate(load_pretrained("Si"), frames)
    >>> bool(errors.energy_rmse < 0.01), errors.force_reference.shape
    (True, (576,))
    """
    e_ref, e_pred, f_ref, f_pred = [], [], [], []
    extrapolating = 0
    for index, atoms in enumerate(frames):
        energy, forces = _reference_labels(atoms, index, need_forces=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ExtrapolationWarning)
            result = potential.predict_frame(atoms)
        extrapolating += any(issubclass(w.category, ExtrapolationWarning) for w in caught)
        e_ref.append(energy / len(atoms))
        e_pred.append(result["energy"] / len(atoms))
        f_ref.append(np.full(3 * len(atoms), np.nan) if forces is None else forces.ravel())
        f_pred.append(result["forces"].ravel())
    e_ref, e_pred = np.array(e_ref), np.array(e_pred)
    f_ref, f_pred = np.concatenate(f_ref), np.concatenate(f_pred)
    has = np.isfinite(f_ref)
    force_rmse = float(np.sqrt(np.mean((f_pred[has] - f_ref[has]) ** 2))) if has.any() else np.nan
    return PotentialErrors(
        energy_rmse=float(np.sqrt(np.mean((e_pred - e_ref) ** 2))),
        force_rmse=force_rmse,
        energy_reference=e_ref,
        energy_predicted=e_pred,
        force_reference=f_ref,
        force_predicted=f_pred,
        groups=np.array([str(a.info.get("group", "all")) for a in frames]),
        extrapolating=int(extrapolating),
    )


def learning_curve(
    make_potential: Callable[[], DescriptorPotential],
    train: Sequence[Atoms],
    test: Sequence[Atoms],
    sizes: Sequence[int],
    *,
    energy_weight: float = 1.0,
    force_weight: float = 1.0,
    random_state: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Held-out errors after training on the first ``n`` of a seeded shuffle, for each size.

    Returns
    -------
    dict
        ``n_frames``, ``energy_rmse`` (eV/atom), ``force_rmse`` (eV/Angstrom) arrays.

    Examples
    --------
    >>> from mi_widgets.potentials import NeuralNetworkPotential
    >>> frames = load_si_frames(include_md=False)[:8]
    >>> make = lambda: NeuralNetworkPotential(["Si"], hidden=(4,), max_epochs=2)
    >>> curve = learning_curve(make, frames[:6], frames[6:], [2, 6])
    >>> curve["n_frames"].tolist()
    [2, 6]
    """
    order = np.random.default_rng(random_state).permutation(len(train))
    sizes = [int(n) for n in sizes if 0 < int(n) <= len(train)]
    if not sizes:
        raise MIInputError(f"Learning-curve sizes must be between 1 and {len(train)} frames.")
    energy, force = [], []
    for step, n in enumerate(sizes):
        potential = make_potential()
        potential.fit([train[k] for k in order[:n]], energy_weight, force_weight)
        errors = evaluate(potential, test)
        energy.append(errors.energy_rmse)
        force.append(errors.force_rmse)
        if progress is not None:
            progress(step + 1, len(sizes))
    return {
        "n_frames": np.array(sizes),
        "energy_rmse": np.array(energy),
        "force_rmse": np.array(force),
    }


def _pretrained_name(element: str) -> str:
    if element not in PRETRAINED:
        raise MIInputError(
            f"No pretrained potential for {element!r}; available: {', '.join(PRETRAINED)}."
        )
    return PRETRAINED[element]


def load_pretrained(element: str = "Si") -> NeuralNetworkPotential:
    """The network potential shipped in ``data/`` (trained by ``scripts/train_si_potential.py``).

    Parameters
    ----------
    element : str, default "Si"
        Only ``"Si"`` (trained on Stillinger-Weber frames) ships.

    Returns
    -------
    NeuralNetworkPotential
        Trained; an ASE calculator.

    Examples
    --------
    >>> from ase.build import bulk
    >>> atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    >>> atoms.calc = load_pretrained("Si")
    >>> round(atoms.get_potential_energy() / len(atoms), 1)  # SW: -4.34 eV/atom
    -4.3
    """
    return NeuralNetworkPotential.load(data_path(_pretrained_name(element) + ".npz"))


def pretrained_info(element: str = "Si") -> dict:
    """Provenance and held-out errors of the shipped potential (its JSON sidecar).

    Examples
    --------
    >>> info = pretrained_info("Si")
    >>> info["script"], info["seed"]
    ('scripts/train_si_potential.py', 2028)
    """
    path = data_path(_pretrained_name(element) + ".json")
    return json.loads(path.read_text())


def force_training_comparison(
    make_potential: Callable[[], NeuralNetworkPotential],
    train: Sequence[Atoms],
    test: Sequence[Atoms],
    energy_weight: float = 1.0,
    force_weight: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, PotentialErrors]:
    """The same network trained on energies alone and on energies + forces, held-out errors.

    Returns
    -------
    dict
        ``{"energy only": PotentialErrors, "energy + force": PotentialErrors}``.
    """
    out = {}
    for step, (name, weight) in enumerate((("energy only", 0.0), ("energy + force", force_weight))):
        potential = make_potential().fit(train, energy_weight, weight)
        out[name] = evaluate(potential, test)
        if progress is not None:
            progress(step + 1, 2)
    return out


@dataclass(frozen=True)
class InvarianceCheck:
    """Features and Cartesian input of one atom before and after a transformation.

    Attributes
    ----------
    transformed : ase.Atoms
        The rotated or permuted structure.
    index_after : int
        Where the chosen atom sits in ``transformed``.
    features_before, features_after : numpy.ndarray, shape (n_features,)
        The chosen atom's symmetry functions.
    max_feature_difference : float
        Largest change of any feature of any atom (atoms matched).
    max_cartesian_difference : float
        Largest change of the flat Cartesian input vector (Angstrom): what a network fed
        raw coordinates would see.
    """

    transformed: Atoms
    index_after: int
    features_before: np.ndarray
    features_after: np.ndarray
    max_feature_difference: float
    max_cartesian_difference: float


def _rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def invariance_check(
    atoms: Atoms, settings: ACSFSettings, index: int, transform: str, random_state: int = 0
) -> InvarianceCheck:
    """Rotate (cell and atoms) or permute the atoms and compare features and coordinates.

    Examples
    --------
    >>> from ase.build import bulk
    >>> atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    >>> atoms.rattle(0.1, seed=1)
    >>> check = invariance_check(atoms, si_descriptor(), 0, "rotate")
    >>> bool(check.max_feature_difference < 1e-9), bool(check.max_cartesian_difference > 0.1)
    (True, True)
    """
    n = len(atoms)
    if not 0 <= int(index) < n:
        raise MIInputError(f"Atom index must be between 0 and {n - 1}; got {index}.")
    rng = np.random.default_rng(random_state)
    order = np.arange(n)
    new = atoms.copy()
    if transform == "rotate":
        rotation = _rotation(rng)
        new.set_cell(atoms.cell.array @ rotation.T, scale_atoms=False)
        new.positions = atoms.positions @ rotation.T
    elif transform == "permute":
        order = rng.permutation(n)
        new = atoms[order]
    else:
        raise MIInputError(f"transform must be 'rotate' or 'permute'; got {transform!r}.")
    before = acsf_from_settings(atoms, settings)
    after = acsf_from_settings(new, settings)
    inverse = np.argsort(order)
    return InvarianceCheck(
        transformed=new,
        index_after=int(inverse[int(index)]),
        features_before=before[int(index)],
        features_after=after[inverse[int(index)]],
        max_feature_difference=float(np.abs(after[inverse] - before).max()),
        max_cartesian_difference=float(np.abs(new.positions - atoms.positions).max()),
    )
