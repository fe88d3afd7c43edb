"""Apps of the property-prediction labs (10, 11): importance explorer, reject option, model choice.

Each app is a :class:`~mi_widgets.viz.app.LabApp`: its public methods are the
actions (they raise :class:`MIInputError` on bad input; from a button they run
inside the error banner) and every computation is one call into the core
(``mi_widgets.learn``).
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from bokeh.models import (
    BasicTicker,
    ColorBar,
    ColumnDataSource,
    FactorRange,
    LinearColorMapper,
    Range1d,
    Span,
    TapTool,
    Whisker,
)
from bokeh.palettes import RdBu11
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss, mean_absolute_error

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int
from mi_widgets.learn.features import CorrelationFilter
from mi_widgets.learn.importance import MAX_TABLE_ROWS, fit_table_model, split_warning
from mi_widgets.learn.io import Table, read_table
from mi_widgets.learn.models import elemnet_mlp, make_regressor, reject_option
from mi_widgets.learn.permutation import chunked_permutation_importance, permuted_prediction
from mi_widgets.learn.studies import (
    choose_model,
    compare_searches,
    depth_study,
    epoch_curve,
    krr_search_space,
    learning_curves,
)
from mi_widgets.viz import OKABE_ITO, bokeh_pane, new_figure, replace_data, style_legend
from mi_widgets.viz.app import LabApp

__all__ = ["ModelChoiceLab", "PermutationImportanceExplorer", "RejectOptionExplorer"]

_BEFORE, _AFTER = OKABE_ITO[4], OKABE_ITO[5]  # blue, vermillion
_THETAS = np.linspace(0.5, 1.0, 51)
_LABEL_PX = "12px"  # readable when projected

#: Most rows an uploaded table may have: longer ones are refused before they are parsed
#: (parsing 1.7 million rows took 8 s); up to this, tables over ``max_rows`` are subsampled.
MAX_UPLOAD_ROWS = 200_000


def _seed(random_state: int | None) -> int:
    """A whole-number seed for the core functions that need one."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    return check_positive_int(random_state, "random_state", minimum=0)


def _warning_html(notes: Sequence[str]) -> str:
    return "".join(
        f'<div style="color:#a15c00;margin-top:4px;">{html.escape(n)}</div>' for n in notes
    )


def _hold_in_range(fig: Any, source: ColumnDataSource, x: str) -> None:
    """Keep a figure's automatic y range around its error bars (whiskers alone are ignored).

    Invisible points at ``lower`` and ``upper`` make bokeh's ``DataRange1d`` include them.
    """
    for y in ("lower", "upper"):
        fig.scatter(x, y, source=source, alpha=0.0, size=1)


