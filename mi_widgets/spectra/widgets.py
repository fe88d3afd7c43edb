"""Apps of the spectra labs: PeakPicker, EMPlayer (lab 02) and SpectralMapExplorer (lab 03).

Each is a :class:`mi_widgets.viz.app.LabApp`: its actions are methods (``add_peak``,
``fit``, ``step``, ``restart``, ``select``, ``cluster`` ...) that raise
:class:`MIInputError` on bad input when called from Python and show the sentence in
the banner when a button runs them. The state is readable (``result``, ``history``,
``frame``, ``phases``), so tests drive the apps without a browser. Callbacks call one
core function and redraw.

One app a module (``mi_widgets.viz.spectra_peak_picker``, ``spectra_em_player``,
``spectra_map_explorer``), the menus, colours and plotting helpers they share in
``mi_widgets.viz._spectra_common``; the apps are gathered here.
"""

from mi_widgets.viz.spectra_em_player import EMPlayer
from mi_widgets.viz.spectra_map_explorer import SpectralMapExplorer
from mi_widgets.viz.spectra_peak_picker import PeakPicker

__all__ = ["EMPlayer", "PeakPicker", "SpectralMapExplorer"]
