"""PhaseDiagramLab: step uncertainty sampling of a phase diagram (PDC) in bokeh + ipywidgets."""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets
import numpy as np
from bokeh.models import ColumnDataSource, Range1d
from bokeh.palettes import Greens256

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets.active.io import load_phase_diagram, proposals_csv, read_phase_csv
from mi_widgets.active.sampling import (
    BATCHES,
    ESTIMATORS,
    SCORES,
    PhaseDiagramSampler,
    SamplingStep,
    initial_design,
    macro_f1,
    sampling_step,
)
from mi_widgets.active.thermo import BUILTIN_DIAGRAMS, PhaseDiagram
from mi_widgets.viz import (
    ErrorBanner,
    bokeh_pane,
    card,
    class_colors,
    download_link,
    lab_layout,
    new_figure,
    read_upload,
    replace_data,
    upload_button,
)

__all__ = ["PhaseDiagramLab", "plot_coordinates"]

VIEWS = ("phases", "uncertainty")
_UNCERTAINTY_COLORS = np.array(Greens256[::-1])  # white = certain, dark green = uncertain
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


class PhaseDiagramLab:
    """Step uncertainty sampling on a phase diagram and watch the estimate improve.

    Parameters
    ----------
    diagram : str or PhaseDiagram, default "eutectic"
        A built-in name (``"eutectic"``, ``"peritectic"``, ``"ternary"``), a loaded
        diagram with true labels (simulated experiments), or your own candidate table
        (labels ``None`` where unmeasured: the lab then only proposes).
    n_initial : int, default 5
        Random starting measurements for a diagram with true labels.
    seed : int, default 0
        Seed for the starting points and the random-sampling baseline.

    Attributes
    ----------
    sampler : PhaseDiagramSampler
    history : list of dict
        ``{"n_samples", "macro_f1", "measured"}`` per step.
    random_curve : list of (int, float)
        Macro-F1 of random sampling from the same starting points.
    proposals : ndarray of int
        The next candidates to measure (highlighted).

    Examples
    --------
    >>> lab = PhaseDiagramLab("eutectic")
    >>> lab.step()
    >>> lab.history[-1]["n_samples"]
    6
    """

    def __init__(
        self, diagram: str | PhaseDiagram = "eutectic", *, n_initial: int = 5, seed: int = 0
    ) -> None:
        self.n_initial = check_positive_int(n_initial, "n_initial")
        self.seed = seed
        self.banner = ErrorBanner()
        self._build_controls()
        self._build_plots()
        self._uploaded_name: str | None = None
        self._syncing = False
        self._load(diagram)
        self._redraw()
        self.widget = self._layout()

    # ------------------------------------------------------------------ UI
    def _build_controls(self) -> None:
        options = [*BUILTIN_DIAGRAMS]
        self.diagram_choice = widgets.Dropdown(
            options=options, value="eutectic", description="Diagram"
        )
        self.estimator_choice = widgets.Dropdown(
            options=[("label propagation", ESTIMATORS[0]), ("label spreading", ESTIMATORS[1])],
            value=ESTIMATORS[0],
            description="Estimator",
        )
        self.score_choice = widgets.Dropdown(
            options=[
                ("least confident", "least_confident"),
                ("margin", "margin"),
                ("entropy", "entropy"),
                ("random", "random"),
            ],
            value="least_confident",
            description="Score",
        )
        self.batch_choice = widgets.Dropdown(
            options=[("ranked", "ranked"), ("neighbour exclusion", "neighbour_exclusion")],
            value="ranked",
            description="Batch",
        )
        self.batch_size = widgets.BoundedIntText(value=1, min=1, max=50, description="Batch size")
        self.run_steps = widgets.BoundedIntText(value=20, min=1, max=2000, description="N steps")
        self.step_button = widgets.Button(description="Step", button_style="primary")
        self.run_button = widgets.Button(description="Run N")
        self.reset_button = widgets.Button(description="Reset")
        self.view_choice = widgets.ToggleButtons(
            options=[("Phases", "phases"), ("Uncertainty", "uncertainty")]
        )
        self.truth_toggle = widgets.Checkbox(value=False, description="Reveal the truth")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Running")
        self.progress.layout.visibility = "hidden"
        self.status = widgets.HTML()
        self.legend = widgets.HTML()
        self.upload = upload_button(".csv,.txt", "Upload candidates CSV")
        self.download = widgets.HTML()
        self.proposal_table = widgets.HTML()
        for w, cls in (
            (self.step_button, "mi-pd-step"),
            (self.run_button, "mi-pd-run"),
            (self.reset_button, "mi-pd-reset"),
            (self.status, "mi-pd-status"),
            (self.view_choice, "mi-pd-view"),
            (self.truth_toggle, "mi-pd-truth"),
        ):
            w.add_class(cls)
        self.step_button.on_click(lambda _: self.step())
        self.run_button.on_click(lambda _: self.run())
        self.reset_button.on_click(lambda _: self.reset())
        self.diagram_choice.observe(self._on_diagram, names="value")
        for w in (self.estimator_choice, self.score_choice):
            w.observe(lambda _: self._on_settings(), names="value")
        self.view_choice.observe(lambda _: self._on_view(), names="value")
        self.truth_toggle.observe(lambda _: self._on_view(), names="value")
        self.batch_size.observe(lambda _: self._on_settings(), names="value")
        self.batch_choice.observe(lambda _: self._on_settings(), names="value")
        self.upload.observe(self._on_upload, names="value")

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
        curve.legend.location = "top_left"
        self.curve_figure = curve
        self.map_pane = bokeh_pane(fig)
        self.curve_pane = bokeh_pane(curve)
        self.map_pane.add_class("mi-pd-map")
        self.curve_pane.add_class("mi-pd-curve")

    def _layout(self) -> widgets.Widget:
        sampling = widgets.VBox(
            [
                self.diagram_choice,
                self.estimator_choice,
                self.score_choice,
                self.batch_choice,
                self.batch_size,
                self.run_steps,
                widgets.HBox([self.step_button, self.run_button, self.reset_button]),
                self.progress,
            ]
        )
        view = widgets.VBox([self.view_choice, self.truth_toggle, self.legend])
        own = widgets.VBox([self.upload, self.proposal_table, self.download])
        controls = [
            card("Sampling", sampling),
            card("View", view),
            card("Your own experiments", own),
        ]
        main = widgets.VBox(
            [
                self.status,
                widgets.HBox(
                    [self.map_pane, self.curve_pane], layout=widgets.Layout(flex_flow="row wrap")
                ),
            ]
        )
        app = lab_layout(
            "Phase diagram by uncertainty sampling (PDC)",
            controls,
            main,
            banner=self.banner,
            controls_width="330px",
        )
        app.add_class("mi-phase-lab")
        return app

    def _ipython_display_(self) -> None:  # pragma: no cover - display hook
        from IPython.display import display

        display(self.widget)

    # --------------------------------------------------------------- state
    @property
    def has_truth(self) -> bool:
        """Whether every candidate has a true label (simulated experiments)."""
        return self.truth is not None

    @property
    def result(self) -> SamplingStep | None:
        """The latest step."""
        return self._last

    def _load(self, diagram: str | PhaseDiagram) -> None:
        if isinstance(diagram, str):
            check_choice(diagram, "diagram", BUILTIN_DIAGRAMS)
            diagram = load_phase_diagram(diagram)
        labels = np.asarray(diagram.labels, dtype=object)
        complete = all(v is not None for v in labels.tolist())
        sampler = self._new_sampler(diagram.coordinates)  # validates before anything changes
        self.diagram = diagram
        self.truth = labels.astype(str) if complete else None
        self.px, self.py = plot_coordinates(diagram)
        self.sampler = sampler
        if self.truth is not None:
            self.classes = np.unique(self.truth)
        else:
            measured = [str(v) for v in labels.tolist() if v is not None]
            self.classes = np.unique(np.array(measured, dtype=str)) if measured else np.array([])
            known = np.flatnonzero([v is not None for v in labels.tolist()])
            if known.size:
                self.sampler.tell(known, labels[known].tolist())
        self._color_of = dict(
            zip(self.classes.tolist(), class_colors(len(self.classes)), strict=True)
        )
        self._setup_axes()
        self._syncing = True  # show which built-in is loaded (none for the user's own file)
        try:
            self.diagram_choice.value = diagram.name if diagram.name in BUILTIN_DIAGRAMS else None
        finally:
            self._syncing = False
        self._reset()

    def _new_sampler(self, coordinates: np.ndarray) -> PhaseDiagramSampler:
        return PhaseDiagramSampler(
            coordinates,
            estimator=self.estimator_choice.value,
            score=self.score_choice.value,
            random_state=self.seed,
        )

    def reset(self) -> None:
        """Start again: the seeded starting points (built-in) or the uploaded measurements."""
        with self.banner.catching():
            self._reset()
        self._redraw()

    def _reset(self) -> None:
        self.history: list[dict[str, Any]] = []
        self.random_curve: list[tuple[int, float]] = []
        self.proposals = np.array([], dtype=int)
        self._last = None
        self._random = None
        if self.has_truth:
            self.sampler.reset()
            start = initial_design(self.truth, self.n_initial, random_state=self.seed)
            self._random = PhaseDiagramSampler(
                self.diagram.coordinates, score="random", random_state=self.seed
            )
            self._random.tell(start, self.truth[start])
            self._apply(sampling_step(self.sampler, self.truth, start, **self._opts()))
        else:
            step = sampling_step(
                self.sampler, None, (), random_until_two_phases=False, **self._opts()
            )
            self._apply(step)

    def _opts(self) -> dict[str, Any]:
        n = check_positive_int(self.batch_size.value, "batch size", maximum=50)
        batch = check_choice(self.batch_choice.value, "batch", BATCHES)
        return {"n": n, "batch": batch, "k": 1}

    def _apply(self, step: SamplingStep) -> None:
        self._last = step
        self.proposals = step.proposals
        if step.measured.size:
            self.history.append(
                {
                    "n_samples": step.n_samples,
                    "macro_f1": step.macro_f1,
                    "measured": step.measured.tolist(),
                }
            )
            self._extend_random(step.n_samples)

    def _extend_random(self, n_samples: int, stride: int = 10) -> None:
        """Random-sampling baseline from the same start, evaluated every ``stride`` points."""
        if self._random is None:
            return
        while not self.random_curve or self.random_curve[-1][0] < n_samples:
            measured = int(self._random.labelled_mask.sum())
            if self.random_curve:
                left = int((~self._random.labelled_mask).sum())
                if left == 0:
                    return
                chosen = self._random.suggest(min(stride, left))
                self._random.tell(chosen, self.truth[chosen])
                measured += len(chosen)
            self.random_curve.append((measured, macro_f1(self.truth, self._random.predict())))

    # -------------------------------------------------------------- actions
    def step(self) -> None:
        """Measure the highlighted proposals (built-in) or propose again (own data)."""
        with self.banner.catching():
            self._step_once()
        self._redraw()

    def _step_once(self) -> None:
        if self.has_truth:
            if self.proposals.size == 0:
                raise MIInputError("Every candidate is measured; press Reset to start again.")
            self._apply(sampling_step(self.sampler, self.truth, self.proposals, **self._opts()))
        else:
            self._apply(
                sampling_step(self.sampler, None, (), random_until_two_phases=False, **self._opts())
            )

    def run(self, n_steps: int | None = None) -> None:
        """Do ``n_steps`` steps (default: the "N steps" box) with a progress bar."""
        with self.banner.catching():
            n = check_positive_int(
                self.run_steps.value if n_steps is None else n_steps, "N steps", maximum=5000
            )
            if not self.has_truth:
                raise MIInputError(
                    "Run N needs true labels; with your own data use Step to "
                    "get proposals, measure them, and upload the CSV again."
                )
            self.progress.max, self.progress.value = n, 0
            self.progress.layout.visibility = "visible"
            try:
                for i in range(n):
                    if self.proposals.size == 0:
                        break
                    self._step_once()
                    self.progress.value = i + 1
            finally:
                self.progress.layout.visibility = "hidden"
        self._redraw()

    def set_view(self, view: str) -> None:
        """Colour the map by predicted phase (``"phases"``) or by ``"uncertainty"``."""
        self.view_choice.value = check_choice(view, "view", VIEWS)

    def reveal_truth(self, show: bool = True) -> None:
        """Show the true diagram instead of the estimate (built-in diagrams)."""
        self.truth_toggle.value = bool(show)

    def load_csv(self, content: bytes, name: str = "upload.csv") -> None:
        """Use your own candidates: CSV with the phase first (empty = unmeasured)."""
        with self.banner.catching():
            obs = read_phase_csv(content, name=name)
            self._load(obs)
            self._uploaded_name = name
        self._redraw()

    # ------------------------------------------------------------ callbacks
    def _on_diagram(self, change) -> None:
        if self._syncing or change["new"] is None:
            return
        with self.banner.catching():
            name = check_choice(change["new"], "diagram", BUILTIN_DIAGRAMS)
            self._load(name)
        self._redraw()

    def _on_settings(self) -> None:
        with self.banner.catching():
            check_choice(self.estimator_choice.value, "estimator", ESTIMATORS)
            check_choice(self.score_choice.value, "score", SCORES)
            order = list(self.sampler.order_)
            sampler = self._new_sampler(self.diagram.coordinates)
            if order:  # keep every measurement, in the order measured
                sampler.tell(order, self.sampler.labels[order].tolist())
            self.sampler = sampler
            self._apply(
                sampling_step(
                    self.sampler,
                    self.truth,
                    (),
                    random_until_two_phases=self.has_truth,
                    **self._opts(),
                )
            )
        self._redraw()

    def _on_view(self) -> None:
        with self.banner.catching():
            check_choice(self.view_choice.value, "view", VIEWS)
        self._redraw()

    def _on_upload(self, _change) -> None:
        with self.banner.catching():
            uploaded = read_upload(self.upload)
            if uploaded is None:
                return
            self.load_csv(uploaded.content, uploaded.name)

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
            fig.xaxis.axis_label = cols[0]
            fig.yaxis.axis_label = cols[1] if len(cols) > 1 else ""
            for rng, values in ((fig.x_range, self.px), (fig.y_range, self.py)):
                pad = 0.03 * (np.ptp(values) or 1.0)
                rng.update(start=float(values.min() - pad), end=float(values.max() + pad))
            self.map_glyph.glyph.marker = "square"
        n_side = math.sqrt(len(self.px)) * (1.4 if self.diagram.kind == "ternary" else 1.0)
        self.map_glyph.glyph.size = float(np.clip(430 / max(n_side, 1), 3, 16))

    def _colors(self, labels: np.ndarray) -> list[str]:
        return [self._color_of.get(str(v), "#BBBBBB") for v in labels.tolist()]

    def _redraw(self) -> None:
        if getattr(self, "sampler", None) is None:
            return
        fitted = self.sampler.labelled_mask.any()
        show_truth = self.truth_toggle.value and self.has_truth
        if show_truth:
            colors, alpha = self._colors(self.truth), np.ones(len(self.px))
            self.map_figure.title.text = "True phase diagram"
        elif not fitted:
            colors, alpha = ["#BBBBBB"] * len(self.px), np.full(len(self.px), 0.4)
            self.map_figure.title.text = "No measurements yet"
        elif self.view_choice.value == "uncertainty":
            u = self.sampler.uncertainty_
            colors = _UNCERTAINTY_COLORS[np.clip((u * 255).astype(int), 0, 255)].tolist()
            alpha = np.ones(len(u))
            score = self.sampler.score.replace("_", " ")
            self.map_figure.title.text = f"Uncertainty ({score}; darker = less certain)"
        else:
            predicted = self.sampler.predict()
            colors = self._colors(predicted)
            alpha = 0.25 + 0.75 * self.sampler.confidence_
            self.map_figure.title.text = "Estimated phases (opacity = confidence)"
        replace_data(self.map_source, x=self.px, y=self.py, color=colors, alpha=alpha)
        measured = np.flatnonzero(self.sampler.labelled_mask)
        labels = self.sampler.labels[measured]
        replace_data(
            self.measured_source,
            x=self.px[measured],
            y=self.py[measured],
            color=self._colors(labels),
            label=[str(v) for v in labels.tolist()],
        )
        replace_data(self.proposal_source, x=self.px[self.proposals], y=self.py[self.proposals])
        replace_data(
            self.f1_us,
            n=[h["n_samples"] for h in self.history],
            f1=[h["macro_f1"] for h in self.history],
        )
        replace_data(
            self.f1_random,
            n=[n for n, _ in self.random_curve],
            f1=[f for _, f in self.random_curve],
        )
        self._update_text()

    def _update_text(self) -> None:
        n = int(self.sampler.labelled_mask.sum())
        f1 = self.history[-1]["macro_f1"] if self.history else float("nan")
        text = f"<b>{self.diagram.name}</b>: {len(self.px)} candidates, {n} measured"
        if self.has_truth and self.history:
            text += f", Macro-F1 = {f1:.3f}"
        self.status.value = f'<div style="font-size:15px;">{text}</div>'
        items = "".join(
            f'<span style="display:inline-block;margin:2px 8px 2px 0;">'
            f'<span style="display:inline-block;width:12px;height:12px;background:{c};'
            f'border:1px solid #555;margin-right:4px;"></span>{_escape(k)}</span>'
            for k, c in self._color_of.items()
        )
        self.legend.value = f'<div style="font-size:13px;max-width:300px;">{items}</div>'
        self._update_proposals()

    def _update_proposals(self) -> None:
        if self.proposals.size == 0:
            self.proposal_table.value = "<i>No proposals.</i>"
            self.download.value = ""
            return
        uncertainty = self.sampler.uncertainty_ if self.sampler.labelled_mask.any() else None
        text = proposals_csv(
            self.diagram.coordinates, self.diagram.columns, self.proposals, uncertainty
        )
        rows = [line.split(",") for line in text.strip().splitlines()]
        rows[0] = ["u" if h == "uncertainty" else h for h in rows[0]]  # narrow card
        head = "".join(f"<th style='padding:0 4px'>{_escape(h)}</th>" for h in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td style='padding:0 4px'>{_escape(v)}</td>" for v in r) + "</tr>"
            for r in rows[1:11]
        )
        self.proposal_table.value = (
            "<div style='font-size:13px;overflow-x:auto;max-width:300px'><b>Next proposals</b>"
            f"<table>{head}{body}</table></div>"
        )
        self.download.value = download_link(
            "next_proposals.csv", text, mime="text/csv", label="Download the proposals (CSV)"
        )


def _escape(text: Any) -> str:
    import html

    return html.escape(str(text))
