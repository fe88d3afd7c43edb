"""The computations behind lab 07: bond-order maps, training sets, the shipped classifier.

Each function takes structures or arrays and returns arrays or a small frozen
dataclass, so the app's callbacks call one of them and redraw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from mi_widgets._errors import MIInputError, check_choice
from mi_widgets._resources import data_path
from mi_widgets._threads import one_blas_thread
from mi_widgets.local_structure.classifier import REJECTED, LocalStructureClassifier
from mi_widgets.local_structure.data import (
    CRYSTAL_CLASSES,
    LOCAL_STRUCTURE_CLASSES,
    displaced_lattice,
    load_local_structures,
)
from mi_widgets.local_structure.features import local_structure_features

__all__ = [
    "SHIPPED_FEATURES",
    "BondOrderMaps",
    "Evaluation",
    "UnsupervisedResult",
    "bond_order_maps",
    "classify_local_structure",
    "evaluate_classifier",
    "features_and_labels",
    "load_shipped_classifier",
    "shipped_model_path",
    "train_classifier",
    "training_frames",
    "unsupervised_study",
]

#: The feature kind of the shipped classifier.
SHIPPED_FEATURES = "all"
NOISE_MODELS = ("displacement", "md")


@dataclass(frozen=True)
class BondOrderMaps:
    """Plain and averaged (q4, q6) of every atom, with its true class and frame.

    Attributes
    ----------
    q4, q6, avg_q4, avg_q6 : ndarray, shape (n_atoms,)
    truth : ndarray of str
    frame : ndarray of int
        Which structure each atom came from (for grouped folds).
    knn_plain, knn_averaged : float
        5-nearest-neighbour accuracy of the class in each 2-D map, with folds
        grouped by frame: how well the map separates the classes.
    """

    q4: np.ndarray
    q6: np.ndarray
    avg_q4: np.ndarray
    avg_q6: np.ndarray
    truth: np.ndarray
    frame: np.ndarray
    knn_plain: float
    knn_averaged: float


def features_and_labels(
    frames: Sequence[Atoms], kind: str = SHIPPED_FEATURES
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack features, true classes and frame numbers of every atom of ``frames``.

    Atoms with too few neighbours are left out.
    """
    blocks, labels, groups = [], [], []
    for k, atoms in enumerate(frames):  # frames, not atoms
        features = local_structure_features(atoms, kind)
        keep = features.valid
        blocks.append(features.values[keep])
        labels.append(np.asarray(atoms.arrays["structure_class"]).astype(str)[keep])
        groups.append(np.full(int(keep.sum()), k))
    if not blocks:
        raise MIInputError("No structures given; pass at least one frame.")
    return np.vstack(blocks), np.concatenate(labels), np.concatenate(groups)


def _grouped_knn_accuracy(points: np.ndarray, truth: np.ndarray, groups: np.ndarray) -> float:
    n_groups = np.unique(groups).size
    if n_groups < 2:
        return float("nan")
    folds = GroupKFold(n_splits=min(5, n_groups))
    predicted = cross_val_predict(KNeighborsClassifier(5), points, truth, groups=groups, cv=folds)
    return float((predicted == truth).mean())


def bond_order_maps(frames: Sequence[Atoms]) -> BondOrderMaps:
    """(q4, q6) and averaged (q4, q6) maps of ``frames`` with their separation.

    Examples
    --------
    >>> frames = [displaced_lattice(p, 0.08, n_atoms=108, random_state=i)
    ...           for i, p in enumerate(["fcc", "bcc", "fcc", "bcc"])]
    >>> maps = bond_order_maps(frames)
    >>> maps.knn_averaged >= maps.knn_plain
    True
    """
    X, truth, groups = features_and_labels(frames, "bond_order")
    names = local_structure_features(frames[0], "bond_order").names
    col = {name: X[:, names.index(name)] for name in ("q4", "q6", "avg_q4", "avg_q6")}
    plain = np.column_stack([col["q4"], col["q6"]])
    averaged = np.column_stack([col["avg_q4"], col["avg_q6"]])
    return BondOrderMaps(
        q4=col["q4"],
        q6=col["q6"],
        avg_q4=col["avg_q4"],
        avg_q6=col["avg_q6"],
        truth=truth,
        frame=groups,
        knn_plain=_grouped_knn_accuracy(plain, truth, groups),
        knn_averaged=_grouped_knn_accuracy(averaged, truth, groups),
    )


