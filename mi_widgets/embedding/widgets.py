"""StructureMapExplorer: a TS-LPP map of atoms linked to their 3D view, through a melt-quench.

The map (bokeh) shows the reference atoms coloured by class and the atoms of
the current frame on top; PCA of the same descriptors sits beside it. Lasso or
tap atoms on either map and they are highlighted in the 3D view (nglview),
which colours every atom by its kNN class in the TS-LPP plane with the same
palette. A slider steps through the frames (e.g. a melt-quench) and the plot
below shows the fraction of each class against temperature. Every action is a
method (``select``, ``set_frame``, ``load_frames``, ``analyse_upload``) and the
state is readable (``result``, ``frame``, ``selected``), so tests drive it
without a browser.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from ase import Atoms
from bokeh.layouts import row
from bokeh.models import ColumnDataSource, LassoSelectTool, Legend, LegendItem, Span, TapTool

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets.embedding.structure_map import (
    FrameClassification,
    StructureMap,
    classify_frames,
    fit_structure_map,
)
from mi_widgets.structure.data import read_trajectory
from mi_widgets.viz import (
    ErrorBanner,
    bokeh_pane,
    class_color,
    new_figure,
    read_upload,
    replace_data,
    structure_view,
    style_legend,
    update_structure,
)

__all__ = ["StructureMapExplorer"]

MAX_CLASSES = 8  # classes drawn in the fractions plot (the palette has 8 colours)
MODES = ("classify with the reference map", "unsupervised clusters")
_MAP_SIZE = {"width": 360, "height": 330}


def _colors(labels: np.ndarray) -> list[str]:
    return [class_color(int(k)) for k in labels]


class StructureMapExplorer(widgets.VBox):
    """TS-LPP and PCA maps of atoms next to a 3D view of a frame coloured by class.

    Parameters
    ----------
    model : StructureMap
        A fitted map (:func:`~mi_widgets.embedding.fit_structure_map`).
    frames : list of ase.Atoms
        Frames to step through (e.g. a melt-quench); classified on the map.
    frame : int, default 0
        The frame shown first. (Set it here rather than calling ``set_frame``
        before the app is displayed: bokeh changes made before display are lost.)
    title : str
        Heading of the app.

    Attributes
    ----------
    model : StructureMap
        The map in use.
    result : FrameClassification
        Classes and coordinates of every atom of every frame.
    frame : int
        The frame shown.
    selected : ndarray of int
        Atoms of that frame selected on the map (highlighted in 3D).
    view : nglview.NGLWidget
        The 3D view.
    banner : ErrorBanner
        Shows bad-input messages; the previous state stays.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from mi_widgets.embedding import fit_structure_map
    >>> crystal = bulk("Si", "diamond", a=5.431, cubic=True) * (2, 2, 2)
    >>> hot = crystal.copy()
    >>> hot.rattle(0.3, seed=1)
    >>> model = fit_structure_map([crystal, hot], ["crystal", "hot"], cross_validate=False)
    >>> app = StructureMapExplorer(model, [crystal, hot])
    >>> app.select([0, 1]); app.selected.tolist()
    [0, 1]
    """

    def __init__(
        self,
        model: StructureMap,
        frames: Sequence[Atoms],
        *,
        frame: int = 0,
        title: str = "Atoms on the TS-LPP map",
    ) -> None:
        if len(model.class_names) > MAX_CLASSES:
            raise MIInputError(
                f"The map has {len(model.class_names)} classes; the explorer shows at most "
                f"{MAX_CLASSES}. Merge classes."
            )
        self.model = model
        self.result: FrameClassification = classify_frames(model, list(frames))
        self.frame = check_positive_int(
            frame, "frame", minimum=0, maximum=len(self.result.frames) - 1
        )
        self.selected = np.array([], dtype=int)
        self.banner = ErrorBanner()
        self._build_plots()
        self._build_controls()
        self.view = structure_view(
            self._wrapped(self.frame),
            labels=self.result.labels[self.frame],
            width="400px",
            height="330px",
        )
        self._summary = widgets.HTML()
        self._show_model()
        self._show_frame(redraw_3d=False)  # the view above already shows this frame
        # Wrap the figures only now, filled: BokehModel renders the document as it is at
        # wrapping time, and changes made before the front end shows it are lost.
        self._maps_pane = bokeh_pane(row(self._tslpp_fig, self._pca_fig))
        self._maps_pane.add_class("mi-maps-pane")
        self._fraction_pane = bokeh_pane(self._fractions_fig)
        maps = widgets.HBox([self._maps_pane, self.view])
        maps.layout.flex_flow = "row wrap"
        main = widgets.VBox([maps, widgets.HBox([self._fraction_pane, self._summary])])
        header = widgets.HTML(f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>")
        super().__init__([header, self.banner, widgets.HBox([self._controls, main])])
        self.add_class("mi-structure-map")

    # ------------------------------------------------------------------ building
    def _build_plots(self) -> None:
        self._reference = ColumnDataSource({"xt": [], "yt": [], "xp": [], "yp": [], "color": []})
        self._atoms = ColumnDataSource(
            {"xt": [], "yt": [], "xp": [], "yp": [], "color": [], "atom": []}
        )
        self._tslpp_fig = self._map_figure("TS-LPP plane", "xt", "yt", "mi-tslpp-map")
        self._pca_fig = self._map_figure("PCA plane (same atoms)", "xp", "yp", "mi-pca-map")
        # One source for the frame's atoms in both maps (one bokeh document, wrapped in
        # __init__): a selection in one map shows in both.
        self._atoms.selected.on_change("indices", self._on_map_selection)
        self._fractions_fig = new_figure(
            "Fraction of atoms per class (solid TS-LPP, dashed PCA)",
            width=560,
            height=260,
            tools="pan,wheel_zoom,reset,save",
            x_axis_label="temperature (K)",
            y_axis_label="fraction",
        )
        self._fractions_fig.y_range.start, self._fractions_fig.y_range.end = -0.02, 1.02
        self._fraction_lines = [self._fraction_line(k) for k in range(MAX_CLASSES)]
        self._fractions_fig.add_layout(
            Legend(items=[item for *_, item in self._fraction_lines]), "right"
        )
        style_legend(self._fractions_fig, "center")
        self._cursor = Span(location=0, dimension="height", line_dash="dotted", line_width=2)
        self._fractions_fig.add_layout(self._cursor)

    def _map_figure(self, title: str, x: str, y: str, css: str):
        fig = new_figure(title, tools="pan,wheel_zoom,reset,save", **_MAP_SIZE)
        unit = " (units of the spread)" if x == "xt" else " (standardised)"
        fig.xaxis.axis_label, fig.yaxis.axis_label = f"component 1{unit}", "component 2"
        fig.scatter(x, y, source=self._reference, color="color", size=4, alpha=0.25)
        atoms = fig.scatter(
            x,
            y,
            source=self._atoms,
            fill_color="color",
            line_color="black",
            size=8,
            alpha=0.9,
            selection_line_width=2.5,
            selection_fill_alpha=1.0,
            nonselection_fill_alpha=0.2,
            nonselection_line_alpha=0.25,
        )
        lasso, tap = LassoSelectTool(renderers=[atoms]), TapTool(renderers=[atoms])
        fig.add_tools(lasso, tap)
        fig.toolbar.active_drag = lasso
        fig.css_classes = [css]
        return fig

    def _fraction_line(self, k: int) -> tuple[ColumnDataSource, ColumnDataSource, LegendItem]:
        fig, color = self._fractions_fig, class_color(k)
        solid, dashed = ColumnDataSource({"x": [], "y": []}), ColumnDataSource({"x": [], "y": []})
        line = fig.line("x", "y", source=solid, color=color, line_width=2.5)
        dots = fig.scatter("x", "y", source=solid, color=color, size=6)
        dashes = fig.line("x", "y", source=dashed, color=color, line_width=1.5, line_dash="dashed")
        return solid, dashed, LegendItem(label=str(k), renderers=[line, dots, dashes])

    def _build_controls(self) -> None:
        self._slider = widgets.IntSlider(
            self.frame, min=0, max=max(len(self.result.frames) - 1, 0), description="frame"
        )
        self._slider.add_class("mi-frame-slider")
        self._slider.observe(self._on_slider, "value")
        self._frame_info = widgets.HTML()
        self._clear = widgets.Button(description="Clear selection")
        self._clear.on_click(lambda _: self.select([]))
        self._upload = widgets.FileUpload(
            description="Upload trajectory", accept="", multiple=False
        )
        self._mode = widgets.Dropdown(options=MODES, description="use", value=MODES[0])
        self._clusters = widgets.BoundedIntText(3, min=2, max=MAX_CLASSES, description="clusters")
        self._analyse = widgets.Button(description="Analyse upload", button_style="primary")
        self._analyse.on_click(lambda _: self.analyse_upload())
        self._progress = widgets.FloatProgress(0.0, min=0.0, max=1.0, description="analysing")
        self._progress.layout.visibility = "hidden"
        help_text = widgets.HTML(
            "<small>Lasso or tap atoms on a map: they light up in 3D. Your own file: "
            "a trajectory with a periodic cell (extended XYZ, CIF, "
            "POSCAR, XDATCAR, LAMMPS text dump).</small>"
        )
        self._controls = widgets.VBox(
            [
                self._slider,
                self._frame_info,
                self._clear,
                widgets.HTML("<b>Your own trajectory</b>"),
                self._upload,
                self._mode,
                self._clusters,
                self._analyse,
                self._progress,
                help_text,
            ],
            layout=widgets.Layout(width="290px", min_width="290px"),
        )
        self._controls.add_class("mi-controls")

    # ------------------------------------------------------------------ actions
    # Public actions catch bad input into the banner; the _private ones raise, so
    # an action built from others reports (or clears) the banner exactly once.
    def select(self, indices: Sequence[int]) -> None:
        """Highlight atoms of the current frame (indices into that frame) in 3D and on the maps."""
        with self.banner.catching():
            self._select(indices)

    def set_frame(self, index: int) -> None:
        """Show frame ``index``: its atoms on both maps, in 3D, and the cursor on the fractions."""
        with self.banner.catching():
            self._set_frame(index)

    def load_frames(self, frames: Sequence[Atoms], *, clusters: int | None = None) -> None:
        """Analyse other frames: classify them on the current map, or (``clusters``)
        fit a new unsupervised map with that many k-means clusters on them."""
        with self.banner.catching():
            self._load_frames(frames, clusters)

    def analyse_upload(self) -> None:
        """Read the uploaded file and analyse its frames with the chosen mode."""
        with self.banner.catching():
            upload = read_upload(self._upload)
            if upload is None:
                raise MIInputError("No file uploaded; choose a trajectory file first.")
            frames = read_trajectory(upload.content, filename=upload.name)
            mode = check_choice(self._mode.value, "mode", MODES)
            clusters = None if mode == MODES[0] else int(self._clusters.value)
            self._load_frames(frames, clusters)

    def _select(self, indices: Any) -> None:
        chosen = self._check_indices(indices)
        self.selected = chosen
        if list(self._atoms.selected.indices) != chosen.tolist():
            self._atoms.selected.indices = chosen.tolist()
        update_structure(
            self.view,
            labels=self.result.labels[self.frame],
            highlight=chosen if chosen.size else None,
        )

    def _set_frame(self, index: Any) -> None:
        index = check_positive_int(index, "frame", minimum=0, maximum=len(self.result.frames) - 1)
        self.frame = index
        self.selected = np.array([], dtype=int)
        self._atoms.selected.indices = []
        if self._slider.value != index:
            self._slider.value = index  # _on_slider sees frame == index and returns
        self._show_frame()

    def _load_frames(self, frames: Any, clusters: int | None) -> None:
        self._progress.value, self._progress.layout.visibility = 0.0, "visible"
        try:
            if clusters is None:
                model = self.model
            else:
                check_positive_int(clusters, "clusters", minimum=2, maximum=MAX_CLASSES)
                model = fit_structure_map(
                    frames, None, n_clusters=clusters, progress=self._progress_to(0.5)
                )
            result = classify_frames(model, frames, progress=self._progress_to(1.0))
        finally:
            self._progress.layout.visibility = "hidden"
        # Only now, with everything computed, replace the state.
        self.model, self.result = model, result
        self._show_model()
        self.frame = -1
        self._slider.max = len(result.frames) - 1
        self._set_frame(0)

    # ------------------------------------------------------------------ callbacks
    def _on_slider(self, change: dict) -> None:
        if change["new"] != self.frame:
            self.set_frame(change["new"])

    def _on_map_selection(self, attr: str, old: Any, new: Any) -> None:
        if list(new) != self.selected.tolist():
            self.select(new)

    def _progress_to(self, end: float):
        """A progress callback filling the bar from its current value up to ``end``."""
        start = self._progress.value

        def report(fraction: float) -> None:
            self._progress.value = start + (end - start) * fraction

        return report

    def _check_indices(self, indices: Any) -> np.ndarray:
        n_atoms = len(self.result.frames[self.frame])
        try:
            chosen = np.asarray(list(indices), dtype=float)
        except (TypeError, ValueError):
            raise MIInputError("A selection must be a list of atom indices.") from None
        if chosen.size and (
            np.any(chosen != np.round(chosen)) or chosen.min() < 0 or chosen.max() >= n_atoms
        ):
            raise MIInputError(f"Atom indices must be whole numbers from 0 to {n_atoms - 1}.")
        return np.unique(chosen.astype(int))

    # ------------------------------------------------------------------ drawing
    def _wrapped(self, index: int) -> Atoms:
        """Frame ``index`` with atoms wrapped into the cell (MD keeps them unwrapped)."""
        atoms = self.result.frames[index].copy()
        atoms.calc = None
        atoms.wrap()
        return atoms

    def _show_model(self) -> None:
        m = self.model
        # TS-LPP coordinates are ~1e-3 (normalised by the graph degree); drawn in units
        # of their spread so the axes read 0.5, 1, 2 rather than -3.000e-3.
        self._tslpp_unit = float(np.std(m.tslpp_xy)) or 1.0
        reference = m.tslpp_xy / self._tslpp_unit
        replace_data(
            self._reference,
            xt=reference[:, 0],
            yt=reference[:, 1],
            xp=m.pca_xy[:, 0],
            yp=m.pca_xy[:, 1],
            color=_colors(m.labels),
        )
        self._show_fractions()
        legend = "".join(
            f"<span style='color:{class_color(k)};font-size:18px'>&#9679;</span> "
            f"{html.escape(name)}&nbsp; "
            for k, name in enumerate(m.class_names)
        )
        accuracy = ""
        if m.accuracy:
            accuracy = (
                f"<br>held-out kNN accuracy: TS-LPP <b>{m.accuracy['tslpp']:.3f}</b>, "
                f"PCA <b>{m.accuracy['pca']:.3f}</b>"
            )
        kind = "reference classes" if m.supervised else "k-means clusters"
        self._summary.value = (
            f"<div style='padding:8px'>{legend}<br>{len(m.labels)} reference atoms, "
            f"{kind}{accuracy}</div>"
        )

    def _show_fractions(self) -> None:
        r = self.result
        by_temperature = bool(np.all(np.isfinite(r.temperatures)))
        x = r.temperatures if by_temperature else np.arange(len(r.frames), dtype=float)
        self._fractions_fig.xaxis.axis_label = "temperature (K)" if by_temperature else "frame"
        n_classes = len(self.model.class_names)
        pca_fractions = np.array(
            [np.bincount(lab, minlength=n_classes) / len(lab) for lab in r.pca_labels]
        )
        for k, (solid, dashed, item) in enumerate(self._fraction_lines):
            shown = k < n_classes
            replace_data(solid, x=x[: shown * len(x)], y=r.fractions[:, k] if shown else [])
            replace_data(dashed, x=x[: shown * len(x)], y=pca_fractions[:, k] if shown else [])
            item.label = {"value": self.model.class_names[k] if shown else ""}
            item.visible = shown
            for renderer in item.renderers:
                renderer.visible = shown

    def _show_frame(self, redraw_3d: bool = True) -> None:
        r, i = self.result, self.frame
        labels = r.labels[i]
        tslpp_xy = r.tslpp_xy[i] / self._tslpp_unit
        replace_data(
            self._atoms,
            xt=tslpp_xy[:, 0],
            yt=tslpp_xy[:, 1],
            xp=r.pca_xy[i][:, 0],
            yp=r.pca_xy[i][:, 1],
            color=_colors(labels),
            atom=np.arange(len(labels)),
        )
        if redraw_3d:  # (before display, nglview's re-centring fails in the browser)
            update_structure(self.view, atoms=self._wrapped(i), labels=labels)
        temperature = r.temperatures[i]
        self._cursor.location = float(temperature) if np.isfinite(temperature) else float(i)
        shares = ", ".join(
            f"{name} {share:.0%}"
            for name, share in zip(self.model.class_names, r.fractions[i], strict=True)
        )
        where = f"T = {temperature:.0f} K, " if np.isfinite(temperature) else ""
        self._frame_info.value = (
            f"<small>frame {i + 1} of {len(r.frames)}: {where}{len(labels)} atoms<br>"
            f"{html.escape(shares)}</small>"
        )