class PermutationImportanceExplorer(LabApp):
    """Permutation feature importance of a fitted regression model, explorable by clicking.

    Bars: the increase of the error when one feature is shuffled (scikit-learn's
    ``permutation_importance``, mean and standard deviation over repeats); the
    model is *not* refitted, so the bars say what this model relies on.  Click
    a bar: predicted vs true before and after shuffling that feature, with
    both MAEs.  Beside them: the feature-correlation heat map, because
    correlated features share importance.

    Parameters
    ----------
    model : fitted scikit-learn regressor, optional
        The model to explain.  If None, upload a CSV (or call :meth:`load_csv`)
        and a random forest is fitted on 75 % of its rows (split by composition
        when the table has a composition column).
    X : array, shape (n_samples, n_features), optional
        Data the importances are measured on - ideally a held-out test split.
    y : array, shape (n_samples,), optional
        True targets of ``X``.
    feature_names : sequence of str, optional
        One name per column of ``X`` (default ``x0, x1, ...``).
    n_repeats : int, default 5
        Shuffles per feature (``permutation_importance``'s ``n_repeats``).
    random_state : int or None, default 0
        Seed; ``.result`` equals ``permutation_importance(model, X, y,
        scoring="neg_mean_absolute_error", n_repeats=n_repeats,
        random_state=random_state)``.
    chunk_size : int, default 4
        Features per step of the progress bar.
    target_name : str
        Name of the target on the axes (with units, e.g. ``"E_mix (eV/atom)"``).
    max_rows : int
        Uploaded tables with more rows are subsampled to this many (with a message).

    Attributes
    ----------
    result : sklearn.utils.Bunch or None
        ``importances_mean``, ``importances_std``, ``importances`` (increase of
        the MAE, units of y).
    selected : str or None
        The feature shown in the scatter plot.
    mae_before, mae_after : float
        MAE of the model before / after shuffling the selected feature.
    notes : tuple of str
        Warnings shown under the status (subsampling, a split too small to trust).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 3)); y = 2 * X[:, 0] + 0.1 * X[:, 1]
    >>> model = LinearRegression().fit(X, y)
    >>> explorer = PermutationImportanceExplorer(model, X, y, ["a", "b", "c"])
    >>> explorer.selected
    'a'
    >>> explorer.mae_after > explorer.mae_before
    True
    """

    title = "Permutation feature importance"
    css_class = "mi-importance-explorer"
    controls_width = "280px"

    def __init__(
        self,
        model: Any = None,
        X: np.ndarray | None = None,
        y: np.ndarray | None = None,
        feature_names: Sequence[str] | None = None,
        *,
        n_repeats: int = 5,
        random_state: int | None = 0,
        chunk_size: int = 4,
        target_name: str = "target",
        max_rows: int = MAX_TABLE_ROWS,
    ):
        super().__init__(random_state=random_state)
        self.n_repeats = check_positive_int(n_repeats, "n_repeats", maximum=1000)
        self._seed = _seed(random_state)
        self.chunk_size = check_positive_int(chunk_size, "chunk_size")
        self.max_rows = check_positive_int(max_rows, "max_rows", minimum=20)
        self.target_name = str(target_name)
        self.model = None
        self.X = np.zeros((0, 0))
        self.y = np.zeros(0)
        self.feature_names: tuple[str, ...] = ()
        self.result = None
        self.selected: str | None = None
        self.mae_before = float("nan")
        self.mae_after = float("nan")
        self.notes: tuple[str, ...] = ()
        self.table: Table | None = None
        self._syncing = False
        self._build()
        if model is not None:
            self.set_model(model, X, y, feature_names)

    @property
    def app(self) -> widgets.Widget:
        """The displayed application (same as :attr:`widget`)."""
        return self.widget

    # ----------------------------------------------------------------- actions
    def set_model(
        self,
        model: Any,
        X: np.ndarray,
        y: np.ndarray,
        feature_names: Sequence[str] | None = None,
        *,
        notes: Sequence[str] = (),
    ) -> None:
        """Explain ``model`` on ``(X, y)`` and compute the importances (with progress)."""
        X = check_finite_array(X, "X", ndim=2, min_size=2)
        y = check_finite_array(y, "y", ndim=1)
        if len(y) != len(X) or len(y) < 2:
            raise MIInputError(f"X has {len(X)} rows and y has {len(y)}; give one target per row.")
        names = tuple(str(n) for n in feature_names) if feature_names is not None else None
        names = names or tuple(f"x{j}" for j in range(X.shape[1]))
        if len(names) != X.shape[1] or len(set(names)) != len(names):
            raise MIInputError(
                f"feature_names needs {X.shape[1]} distinct names, one per column of X; "
                f"got {len(names)}."
            )
        if not hasattr(model, "predict"):
            raise MIInputError("model must be a fitted scikit-learn estimator with .predict().")
        try:
            model.predict(X[:2])
        except (ValueError, TypeError, AttributeError) as error:
            raise MIInputError(
                f"The model cannot predict on X ({type(error).__name__}); pass the fitted model "
                "and data with the columns it was trained on."
            ) from None
        warning = split_warning(len(y))
        if warning and warning not in notes:
            notes = (*notes, warning)
        self.model, self.X, self.y, self.feature_names = model, X, y, names
        self.notes = tuple(notes)
        self._draw_correlation()
        self.compute()

    def compute(self) -> None:
        """Compute the permutation importances chunk by chunk, moving the progress bar."""
        if self.model is None:
            raise MIInputError("There is no model yet; pass one or upload a CSV table first.")
        with self.progress_shown("Importance") as progress:
            self.result = chunked_permutation_importance(
                self.model,
                self.X,
                self.y,
                n_repeats=self.n_repeats,
                random_state=self._seed,
                chunk_size=self.chunk_size,
                on_progress=progress,
            )
        self.status.value = (
            f"{len(self.feature_names)} features, {len(self.y)} held-out samples, "
            f"{self.n_repeats} repeats. Click a bar." + _warning_html(self.notes)
        )
        self._draw_bars()
        self.select(self.feature_names[int(np.argmax(self.result.importances_mean))])

    def select(self, feature_name: str) -> None:
        """Show predicted vs true before/after shuffling ``feature_name`` (what a click does)."""
        if feature_name not in self.feature_names:
            raise MIInputError(
                f"Unknown feature {feature_name!r}; choose one of the bars "
                f"({', '.join(self.feature_names[:5])}, ...)."
            )
        column = self.feature_names.index(feature_name)
        before, after = permuted_prediction(self.model, self.X, column, random_state=self._seed)
        self.selected = feature_name
        self.mae_before = float(mean_absolute_error(self.y, before))
        self.mae_after = float(mean_absolute_error(self.y, after))
        replace_data(self._scatter_source, true=self.y, before=before, after=after)
        low, high = float(np.min(self.y)), float(np.max(self.y))
        replace_data(self._diagonal_source, x=[low, high], y=[low, high])
        self.scatter_figure.title.text = f"Shuffled: {feature_name}"
        self.mae_label.value = (
            f"<b>{html.escape(feature_name)}</b>: MAE {self.mae_before:.4g} before, "
            f"{self.mae_after:.4g} after shuffling"
        )

    def load_csv(self, content: bytes, name: str = "table.csv", target: str | None = None) -> None:
        """Read a CSV (bytes), fit a random forest on 75 % of it, explain it on the other 25 %.

        Numeric columns are features; a ``composition`` / ``formula`` column
        becomes composition features and groups the split.  ``target`` defaults
        to the last numeric column.  Tables longer than ``max_rows`` are
        subsampled, with a message.
        """
        table = read_table(content, name=name, max_rows=MAX_UPLOAD_ROWS)
        numeric = [c for c in table.columns if table.is_numeric(c)]
        if not numeric:
            raise MIInputError(f"{name} has no numeric column to predict; add a target column.")
        chosen = target if target is not None else numeric[-1]
        self._fit_table(table, chosen)
        self.table = table
        self._syncing = True
        try:
            self.target_dropdown.options = numeric
            self.target_dropdown.value = chosen
        finally:
            self._syncing = False

    def use_target(self, target: str) -> None:
        """Refit the default model on the uploaded table with another target column."""
        if self.table is None:
            raise MIInputError("Upload a CSV table first, then choose its target column.")
        self._fit_table(self.table, target)

    def _fit_table(self, table: Table, target: str) -> None:
        with self.progress_shown("Fitting") as progress:
            progress(0, 1)
            fitted = fit_table_model(table, target, max_rows=self.max_rows, random_state=self._seed)
            progress(1, 1)
        self.target_name = target
        self.set_model(
            fitted.model, fitted.X_test, fitted.y_test, fitted.feature_names, notes=fitted.notes
        )

    # -------------------------------------------------------------- callbacks
    def _receive(self, uploaded) -> None:
        self.load_csv(uploaded.content, uploaded.name)

    def _on_target(self, value: Any) -> None:
        if self._syncing or value is None:
            return
        self.use_target(str(value))

    def _on_tap(self, attr: str, old: Any, new: Any) -> None:
        if not isinstance(new, list) or len(new) != 1:
            return
        index = new[0]
        features = list(self._bar_source.data.get("feature", []))
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(features):
            return
        self.run_action(self.select, features[index])

    # ------------------------------------------------------------------ views
    def _build(self) -> None:
        self.upload = self.upload_button(".csv,.txt", "Upload CSV", self._receive)
        self.target_dropdown = widgets.Dropdown(
            description="Target",
            options=[],
            style={"description_width": "50px"},
            layout=widgets.Layout(width="250px"),
        )
        self.on_change(self.target_dropdown, self._on_target)
        self.status = widgets.HTML("")
        self.mae_label = widgets.HTML("", layout=widgets.Layout(max_width="400px"))
        self.mae_label.add_class("mi-importance-mae")

        self._bar_source = ColumnDataSource({"feature": [], "mean": [], "lower": [], "upper": []})
        self.bar_figure = new_figure(
            "Importance: MAE increase",
            width=440,
            height=560,
            y_range=FactorRange(factors=[]),
            x_range=Range1d(0.0, 1.0),  # set from the bars and their error bars (_draw_bars)
            tools="tap,reset,save",
            x_axis_label="increase of MAE (units of the target)",
        )
        bars = self.bar_figure.hbar(
            y="feature",
            right="mean",
            height=0.8,
            source=self._bar_source,
            color=_BEFORE,
            nonselection_fill_alpha=0.35,
            selection_fill_color=_AFTER,
        )
        self.bar_figure.add_layout(
            Whisker(
                source=self._bar_source,
                base="feature",
                lower="lower",
                upper="upper",
                dimension="width",
                line_color="#333333",
            )
        )
        self.bar_figure.select_one(TapTool).renderers = [bars]
        self.bar_figure.yaxis.major_label_text_font_size = _LABEL_PX
        self._bar_source.selected.on_change("indices", self._on_tap)

        self._scatter_source = ColumnDataSource({"true": [], "before": [], "after": []})
        self._diagonal_source = ColumnDataSource({"x": [], "y": []})
        self.scatter_figure = new_figure(
            "Shuffled: -",
            width=390,
            height=380,
            x_axis_label=f"true {self.target_name}",
            y_axis_label=f"predicted {self.target_name}",
        )
        self.scatter_figure.line("x", "y", source=self._diagonal_source, color="#999999")
        for column, color, marker, label in (
            ("before", _BEFORE, "circle", "before shuffling"),
            ("after", _AFTER, "triangle", "after shuffling"),
        ):
            self.scatter_figure.scatter(
                "true", column, source=self._scatter_source, size=5, alpha=0.6,
                color=color, marker=marker, legend_label=label,
            )  # fmt: skip
        style_legend(self.scatter_figure, outside="below")

        self._corr_source = ColumnDataSource({"a": [], "b": [], "r": []})
        self.correlation_figure = new_figure(
            "Feature correlation (Pearson r)",
            width=560,
            height=560,
            x_range=FactorRange(factors=[]),
            y_range=FactorRange(factors=[]),
            tools="hover,save",
            tooltips=[("features", "@a / @b"), ("r", "@r{0.00}")],
        )
        mapper = LinearColorMapper(palette=RdBu11[::-1], low=-1, high=1)
        self.correlation_figure.rect(
            "a",
            "b",
            1,
            1,
            source=self._corr_source,
            fill_color={"field": "r", "transform": mapper},
            line_color=None,
        )
        self.correlation_figure.add_layout(
            ColorBar(
                color_mapper=mapper,
                ticker=BasicTicker(desired_num_ticks=5),
                width=12,
                major_label_text_font_size=_LABEL_PX,
                title="r",
            ),
            "right",
        )
        self.correlation_figure.xaxis.major_label_orientation = 1.2
        for axis in (*self.correlation_figure.xaxis, *self.correlation_figure.yaxis):
            axis.major_label_text_font_size = _LABEL_PX
        self.correlation_figure.grid.visible = False

    def _controls(self) -> list[widgets.Widget]:
        return [
            widgets.HTML(
                "<b>Your own table</b>: upload a CSV, choose the target column. "
                f"Tables over {self.max_rows:,} rows are subsampled."
            ),
            self.upload,
            self.target_dropdown,
            self.status,
        ]

    def _main(self) -> widgets.Widget:
        bar_pane = bokeh_pane(self.bar_figure)
        bar_pane.add_class("mi-importance-bars")
        scatter_pane = bokeh_pane(self.scatter_figure)
        scatter_pane.add_class("mi-importance-scatter")
        # Bars and scatter sit beside the controls from 1024 px; they wrap inside this box.
        return widgets.HBox(
            [bar_pane, widgets.VBox([scatter_pane, self.mae_label])],
            layout=widgets.Layout(flex_flow="row wrap", flex="1 1 0%", min_width="480px"),
        )

    def _footer(self) -> widgets.Widget:
        # The heat map needs ~16 px per feature for 12 px labels: a row of its own.
        corr_pane = bokeh_pane(self.correlation_figure)
        corr_pane.add_class("mi-importance-correlation")
        return corr_pane

    def _draw_bars(self) -> None:
        order = np.argsort(self.result.importances_mean)  # largest at the top
        names = [self.feature_names[j] for j in order]
        mean = self.result.importances_mean[order]
        std = self.result.importances_std[order]
        self.bar_figure.y_range.factors = names
        # >= 20 px per bar: large enough to click, labels at 12 px do not overlap.
        self.bar_figure.height = int(np.clip(22 * len(names) + 90, 300, 1200))
        self._bar_source.selected.indices = []
        replace_data(self._bar_source, feature=names, mean=mean, lower=mean - std, upper=mean + std)
        # DataRange1d ignores the whiskers: fit the range to them so none is cut off
        low, high = min(0.0, float((mean - std).min())), max(0.0, float((mean + std).max()))
        pad = 0.05 * ((high - low) or 1.0)
        self.bar_figure.x_range.update(start=low - (pad if low < 0 else 0.0), end=high + pad)

    def _draw_correlation(self) -> None:
        correlation = CorrelationFilter(threshold=1.0).fit(self.X).correlation_
        names = list(self.feature_names)
        size = int(np.clip(16 * len(names) + 300, 420, 1000))
        self.correlation_figure.width = self.correlation_figure.height = size
        a, b = np.meshgrid(np.arange(len(names)), np.arange(len(names)))
        self.correlation_figure.x_range.factors = names
        self.correlation_figure.y_range.factors = names[::-1]
        replace_data(
            self._corr_source,
            a=[names[i] for i in a.ravel()],
            b=[names[j] for j in b.ravel()],
            r=correlation[b.ravel(), a.ravel()],
        )
        self.scatter_figure.xaxis.axis_label = f"true {self.target_name}"
        self.scatter_figure.yaxis.axis_label = f"predicted {self.target_name}"


