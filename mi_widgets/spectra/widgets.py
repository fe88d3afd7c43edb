"""Apps of the spectra labs: PeakPicker, EMPlayer (lab 02) and SpectralMapExplorer (lab 03).

Each is a :class:`mi_widgets.viz.app.LabApp`: its actions are methods (``add_peak``,
``fit``, ``step``, ``restart``, ``select``, ``cluster`` ...) that raise
:class:`MIInputError` on bad input when called from Python and show the sentence in
the banner when a button runs them. The state is readable (``result``, ``history``,
``frame``, ``phases``), so tests drive the apps without a browser. Callbacks call one
core function and redraw.
"""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as widgets
import numpy as np
from bokeh.events import Tap
from bokeh.layouts import column, row
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper, Span

from mi_widgets._errors import MIInputError, check_finite_array
from mi_widgets.spectra.batch import fit_many
from mi_widgets.spectra.io import MAX_APP_MAP_VALUES, load_spectra, load_spectrum
from mi_widgets.spectra.mapping import cluster_phases, compare_phases
from mi_widgets.spectra.results import MAX_PEAKS, BatchFitResult, PeakFitResult, PeakModel
from mi_widgets.spectra.single import fit_peaks, least_squares_from, random_start
from mi_widgets.viz import (
    OKABE_ITO,
    bokeh_pane,
    class_colors,
    new_figure,
    replace_data,
    style_legend,
)
from mi_widgets.viz.app import LabApp
from mi_widgets.viz.upload import UploadedFile

__all__ = ["EMPlayer", "PeakPicker", "SpectralMapExplorer"]

SHAPE_OPTIONS = [
    ("pseudo-Voigt", "pseudo_voigt"),
    ("Gaussian", "gaussian"),
    ("Lorentzian", "lorentzian"),
]
BACKGROUND_OPTIONS = [
    ("linear", "linear"),
    ("none", "none"),
    ("uniform", "uniform"),
    ("exponential", "exponential"),
    ("Shirley (binding energy)", "shirley"),
    ("Shirley (kinetic energy)", "shirley_kinetic"),
]
#: Peak counts offered when no markers are placed: "auto" picks the count by BIC.
PEAK_COUNT_OPTIONS = [("auto (BIC)", "auto"), *((str(n), n) for n in range(1, 11))]
DATA_COLOR = "#555555"
MODEL_COLOR = "#000000"
#: least squares in the player stops here, so a restart stays interactive
LSQ_MAX_EVALUATIONS = 300
LSQ_COLOR = OKABE_ITO[5]
_SMALL = "<div style='font-size:13px;line-height:1.5'>{}</div>"


def _peak_colors(n: int) -> list[str]:
    return class_colors(max(n, 1))[:n]


def _finite_float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MIInputError(f"{name} must be a number; got {value!r}.") from None
    if not math.isfinite(number):
        raise MIInputError(f"{name} must be finite; got {value!r}.")
    return number


def _component_columns(x: np.ndarray, params: np.ndarray, model: PeakModel) -> dict:
    """Multi-line columns: every peak on top of the background."""
    bg = model.background_curve(x, params)
    peaks = model.components(x, params) + bg
    return {"xs": [x] * model.n_peaks, "ys": list(peaks), "color": _peak_colors(model.n_peaks)}


#: Entries of the true-phase legend (phases beyond are drawn but not listed).
MAX_LEGEND_PHASES = 6


def _legend_outside(fig: Any) -> None:
    """Put the legend to the right of the plot so that it never covers data."""
    style_legend(fig)
    for legend in list(fig.legend):
        fig.center.remove(legend)
        legend.location = "top_left"
        fig.add_layout(legend, "right")


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


def _unit_of(label: str) -> str:
    """The unit in an axis label such as ``"binding energy (eV)"``."""
    if label.endswith(")") and "(" in label:
        return label[label.rindex("(") + 1 : -1]
    return ""


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
        self.on_click(self.fit_button, self.fit)
        self.on_click(self.clear_button, self.clear_peaks)
        self._build_figure()
        self.set_spectrum(x, y)  # data in place before wrapping: earlier changes never reach a page
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
    def set_spectrum(self, x: Any, y: Any) -> None:
        """Show a new spectrum; markers and the previous fit are cleared."""
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
        self._draw_markers()

    def load_upload(self, uploaded: UploadedFile) -> None:
        """Read an uploaded two-column file and show it (the current spectrum stays on error)."""
        x, y = load_spectrum(uploaded.content, name=uploaded.name)
        self.set_spectrum(x, y)

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


