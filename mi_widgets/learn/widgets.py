"""Widgets of the property-prediction labs: the reject option, and model choice studies."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from bokeh.models import ColumnDataSource, FactorRange, Span, Whisker
from scipy.stats import loguniform
from sklearn.metrics import log_loss

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int
from mi_widgets.learn.models import elemnet_mlp, make_regressor, reject_option
from mi_widgets.learn.studies import (
    choose_model,
    compare_searches,
    depth_study,
    learning_curves,
)
from mi_widgets.viz import (
    OKABE_ITO,
    ErrorBanner,
    bokeh_pane,
    lab_layout,
    new_figure,
    replace_data,
    style_legend,
)

__all__ = ["ModelChoiceLab", "RejectOptionExplorer"]

_THETAS = np.linspace(0.5, 1.0, 51)


class RejectOptionExplorer:
    """Classify only when the largest posterior probability is at least theta.

    Parameters
    ----------
    probabilities : array, shape (n_samples, n_classes)
        ``predict_proba`` of a classifier on held-out samples.
    y_true : array of int, shape (n_samples,)
        True classes 0..n_classes-1.
    theta : float, default 0.5
        Initial threshold.

    Attributes
    ----------
    result : RejectOption
        Predictions, coverage and accuracy at the current theta.
    cross_entropy : float
        Log loss of the probabilities (nats per sample).
    app : ipywidgets.VBox

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7]])
    >>> lab = RejectOptionExplorer(p, np.array([0, 0, 1]))
    >>> lab.set_theta(0.65); lab.result.coverage
    0.6666666666666666
    """

    def __init__(self, probabilities: np.ndarray, y_true: np.ndarray, *, theta: float = 0.5):
        self.probabilities = check_finite_array(probabilities, "probabilities", ndim=2)
        self.y_true = np.asarray(y_true).astype(int)
        if len(self.y_true) != len(self.probabilities):
            raise MIInputError("probabilities and y_true need one row per sample.")
        self.cross_entropy = float(
            log_loss(self.y_true, self.probabilities, labels=range(self.probabilities.shape[1]))
        )
        curve = [reject_option(self.probabilities, t, self.y_true) for t in _THETAS]
        self.banner = ErrorBanner()
        self.slider = widgets.FloatSlider(
            value=theta, min=0.5, max=1.0, step=0.01, description="theta", readout_format=".2f"
        )
        self.slider.add_class("mi-reject-theta")
        self.slider.observe(self._on_slider, names="value")
        self.summary = widgets.HTML()
        fig = new_figure("Reject option", width=520, height=340, x_axis_label="theta")
        fig.y_range.start, fig.y_range.end = 0, 1.02
        fig.line(
            _THETAS,
            [r.coverage for r in curve],
            color=OKABE_ITO[4],
            line_width=3,
            legend_label="coverage (fraction classified)",
        )
        fig.line(
            _THETAS,
            [r.accuracy for r in curve],
            color=OKABE_ITO[5],
            line_width=3,
            line_dash="dashed",
            legend_label="accuracy on classified",
        )
        self._span = Span(location=theta, dimension="height", line_color="#333333", line_width=2)
        fig.add_layout(self._span)
        style_legend(fig, "bottom_left")
        self.figure = fig
        self.app = lab_layout(
            "Classification with a reject option",
            [self.slider, self.summary],
            bokeh_pane(fig),
            banner=self.banner,
        )
        self.app.add_class("mi-reject-option")
        self.set_theta(theta)

    def set_theta(self, theta: float) -> None:
        """Apply the reject rule at ``theta`` and redraw."""
        self.result = reject_option(self.probabilities, theta, self.y_true)
        self._span.location = self.result.theta
        self.summary.value = (
            f"theta = {self.result.theta:.2f}<br>classified: {100 * self.result.coverage:.1f} %"
            f"<br>accuracy on those: {100 * self.result.accuracy:.1f} %"
            f"<br>cross-entropy: {self.cross_entropy:.3f} nats"
        )

    def _on_slider(self, change: dict) -> None:
        with self.banner.catching():
            self.set_theta(float(change["new"]))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.app)


class ModelChoiceLab:
    """Learning curves, grid vs random search, network depth and model choice on one data set.

    Each button runs one study (scikit-learn underneath) on a random subset of
    ``n_samples`` rows and redraws its plot; ``.results`` keeps the result
    dataclasses.

    Parameters
    ----------
    X, y : arrays
        Features and target (e.g. composition features and mixing energy).
    n_samples : int
        Rows used by the studies (a random subset; keeps the lab quick).
    target_name : str
        Axis label of the error, with units.
    random_state : int

    Examples
    --------
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(80, 3)); y = X[:, 0]
    >>> lab = ModelChoiceLab(X, y, n_samples=60)
    >>> lab.run_choice(); lab.results["choice"].chosen in lab.results["choice"].names
    True
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        n_samples: int = 500,
        target_name: str = "MAE",
        random_state: int = 0,
    ):
        self.X = check_finite_array(X, "X", ndim=2)
        self.y = check_finite_array(y, "y", ndim=1)
        if len(self.X) != len(self.y) or len(self.y) < 20:
            raise MIInputError("X and y need one row per sample and at least 20 rows.")
        self.random_state = random_state
        self.target_name = target_name
        self.results: dict[str, object] = {}
        self.banner = ErrorBanner()
        self.n_samples = widgets.IntSlider(
            value=min(n_samples, len(self.y)),
            min=20,
            max=len(self.y),
            step=10,
            description="samples",
            style={"description_width": "60px"},
            layout=widgets.Layout(width="240px"),
        )
        self.progress = widgets.IntProgress(min=0, max=4, value=0, description="Progress")
        buttons = []
        for label, action in [
            ("Learning curves", self.run_learning_curves),
            ("Grid vs random search", self.run_search),
            ("Network depth", self.run_depth),
            ("Choose model", self.run_choice),
            ("Run all", self.run_all),
        ]:
            button = widgets.Button(description=label, layout=widgets.Layout(width="220px"))
            button.on_click(lambda _, act=action: self._run(act))
            buttons.append(button)
        self._build_figures()
        grid = widgets.VBox(
            [
                widgets.HBox([bokeh_pane(self.fig_curves), bokeh_pane(self.fig_search)]),
                widgets.HBox([bokeh_pane(self.fig_depth), bokeh_pane(self.fig_choice)]),
            ]
        )
        self.summary = widgets.HTML()
        self.app = lab_layout(
            "Model choice and hyperparameters",
            [self.n_samples, *buttons, self.progress, self.summary],
            grid,
            banner=self.banner,
            controls_width="250px",
        )
        self.app.add_class("mi-model-choice")

    # ------------------------------------------------------------ studies
    def _subset(self) -> tuple[np.ndarray, np.ndarray]:
        n = check_positive_int(
            int(self.n_samples.value), "samples", minimum=20, maximum=len(self.y)
        )
        rows = np.random.default_rng(self.random_state).permutation(len(self.y))[:n]
        return self.X[rows], self.y[rows]

    def run_learning_curves(self) -> None:
        """Validation MAE vs training-set size for ridge, kernel ridge and a random forest."""
        X, y = self._subset()
        models = {
            name: make_regressor(name, random_state=self.random_state)
            for name in ("ridge", "krr", "random_forest")
        }
        lc = learning_curves(models, X, y, cv=3, random_state=self.random_state)
        self.results["learning_curves"] = lc
        for k, source in enumerate(self._curve_sources):
            replace_data(
                source, n=lc.train_sizes, valid=lc.validation_mae[k], train=lc.train_mae[k]
            )

    def run_search(self) -> None:
        """Kernel ridge: a 4 x 4 grid of (alpha, gamma) vs 16 random draws, same budget."""
        X, y = self._subset()
        grid = {
            "model__alpha": np.logspace(-4, -1, 4).tolist(),
            "model__gamma": np.logspace(-3, 0, 4).tolist(),
        }
        dists = {"model__alpha": loguniform(1e-4, 1e-1), "model__gamma": loguniform(1e-3, 1e0)}
        search = compare_searches(
            make_regressor("krr"), grid, dists, X, y, cv=3, random_state=self.random_state
        )
        self.results["search"] = search
        n = np.arange(1, len(search.grid_mae) + 1)
        replace_data(self._search_sources[0], n=n, best=search.running_best(search.grid_mae))
        replace_data(self._search_sources[1], n=n, best=search.running_best(search.random_mae))

    def run_depth(self) -> None:
        """ElemNet-style MLPs with 1-4 hidden layers of 32 units."""
        X, y = self._subset()
        study = depth_study(
            X, y, depths=(1, 2, 3, 4), width=32, cv=3, max_iter=150, random_state=self.random_state
        )
        self.results["depth"] = study
        replace_data(
            self._depth_source,
            depth=study.depths,
            mae=study.mae,
            lower=study.mae - study.std,
            upper=study.mae + study.std,
        )

    def run_choice(self) -> None:
        """Pick the model by 5-fold CV on 80 %; report its MAE on the held-out 20 % once."""
        X, y = self._subset()
        models = {
            name: make_regressor(name, random_state=self.random_state)
            for name in ("dummy", "ridge", "krr", "svr", "random_forest")
        }
        models["mlp"] = elemnet_mlp(2, 32, random_state=self.random_state, max_iter=150)
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():  # the MLP's epoch budget is deliberate
            warnings.simplefilter("ignore", ConvergenceWarning)
            choice = choose_model(models, X, y, cv=5, random_state=self.random_state)
        self.results["choice"] = choice
        self.fig_choice.x_range.factors = list(choice.names)
        colors = [OKABE_ITO[5] if n == choice.chosen else OKABE_ITO[4] for n in choice.names]
        replace_data(
            self._choice_source,
            name=list(choice.names),
            mae=choice.cv_mae,
            lower=choice.cv_mae - choice.cv_std,
            upper=choice.cv_mae + choice.cv_std,
            color=colors,
        )
        self.summary.value = (
            f"Chosen by CV: <b>{html.escape(choice.chosen)}</b><br>"
            f"test MAE (used once): {choice.test_mae:.4g}<br>"
            f"{choice.n_train} train / {choice.n_test} test rows"
        )

    def run_all(self) -> None:
        """Run the four studies, moving the progress bar."""
        self.progress.value = 0
        for study in (self.run_learning_curves, self.run_search, self.run_depth, self.run_choice):
            study()
            self.progress.value += 1

    def _run(self, action) -> None:
        self.progress.bar_style = "info"
        self.progress.description = "Running"
        with self.banner.catching():
            action()
        self.progress.bar_style = ""
        self.progress.description = "Progress"

    # ------------------------------------------------------------- figures
    def _build_figures(self) -> None:
        label = self.target_name
        self.fig_curves = new_figure(
            "Learning curves (solid: validation, dotted: train)",
            width=440,
            height=300,
            x_axis_label="training samples",
            y_axis_label=label,
            x_axis_type="log",
            y_axis_type="log",
        )
        self._curve_sources = []
        for k, name in enumerate(("ridge", "krr", "random_forest")):
            source = ColumnDataSource({"n": [], "valid": [], "train": []})
            color = OKABE_ITO[(4, 5, 2)[k]]
            self.fig_curves.line(
                "n",
                "valid",
                source=source,
                color=color,
                line_width=3,
                legend_label=name,
            )
            self.fig_curves.line(
                "n",
                "train",
                source=source,
                color=color,
                line_width=1.5,
                line_dash="dotted",
                legend_label=name,
            )
            self._curve_sources.append(source)
        style_legend(self.fig_curves, "bottom_left")
        self.fig_curves.legend.label_text_font_size = "10px"

        self.fig_search = new_figure(
            "Grid vs random search (KRR)",
            width=440,
            height=300,
            x_axis_label="settings evaluated",
            y_axis_label=f"best CV {label}",
        )
        self._search_sources = []
        for k, name in enumerate(("grid", "random")):
            source = ColumnDataSource({"n": [], "best": []})
            self.fig_search.step(
                "n",
                "best",
                source=source,
                mode="after",
                line_width=3,
                color=OKABE_ITO[4 + k],
                legend_label=name,
            )
            self._search_sources.append(source)
        style_legend(self.fig_search)

        self.fig_depth = new_figure(
            "Network depth (ElemNet-style MLP)",
            width=440,
            height=300,
            x_axis_label="hidden layers",
            y_axis_label=f"CV {label}",
        )
        self._depth_source = ColumnDataSource({"depth": [], "mae": [], "lower": [], "upper": []})
        self.fig_depth.line(
            "depth", "mae", source=self._depth_source, line_width=3, color=OKABE_ITO[4]
        )
        self.fig_depth.scatter(
            "depth", "mae", source=self._depth_source, size=9, color=OKABE_ITO[4]
        )
        self.fig_depth.add_layout(
            Whisker(source=self._depth_source, base="depth", lower="lower", upper="upper")
        )

        self.fig_choice = new_figure(
            "Model choice: CV on the training split",
            width=440,
            height=300,
            x_range=FactorRange(factors=[]),
            y_axis_label=f"CV {label}",
        )
        self._choice_source = ColumnDataSource(
            {"name": [], "mae": [], "lower": [], "upper": [], "color": []}
        )
        self.fig_choice.vbar(
            x="name", top="mae", width=0.7, color="color", source=self._choice_source
        )
        self.fig_choice.add_layout(
            Whisker(source=self._choice_source, base="name", lower="lower", upper="upper")
        )
        self.fig_choice.y_range.start = 0

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.app)