class RejectOptionExplorer(LabApp):
    """Classify only when the largest posterior probability is at least theta.

    Parameters
    ----------
    probabilities : array, shape (n_samples, n_classes)
        ``predict_proba`` of a classifier on held-out samples.
    y_true : array of int, shape (n_samples,)
        True classes 0..n_classes-1.
    theta : float, default 0.5
        Initial threshold.
    random_state : int or None
        Unused (nothing is random); accepted like every app.

    Attributes
    ----------
    result : RejectOption
        Predictions, coverage and accuracy at the current theta.
    cross_entropy : float
        Log loss of the probabilities (nats per sample).

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7]])
    >>> lab = RejectOptionExplorer(p, np.array([0, 0, 1]))
    >>> lab.set_theta(0.65); lab.result.coverage
    0.6666666666666666
    """

    title = "Classification with a reject option"
    css_class = "mi-reject-option"

    def __init__(
        self,
        probabilities: np.ndarray,
        y_true: np.ndarray,
        *,
        theta: float = 0.5,
        random_state: int | None = 0,
    ):
        super().__init__(random_state=random_state)
        self.probabilities = check_finite_array(probabilities, "probabilities", ndim=2)
        self.y_true = np.asarray(y_true).astype(int)
        if len(self.y_true) != len(self.probabilities):
            raise MIInputError("probabilities and y_true need one row per sample.")
        self.cross_entropy = float(
            log_loss(self.y_true, self.probabilities, labels=range(self.probabilities.shape[1]))
        )
        curve = [reject_option(self.probabilities, t, self.y_true) for t in _THETAS]
        self.slider = widgets.FloatSlider(
            value=theta, min=0.5, max=1.0, step=0.01, description="theta", readout_format=".2f"
        )
        self.slider.add_class("mi-reject-theta")
        self.on_change(self.slider, lambda value: self.set_theta(float(value)))
        self.summary = widgets.HTML()
        fig = new_figure(
            "Reject option",
            width=520,
            height=340,
            x_axis_label="theta (smallest accepted max probability)",
            y_axis_label="fraction",
        )
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
        style_legend(fig, outside="below")
        self.figure = fig
        self.set_theta(theta)

    @property
    def app(self) -> widgets.Widget:
        """The displayed application (same as :attr:`widget`)."""
        return self.widget

    def _controls(self) -> list[widgets.Widget]:
        return [self.slider, self.summary]

    def _main(self) -> widgets.Widget:
        return bokeh_pane(self.figure)

    def set_theta(self, theta: float) -> None:
        """Apply the reject rule at ``theta`` and redraw."""
        self.result = reject_option(self.probabilities, theta, self.y_true)
        self._span.location = self.result.theta
        self.summary.value = (
            f"theta = {self.result.theta:.2f}<br>classified: {100 * self.result.coverage:.1f} %"
            f"<br>accuracy on those: {100 * self.result.accuracy:.1f} %"
            f"<br>cross-entropy: {self.cross_entropy:.3f} nats"
        )


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
