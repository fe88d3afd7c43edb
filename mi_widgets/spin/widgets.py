"""HamiltonianLab: the lab-05 app (forward model, estimation, elbow, F(sigma), posterior)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
from bokeh.models import ColumnDataSource, Span

from mi_widgets._errors import MIInputError
from mi_widgets.spin.data import (
    KCU4P3O12_G,
    MagnetizationData,
    SusceptibilityData,
    load_kcu4p3o12,
    read_bonds_csv,
    read_magnetization_csv,
)
from mi_widgets.spin.ed import (
    BOHR_MAGNETON_MEV_PER_T,
    SpinCluster,
    differential_susceptibility,
    energy_levels,
    magnetization,
    spin_gap,
)
from mi_widgets.spin.estimation import (
    BayesianCouplingSearch,
    ElbowCurve,
    FreeEnergyCurve,
    GridCouplingSearch,
    HamiltonianEstimator,
    PosteriorSamples,
    RandomCouplingSearch,
)
from mi_widgets.viz.app import LabApp
from mi_widgets.viz.bokeh import bokeh_pane, new_figure, replace_data, style_legend
from mi_widgets.viz.palette import OKABE_ITO
from mi_widgets.viz.upload import UploadedFile

__all__ = ["HamiltonianLab"]

_SEARCH_COLORS = {"bo": OKABE_ITO[4], "random": OKABE_ITO[0], "grid": OKABE_ITO[2]}
_LEVELS_SHOWN = 40


def _parse_upload(content: bytes | str, name: str, reader):
    """``reader`` applied to an uploaded CSV's text; its error names the file."""
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    try:
        return reader(text if "\n" in text else text + "\n")
    except MIInputError as error:
        raise MIInputError(f"{name}: {error}") from None


def _wrapped(*figures) -> widgets.HBox:
    """Figures side by side, wrapping below each other when the screen is narrow."""
    return widgets.HBox(
        [bokeh_pane(figure) for figure in figures], layout=widgets.Layout(flex_flow="row wrap")
    )


def _panel(title: str, x_label: str, y_label: str, **kwargs):
    """A figure of this lab's size (440 x 300 unless given) with its axis labels."""
    kwargs.setdefault("width", 440)
    kwargs.setdefault("height", 300)
    return new_figure(title, x_axis_label=x_label, y_axis_label=y_label, **kwargs)


