"""Machine-learning interatomic potentials: symmetry functions, a Behler-Parrinello
network and linear baselines as ASE calculators, MD and its analysis (no UI imports)."""

from mi_widgets.potentials.acsf import ACSFDerivatives, ACSFSettings, acsf
from mi_widgets.potentials.base import (
    DescriptorPotential,
    ExtrapolationWarning,
    default_acsf,
)
from mi_widgets.potentials.io import read_training_frames
from mi_widgets.potentials.kernel import KernelPotential
from mi_widgets.potentials.linear import LinearPotential
from mi_widgets.potentials.md import (
    MDAnalysis,
    MDTrajectory,
    ScaleUpResult,
    VibrationalDOS,
    diffusion_constant,
    energy_drift,
    mean_squared_displacement,
    radial_distribution,
    run_md,
    scale_up,
    vibrational_dos,
)
from mi_widgets.potentials.network import NeuralNetworkPotential
from mi_widgets.potentials.training import (
    InvarianceCheck,
    PotentialErrors,
    evaluate,
    force_training_comparison,
    invariance_check,
    learning_curve,
    load_pretrained,
    load_si_frames,
    pretrained_info,
    si_descriptor,
    split_frames,
    sw_si_descriptor,
)

__all__ = [
    "ACSFDerivatives",
    "ACSFSettings",
    "DescriptorPotential",
    "ExtrapolationWarning",
    "InvarianceCheck",
    "KernelPotential",
    "LinearPotential",
    "MDAnalysis",
    "MDTrajectory",
    "NeuralNetworkPotential",
    "PotentialErrors",
    "ScaleUpResult",
    "VibrationalDOS",
    "acsf",
    "default_acsf",
    "diffusion_constant",
    "energy_drift",
    "evaluate",
    "force_training_comparison",
    "invariance_check",
    "learning_curve",
    "load_pretrained",
    "load_si_frames",
    "mean_squared_displacement",
    "pretrained_info",
    "radial_distribution",
    "read_training_frames",
    "run_md",
    "scale_up",
    "si_descriptor",
    "split_frames",
    "sw_si_descriptor",
    "vibrational_dos",
]
