"""BOLab: step Bayesian optimisation on a 1-D function, the Sigma5 grain boundary, your table.

Tabs: *Intuition* (the Forrester function: GP mean +- 2 sd, the acquisition, the next
point; length scale and noise by hand), *Grain boundary* (best energy found against
calculations for BO, random search and the exhaustive expectation; the candidate map
coloured by prediction or uncertainty; the best boundary in 3D), *GP vs linear* (both
models trained on the grain-boundary observations) and *Your data* (upload a candidate
table, download proposals, upload results). Every tab's loop is a
:class:`~mi_widgets.active.campaign.Campaign` (with a random baseline) over a
:class:`~mi_widgets.bayesopt.optimizer.BayesianOptimizer`; the plots read its history.
This module holds the controls and the actions; the figures and their redrawing come from
the base class :class:`~mi_widgets.viz.bayesopt_plots.BOPlots`.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

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
from mi_widgets.bayesopt.optimizer import ACQUISITIONS, BayesianOptimizer
from mi_widgets.viz import card, download_link, structure_view, update_structure
from mi_widgets.viz.app import LabApp
from mi_widgets.viz.bayesopt_plots import GAMMA, BOPlots

__all__ = ["BOLab"]

TABS = ("intuition", "grain_boundary", "gp_vs_linear", "own")
TAB_TITLES = ("Intuition (1-D)", "Grain boundary", "GP vs linear", "Your data")
COLOURINGS = ("predicted", "uncertainty", "true")


def _best_metric(sampler: Any) -> float:
    return sampler.best_[1]


def _log_slider(value: float, low: float, step: float, description: str) -> widgets.FloatLogSlider:
    """A base-10 log slider from ``10**low`` to 1 (a GP hyperparameter in standardised units)."""
    return widgets.FloatLogSlider(
        value=value, base=10, min=low, max=0, step=step, description=description,
        readout_format=".3f", style={"description_width": "initial"},
    )  # fmt: skip


class BOLab(BOPlots, LabApp):
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

    @property
    def exhaustive_expectation(self) -> float:
        """Calculations an exhaustive search in random order needs on average to meet the optimum.

        With ``k`` candidates sharing the optimal value among ``N``: ``(N + 1) / (k + 1)``.
        """
        values = self.problems["grain_boundary"].values
        k = int(np.sum(values == np.min(values)))
        return (values.size + 1) / (k + 1)

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


def _renamed(problem: SearchProblem, name: str) -> SearchProblem:
    from dataclasses import replace

    return replace(problem, name=name)


def _with_values(problem: SearchProblem, values: np.ndarray) -> SearchProblem:
    from dataclasses import replace

    return replace(problem, values=values)
