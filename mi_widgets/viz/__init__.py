"""Shared bokeh / nglview / ipywidgets helpers: palette, look, panes, banner, uploads."""

from mi_widgets.viz.banner import ErrorBanner
from mi_widgets.viz.bokeh import bokeh_pane, new_figure, replace_data, setup_notebook, style_legend
from mi_widgets.viz.layout import card, download_link, lab_layout
from mi_widgets.viz.on_request import StudyButton, run_when_asked, served_by_voila
from mi_widgets.viz.palette import CLASS_COLORS, OKABE_ITO, class_color, class_colors
from mi_widgets.viz.structure import refit_view, structure_view, update_structure
from mi_widgets.viz.upload import UPLOAD_LIMIT_BYTES, UploadedFile, read_upload, upload_button

__all__ = [
    "CLASS_COLORS",
    "OKABE_ITO",
    "UPLOAD_LIMIT_BYTES",
    "ErrorBanner",
    "StudyButton",
    "UploadedFile",
    "bokeh_pane",
    "card",
    "class_color",
    "class_colors",
    "download_link",
    "lab_layout",
    "new_figure",
    "read_upload",
    "refit_view",
    "replace_data",
    "run_when_asked",
    "served_by_voila",
    "setup_notebook",
    "structure_view",
    "style_legend",
    "update_structure",
    "upload_button",
]
