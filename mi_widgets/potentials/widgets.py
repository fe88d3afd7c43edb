"""PotentialLab: symmetry functions, training a Behler-Parrinello network, MD at scale."""

from __future__ import annotations

import html
import warnings

import ipywidgets as widgets
import numpy as np
from bokeh.models import ColumnDataSource, FactorRange

from mi_widgets._errors import MIInputError, check_choice
from mi_widgets.potentials.base import ExtrapolationWarning
from mi_widgets.potentials.io import read_training_frames
from mi_widgets.potentials.md import ScaleUpResult, scale_up
from mi_widgets.potentials.network import NeuralNetworkPotential
from mi_widgets.potentials.training import (
    PotentialErrors,
    evaluate,
    force_training_comparison,
    invariance_check,
    learning_curve,
    load_pretrained,
    load_si_frames,
    pretrained_info,
    si_descriptor,
    split_frames,
)
from mi_widgets.structure import StillingerWeber
from mi_widgets.viz import (
    bokeh_pane,
    class_color,
    new_figure,
    replace_data,
    structure_view,
    style_legend,
    update_structure,
)
from mi_widgets.viz.app import LabApp
from mi_widgets.viz.upload import UploadedFile

__all__ = ["PotentialLab"]

#: Scale-up cells, atoms -> cubic 8-atom cells per edge; 1728 is the lecture's large cell
#: (about 3.5 CPU minutes for both potentials at 300 steps).
CELLS = {216: 3, 512: 4, 1728: 6}
LEARNING_SIZES = (5, 10, 20, 40)
_TEXT = "<p style='font-size:14px'>{}</p>"


def _transforms(check) -> str:
    return (
        f"Largest change of any symmetry function of any atom: "
        f"<b>{check.max_feature_difference:.1e}</b> (round-off). Largest change of the "
        f"Cartesian coordinates a network would be fed instead: "
        f"<b>{check.max_cartesian_difference:.2f} Å</b>."
    )


