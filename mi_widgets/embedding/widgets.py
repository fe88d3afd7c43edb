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
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, LassoSelectTool, Legend, LegendItem, Span, TapTool

from mi_widgets._errors import MIInputError, check_choice, check_positive_int
from mi_widgets.embedding.paper import TRAINING_CLASSES, MapComparison
from mi_widgets.embedding.structure_map import (
    FrameClassification,
    StructureMap,
    check_frames,
    classify_frames,
    fit_structure_map,
)
from mi_widgets.structure.data import read_trajectory
from mi_widgets.viz.app import LabApp, ProgressCallback
from mi_widgets.viz.bokeh import bokeh_pane, new_figure, replace_data, style_legend
from mi_widgets.viz.palette import class_color
from mi_widgets.viz.structure import structure_view, update_structure
from mi_widgets.viz.upload import UploadedFile

__all__ = ["StructureMapExplorer", "paper_maps"]

MAX_CLASSES = 8  # classes drawn in the fractions plot (the palette has 8 colours)
MODES = ("classify with the reference map", "unsupervised clusters")
# Sized so that controls, both maps (stacked) and the 3D view sit side by side from 1024 px.
_MAP_SIZE = {"width": 330, "height": 275}
UPLOAD_ACCEPT = ".xyz,.extxyz,.cif,.vasp,.poscar,.lammpstrj,.dump"


def _colors(labels: np.ndarray) -> list[str]:
    return [class_color(int(k)) for k in labels]


