"""Structures: reading and building them, analysing their geometry, a Stillinger-Weber
potential for data generation and local descriptors (no UI imports)."""

from mi_widgets.structure.data import SI_MD_KINDS, load_si_md, si_md_path
from mi_widgets.structure.descriptors import (
    LAAF_SI_SETTINGS,
    SteinhardtResult,
    laaf_descriptor,
    steinhardt,
)
from mi_widgets.structure.io import (
    BUILTIN_CRYSTALS,
    builtin_crystal,
    read_frames,
    read_structure,
    require_cell,
    structure_to_text,
    validate_atoms,
)
from mi_widgets.structure.rdf import (
    RDFResult,
    coordination_numbers,
    nearest_neighbor_distance,
    rdf,
)
from mi_widgets.structure.stillinger_weber import (
    SW_GERMANIUM,
    SW_SILICON,
    StillingerWeber,
    SWParameters,
)

__all__ = [
    "BUILTIN_CRYSTALS",
    "LAAF_SI_SETTINGS",
    "SI_MD_KINDS",
    "SW_GERMANIUM",
    "SW_SILICON",
    "RDFResult",
    "SWParameters",
    "SteinhardtResult",
    "StillingerWeber",
    "builtin_crystal",
    "coordination_numbers",
    "laaf_descriptor",
    "load_si_md",
    "nearest_neighbor_distance",
    "rdf",
    "read_frames",
    "read_structure",
    "require_cell",
    "si_md_path",
    "steinhardt",
    "structure_to_text",
    "validate_atoms",
]
