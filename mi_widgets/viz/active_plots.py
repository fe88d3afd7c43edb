"""The plots of PhaseDiagramLab: the candidate map, the Macro-F1 curve, the text beside.

:class:`PhaseDiagramPlots` is a base class of
:class:`~mi_widgets.viz.active_lab.PhaseDiagramLab`: it builds the bokeh figures and
redraws them (and the status, legend and proposal table) from the lab's campaign;
:func:`plot_coordinates` places binary and ternary candidates in the plane.
"""

from __future__ import annotations

import html
import math

import numpy as np
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper, Range1d
from bokeh.palettes import Greens256

from mi_widgets.active.io import proposals_csv
from mi_widgets.active.thermo import PhaseDiagram
from mi_widgets.viz import bokeh_pane, download_link, new_figure, replace_data, style_legend

__all__ = ["PhaseDiagramPlots", "plot_coordinates"]

_UNCERTAINTY_COLORS = np.array(Greens256[::-1])  # white = certain, dark green = uncertain


def _axis_label(column: str) -> str:
    """An axis title with its unit for the usual column names (``T_K`` -> ``T (K)``).

    Examples
    --------
    >>> _axis_label("T_K"), _axis_label("x_B"), _axis_label("depth")
    ('T (K)', 'x_B (mole fraction)', 'depth')
    """
    if column.endswith("_K"):
        return f"{column[:-2]} (K)"
    if column.startswith("x_"):
        return f"{column} (mole fraction)"
    return column


_SQRT3_2 = math.sqrt(3.0) / 2.0


def plot_coordinates(diagram: PhaseDiagram) -> tuple[np.ndarray, np.ndarray]:
    """2D plot positions: (x, T) for binaries, a triangle for ternary compositions.

    Ternary rows ``(a, b, c)`` (any constant sum) go to ``x = b + c/2``,
    ``y = c sqrt(3)/2`` after normalising to fractions: A bottom left, B bottom right,
    C on top.

    Examples
    --------
    >>> d = PhaseDiagram("t", np.array([[0, 0, 1.0]]), np.array(["a"]), ("A", "B", "C"),
    ...                  "ternary")
    >>> [round(float(v[0]), 3) for v in plot_coordinates(d)]
    [0.5, 0.866]
    """
    c = diagram.coordinates
    if diagram.kind == "ternary":
        f = c / c.sum(axis=1, keepdims=True)
        return f[:, 1] + 0.5 * f[:, 2], _SQRT3_2 * f[:, 2]
    if c.shape[1] == 1:
        return c[:, 0], np.zeros(len(c))
    return c[:, 0], c[:, 1]


