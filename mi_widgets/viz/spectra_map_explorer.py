"""The spectral-map explorer of lab 03: maps of fitted parameters, a pixel's fit, phases."""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as widgets
import numpy as np
from bokeh.events import Tap
from bokeh.layouts import column, row
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper

from mi_widgets._errors import MIInputError, check_finite_array
from mi_widgets.spectra.batch import fit_many
from mi_widgets.spectra.io import MAX_APP_MAP_VALUES, load_spectra
from mi_widgets.spectra.mapping import cluster_phases, compare_phases
from mi_widgets.spectra.results import BatchFitResult, PeakModel
from mi_widgets.viz import bokeh_pane, class_colors, new_figure, replace_data
from mi_widgets.viz._spectra_common import (
    _SMALL,
    BACKGROUND_OPTIONS,
    DATA_COLOR,
    MODEL_COLOR,
    SHAPE_OPTIONS,
    _component_columns,
    _finite_float,
    _legend_outside,
    _unit_of,
)
from mi_widgets.viz.app import LabApp
from mi_widgets.viz.upload import UploadedFile

__all__ = ["SpectralMapExplorer"]


#: Entries of the true-phase legend (phases beyond are drawn but not listed).
MAX_LEGEND_PHASES = 6


class SpectralMapExplorer(LabApp):
    """A map of any fitted parameter; click a pixel to see its spectrum and fit; cluster phases.

    Parameters
    ----------
    x : array_like, shape (C,)
        Common axis.
    spectra : array_like, shape (ny, nx, C)
        The spectral image (a stack (n, C) is shown as one row).
    n_peaks : int
        Peaks fitted per pixel (the menus change it for the next fit).
    shape, background : str
        Model choices.
    fit : bool, default True
        Fit every pixel at once (else press "Fit all spectra").
    truth : array_like of int, shape (ny, nx), optional
        Known phase labels (synthetic data): shown beside the clustering, which is
        then scored against them.
    client : dask.distributed.Client, optional
        Run the batch fit on a Dask cluster.
    random_state : int, optional
        Seed of the mean-spectrum fit and of k-means.
    x_label : str, default "energy (eV)"
        Axis label of the spectra.

    Examples
    --------
    >>> from mi_widgets.spectra import make_spectral_image
    >>> image = make_spectral_image(4, 5, random_state=0)
    >>> explorer = SpectralMapExplorer(image.x, image.spectra, 2)
    >>> explorer.select(1, 2); explorer.selected
    (1, 2)
    """

    title = "Spectral map"
    controls_width = "320px"
    css_class = "mi-map-explorer"

    def __init__(
        self,
        x: Any,
        spectra: Any,
        n_peaks: int,
        *,
        shape: str = "pseudo_voigt",
        background: str = "linear",
        fit: bool = True,
        truth: Any = None,
        client: Any = None,
        random_state: int | None = 0,
        x_label: str = "energy (eV)",
    ):
        super().__init__(random_state=random_state)
        model = PeakModel(n_peaks, shape, background)
        self.client = client
        self._x_label = str(x_label)
        self.result: BatchFitResult | None = None
        self.phases: np.ndarray | None = None
        self.truth: np.ndarray | None = None
        self.selected = (0, 0)
        self.n_peaks_menu = widgets.Dropdown(
            options=list(range(1, 7)), value=model.n_peaks, description="Peaks"
        )
        self.shape_menu = widgets.Dropdown(options=SHAPE_OPTIONS, value=shape, description="Shape")
        self.background_menu = widgets.Dropdown(
            options=BACKGROUND_OPTIONS, value=background, description="Background"
        )
        self.parameter_menu = widgets.Dropdown(description="Map of", options=[("total", "total")])
        self._menu_quiet = False
        self.on_change(self.parameter_menu, self._on_parameter_menu)
        self.phase_slider = widgets.IntSlider(value=3, min=1, max=8, description="Phases")
        self.cluster_button = widgets.Button(description="Cluster into phases")
        self.on_click(self.cluster_button, lambda: self.cluster(self.phase_slider.value))
        self.run_button = widgets.Button(description="Fit all spectra", button_style="primary")
        self.on_click(self.run_button, self.run, background=True)
        self.upload = self.upload_button(".npz,.csv,.txt", "Upload stack", self.load_upload)
        self.info = widgets.HTML()
        self.phase_legend = widgets.HTML()
        self.phase_legend.add_class("mi-phase-legend")
        self.pixel_label = widgets.HTML()
        self.pixel_label.add_class("mi-pixel-label")
        self._build_figures(truth is not None)
        self.set_spectra(x, spectra, fit=fit, truth=truth)
        self.pane = bokeh_pane(self._root)

    @property
    def peak_model(self) -> PeakModel:
        """The model the menus describe (used by the next fit)."""
        return PeakModel(self.n_peaks_menu.value, self.shape_menu.value, self.background_menu.value)

    @property
    def n_peaks(self) -> int:
        """Peaks of the current fit (or of the menus, before a fit)."""
        return self.result.n_peaks if self.result is not None else self.n_peaks_menu.value

    def _controls(self) -> list[widgets.Widget]:
        return [
            self.n_peaks_menu,
            self.shape_menu,
            self.background_menu,
            self.run_button,
            self.parameter_menu,
            self.phase_slider,
            self.cluster_button,
            self.upload,
            self.info,
            self.pixel_label,
        ]

    def _main(self) -> widgets.Widget:
        return widgets.VBox([self.pane, self.phase_legend])

    def _parameter_options(self) -> list[tuple[str, str]]:
        options = [("total counts", "total")]
        for k in range(self.n_peaks if self.result is not None else 0):
            options += [
                (f"{name} of peak {k + 1}", f"{name}:{k}")
                for name in ("center", "area", "fwhm", "eta")
            ]
        if self.phases is not None:
            options.append(("phase (clusters)", "phase"))
        return options

    def _map_figure(self, title: str, mapper: LinearColorMapper, source: ColumnDataSource):
        fig = new_figure(
            title,
            width=340,
            height=330,
            tools="tap,reset,save",
            match_aspect=True,
            x_axis_label="column (pixel)",
            y_axis_label="row (pixel)",
        )
        fig.x_range.range_padding = fig.y_range.range_padding = 0
        fig.image("image", x=0, y=0, dw="dw", dh="dh", source=source, color_mapper=mapper)
        return fig

    def _build_figures(self, with_truth: bool) -> None:
        self.mapper = LinearColorMapper(palette="Viridis256")
        self.image_source = ColumnDataSource({"image": [np.zeros((1, 1))], "dw": [1], "dh": [1]})
        self.map_figure = self._map_figure("Map", self.mapper, self.image_source)
        self.color_bar = ColorBar(color_mapper=self.mapper, width=12, label_standoff=6)
        self.map_figure.add_layout(self.color_bar, "right")
        self.pixel_source = ColumnDataSource({"x": [0.5], "y": [0.5]})
        self.map_figure.scatter(
            "x",
            "y",
            source=self.pixel_source,
            marker="square",
            size=12,
            fill_alpha=0,
            line_color="white",
            line_width=2,
        )
        self.map_figure.on_event(Tap, self._on_tap)
        maps = [self.map_figure]
        self.truth_figure = None
        if with_truth:
            self.truth_mapper = LinearColorMapper(palette=class_colors(3), low=-0.5, high=2.5)
            self.truth_source = ColumnDataSource(
                {"image": [np.zeros((1, 1))], "dw": [1], "dh": [1]}
            )
            self.truth_figure = self._map_figure(
                "True phases", self.truth_mapper, self.truth_source
            )
            self.truth_figure.x_range = self.map_figure.x_range
            self.truth_figure.y_range = self.map_figure.y_range
            self._truth_legend(MAX_LEGEND_PHASES)
            maps.append(self.truth_figure)
        spec = new_figure(
            "Pixel (0, 0)",
            width=680,
            height=300,
            x_axis_label=self._x_label,
            y_axis_label="counts",
        )
        self.data_source = ColumnDataSource({"x": [], "y": []})
        self.fit_source = ColumnDataSource({"x": [], "y": []})
        self.component_source = ColumnDataSource({"xs": [], "ys": [], "color": []})
        spec.scatter(
            "x", "y", source=self.data_source, size=3, color=DATA_COLOR, legend_label="data"
        )
        spec.multi_line("xs", "ys", source=self.component_source, color="color", line_width=2)
        spec.line(
            "x", "y", source=self.fit_source, color=MODEL_COLOR, line_width=2, legend_label="fit"
        )
        _legend_outside(spec)
        self.spectrum_figure = spec
        self._root = column(row(*maps), spec)

    def _truth_legend(self, n: int) -> None:
        """One legend entry per true phase, beside the map (entries past the count hidden)."""
        empty = ColumnDataSource({"x": [np.nan], "y": [np.nan]})  # a swatch, no mark on the map
        for k, colour in enumerate(class_colors(n)):
            self.truth_figure.scatter(
                "x", "y", source=empty, marker="square", size=12, color=colour,
                legend_label=f"phase {k + 1}",
            )  # fmt: skip
        _legend_outside(self.truth_figure)
        for k, item in enumerate(self.truth_figure.legend[0].items):
            item.visible = k < 3  # the map starts with three phases

    # -- actions
    def set_spectra(
        self, x: Any, spectra: Any, *, fit: bool = True, truth: Any = None
    ) -> BatchFitResult | None:
        """Show a new spectral image (ny, nx, C) or stack (n, C), optionally fitting it.

        Everything is checked (and fitted) before the app changes, so a bad map leaves
        the previous one in place.
        """
        x = check_finite_array(x, "x", ndim=1, min_size=3)
        spectra = check_finite_array(spectra, "spectra", ndim=(2, 3))
        if spectra.ndim == 2:
            spectra = spectra[None, :, :]
        if spectra.shape[-1] != x.size:
            raise MIInputError(
                f"spectra have {spectra.shape[-1]} channels but x has {x.size}; they must match."
            )
        ny, nx, c = spectra.shape
        if spectra.size > MAX_APP_MAP_VALUES:
            raise MIInputError(
                f"The map has {ny} x {nx} pixels x {c} channels = {spectra.size:,} values; the "
                f"app fits at most {MAX_APP_MAP_VALUES:,}: crop or bin it, or call fit_many "
                "in a notebook."
            )
        if truth is not None:
            truth = np.asarray(truth)
            if truth.shape != (ny, nx) or not np.issubdtype(truth.dtype, np.integer):
                raise MIInputError(
                    f"truth must be whole-number phase labels of shape ({ny}, {nx}); "
                    f"got shape {truth.shape}."
                )
        result = self._fit(x, spectra) if fit else None
        self.x, self.spectra, self.truth = x, spectra, truth
        self.result, self.phases = result, None
        self._after_new_result()
        self.select(0, 0)
        if truth is not None and self.truth_figure is not None:
            n = int(truth.max()) + 1
            self.truth_mapper.palette = class_colors(max(n, 1))
            self.truth_mapper.low, self.truth_mapper.high = -0.5, n - 0.5
            replace_data(self.truth_source, image=[truth.astype(float)], dw=[nx], dh=[ny])
            for k, item in enumerate(self.truth_figure.legend[0].items):
                item.visible = k < n
        return result

    def load_upload(self, uploaded: UploadedFile) -> None:
        """Read and fit an uploaded stack; the previous map stays if anything fails."""
        x, spectra = load_spectra(
            uploaded.content, name=uploaded.name, max_values=MAX_APP_MAP_VALUES
        )
        self.set_spectra(x, spectra, fit=True)

    def _fit(self, x: np.ndarray, spectra: np.ndarray) -> BatchFitResult:
        ny, nx, c = spectra.shape
        model = self.peak_model
        with self.progress_shown("Fitting") as progress:
            return fit_many(
                x,
                spectra.reshape(ny * nx, c),
                model.n_peaks,
                shape=model.shape,
                background=model.background,
                client=self.client,
                progress=progress,
                random_state=self.random_state,
            )

    def run(self) -> BatchFitResult:
        """Fit every pixel with the model in the menus (progress bar)."""
        result = self._fit(self.x, self.spectra)
        self.result, self.phases = result, None
        self._after_new_result()
        self.select(*self.selected)
        return result

    def _on_parameter_menu(self, name: str) -> None:
        if not self._menu_quiet:
            self.show_parameter(name)

    def _set_menu(self, name: str) -> None:
        """Offer the maps that exist now and show ``name``."""
        self._menu_quiet = True
        try:
            self.parameter_menu.options = self._parameter_options()
            self.parameter_menu.value = name
        finally:
            self._menu_quiet = False
        self.show_parameter(name)

    def _after_new_result(self) -> None:
        self._set_menu("center:0" if self.result is not None else "total")
        ny, nx, _ = self.spectra.shape
        if self.result is None:
            self.info.value = _SMALL.format(
                f"{ny} x {nx} pixels, not fitted yet: press 'Fit all spectra'."
            )
        else:
            self.info.value = _SMALL.format(
                f"Fitted {ny * nx} spectra: {html.escape(self.result.peak_model.describe())}."
            )
        self.phase_legend.value = ""

    def cluster(self, n_phases: int) -> np.ndarray:
        """Cluster the pixels into ``n_phases`` phases by their fitted peaks; show the phases."""
        if self.result is None:
            raise MIInputError("Fit the spectra first (press 'Fit all spectra'), then cluster.")
        ny, nx, _ = self.spectra.shape
        labels = cluster_phases(self.result, int(n_phases), random_state=self.random_state)
        self.phases = labels.reshape(ny, nx)
        self._set_menu("phase")
        swatches = " ".join(
            f"<span style='display:inline-block;width:14px;height:14px;background:{c};"
            f"vertical-align:middle;margin-right:4px'></span>phase {k + 1}"
            for k, c in enumerate(class_colors(int(n_phases)))
        )
        score = ""
        if self.truth is not None:
            agreement = compare_phases(labels, self.truth.ravel())
            score = (
                f"<br>against the true phases: adjusted Rand index "
                f"{agreement.adjusted_rand:.3f}, pixels matched {agreement.matched:.1%}"
            )
        self.phase_legend.value = _SMALL.format(f"{swatches}{score}")
        return self.phases

    def parameter_map(self, name: str) -> np.ndarray:
        """The (ny, nx) map of ``"total"``, ``"phase"`` or ``"<center|area|fwhm|eta>:<k>"``."""
        ny, nx, _ = self.spectra.shape
        if name == "total":
            return self.spectra.sum(axis=2)
        if name == "phase":
            if self.phases is None:
                raise MIInputError("No phases yet: press 'Cluster into phases'.")
            return self.phases.astype(float)
        quantity, _, k = str(name).partition(":")
        if (
            quantity not in ("center", "area", "fwhm", "eta")
            or not k.isdigit()
            or int(k) >= self.n_peaks
        ):
            raise MIInputError(f"Unknown map {name!r}; choose one from the menu.")
        if self.result is None:
            raise MIInputError("Fit the spectra first (press 'Fit all spectra').")
        return getattr(self.result, quantity)[:, int(k)].reshape(ny, nx)

    def show_parameter(self, name: str) -> None:
        """Colour the map by a parameter (see :meth:`parameter_map`)."""
        image = self.parameter_map(name)
        ny, nx = image.shape
        if name == "phase":
            n = int(image.max()) + 1
            self.mapper.palette = class_colors(n)
            self.mapper.low, self.mapper.high = -0.5, n - 0.5
        else:
            self.mapper.palette = "Viridis256"
            low, high = np.percentile(image, [1, 99])
            self.mapper.low, self.mapper.high = float(low), float(max(high, low + 1e-12))
        self.color_bar.title = self._label(name)
        replace_data(self.image_source, image=[image], dw=[nx], dh=[ny])
        self.map_figure.title.text = f"Map: {self._label(name)}"

    def _label(self, name: str) -> str:
        unit = _unit_of(self._x_label)
        quantity = str(name).partition(":")[0]
        suffix = f" ({unit})" if unit and quantity in ("center", "fwhm") else ""
        for text, value in self.parameter_menu.options:
            if value == name:
                return text + suffix
        return str(name)

    def select(self, row: int, col: int) -> None:
        """Show the spectrum and fit of pixel (row, col)."""
        ny, nx, _ = self.spectra.shape
        row, col = int(row), int(col)
        if not (0 <= row < ny and 0 <= col < nx):
            raise MIInputError(f"Pixel ({row}, {col}) is outside the {ny} x {nx} map.")
        self.selected = (row, col)
        y = self.spectra[row, col]
        replace_data(self.data_source, x=self.x, y=y)
        replace_data(self.pixel_source, x=[col + 0.5], y=[row + 0.5])
        title = f"Pixel ({row}, {col})"
        if self.result is not None:
            index = row * nx + col
            params = self.result.params[index]
            replace_data(self.fit_source, x=self.x, y=self.result.model(index))
            replace_data(
                self.component_source,
                **_component_columns(self.x, params, self.result.peak_model),
            )
            centres = ", ".join(f"{c:.4g}" for c in self.result.center[index])
            title += f": centres {centres}"
            if _unit_of(self._x_label):
                title += f" {_unit_of(self._x_label)}"
        else:
            replace_data(self.fit_source, x=[], y=[])
            replace_data(self.component_source, xs=[], ys=[], color=[])
        self.spectrum_figure.title.text = title
        self.pixel_label.value = _SMALL.format(html.escape(title))

    def _on_tap(self, event: Any) -> None:
        def tap() -> None:
            col = math.floor(_finite_float(event.x, "The clicked column"))
            row = math.floor(_finite_float(event.y, "The clicked row"))
            self.select(row, col)

        self.run_action(tap)
