"""Local-structure classification (lab 07): scale-free bond-order features, a neural
classifier with a reject option, an autoencoder + Gaussian mixture, adaptive CNA.
No UI imports; the app is in :mod:`mi_widgets.local_structure.widgets`."""

from mi_widgets.local_structure.classifier import (
    REJECTED,
    AccuracyCoverage,
    LocalStructureClassifier,
    accuracy_coverage,
)
from mi_widgets.local_structure.cna import CNA_LABELS, adaptive_cna, q_threshold_labels
from mi_widgets.local_structure.data import (
    CRYSTAL_CLASSES,
    LOCAL_STRUCTURE_CLASSES,
    displaced_lattice,
    load_local_structures,
)
from mi_widgets.local_structure.features import (
    FEATURE_KINDS,
    LocalFeatures,
    local_structure_features,
    neighbour_distance_scale,
)
from mi_widgets.local_structure.study import (
    BondOrderMaps,
    Evaluation,
    bond_order_maps,
    classify_local_structure,
    evaluate_classifier,
    features_and_labels,
    load_shipped_classifier,
    train_classifier,
    training_frames,
)
from mi_widgets.local_structure.unsupervised import (
    BondOrderAutoencoder,
    MixtureCurves,
    bottleneck_curve,
    elbow,
    mixture_curves,
)

__all__ = [
    "CNA_LABELS",
    "CRYSTAL_CLASSES",
    "FEATURE_KINDS",
    "LOCAL_STRUCTURE_CLASSES",
    "REJECTED",
    "AccuracyCoverage",
    "BondOrderAutoencoder",
    "BondOrderMaps",
    "Evaluation",
    "LocalFeatures",
    "LocalStructureClassifier",
    "MixtureCurves",
    "accuracy_coverage",
    "adaptive_cna",
    "bond_order_maps",
    "bottleneck_curve",
    "classify_local_structure",
    "displaced_lattice",
    "elbow",
    "evaluate_classifier",
    "features_and_labels",
    "load_local_structures",
    "load_shipped_classifier",
    "local_structure_features",
    "mixture_curves",
    "neighbour_distance_scale",
    "q_threshold_labels",
    "train_classifier",
    "training_frames",
]
