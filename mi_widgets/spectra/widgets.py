"""Widgets for the spectra labs: PeakPicker, EMPlayer, SpectralMapExplorer.

Each action is a method (``add_peak``, ``fit``, ``step``, ``select`` ...) and
the state is readable (``result``, ``history``, ``frame``), so tests drive
the widgets from Python. Callbacks call one core function and redraw.
"""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as widgets
import numpy as np
from bokeh.events import Tap
from bokeh.models import ColumnDataSource, LinearColorMapper, Span

from mi_widgets._errors import MIInputError, check_finite_array
from mi_widgets.spectra import model as pm
from mi_widgets.spectra.batch import fit_many
from mi_widgets.spectra.io import load_spectra, load_spectrum
from mi_widgets.spectra.mapping import cluster_phases
from mi_widgets.spectra.results import BatchFitResult, PeakFitResult
from mi_widgets.spectra.single import fit_peaks, least_squares_from, random_start
from mi_widgets.viz import (
    OKABE_ITO,
    ErrorBanner,
    bokeh_pane,
    class_colors,
    lab_layout,
    new_figure,
    read_upload,
    replace_data,
    style_legend,
    upload_button,
)

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
    ("Shirley", "shirley"),
]
DATA_COLOR = "#555555"
MODEL_COLOR = "#000000"
#: least squares in the player stops here, so a restart stays interactive
LSQ_MAX_EVALUATIONS = 300
LSQ_COLOR = OKABE_ITO[5] if len(OKABE_ITO) > 5 else "#D55E00"


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


def _component_columns(x: np.ndarray, params: np.ndarray, n_peaks: int, background: str) -> dict:
    """Multi-line columns: every peak on top of the background."""
    bg = pm.background_curve(x, params, n_peaks, background)
    peaks = pm.peak_components(x, params, n_peaks) + bg
    return {"xs": [x] * n_peaks, "ys": list(peaks), "color": _peak_colors(n_peaks)}


def _results_table(result: PeakFitResult) -> str:
    rows = "".join(
        f"<tr><td>{k + 1}</td><td>{r['center']:.4g} ± {r['center_err']:.2g}</td>"
        f"<td>{r['fwhm']:.3g} ± {r['fwhm_err']:.2g}</td>"
        f"<td>{r['area']:.4g} ± {r['area_err']:.2g}</td>"
        f"<td>{r['eta']:.2f}</td></tr>"
        for k, r in enumerate(result.peaks.rows())
    )
    return (
        "<table style='font-size:13px;border-collapse:collapse' class='mi-peak-table'>"
        "<tr><th>#</th><th>centre</th><th>FWHM</th><th>area</th><th>η</th></tr>"
        f"{rows}</table><div style='font-size:13px'>EM iterations {result.n_iter}, "
        f"BIC {result.bic:.1f}</div>"
    )


