"""The plots of BOLab: what they show and how each tab redraws from its campaign.

:class:`BOPlots` is a base class of :class:`~mi_widgets.viz.bayesopt_lab.BOLab`: it
builds the bokeh figures of the four tabs and redraws them from the lab's campaigns
(``campaigns``, ``problems``, ``own``, ``comparison``, the current tab); the lab holds
the controls and the actions.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from bokeh.layouts import column
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper, Range1d, Span
from bokeh.palettes import Viridis256

from mi_widgets.bayesopt.comparison import compare_with_linear
from mi_widgets.bayesopt.optimizer import ACQUISITIONS
from mi_widgets.viz import OKABE_ITO, bokeh_pane, new_figure, replace_data, style_legend

__all__ = ["BOPlots"]

GAMMA = "\N{GREEK SMALL LETTER GAMMA}"  # the boundary energy
_BLUE, _ORANGE, _GREEN, _RED = OKABE_ITO[4], OKABE_ITO[0], OKABE_ITO[2], OKABE_ITO[5]
_ACQ_COLOURS = dict(
    zip(ACQUISITIONS, (OKABE_ITO[4], OKABE_ITO[2], OKABE_ITO[6], OKABE_ITO[0]), strict=True)
)


class BOPlots:
    """The figures of :class:`~mi_widgets.viz.bayesopt_lab.BOLab` and their redrawing."""

    # ------------------------------------------------------------- building
    def _build_plots(self) -> None:
        # intuition
        x = self.problems["intuition"].candidates[:, 0]
        self.src_truth = ColumnDataSource({"x": x, "y": self.problems["intuition"].values})
        self.src_post = ColumnDataSource({"x": [], "mean": [], "lo": [], "hi": []})
        self.src_obs = ColumnDataSource({"x": [], "y": []})
        self.src_next = ColumnDataSource({"x": [], "y": []})
        self.src_acq = ColumnDataSource({"x": [], "a": []})
        self.src_acq_next = ColumnDataSource({"x": [], "a": []})
        fig = new_figure(
            "GP posterior", width=560, height=300, x_axis_label="x", y_axis_label="f(x)"
        )
        fig.varea(
            "x",
            "lo",
            "hi",
            source=self.src_post,
            fill_color=_BLUE,
            fill_alpha=0.2,
            legend_label="mean ± 2 sd",
        )
        fig.line(
            "x",
            "y",
            source=self.src_truth,
            color="#777777",
            line_dash="dashed",
            legend_label="truth",
        )
        fig.line(
            "x", "mean", source=self.src_post, color=_BLUE, line_width=2, legend_label="GP mean"
        )
        fig.scatter("x", "y", source=self.src_obs, size=8, color="black", legend_label="measured")
        fig.scatter(
            "x",
            "y",
            source=self.src_next,
            size=13,
            marker="diamond",
            color=_RED,
            legend_label="next",
        )
        fig.y_range = Range1d(-12, 20)
        style_legend(fig, outside="right")
        acq = new_figure(
            "Acquisition",
            width=560,
            height=200,
            x_axis_label="x",
            y_axis_label="score",
            x_range=fig.x_range,
        )
        acq.line("x", "a", source=self.src_acq, color=_GREEN, line_width=2)
        acq.scatter("x", "a", source=self.src_acq_next, size=12, marker="diamond", color=_RED)
        self.intuition_pane = bokeh_pane(column(fig, acq))
        self.intuition_pane.add_class("mi-bo-intuition-plot")
        # grain boundary: best found vs calculations
        n = self.problems["grain_boundary"].candidates.shape[0]
        self.src_curve = {k: ColumnDataSource({"n": [], "best": []}) for k in ("bo", "random")}
        self.src_compare = {
            k: ColumnDataSource({"n": [], "best": []}) for k in (*ACQUISITIONS, "random")
        }
        curve = new_figure(
            "Best energy found",
            width=470,
            height=330,
            x_axis_type="log",
            x_axis_label="calculations",
            y_axis_label=f"{GAMMA} (J/m²)",
            x_range=Range1d(1, 1.3 * n),
        )
        lines = [
            (self.src_compare[k], colour, 1.5, None, f"{k} (median)")
            for k, colour in _ACQ_COLOURS.items()
        ]
        lines += [
            (self.src_compare["random"], "#777777", 1.5, "dotted", "random (median)"),
            (self.src_curve["bo"], "black", 3, None, "this run"),
            (self.src_curve["random"], "#777777", 2, "dashed", "random, this run"),
        ]
        for source, colour, width, dash, label in lines:
            style = {"line_dash": dash} if dash else {}
            if label.endswith("(median)") and not dash:
                style["line_alpha"] = 0.6
            curve.line(
                "n",
                "best",
                source=source,
                color=colour,
                line_width=width,
                legend_label=label,
                **style,
            )
        optimum = self.problems["grain_boundary"].optimum()[1]
        curve.add_layout(
            Span(location=optimum, dimension="width", line_color=_RED, line_dash="dotted")
        )
        curve.add_layout(
            Span(
                location=self.exhaustive_expectation,
                dimension="height",
                line_color=_RED,
                line_dash="dashed",
            )
        )
        style_legend(curve, "top_right")
        self.curve_pane = bokeh_pane(curve)
        self.curve_pane.add_class("mi-bo-curve")
        # grain boundary: candidate map, small multiples over (tz, cut-off)
        gb = self.problems["grain_boundary"]
        self._map_xy = self._map_coordinates(gb.candidates)
        self.src_map = ColumnDataSource(
            {"x": self._map_xy[0], "y": self._map_xy[1], "c": np.zeros(n)}
        )
        self.src_map_obs = ColumnDataSource({"x": [], "y": []})
        self.src_map_next = ColumnDataSource({"x": [], "y": []})
        self.mapper = LinearColorMapper(palette=Viridis256)
        tiles = new_figure(
            "Candidates: tx, ty in panels of tz (→) and cut-off (↑)",
            width=560,
            height=330,
            tools="pan,wheel_zoom,reset,hover",
            x_axis_label="tx (Å), one panel per tz = -0.3, 0, 0.3, 0.6 Å",
            y_axis_label="ty (Å); cut-off 0, 1.6, 2.1 Å",
        )
        tiles.rect(
            "x",
            "y",
            width=self._tile[0],
            height=self._tile[1],
            source=self.src_map,
            fill_color={"field": "c", "transform": self.mapper},
            line_color=None,
        )
        tiles.scatter(
            "x",
            "y",
            source=self.src_map_obs,
            size=7,
            fill_color="white",
            line_color="black",
            legend_label="measured",
        )
        tiles.scatter(
            "x",
            "y",
            source=self.src_map_next,
            size=12,
            marker="x",
            color=_RED,
            line_width=3,
            legend_label="next",
        )
        tiles.add_layout(ColorBar(color_mapper=self.mapper, width=10), "right")
        style_legend(tiles, "top_left")
        self.map_pane = bokeh_pane(tiles)
        self.map_pane.add_class("mi-bo-map")
        # GP vs linear
        self.src_parity = {k: ColumnDataSource({"t": [], "p": []}) for k in ("gp", "linear")}
        parity = new_figure(
            "Predicted vs true (unmeasured candidates)",
            width=430,
            height=380,
            x_axis_label=f"true {GAMMA} (J/m²)",
            y_axis_label=f"predicted {GAMMA} (J/m²)",
        )
        lo, hi = float(np.nanmin(gb.values)), float(np.nanmax(gb.values))
        parity.line([lo, hi], [lo, hi], color="#777777", line_dash="dashed")
        for model, color, label in (
            ("linear", _ORANGE, "linear model"),
            ("gp", _BLUE, "Gaussian process"),
        ):
            parity.scatter("t", "p", source=self.src_parity[model], size=5, color=color,
                           alpha=0.6, legend_label=label)  # fmt: skip
        style_legend(parity, "top_left")
        self.parity_pane = bokeh_pane(parity)
        self.parity_pane.add_class("mi-bo-parity")
        self.parity_note = widgets.HTML()
        self.parity_note.add_class("mi-bo-parity-note")

    @property
    def _tile(self) -> tuple[float, float]:
        gb = self.problems["grain_boundary"].candidates
        steps = [np.diff(np.unique(gb[:, k])) for k in (0, 1)]
        return tuple(float(s.min()) if s.size else 1.0 for s in steps)

    def _map_coordinates(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Small multiples: panel column per tz, panel row per cut-off."""
        tz_code = np.unique(c[:, 2], return_inverse=True)[1]
        cut_code = np.unique(c[:, 3], return_inverse=True)[1]
        width = np.ptp(c[:, 0]) + 2 * self._tile[0]
        height = np.ptp(c[:, 1]) + 2 * self._tile[1]
        return c[:, 0] + tz_code * width, c[:, 1] + cut_code * height

    # ---------------------------------------------------------------- drawing
    def _redraw(self) -> None:
        self._draw_timing()
        if self._tab == "intuition":
            self._draw_intuition()
        elif self._tab in ("grain_boundary", "gp_vs_linear"):
            self._draw_grain_boundary()
            self._draw_parity()
        else:
            self._draw_own()

    def _draw_timing(self) -> None:
        if self._tab == "own" and self.own is None:
            self.timing.value = self.status.value = ""
            return
        bo = self.optimizer
        t = bo.timings_
        ms = {k: 1000 * v for k, v in t.items()}
        self.timing.value = (
            f"fit {ms['fit']:.0f} ms · learn {ms['learn']:.0f} ms · score {ms['score']:.0f} ms"
        )
        p = bo.params_
        scales = ", ".join(f"{v:.2g}" for v in p.length_scale)
        learnt = (
            '<div class="mi-bo-relearn" style="color:#D55E00;font-weight:600;">'
            f"Re-learning hyperparameters (n = {bo.n_observations})</div>"
            if bo.relearned_
            else ""
        )
        best = ""
        if bo.n_observations:
            index, value = bo.best_
            best = f"Best: candidate {index}, {value:.4g}<br>"
        self.status.value = (
            f"{learnt}{best}{bo.n_observations} measured · surrogate {bo.surrogate_}<br>"
            f"length scales ({scales}) · amplitude {p.amplitude:.2g} · noise {p.noise:.2g}"
            " (standardised units)"
        )

    def _draw_intuition(self) -> None:
        campaign = self.campaigns["intuition"]
        bo = campaign.sampler
        x = bo.candidates[:, 0]
        mean, std = bo.predict()
        replace_data(self.src_post, x=x, mean=mean, lo=mean - 2 * std, hi=mean + 2 * std)
        idx = campaign.observed_indices
        replace_data(self.src_obs, x=x[idx], y=np.asarray(campaign.observed_values, float))
        nxt = bo.suggest(self.batch)
        scores = bo.scores_
        finite = np.isfinite(scores)
        shown = np.where(finite, scores, np.nan)
        replace_data(self.src_acq, x=x, a=shown)
        replace_data(self.src_acq_next, x=x[nxt], a=shown[nxt])
        replace_data(self.src_next, x=x[nxt], y=mean[nxt])

    def _draw_grain_boundary(self) -> None:
        campaign = self.campaigns["grain_boundary"]
        bo = campaign.sampler
        n, best = campaign.curve("metric")
        _, rnd = campaign.curve("baseline_metric")
        replace_data(self.src_curve["bo"], n=n, best=best)
        replace_data(self.src_curve["random"], n=n, best=rnd)
        if self.comparison:
            cn = self.comparison["n"]
            for k in (*ACQUISITIONS, "random"):
                replace_data(self.src_compare[k], n=cn, best=self.comparison[k])
        mean, std = bo.predict()
        truth = self.problems["grain_boundary"].values
        colour = {"predicted": mean, "uncertainty": std, "true": truth}[self._colouring]
        ref = truth if self._colouring != "uncertainty" else colour
        self.mapper.low, self.mapper.high = float(np.min(ref)), float(np.max(ref))
        mx, my = self._map_xy
        replace_data(self.src_map, x=mx, y=my, c=colour)
        idx = campaign.observed_indices
        replace_data(self.src_map_obs, x=mx[idx], y=my[idx])
        nxt = bo.suggest(self.batch)
        replace_data(self.src_map_next, x=mx[nxt], y=my[nxt])

    def _draw_parity(self) -> None:
        campaign = self.campaigns["grain_boundary"]
        problem = self.problems["grain_boundary"]
        if campaign.n_observations < 2:
            return
        c = compare_with_linear(campaign.sampler, problem.values)
        replace_data(self.src_parity["gp"], t=c.truth, p=c.gp)
        replace_data(self.src_parity["linear"], t=c.truth, p=c.linear)
        terms = " ".join(
            f"{v:+.3g}·{html.escape(name)}"
            for v, name in zip(c.coefficients, problem.feature_names, strict=True)
        )
        self.parity_note.value = (
            f"Trained on the same {campaign.n_observations} calculations. RMSE on the other "
            f"{c.indices.size}: <b>GP {c.rmse_gp:.3f}</b>, <b>linear {c.rmse_linear:.3f}</b> "
            f"J/m².<br>Linear model (a white box): {GAMMA} = {c.intercept:.3g} {terms}"
        )

    def _draw_own(self) -> None:
        if self.own is None:
            self.own_status.value = "No table yet: upload a CSV."
            return
        p = self.own_problem
        measured = int(self.own.measured_mask.sum())
        best = ""
        if measured:
            index, value = self.own.best_
            feats = ", ".join(
                f"{html.escape(name)} = {v:.4g}"
                for name, v in zip(p.feature_names, p.candidates[index], strict=True)
            )
            best = f"; best so far: row {index} ({feats}): {value:.4g}"
        self.own_status.value = (
            f"{html.escape(p.name)}: {p.candidates.shape[0]} candidates, {measured} measured, "
            f"{p.candidates.shape[1]} features, optimising {html.escape(p.value_name)} "
            f"({p.goal}){best}."
        )
