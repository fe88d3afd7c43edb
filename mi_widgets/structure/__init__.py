"""Atomic structures: a Stillinger-Weber potential for data generation, local descriptors, I/O."""

from mi_widgets.structure.descriptors import SteinhardtResult, laaf_descriptor, steinhardt
from mi_widgets.structure.stillinger_weber import (
    SW_GERMANIUM,
    SW_SILICON,
    StillingerWeber,
    SWParameters,
)

__all__ = [
    "SW_GERMANIUM",
    "SW_SILICON",
    "SWParameters",
    "SteinhardtResult",
    "StillingerWeber",
    "laaf_descriptor",
    "steinhardt",
]