class PeakPicker(widgets.VBox):
    """Click on a spectrum to place starting peak centres, then Fit.

    Clicking near an existing marker removes it. With no markers, Fit uses
    automatic starts for ``n_peaks`` peaks.

    Parameters
    ----------
    x, y : array_like
        The spectrum.
    shape, background : str
        Initial model choices (see :func:`mi_widgets.spectra.fit_peaks`).
    n_peaks : int, default 3
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

    def __init__(
        self,
        x: Any,
        y: Any,
        *,
        shape: str = "pseudo_voigt",
        background: str = "linear",
        n_peaks: int = 3,
        random_state: int | None = 0,
        x_label: str = "x",
    ):
        self.banner = ErrorBanner()
        self.result: PeakFitResult | None = None
        self.picked: list[float] = []
        self._x_label = x_label
        self._random_state = random_state
        self.shape_menu = widgets.Dropdown(options=SHAPE_OPTIONS, value=shape, description="Shape")
        self.background_menu = widgets.Dropdown(
            options=BACKGROUND_OPTIONS, value=background, description="Background"
        )
        self.n_peaks_box = widgets.BoundedIntText(
            value=n_peaks, min=1, max=10, description="Auto peaks"
        )
        self.fit_button = widgets.Button(description="Fit", button_style="primary")
        self.fit_button.add_class("mi-fit-button")
        self.clear_button = widgets.Button(description="Clear peaks")
        self.upload = upload_button(accept=".csv,.txt,.dat,.xy", description="Upload spectrum")
        self.table = widgets.HTML()
        self.status = widgets.HTML()
        self.fit_button.on_click(lambda _: self.fit())
        self.clear_button.on_click(lambda _: self.clear_peaks())
        self.upload.observe(self._on_upload, names="value")
        self._build_figure()
        self.set_spectrum(x, y)  # data in place before wrapping: earlier changes never reach a page
        self.pane = bokeh_pane(self.figure)
        help_text = widgets.HTML(
            "<div style='font-size:13px'>Click the spectrum to place a peak; "
            "click a marker to remove it. No markers: automatic starts.</div>"
        )
        controls = [
            help_text,
            self.shape_menu,
            self.background_menu,
            self.n_peaks_box,
            widgets.HBox([self.fit_button, self.clear_button]),
            self.upload,
            self.status,
            self.table,
        ]
        app = lab_layout(
            "Pick peaks and fit", controls, self.pane, banner=self.banner, controls_width="330px"
        )
        super().__init__([app])
        self.add_class("mi-peak-picker")

    # -- figure
    def _build_figure(self) -> None:
        fig = new_figure(
            "Spectrum", width=640, height=400, x_axis_label=self._x_label, y_axis_label="intensity"
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
        style_legend(fig)
        fig.on_event(Tap, self._on_tap)
        self.figure = fig

    def _on_tap(self, event: Any) -> None:
        with self.banner.catching():
            self.toggle_at(_finite_float(event.x, "The clicked position"))

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

    def add_peak(self, x: float) -> None:
        """Place a starting centre at ``x`` (must be inside the spectrum)."""
        x = _finite_float(x, "The peak position")
        if not self.x[0] <= x <= self.x[-1]:
            raise MIInputError(
                f"The peak position {x:g} is outside the spectrum "
                f"({self.x[0]:g} to {self.x[-1]:g}); click inside it."
            )
        self.picked = sorted([*self.picked, x])
        self._draw_markers()

    def remove_peak(self, index: int) -> None:
        """Remove starting centre number ``index``."""
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

    def fit(self) -> PeakFitResult | None:
        """Fit from the markers (or automatic starts); keeps the previous fit on bad input."""
        with self.banner.catching():
            n_peaks = len(self.picked) or int(self.n_peaks_box.value)
            self.result = fit_peaks(
                self.x,
                self.y,
                n_peaks,
                shape=self.shape_menu.value,
                background=self.background_menu.value,
                init=self.picked or None,
                random_state=self._random_state,
            )
            self._draw_fit()
        return self.result

    # -- drawing
    def _draw_markers(self) -> None:
        heights = np.interp(self.picked, self.x, self.y) if self.picked else []
        replace_data(self.marker_source, x=list(self.picked), y=list(heights))
        self.status.value = (
            f"<div style='font-size:13px'>{len(self.picked)} starting peak(s) placed.</div>"
        )

    def _draw_fit(self) -> None:
        result = self.result
        replace_data(self.fit_source, x=self.x, y=result.model(self.x))
        replace_data(
            self.component_source,
            **_component_columns(self.x, result.params, result.n_peaks, result.background_kind),
        )
        self.table.value = _results_table(result)

    def _on_upload(self, change: Any) -> None:
        with self.banner.catching():
            uploaded = read_upload(self.upload)
            if uploaded is None:
                return
            x, y = load_spectrum(uploaded.content, name=uploaded.name)
            self.set_spectrum(x, y)


class EMPlayer(widgets.VBox):
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

    Examples
    --------
    >>> from mi_widgets.spectra import make_spectrum
    >>> x, y, _ = make_spectrum(2, random_state=0)
    >>> player = EMPlayer(x, y, 2, random_state=1)
    >>> player.step(); player.frame
    1
    """

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
    ):
        self.x = check_finite_array(x, "x", ndim=1, min_size=3)
        self.y = check_finite_array(y, "y", ndim=1, min_size=3)
        self.n_peaks, self.shape, self.background = n_peaks, shape, background
        self.max_iter = max_iter
        self._rng = np.random.default_rng(random_state)
        self.banner = ErrorBanner()
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
        self.step_button.on_click(lambda _: self.step())
        self.back_button.on_click(lambda _: self.step(-1))
        self.restart_button.on_click(lambda _: self.restart())
        self.slider.observe(self._on_slider, names="value")
        self._build_figures()
        with self.banner.catching():
            self.restart(init)
        self.pane = bokeh_pane(self._root)
        controls = [
            widgets.HBox([self.play, self.step_button, self.back_button]),
            self.slider,
            self.restart_button,
            self.info,
        ]
        main = widgets.VBox([self.pane])
        app = lab_layout(
            "Watch EM converge", controls, main, banner=self.banner, controls_width="330px"
        )
        super().__init__([app])
        self.add_class("mi-em-player")

    def _build_figures(self) -> None:
        from bokeh.layouts import column

        fig = new_figure(
            "EM iteration 0", width=640, height=330, x_axis_label="x", y_axis_label="intensity"
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
            legend_label="least squares, same start",
        )
        style_legend(fig)
        residual = new_figure(
            "Residual (data - EM model)", width=640, height=150, x_range=fig.x_range
        )
        self.residual_source = ColumnDataSource({"x": [], "y": []})
        residual.scatter("x", "y", source=self.residual_source, size=2, color=DATA_COLOR)
        trace = new_figure("Log-likelihood", width=640, height=180, x_axis_label="iteration")
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
        """Run EM from ``init`` (or a new random start), and least squares from the same start."""
        centres = (
            random_start(self.x, self.n_peaks, random_state=self._rng) if init is None else init
        )
        self.info.value = "<div style='font-size:13px'>Running EM and least squares ...</div>"
        result = fit_peaks(
            self.x,
            self.y,
            self.n_peaks,
            shape=self.shape,
            background=self.background,
            init=centres,
            max_iter=self.max_iter,
            polish=False,
        )
        self.lsq_params = least_squares_from(
            self.x,
            self.y,
            result.history.params[0],
            self.n_peaks,
            shape=self.shape,
            background=self.background,
            max_nfev=LSQ_MAX_EVALUATIONS,
        )
        self.result = result
        last = result.history.n_frames - 1
        replace_data(self.trace_source, t=np.arange(last + 1), loglik=result.history.loglik)
        replace_data(self.lsq_source, x=self.x, y=self._curve(self.lsq_params))
        self.play.max = self.slider.max = last
        if self.slider.value == 0:
            self._draw(0)
        self.slider.value = self.play.value = 0

    def step(self, by: int = 1) -> None:
        """Move ``by`` iterations (negative goes back), clamped to the recorded path."""
        self.show_frame(self.frame + int(by))

    def show_frame(self, t: int) -> None:
        """Show iteration ``t``."""
        self.slider.value = int(np.clip(t, 0, self.slider.max))

    def _on_slider(self, change: Any) -> None:
        with self.banner.catching():
            self._draw(int(np.clip(int(change["new"]), 0, self.slider.max)))

    def _curve(self, params: np.ndarray) -> np.ndarray:
        return pm.model(self.x, params, self.n_peaks, self.background)

    def _draw(self, t: int) -> None:
        params = self.result.history.params[t]
        em_curve = self._curve(params)
        replace_data(self.model_source, x=self.x, y=em_curve)
        replace_data(self.residual_source, x=self.x, y=self.y - em_curve)
        replace_data(
            self.component_source,
            **_component_columns(self.x, params, self.n_peaks, self.background),
        )
        self.cursor.location = t
        loglik = self.result.history.loglik[t]
        self.figure.title.text = f"EM iteration {t} of {self.slider.max}"
        em_rss = float(np.sum((self.y - em_curve) ** 2))
        lsq_rss = float(np.sum((self.y - self._curve(self.lsq_params)) ** 2))
        em_c = ", ".join(f"{c:.3g}" for c in np.sort(params[: 4 * self.n_peaks : 4]))
        lsq_c = ", ".join(f"{c:.3g}" for c in self.lsq_params[: 4 * self.n_peaks : 4])
        self.info.value = (
            "<div style='font-size:13px;line-height:1.5'>"
            f"log-likelihood {loglik:.6g}<br>EM centres: {html.escape(em_c)} (RSS {em_rss:.4g})<br>"
            f"<span style='color:{LSQ_COLOR}'>least squares from the same start "
            f"(at most {LSQ_MAX_EVALUATIONS} evaluations): "
            f"{html.escape(lsq_c)} (RSS {lsq_rss:.4g})</span></div>"
        )


