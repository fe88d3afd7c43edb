"""Atomic structures: a Stillinger-Weber potential for data generation, local descriptors, I/O."""

from mi_widgets.structure.data import (
    SI_MD_KINDS,
    load_si_md,
    read_frames,
    read_structure,
    si_md_path,
)
from mi_widgets.structure.descriptors import (
    LAAF_SI_SETTINGS,
    SteinhardtResult,
    laaf_descriptor,
    steinhardt,
)
from mi_widgets.structure.stillinger_weber import (
    SW_GERMANIUM,
    SW_SILICON,
    StillingerWeber,
    SWParameters,
)

__all__ = [
    "LAAF_SI_SETTINGS",
    "SI_MD_KINDS",
    "SW_GERMANIUM",
    "SW_SILICON",
    "SWParameters",
    "SteinhardtResult",
    "StillingerWeber",
    "laaf_descriptor",
    "load_si_md",
    "read_frames",
    "read_structure",
    "si_md_path",
    "steinhardt",
]
