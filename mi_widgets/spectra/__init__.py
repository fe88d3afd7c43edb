"""Spectra: peak shapes, intensity-weighted EM peak fitting, batch fitting, generators, loaders.

No UI imports here; the widgets live in :mod:`mi_widgets.spectra.widgets`.
"""

from mi_widgets.spectra.batch import fit_many
from mi_widgets.spectra.generate import (
    SpectralImage,
    SpectrumTruth,
    make_spectral_image,
    make_spectrum,
)
from mi_widgets.spectra.io import load_example_spectrum, load_spectra, load_spectrum
from mi_widgets.spectra.mapping import (
    PhaseAgreement,
    cluster_phases,
    compare_phases,
    phase_features,
)
from mi_widgets.spectra.results import (
    BackgroundFit,
    BatchFitResult,
    EMHistory,
    PeakFitResult,
    PeakModel,
    PeakTable,
)
from mi_widgets.spectra.shapes import gaussian, lorentzian, pseudo_voigt
from mi_widgets.spectra.single import fit_peaks, least_squares_from, random_start

__all__ = [
    "BackgroundFit",
    "BatchFitResult",
    "EMHistory",
    "PeakFitResult",
    "PeakModel",
    "PeakTable",
    "PhaseAgreement",
    "SpectralImage",
    "SpectrumTruth",
    "cluster_phases",
    "compare_phases",
    "fit_many",
    "fit_peaks",
    "gaussian",
    "least_squares_from",
    "load_example_spectrum",
    "load_spectra",
    "load_spectrum",
    "lorentzian",
    "make_spectral_image",
    "make_spectrum",
    "phase_features",
    "pseudo_voigt",
    "random_start",
]