def training_frames(
    noise: str = "displacement",
    *,
    amplitudes: Sequence[float] = tuple(np.linspace(0.0, 0.2, 11)),
    n_atoms: int = 400,
    random_state: int | None = 0,
) -> list[Atoms]:
    """Frames to train on: one noise model for the crystals, MD liquid at 1800 K.

    ``"displacement"``: ideal fcc / hcp / bcc with Gaussian displacements of
    every rms ``amplitude`` (in nearest-neighbour distances). ``"md"``: the EMT
    MD crystal frames at 300 and 900 K. Both add the 1800 K liquid frames, so the
    test frames (600 and 1100 K crystals, the 1400 K liquid, gold) stay unseen.
    """
    check_choice(noise, "noise", NOISE_MODELS)
    liquid = [f for f in load_local_structures("liquid") if f.info["temperature_K"] == 1800.0]
    if noise == "md":
        crystals = [
            f
            for phase in CRYSTAL_CLASSES
            for f in load_local_structures(phase)
            if f.info["temperature_K"] in (300.0, 900.0)
        ]
        return crystals + liquid
    rng = np.random.default_rng(random_state)
    crystals = [
        displaced_lattice(phase, float(a), n_atoms=n_atoms, random_state=int(rng.integers(2**31)))
        for phase in CRYSTAL_CLASSES
        for a in amplitudes
    ]
    return crystals + liquid


def shipped_model_path():
    """Path of the shipped classifier, ``data/local_structure_classifier.npz``."""
    return data_path("local_structure_classifier.npz")


def load_shipped_classifier(theta: float = 0.0) -> LocalStructureClassifier:
    """The classifier trained by ``scripts/train_local_structure_classifier.py``."""
    model = LocalStructureClassifier.load(shipped_model_path())
    return model.set_params(theta=theta)


def classify_local_structure(atoms: Atoms, theta: float = 0.0) -> np.ndarray:
    """One label per atom: "fcc", "hcp", "bcc", "liquid", or "rejected".

    Uses the shipped classifier on scale-free features, so any monoatomic
    element and density works. Atoms with too few neighbours, and with
    ``theta > 0`` atoms whose largest posterior is below ``theta``, are
    "rejected".

    Examples
    --------
    >>> from ase.build import bulk
    >>> classify_local_structure(bulk("Fe", "bcc", a=2.87, cubic=True)).tolist()
    ['bcc', 'bcc']
    """
    features = local_structure_features(atoms, SHIPPED_FEATURES)
    model = load_shipped_classifier(theta)
    return model.predict(features.values, valid=features.valid)


@dataclass(frozen=True)
class Evaluation:
    """How a classifier does on labelled atoms.

    Attributes
    ----------
    classes : tuple of str
        Row and column order of the confusion matrix.
    confusion : ndarray of int, shape (n_classes, n_classes + 1)
        Rows: true class; columns: predicted class, then "rejected".
    accuracy : float
        Fraction of all atoms classified correctly (rejected count as wrong).
    coverage : float
        Fraction of atoms not rejected.
    kept_accuracy : float
        Accuracy on the atoms that were not rejected.
    per_class : dict of str to float
        Accuracy per true class.
    """

    classes: tuple[str, ...]
    confusion: np.ndarray
    accuracy: float
    coverage: float
    kept_accuracy: float
    per_class: dict


def evaluate_classifier(predicted, truth) -> Evaluation:
    """Confusion matrix, accuracy, coverage and per-class accuracy of predictions.

    Examples
    --------
    >>> e = evaluate_classifier(["fcc", "rejected", "bcc"], ["fcc", "fcc", "hcp"])
    >>> e.accuracy, e.coverage, e.kept_accuracy
    (0.3333333333333333, 0.6666666666666666, 0.5)
    """
    predicted = np.asarray(predicted).astype(str)
    truth = np.asarray(truth).astype(str)
    classes = tuple(c for c in LOCAL_STRUCTURE_CLASSES if c in set(truth) | set(predicted))
    classes += tuple(sorted(set(truth) - set(classes)))
    matrix = confusion_matrix(truth, predicted, labels=[*classes, REJECTED])[: len(classes)]
    kept = predicted != REJECTED
    correct = predicted == truth
    return Evaluation(
        classes=classes,
        confusion=matrix,
        accuracy=float(correct.mean()),
        coverage=float(kept.mean()),
        kept_accuracy=float(correct[kept].mean()) if kept.any() else float("nan"),
        per_class={c: float(correct[truth == c].mean()) for c in classes if (truth == c).any()},
    )


