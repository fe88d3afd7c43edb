"""StructureExplorer: pick or upload a crystal, build a supercell, see it in 3D with its RDF."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from ase import Atoms
from bokeh.models import ColumnDataSource

from mi_widgets._errors import MIInputError, check_choice
from mi_widgets.structure.build import describe_structure, first_shell_cutoff, supercell
from mi_widgets.structure.io import (
    BUILTIN_CRYSTALS,
    builtin_crystal,
    read_structure,
    require_cell,
    structure_to_text,
)
from mi_widgets.structure.rdf import coordination_numbers, rdf
from mi_widgets.viz.app import LabApp
from mi_widgets.viz.bokeh import bokeh_pane, new_figure, replace_data
from mi_widgets.viz.layout import download_link
from mi_widgets.viz.palette import class_color
from mi_widgets.viz.structure import structure_view, update_structure
from mi_widgets.viz.upload import UploadedFile

__all__ = ["COLOR_MODES", "StructureExplorer"]

COLOR_MODES = ("element", "coordination")
UPLOAD_ACCEPT = ".cif,.xyz,.extxyz,.vasp,.poscar,.pdb,.xsf"
R_MAX_RANGE = (2.0, 15.0)  # Å, the slider's range


class StructureExplorer(LabApp):
    """Explore a crystal: choose or upload it, repeat it, view it in 3D, see its g(r), download it.

    Every control is also a method (an action), so the app can be driven from
    Python; called from Python an action raises :class:`MIInputError` on bad
    input, from a control it shows the same sentence in the banner.

    Parameters
    ----------
    crystal : str
        A name from :data:`~mi_widgets.structure.BUILTIN_CRYSTALS` to start with.
    repeat : (int, int, int)
        The starting supercell.
    r_max : float
        Largest distance of the radial distribution function (Å).
    smearing : float
        Gaussian width (Å) given to each distance in g(r), like thermal vibrations.
    random_state : int or None, default 0
        Seed of the lab contract (nothing in this app is random).

    Attributes
    ----------
    atoms : ase.Atoms
        The supercell shown.
    unit_cell : ase.Atoms
        The structure it repeats.
    rdf_result : RDFResult
        Its g(r).
    coordination : ndarray of int
        Neighbours of every atom of the supercell within :attr:`bond_cutoff`.
    bond_cutoff : float
        The first minimum of g(r) (Å), see :func:`~mi_widgets.structure.build.first_shell_cutoff`.

    Examples
    --------
    >>> explorer = StructureExplorer("Si (diamond)", repeat=(2, 2, 2))
    >>> len(explorer.atoms)
    64
    >>> explorer.set_color_mode("coordination"); sorted(set(explorer.coordination.tolist()))
    [4]
    >>> explorer.set_repeat(0, 1, 1)
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: each repetition must be ...
    """

    title = "Structure explorer"
    css_class = "mi-structure-explorer"
    controls_width = "330px"

    def __init__(
        self,
        crystal: str = "Cu (fcc)",
        repeat: tuple[int, int, int] = (3, 3, 3),
        r_max: float = 8.0,
        smearing: float = 0.05,
        *,
        random_state: int | None = 0,
    ) -> None:
        super().__init__(random_state=random_state)
        self.color_mode = "element"
        self.r_max = float(r_max)
        self.n_bins = 400
        self.smearing = float(smearing)
        self.source_name = crystal
        self._uploaded: dict[str, Atoms] = {}
        self._syncing = False
        self._compute(builtin_crystal(crystal), tuple(repeat))
        self._build_widgets(crystal)
        self._redraw()

    # ----- actions (what the controls do) -------------------------------------------------
    def select_crystal(self, name: str) -> None:
        """Show a built-in crystal, or a structure uploaded earlier in this session."""
        atoms = self._uploaded[name] if name in self._uploaded else builtin_crystal(name)
        self._show(atoms, name, self.repeat)

    def load_file(self, content: bytes, filename: str) -> None:
        """Show a structure from a file's bytes (CIF, extended XYZ, POSCAR, PDB, XSF)."""
        atoms = require_cell(read_structure(content, filename=filename), filename)
        self._show(atoms, filename, self.repeat)
        self._remember_upload(filename, atoms)

    def set_repeat(self, nx: int, ny: int, nz: int) -> None:
        """Rebuild the supercell ``nx x ny x nz``."""
        self._show(self.unit_cell, self.source_name, (nx, ny, nz))

    def set_color_mode(self, mode: str) -> None:
        """Colour atoms by ``"element"`` or by ``"coordination"`` number."""
        self.color_mode = check_choice(mode, "Colour mode", COLOR_MODES)
        self._sync_controls()
        self._redraw_view()

    def set_r_max(self, r_max: float) -> None:
        """Recompute g(r) up to ``r_max`` (Å)."""
        try:
            value = float(r_max)
        except (TypeError, ValueError):
            value = float("nan")
        low, high = R_MAX_RANGE
        if not low <= value <= high:
            raise MIInputError(f"r max must be from {low} to {high} Å; got {r_max!r}.")
        result = rdf(self.unit_cell, value, self.n_bins, smearing=self.smearing)
        self.r_max, self.rdf_result = value, result
        self._sync_controls()
        self._redraw_rdf()

    def download_text(self, fmt: str) -> str:
        """The current supercell as ``"cif"`` or ``"extxyz"`` text."""
        return structure_to_text(self.atoms, fmt)

    # ----- computation ----------------------------------------------------------------------
    def _compute(self, unit_cell: Atoms, repeat: Sequence[int]) -> None:
        """Compute everything the views show; assign state only when all of it succeeded."""
        atoms = supercell(unit_cell, tuple(repeat))
        # a periodic supercell has the g(r) and coordination of its unit cell: compute them there
        rdf_result = rdf(unit_cell, self.r_max, self.n_bins, smearing=self.smearing)
        cutoff = first_shell_cutoff(unit_cell)
        n_cells = len(atoms) // len(unit_cell)
        coordination = np.tile(coordination_numbers(unit_cell, cutoff), n_cells)
        summary = describe_structure(atoms)
        self.unit_cell, self.repeat, self.atoms = unit_cell, tuple(int(n) for n in repeat), atoms
        self.rdf_result, self.coordination, self.bond_cutoff = rdf_result, coordination, cutoff
        self.summary = summary

    def _show(self, unit_cell: Atoms, name: str, repeat: Sequence[int]) -> None:
        self._compute(unit_cell, repeat)
        self.source_name = name
        self._sync_controls()
        self._redraw()

    def _sync_controls(self) -> None:
        """Make the controls show the current state (when an action came from Python)."""
        if not hasattr(self, "_crystal"):
            return
        self._syncing = True
        try:
            if self.source_name in self._crystal.options:
                self._crystal.value = self.source_name
            for box, n in zip(self._repeat, self.repeat, strict=True):
                box.value = n
            self._color.value = self.color_mode
            self._r_max.value = self.r_max
        finally:
            self._syncing = False

    def _remember_upload(self, filename: str, atoms: Atoms) -> None:
        self._uploaded[filename] = atoms
        self._syncing = True
        try:
            self._crystal.options = list(BUILTIN_CRYSTALS) + list(self._uploaded)
            self._crystal.value = filename
        finally:
            self._syncing = False

    # ----- widgets --------------------------------------------------------------------------
    def _build_widgets(self, crystal: str) -> None:
        self._crystal = widgets.Dropdown(
            options=list(BUILTIN_CRYSTALS), value=crystal, description="Crystal"
        )
        self.on_change(self._crystal, self._on_crystal)
        self._upload = self.upload_button(UPLOAD_ACCEPT, "Upload structure", self._on_upload)
        self._repeat = [
            widgets.BoundedIntText(
                value=n, min=1, max=20, description=axis, layout={"width": "95px"}
            )
            for n, axis in zip(self.repeat, ("nx", "ny", "nz"), strict=True)
        ]
        for box in self._repeat:
            box.style.description_width = "24px"
            self.on_change(box, self._on_repeat)
        self._color = widgets.ToggleButtons(
            options=[("Element", "element"), ("Coordination", "coordination")],
            description="Colour",
            style={"button_width": "100px"},
        )
        self.on_change(self._color, self._on_color)
        self._r_max = widgets.FloatSlider(
            value=self.r_max,
            min=R_MAX_RANGE[0],
            max=R_MAX_RANGE[1],
            step=0.5,
            description="r max (Å)",
        )
        self.on_change(self._r_max, self._on_r_max)
        self._info = widgets.HTML()
        self._legend = widgets.HTML()
        self._downloads = widgets.HTML()
        self._view = structure_view(self.atoms, width="520px", height="440px")
        self._source = ColumnDataSource({"r": [], "g": []})
        fig = new_figure(
            "Radial distribution function",
            width=520,
            height=300,
            x_axis_label="r (Å)",
            y_axis_label="g(r)",
        )
        fig.line("r", "g", source=self._source, line_width=2, color="#0072B2")
        self._rdf_figure = fig
        self._rdf_pane = bokeh_pane(fig)
        self._rdf_pane.add_class("mi-rdf-plot")

    def _controls(self) -> list[widgets.Widget]:
        return [
            self._crystal,
            self._upload,
            widgets.HTML("<b>Supercell</b>"),
            widgets.HBox(self._repeat),
            self._color,
            self._r_max,
            self._info,
            self._legend,
            self._downloads,
        ]

    def _main(self) -> widgets.Widget:
        main = widgets.HBox(
            [widgets.VBox([self._view]), widgets.VBox([self._rdf_pane])],
            layout={"flex_flow": "row wrap"},
        )
        # basis 0 and a minimum: the 3D view stays beside the controls from 1024 px wide;
        # g(r) goes below it where both do not fit
        main.layout.flex = "1 1 0%"
        main.layout.min_width = "530px"
        return main

    # ----- callbacks: ignore echoes of our own updates, then call one action ----------------
    def _on_crystal(self, name: str) -> None:
        if not self._syncing:
            self.select_crystal(name)

    def _on_color(self, mode: str) -> None:
        if not self._syncing:
            self.set_color_mode(mode)

    def _on_r_max(self, r_max: float) -> None:
        if not self._syncing:
            self.set_r_max(r_max)

    def _on_upload(self, uploaded: UploadedFile) -> None:
        self.load_file(uploaded.content, uploaded.name)

    def _on_repeat(self, _value: int) -> None:
        if self._syncing:
            return
        try:
            self.set_repeat(*(int(box.value) for box in self._repeat))
        except MIInputError:
            self._sync_controls()  # the boxes show the supercell that is kept
            raise

    # ----- drawing ----------------------------------------------------------------------------
    def _redraw(self) -> None:
        self._redraw_view()
        self._redraw_rdf()
        self._redraw_info()

    def _coordination_labels(self) -> tuple[np.ndarray, list[int]]:
        values = sorted(set(self.coordination.tolist()))
        index = {cn: k for k, cn in enumerate(values)}
        return np.array([index[cn] for cn in self.coordination.tolist()]), values

    def _new_atoms(self) -> Atoms | None:
        """The atoms to send to the 3D view, or None when it already shows them."""
        return None if self._view._mi_state["atoms"] is self.atoms else self.atoms

    def _redraw_view(self) -> None:
        if self.color_mode == "coordination":
            labels, values = self._coordination_labels()
            update_structure(self._view, atoms=self._new_atoms(), labels=labels)
            swatches = "".join(
                f'<span style="display:inline-block;width:12px;height:12px;'
                f'background:{class_color(k)};margin:0 4px 0 10px;"></span>{cn}'
                for k, cn in enumerate(values)
            )
            self._legend.value = (
                f"<div>Neighbours within {self.bond_cutoff:.2f} Å "
                f"(first minimum of g(r)):{swatches}</div>"
            )
        else:
            update_structure(self._view, atoms=self._new_atoms())
            elements = ", ".join(sorted(set(self.atoms.get_chemical_symbols())))
            self._legend.value = f"<div>Coloured by element (CPK): {html.escape(elements)}</div>"

    def _redraw_rdf(self) -> None:
        result = self.rdf_result
        replace_data(self._source, r=result.r.tolist(), g=result.g.tolist())
        formula = self.unit_cell.get_chemical_formula(mode="metal", empirical=True)
        self._rdf_figure.title.text = f"Radial distribution function of {formula}"

    def _redraw_info(self) -> None:
        s = self.summary
        a, b, c = s.cell_lengths
        alpha, beta, gamma = s.cell_angles
        self._info.value = (
            f'<div class="mi-structure-info" style="font-size:14px;line-height:1.5;">'
            f"<b>{html.escape(self.source_name)}</b><br>"
            f"{html.escape(s.formula)}: {s.n_atoms} atoms<br>"
            f"a, b, c = {a:.3f}, {b:.3f}, {c:.3f} Å<br>"
            f"&alpha;, &beta;, &gamma; = {alpha:.1f}°, {beta:.1f}°, {gamma:.1f}°<br>"
            f"V = {s.volume:.1f} Å³, &rho; = {s.density:.3f} g/cm³</div>"
        )
        stem = "supercell_" + "x".join(str(n) for n in self.repeat)
        self._downloads.value = (
            download_link(
                f"{stem}.cif",
                self.download_text("cif"),
                mime="chemical/x-cif",
                label="Download CIF",
            )
            + " &nbsp; "
            + download_link(
                f"{stem}.xyz",
                self.download_text("extxyz"),
                mime="chemical/x-xyz",
                label="Download XYZ",
            )
        )

    # ----- helpers for tests and notebooks ------------------------------------------------------
    @property
    def error(self) -> str:
        """The message in the error banner ("" when there is none)."""
        return self.banner.message
