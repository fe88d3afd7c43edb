"""Spin clusters, exact diagonalisation and Hamiltonian estimation (lab 05)."""

from mi_widgets.spin.ed import (
    BOHR_MAGNETON_MEV_PER_T,
    BOLTZMANN_MEV_PER_K,
    Spectrum,
    SpinCluster,
    differential_susceptibility,
    energy_levels,
    magnetization,
    spin_gap,
    susceptibility,
)

__all__ = [
    "BOHR_MAGNETON_MEV_PER_T",
    "BOLTZMANN_MEV_PER_K",
    "Spectrum",
    "SpinCluster",
    "differential_susceptibility",
    "energy_levels",
    "magnetization",
    "spin_gap",
    "susceptibility",
]