class StructureMapExplorer(LabApp):
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
    random_state : int or None, default 0
        Seed of k-means when an upload is clustered without labels.

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
        Shows bad-input messages of the controls; the previous state stays.
    uploaded : tuple of ase.Atoms
        Frames read from the last uploaded file (analysed by ``analyse_upload``).

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

    css_class = "mi-structure-map"
    controls_width = "250px"

    def __init__(
        self,
        model: StructureMap,
        frames: Sequence[Atoms],
        *,
        frame: int = 0,
        title: str = "Atoms on the TS-LPP map",
        random_state: int | None = 0,
    ) -> None:
        super().__init__(random_state=random_state)
        if len(model.class_names) > MAX_CLASSES:
            raise MIInputError(
                f"The map has {len(model.class_names)} classes; the explorer shows at most "
                f"{MAX_CLASSES}. Merge classes."
            )
        self.title = title
        self.model = model
        self.result: FrameClassification = classify_frames(model, list(frames))
        self.frame = check_positive_int(
            frame, "frame", minimum=0, maximum=len(self.result.frames) - 1
        )
        self.selected = np.array([], dtype=int)
        self.uploaded: tuple[Atoms, ...] = ()
        self._build_plots()
        self._build_controls()
        self.progress.layout.width = "240px"  # the default (300 px) is wider than the column
        self.view = structure_view(
            self._wrapped(self.frame),
            labels=self.result.labels[self.frame],
            width="auto",
            height="556px",
        )
        self.view.layout.flex = "1 1 300px"
        self.view.layout.min_width = "300px"
        self._summary = widgets.HTML()
        self._show_model()
        self._show_frame(redraw_3d=False)  # the view above already shows this frame
        # Wrap the figures only now, filled: BokehModel renders the document as it is at
        # wrapping time, and changes made before the front end shows it are lost.
        self._maps_pane = bokeh_pane(column(self._tslpp_fig, self._pca_fig))
        self._maps_pane.add_class("mi-maps-pane")
        self._fraction_pane = bokeh_pane(self._fractions_fig)

    def _controls(self) -> list[widgets.Widget]:
        return self._control_widgets

    def _main(self) -> widgets.Widget:
        maps = widgets.HBox([self._maps_pane, self.view])
        maps.layout.align_items = "flex-start"
        maps.add_class("mi-maps-and-view")
        below = widgets.HBox([self._fraction_pane, self._summary])
        below.layout.flex_flow = "row wrap"
        main = widgets.VBox([maps, below])
        # basis 0 and a minimum: the page wraps the main view below the controls only when
        # the maps and the 3D view do not fit beside them (not because of the wide plot below)
        main.layout.flex = "1 1 0%"
        main.layout.min_width = "640px"
        return main

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
        full = widgets.Layout(width="240px")
        self._slider = widgets.IntSlider(
            self.frame,
            min=0,
            max=max(len(self.result.frames) - 1, 0),
            description="frame",
            layout=full,
        )
        self._slider.style.description_width = "45px"
        self._slider.add_class("mi-frame-slider")
        self.on_change(self._slider, self._on_slider)
        self._frame_info = widgets.HTML()
        self._clear = widgets.Button(description="Clear selection", layout=full)
        self.on_click(self._clear, lambda: self.select([]))
        self._upload = self.upload_button(UPLOAD_ACCEPT, "Upload trajectory", self.load_upload)
        self._upload.layout.width = "240px"
        self._upload_info = widgets.HTML()
        self._upload_info.add_class("mi-upload-info")
        self._mode = widgets.Dropdown(options=MODES, value=MODES[0], layout=full)
        self._clusters = widgets.BoundedIntText(
            3, min=2, max=MAX_CLASSES, description="clusters", layout=full
        )
        self._clusters.style.description_width = "60px"
        self._analyse = widgets.Button(
            description="Analyse upload", button_style="primary", layout=full
        )
        self.on_click(self._analyse, self.analyse_upload)
        help_text = widgets.HTML(
            "<div style='font-size:13px;line-height:1.35'>Lasso or tap atoms on a map: they "
            "light up in 3D. Your own file: a trajectory with a periodic cell (extended XYZ, "
            "CIF, POSCAR, XDATCAR, LAMMPS text dump).</div>",
            layout=full,
        )
        self._control_widgets = [
            self._slider,
            self._frame_info,
            self._clear,
            widgets.HTML("<b>Your own trajectory</b>"),
            self._upload,
            self._upload_info,
            widgets.HTML("<span style='font-size:13px'>then use</span>"),
            self._mode,
            self._clusters,
            self._analyse,
            help_text,
        ]

    # ------------------------------------------------------------------ actions
    def select(self, indices: Sequence[int]) -> None:
        """Highlight atoms of the current frame (indices into that frame) in 3D and on the maps."""
        chosen = self._check_indices(indices)
        self.selected = chosen
        if list(self._atoms.selected.indices) != chosen.tolist():
            self._atoms.selected.indices = chosen.tolist()
        update_structure(
            self.view,
            labels=self.result.labels[self.frame],
            highlight=chosen if chosen.size else None,
        )

    def set_frame(self, index: int) -> None:
        """Show frame ``index``: its atoms on both maps, in 3D, and the cursor on the fractions."""
        index = check_positive_int(index, "frame", minimum=0, maximum=len(self.result.frames) - 1)
        self.frame = index
        self.selected = np.array([], dtype=int)
        self._atoms.selected.indices = []
        if self._slider.value != index:
            self._slider.value = index  # _on_slider sees frame == index and returns
        self._show_frame()

    def load_frames(self, frames: Sequence[Atoms], *, clusters: int | None = None) -> None:
        """Analyse other frames: classify them on the current map, or (``clusters``)
        fit a new unsupervised map with that many k-means clusters on them."""
        frames = check_frames(frames)
        if clusters is not None:
            check_positive_int(clusters, "clusters", minimum=2, maximum=MAX_CLASSES)
        with self.progress_shown("Analysing") as progress:
            if clusters is None:
                model = self.model
                result = classify_frames(model, frames, progress=progress)
            else:
                n = len(frames)
                model = fit_structure_map(
                    frames,
                    None,
                    n_clusters=clusters,
                    random_state=0 if self.random_state is None else self.random_state,
                    progress=_offset(progress, 0, 2 * n),
                )
                result = classify_frames(model, frames, progress=_offset(progress, n, 2 * n))
        # Only now, with everything computed, replace the state.
        self.model, self.result = model, result
        self._show_model()
        self.frame = -1
        self._slider.max = len(result.frames) - 1
        self.set_frame(0)

    def load_upload(self, upload: UploadedFile) -> None:
        """Read an uploaded trajectory (its frames wait for :meth:`analyse_upload`)."""
        frames = read_trajectory(upload.content, filename=upload.name)
        self.uploaded = tuple(frames)
        atoms = sorted({len(a) for a in frames})
        sizes = f"{atoms[0]}" if len(atoms) == 1 else f"{atoms[0]}-{atoms[-1]}"
        self._upload_info.value = (
            f"<div style='font-size:13px'>{html.escape(upload.name)}: {len(frames)} "
            f"frame{'s' if len(frames) != 1 else ''} of {sizes} atoms</div>"
        )

    def analyse_upload(self) -> None:
        """Analyse the uploaded frames with the chosen mode (reference map or clusters)."""
        if not self.uploaded:
            raise MIInputError("No file uploaded; choose a trajectory file first.")
        mode = check_choice(self._mode.value, "mode", MODES)
        clusters = None if mode == MODES[0] else int(self._clusters.value)
        self.load_frames(list(self.uploaded), clusters=clusters)

    # ------------------------------------------------------------------ callbacks
    def _on_slider(self, value: int) -> None:
        if value != self.frame:
            self.set_frame(value)

    def _on_map_selection(self, attr: str, old: Any, new: Any) -> None:
        if list(new) != self.selected.tolist():
            self.run_action(self.select, new)

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
        kind = "reference classes" if m.supervised else "k-means clusters"
        rows = []
        if m.accuracy:
            rows.append(
                f"<tr><td>kNN accuracy, held out ({html.escape(m.validation)})</td>"
                f"<td><b>{m.accuracy['tslpp']:.3f}</b></td><td>{m.accuracy['pca']:.3f}</td></tr>"
            )
        rows.append(
            f"<tr><td>silhouette of the {kind} (-1 to 1)</td>"
            f"<td><b>{m.silhouette['tslpp']:.2f}</b></td><td>{m.silhouette['pca']:.2f}</td></tr>"
        )
        self._summary.value = (
            f"<div class='mi-map-summary' style='padding:8px;font-size:14px'>{legend}<br>"
            f"{len(m.labels)} reference atoms, {kind}"
            "<table style='border-collapse:collapse;margin-top:4px'>"
            "<tr><th></th><th style='padding:0 8px'>TS-LPP</th><th style='padding:0 8px'>PCA</th>"
            f"</tr>{''.join(rows)}</table></div>"
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
            f"<div style='font-size:13px;line-height:1.35'>frame {i + 1} of {len(r.frames)}: "
            f"{where}{len(labels)} atoms<br>{html.escape(shares)}</div>"
        )