class HamiltonianLab(LabApp):
    """Estimate spin couplings from magnetisation curves, step by step.

    Tabs: the forward model (sliders -> M(B), dM/dB, levels against field),
    the estimation (Bayesian optimisation stepped next to random and grid search,
    the fitted curve over the data), the elbow and F(sigma), and the posterior
    (pairwise scatter of the couplings, spin-gap histogram).

    Parameters
    ----------
    cluster : SpinCluster, optional
        Default: the 8-spin KCu4P3O12 stand-in (``mi_widgets.spin.data``).
    data : MagnetizationData, optional
        The curves to fit; default the built-in noisy KCu4P3O12 curves.
    g : float, optional
        g-factor (default 2.08 for the built-in data, else 2.0).
    bounds : (float, float), default (-12, 12)
        The coupling box (meV).
    budget : int, default 300
        Forward calls of each search when run.
    random_state : int or None, default 0

    Examples
    --------
    >>> app = HamiltonianLab()
    >>> app.step(2)
    >>> {k: len(v.energy) for k, v in app.traces.items()}["random"]
    2
    """

    title = "Lab 05 · Hamiltonian estimation from magnetisation curves"
    css_class = "mi-spin-lab"
    controls_width = "310px"

    def __init__(
        self,
        cluster: SpinCluster | None = None,
        data: MagnetizationData | None = None,
        *,
        g: float | None = None,
        bounds: tuple[float, float] = (-12.0, 12.0),
        budget: int = 300,
        random_state: int | None = 0,
    ) -> None:
        super().__init__(random_state=random_state)
        builtin_cluster, builtin_data, builtin_chi = load_kcu4p3o12()
        self.cluster = cluster or builtin_cluster
        self.data = data or builtin_data
        self.chi_data: SusceptibilityData | None = builtin_chi if data is None else None
        self.g = float(g if g is not None else (KCU4P3O12_G if data is None else 2.0))
        self.bounds = (float(bounds[0]), float(bounds[1]))
        self.budget = int(budget)
        self.elbows: dict[str, ElbowCurve] = {}
        self.free_energy_curve: FreeEnergyCurve | None = None
        self.posterior: PosteriorSamples | None = None
        self._build_widgets()
        self._build_plots()
        self._new_estimation()
        self.redraw_forward()

    # --------------------------------------------------------------- widgets
    def _build_widgets(self) -> None:
        style = {"description_width": "70px"}
        lo, hi = self.bounds
        self.sliders: dict[str, widgets.FloatSlider] = {}
        self.delta_slider = widgets.FloatSlider(
            value=1.0, min=0.0, max=2.0, step=0.05, description="Δ", style=style
        )
        self.g_slider = widgets.FloatSlider(
            value=self.g, min=1.8, max=2.4, step=0.01, description="g", style=style
        )
        self.t_slider = widgets.FloatSlider(
            value=1.4, min=0.0, max=40.0, step=0.2, description="T (K)", style=style
        )
        self.slider_box = widgets.VBox()
        self._make_sliders(lo, hi)
        for w in (self.delta_slider, self.g_slider, self.t_slider):
            self.on_change(w, lambda _v: self.redraw_forward())
        self.forward_text = widgets.HTML()

        self.step_button = widgets.Button(description="Step", icon="step-forward")
        self.run_button = widgets.Button(description=f"Run to {self.budget}", icon="play")
        self.reset_button = widgets.Button(description="Reset", icon="undo")
        for b in (self.step_button, self.run_button, self.reset_button):
            b.layout.width = "95px"
        self.on_click(self.step_button, self.step)
        self.on_click(self.run_button, self.run, background=True)
        self.on_click(self.reset_button, self.reset)
        self.use_fit_button = widgets.Button(description="Sliders ← best fit")
        self.on_click(self.use_fit_button, self.use_best_fit)
        self.search_text = widgets.HTML()

        self.elbow_button = widgets.Button(description="Elbow (L1, L2)")
        self.free_button = widgets.Button(description="F(\u03c3) by MCMC")
        self.posterior_button = widgets.Button(description="Posterior")
        for b in (self.elbow_button, self.free_button, self.posterior_button):
            b.layout.width = "140px"
        self.on_click(self.elbow_button, self.compute_elbow, background=True)
        self.on_click(self.free_button, self.compute_free_energy, background=True)
        self.on_click(self.posterior_button, self.compute_posterior, background=True)
        self.analysis_text = widgets.HTML()

        self.upload_curves = self.upload_button(".csv,.txt", "Curves CSV", self._on_curves)
        self.upload_bonds = self.upload_button(".csv,.txt", "Bonds CSV", self._on_bonds)

    def _make_sliders(self, lo: float, hi: float) -> None:
        style = {"description_width": "70px"}
        self.sliders = {}
        for name in self.cluster.names:
            slider = widgets.FloatSlider(
                value=0.0, min=lo, max=hi, step=0.01, description=f"{name} (meV)", style=style
            )
            slider.add_class("mi-coupling")
            self.on_change(slider, lambda _v: self.redraw_forward())
            self.sliders[name] = slider
        self.slider_box.children = list(self.sliders.values())

    def _controls(self) -> list[widgets.Widget]:
        def heading(text: str) -> widgets.HTML:
            return widgets.HTML(f"<b>{html.escape(text)}</b>")

        return [
            heading("Forward model"),
            self.slider_box,
            self.delta_slider,
            self.g_slider,
            self.t_slider,
            self.forward_text,
            heading("Estimation"),
            widgets.HBox([self.step_button, self.run_button, self.reset_button]),
            self.use_fit_button,
            self.search_text,
            heading("Regularisation, noise, error bars"),
            widgets.HBox([self.elbow_button, self.free_button]),
            self.posterior_button,
            self.analysis_text,
            heading("Your own data"),
            self.upload_curves,
            self.upload_bonds,
        ]

    def _build_plots(self) -> None:
        # Forward model
        self.fig_m = _panel("Magnetisation M(B)", "B (T)", "M (μB / spin)")
        self.src_m = ColumnDataSource({"x": [], "y": []})
        self.src_data = ColumnDataSource({"x": [], "y": []})
        self.fig_m.scatter(
            "x", "y", source=self.src_data, size=3, color="#999999", legend_label="data (nearest T)"
        )
        self.fig_m.line(
            "x", "y", source=self.src_m, line_width=2.5, color=OKABE_ITO[4], legend_label="model"
        )
        style_legend(self.fig_m, outside="below")
        self.fig_dm = _panel("dM/dB", "B (T)", "dM/dB (μB / T)")
        self.src_dm = ColumnDataSource({"x": [], "y": []})
        self.fig_dm.line("x", "y", source=self.src_dm, line_width=2, color=OKABE_ITO[5])
        self.fig_levels = _panel(
            f"Lowest {_LEVELS_SHOWN} levels vs field", "B (T)", "E \u2212 E₀(B=0) (meV)"
        )
        self.src_levels = ColumnDataSource({"xs": [], "ys": [], "color": []})
        self.fig_levels.multi_line(
            "xs", "ys", source=self.src_levels, color="color", line_width=1.2
        )
        self.src_ground = ColumnDataSource({"x": [], "y": []})
        self.fig_levels.line("x", "y", source=self.src_ground, line_width=3, color="#000000")
        self.pane_forward = _wrapped(self.fig_m, self.fig_dm, self.fig_levels)
        # Estimation
        self.fig_trace = _panel("Best E(x) so far", "forward calls", "E(x)", y_axis_type="log")
        self.src_trace = {m: ColumnDataSource({"x": [], "y": []}) for m in ("bo", "random", "grid")}
        labels = {"bo": "Bayesian optimisation", "random": "random", "grid": "grid"}
        for m, src in self.src_trace.items():
            self.fig_trace.line(
                "x",
                "y",
                source=src,
                line_width=2.5,
                color=_SEARCH_COLORS[m],
                legend_label=labels[m],
            )
        style_legend(self.fig_trace, outside="below")
        self.fig_fit = _panel("Data and the best fit", "B (T)", "M (μB / spin)")
        self.src_fit_data = ColumnDataSource({"x": [], "y": [], "color": []})
        self.src_fit = ColumnDataSource({"xs": [], "ys": [], "color": []})
        self.fig_fit.scatter("x", "y", source=self.src_fit_data, color="color", size=3)
        self.fig_fit.multi_line("xs", "ys", source=self.src_fit, color="color", line_width=2)
        self.pane_estimation = _wrapped(self.fig_trace, self.fig_fit)
        # Elbow and F(sigma)
        self.fig_elbow = _panel(
            "Elbow: χ²(x*) vs 2\u03c3²λ",
            "2\u03c3²λ",
            "χ² (μB²)",
            x_axis_type="log",
            y_axis_type="log",
        )
        self.src_elbow = {p: ColumnDataSource({"x": [], "y": []}) for p in ("l1", "l2")}
        self.src_elbow_pick = ColumnDataSource({"x": [], "y": []})
        for k, (p, src) in enumerate(self.src_elbow.items()):
            self.fig_elbow.line(
                "x", "y", source=src, line_width=2, color=OKABE_ITO[4 + k], legend_label=p.upper()
            )
            self.fig_elbow.scatter("x", "y", source=src, size=6, color=OKABE_ITO[4 + k])
        self.fig_elbow.scatter(
            "x",
            "y",
            source=self.src_elbow_pick,
            size=14,
            marker="circle",
            fill_alpha=0,
            line_width=2,
            line_color="#000000",
        )
        style_legend(self.fig_elbow, outside="below")
        self.fig_free = _panel(
            "Free energy F(\u03c3)", "\u03c3 (μB / spin)", "F(\u03c3)", x_axis_type="log"
        )
        self.src_free = ColumnDataSource({"x": [], "y": []})
        self.fig_free.line("x", "y", source=self.src_free, line_width=2, color=OKABE_ITO[5])
        self.fig_free.scatter("x", "y", source=self.src_free, size=6, color=OKABE_ITO[5])
        self.noise_span = Span(
            location=max(self.data.noise or 1e-3, 1e-6),
            dimension="height",
            line_dash="dashed",
            line_color="#666666",
            visible=self.data.noise is not None,
        )
        self.fig_free.add_layout(self.noise_span)
        self.pane_regularisation = _wrapped(self.fig_elbow, self.fig_free)
        # Posterior
        names = list(self.cluster.names)
        self.pair_x = widgets.Dropdown(
            options=names, value=names[0], description="x", layout=widgets.Layout(width="160px")
        )
        self.pair_y = widgets.Dropdown(
            options=names,
            value=names[min(1, len(names) - 1)],
            description="y",
            layout=widgets.Layout(width="160px"),
        )
        for w in (self.pair_x, self.pair_y):
            self.on_change(w, lambda _v: self._redraw_posterior())
        self.fig_pair = _panel("Posterior samples", "J (meV)", "J (meV)", height=320)
        self.src_pair = ColumnDataSource({"x": [], "y": []})
        self.fig_pair.scatter("x", "y", source=self.src_pair, size=4, alpha=0.5, color=OKABE_ITO[4])
        self.fig_gap = _panel("Spin gap", "gap (meV)", "samples", height=320)
        self.src_gap = ColumnDataSource({"left": [], "right": [], "top": []})
        self.fig_gap.quad(
            left="left",
            right="right",
            top="top",
            bottom=0,
            source=self.src_gap,
            fill_color=OKABE_ITO[2],
            line_color="#ffffff",
        )
        self.pane_posterior = _wrapped(self.fig_pair, self.fig_gap)
        self.posterior_text = widgets.HTML()

    def _main(self) -> widgets.Widget:
        tabs = widgets.Tab(
            children=[
                self.pane_forward,
                self.pane_estimation,
                self.pane_regularisation,
                widgets.VBox(
                    [
                        widgets.HBox([self.pair_x, self.pair_y]),
                        self.pane_posterior,
                        self.posterior_text,
                    ]
                ),
            ]
        )
        for k, title in enumerate(
            ["Forward model", "Estimation", "Elbow & F(\u03c3)", "Posterior"]
        ):
            tabs.set_title(k, title)
        self.tabs = tabs
        return tabs

    # ----------------------------------------------------------- state
    @property
    def couplings(self) -> dict[str, float]:
        """The couplings set by the sliders (meV)."""
        return {name: float(s.value) for name, s in self.sliders.items()}

    def set_couplings(self, couplings: dict[str, float]) -> None:
        """Move the sliders (and redraw the forward model once)."""
        values = self.cluster.coupling_vector(couplings)
        self._hold = True
        try:
            for name, value in zip(self.cluster.names, values, strict=True):
                s = self.sliders[name]
                s.value = float(np.clip(value, s.min, s.max))
        finally:
            self._hold = False
        self.redraw_forward()

    @property
    def traces(self) -> dict[str, Any]:
        """The search traces so far: method -> SearchTrace."""
        return {m: s.trace for m, s in self.searches.items()}

    def _new_estimation(self) -> None:
        self.estimator = HamiltonianEstimator(
            self.cluster,
            self.data.fields,
            self.data.m,
            self.data.temperatures,
            g=self.g,
            sigma=self.data.noise,
            bounds=self.bounds,
            n_calls=self.budget,
            n_starts=8,
            random_state=self.random_state,
        )
        self.estimator._check()
        self.searches: dict[str, Any] = {}
        self.bo_message = ""
        try:
            self.searches["bo"] = BayesianCouplingSearch(
                self.estimator, random_state=self.random_state
            )
        except MIInputError as error:
            self.bo_message = str(error)
        self.searches["random"] = RandomCouplingSearch(
            self.estimator, random_state=self.random_state
        )
        self.searches["grid"] = GridCouplingSearch(
            self.estimator, random_state=self.random_state, n_calls=self.budget
        )
        self.elbows = {}
        self.free_energy_curve = None
        self.posterior = None
        self._redraw_estimation()
        self._redraw_regularisation()
        self._redraw_posterior()

    # ---------------------------------------------------------- forward
    def redraw_forward(self) -> None:
        """Recompute M(B), dM/dB and the levels for the slider values and redraw."""
        if getattr(self, "_hold", False):
            return
        couplings = self.couplings
        b = np.linspace(0.0, float(max(self.data.fields.max(), 1.0)), 151)
        t = float(self.t_slider.value)
        g, delta = float(self.g_slider.value), float(self.delta_slider.value)
        m = magnetization(self.cluster, couplings, b, t, g=g, delta=delta)
        replace_data(self.src_m, x=b, y=m)
        nearest = int(np.argmin(np.abs(self.data.temperatures - t)))
        replace_data(self.src_data, x=self.data.fields, y=self.data.m[nearest])
        if t > 0:
            dm = differential_susceptibility(self.cluster, couplings, b, t, g=g, delta=delta)
        else:
            dm = np.gradient(m, b)
        replace_data(self.src_dm, x=b, y=dm)
        spectrum = energy_levels(self.cluster, couplings, delta)
        e0 = float(spectrum.energies.min())
        order = np.argsort(spectrum.energies)[: min(_LEVELS_SHOWN, spectrum.energies.size)]
        levels = spectrum.at_field(b, g)[:, order] - e0
        sz = spectrum.sz[order]
        palette = {m_: OKABE_ITO[int(abs(m_)) % len(OKABE_ITO)] for m_ in np.unique(sz)}
        replace_data(
            self.src_levels,
            xs=[b] * len(order),
            ys=[levels[:, k] for k in range(len(order))],
            color=[palette[m_] for m_ in sz],
        )
        ground = (spectrum.at_field(b, g) - e0).min(axis=1)
        replace_data(self.src_ground, x=b, y=ground)
        gap = spin_gap(self.cluster, couplings, delta)
        b_c = gap / (g * BOHR_MAGNETON_MEV_PER_T)
        t_data = float(self.data.temperatures[nearest])
        m_data = magnetization(self.cluster, couplings, self.data.fields, t_data, g=g, delta=delta)
        chi2 = float(((m_data - self.data.m[nearest]) ** 2).sum())
        self.forward_text.value = (
            f"spin gap <b>{gap:.3f} meV</b> (first step at {b_c:.1f} T); "
            f"χ² to the {t_data:g} K data: {chi2:.4g}"
        )

    # ------------------------------------------------------- estimation
    def step(self, n: int = 1) -> None:
        """Advance every search by ``n`` forward calls (Bayesian optimisation, random, grid)."""
        for search in self.searches.values():
            remaining = self.budget - search.n_calls
            if remaining > 0 and not getattr(search, "converged", False):
                search.step(min(n, remaining))
        self._redraw_estimation()

    def run(self) -> None:
        """Run every search to the budget of forward calls, showing progress."""
        with self.progress_shown("Searching") as progress:
            total = len(self.searches) * self.budget
            done = 0
            for search in self.searches.values():
                start = done

                def report(k: int, _n: int, start: int = start) -> None:
                    progress(start + k, total)

                search.run(self.budget, progress=report)
                done += self.budget
        self._redraw_estimation()

    def reset(self) -> None:
        """Forget every search, the elbow, F(sigma) and the posterior."""
        self._new_estimation()

    def best_fit(self) -> tuple[str, np.ndarray, float] | None:
        """(method, couplings, E) of the lowest E(x) found by any search, or None."""
        best = None
        for method, trace in self.traces.items():
            if trace.energy.size:
                e = float(trace.energy.min())
                if best is None or e < best[2]:
                    best = (method, trace.best_x, e)
        return best

    def use_best_fit(self) -> None:
        """Set the sliders to the best couplings found so far."""
        best = self.best_fit()
        if best is None:
            raise MIInputError("no search has run yet; press Step or Run first.")
        self.set_couplings(self.estimator.as_dict(best[1]))

    def _redraw_estimation(self) -> None:
        for method, src in self.src_trace.items():
            trace = self.searches[method].trace if method in self.searches else None
            if trace is None or not trace.energy.size:
                replace_data(src, x=[], y=[])
            else:
                replace_data(src, x=np.arange(1, trace.energy.size + 1), y=trace.best_so_far)
        temps = self.data.temperatures
        colors = [OKABE_ITO[(4 + k) % len(OKABE_ITO)] for k in range(temps.size)]
        replace_data(
            self.src_fit_data,
            x=np.tile(self.data.fields, temps.size),
            y=self.data.m.ravel(),
            color=np.repeat(colors, self.data.fields.size).tolist(),
        )
        best = self.best_fit()
        lines = []
        if best is not None:
            fitted = np.atleast_2d(
                magnetization(
                    self.cluster, self.estimator.as_dict(best[1]), self.data.fields, temps, g=self.g
                )
            )
            lines = list(fitted)
        replace_data(
            self.src_fit, xs=[self.data.fields] * len(lines), ys=lines, color=colors[: len(lines)]
        )
        parts = []
        for method, search in self.searches.items():
            trace = search.trace
            if trace.energy.size:
                parts.append(
                    f"{html.escape(method)}: {trace.energy.size} calls, best E = "
                    f"{trace.energy.min():.4g}"
                )
        if best is not None:
            x = self.estimator.as_dict(best[1])
            parts.append(
                "best: "
                + ", ".join(f"{html.escape(k)} = {v:.2f}" for k, v in x.items())
                + f" meV; gap {spin_gap(self.cluster, x):.3f} meV"
            )
        if self.bo_message:
            parts.append(f"<i>{html.escape(self.bo_message)}</i>")
        self.search_text.value = "<br>".join(parts)

    # ---------------------------------------------- elbow, F(sigma), posterior
    def _ensure_map(self, progress=None) -> None:
        if not hasattr(self.estimator, "x_"):
            self.estimator.optimizer = "lbfgs"
            self.estimator.fit(progress=progress)

    def compute_elbow(self, lams: Any = None) -> None:
        """The elbow curves for the L1 and the L2 prior (fits the MAP first if needed)."""
        lams = np.logspace(-1, 4, 11) if lams is None else lams
        with self.progress_shown("Elbow") as progress:
            self._ensure_map(progress)
            curves = {
                p: self.estimator.elbow(lams, prior=p, progress=progress) for p in ("l1", "l2")
            }
        self.elbows = curves
        self._redraw_regularisation()

    def compute_free_energy(self, sigmas: Any = None, n_sweeps: int = 150) -> None:
        """F(sigma) by replica-exchange MCMC around the MAP estimate."""
        noise = self.data.noise or 0.01 * self.g / 2
        sigmas = noise * np.geomspace(0.4, 4.0, 9) if sigmas is None else sigmas
        with self.progress_shown("MCMC") as progress:
            self._ensure_map(progress)
            curve = self.estimator.free_energy(
                sigmas, n_sweeps=n_sweeps, n_burn=60, progress=progress
            )
        self.free_energy_curve = curve
        self._redraw_regularisation()

    def compute_posterior(self, n: int = 150) -> None:
        """Posterior samples of the couplings and the spin gap (sigma: the F(sigma) minimum)."""
        sigma = self.free_energy_curve.sigma_min if self.free_energy_curve else None
        with self.progress_shown("Posterior") as progress:
            self._ensure_map(progress)
            samples = self.estimator.posterior_samples(
                n, sigma=sigma, thin=3, n_burn=400, progress=progress
            )
        self.posterior = samples
        self._redraw_posterior()

    def _redraw_regularisation(self) -> None:
        for p, src in self.src_elbow.items():
            curve = self.elbows.get(p)
            if curve is None:
                replace_data(src, x=[], y=[])
            else:
                replace_data(src, x=curve.scaled, y=curve.misfit)
        picks = [(c.scaled[c.elbow_index], c.misfit[c.elbow_index]) for c in self.elbows.values()]
        replace_data(self.src_elbow_pick, x=[p[0] for p in picks], y=[p[1] for p in picks])
        curve = self.free_energy_curve
        if curve is None:
            replace_data(self.src_free, x=[], y=[])
        else:
            replace_data(
                self.src_free, x=curve.sigmas, y=curve.free_energy - curve.free_energy.min()
            )
        parts = []
        for p, c in self.elbows.items():
            at = ", ".join(
                f"{html.escape(n)} = {v:.2f}"
                for n, v in zip(c.names, c.couplings[c.elbow_index], strict=True)
            )
            parts.append(f"{p.upper()} elbow at λ = {c.lam:.3g}: {at}")
        if curve is not None:
            parts.append(
                f"F(\u03c3) lowest at \u03c3 = {curve.sigma_min:.4f} μB"
                + (f" (injected {self.data.noise:.4f})" if self.data.noise else "")
            )
        self.analysis_text.value = "<br>".join(parts)

    def _redraw_posterior(self) -> None:
        post = self.posterior
        if post is None:
            replace_data(self.src_pair, x=[], y=[])
            replace_data(self.src_gap, left=[], right=[], top=[])
            self.posterior_text.value = ""
            return
        names = list(post.names)
        ix, iy = names.index(self.pair_x.value), names.index(self.pair_y.value)
        replace_data(self.src_pair, x=post.couplings[:, ix], y=post.couplings[:, iy])
        self.fig_pair.xaxis.axis_label = f"{self.pair_x.value} (meV)"
        self.fig_pair.yaxis.axis_label = f"{self.pair_y.value} (meV)"
        counts, edges = np.histogram(post.gaps, bins=20)
        replace_data(self.src_gap, left=edges[:-1], right=edges[1:], top=counts)
        mean, sd = post.gap
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{post.mean[n]:.2f} ± {post.std[n]:.2f}</td></tr>"
            for n in names
        )
        self.posterior_text.value = (
            f"<table>{rows}<tr><td><b>gap</b></td><td><b>{mean:.3f} ± {sd:.3f} meV</b></td></tr>"
            f"</table>\u03c3 = {post.sigma:.4f} μB, {len(post.gaps)} samples, acceptance "
            f"{post.acceptance:.0%}"
        )

    # --------------------------------------------------------------- uploads
    def load_curves(self, content: bytes | str, name: str = "curves.csv") -> None:
        """Fit new curves: CSV of B, M (one curve) or T, B, M (several temperatures)."""
        data = _parse_upload(content, name, read_magnetization_csv)
        self.data = data
        self.chi_data = None
        self._new_estimation()
        self.redraw_forward()

    def load_bonds(self, content: bytes | str, name: str = "bonds.csv") -> None:
        """Use a new cluster: CSV rows i, j, name (0-based spins)."""
        cluster = _parse_upload(content, name, read_bonds_csv)
        if cluster.n_spins > 12:
            raise MIInputError(
                f"{name}: the lab fits clusters of up to 12 spins; got {cluster.n_spins}."
            )
        self.cluster = cluster
        self._make_sliders(*self.bounds)
        names = list(cluster.names)
        self.pair_x.options = names
        self.pair_y.options = names
        self.pair_y.value = names[min(1, len(names) - 1)]
        self._new_estimation()
        self.redraw_forward()

    def _on_curves(self, upload: UploadedFile) -> None:
        self.load_curves(upload.content, upload.name)

    def _on_bonds(self, upload: UploadedFile) -> None:
        self.load_bonds(upload.content, upload.name)
