"""BOLab: step Bayesian optimisation on a 1-D function, the Sigma5 grain boundary, your table.

Tabs: *Intuition* (the Forrester function: GP mean +- 2 sd, the acquisition, the next
point; length scale and noise by hand), *Grain boundary* (best energy found against
calculations for BO, random search and the exhaustive expectation; the candidate map
coloured by prediction or uncertainty; the best boundary in 3D), *GP vs linear* (both
models trained on the grain-boundary observations) and *Your data* (upload a candidate
table, download proposals, upload results). Every tab's loop is a
:class:`~mi_widgets.active.campaign.Campaign` (with a random baseline) over a
:class:`~mi_widgets.bayesopt.optimizer.BayesianOptimizer`; the plots read its history.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
from bokeh.layouts import column
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper, Range1d, Span
from bokeh.palettes import Viridis256

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets.active.campaign import Campaign, compare_with_random
from mi_widgets.bayesopt.data import (
    MAX_LAB_CANDIDATES,
    SearchProblem,
    forrester_problem,
    load_grain_boundary,
    proposals_table_csv,
    read_candidate_table,
    read_results,
)
from mi_widgets.bayesopt.grain_boundary import build_grain_boundary, grain_boundary_energy
from mi_widgets.bayesopt.optimizer import ACQUISITIONS, BayesianOptimizer, compare_with_linear
from mi_widgets.viz import (
    OKABE_ITO,
    bokeh_pane,
    card,
    download_link,
    new_figure,
    replace_data,
    structure_view,
    style_legend,
    update_structure,
)
from mi_widgets.viz.app import LabApp

__all__ = ["BOLab"]

TABS = ("intuition", "grain_boundary", "gp_vs_linear", "own")
TAB_TITLES = ("Intuition (1-D)", "Grain boundary", "GP vs linear", "Your data")
COLOURINGS = ("predicted", "uncertainty", "true")
GAMMA = "\N{GREEK SMALL LETTER GAMMA}"  # the boundary energy
_BLUE, _ORANGE, _GREEN, _RED = OKABE_ITO[4], OKABE_ITO[0], OKABE_ITO[2], OKABE_ITO[5]
_ACQ_COLOURS = dict(
    zip(ACQUISITIONS, (OKABE_ITO[4], OKABE_ITO[2], OKABE_ITO[6], OKABE_ITO[0]), strict=True)
)


def _best_metric(sampler: Any) -> float:
    return sampler.best_[1]


def _log_slider(value: float, low: float, step: float, description: str) -> widgets.FloatLogSlider:
    """A base-10 log slider from ``10**low`` to 1 (a GP hyperparameter in standardised units)."""
    return widgets.FloatLogSlider(
        value=value, base=10, min=low, max=0, step=step, description=description,
        readout_format=".3f", style={"description_width": "initial"},
    )  # fmt: skip


class BOLab(LabApp):
    """Bayesian optimisation, stepped: intuition, a grain-boundary search, your own table.

    Parameters
    ----------
    acquisition : {"EI", "PI", "UCB", "TS"}, default "EI"
    n_initial : int, default 3
        Random candidates measured before the first step (the same for BO and random).
    batch : int, default 1
        Candidates per step.
    random_state : int or None, default 0

    Attributes
    ----------
    campaigns : dict of str to Campaign
        ``"intuition"`` and ``"grain_boundary"``: the loops, with their random baselines.
    problems : dict of str to SearchProblem
    own : BayesianOptimizer or None
        The optimiser over an uploaded table.

    Examples
    --------
    >>> lab = BOLab(random_state=0)
    >>> lab.step().n_observations
    4
    >>> lab.select("grain_boundary"); lab.run(2)[-1].n_observations
    5
    """

    title = "Bayesian optimisation over a candidate set"
    css_class = "mi-bo-lab"
    controls_width = "290px"

    def __init__(
        self,
        *,
        acquisition: str = "EI",
        n_initial: int = 3,
        batch: int = 1,
        random_state: int | None = 0,
    ) -> None:
        super().__init__(random_state=random_state)
        self.acquisition = check_choice(acquisition, "acquisition", ACQUISITIONS)
        self.n_initial = check_positive_int(n_initial, "n_initial")
        self.batch = check_positive_int(batch, "batch", maximum=20)
        self.problems: dict[str, SearchProblem] = {
            "intuition": forrester_problem(201),
            "grain_boundary": load_grain_boundary(),
        }
        self.campaigns: dict[str, Campaign] = {}
        self.comparison: dict[str, np.ndarray] = {}
        self.own: BayesianOptimizer | None = None
        self.own_problem: SearchProblem | None = None
        self._tab = "intuition"
        self._length_scale = 0.1  # in units of x (intuition tab)
        self._noise = 0.01
        self._learn = False
        self._colouring = "predicted"
        self._build_controls()
        self._build_plots()
        for name in ("intuition", "grain_boundary"):
            self.campaigns[name] = self._new_campaign(name)
        self._structure_key: int | None = None
        self.view = None
        self._redraw()

    # ------------------------------------------------------------- building
    def _build_controls(self) -> None:
        self.acq_select = widgets.Dropdown(
            options=list(ACQUISITIONS),
            value=self.acquisition,
            description="Acquisition",
            layout=widgets.Layout(width="230px"),
        )
        self.batch_input = widgets.BoundedIntText(
            value=self.batch,
            min=1,
            max=20,
            description="Batch",
            layout=widgets.Layout(width="230px"),
        )
        self.step_button = widgets.Button(description="Step", button_style="primary")
        self.run_input = widgets.BoundedIntText(value=10, min=1, max=500, description="N")
        self.run_button = widgets.Button(description="Run N")
        self.reset_button = widgets.Button(description="Reset")
        for b in (self.step_button, self.run_button, self.reset_button):
            b.add_class(f"mi-bo-{b.description.lower().replace(' ', '-')}")
        self.timing = widgets.HTML()
        self.timing.add_class("mi-bo-timing")
        self.status = widgets.HTML()
        self.status.add_class("mi-bo-status")
        self.on_change(self.acq_select, self.set_acquisition)
        self.on_change(self.batch_input, self._set_batch)
        self.on_click(self.step_button, self.step)
        self.on_click(self.run_button, lambda: self.run(self.run_input.value))
        self.on_click(self.reset_button, self.reset)
        # intuition tab
        self.length_slider = _log_slider(self._length_scale, -2.3, 0.05, "Length scale")
        self.noise_slider = _log_slider(self._noise, -3, 0.1, "Noise sd")
        self.learn_box = widgets.Checkbox(value=False, description="Learn by marginal likelihood")
        self.on_change(self.length_slider, self.set_length_scale)
        self.on_change(self.noise_slider, self.set_noise)
        self.on_change(self.learn_box, self.set_learning)
        # grain-boundary tab
        self.colour_select = widgets.ToggleButtons(
            options=[
                ("Predicted", "predicted"),
                ("Uncertainty", "uncertainty"),
                ("True (all calculations)", "true"),
            ],
            value="predicted",
            description="Colour",
        )
        self.on_change(self.colour_select, self.colour_by)
        self.compare_button = widgets.Button(description="Compare acquisitions (3 seeds x 60)")
        self.compare_button.layout.width = "260px"
        self.on_click(self.compare_button, self.compare_acquisitions, background=True)
        self.structure_button = widgets.Button(description="Show best boundary in 3D")
        self.structure_button.layout.width = "220px"
        self.on_click(self.structure_button, self.show_best_structure)
        self.structure_note = widgets.HTML()
        # own data
        self.goal_select = widgets.ToggleButtons(
            options=[("Minimise", "minimize"), ("Maximise", "maximize")], value="minimize"
        )
        self.table_upload = self.upload_button(".csv,.txt", "Candidate table", self._receive_table)
        self.results_upload = self.upload_button(".csv,.txt", "Results", self._receive_results)
        self.propose_button = widgets.Button(description="Propose next")
        self.on_click(self.propose_button, self.propose)
        self.own_status = widgets.HTML("No table yet.")
        self.own_status.add_class("mi-bo-own-status")
        self.download = widgets.HTML()

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
    def exhaustive_expectation(self) -> float:
        """Calculations an exhaustive search in random order needs on average to meet the optimum.

        With ``k`` candidates sharing the optimal value among ``N``: ``(N + 1) / (k + 1)``.
        """
        values = self.problems["grain_boundary"].values
        k = int(np.sum(values == np.min(values)))
        return (values.size + 1) / (k + 1)

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

    def _controls(self) -> list[widgets.Widget]:
        loop = widgets.VBox(
            [
                self.acq_select,
                self.batch_input,
                self.step_button,
                widgets.HBox([self.run_input, self.run_button]),
                self.reset_button,
            ]
        )
        return [card("Loop", loop), card("Last step", widgets.VBox([self.timing, self.status]))]

    def _main(self) -> widgets.Widget:
        intuition = widgets.VBox(
            [
                widgets.HBox([self.length_slider, self.noise_slider]),
                self.learn_box,
                self.intuition_pane,
            ]
        )
        gb = widgets.VBox(
            [
                widgets.HBox(
                    [self.curve_pane, self.map_pane], layout=widgets.Layout(flex_flow="row wrap")
                ),
                self.colour_select,
                widgets.HBox([self.compare_button, self.structure_button]),
                self.structure_note,
                self._structure_box(),
            ]
        )
        linear = widgets.VBox([self.parity_pane, self.parity_note])
        own = widgets.VBox(
            [
                widgets.HTML(
                    "Upload a CSV: feature columns, then the value column (empty = not "
                    "measured yet). <b>Propose next</b> gives a CSV to fill in; upload it "
                    "back as <b>Results</b>."
                ),
                self.goal_select,
                widgets.HBox([self.table_upload, self.results_upload]),
                self.propose_button,
                self.own_status,
                self.download,
            ]
        )
        self.tabs = widgets.Tab(children=[intuition, gb, linear, own])
        self.tabs.titles = TAB_TITLES
        self.tabs.add_class("mi-bo-tabs")
        self.tabs.observe(self._on_tab, names="selected_index")
        return self.tabs

    def _structure_box(self) -> widgets.Widget:
        self.structure_box = widgets.Box()
        self.structure_box.add_class("mi-bo-structure")
        return self.structure_box

    # ------------------------------------------------------------- campaigns
    def _optimizer(self, name: str) -> BayesianOptimizer:
        problem = self.problems[name]
        if name == "intuition":
            std_x = float(problem.candidates[:, 0].std())
            return BayesianOptimizer(
                problem.candidates,
                acquisition=self.acquisition,
                goal=problem.goal,
                kernel="rbf",
                length_scale=self._length_scale / std_x,
                noise=self._noise,
                learn_every=10 if self._learn else 0,
                random_state=self.random_state,
            )
        return BayesianOptimizer(
            problem.candidates,
            acquisition=self.acquisition,
            goal=problem.goal,
            random_state=self.random_state,
        )

    def _new_campaign(self, name: str) -> Campaign:
        problem = self.problems[name]
        rng = np.random.default_rng(self.random_state)
        initial = rng.choice(problem.candidates.shape[0], self.n_initial, replace=False)
        baseline = BayesianOptimizer(problem.candidates, goal=problem.goal, learn_every=0)
        return Campaign(
            self._optimizer(name),
            problem.oracle,
            metric=_best_metric,
            baseline=baseline,
            initial=initial,
            batch=self.batch,
            random_state=self.random_state,
        )

    @property
    def campaign(self) -> Campaign:
        """The campaign of the selected tab (the grain boundary for *GP vs linear*)."""
        return self.campaigns["intuition" if self._tab == "intuition" else "grain_boundary"]

    @property
    def optimizer(self) -> BayesianOptimizer:
        """The optimiser of the selected tab."""
        if self._tab == "own":
            if self.own is None:
                raise MIInputError("Upload a candidate table first.")
            return self.own
        return self.campaign.sampler

    @property
    def history(self) -> tuple:
        """The selected campaign's history."""
        return self.campaign.history

    # ---------------------------------------------------------------- actions
    def select(self, tab: str) -> None:
        """Show a tab: ``"intuition"``, ``"grain_boundary"``, ``"gp_vs_linear"`` or ``"own"``."""
        check_choice(tab, "tab", TABS)
        self._tab = tab
        if self._widget is not None and self.tabs.selected_index != TABS.index(tab):
            self.tabs.selected_index = TABS.index(tab)
        self._redraw()

    def _on_tab(self, change: dict) -> None:
        self._tab = TABS[change["new"]]
        self.run_action(self._redraw)

    def step(self):
        """One step of the selected loop (on *Your data*: propose the next candidates)."""
        if self._tab == "own":
            return self.propose()
        if self.campaign.sampler.measured_mask.all():
            raise MIInputError("Every candidate is measured; press Reset to start again.")
        record = self.campaign.step()
        self._redraw()
        return record

    def run(self, n_steps: int = 10) -> list:
        """``n_steps`` steps of the selected loop, with progress."""
        n_steps = check_positive_int(n_steps, "n_steps", maximum=1000)
        if self._tab == "own":
            raise MIInputError("Your data has no oracle: measure the proposals and upload them.")
        with self.progress_shown("Stepping") as progress:
            records = self.campaign.run(n_steps, progress=progress)
        self._redraw()
        return records

    def reset(self) -> None:
        """Start the selected loop again from the same initial candidates."""
        if self._tab == "own":
            if self.own is not None:
                self.own.reset()
                self._tell_known()
        else:
            name = "intuition" if self._tab == "intuition" else "grain_boundary"
            self.campaigns[name] = self._new_campaign(name)
        self._redraw()

    def set_acquisition(self, acquisition: str) -> None:
        """Switch the acquisition of every loop (the observations are kept)."""
        check_choice(acquisition, "acquisition", ACQUISITIONS)
        self.acquisition = acquisition
        for campaign in self.campaigns.values():
            campaign.sampler.set_acquisition(acquisition)
        if self.own is not None:
            self.own.set_acquisition(acquisition)
        if self.acq_select.value != acquisition:
            self.acq_select.value = acquisition
        self._redraw()

    def _set_batch(self, value: int) -> None:
        self.batch = check_positive_int(value, "batch", maximum=20)
        for campaign in self.campaigns.values():
            campaign.batch = self.batch
        self._redraw()

    def set_length_scale(self, value: float) -> None:
        """Length scale of the intuition GP, in units of x (fixes it: learning off)."""
        if not (np.isfinite(value) and 0.001 <= value <= 10):
            raise MIInputError(f"The length scale must be between 0.001 and 10; got {value}.")
        self._length_scale = float(value)
        bo = self.campaigns["intuition"].sampler
        bo.set_hyperparameters(length_scale=value / float(bo.candidates[:, 0].std()))
        self._redraw()

    def set_noise(self, value: float) -> None:
        """Noise standard deviation of the intuition GP (relative to the values' spread)."""
        if not (np.isfinite(value) and 0.001 <= value <= 1):
            raise MIInputError(f"The noise must be between 0.001 and 1; got {value}.")
        self._noise = float(value)
        self.campaigns["intuition"].sampler.set_hyperparameters(noise=value)
        self._redraw()

    def set_learning(self, learn: bool) -> None:
        """Learn the intuition GP's hyperparameters by marginal likelihood (or fix them)."""
        self._learn = bool(learn)
        bo = self.campaigns["intuition"].sampler
        bo.learn_every = 10 if learn else 0
        if learn and bo.n_observations >= 2:
            bo.learn()
        elif not learn:
            bo.set_hyperparameters(
                length_scale=self._length_scale / float(bo.candidates[:, 0].std()),
                noise=self._noise,
                amplitude=1.0,
            )
        self.length_slider.disabled = self.noise_slider.disabled = self._learn
        self._redraw()

    def colour_by(self, colouring: str) -> None:
        """Colour the candidate map by ``"predicted"``, ``"uncertainty"`` or ``"true"``."""
        self._colouring = check_choice(colouring, "colouring", COLOURINGS)
        if self.colour_select.value != colouring:
            self.colour_select.value = colouring
        self._redraw()

    def compare_acquisitions(self, n_steps: int = 60, seeds: tuple[int, ...] = (0, 1, 2)):
        """Median best-found curves of EI, PI, UCB, TS and random on the grain boundary."""
        n_steps = check_positive_int(n_steps, "n_steps", maximum=300)
        problem = self.problems["grain_boundary"]
        n = problem.candidates.shape[0]
        total = len(ACQUISITIONS) * len(seeds)
        results: dict[str, np.ndarray] = {}
        with self.progress_shown("Comparing") as progress:
            for k, acq in enumerate(ACQUISITIONS):

                def make(seed: int, acq: str = acq) -> BayesianOptimizer:
                    return BayesianOptimizer(
                        problem.candidates, acquisition=acq, goal=problem.goal, random_state=seed
                    )

                def initial(seed: int) -> np.ndarray:
                    return np.random.default_rng(seed).choice(n, self.n_initial, replace=False)

                def report(done: int, _total: int, k: int = k) -> None:
                    progress(k * len(seeds) + done, total)

                result = compare_with_random(
                    make,
                    problem.oracle,
                    _best_metric,
                    make_initial=initial,
                    n_steps=n_steps,
                    seeds=seeds,
                    progress=report,
                )
                results[acq] = result.median("method")
                results["random"] = result.median("random")
                results["n"] = result.n_observations
        self.comparison = results
        self._draw_grain_boundary()
        return results

    def show_best_structure(self) -> None:
        """Relax the best boundary found so far with EMT and show it in 3D (grains coloured)."""
        bo = self.campaigns["grain_boundary"].sampler
        index, energy = bo.best_
        c = self.problems["grain_boundary"].candidates[index]
        with self.progress_shown("Relaxing") as progress:
            progress(0, 1)
            relaxed = grain_boundary_energy(build_grain_boundary(*c))
            progress(1, 1)
        atoms = relaxed.atoms
        labels = atoms.arrays["grain"]
        if self.view is None:
            self.view = structure_view(atoms, labels=labels, width="520px", height="360px")
            self.structure_box.children = [self.view]
        else:
            update_structure(self.view, atoms, labels=labels)
        self._structure_key = index
        self.structure_note.value = (
            f"Candidate {index}: tx = {c[0]:.2f} Å, ty = {c[1]:.2f} Å, tz = {c[2]:.2f} Å, "
            f"cut-off {c[3]:.1f} Å, {len(atoms)} atoms; {GAMMA} = {relaxed.energy:.4f} J/m² "
            f"(table: {energy:.4f}). Orange and blue: the two grains; the boundaries are "
            "where they meet (middle and ends of the cell)."
        )

    # --------------------------------------------------------------- own data
    def load_table(
        self, source: Any, *, value_column: str | None = None, goal: str | None = None
    ) -> None:
        """Use a candidate table (path or CSV bytes); its measured values are told."""
        goal = goal or self.goal_select.value
        problem = read_candidate_table(
            source, value_column=value_column, goal=goal, max_rows=MAX_LAB_CANDIDATES
        )
        optimizer = BayesianOptimizer(
            problem.candidates,
            acquisition=self.acquisition,
            goal=goal,
            random_state=self.random_state,
        )
        self.own_problem, self.own = problem, optimizer
        self._tell_known()
        self.download.value = ""
        self.select("own")

    def _tell_known(self) -> None:
        known = np.flatnonzero(self.own_problem.measured)
        if known.size:
            self.own.tell(known, self.own_problem.values[known])

    def _receive_table(self, uploaded: Any) -> None:
        self.load_table(uploaded.content)
        self.own_problem = _renamed(self.own_problem, uploaded.name)
        self._redraw()

    def propose(self, n: int | None = None) -> str:
        """The next ``n`` (default: batch) candidates of your table, as CSV to fill in."""
        bo = self.optimizer if self._tab == "own" else self.own
        if bo is None:
            raise MIInputError("Upload a candidate table first.")
        n = self.batch if n is None else check_positive_int(n, "n")
        chosen = bo.suggest(n)
        if chosen.size == 0:
            raise MIInputError("Every candidate of the table is measured.")
        mean, std = bo.predict()
        text = proposals_table_csv(self.own_problem, chosen, mean, std)
        self.download.value = download_link(
            "proposals.csv", text, mime="text/csv", label=f"Download {chosen.size} proposals (CSV)"
        )
        self._redraw()
        return text

    def tell_results(self, source: str | bytes) -> None:
        """Tell measured values back: a filled-in proposals CSV (``row`` + value column)."""
        if self.own is None:
            raise MIInputError("Upload a candidate table first.")
        indices, values = read_results(source, self.own_problem)
        self.own.tell(indices, values)
        merged = self.own_problem.values.copy()
        merged[indices] = values
        self.own_problem = _with_values(self.own_problem, merged)
        self._redraw()

    def _receive_results(self, uploaded: Any) -> None:
        self.tell_results(uploaded.content)

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


def _renamed(problem: SearchProblem, name: str) -> SearchProblem:
    from dataclasses import replace

    return replace(problem, name=name)


def _with_values(problem: SearchProblem, values: np.ndarray) -> SearchProblem:
    from dataclasses import replace

    return replace(problem, values=values)