def train_classifier(
    frames: Sequence[Atoms],
    *,
    hidden_layer_sizes: tuple[int, ...] = (64, 64),
    max_iter: int = 200,
    random_state: int | None = 0,
    progress: Callable[[int, int], None] | None = None,
) -> LocalStructureClassifier:
    """Train a classifier on the scale-free features of ``frames`` (classes balanced).

    Each class is resampled to the size of the largest, so that the posterior
    does not favour the class with most atoms.
    """
    X, y, _ = features_and_labels(frames, SHIPPED_FEATURES)
    rng = np.random.default_rng(random_state)
    largest = max(int((y == c).sum()) for c in np.unique(y))
    rows = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), size=largest, replace=True) for c in np.unique(y)]
    )
    model = LocalStructureClassifier(
        hidden_layer_sizes=hidden_layer_sizes, max_iter=max_iter, random_state=random_state
    )
    with one_blas_thread():  # small matrices: threads only contend
        return model.fit(X[rows], y[rows], progress=progress)


@dataclass(frozen=True)
class UnsupervisedResult:
    """Autoencoder + Gaussian-mixture discovery of the classes, without labels.

    Attributes
    ----------
    sizes : ndarray of int
        Bottleneck sizes tried.
    errors : ndarray
        Reconstruction error of each (standardised units).
    bottleneck : int
        The size at the elbow of ``errors`` (the one used).
    latent : ndarray, shape (n_atoms, bottleneck)
        Every atom's latent coordinates.
    truth : ndarray of str
        The hidden true classes (for colouring and the score only).
    curves : MixtureCurves
        BIC and entropy of mixtures in the latent space over K.
    k : int
        Clusters chosen: the smallest K within 5 % of the whole BIC improvement
        (the knee of the BIC curve).
    adjusted_rand : float
        Agreement of the K-cluster labelling with the truth.
    adjusted_rand_full : float
        The honest comparison: a K-component mixture on the full averaged-q
        vector, no autoencoder.
    """

    sizes: np.ndarray
    errors: np.ndarray
    bottleneck: int
    latent: np.ndarray
    truth: np.ndarray
    curves: object
    k: int
    adjusted_rand: float
    adjusted_rand_full: float

    @property
    def clusters(self) -> np.ndarray:
        """Cluster of every atom for the chosen K."""
        return self.curves.labels[self.k]


def unsupervised_study(
    frames: Sequence[Atoms],
    *,
    sizes: Sequence[int] = (1, 2, 3, 4),
    ks: Sequence[int] = (1, 2, 3, 4, 5, 6),
    max_atoms: int = 4000,
    random_state: int | None = 0,
    progress: Callable[[int, int], None] | None = None,
) -> UnsupervisedResult:
    """Boattini et al.'s pipeline on the averaged q_l of ``frames``.

    An autoencoder per bottleneck size (elbow of the reconstruction error picks
    the size), a Gaussian mixture per K in the latent space (the knee of the BIC,
    :func:`~mi_widgets.local_structure.unsupervised.smallest_sufficient`, picks K),
    and the adjusted Rand index against the hidden truth. At most ``max_atoms``
    atoms (a seeded subsample) keep the study interactive.
    """
    from sklearn.metrics import adjusted_rand_score
    from sklearn.mixture import GaussianMixture

    from mi_widgets.local_structure.unsupervised import (
        BondOrderAutoencoder,
        elbow,
        mixture_curves,
        smallest_sufficient,
    )

    X, truth, _ = features_and_labels(frames, "averaged_q")
    rng = np.random.default_rng(random_state)
    if len(X) > max_atoms:
        rows = np.sort(rng.choice(len(X), size=max_atoms, replace=False))
        X, truth = X[rows], truth[rows]
    total = len(sizes) + 2
    models, errors = {}, []
    for done, size in enumerate(sizes):  # a few network sizes, not atoms
        with one_blas_thread():  # small matrices: threads only contend
            autoencoder = BondOrderAutoencoder(bottleneck=int(size), random_state=random_state)
            models[size] = autoencoder.fit(X)
        errors.append(models[size].reconstruction_error_)
        if progress is not None:
            progress(done + 1, total)
    chosen = int(elbow(sizes, errors))
    latent = models[chosen].transform(X)
    curves = mixture_curves(latent, ks, random_state=random_state)
    k = int(smallest_sufficient(curves.ks, curves.bic))
    if progress is not None:
        progress(total - 1, total)
    standardised = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    full = GaussianMixture(k, n_init=3, random_state=random_state).fit_predict(standardised)
    if progress is not None:
        progress(total, total)
    return UnsupervisedResult(
        sizes=np.asarray(sizes),
        errors=np.asarray(errors),
        bottleneck=chosen,
        latent=latent,
        truth=truth,
        curves=curves,
        k=k,
        adjusted_rand=curves.adjusted_rand(truth, k),
        adjusted_rand_full=float(adjusted_rand_score(truth, full)),
    )