def _offset(progress: ProgressCallback, start: int, total: int) -> ProgressCallback:
    """A ``progress(done, n)`` callback reporting ``start + done`` of ``total`` to ``progress``."""

    def report(done: int, _n: int) -> None:
        progress(start + done, total)

    return report


def paper_maps(comparison: MapComparison, class_names: Sequence[str] = TRAINING_CLASSES):
    """PCA, LPP and TS-LPP planes from :func:`~mi_widgets.embedding.paper.compare_maps`.

    Each title gives the plane's kNN accuracy and silhouette; classes have the
    lab's colours. Returns one bokeh pane (an ipywidget).

    Examples
    --------
    >>> from mi_widgets.embedding.paper import compare_maps
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(c, 1.0, (30, 5)) for c in (0.0, 3.0, 6.0)])
    >>> pane = paper_maps(compare_maps(X, np.repeat([0, 1, 2], 30), sigma=None, n_intermediate=4))
    >>> type(pane).__name__
    '_BokehPane'
    """
    figures = []
    for name in comparison.names:
        xy = comparison.embeddings[name]
        # LPP coordinates are ~1e-3 (normalised by the graph degree): draw them in units
        # of their spread, like the app's map
        xy = xy / (float(np.std(xy)) or 1.0)
        fig = new_figure(
            f"{name}: kNN {comparison.accuracy[name]:.4f}, "
            f"silhouette {comparison.silhouette[name]:.2f}",
            width=330,
            height=300,
            tools="pan,wheel_zoom,reset,save",
            x_axis_label="component 1 (units of the spread)",
            y_axis_label="component 2",
        )
        fig.title.text_font_size = "13px"
        for k in np.unique(comparison.labels):
            chosen = comparison.labels == k
            label = str(class_names[k]) if k < len(class_names) else f"class {k}"
            fig.scatter(
                xy[chosen, 0],
                xy[chosen, 1],
                size=4,
                alpha=0.6,
                color=class_color(int(k)),
                legend_label=label,
            )
        style_legend(fig, outside="below")
        figures.append(fig)
    pane = bokeh_pane(row(*figures))
    pane.add_class("mi-paper-maps")
    return pane