class PotentialLab(LabApp):
    """Machine-learning potentials for Si: descriptors, training, MD at scale, your data.

    Parameters
    ----------
    random_state : int or None, default 0
        Seed of the split, the weights, the transformations and the MD.

    Attributes
    ----------
    structure : ase.Atoms
        The structure of the descriptor explorer.
    check : InvarianceCheck or None
        The last rotation / permutation test.
    model : NeuralNetworkPotential
        The potential trained in the lab (the shipped one until :meth:`train`).
    errors : PotentialErrors or None
        ``model`` on the held-out frames once trained here (the shipped potential was
        trained on another split, so its own held-out errors come from its JSON).
    comparison : dict or None
        Energy-only vs energy + force training (held-out errors), once run.
    curve : dict or None
        The learning curve, once run.
    md : ScaleUpResult or None
        The last scale-up run.
    frames : list of ase.Atoms
        The training pool (the Si frames, or an upload); ``train_frames`` and
        ``test_frames`` split it.

    Examples
    --------
    >>> lab = PotentialLab()
    >>> lab.rotate()
    >>> lab.check.max_feature_difference < 1e-8
    True
    """

    title = "Machine-learning potentials: symmetry functions, a Behler-Parrinello network, MD"
    controls_width = "310px"
    css_class = "mi-potential-lab"

    def __init__(self, *, random_state: int | None = 0) -> None:
        super().__init__(random_state=random_state)
        self._seed = 0 if random_state is None else random_state
        self.settings = si_descriptor()
        self.model = load_pretrained("Si")
        self.model_name = "shipped potential"
        self.check = self.comparison = self.curve = self.md = None
        self._transforms_done = 0
        self.structure = load_si_frames(include_md=False)[42]  # a vacancy cell at 600 K
        self._set_frames(load_si_frames(include_md=False), "Stillinger-Weber Si (65 cells)")
        self._build_controls()
        self._build_plots()
        self.errors = None
        self.select_atom(0)
        self._redraw_training(history=False)

    # ---------------------------------------------------------------- layout
    def _build_controls(self) -> None:
        n = len(self.structure)
        self.atom = widgets.IntSlider(value=0, min=0, max=n - 1, description="Atom",
                                      continuous_update=False)  # fmt: skip
        self.rotate_button = widgets.Button(description="Rotate", icon="refresh")
        self.permute_button = widgets.Button(description="Permute", icon="random")
        self.hidden = widgets.IntSlider(value=12, min=2, max=32, description="Width",
                                        continuous_update=False)  # fmt: skip
        self.force_weight = widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=1,
                                                   description="λ_F / λ_E")  # fmt: skip
        self.epochs = widgets.IntSlider(value=150, min=10, max=400, step=10,
                                        description="Epochs", continuous_update=False)  # fmt: skip
        self.train_button = widgets.Button(description="Train", icon="graduation-cap",
                                           button_style="primary")  # fmt: skip
        self.compare_button = widgets.Button(description="Energy only vs E + F")
        self.curve_button = widgets.Button(description="Learning curve")
        self.md_model = widgets.Dropdown(
            options=["shipped potential", "trained here"], description="Potential"
        )
        self.md_atoms = widgets.Dropdown(options=list(CELLS), value=216, description="Atoms")
        self.md_steps = widgets.IntSlider(
            value=300, min=100, max=2000, step=100, description="NVE steps",
            continuous_update=False,
        )  # fmt: skip
        self.md_button = widgets.Button(description="Run MD", icon="play")
        self.upload = self.upload_button(".extxyz,.xyz", "Upload extended XYZ", self._on_upload)
        self.summary = widgets.HTML()
        self._following = False  # True while a transform moves the slider to the same atom
        self.on_change(self.atom, self._atom_moved)
        self.on_click(self.rotate_button, self.rotate)
        self.on_click(self.permute_button, self.permute)
        self.on_click(self.train_button, self.train, background=True)
        self.on_click(self.compare_button, self.compare_force_training, background=True)
        self.on_click(self.curve_button, self.learning_curve, background=True)
        self.on_click(self.md_button, self.run_md, background=True)

    def _controls(self):
        return [
            widgets.HTML("<b>Descriptors</b>"),
            self.atom, widgets.HBox([self.rotate_button, self.permute_button]),
            widgets.HTML("<b>Training</b>"),
            self.hidden, self.force_weight, self.epochs, self.train_button,
            self.compare_button, self.curve_button,
            widgets.HTML("<b>Scale-up MD (liquid, 2000 K)</b>"),
            self.md_model, self.md_atoms, self.md_steps, self.md_button,
            widgets.HTML("<b>Your own data</b>"),
            self.upload, self.summary,
        ]  # fmt: skip

    def _figure(self, title, x, y, width=360, height=300, **kwargs):
        return new_figure(title, width=width, height=height, x_axis_label=x, y_axis_label=y,
                          **kwargs)  # fmt: skip

    def _build_plots(self) -> None:
        labels = [_short(label) for label in self.settings.feature_labels()]
        self._feature_source = ColumnDataSource({"name": labels, "before": [0.0] * len(labels),
                                                 "after": [0.0] * len(labels)})  # fmt: skip
        bars = self._figure("Symmetry functions of the atom", "", "value", width=540,
                            x_range=FactorRange(*labels))  # fmt: skip
        bars.vbar("name", top="before", width=0.8, source=self._feature_source,
                  color=class_color(0), legend_label="before")  # fmt: skip
        bars.scatter("name", "after", source=self._feature_source, size=9, marker="diamond",
                     color=class_color(1), legend_label="after transform")  # fmt: skip
        bars.xaxis.major_label_orientation = 1.1
        style_legend(bars, "top_right")
        self.view = structure_view(self.structure, width="300px", height="300px")
        self.descriptor_text = widgets.HTML()
        self._loss_source = ColumnDataSource({"epoch": [], "energy": [], "force": []})
        loss = self._figure("Held-out errors while training", "epoch", "RMSE", y_axis_type="log")
        loss.line("epoch", "energy", source=self._loss_source, line_width=2,
                  color=class_color(0), legend_label="energy (meV/atom)")  # fmt: skip
        loss.line("epoch", "force", source=self._loss_source, line_width=2,
                  color=class_color(1), legend_label="force (eV/Å)")  # fmt: skip
        style_legend(loss, "top_right")
        self._energy_source = ColumnDataSource({"x": [], "y": []})
        energy = self._figure("Energies, held-out frames", "reference (eV/atom)",
                              "network (eV/atom)")  # fmt: skip
        energy.scatter("x", "y", source=self._energy_source, size=6, color=class_color(0))
        self._energy_diagonal = ColumnDataSource({"x": [], "y": []})
        energy.line("x", "y", source=self._energy_diagonal, color="grey", line_dash="dashed")
        self._force_source = ColumnDataSource({"x": [], "y": []})
        force = self._figure("Force components, held-out", "reference (eV/Å)", "network (eV/Å)")
        force.scatter("x", "y", source=self._force_source, size=3, alpha=0.4,
                      color=class_color(1))  # fmt: skip
        self._force_diagonal = ColumnDataSource({"x": [], "y": []})
        force.line("x", "y", source=self._force_diagonal, color="grey", line_dash="dashed")
        self._curve_source = ColumnDataSource({"n": [], "energy": [], "force": []})
        curve = self._figure("Learning curve (held-out)", "training frames", "RMSE",
                             x_axis_type="log", y_axis_type="log")  # fmt: skip
        for column, k, label in (("energy", 0, "energy (meV/atom)"), ("force", 1, "force (eV/Å)")):
            curve.line("n", column, source=self._curve_source, color=class_color(k),
                       line_width=2, legend_label=label)  # fmt: skip
            curve.scatter("n", column, source=self._curve_source, color=class_color(k), size=7)
        style_legend(curve, "bottom_left")
        self.training_text = widgets.HTML()
        self._md_sources, md_figures = {}, []
        for key, title, x, y in (
            ("rdf", "Radial distribution g(r)", "r (Å)", "g(r)"),
            ("msd", "Mean-squared displacement", "t (ps)", "MSD (Å²)"),
            ("vdos", "Vibrational DOS (from the VACF)", "frequency (THz)", "DOS (1/THz)"),
        ):  # fmt: skip
            fig = self._figure(title, x, y, width=340, height=310)
            sources = []
            for k, label in ((0, "network"), (1, "Stillinger-Weber")):
                source = ColumnDataSource({"x": [], "y": []})
                fig.line("x", "y", source=source, color=class_color(k), line_width=2,
                         legend_label=label, line_dash="solid" if k == 0 else "dashed")  # fmt: skip
                sources.append(source)
            style_legend(fig, outside="below")  # never over the curves
            self._md_sources[key] = sources
            md_figures.append(fig)
        self.md_text = widgets.HTML(_TEXT.format(
            "Press <b>Run MD</b>: a Si liquid is melted with Stillinger-Weber, then both "
            "potentials hold it at 2000 K and run NVE from the same start."))  # fmt: skip
        self.upload_text = widgets.HTML(_TEXT.format(
            "Upload an extended XYZ file whose frames carry <code>energy=</code> in the "
            "comment line and a <code>forces</code> column. The current potential is tested "
            "on it; <b>Train</b> then trains on it (80 % of the frames; 20 % held out).")
        )  # fmt: skip
        self._panes = {
            "bars": bokeh_pane(bars),
            "training": [bokeh_pane(f) for f in (loss, energy, force, curve)],
            "md": [bokeh_pane(f) for f in md_figures],
        }

    def _main(self):
        row = widgets.Layout(flex_flow="row wrap")
        descriptors = widgets.VBox([
            widgets.HBox([self.view, self._panes["bars"]], layout=row), self.descriptor_text,
        ])  # fmt: skip
        training = widgets.VBox([
            self.training_text, widgets.HBox(self._panes["training"], layout=row),
        ])  # fmt: skip
        md = widgets.VBox([self.md_text, widgets.HBox(self._panes["md"], layout=row)])
        tabs = widgets.Tab([descriptors, training, md, widgets.VBox([self.upload_text])])
        for i, name in enumerate(("Descriptors", "Training", "Scale-up MD", "Your own data")):
            tabs.set_title(i, name)
        self.tabs = tabs
        return tabs

    # ---------------------------------------------------------------- actions
    def select_atom(self, index: int) -> None:
        """Show the symmetry functions of atom ``index`` (and highlight it in 3D)."""
        index = int(index)
        if not 0 <= index < len(self.structure):
            raise MIInputError(f"Atom index must be between 0 and {len(self.structure) - 1}.")
        check = invariance_check(self.structure, self.settings, index, "rotate", self._seed)
        self._show_features(check.features_before, check.features_before)
        if self.atom.value != index:
            self.atom.value = index
        labels = np.zeros(len(self.structure), dtype=int)
        labels[index] = 1
        update_structure(self.view, labels=labels)
        self.descriptor_text.value = _TEXT.format(
            f"Atom {index} of a 64-atom Si cell with a vacancy (600 K): {self.settings.n_features} "
            "symmetry functions, G1, 12 radial G2 and 12 angular G4 (r_c = 4.5 Å). "
            "<b>Rotate</b> or <b>Permute</b> the structure to test them."
        )

    def rotate(self) -> None:
        """Rotate cell and atoms at random; the features stay, the coordinates do not."""
        self._transform("rotate")

    def permute(self) -> None:
        """Renumber the atoms at random; the chosen atom's features follow it."""
        self._transform("permute")

    def train(self) -> None:
        """Train a network of the chosen size, weights and epochs on the training frames."""
        model = self._new_model()
        with self.progress_shown("Training") as progress:
            model.fit(self.train_frames, 1.0, float(self.force_weight.value),
                      progress=self._live(model, progress))  # fmt: skip
        errors = evaluate(model, self.test_frames)
        self.model, self.errors, self.model_name = model, errors, "trained here"
        self.md_model.value = "trained here"
        self._redraw_training()

    def compare_force_training(self) -> None:
        """Train the same network on energies alone and on energies + forces; compare."""
        with self.progress_shown("Training twice") as progress:
            result = force_training_comparison(
                self._new_model, self.train_frames, self.test_frames, 1.0,
                max(float(self.force_weight.value), 1e-3), progress=progress,
            )  # fmt: skip
        self.comparison = result
        self._redraw_training(history=False)

    def learning_curve(self) -> None:
        """Held-out errors vs number of training frames (5 to 40)."""
        sizes = [n for n in LEARNING_SIZES if n <= len(self.train_frames)] or [
            len(self.train_frames)
        ]
        with self.progress_shown("Learning curve") as progress:
            curve = learning_curve(
                self._new_model, self.train_frames, self.test_frames, sizes,
                force_weight=float(self.force_weight.value), random_state=self._seed,
                progress=progress,
            )  # fmt: skip
        self.curve = curve
        replace_data(self._curve_source, n=curve["n_frames"].tolist(),
                     energy=(1e3 * curve["energy_rmse"]).tolist(),
                     force=curve["force_rmse"].tolist())  # fmt: skip
        self._redraw_training(history=False)

    def run_md(self, n_atoms: int | None = None, n_steps: int | None = None) -> None:
        """Liquid Si at 2000 K with the chosen potential and with Stillinger-Weber, compared."""
        n_atoms = self.md_atoms.value if n_atoms is None else int(n_atoms)
        n_steps = self.md_steps.value if n_steps is None else int(n_steps)
        check_choice(n_atoms, "n_atoms", tuple(CELLS))
        model = self.model if self.md_model.value == "trained here" else load_pretrained("Si")
        if tuple(model.species) != ("Si",):
            raise MIInputError("Scale-up MD runs Si; train on the Si data (or pick the shipped "
                               "potential) first.")  # fmt: skip
        with self.progress_shown("MD") as progress, warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)
            result = scale_up(model, StillingerWeber(), repeat=CELLS[n_atoms], n_steps=n_steps,
                              random_state=self._seed, progress=progress)  # fmt: skip
        self.md = result
        self._redraw_md()

    def load_training_data(self, content: bytes, name: str = "upload.extxyz") -> None:
        """Use your own frames (extended XYZ with energies and forces) as the training pool."""
        frames = read_training_frames(content, filename=name)
        if len(frames) < 2:
            raise MIInputError(f"{name} has one frame; give at least two (one is held out).")
        for atoms in frames:
            atoms.info.setdefault("group", "upload")
        note = self._test_current_model(frames, name)
        self._set_frames(frames, f"{html.escape(name)} ({len(frames)} frames)")
        self.upload_text.value = _TEXT.format(note)
        self.summary.value = _TEXT.format(f"Training pool: {self._pool_name}")

    # ---------------------------------------------------------------- helpers
    def _set_frames(self, frames, name: str) -> None:
        train, test = split_frames(frames, 0.2, random_state=self._seed)
        self.frames, self.train_frames, self.test_frames = list(frames), train, test
        self._pool_name = name
        self.species = sorted({s for a in frames for s in a.get_chemical_symbols()})

    def _test_current_model(self, frames, name: str) -> str:
        symbols = sorted({s for a in frames for s in a.get_chemical_symbols()})
        missing = [s for s in symbols if s not in self.model.species]
        if missing:
            return (f"{html.escape(name)}: {len(frames)} frames of {', '.join(symbols)}. The "
                    f"current potential knows {', '.join(self.model.species)} only, not "
                    f"{', '.join(missing)}: press <b>Train</b> for a new one.")  # fmt: skip
        errors = evaluate(self.model, frames)
        warning = ""
        if errors.extrapolating:
            warning = (f"<br><b>Warning:</b> in {errors.extrapolating} frame(s) atoms are closer "
                       f"than anywhere in the training data ({self.model.min_distance_:.2f} Å): "
                       "the potential extrapolates there.")  # fmt: skip
        return (f"{html.escape(name)}: {len(frames)} frames. The {self.model_name} on them: "
                f"energy RMSE <b>{1e3 * errors.energy_rmse:.1f} meV/atom</b>, force RMSE "
                f"<b>{errors.force_rmse:.3f} eV/Å</b>. Press <b>Train</b> to fit a new network "
                f"to them.{warning}")  # fmt: skip

    def _new_model(self) -> NeuralNetworkPotential:
        settings = self.settings
        if self.species != ["Si"]:
            settings = si_descriptor().__class__.create(
                settings.r_cut, self.species, settings.g2, settings.g4
            )
        width = int(self.hidden.value)
        return NeuralNetworkPotential(self.species, settings, hidden=(width, width),
                                      learning_rate=0.01, max_epochs=int(self.epochs.value),
                                      patience=40, random_state=self._seed)  # fmt: skip

    def _live(self, model, progress):
        def report(done, total):
            progress(done, total)
            if done % 5 == 0 or done == total:
                self._draw_history(model.history_)

        return report

    def _transform(self, transform: str) -> None:
        self._transforms_done += 1
        check = invariance_check(self.structure, self.settings, int(self.atom.value), transform,
                                 self._seed + self._transforms_done)  # fmt: skip
        self.check, self.structure = check, check.transformed
        self._show_features(check.features_before, check.features_after)
        labels = np.zeros(len(self.structure), dtype=int)
        labels[check.index_after] = 1
        update_structure(self.view, atoms=self.structure, labels=labels)
        self._following = True
        try:
            self.atom.value = check.index_after
        finally:
            self._following = False
        what = "rotated" if transform == "rotate" else "renumbered (the atom is now "
        what += "" if transform == "rotate" else f"number {check.index_after})"
        self.descriptor_text.value = _TEXT.format(f"Structure {what}. " + _transforms(check))

    def _atom_moved(self, index: int) -> None:
        if not self._following:
            self.select_atom(index)

    def _show_features(self, before, after) -> None:
        replace_data(self._feature_source, name=self._feature_source.data["name"],
                     before=before.tolist(), after=after.tolist())  # fmt: skip

    def _draw_history(self, history) -> None:
        n = len(history["energy_rmse"])
        replace_data(self._loss_source, epoch=list(range(1, n + 1)),
                     energy=(1e3 * np.array(history["energy_rmse"])).tolist(),
                     force=list(history["force_rmse"]))  # fmt: skip

    def _redraw_training(self, history: bool = True) -> None:
        self.training_text.value = _TEXT.format(self._training_summary())
        if self.errors is None:
            return
        if history and getattr(self.model, "history_", None):
            self._draw_history(self.model.history_)
        e: PotentialErrors = self.errors
        replace_data(self._energy_source, x=e.energy_reference.tolist(),
                     y=e.energy_predicted.tolist())  # fmt: skip
        lo, hi = float(e.energy_reference.min()), float(e.energy_reference.max())
        replace_data(self._energy_diagonal, x=[lo, hi], y=[lo, hi])
        keep = np.isfinite(e.force_reference)
        replace_data(self._force_source, x=e.force_reference[keep].tolist(),
                     y=e.force_predicted[keep].tolist())  # fmt: skip
        top = float(np.abs(e.force_reference[keep]).max()) if keep.any() else 1.0
        replace_data(self._force_diagonal, x=[-top, top], y=[-top, top])

    def _training_summary(self) -> str:
        e = self.errors
        if e is None:
            info = pretrained_info("Si")
            held = info["held_out"]
            text = ("<b>Shipped potential</b> (<code>scripts/train_si_potential.py</code>, "
                    f"{info['epochs']} epochs): on its own held-out frames "
                    f"{held['energy_rmse_meV_per_atom']:.1f} meV/atom, "
                    f"{held['force_rmse_eV_per_A']:.3f} eV/Å. Press <b>Train</b> to "
                    f"train a network on {len(self.train_frames)} frames of {self._pool_name} "
                    f"and test it on the {len(self.test_frames)} held-out ones.")  # fmt: skip
        else:
            text = (f"<b>{html.escape(self.model_name)}</b> on {len(self.test_frames)} held-out "
                    f"frames of {self._pool_name}: energy RMSE <b>{1e3 * e.energy_rmse:.1f} "
                    f"meV/atom</b>, force RMSE <b>{e.force_rmse:.3f} eV/Å</b>.")  # fmt: skip
        if self.comparison:
            only, both = self.comparison["energy only"], self.comparison["energy + force"]
            text += (f"<br>Energy only: {1e3 * only.energy_rmse:.1f} meV/atom, "
                     f"{only.force_rmse:.3f} eV/Å; energy + force: {1e3 * both.energy_rmse:.1f} "
                     f"meV/atom, {both.force_rmse:.3f} eV/Å: forces "
                     f"<b>{only.force_rmse / both.force_rmse:.1f}x</b> better with force "
                     "training.")  # fmt: skip
        if self.curve is not None:
            c = self.curve
            text += (f"<br>Learning curve: {c['n_frames'][0]} frames → "
                     f"{1e3 * c['energy_rmse'][0]:.1f} meV/atom, {c['n_frames'][-1]} frames → "
                     f"{1e3 * c['energy_rmse'][-1]:.1f} meV/atom.")  # fmt: skip
        return text

    def _redraw_md(self) -> None:
        r: ScaleUpResult = self.md
        for k, analysis in enumerate((r.model, r.reference)):
            replace_data(self._md_sources["rdf"][k], x=analysis.r.tolist(), y=analysis.g.tolist())
            replace_data(self._md_sources["msd"][k], x=analysis.lags.tolist(),
                         y=analysis.msd.tolist())  # fmt: skip
            keep = analysis.vdos.frequency <= 25.0
            replace_data(self._md_sources["vdos"][k], x=analysis.vdos.frequency[keep].tolist(),
                         y=analysis.vdos.dos[keep].tolist())  # fmt: skip
        m, s = r.model, r.reference
        self.md_text.value = _TEXT.format(
            f"{r.n_atoms} atoms, {m.temperature:.0f} K (network) / {s.temperature:.0f} K (SW). "
            f"Diffusion constant: network <b>{m.diffusion:.3f}</b>, SW <b>{s.diffusion:.3f}"
            f"</b> Å²/ps (ratio {r.diffusion_ratio:.2f}); g(r) difference "
            f"<b>{r.rdf_difference:.3f}</b> of its integral. NVE drift: network "
            f"{1e3 * m.drift:.2f}, SW {1e3 * s.drift:.2f} meV/atom/ps. Speed: network "
            f"{m.throughput:,.0f}, SW {s.throughput:,.0f} atom-steps per CPU-second."
        )

    def _on_upload(self, uploaded: UploadedFile) -> None:
        self.load_training_data(uploaded.content, uploaded.name)


def _short(label: str) -> str:
    """``G2[Si](eta=6.94, r_s=1.8)`` -> ``G2 1.8``: short names for the bar plot."""
    kind = label[:2]
    inside = label[label.index("(") + 1 : -1] if "(" in label else ""
    values = [part.split("=")[1] for part in inside.split(", ") if "=" in part]
    if kind == "G2":
        return f"G2 r_s={float(values[1]):.2f}"
    if kind == "G4":
        return f"G4 η={values[0]} ζ={values[1]} λ={float(values[2]):+.0f}"
    return kind