class EMPlayer(LabApp):
    """Step, play or scrub through EM iterations; least squares from the same start beside it.

    Parameters
    ----------
    x, y : array_like
        The spectrum.
    n_peaks : int
        Number of peaks.
    shape, background : str
        Model choices (see :func:`mi_widgets.spectra.fit_peaks`).
    init : sequence of float, optional
        Starting centres; default: a random start (seeded by ``random_state``).
    random_state : int, optional
        Seed of the first random start; "New random start" draws the next ones.
    max_iter : int, default 500
        Longest EM path recorded.
    x_label : str, default "x"
        Axis label of the spectrum.

    Examples
    --------
    >>> from mi_widgets.spectra import make_spectrum
    >>> x, y, _ = make_spectrum(2, random_state=0)
    >>> player = EMPlayer(x, y, 2, random_state=1)
    >>> player.step(); player.frame
    1
    """

    title = "Watch EM converge"
    controls_width = "330px"
    css_class = "mi-em-player"

    def __init__(
        self,
        x: Any,
        y: Any,
        n_peaks: int,
        *,
        shape: str = "pseudo_voigt",
        background: str = "linear",
        init: Any = None,
        random_state: int | None = 0,
        max_iter: int = 500,
        x_label: str = "x",
    ):
        super().__init__(random_state=random_state)
        self.x = check_finite_array(x, "x", ndim=1, min_size=3)
        self.y = check_finite_array(y, "y", ndim=1, min_size=3)
        self.peak_model = PeakModel(n_peaks, shape, background)
        self.n_peaks, self.shape, self.background = n_peaks, shape, background
        self.max_iter = max_iter
        self._x_label = str(x_label)
        self._rng = np.random.default_rng(random_state)
        self.result: PeakFitResult | None = None
        self.lsq_params: np.ndarray | None = None
        self.slider = widgets.IntSlider(
            value=0, min=0, max=1, description="Iteration", continuous_update=True
        )
        self.slider.add_class("mi-em-slider")
        self.play = widgets.Play(value=0, min=0, max=1, interval=120, description="Play")
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.step_button = widgets.Button(description="Step")
        self.step_button.add_class("mi-em-step")
        self.back_button = widgets.Button(description="Back")
        self.restart_button = widgets.Button(description="New random start")
        self.info = widgets.HTML()
        self.on_click(self.step_button, self.step)
        self.on_click(self.back_button, lambda: self.step(-1))
        self.on_click(self.restart_button, self.restart)
        self.slider.observe(self._on_slider, names="value")
        self._build_figures()
        self.restart(init)
        self.pane = bokeh_pane(self._root)

    def _controls(self) -> list[widgets.Widget]:
        return [
            widgets.HBox([self.play, self.step_button, self.back_button]),
            self.slider,
            self.restart_button,
            self.info,
        ]

    def _main(self) -> widgets.Widget:
        return self.pane

    def _build_figures(self) -> None:
        fig = new_figure(
            "EM iteration 0",
            width=660,
            height=330,
            x_axis_label=self._x_label,
            y_axis_label="intensity",
        )
        self.data_source = ColumnDataSource({"x": self.x, "y": self.y})
        self.model_source = ColumnDataSource({"x": [], "y": []})
        self.lsq_source = ColumnDataSource({"x": [], "y": []})
        self.component_source = ColumnDataSource({"xs": [], "ys": [], "color": []})
        fig.scatter(
            "x", "y", source=self.data_source, size=3, color=DATA_COLOR, legend_label="data"
        )
        fig.multi_line("xs", "ys", source=self.component_source, color="color", line_width=2)
        fig.line(
            "x",
            "y",
            source=self.model_source,
            color=MODEL_COLOR,
            line_width=2,
            legend_label="EM model",
        )
        fig.line(
            "x",
            "y",
            source=self.lsq_source,
            color=LSQ_COLOR,
            line_width=2,
            line_dash="dashed",
            legend_label="least squares",
        )
        _legend_outside(fig)
        residual = new_figure(
            "Residual (data - EM model)",
            width=660,
            height=150,
            x_range=fig.x_range,
            x_axis_label=self._x_label,
        )
        self.residual_source = ColumnDataSource({"x": [], "y": []})
        residual.scatter("x", "y", source=self.residual_source, size=2, color=DATA_COLOR)
        trace = new_figure("Log-likelihood", width=660, height=180, x_axis_label="EM iteration")
        self.trace_source = ColumnDataSource({"t": [], "loglik": []})
        trace.line("t", "loglik", source=self.trace_source, color=MODEL_COLOR, line_width=2)
        self.cursor = Span(location=0, dimension="height", line_color=OKABE_ITO[1], line_width=2)
        trace.add_layout(self.cursor)
        self.figure, self.trace_figure = fig, trace
        self._root = column(fig, residual, trace)

    @property
    def history(self):
        """The EM path being replayed (:class:`mi_widgets.spectra.EMHistory`)."""
        return None if self.result is None else self.result.history

    @property
    def frame(self) -> int:
        """The iteration shown."""
        return int(self.slider.value)

    def restart(self, init: Any = None) -> None:
        """Run EM from ``init`` (or a new random start), and least squares from the same start.

        The view goes back to iteration 0, also after Play ran to the end.
        """
        model = self.peak_model
        centres = init
        if centres is None:
            centres = random_start(self.x, model.n_peaks, random_state=self._rng)
        result = fit_peaks(
            self.x,
            self.y,
            model.n_peaks,
            shape=model.shape,
            background=model.background,
            init=centres,
            max_iter=self.max_iter,
            polish=False,
        )
        lsq_params = least_squares_from(
            self.x,
            self.y,
            result.history.params[0],
            model.n_peaks,
            shape=model.shape,
            background=model.background,
            max_nfev=LSQ_MAX_EVALUATIONS,
        )
        # Stop and rewind before the range changes: a shorter path would otherwise clamp the
        # value to its last iteration, and the browser's play <-> slider link echoes that back.
        self.play.playing = False
        self.result, self.lsq_params = result, lsq_params
        self.play.value = 0
        self.slider.value = 0
        last = result.history.n_frames - 1
        self.play.max = self.slider.max = last
        replace_data(self.trace_source, t=np.arange(last + 1), loglik=result.history.loglik)
        replace_data(self.lsq_source, x=self.x, y=self._curve(self.lsq_params))
        self._draw(0)

    def step(self, by: int = 1) -> None:
        """Move ``by`` iterations (negative goes back), clamped to the recorded path."""
        self.show_frame(self.frame + int(by))

    def show_frame(self, t: int) -> None:
        """Show iteration ``t`` (clamped to the recorded path)."""
        self.slider.value = int(np.clip(int(t), 0, self.slider.max))

    def _on_slider(self, change: Any) -> None:
        self.run_action(lambda: self._draw(int(np.clip(int(change["new"]), 0, self.slider.max))))

    def _curve(self, params: np.ndarray) -> np.ndarray:
        return self.peak_model.curve(self.x, params)

    def _draw(self, t: int) -> None:
        history = self.result.history
        t = min(t, history.n_frames - 1)
        params = history.params[t]
        em_curve = self._curve(params)
        replace_data(self.model_source, x=self.x, y=em_curve)
        replace_data(self.residual_source, x=self.x, y=self.y - em_curve)
        replace_data(self.component_source, **_component_columns(self.x, params, self.peak_model))
        self.cursor.location = t
        loglik = history.loglik[t]
        self.figure.title.text = f"EM iteration {t} of {history.n_frames - 1}"
        em_rss = float(np.sum((self.y - em_curve) ** 2))
        lsq_rss = float(np.sum((self.y - self._curve(self.lsq_params)) ** 2))
        k = self.peak_model.n_peaks
        em_c = ", ".join(f"{c:.3g}" for c in np.sort(params[: 4 * k : 4]))
        lsq_c = ", ".join(f"{c:.3g}" for c in self.lsq_params[: 4 * k : 4])
        self.info.value = _SMALL.format(
            f"log-likelihood {loglik:.6g}<br>EM centres: {html.escape(em_c)} "
            f"(RSS {em_rss:.4g})<br><span style='color:{LSQ_COLOR}'>least squares from the "
            f"same start (at most {LSQ_MAX_EVALUATIONS} evaluations): "
            f"{html.escape(lsq_c)} (RSS {lsq_rss:.4g})</span>"
        )


