"""PhaseDiagramLab: step uncertainty sampling of a phase diagram (PDC) in bokeh + ipywidgets.

This module holds the controls, the campaign and the actions; the figures and their
redrawing come from the base class
:class:`~mi_widgets.viz.active_plots.PhaseDiagramPlots`.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets.active.campaign import Campaign, CampaignRecord
from mi_widgets.active.design import initial_design, unary_binary_design
from mi_widgets.active.io import load_phase_diagram, read_phase_csv
from mi_widgets.active.metrics import macro_f1_metric
from mi_widgets.active.pdc import BATCHES, ESTIMATORS, GRAPHS, SCORES, PhaseDiagramSampler
from mi_widgets.active.thermo import BUILTIN_DIAGRAMS, PhaseDiagram
from mi_widgets.viz import card, class_colors
from mi_widgets.viz.active_plots import PhaseDiagramPlots, plot_coordinates
from mi_widgets.viz.app import LabApp
from mi_widgets.viz.upload import UploadedFile

__all__ = ["DENSE_GRAPH_LIMIT", "MAX_UPLOAD_CANDIDATES", "PhaseDiagramLab"]

VIEWS = ("phases", "uncertainty")
STARTS = ("random", "unary_binary")
#: Largest candidate set for which the lab offers the dense RBF graph (O(N^2) memory and time).
DENSE_GRAPH_LIMIT = 3000

#: Most candidate rows an uploaded CSV may have (parsing and checking 10^6 rows took 12 s;
#: the built-in diagrams have about 5,000).
MAX_UPLOAD_CANDIDATES = 50_000


class PhaseDiagramLab(PhaseDiagramPlots, LabApp):
    """Step uncertainty sampling on a phase diagram and watch the estimate improve.

    Parameters
    ----------
    diagram : str or PhaseDiagram, default "eutectic"
        A built-in name (``"eutectic"``, ``"peritectic"``, ``"ternary"``), a loaded
        diagram with true labels (simulated experiments), or your own candidate table
        (labels ``None`` where unmeasured: the lab then only proposes).
    n_initial : int, default 5
        Random starting measurements for a diagram with true labels.
    start : {"random", "unary_binary"}, default "random"
        The initial design: ``n_initial`` random points (at least two phases among
        them), or, for compositions (ternaries), the pure elements and three points on
        each binary edge (:func:`~mi_widgets.active.design.unary_binary_design`).
    random_state : int or None, default 0
        Seed of the starting points and of the random-sampling baseline.

    Attributes
    ----------
    campaign : Campaign
        The sampler, the oracle (the true labels), Macro-F1 and the random baseline;
        its history is what the lab shows and exports.
    sampler : PhaseDiagramSampler
        The campaign's sampler.
    proposals : ndarray of int
        The next candidates to measure (ringed on the map).

    Examples
    --------
    >>> lab = PhaseDiagramLab("eutectic")
    >>> lab.step()
    >>> lab.history[-1].n_observations
    6
    """

    title = "Phase diagram by uncertainty sampling (PDC)"
    controls_width = "330px"
    css_class = "mi-phase-lab"

    def __init__(
        self,
        diagram: str | PhaseDiagram = "eutectic",
        *,
        n_initial: int = 5,
        start: str = "random",
        random_state: int | None = 0,
    ) -> None:
        super().__init__(random_state=random_state)
        self.n_initial = check_positive_int(n_initial, "n_initial")
        self._build_controls()
        self._syncing = True
        self.start_choice.value = check_choice(start, "start", STARTS)
        self._build_plots()
        self._syncing = False
        self.campaign: Campaign | None = None
        self.proposals = np.array([], dtype=int)
        self._load(diagram)
        self._redraw()

    # ------------------------------------------------------------------ UI
    def _build_controls(self) -> None:
        self.diagram_choice = widgets.Dropdown(
            options=[*BUILTIN_DIAGRAMS], value="eutectic", description="Diagram"
        )
        self.estimator_choice = widgets.Dropdown(
            options=[("label propagation", ESTIMATORS[0]), ("label spreading", ESTIMATORS[1])],
            value=ESTIMATORS[0],
            description="Estimator",
        )
        self.graph_choice = widgets.Dropdown(
            options=[("kNN (sparse)", "knn"), ("RBF (dense, original)", "rbf")],
            value="knn",
            description="Graph",
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
        self.start_choice = widgets.Dropdown(
            options=[("random points", "random"), ("elements + binary edges", "unary_binary")],
            value="random",
            description="Start",
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
        self.status = widgets.HTML()
        self.legend = widgets.HTML()
        self.upload = self.upload_button(".csv,.txt", "Upload candidates CSV", self._receive)
        self.download = widgets.HTML()
        self.history_download = widgets.HTML()
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
        self.on_click(self.step_button, self.step)
        self.on_click(self.run_button, self.run)
        self.on_click(self.reset_button, self.reset)
        self.on_change(self.diagram_choice, self._on_diagram)
        self.on_change(self.start_choice, self._on_start)
        for w in (self.estimator_choice, self.graph_choice, self.score_choice):
            self.on_change(w, lambda _value: self._apply_settings())
        for w in (self.batch_size, self.batch_choice):
            self.on_change(w, lambda _value: self._apply_batch())
        for w in (self.view_choice, self.truth_toggle):
            self.on_change(w, lambda _value: self._on_view())

    def _controls(self) -> list[widgets.Widget]:
        sampling = widgets.VBox(
            [
                self.diagram_choice,
                self.start_choice,
                self.estimator_choice,
                self.graph_choice,
                self.score_choice,
                self.batch_choice,
                self.batch_size,
                self.run_steps,
                widgets.HBox([self.step_button, self.run_button, self.reset_button]),
            ]
        )
        view = widgets.VBox([self.view_choice, self.truth_toggle, self.legend])
        own = widgets.VBox([self.upload, self.proposal_table, self.download])
        return [
            card("Sampling", sampling),
            card("View", view),
            card("Your own experiments", own),
        ]

    def _main(self) -> widgets.Widget:
        return widgets.VBox(
            [
                self.status,
                widgets.HBox(
                    [self.map_pane, self.curve_pane], layout=widgets.Layout(flex_flow="row wrap")
                ),
                self.history_download,
            ]
        )

    # --------------------------------------------------------------- state
    @property
    def has_truth(self) -> bool:
        """Whether every candidate has a true label (simulated experiments)."""
        return self.truth is not None

    @property
    def sampler(self) -> PhaseDiagramSampler:
        """The campaign's sampler."""
        return self.campaign.sampler

    @property
    def history(self) -> tuple[CampaignRecord, ...]:
        """The campaign's history: the initial design first, then one record per step."""
        return self.campaign.history

    @property
    def result(self) -> CampaignRecord | None:
        """The latest step (``None`` before any measurement)."""
        return self.history[-1] if self.history else None

    def random_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """``(measured points, Macro-F1)`` of the random baseline, read from the campaign."""
        return self.campaign.curve("baseline_metric")

    def _load(self, diagram: str | PhaseDiagram) -> None:
        """Validate everything first, then switch to ``diagram`` (state assigned last)."""
        if isinstance(diagram, str):
            check_choice(diagram, "diagram", BUILTIN_DIAGRAMS)
            diagram = load_phase_diagram(diagram)
        labels = np.asarray(diagram.labels, dtype=object)
        complete = all(v is not None for v in labels.tolist())
        truth = labels.astype(str) if complete else None
        settings = self._settings(len(diagram.coordinates))
        if diagram.kind != "ternary" and self.start_choice.value == "unary_binary":
            self._syncing = True  # the elements + edges design is for compositions
            try:
                self.start_choice.value = "random"
            finally:
                self._syncing = False
        campaign = self._new_campaign(diagram, truth, settings)
        if truth is not None:
            classes = np.unique(truth)
        else:
            measured = [str(v) for v in labels.tolist() if v is not None]
            classes = np.unique(np.array(measured, dtype=str)) if measured else np.array([])
        self.diagram, self.truth, self.campaign = diagram, truth, campaign
        self._start = self.start_choice.value
        self.px, self.py = plot_coordinates(diagram)
        self._color_of = dict(zip(classes.tolist(), class_colors(len(classes)), strict=True))
        self._setup_axes()
        self._syncing = True  # show which built-in is loaded (none for the user's own file)
        try:
            self.diagram_choice.value = diagram.name if diagram.name in BUILTIN_DIAGRAMS else None
        finally:
            self._syncing = False
        self._propose()

    def _settings(self, n_candidates: int) -> dict[str, Any]:
        estimator = check_choice(self.estimator_choice.value, "estimator", ESTIMATORS)
        graph = check_choice(self.graph_choice.value, "graph", GRAPHS)
        score = check_choice(self.score_choice.value, "score", SCORES)
        batch = check_choice(self.batch_choice.value, "batch", BATCHES)
        if graph == "rbf" and n_candidates > DENSE_GRAPH_LIMIT:
            raise MIInputError(
                f"The dense RBF graph is offered up to {DENSE_GRAPH_LIMIT} candidates; this "
                f"diagram has {n_candidates}. Use the kNN graph, or a coarser candidate grid."
            )
        return {"estimator": estimator, "graph": graph, "score": score, "batch": batch}

    def _new_sampler(self, coordinates: np.ndarray, settings: dict[str, Any], **extra):
        return PhaseDiagramSampler(
            coordinates,
            estimator=settings["estimator"],
            graph=settings["graph"],
            score=settings["score"],
            batch=settings["batch"],
            random_state=self.random_state,
            **extra,
        )

    def _new_campaign(
        self, diagram: PhaseDiagram, truth: np.ndarray | None, settings: dict[str, Any]
    ) -> Campaign:
        coordinates = diagram.coordinates
        batch = check_positive_int(self.batch_size.value, "batch size", maximum=50)
        if truth is not None:
            start = self._initial_design(coordinates, truth)
            return Campaign(
                self._new_sampler(coordinates, settings, until_two_phases="random"),
                lambda idx: truth[idx].tolist(),
                metric=macro_f1_metric(truth),
                baseline=self._new_sampler(coordinates, settings, until_two_phases="random"),
                initial=start,
                batch=batch,
                random_state=self.random_state,
            )
        labels = np.asarray(diagram.labels, dtype=object)
        known = np.flatnonzero([v is not None for v in labels.tolist()])

        def table(idx: np.ndarray) -> list:
            if any(labels[i] is None for i in idx):
                raise MIInputError(
                    "Without true labels nothing can be measured here; measure the proposals, "
                    "fill their phases into your CSV and upload it again."
                )
            return labels[idx].tolist()

        return Campaign(
            self._new_sampler(coordinates, settings),
            table,
            initial=known,
            batch=batch,
            random_state=self.random_state,
        )

    def _initial_design(self, coordinates: np.ndarray, truth: np.ndarray) -> np.ndarray:
        if check_choice(self.start_choice.value, "start", STARTS) == "unary_binary":
            return unary_binary_design(coordinates)
        return initial_design(truth, self.n_initial, random_state=self.random_state)

    def _propose(self) -> None:
        """Compute the next proposals (cleared first, so a failure leaves none shown)."""
        self.proposals = np.array([], dtype=int)
        free = int((~self.sampler.measured_mask).sum())
        if not self.sampler.measured_mask.any():
            raise MIInputError(
                f"No candidate in {self.diagram.name} has a phase yet; fill in the phases of "
                "a few measured candidates (at least two different phases) and upload it again."
            )
        if free == 0:
            return
        n = check_positive_int(self.batch_size.value, "batch size", maximum=50)
        if n > free:
            raise MIInputError(f"Batch size {n} is more than the {free} unmeasured candidates.")
        self.proposals = self.sampler.suggest(n)

    # -------------------------------------------------------------- actions
    def reset(self) -> None:
        """Start again: the seeded starting points (built-in) or the uploaded measurements."""
        self.campaign.reset()
        self._redraw_after(self._propose)

    def step(self) -> None:
        """Measure the highlighted proposals (built-in) or propose again (own data)."""
        if self.has_truth:
            if self.proposals.size == 0:
                raise MIInputError("Every candidate is measured; press Reset to start again.")
            self.campaign.step(len(self.proposals))
        self._redraw_after(self._propose)

    def run(self, n_steps: int | None = None) -> None:
        """Do ``n_steps`` steps (default: the "N steps" box) with a progress bar."""
        n = check_positive_int(
            self.run_steps.value if n_steps is None else n_steps, "N steps", maximum=5000
        )
        if not self.has_truth:
            raise MIInputError(
                "Run N needs true labels; with your own data use Step to "
                "get proposals, measure them, and upload the CSV again."
            )
        try:
            with self.progress_shown("Running") as progress:
                for i in range(n):
                    if self.proposals.size == 0:
                        break
                    self.campaign.step(len(self.proposals))
                    self._propose()
                    progress(i + 1, n)
        finally:
            self._redraw()

    def set_view(self, view: str) -> None:
        """Colour the map by predicted phase (``"phases"``) or by ``"uncertainty"``."""
        self.view_choice.value = check_choice(view, "view", VIEWS)

    def reveal_truth(self, show: bool = True) -> None:
        """Show the true diagram instead of the estimate (built-in diagrams)."""
        self.truth_toggle.value = bool(show)

    def load_csv(self, content: bytes, name: str = "upload.csv") -> None:
        """Use your own candidates: CSV with the phase first (empty = unmeasured)."""
        obs = read_phase_csv(content, name=name, max_rows=MAX_UPLOAD_CANDIDATES)
        self._redraw_after(lambda: self._load(obs))

    def load_diagram(self, name: str) -> None:
        """Switch to a built-in diagram (``"eutectic"``, ``"peritectic"``, ``"ternary"``)."""
        self._redraw_after(lambda: self._load(check_choice(name, "diagram", BUILTIN_DIAGRAMS)))

    def _redraw_after(self, action) -> None:
        """Run ``action`` and redraw whether or not it raised (the state shown stays true)."""
        try:
            action()
        finally:
            self._redraw()

    # ------------------------------------------------------------ callbacks
    def _receive(self, uploaded: UploadedFile) -> None:
        self.load_csv(uploaded.content, uploaded.name)

    def _on_diagram(self, value: str | None) -> None:
        if self._syncing or value is None:
            return
        try:
            self.load_diagram(value)
        except MIInputError:
            self._show_loaded_settings()
            raise

    def _on_start(self, value: str) -> None:
        if self._syncing:
            return
        try:
            self.set_start(value)
        except MIInputError:
            self._show_loaded_settings()
            raise

    def set_start(self, start: str) -> None:
        """Start again from ``"random"`` points or the ``"unary_binary"`` design."""
        start = check_choice(start, "start", STARTS)
        if not self.has_truth:
            raise MIInputError(
                "The initial design applies to diagrams with true labels; your own data "
                "starts from the phases in your CSV."
            )
        if start == "unary_binary" and self.diagram.kind != "ternary":
            raise MIInputError(
                "The elements + binary edges start is for ternary compositions; "
                f"{self.diagram.name} is not one. Use random points."
            )
        previous = self._start
        self._syncing = True
        try:
            self.start_choice.value = start
        finally:
            self._syncing = False
        try:
            campaign = self._new_campaign(
                self.diagram, self.truth, self._settings(len(self.diagram.coordinates))
            )
        except MIInputError:
            self._syncing = True
            try:
                self.start_choice.value = previous
            finally:
                self._syncing = False
            raise
        self.campaign, self._start = campaign, start
        self._redraw_after(self._propose)

    def _show_loaded_settings(self) -> None:
        """Put the dropdowns back to what is loaded (after a refused change)."""
        self._syncing = True
        try:
            name = self.diagram.name
            self.diagram_choice.value = name if name in BUILTIN_DIAGRAMS else None
            self.estimator_choice.value = self.sampler.estimator
            self.graph_choice.value = self.sampler.graph
            self.score_choice.value = self.sampler.score
            self.start_choice.value = self._start
        finally:
            self._syncing = False

    def _apply_settings(self) -> None:
        """Rebuild both samplers with the new settings; every measurement is kept."""
        if self._syncing:
            return
        try:
            settings = self._settings(len(self.diagram.coordinates))
        except MIInputError:
            self._show_loaded_settings()
            raise
        campaign = self.campaign
        extra = {"until_two_phases": "random"} if self.has_truth else {}
        sampler = self._new_sampler(self.diagram.coordinates, settings, **extra)
        order = list(self.sampler.order_)
        if order:  # keep every measurement, in the order measured
            sampler.tell(order, self.sampler.labels[order].tolist())
        baseline = None
        if campaign.baseline is not None:
            old = campaign.baseline.sampler
            baseline = self._new_sampler(self.diagram.coordinates, settings, **extra)
            if old.order_:
                baseline.tell(old.order_, old.labels[old.order_].tolist())
        campaign.sampler = sampler
        if baseline is not None:
            campaign.baseline.sampler = baseline
        self._redraw_after(self._propose)

    def _apply_batch(self) -> None:
        batch = check_choice(self.batch_choice.value, "batch", BATCHES)
        n = check_positive_int(self.batch_size.value, "batch size", maximum=50)
        self.sampler.batch = batch
        self.campaign.batch = n
        self._redraw_after(self._propose)

    def _on_view(self) -> None:
        check_choice(self.view_choice.value, "view", VIEWS)
        self._redraw()
