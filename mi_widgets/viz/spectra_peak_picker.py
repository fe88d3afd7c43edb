"""The peak picker of lab 02: click starting centres on a spectrum, fit, read the table."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
from bokeh.events import Tap
from bokeh.models import ColumnDataSource

from mi_widgets._errors import MIInputError, check_finite_array
from mi_widgets.spectra.io import load_spectrum
from mi_widgets.spectra.results import MAX_PEAKS, PeakFitResult, PeakModel
from mi_widgets.spectra.single import fit_peaks
from mi_widgets.viz import OKABE_ITO, bokeh_pane, new_figure, replace_data
from mi_widgets.viz._spectra_common import (
    _SMALL,
    BACKGROUND_OPTIONS,
    DATA_COLOR,
    MODEL_COLOR,
    SHAPE_OPTIONS,
    _component_columns,
    _finite_float,
    _legend_outside,
    _unit_of,
)
from mi_widgets.viz.app import LabApp
from mi_widgets.viz.upload import UploadedFile

__all__ = ["PeakPicker"]


#: Peak counts offered when no markers are placed: "auto" picks the count by BIC.
PEAK_COUNT_OPTIONS = [("auto (BIC)", "auto"), *((str(n), n) for n in range(1, 11))]


def _results_table(result: PeakFitResult, x_unit: str) -> str:
    unit = f" ({html.escape(x_unit)})" if x_unit else ""
    rows = "".join(
        f"<tr><td>{k + 1}</td><td>{r['center']:.4g} ± {r['center_err']:.2g}</td>"
        f"<td>{r['fwhm']:.3g} ± {r['fwhm_err']:.2g}</td>"
        f"<td>{r['area']:.4g} ± {r['area_err']:.2g}</td>"
        f"<td>{r['eta']:.2f}</td></tr>"
        for k, r in enumerate(result.peaks.rows())
    )
    bic = ""
    if result.bic_by_n_peaks:
        bic = "; BIC by count: " + ", ".join(
            f"{n}: {b:.1f}" for n, b in result.bic_by_n_peaks.items()
        )
    return (
        "<table style='font-size:13px;border-collapse:collapse' class='mi-peak-table'>"
        f"<tr><th>#</th><th>centre{unit}</th><th>FWHM{unit}</th><th>area</th><th>η</th></tr>"
        f"{rows}</table><div style='font-size:13px'>{result.n_peaks} peaks, "
        f"EM iterations {result.n_iter}, BIC {result.bic:.1f}{bic}</div>"
    )


class PeakPicker(LabApp):
    """Click on a spectrum to place starting peak centres, then Fit.

    Clicking near an existing marker removes it. With no markers, Fit uses
    automatic starts for the chosen peak count, or picks the count by BIC
    (``n_peaks="auto"``).

    Parameters
    ----------
    x, y : array_like
        The spectrum.
    shape, background : str
        Initial model choices (see :func:`mi_widgets.spectra.fit_peaks`).
    n_peaks : int or "auto", default "auto"
        Peak count for a fit with no markers.
    random_state : int, optional
        Seed of the automatic starts.
    x_label : str, default "x"
        Axis label of the spectrum, e.g. ``"binding energy (eV)"``.
    name : str, optional
        What the spectrum is (a file name, say), shown under the upload button.

    Examples
    --------
    >>> from mi_widgets.spectra import make_spectrum
    >>> x, y, _ = make_spectrum(2, random_state=0)
    >>> picker = PeakPicker(x, y)
    >>> picker.add_peak(30.0); picker.picked
    [30.0]
    """

    title = "Pick peaks and fit"
    controls_width = "330px"
    css_class = "mi-peak-picker"

    def __init__(
        self,
        x: Any,
        y: Any,
        *,
        shape: str = "pseudo_voigt",
        background: str = "linear",
        n_peaks: int | str = "auto",
        random_state: int | None = 0,
        x_label: str = "x",
        name: str | None = None,
    ):
        super().__init__(random_state=random_state)
        PeakModel(1, shape, background)  # checks the choices
        if n_peaks not in dict(PEAK_COUNT_OPTIONS).values():
            raise MIInputError(f"n_peaks must be 'auto' or 1 to 10; got {n_peaks!r}.")
        self.result: PeakFitResult | None = None
        self.picked: list[float] = []
        self._x_label = str(x_label)
        self.shape_menu = widgets.Dropdown(options=SHAPE_OPTIONS, value=shape, description="Shape")
        self.background_menu = widgets.Dropdown(
            options=BACKGROUND_OPTIONS, value=background, description="Background"
        )
        self.n_peaks_box = widgets.Dropdown(
            options=PEAK_COUNT_OPTIONS, value=n_peaks, description="Peaks"
        )
        self.fit_button = widgets.Button(description="Fit", button_style="primary")
        self.fit_button.add_class("mi-fit-button")
        self.clear_button = widgets.Button(description="Clear peaks")
        self.upload = self.upload_button(".csv,.txt,.dat,.xy", "Upload spectrum", self.load_upload)
        self.table = widgets.HTML()
        self.status = widgets.HTML()
        self.source = widgets.HTML()  # which spectrum is shown (an upload's file name)
        self.source.add_class("mi-spectrum-source")
        self.on_click(self.fit_button, self.fit)
        self.on_click(self.clear_button, self.clear_peaks)
        self._build_figure()
        # data in place before wrapping: earlier changes never reach a page
        self.set_spectrum(x, y, name=name)
        self.pane = bokeh_pane(self.figure)

    def _controls(self) -> list[widgets.Widget]:
        help_text = widgets.HTML(
            _SMALL.format(
                "Click the spectrum to place a peak; click a marker to remove it. "
                "No markers: automatic starts for the chosen number of peaks "
                "(auto: the count with the lowest BIC)."
            )
        )
        return [
            help_text,
            self.shape_menu,
            self.background_menu,
            self.n_peaks_box,
            widgets.HBox([self.fit_button, self.clear_button]),
            self.upload,
            self.source,
            self.status,
            self.table,
        ]

    def _main(self) -> widgets.Widget:
        return self.pane

    # -- figure
    def _build_figure(self) -> None:
        fig = new_figure(
            "Spectrum", width=660, height=400, x_axis_label=self._x_label, y_axis_label="intensity"
        )
        self.data_source = ColumnDataSource({"x": [], "y": []})
        self.fit_source = ColumnDataSource({"x": [], "y": []})
        self.component_source = ColumnDataSource({"xs": [], "ys": [], "color": []})
        self.marker_source = ColumnDataSource({"x": [], "y": []})
        fig.scatter(
            "x", "y", source=self.data_source, size=3, color=DATA_COLOR, legend_label="data"
        )
        fig.multi_line("xs", "ys", source=self.component_source, color="color", line_width=2)
        fig.line(
            "x", "y", source=self.fit_source, color=MODEL_COLOR, line_width=2, legend_label="fit"
        )
        fig.scatter(
            "x",
            "y",
            source=self.marker_source,
            marker="inverted_triangle",
            size=16,
            color=OKABE_ITO[1],
            legend_label="start",
        )
        _legend_outside(fig)
        fig.on_event(Tap, self._on_tap)
        self.figure = fig

    def _on_tap(self, event: Any) -> None:
        self.run_action(lambda: self.toggle_at(_finite_float(event.x, "The clicked position")))

    # -- actions
    def set_spectrum(self, x: Any, y: Any, name: str | None = None) -> None:
        """Show a new spectrum; markers and the previous fit are cleared.

        ``name`` (a file name, say) is shown under the upload button, escaped.
        """
        x = check_finite_array(x, "x", ndim=1, min_size=3)
        y = check_finite_array(y, "y", ndim=1, min_size=3)
        if x.size != y.size:
            raise MIInputError(
                f"Lengths differ: x has {x.size}, y has {y.size}; give one value per point."
            )
        self.x, self.y = x, y
        self.picked = []
        self.result = None
        replace_data(self.data_source, x=x, y=y)
        replace_data(self.fit_source, x=[], y=[])
        replace_data(self.component_source, xs=[], ys=[], color=[])
        self.table.value = ""
        label = f"{html.escape(name)}: " if name else ""
        self.source.value = _SMALL.format(f"Spectrum: {label}{x.size} points.")
        self._draw_markers()

    def load_upload(self, uploaded: UploadedFile) -> None:
        """Read an uploaded two-column file and show it (the current spectrum stays on error)."""
        x, y = load_spectrum(uploaded.content, name=uploaded.name)
        self.set_spectrum(x, y, name=uploaded.name)

    def add_peak(self, x: float) -> None:
        """Place a starting centre at ``x`` (must be inside the spectrum)."""
        x = _finite_float(x, "The peak position")
        if not self.x[0] <= x <= self.x[-1]:
            raise MIInputError(
                f"The peak position {x:g} is outside the spectrum "
                f"({self.x[0]:g} to {self.x[-1]:g}); click inside it."
            )
        if len(self.picked) >= MAX_PEAKS:
            raise MIInputError(
                f"{MAX_PEAKS} starting peaks are placed already; remove one before adding more."
            )
        self.picked = sorted([*self.picked, x])
        self._draw_markers()

    def remove_peak(self, index: int) -> None:
        """Remove starting centre number ``index``."""
        if not 0 <= int(index) < len(self.picked):
            raise MIInputError(f"There is no starting peak number {index}.")
        del self.picked[int(index)]
        self._draw_markers()

    def toggle_at(self, x: float) -> None:
        """A click: remove the marker near ``x`` if there is one, else add one."""
        tolerance = 0.015 * (self.x[-1] - self.x[0])
        near = [i for i, c in enumerate(self.picked) if abs(c - x) < tolerance]
        if near:
            self.remove_peak(near[0])
        else:
            self.add_peak(x)

    def clear_peaks(self) -> None:
        """Remove every marker."""
        self.picked = []
        self._draw_markers()

    def fit(self) -> PeakFitResult:
        """Fit from the markers, or from automatic starts (count from the menu, or by BIC)."""
        n_peaks = len(self.picked) or self.n_peaks_box.value
        result = fit_peaks(
            self.x,
            self.y,
            n_peaks,
            shape=self.shape_menu.value,
            background=self.background_menu.value,
            init=self.picked or None,
            random_state=self.random_state,
        )
        self.result = result
        self._draw_fit()
        return result

    # -- drawing
    def _draw_markers(self) -> None:
        heights = np.interp(self.picked, self.x, self.y) if self.picked else []
        replace_data(self.marker_source, x=list(self.picked), y=list(heights))
        self.status.value = _SMALL.format(f"{len(self.picked)} starting peak(s) placed.")

    def _draw_fit(self) -> None:
        result = self.result
        replace_data(self.fit_source, x=self.x, y=result.model(self.x))
        replace_data(
            self.component_source, **_component_columns(self.x, result.params, result.peak_model)
        )
        self.table.value = _results_table(result, _unit_of(self._x_label))
