"""The permutation-importance explorer of lab 10: bars, shuffled-feature scatter, correlations.

Upload a feature table or pass a fitted model; every computation is one call into
``mi_widgets.learn`` (``chunked_permutation_importance``, ``permuted_prediction``).
"""

from __future__ import annotations

import html
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
    TapTool,
    Whisker,
)
from bokeh.palettes import RdBu11
from sklearn.metrics import mean_absolute_error

from mi_widgets._errors import MIInputError, check_finite_array, check_positive_int
from mi_widgets.learn.features import CorrelationFilter
from mi_widgets.learn.importance import MAX_TABLE_ROWS, fit_table_model, split_warning
from mi_widgets.learn.io import Table, read_table
from mi_widgets.learn.permutation import chunked_permutation_importance, permuted_prediction
from mi_widgets.viz import OKABE_ITO, bokeh_pane, new_figure, replace_data, style_legend
from mi_widgets.viz._learn_common import _seed
from mi_widgets.viz.app import LabApp

__all__ = ["MAX_UPLOAD_ROWS", "PermutationImportanceExplorer"]

_BEFORE, _AFTER = OKABE_ITO[4], OKABE_ITO[5]  # blue, vermillion
_LABEL_PX = "12px"  # readable when projected

#: Most rows an uploaded table may have: longer ones are refused before they are parsed
#: (parsing 1.7 million rows took 8 s); up to this, tables over ``max_rows`` are subsampled.
MAX_UPLOAD_ROWS = 200_000


def _warning_html(notes: Sequence[str]) -> str:
    return "".join(
        f'<div style="color:#a15c00;margin-top:4px;">{html.escape(n)}</div>' for n in notes
    )


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