class PhaseDiagramPlots:
    """The figures of the phase-diagram lab and their redrawing.

    A base class of :class:`~mi_widgets.viz.active_lab.PhaseDiagramLab`: builds the
    map and curve figures once and redraws them from the lab's campaign.
    """

    # ------------------------------------------------------------------ UI
    def _build_plots(self) -> None:
        self.map_source = ColumnDataSource({k: [] for k in ("x", "y", "color", "alpha")})
        self.measured_source = ColumnDataSource({k: [] for k in ("x", "y", "color", "label")})
        self.proposal_source = ColumnDataSource({"x": [], "y": []})
        self.outline_source = ColumnDataSource({"x": [], "y": []})
        fig = new_figure(
            "Estimated phase diagram",
            width=560,
            height=440,
            tools="pan,wheel_zoom,box_zoom,reset,save,hover",
        )
        self.map_glyph = fig.scatter(
            "x", "y", source=self.map_source, color="color", alpha="alpha", size=6, marker="square"
        )
        fig.line("x", "y", source=self.outline_source, color="#444444", line_width=1.5)
        # measured points: class colour inside a white and a black ring (visible on any colour)
        fig.scatter(
            "x",
            "y",
            source=self.measured_source,
            size=13,
            fill_alpha=0,
            line_color="black",
            line_width=1.5,
        )
        fig.scatter(
            "x",
            "y",
            source=self.measured_source,
            fill_color="color",
            size=10,
            line_color="white",
            line_width=1.5,
        )
        self.corner_source = ColumnDataSource({"x": [], "y": [], "text": [], "align": []})
        fig.text(
            "x",
            "y",
            text="text",
            source=self.corner_source,
            text_align="align",
            text_font_size="14px",
            text_baseline="middle",
        )
        fig.scatter(
            "x",
            "y",
            source=self.proposal_source,
            marker="circle",
            size=18,
            fill_alpha=0,
            line_color="#D55E00",
            line_width=3,
        )
        # shown with the uncertainty view; its top follows the largest uncertainty on the map
        self.uncertainty_mapper = LinearColorMapper(
            palette=list(_UNCERTAINTY_COLORS), low=0.0, high=1.0
        )
        self.uncertainty_bar = ColorBar(
            color_mapper=self.uncertainty_mapper,
            title="uncertainty",
            width=14,
            visible=False,
            title_text_font_size="13px",
            major_label_text_font_size="12px",
        )
        fig.add_layout(self.uncertainty_bar, "right")
        fig.hover.tooltips = [("x", "@x{0.000}"), ("y", "@y{0.000}")]
        fig.hover.renderers = [self.map_glyph]
        self.map_figure = fig
        self.f1_us = ColumnDataSource({"n": [], "f1": []})
        self.f1_random = ColumnDataSource({"n": [], "f1": []})
        curve = new_figure(
            "Macro-F1 vs samples",
            width=420,
            height=300,
            x_axis_label="measured points",
            y_axis_label="Macro-F1",
            y_range=Range1d(0, 1.02),
        )
        curve.line(
            "n",
            "f1",
            source=self.f1_us,
            color="#0072B2",
            line_width=2.5,
            legend_label="uncertainty sampling",
        )
        curve.scatter("n", "f1", source=self.f1_us, color="#0072B2", size=4)
        curve.line(
            "n",
            "f1",
            source=self.f1_random,
            color="#999999",
            line_width=2,
            line_dash="dashed",
            legend_label="random sampling",
        )
        style_legend(curve, outside="below")  # a rising curve would run under it
        self.curve_figure = curve
        self.map_pane = bokeh_pane(fig)
        self.curve_pane = bokeh_pane(curve)
        self.map_pane.add_class("mi-pd-map")
        self.curve_pane.add_class("mi-pd-curve")

    # -------------------------------------------------------------- drawing
    def _setup_axes(self) -> None:
        fig = self.map_figure
        if self.diagram.kind == "ternary":
            a, b, c = self.diagram.columns[:3]
            replace_data(self.outline_source, x=[0, 1, 0.5, 0], y=[0, 0, _SQRT3_2, 0])
            replace_data(
                self.corner_source,
                x=[-0.02, 1.02, 0.53],
                y=[-0.035, -0.035, _SQRT3_2],
                text=[a, b, c],
                align=["right", "left", "left"],
            )
            fig.xaxis.axis_label = f"{a} (left) - {b} (right) - {c} (top)"
            fig.yaxis.axis_label = ""
            fig.x_range.update(start=-0.12, end=1.12)
            fig.y_range.update(start=-0.05, end=0.92)
            self.map_glyph.glyph.marker = "hex"
        else:
            replace_data(self.outline_source, x=[], y=[])
            replace_data(self.corner_source, x=[], y=[], text=[], align=[])
            cols = self.diagram.columns
            fig.xaxis.axis_label = _axis_label(cols[0])
            fig.yaxis.axis_label = _axis_label(cols[1]) if len(cols) > 1 else ""
            for rng, values in ((fig.x_range, self.px), (fig.y_range, self.py)):
                pad = 0.03 * (np.ptp(values) or 1.0)
                rng.update(start=float(values.min() - pad), end=float(values.max() + pad))
            self.map_glyph.glyph.marker = "square"
        n_side = math.sqrt(len(self.px)) * (1.4 if self.diagram.kind == "ternary" else 1.0)
        self.map_glyph.glyph.size = float(np.clip(430 / max(n_side, 1), 3, 16))

    def _colors(self, labels: np.ndarray) -> list[str]:
        return [self._color_of.get(str(v), "#BBBBBB") for v in labels.tolist()]

    def _redraw(self) -> None:
        if self.campaign is None:
            return
        fitted = self.sampler.measured_mask.any()
        show_truth = self.truth_toggle.value and self.has_truth
        if show_truth:
            colors, alpha = self._colors(self.truth), np.ones(len(self.px))
            self.map_figure.title.text = "True phase diagram"
        elif not fitted:
            colors, alpha = ["#BBBBBB"] * len(self.px), np.full(len(self.px), 0.4)
            self.map_figure.title.text = "No measurements yet"
        elif self.view_choice.value == "uncertainty":
            u = self.sampler.uncertainty_
            # the full palette spans 0 .. the largest uncertainty (least-confident scores stay
            # below 1 - 1/classes, which left the map pale on a 0-1 scale)
            top = float(u.max()) if u.max() > 0 else 1.0
            colors = _UNCERTAINTY_COLORS[np.clip((u / top * 255).astype(int), 0, 255)].tolist()
            self.uncertainty_mapper.high = top
            alpha = np.ones(len(u))
            score = self.sampler.score.replace("_", " ")
            self.map_figure.title.text = f"Uncertainty ({score}; darker = less certain)"
        else:
            predicted = self.sampler.predict()
            colors = self._colors(predicted)
            alpha = 0.25 + 0.75 * self.sampler.confidence_
            self.map_figure.title.text = "Estimated phases (opacity = confidence)"
        self.uncertainty_bar.visible = (
            bool(fitted) and not show_truth and self.view_choice.value == "uncertainty"
        )
        replace_data(self.map_source, x=self.px, y=self.py, color=colors, alpha=alpha)
        measured = np.flatnonzero(self.sampler.measured_mask)
        labels = self.sampler.labels[measured]
        replace_data(
            self.measured_source,
            x=self.px[measured],
            y=self.py[measured],
            color=self._colors(labels),
            label=[str(v) for v in labels.tolist()],
        )
        replace_data(self.proposal_source, x=self.px[self.proposals], y=self.py[self.proposals])
        n_us, f1_us = self.campaign.curve("metric")
        n_rs, f1_rs = self.campaign.curve("baseline_metric")
        keep_us, keep_rs = np.isfinite(f1_us), np.isfinite(f1_rs)
        replace_data(self.f1_us, n=n_us[keep_us], f1=f1_us[keep_us])
        replace_data(self.f1_random, n=n_rs[keep_rs], f1=f1_rs[keep_rs])
        self._update_text()

    def _update_text(self) -> None:
        n = int(self.sampler.measured_mask.sum())
        name = html.escape(str(self.diagram.name))
        text = f"<b>{name}</b>: {len(self.px)} candidates, {n} measured"
        if self.has_truth and self.history:
            last = self.history[-1]
            text += f", Macro-F1 = {last.metric:.3f}"
            if np.isfinite(last.baseline_metric):
                text += f" (random sampling: {last.baseline_metric:.3f})"
        self.status.value = f'<div style="font-size:15px;">{text}</div>'
        items = "".join(
            f'<span style="display:inline-block;margin:2px 8px 2px 0;">'
            f'<span style="display:inline-block;width:12px;height:12px;background:{c};'
            f'border:1px solid #555;margin-right:4px;"></span>{html.escape(str(k))}</span>'
            for k, c in self._color_of.items()
        )
        self.legend.value = f'<div style="font-size:13px;max-width:300px;">{items}</div>'
        self.history_download.value = (
            download_link(
                "phase_sampling_history.csv",
                self.campaign.to_csv(),
                mime="text/csv",
                label="Download the sampling history (CSV)",
            )
            if self.has_truth and self.history
            else ""
        )
        self._update_proposals()

    def _update_proposals(self) -> None:
        if self.proposals.size == 0:
            self.proposal_table.value = "<i>No proposals.</i>"
            self.download.value = ""
            return
        uncertainty = self.sampler.uncertainty_ if self.sampler.measured_mask.any() else None
        text = proposals_csv(
            self.diagram.coordinates, self.diagram.columns, self.proposals, uncertainty
        )
        rows = [line.split(",") for line in text.strip().splitlines()]
        # narrow card: short headers, temperatures with their unit
        rows[0] = [
            "u" if h == "uncertainty" else (f"{h[:-2]} (K)" if h.endswith("_K") else h)
            for h in rows[0]
        ]
        head = "".join(f"<th style='padding:0 4px'>{html.escape(h)}</th>" for h in rows[0])
        body = "".join(
            "<tr>"
            + "".join(f"<td style='padding:0 4px'>{html.escape(v)}</td>" for v in r)
            + "</tr>"
            for r in rows[1:11]
        )
        self.proposal_table.value = (
            "<div style='font-size:13px;overflow-x:auto;max-width:300px'><b>Next proposals</b>"
            f"<table>{head}{body}</table></div>"
        )
        self.download.value = download_link(
            "next_proposals.csv", text, mime="text/csv", label="Download the proposals (CSV)"
        )
