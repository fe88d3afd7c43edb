"""The EM player of lab 02: step through EM iterations, least squares from the same start."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, Span

from mi_widgets._errors import check_finite_array
from mi_widgets.spectra.results import PeakFitResult, PeakModel
from mi_widgets.spectra.single import fit_peaks, least_squares_from, random_start
from mi_widgets.viz import OKABE_ITO, bokeh_pane, new_figure, replace_data
from mi_widgets.viz._spectra_common import (
    _SMALL,
    DATA_COLOR,
    MODEL_COLOR,
    _component_columns,
    _legend_outside,
)
from mi_widgets.viz.app import LabApp

__all__ = ["EMPlayer"]


#: least squares in the player stops here, so a restart stays interactive
LSQ_MAX_EVALUATIONS = 300
LSQ_COLOR = OKABE_ITO[5]


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
