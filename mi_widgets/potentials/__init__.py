"""Machine-learning interatomic potentials: symmetry functions, a Behler-Parrinello
network and linear baselines as ASE calculators (no UI imports)."""

from mi_widgets.potentials.acsf import ACSFDerivatives, ACSFSettings, acsf
from mi_widgets.potentials.base import (
    DescriptorPotential,
    ExtrapolationWarning,
    default_acsf,
)
from mi_widgets.potentials.io import read_training_frames
from mi_widgets.potentials.kernel import KernelPotential
from mi_widgets.potentials.linear import LinearPotential
from mi_widgets.potentials.network import NeuralNetworkPotential

__all__ = [
    "ACSFDerivatives",
    "ACSFSettings",
    "DescriptorPotential",
    "ExtrapolationWarning",
    "KernelPotential",
    "LinearPotential",
    "NeuralNetworkPotential",
    "acsf",
    "default_acsf",
    "read_training_frames",
]
