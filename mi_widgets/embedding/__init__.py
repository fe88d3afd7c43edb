"""Low-dimensional maps of per-atom descriptors: LPP and two-step LPP (TS-LPP).

The widget (:class:`mi_widgets.embedding.widgets.StructureMapExplorer`) lives in
``widgets.py`` and is not imported here, so this package stays free of UI code.
"""

from mi_widgets.embedding.ann import approximate_knn, knn_recall
from mi_widgets.embedding.cells import cell_knn
from mi_widgets.embedding.graph import heat_kernel_graph
from mi_widgets.embedding.lpp import (
    LPP,
    TSLPP,
    TSLPPSearchResult,
    make_tslpp_classifier,
    select_tslpp_params,
)
from mi_widgets.embedding.paper import MapComparison, compare_maps, load_tslpp_training
from mi_widgets.embedding.structure_map import (
    FrameClassification,
    LAAFSettings,
    StructureMap,
    check_frames,
    classify_frames,
    fit_structure_map,
)

__all__ = [
    "LPP",
    "TSLPP",
    "FrameClassification",
    "LAAFSettings",
    "MapComparison",
    "StructureMap",
    "TSLPPSearchResult",
    "approximate_knn",
    "cell_knn",
    "check_frames",
    "classify_frames",
    "compare_maps",
    "fit_structure_map",
    "heat_kernel_graph",
    "knn_recall",
    "load_tslpp_training",
    "make_tslpp_classifier",
    "select_tslpp_params",
]
