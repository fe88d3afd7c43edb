"""The model-choice app of lab 11: learning curves, searches, network depth, training length.

Each study is one call into ``mi_widgets.learn.studies``; the app only draws its result.
"""

from __future__ import annotations

import html
import warnings
from typing import Any

import ipywidgets as widgets
import numpy as np
from bokeh.models import ColumnDataSource, FactorRange, Span, Whisker
from sklearn.exceptions import ConvergenceWarning

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int
from mi_widgets.learn.models import elemnet_mlp, make_regressor
from mi_widgets.learn.studies import (
    choose_model,
    compare_searches,
    depth_study,
    epoch_curve,
    krr_search_space,
    learning_curves,
)
from mi_widgets.viz import OKABE_ITO, bokeh_pane, new_figure, replace_data, style_legend
from mi_widgets.viz._learn_common import _seed
from mi_widgets.viz.app import LabApp

__all__ = ["ModelChoiceLab"]


def _hold_in_range(fig: Any, source: ColumnDataSource, x: str) -> None:
    """Keep a figure's automatic y range around its error bars (whiskers alone are ignored).

    Invisible points at ``lower`` and ``upper`` make bokeh's ``DataRange1d`` include them.
    """
    for y in ("lower", "upper"):
        fig.scatter(x, y, source=source, alpha=0.0, size=1)