class SpectralMapExplorer(widgets.VBox):
    """A map of any fitted parameter; click a pixel to see its spectrum and fit; cluster phases.

    Parameters
    ----------
    x : array_like, shape (C,)
        Common axis.
    spectra : array_like, shape (ny, nx, C)
        The spectral image.
    n_peaks : int
        Peaks fitted per pixel.
    shape, background : str
        Model choices.
    fit : bool, default True
        Fit every pixel at once (else press "Fit all spectra").
    client : dask.distributed.Client, optional
        Run the batch fit on a Dask cluster.

    Examples
    --------
    >>> from mi_widgets.spectra import make_spectral_image
    >>> image = make_spectral_image(4, 5, random_state=0)
    >>> explorer = SpectralMapExplorer(image.x, image.spectra, 2)
    >>> explorer.select(1, 2); explorer.selected
    (1, 2)
    """

    def __init__(
        self,
        x: Any,
        spectra: Any,
        n_peaks: int,
        *,
        shape: str = "pseudo_voigt",
        background: str = "linear",
        fit: bool = True,
        client: Any = None,
        random_state: int | None = 0,
    ):
        self.n_peaks, self.shape, self.background = n_peaks, shape, background
        self.client, self._random_state = client, random_state
        self.banner = ErrorBanner()
        self.result: BatchFitResult | None = None
        self.phases: np.ndarray | None = None
        self.selected = (0, 0)
        self.parameter_menu = widgets.Dropdown(
            description="Map of", options=self._parameter_options()
        )
        self.parameter_menu.observe(
            lambda _: self.show_parameter(self.parameter_menu.value), names="value"
        )
        self.phase_slider = widgets.IntSlider(value=3, min=1, max=8, description="Phases")
        self.cluster_button = widgets.Button(description="Cluster into phases")
        self.cluster_button.on_click(lambda _: self.cluster(self.phase_slider.value))
        self.run_button = widgets.Button(description="Fit all spectra", button_style="primary")
        self.run_button.on_click(lambda _: self.run())
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Fitting")
        self.upload = upload_button(accept=".npz,.csv,.txt", description="Upload stack")
        self.upload.observe(self._on_upload, names="value")
        self.info = widgets.HTML()
        self.pixel_label = widgets.HTML()
        self.pixel_label.add_class("mi-pixel-label")
        self._build_figures()
        self.set_spectra(x, spectra, fit=fit)
        self.pane = bokeh_pane(self._root)
        controls = [
            self.run_button,
            self.progress,
            self.parameter_menu,
            widgets.HBox([self.phase_slider]),
            self.cluster_button,
            self.upload,
            self.info,
            self.pixel_label,
        ]
        main = widgets.HBox([self.pane])
        app = lab_layout("Spectral map", controls, main, banner=self.banner, controls_width="320px")
        super().__init__([app])
        self.add_class("mi-map-explorer")

    def _parameter_options(self) -> list[tuple[str, str]]:
        options = [("total counts", "total")]
        for k in range(self.n_peaks):
            options += [
                (f"{name} of peak {k + 1}", f"{name}:{k}")
                for name in ("center", "area", "fwhm", "eta")
            ]
        return [*options, ("phase (clusters)", "phase")]

    def _build_figures(self) -> None:
        self.map_figure = new_figure(
            "Map", width=400, height=400, tools="tap,reset,save", match_aspect=True
        )
        self.map_figure.x_range.range_padding = self.map_figure.y_range.range_padding = 0
        self.mapper = LinearColorMapper(palette="Viridis256")
        self.image_source = ColumnDataSource({"image": [np.zeros((1, 1))], "dw": [1], "dh": [1]})
        self.map_figure.image(
            "image", x=0, y=0, dw="dw", dh="dh", source=self.image_source, color_mapper=self.mapper
        )
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
        spec = new_figure(
            "Pixel (0, 0)", width=520, height=400, x_axis_label="energy", y_axis_label="counts"
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
        style_legend(spec)
        self.spectrum_figure = spec
        from bokeh.layouts import row

        self._root = row(self.map_figure, spec)

    # -- actions
    def set_spectra(self, x: Any, spectra: Any, *, fit: bool = True) -> None:
        """Show a new spectral image (ny, nx, C) or stack (n, C), optionally fitting it."""
        x = check_finite_array(x, "x", ndim=1, min_size=3)
        spectra = check_finite_array(spectra, "spectra", ndim=(2, 3))
        if spectra.ndim == 2:
            spectra = spectra[None, :, :]
        if spectra.shape[-1] != x.size:
            raise MIInputError(
                f"spectra have {spectra.shape[-1]} channels but x has {x.size}; they must match."
            )
        self.x, self.spectra = x, spectra
        self.result, self.phases = None, None
        self.parameter_menu.value = "total"
        self.show_parameter("total")
        self.select(0, 0)
        if fit:
            self.run()

    def run(self) -> BatchFitResult | None:
        """Fit every pixel (progress bar); keeps the previous result on bad input."""
        with self.banner.catching():
            ny, nx, c = self.spectra.shape
            self.progress.value = 0

            def report(done: int, total: int) -> None:
                self.progress.max = total
                self.progress.value = done

            self.result = fit_many(
                self.x,
                self.spectra.reshape(ny * nx, c),
                self.n_peaks,
                shape=self.shape,
                background=self.background,
                client=self.client,
                progress=report,
                random_state=self._random_state,
            )
            self.info.value = f"<div style='font-size:13px'>Fitted {ny * nx} spectra.</div>"
            if self.parameter_menu.value == "total":
                self.parameter_menu.value = "center:0"
            self.show_parameter(self.parameter_menu.value)
            self.select(*self.selected)
        return self.result

    def cluster(self, n_phases: int) -> np.ndarray | None:
        """Cluster the pixels into ``n_phases`` phases by their fitted peaks; show the phases."""
        with self.banner.catching():
            if self.result is None:
                raise MIInputError("Fit the spectra first (press 'Fit all spectra'), then cluster.")
            ny, nx, _ = self.spectra.shape
            self.phases = cluster_phases(self.result, int(n_phases), random_state=0).reshape(ny, nx)
            self.parameter_menu.value = "phase"
            self.show_parameter("phase")
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
        with self.banner.catching():
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
            replace_data(self.image_source, image=[image], dw=[nx], dh=[ny])
            self.map_figure.title.text = f"Map: {self._label(name)}"

    def _label(self, name: str) -> str:
        for text, value in self.parameter_menu.options:
            if value == name:
                return text
        return name

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
                **_component_columns(self.x, params, self.n_peaks, self.background),
            )
            centres = ", ".join(f"{c:.4g}" for c in self.result.center[index])
            title += f": centres {centres}"
        else:
            replace_data(self.fit_source, x=[], y=[])
            replace_data(self.component_source, xs=[], ys=[], color=[])
        self.spectrum_figure.title.text = title
        self.pixel_label.value = f"<div style='font-size:13px'>{html.escape(title)}</div>"

    def _on_tap(self, event: Any) -> None:
        with self.banner.catching():
            col = math.floor(_finite_float(event.x, "The clicked column"))
            row = math.floor(_finite_float(event.y, "The clicked row"))
            self.select(row, col)

    def _on_upload(self, change: Any) -> None:
        with self.banner.catching():
            uploaded = read_upload(self.upload)
            if uploaded is None:
                return
            x, spectra = load_spectra(uploaded.content, name=uploaded.name)
            self.set_spectra(x, spectra, fit=True)