class SpectralMapExplorer(LabApp):
    """A map of any fitted parameter; click a pixel to see its spectrum and fit; cluster phases.

    Parameters
    ----------
    x : array_like, shape (C,)
        Common axis.
    spectra : array_like, shape (ny, nx, C)
        The spectral image (a stack (n, C) is shown as one row).
    n_peaks : int
        Peaks fitted per pixel (the menus change it for the next fit).
    shape, background : str
        Model choices.
    fit : bool, default True
        Fit every pixel at once (else press "Fit all spectra").
    truth : array_like of int, shape (ny, nx), optional
        Known phase labels (synthetic data): shown beside the clustering, which is
        then scored against them.
    client : dask.distributed.Client, optional
        Run the batch fit on a Dask cluster.
    random_state : int, optional
        Seed of the mean-spectrum fit and of k-means.
    x_label : str, default "energy (eV)"
        Axis label of the spectra.

    Examples
    --------
    >>> from mi_widgets.spectra import make_spectral_image
    >>> image = make_spectral_image(4, 5, random_state=0)
    >>> explorer = SpectralMapExplorer(image.x, image.spectra, 2)
    >>> explorer.select(1, 2); explorer.selected
    (1, 2)
    """

    title = "Spectral map"
    controls_width = "320px"
    css_class = "mi-map-explorer"

    def __init__(
        self,
        x: Any,
        spectra: Any,
        n_peaks: int,
        *,
        shape: str = "pseudo_voigt",
        background: str = "linear",
        fit: bool = True,
        truth: Any = None,
        client: Any = None,
        random_state: int | None = 0,
        x_label: str = "energy (eV)",
    ):
        super().__init__(random_state=random_state)
        model = PeakModel(n_peaks, shape, background)
        self.client = client
        self._x_label = str(x_label)
        self.result: BatchFitResult | None = None
        self.phases: np.ndarray | None = None
        self.truth: np.ndarray | None = None
        self.selected = (0, 0)
        self.n_peaks_menu = widgets.Dropdown(
            options=list(range(1, 7)), value=model.n_peaks, description="Peaks"
        )
        self.shape_menu = widgets.Dropdown(options=SHAPE_OPTIONS, value=shape, description="Shape")
        self.background_menu = widgets.Dropdown(
            options=BACKGROUND_OPTIONS, value=background, description="Background"
        )
        self.parameter_menu = widgets.Dropdown(description="Map of", options=[("total", "total")])
        self._menu_quiet = False
        self.on_change(self.parameter_menu, self._on_parameter_menu)
        self.phase_slider = widgets.IntSlider(value=3, min=1, max=8, description="Phases")
        self.cluster_button = widgets.Button(description="Cluster into phases")
        self.on_click(self.cluster_button, lambda: self.cluster(self.phase_slider.value))
        self.run_button = widgets.Button(description="Fit all spectra", button_style="primary")
        self.on_click(self.run_button, self.run, background=True)
        self.upload = self.upload_button(".npz,.csv,.txt", "Upload stack", self.load_upload)
        self.info = widgets.HTML()
        self.phase_legend = widgets.HTML()
        self.phase_legend.add_class("mi-phase-legend")
        self.pixel_label = widgets.HTML()
        self.pixel_label.add_class("mi-pixel-label")
        self._build_figures(truth is not None)
        self.set_spectra(x, spectra, fit=fit, truth=truth)
        self.pane = bokeh_pane(self._root)

    @property
    def peak_model(self) -> PeakModel:
        """The model the menus describe (used by the next fit)."""
        return PeakModel(self.n_peaks_menu.value, self.shape_menu.value, self.background_menu.value)

    @property
    def n_peaks(self) -> int:
        """Peaks of the current fit (or of the menus, before a fit)."""
        return self.result.n_peaks if self.result is not None else self.n_peaks_menu.value

    def _controls(self) -> list[widgets.Widget]:
        return [
            self.n_peaks_menu,
            self.shape_menu,
            self.background_menu,
            self.run_button,
            self.parameter_menu,
            self.phase_slider,
            self.cluster_button,
            self.upload,
            self.info,
            self.pixel_label,
        ]

    def _main(self) -> widgets.Widget:
        return widgets.VBox([self.pane, self.phase_legend])

    def _parameter_options(self) -> list[tuple[str, str]]:
        options = [("total counts", "total")]
        for k in range(self.n_peaks if self.result is not None else 0):
            options += [
                (f"{name} of peak {k + 1}", f"{name}:{k}")
                for name in ("center", "area", "fwhm", "eta")
            ]
        if self.phases is not None:
            options.append(("phase (clusters)", "phase"))
        return options

    def _map_figure(self, title: str, mapper: LinearColorMapper, source: ColumnDataSource):
        fig = new_figure(
            title,
            width=340,
            height=330,
            tools="tap,reset,save",
            match_aspect=True,
            x_axis_label="column (pixel)",
            y_axis_label="row (pixel)",
        )
        fig.x_range.range_padding = fig.y_range.range_padding = 0
        fig.image("image", x=0, y=0, dw="dw", dh="dh", source=source, color_mapper=mapper)
        return fig

    def _build_figures(self, with_truth: bool) -> None:
        self.mapper = LinearColorMapper(palette="Viridis256")
        self.image_source = ColumnDataSource({"image": [np.zeros((1, 1))], "dw": [1], "dh": [1]})
        self.map_figure = self._map_figure("Map", self.mapper, self.image_source)
        self.color_bar = ColorBar(color_mapper=self.mapper, width=12, label_standoff=6)
        self.map_figure.add_layout(self.color_bar, "right")
        self.pixel_source = ColumnDataSource({"x": [0.5], "y": [0.5]})
        self.map_figure.scatter(
            "x",
            "y",
            source=self.pixel_source,
            marker="square",
            size=12,
            fill_alpha=0,
            line_color="white",
            line_width=2,
        )
        self.map_figure.on_event(Tap, self._on_tap)
        maps = [self.map_figure]
        self.truth_figure = None
        if with_truth:
            self.truth_mapper = LinearColorMapper(palette=class_colors(3), low=-0.5, high=2.5)
            self.truth_source = ColumnDataSource(
                {"image": [np.zeros((1, 1))], "dw": [1], "dh": [1]}
            )
            self.truth_figure = self._map_figure(
                "True phases", self.truth_mapper, self.truth_source
            )
            self.truth_figure.x_range = self.map_figure.x_range
            self.truth_figure.y_range = self.map_figure.y_range
            self._truth_legend(MAX_LEGEND_PHASES)
            maps.append(self.truth_figure)
        spec = new_figure(
            "Pixel (0, 0)",
            width=680,
            height=300,
            x_axis_label=self._x_label,
            y_axis_label="counts",
        )
        self.data_source = ColumnDataSource({"x": [], "y": []})
        self.fit_source = ColumnDataSource({"x": [], "y": []})
        self.component_source = ColumnDataSource({"xs": [], "ys": [], "color": []})
        spec.scatter(
            "x", "y", source=self.data_source, size=3, color=DATA_COLOR, legend_label="data"
        )
        spec.multi_line("xs", "ys", source=self.component_source, color="color", line_width=2)
        spec.line(
            "x", "y", source=self.fit_source, color=MODEL_COLOR, line_width=2, legend_label="fit"
        )
        _legend_outside(spec)
        self.spectrum_figure = spec
        self._root = column(row(*maps), spec)

    def _truth_legend(self, n: int) -> None:
        """One legend entry per true phase, beside the map (entries past the count hidden)."""
        empty = ColumnDataSource({"x": [np.nan], "y": [np.nan]})  # a swatch, no mark on the map
        for k, colour in enumerate(class_colors(n)):
            self.truth_figure.scatter(
                "x", "y", source=empty, marker="square", size=12, color=colour,
                legend_label=f"phase {k + 1}",
            )  # fmt: skip
        _legend_outside(self.truth_figure)
        for k, item in enumerate(self.truth_figure.legend[0].items):
            item.visible = k < 3  # the map starts with three phases

    # -- actions
    def set_spectra(
        self, x: Any, spectra: Any, *, fit: bool = True, truth: Any = None
    ) -> BatchFitResult | None:
        """Show a new spectral image (ny, nx, C) or stack (n, C), optionally fitting it.

        Everything is checked (and fitted) before the app changes, so a bad map leaves
        the previous one in place.
        """
        x = check_finite_array(x, "x", ndim=1, min_size=3)
        spectra = check_finite_array(spectra, "spectra", ndim=(2, 3))
        if spectra.ndim == 2:
            spectra = spectra[None, :, :]
        if spectra.shape[-1] != x.size:
            raise MIInputError(
                f"spectra have {spectra.shape[-1]} channels but x has {x.size}; they must match."
            )
        ny, nx, c = spectra.shape
        if spectra.size > MAX_APP_MAP_VALUES:
            raise MIInputError(
                f"The map has {ny} x {nx} pixels x {c} channels = {spectra.size:,} values; the "
                f"app fits at most {MAX_APP_MAP_VALUES:,}: crop or bin it, or call fit_many "
                "in a notebook."
            )
        if truth is not None:
            truth = np.asarray(truth)
            if truth.shape != (ny, nx) or not np.issubdtype(truth.dtype, np.integer):
                raise MIInputError(
                    f"truth must be whole-number phase labels of shape ({ny}, {nx}); "
                    f"got shape {truth.shape}."
                )
        result = self._fit(x, spectra) if fit else None
        self.x, self.spectra, self.truth = x, spectra, truth
        self.result, self.phases = result, None
        self._after_new_result()
        self.select(0, 0)
        if truth is not None and self.truth_figure is not None:
            n = int(truth.max()) + 1
            self.truth_mapper.palette = class_colors(max(n, 1))
            self.truth_mapper.low, self.truth_mapper.high = -0.5, n - 0.5
            replace_data(self.truth_source, image=[truth.astype(float)], dw=[nx], dh=[ny])
            for k, item in enumerate(self.truth_figure.legend[0].items):
                item.visible = k < n
        return result

    def load_upload(self, uploaded: UploadedFile) -> None:
        """Read and fit an uploaded stack; the previous map stays if anything fails."""
        x, spectra = load_spectra(
            uploaded.content, name=uploaded.name, max_values=MAX_APP_MAP_VALUES
        )
        self.set_spectra(x, spectra, fit=True)

    def _fit(self, x: np.ndarray, spectra: np.ndarray) -> BatchFitResult:
        ny, nx, c = spectra.shape
        model = self.peak_model
        with self.progress_shown("Fitting") as progress:
            return fit_many(
                x,
                spectra.reshape(ny * nx, c),
                model.n_peaks,
                shape=model.shape,
                background=model.background,
                client=self.client,
                progress=progress,
                random_state=self.random_state,
            )

    def run(self) -> BatchFitResult:
        """Fit every pixel with the model in the menus (progress bar)."""
        result = self._fit(self.x, self.spectra)
        self.result, self.phases = result, None
        self._after_new_result()
        self.select(*self.selected)
        return result

    def _on_parameter_menu(self, name: str) -> None:
        if not self._menu_quiet:
            self.show_parameter(name)

    def _set_menu(self, name: str) -> None:
        """Offer the maps that exist now and show ``name``."""
        self._menu_quiet = True
        try:
            self.parameter_menu.options = self._parameter_options()
            self.parameter_menu.value = name
        finally:
            self._menu_quiet = False
        self.show_parameter(name)

    def _after_new_result(self) -> None:
        self._set_menu("center:0" if self.result is not None else "total")
        ny, nx, _ = self.spectra.shape
        if self.result is None:
            self.info.value = _SMALL.format(
                f"{ny} x {nx} pixels, not fitted yet: press 'Fit all spectra'."
            )
        else:
            self.info.value = _SMALL.format(
                f"Fitted {ny * nx} spectra: {html.escape(self.result.peak_model.describe())}."
            )
        self.phase_legend.value = ""

    def cluster(self, n_phases: int) -> np.ndarray:
        """Cluster the pixels into ``n_phases`` phases by their fitted peaks; show the phases."""
        if self.result is None:
            raise MIInputError("Fit the spectra first (press 'Fit all spectra'), then cluster.")
        ny, nx, _ = self.spectra.shape
        labels = cluster_phases(self.result, int(n_phases), random_state=self.random_state)
        self.phases = labels.reshape(ny, nx)
        self._set_menu("phase")
        swatches = " ".join(
            f"<span style='display:inline-block;width:14px;height:14px;background:{c};"
            f"vertical-align:middle;margin-right:4px'></span>phase {k + 1}"
            for k, c in enumerate(class_colors(int(n_phases)))
        )
        score = ""
        if self.truth is not None:
            agreement = compare_phases(labels, self.truth.ravel())
            score = (
                f"<br>against the true phases: adjusted Rand index "
                f"{agreement.adjusted_rand:.3f}, pixels matched {agreement.matched:.1%}"
            )
        self.phase_legend.value = _SMALL.format(f"{swatches}{score}")
        return self.phases

    def parameter_map(self, name: str) -> np.ndarray:
        """The (ny, nx) map of ``"total"``, ``"phase"`` or ``"<center|area|fwhm|eta>:<k>"``."""
        ny, nx, _ = self.spectra.shape
        if name == "total":
            return self.spectra.sum(axis=2)
        if name == "phase":
            if self.phases is None:
                raise MIInputError("No phases yet: press 'Cluster into phases'.")
            return self.phases.astype(float)
        quantity, _, k = str(name).partition(":")
        if (
            quantity not in ("center", "area", "fwhm", "eta")
            or not k.isdigit()
            or int(k) >= self.n_peaks
        ):
            raise MIInputError(f"Unknown map {name!r}; choose one from the menu.")
        if self.result is None:
            raise MIInputError("Fit the spectra first (press 'Fit all spectra').")
        return getattr(self.result, quantity)[:, int(k)].reshape(ny, nx)

    def show_parameter(self, name: str) -> None:
        """Colour the map by a parameter (see :meth:`parameter_map`)."""
        image = self.parameter_map(name)
        ny, nx = image.shape
        if name == "phase":
            n = int(image.max()) + 1
            self.mapper.palette = class_colors(n)
            self.mapper.low, self.mapper.high = -0.5, n - 0.5
        else:
            self.mapper.palette = "Viridis256"
            low, high = np.percentile(image, [1, 99])
            self.mapper.low, self.mapper.high = float(low), float(max(high, low + 1e-12))
        self.color_bar.title = self._label(name)
        replace_data(self.image_source, image=[image], dw=[nx], dh=[ny])
        self.map_figure.title.text = f"Map: {self._label(name)}"

    def _label(self, name: str) -> str:
        unit = _unit_of(self._x_label)
        quantity = str(name).partition(":")[0]
        suffix = f" ({unit})" if unit and quantity in ("center", "fwhm") else ""
        for text, value in self.parameter_menu.options:
            if value == name:
                return text + suffix
        return str(name)

    def select(self, row: int, col: int) -> None:
        """Show the spectrum and fit of pixel (row, col)."""
        ny, nx, _ = self.spectra.shape
        row, col = int(row), int(col)
        if not (0 <= row < ny and 0 <= col < nx):
            raise MIInputError(f"Pixel ({row}, {col}) is outside the {ny} x {nx} map.")
        self.selected = (row, col)
        y = self.spectra[row, col]
        replace_data(self.data_source, x=self.x, y=y)
        replace_data(self.pixel_source, x=[col + 0.5], y=[row + 0.5])
        title = f"Pixel ({row}, {col})"
        if self.result is not None:
            index = row * nx + col
            params = self.result.params[index]
            replace_data(self.fit_source, x=self.x, y=self.result.model(index))
            replace_data(
                self.component_source,
                **_component_columns(self.x, params, self.result.peak_model),
            )
            centres = ", ".join(f"{c:.4g}" for c in self.result.center[index])
            title += f": centres {centres}"
            if _unit_of(self._x_label):
                title += f" {_unit_of(self._x_label)}"
        else:
            replace_data(self.fit_source, x=[], y=[])
            replace_data(self.component_source, xs=[], ys=[], color=[])
        self.spectrum_figure.title.text = title
        self.pixel_label.value = _SMALL.format(html.escape(title))

    def _on_tap(self, event: Any) -> None:
        def tap() -> None:
            col = math.floor(_finite_float(event.x, "The clicked column"))
            row = math.floor(_finite_float(event.y, "The clicked row"))
            self.select(row, col)

        self.run_action(tap)