class ModelChoiceLab(LabApp):
    """Learning curves, grid vs random search, network depth, training length and model choice.

    Each button runs one study (scikit-learn underneath) on a random subset of
    ``n_samples`` rows, with the progress bar moving, and redraws its plot;
    nothing runs before the app is shown.  ``.results`` keeps the result
    dataclasses.  With ``groups`` every fold and split is grouped (no
    composition on both sides).

    Parameters
    ----------
    X, y : arrays
        Features and target (e.g. composition features and mixing energy).
    groups : array, optional
        One label per row (e.g. ``AlloyFeatures.groups``): folds grouped by it.
    raw : array, shape (n_samples, n_raw), optional
        A second, raw input for the depth study (ElemNet's element fractions).
    raw_name, features_name : str
        Legend names of the two inputs.
    n_samples : int
        Rows used by the studies (a random subset; keeps the lab quick).
    target_name : str
        Axis label of the error, with units.
    random_state : int or None

    Examples
    --------
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(80, 3)); y = X[:, 0]
    >>> lab = ModelChoiceLab(X, y, n_samples=60)
    >>> lab.run_choice(); lab.results["choice"].chosen in lab.results["choice"].names
    True
    """

    title = "Model choice and hyperparameters"
    css_class = "mi-model-choice"
    controls_width = "260px"

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        groups: np.ndarray | None = None,
        raw: np.ndarray | None = None,
        raw_name: str = "element fractions",
        features_name: str = "features",
        n_samples: int = 500,
        target_name: str = "MAE",
        random_state: int | None = 0,
    ):
        super().__init__(random_state=random_state)
        self.X = check_finite_array(X, "X", ndim=2)
        self.y = check_finite_array(y, "y", ndim=1)
        if len(self.X) != len(self.y) or len(self.y) < 20:
            raise MIInputError("X and y need one row per sample and at least 20 rows.")
        self.groups = None if groups is None else np.asarray(groups)
        if self.groups is not None and self.groups.shape != self.y.shape:
            raise MIInputError("groups needs one label per row of X.")
        self.raw = None if raw is None else check_finite_array(raw, "raw", ndim=2)
        if self.raw is not None and len(self.raw) != len(self.y):
            raise MIInputError("raw needs one row per row of X.")
        self.raw_name, self.features_name = str(raw_name), str(features_name)
        self._seed = _seed(random_state)
        self.target_name = str(target_name)
        self.results: dict[str, object] = {}
        self.n_samples = widgets.IntSlider(
            value=min(n_samples, len(self.y)),
            min=20,
            max=len(self.y),
            step=10,
            description="samples",
            style={"description_width": "60px"},
            layout=widgets.Layout(width="250px"),
        )
        self.search_space = widgets.Dropdown(
            options=[
                ("alpha, gamma (4 x 4 grid)", False),
                ("+ 2 minor knobs (2 x 2 x 2 x 2)", True),
            ],
            value=True,
            description="search",
            style={"description_width": "50px"},
            layout=widgets.Layout(width="250px"),
        )
        self.buttons: dict[str, widgets.Button] = {}
        for label, action in [
            ("Learning curves", self.run_learning_curves),
            ("Grid vs random search", self.run_search),
            ("Network depth", self.run_depth),
            ("Training length (epochs)", self.run_epochs),
            ("Choose model", self.run_choice),
        ]:
            button = widgets.Button(description=label, layout=widgets.Layout(width="240px"))
            self.on_click(button, action, background=True)
            self.buttons[label] = button
        self.summary = widgets.HTML("Press a button to run a study.")
        self._lines: dict[str, str] = {}
        self._build_figures()

    @property
    def app(self) -> widgets.Widget:
        """The displayed application (same as :attr:`widget`)."""
        return self.widget

    def _controls(self) -> list[widgets.Widget]:
        return [self.n_samples, self.search_space, *self.buttons.values(), self.summary]

    def _main(self) -> widgets.Widget:
        figures = [
            self.fig_curves,
            self.fig_search,
            self.fig_gamma,
            self.fig_depth,
            self.fig_epochs,
            self.fig_choice,
        ]
        # Plots beside the controls from 1024 px (one column), two columns at 1280 px.
        return widgets.HBox(
            [bokeh_pane(f) for f in figures],
            layout=widgets.Layout(flex_flow="row wrap", flex="1 1 0%", min_width="460px"),
        )

    # ------------------------------------------------------------ studies
    def _subset(self) -> tuple[np.ndarray, ...]:
        n = check_positive_int(
            int(self.n_samples.value), "samples", minimum=20, maximum=len(self.y)
        )
        rows = np.random.default_rng(self._seed).permutation(len(self.y))[:n]
        groups = None if self.groups is None else self.groups[rows]
        raw = None if self.raw is None else self.raw[rows]
        return self.X[rows], self.y[rows], groups, raw

    def _say(self, key: str, text: str) -> None:
        self._lines[key] = text
        self.summary.value = "<br>".join(self._lines.values())

    def _folds_word(self) -> str:
        return "folds grouped by composition" if self.groups is not None else "random folds"

    def run_learning_curves(self) -> None:
        """Validation MAE vs training-set size for ridge, kernel ridge, SVR and a random forest."""
        X, y, groups, _ = self._subset()
        names = ("ridge", "krr", "svr", "random_forest")
        models = {name: make_regressor(name, random_state=self._seed) for name in names}
        with self.progress_shown("Learning curves") as progress:
            lc = learning_curves(
                models, X, y, cv=3, groups=groups, random_state=self._seed, progress=progress
            )
        self.results["learning_curves"] = lc
        for k, source in enumerate(self._curve_sources):
            replace_data(
                source, n=lc.train_sizes, valid=lc.validation_mae[k], train=lc.train_mae[k]
            )
        best = lc.names[int(np.argmin(lc.validation_mae[:, -1]))]
        self._say(
            "curves",
            f"Learning curves ({self._folds_word()}): best at "
            f"{lc.train_sizes[-1]} rows: <b>{html.escape(best)}</b>.",
        )

    def run_search(self) -> None:
        """Kernel ridge: grid vs random search with 16 evaluations each (search space: dropdown)."""
        X, y, groups, _ = self._subset()
        estimator, grid, dists = krr_search_space(nuisance=bool(self.search_space.value))
        with self.progress_shown("Searching") as progress:
            search = compare_searches(
                estimator,
                grid,
                dists,
                X,
                y,
                cv=3,
                groups=groups,
                random_state=self._seed,
                progress=progress,
            )
        self.results["search"] = search
        n = np.arange(1, len(search.grid_mae) + 1)
        replace_data(self._search_sources[0], n=n, best=search.running_best(search.grid_mae))
        replace_data(self._search_sources[1], n=n, best=search.running_best(search.random_mae))
        for source, params, mae in (
            (self._gamma_sources[0], search.grid_params, search.grid_mae),
            (self._gamma_sources[1], search.random_params, search.random_mae),
        ):
            replace_data(source, gamma=[p["model__gamma"] for p in params], mae=mae)
        n_grid, n_random = search.distinct_values("model__gamma")
        self._say(
            "search",
            f"Search: best CV MAE grid {search.grid_mae.min():.3g}, random "
            f"{search.random_mae.min():.3g}; distinct gamma values tried: grid {n_grid}, "
            f"random {n_random}.",
        )

    def run_depth(self) -> None:
        """ElemNet-style MLPs with 1-4 hidden layers of 32 units, on features and on raw input."""
        X, y, groups, raw = self._subset()
        inputs = [(self.features_name, X)] + ([(self.raw_name, raw)] if raw is not None else [])
        studies = {}
        with self.progress_shown("Depth study") as progress:
            for k, (name, data) in enumerate(inputs):
                studies[name] = depth_study(
                    data,
                    y,
                    depths=(1, 2, 3, 4),
                    width=32,
                    cv=3,
                    groups=groups,
                    max_iter=150,
                    random_state=self._seed,
                    progress=lambda d, t, k=k: progress(k * t + d, len(inputs) * t),
                )
        self.results["depth"] = studies[self.features_name]
        if raw is not None:
            self.results["depth_raw"] = studies[self.raw_name]
        names = (self.features_name, self.raw_name)
        for source, name in zip(self._depth_sources, names, strict=True):
            study = studies.get(name)
            if study is None:
                replace_data(source, depth=[], mae=[], lower=[], upper=[])
                continue
            replace_data(
                source,
                depth=study.depths,
                mae=study.mae,
                lower=study.mae - study.std,
                upper=study.mae + study.std,
            )
        text = ", ".join(
            f"{html.escape(name)} {s.mae.min():.3g} at {int(s.depths[np.argmin(s.mae)])} layers"
            for name, s in studies.items()
        )
        self._say("depth", f"Depth: best CV MAE {text}.")

    def run_epochs(self) -> None:
        """Train one 3-layer network epoch by epoch: training vs validation MAE."""
        X, y, groups, _ = self._subset()
        with self.progress_shown("Training") as progress:
            curve = epoch_curve(
                X,
                y,
                depth=3,
                width=64,
                epochs=150,
                groups=groups,
                random_state=self._seed,
                progress=progress,
            )
        self.results["epochs"] = curve
        replace_data(
            self._epoch_source,
            epoch=curve.epochs,
            train=curve.train_mae,
            valid=curve.validation_mae,
        )
        self._epoch_span.location = curve.best_epoch
        self._say(
            "epochs",
            f"Training length: validation MAE lowest at epoch {curve.best_epoch} "
            f"({curve.validation_mae.min():.3g}); at epoch {int(curve.epochs[-1])}: "
            f"train {curve.train_mae[-1]:.3g}, validation {curve.validation_mae[-1]:.3g}.",
        )

    def run_choice(self) -> None:
        """Pick the model by 5-fold CV on 80 %; report its MAE on the held-out 20 % once."""
        X, y, groups, _ = self._subset()
        models = {
            name: make_regressor(name, random_state=self._seed)
            for name in ("dummy", "ridge", "krr", "svr", "random_forest")
        }
        models["mlp"] = elemnet_mlp(2, 32, random_state=self._seed, max_iter=150)
        with self.progress_shown("Choosing") as progress, warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the MLP's epoch budget
            choice = choose_model(
                models, X, y, cv=5, groups=groups, random_state=self._seed, progress=progress
            )
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
        self._say(
            "choice",
            f"Chosen by CV: <b>{html.escape(choice.chosen)}</b>, test MAE (used once): "
            f"{choice.test_mae:.3g} ({choice.n_train} train / {choice.n_test} test rows).",
        )

    def run_all(self) -> None:
        """Run every study in turn (each with its own progress)."""
        for study in (
            self.run_learning_curves,
            self.run_search,
            self.run_depth,
            self.run_epochs,
            self.run_choice,
        ):
            study()

    # ------------------------------------------------------------- figures
    def _build_figures(self) -> None:
        label = self.target_name
        size = {"width": 440, "height": 310}
        self.fig_curves = new_figure(
            "Learning curves (solid: validation, dotted: train)",
            x_axis_label="training samples",
            y_axis_label=label,
            x_axis_type="log",
            y_axis_type="log",
            **size,
        )
        self._curve_sources = []
        for k, name in enumerate(("ridge", "krr", "svr", "random_forest")):
            source = ColumnDataSource({"n": [], "valid": [], "train": []})
            color = OKABE_ITO[(4, 5, 1, 2)[k]]
            self.fig_curves.line(
                "n", "valid", source=source, color=color, line_width=3, legend_label=name
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
        style_legend(self.fig_curves, outside="below")

        self.fig_search = new_figure(
            "Grid vs random search (KRR), 16 settings each",
            x_axis_label="settings evaluated",
            y_axis_label=f"best CV {label}",
            **size,
        )
        self.fig_gamma = new_figure(
            "Every evaluation vs gamma",
            x_axis_label="gamma (RBF kernel width parameter)",
            y_axis_label=f"CV {label}",
            x_axis_type="log",
            y_axis_type="log",
            **size,
        )
        self._search_sources, self._gamma_sources = [], []
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
            points = ColumnDataSource({"gamma": [], "mae": []})
            self.fig_gamma.scatter(
                "gamma",
                "mae",
                source=points,
                size=9 if k == 0 else 7,
                color=OKABE_ITO[4 + k],
                marker="square" if k == 0 else "circle",
                alpha=0.7,
                legend_label=name,
            )
            self._gamma_sources.append(points)
        style_legend(self.fig_search, outside="below")
        style_legend(self.fig_gamma, outside="below")

        self.fig_depth = new_figure(
            "Network depth (ElemNet-style MLP)",
            x_axis_label="hidden layers",
            y_axis_label=f"CV {label}",
            **size,
        )
        self._depth_sources = []
        for k, name in enumerate((self.features_name, self.raw_name)):
            source = ColumnDataSource({"depth": [], "mae": [], "lower": [], "upper": []})
            color = OKABE_ITO[4 + k]
            self.fig_depth.line(
                "depth", "mae", source=source, line_width=3, color=color, legend_label=name
            )
            self.fig_depth.scatter("depth", "mae", source=source, size=9, color=color)
            self.fig_depth.add_layout(
                Whisker(source=source, base="depth", lower="lower", upper="upper")
            )
            _hold_in_range(self.fig_depth, source, "depth")
            self._depth_sources.append(source)
        style_legend(self.fig_depth, outside="below")

        self.fig_epochs = new_figure(
            "Training length (3 x 64 MLP)",
            x_axis_label="epochs (passes over the training rows)",
            y_axis_label=label,
            y_axis_type="log",
            **size,
        )
        self._epoch_source = ColumnDataSource({"epoch": [], "train": [], "valid": []})
        self.fig_epochs.line(
            "epoch",
            "valid",
            source=self._epoch_source,
            line_width=3,
            color=OKABE_ITO[5],
            legend_label="validation",
        )
        self.fig_epochs.line(
            "epoch",
            "train",
            source=self._epoch_source,
            line_width=2,
            line_dash="dotted",
            color=OKABE_ITO[4],
            legend_label="train",
        )
        self._epoch_span = Span(
            location=0, dimension="height", line_color="#333333", line_dash="dashed"
        )
        self.fig_epochs.add_layout(self._epoch_span)
        style_legend(self.fig_epochs, outside="below")

        self.fig_choice = new_figure(
            "Model choice: CV on the training split",
            x_range=FactorRange(factors=[]),
            y_axis_label=f"CV {label}",
            **size,
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
        _hold_in_range(self.fig_choice, self._choice_source, "name")
        self.fig_choice.y_range.start = 0
