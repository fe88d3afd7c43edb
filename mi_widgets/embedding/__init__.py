"""Low-dimensional maps of per-atom descriptors: LPP and two-step LPP (TS-LPP)."""

from mi_widgets.embedding.lpp import (
    LPP,
    TSLPP,
    TSLPPSearchResult,
    heat_kernel_graph,
    make_tslpp_classifier,
    select_tslpp_params,
)

__all__ = [
    "LPP",
    "TSLPP",
    "TSLPPSearchResult",
    "heat_kernel_graph",
    "make_tslpp_classifier",
    "select_tslpp_params",
]
