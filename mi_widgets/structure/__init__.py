"""Structures: reading and building them, and analysing their geometry (no UI imports)."""

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

__all__ = [
    "BUILTIN_CRYSTALS",
    "RDFResult",
    "builtin_crystal",
    "coordination_numbers",
    "nearest_neighbor_distance",
    "rdf",
    "read_frames",
    "read_structure",
    "require_cell",
    "structure_to_text",
    "validate_atoms",
]
