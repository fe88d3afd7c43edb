"""The app of the phase-diagram sampling lab (09): :class:`PhaseDiagramLab`.

The app (controls, campaign, actions) is in ``mi_widgets.viz.active_lab``, its figures and
their redrawing in ``mi_widgets.viz.active_plots``; the public names are gathered here.
"""

from mi_widgets.viz.active_lab import DENSE_GRAPH_LIMIT, MAX_UPLOAD_CANDIDATES, PhaseDiagramLab
from mi_widgets.viz.active_plots import plot_coordinates

__all__ = ["DENSE_GRAPH_LIMIT", "MAX_UPLOAD_CANDIDATES", "PhaseDiagramLab", "plot_coordinates"]
