"""Machine-learning interatomic potentials: symmetry functions, a Behler-Parrinello
network and linear baselines as ASE calculators (no UI imports)."""

from mi_widgets.potentials.acsf import ACSFDerivatives, ACSFSettings, acsf

__all__ = ["ACSFDerivatives", "ACSFSettings", "acsf"]
