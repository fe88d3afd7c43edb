"""Every data set of the labs in one place: loaders for data/ files and seeded generators.

Each function lives beside the lab that uses it; this module gathers them so that
``from mi_widgets.datasets import ...`` finds them all. User files enter through the
same loaders (a path instead of a built-in name), with the same validation.

Examples
--------
>>> from mi_widgets.datasets import load_si_md
>>> len(load_si_md("crystal_300K")[0])
216
"""

from mi_widgets.active.io import load_phase_diagram
from mi_widgets.bayesopt.data import load_grain_boundary
from mi_widgets.learn.composition import load_alloy_features, load_element_table
from mi_widgets.learn.io import load_alloys
from mi_widgets.local_structure.data import load_local_structures
from mi_widgets.potentials.io import read_training_frames
from mi_widgets.potentials.training import load_si_frames
from mi_widgets.spectra.generate import make_spectral_image, make_spectrum
from mi_widgets.spectra.io import load_example_spectrum, load_spectra, load_spectrum
from mi_widgets.spin.data import load_kcu4p3o12
from mi_widgets.structure.data import load_si_md, read_trajectory
from mi_widgets.structure.io import builtin_crystal, read_structure

__all__ = [
    "builtin_crystal",
    "load_alloy_features",
    "load_alloys",
    "load_element_table",
    "load_example_spectrum",
    "load_grain_boundary",
    "load_kcu4p3o12",
    "load_local_structures",
    "load_phase_diagram",
    "load_si_frames",
    "load_si_md",
    "load_spectra",
    "load_spectrum",
    "make_spectral_image",
    "make_spectrum",
    "read_structure",
    "read_training_frames",
    "read_trajectory",
]
