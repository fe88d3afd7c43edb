"""LocalStructureLab: bond-order maps, a classifier with a reject option, unsupervised discovery."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from bokeh.models import ColumnDataSource, Span

from mi_widgets._errors import MIInputError, check_choice
from mi_widgets.local_structure.classifier import REJECTED, accuracy_coverage
from mi_widgets.local_structure.cna import adaptive_cna
from mi_widgets.local_structure.data import (
    CRYSTAL_CLASSES,
    LOCAL_STRUCTURE_CLASSES,
    displaced_lattice,
    load_local_structures,
)
from mi_widgets.local_structure.features import local_structure_features
from mi_widgets.local_structure.study import (
    NOISE_MODELS,
    SHIPPED_FEATURES,
    BondOrderMaps,
    Evaluation,
    UnsupervisedResult,
    bond_order_maps,
    evaluate_classifier,
    features_and_labels,
    load_shipped_classifier,
    train_classifier,
    training_frames,
    unsupervised_study,
)
from mi_widgets.structure.data import read_trajectory
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

__all__ = ["LocalStructureLab"]

TEMPERATURES = (300.0, 600.0, 900.0, 1100.0)
COLOUR_BY = ("prediction", "truth", "adaptive CNA")
_CLASS_INDEX = {c: i for i, c in enumerate(LOCAL_STRUCTURE_CLASSES)}
_OTHER = len(LOCAL_STRUCTURE_CLASSES)  # "rejected" / "other": the next palette colour


def _colours(labels: np.ndarray) -> list[str]:
    return [class_color(_CLASS_INDEX.get(str(c), _OTHER)) for c in labels]


class LocalStructureLab(LabApp):
    """Tell fcc, hcp, bcc and liquid atoms apart: maps, a classifier, unsupervised discovery.

    Parameters
    ----------
    random_state : int or None, default 0
        Seed of the random displacements, the training and the autoencoders.

    Attributes
    ----------
    maps : BondOrderMaps
        The (q4, q6) maps on show.
    model : LocalStructureClassifier
        The classifier in use (the shipped one until :meth:`train` is called).
    evaluation : Evaluation
        The classifier on the unseen test atoms at the current theta.
    structure : ase.Atoms
        The structure in the 3D view (the crystal-liquid interface, or an upload).
    labels : ndarray of str
        The classifier's label of every atom of :attr:`structure`.
    unsupervised : UnsupervisedResult or None
        The autoencoder + mixture study, once run.

    Examples
    --------
    >>> lab = LocalStructureLab()
    >>> lab.set_theta(0.9)
    >>> 0.0 < lab.evaluation.coverage <= 1.0
    True
    """

    title = "Local-structure classification: Steinhardt maps, a classifier, autoencoder + GMM"
    controls_width = "310px"
    css_class = "mi-local-structure-lab"

    def __init__(self, *, random_state: int | None = 0) -> None:
        super().__init__(random_state=random_state)
        self.model = load_shipped_classifier()
        self.unsupervised: UnsupervisedResult | None = None
        self._test_frames = self._unseen_frames()
        self._build_controls()
        self._build_plots()
        interface = load_local_structures("interface")[0]
        self._load_structure(interface, "crystal-liquid interface", redraw=False)
        self.show_temperature(600.0)
        self._refresh_classifier()

    # ---------------------------------------------------------------- layout
    def _build_controls(self) -> None:
        self.noise = widgets.ToggleButtons(
            options=[("MD", "md"), ("random", "displacement")], value="md",
            description="Noise", style={"button_width": "90px"},
        )  # fmt: skip
        self.temperature = widgets.SelectionSlider(
            options=[(f"{t:.0f} K", t) for t in TEMPERATURES], value=600.0,
            description="T (MD)", continuous_update=False,
        )  # fmt: skip
        self.amplitude = widgets.FloatSlider(
            value=0.12, min=0.0, max=0.2, step=0.01, description="rms / d",
            continuous_update=False, readout_format=".2f",
        )  # fmt: skip
        self.theta = widgets.FloatSlider(
            value=0.0, min=0.0, max=0.99, step=0.01, description="θ (reject)",
            continuous_update=False, readout_format=".2f",
        )  # fmt: skip
        self.train_on = widgets.Dropdown(
            options=[("random displacements", "displacement"), ("MD at 300 + 900 K", "md")],
            value="displacement",
            description="Train on",
        )
        self.train_button = widgets.Button(description="Train classifier", icon="graduation-cap")
        self.colour_by = widgets.Dropdown(
            options=COLOUR_BY, value="prediction", description="Colour"
        )
        self.study_button = widgets.Button(
            description="Run autoencoder + GMM", icon="play", layout=widgets.Layout(width="220px")
        )
        self.upload = self.upload_button(
            ".extxyz,.xyz,.cif,.vasp,.poscar,.dump,.lammpstrj", "Upload structure", self._on_upload
        )
        self.summary = widgets.HTML()
        self.on_change(self.noise, self.set_noise)
        self.on_change(self.temperature, self.show_temperature)
        self.on_change(self.amplitude, self.show_displacement)
        self.on_change(self.theta, self.set_theta)
        self.on_change(self.colour_by, self.set_colour_by)
        self.on_click(self.train_button, lambda: self.train(self.train_on.value), background=True)
        self.on_click(self.study_button, self.run_unsupervised, background=True)

    def _controls(self):
        return [
            widgets.HTML("<b>Bond-order maps</b>"),
            self.noise, self.temperature, self.amplitude,
            widgets.HTML("<b>Classifier</b>"),
            self.theta, self.train_on, self.train_button, self.colour_by,
            widgets.HTML("<b>Without labels</b>"),
            self.study_button,
            widgets.HTML("<b>Your own structure</b>"),
            self.upload, self.summary,
        ]  # fmt: skip

    def _build_plots(self) -> None:
        self._map_sources, self._map_figures = [], []
        for title, x in (("Plain (q4, q6)", "q4"), ("Averaged (q̄4, q̄6)", "avg_q4")):
            fig = new_figure(
                title, width=360, height=330, x_axis_label="q4" if x == "q4" else "q̄4",
                y_axis_label="q6" if x == "q4" else "q̄6",
            )  # fmt: skip
            source = ColumnDataSource({"x": [], "y": [], "colour": [], "label": []})
            fig.scatter("x", "y", source=source, color="colour", legend_field="label",
                        size=3, alpha=0.5)  # fmt: skip
            style_legend(fig, outside="right")
            self._map_sources.append(source)
            self._map_figures.append(fig)
        self._coverage_source = ColumnDataSource({"coverage": [], "accuracy": []})
        coverage = new_figure(
            "Reject option: accuracy vs coverage", width=360, height=300,
            x_axis_label="coverage (fraction classified)", y_axis_label="accuracy on kept atoms",
        )  # fmt: skip
        coverage.line("coverage", "accuracy", source=self._coverage_source, line_width=2)
        self._theta_marker = ColumnDataSource({"coverage": [], "accuracy": []})
        coverage.scatter("coverage", "accuracy", source=self._theta_marker, size=12,
                         color=class_color(5))  # fmt: skip
        self.confusion = widgets.HTML()
        self._bottleneck_source = ColumnDataSource({"size": [], "error": []})
        bottleneck = new_figure(
            "Autoencoder: reconstruction error", width=330, height=280,
            x_axis_label="bottleneck size", y_axis_label="mean squared error",
        )  # fmt: skip
        bottleneck.line("size", "error", source=self._bottleneck_source, line_width=2)
        bottleneck.scatter("size", "error", source=self._bottleneck_source, size=8)
        self._bic_source = ColumnDataSource({"k": [], "bic": [], "entropy": []})
        bic = new_figure(
            "Gaussian mixture: BIC", width=330, height=280,
            x_axis_label="clusters K", y_axis_label="BIC",
        )  # fmt: skip
        bic.line("k", "bic", source=self._bic_source, line_width=2)
        bic.scatter("k", "bic", source=self._bic_source, size=8)
        self._latent_source = ColumnDataSource({"x": [], "y": [], "colour": [], "label": []})
        latent = new_figure(
            "Latent space, coloured by cluster", width=360, height=330,
            x_axis_label="latent 1", y_axis_label="latent 2",
        )  # fmt: skip
        latent.scatter("x", "y", source=self._latent_source, color="colour",
                       legend_field="label", size=3, alpha=0.6)  # fmt: skip
        style_legend(latent, outside="right")
        self._latent_figure = latent
        self._elbow_line = Span(location=0, dimension="height", line_dash="dashed")
        bottleneck.add_layout(self._elbow_line)
        self.view = structure_view(load_local_structures("interface")[0], width="400px",
                                   height="360px")  # fmt: skip
        self.view_caption = widgets.HTML()
        self.map_text = widgets.HTML()
        self.study_text = widgets.HTML(
            "<p>Press <b>Run autoencoder + GMM</b>: an autoencoder per bottleneck size, "
            "then Gaussian mixtures in the latent space (about a minute).</p>"
        )
        self._panes = {
            "maps": [bokeh_pane(f) for f in self._map_figures],
            "coverage": bokeh_pane(coverage),
            "bottleneck": bokeh_pane(bottleneck),
            "bic": bokeh_pane(bic),
            "latent": bokeh_pane(latent),
        }

    def _main(self):
        maps = widgets.VBox([
            widgets.HBox(self._panes["maps"], layout=widgets.Layout(flex_flow="row wrap")),
            self.map_text,
        ])  # fmt: skip
        classifier = widgets.HBox(
            [
                widgets.VBox([self.view, self.view_caption]),
                widgets.VBox([self._panes["coverage"], self.confusion]),
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        study = widgets.VBox([
            self.study_text,
            widgets.HBox([self._panes["bottleneck"], self._panes["bic"], self._panes["latent"]],
                         layout=widgets.Layout(flex_flow="row wrap")),
        ])  # fmt: skip
        tabs = widgets.Tab([maps, classifier, study])
        for i, name in enumerate(("Bond-order maps", "Classifier + reject", "Autoencoder + GMM")):
            tabs.set_title(i, name)
        self.tabs = tabs
        return tabs

    # ---------------------------------------------------------------- actions
    def show_temperature(self, temperature: float) -> None:
        """Show the (q4, q6) maps of the MD crystals at ``temperature`` and the liquid."""
        temperature = float(temperature)
        if temperature not in TEMPERATURES:
            raise MIInputError(f"temperature must be one of {TEMPERATURES} K; got {temperature}.")
        frames = [
            f for phase in CRYSTAL_CLASSES for f in load_local_structures(phase)
            if f.info["temperature_K"] == temperature
        ]  # fmt: skip
        self.maps = bond_order_maps(frames + self._liquid())
        self._redraw_maps()

    def set_noise(self, noise: str) -> None:
        """Blur the crystals by "md" (thermal motion) or "displacement" (random, Gaussian)."""
        check_choice(noise, "noise", NOISE_MODELS)
        if self.noise.value != noise:
            self.noise.value = noise  # the observer redraws
            return
        if noise == "md":
            self.show_temperature(self.temperature.value)
        else:
            self.show_displacement(self.amplitude.value)

    def show_displacement(self, amplitude: float) -> None:
        """Show the maps of ideal crystals with random displacements of rms ``amplitude`` d."""
        amplitude = float(amplitude)
        frames = [
            displaced_lattice(phase, amplitude, n_atoms=500, random_state=self.random_state)
            for phase in CRYSTAL_CLASSES
        ]
        self.maps = bond_order_maps(frames + self._liquid())
        self._redraw_maps()

    def set_theta(self, theta: float) -> None:
        """Classify only atoms whose largest posterior is at least ``theta``."""
        theta = float(theta)
        if not 0.0 <= theta < 1.0:
            raise MIInputError(f"theta must lie in [0, 1); got {theta}.")
        self.model.set_params(theta=theta)
        if abs(self.theta.value - theta) > 1e-12:
            self.theta.value = theta
        self._refresh_classifier()

    def train(self, noise: str = "displacement") -> None:
        """Train a new classifier on ``noise`` ("displacement" or "md") crystals + liquid."""
        check_choice(noise, "noise", NOISE_MODELS)
        frames = training_frames(noise, random_state=self.random_state)
        with self.progress_shown("Training") as progress:
            model = train_classifier(frames, random_state=self.random_state, progress=progress)
        model.set_params(theta=float(self.theta.value))
        self.model = model
        self._refresh_classifier()

    def set_colour_by(self, which: str) -> None:
        """Colour the 3D view by "prediction", "truth" or "adaptive CNA"."""
        check_choice(which, "colour", COLOUR_BY)
        if self.colour_by.value != which:
            self.colour_by.value = which
        self._redraw_view()

    def run_unsupervised(self) -> None:
        """Autoencoder per bottleneck size, Gaussian mixtures in the latent space (progress)."""
        frames = [
            displaced_lattice(phase, 0.12, n_atoms=500, random_state=self.random_state)
            for phase in CRYSTAL_CLASSES
        ] + self._liquid()
        with self.progress_shown("Autoencoders") as progress:
            result = unsupervised_study(frames, random_state=self.random_state, progress=progress)
        self.unsupervised = result
        self._redraw_unsupervised()

    def load_structure(self, content: bytes, name: str = "upload.extxyz") -> None:
        """Classify the atoms of your own structure (the first frame of the file)."""
        frames = read_trajectory(content, filename=name)
        self._load_structure(frames[0], name)

    # ---------------------------------------------------------------- helpers
    def _on_upload(self, uploaded: UploadedFile) -> None:
        self.load_structure(uploaded.content, uploaded.name)

    def _liquid(self):
        return [f for f in load_local_structures("liquid") if f.info["temperature_K"] == 1400.0]

    def _unseen_frames(self):
        crystals = [
            f for phase in CRYSTAL_CLASSES for f in load_local_structures(phase)
            if f.info["temperature_K"] in (600.0, 1100.0)
        ]  # fmt: skip
        return crystals + self._liquid() + load_local_structures("fcc", element="Au")

    def _load_structure(self, atoms, name: str, *, redraw: bool = True) -> None:
        features = local_structure_features(atoms, SHIPPED_FEATURES)
        cna = adaptive_cna(atoms) if len(atoms) >= 15 or atoms.pbc.any() else None
        self.structure, self._structure_name = atoms, name
        self._structure_features, self._cna = features, cna
        self._classify_structure()
        if redraw:
            self._redraw_view(new_atoms=True)

    def _classify_structure(self) -> None:
        f = self._structure_features
        self.labels = self.model.predict(f.values, valid=f.valid)

    def _refresh_classifier(self) -> None:
        X, truth, _ = features_and_labels(self._test_frames, SHIPPED_FEATURES)
        proba = self.model.predict_proba(X)
        self.evaluation = evaluate_classifier(self.model.predict(X), truth)
        curve = accuracy_coverage(proba, truth, self.model.classes_)
        replace_data(self._coverage_source, coverage=curve.coverage.tolist(),
                     accuracy=curve.accuracy.tolist())  # fmt: skip
        e = self.evaluation
        replace_data(self._theta_marker, coverage=[e.coverage], accuracy=[e.kept_accuracy])
        self.confusion.value = _confusion_html(e)
        self._classify_structure()
        self._redraw_view()

    def _view_labels(self) -> list[int]:
        which = self.colour_by.value
        if which == "truth" and "structure_class" in self.structure.arrays:
            labels = np.asarray(self.structure.arrays["structure_class"]).astype(str)
        elif which == "adaptive CNA" and self._cna is not None:
            labels = np.where(self._cna == "other", REJECTED, self._cna)
        else:
            labels = self.labels
        self._shown_labels = labels
        return [_CLASS_INDEX.get(str(c), _OTHER) for c in labels]

    def _redraw_view(self, new_atoms: bool = False) -> None:
        labels = self._view_labels()
        kept = np.flatnonzero(self._shown_labels != REJECTED)
        atoms = self.structure if new_atoms else None
        update_structure(self.view, atoms=atoms, labels=labels, highlight=kept)
        counts = {
            c: int((self._shown_labels == c).sum()) for c in (*LOCAL_STRUCTURE_CLASSES, REJECTED)
        }
        parts = ", ".join(
            f'<span style="color:{class_color(_CLASS_INDEX.get(c, _OTHER))}">&#9679;</span> '
            f"{c} {n}"
            for c, n in counts.items() if n
        )  # fmt: skip
        self.view_caption.value = (
            f"<p style='font-size:14px'><b>{html.escape(self._structure_name)}</b> "
            f"({len(self.structure)} atoms), colour: {html.escape(self.colour_by.value)}<br>"
            f"{parts}<br>Rejected / other atoms are drawn small and faint.</p>"
        )

    def _redraw_maps(self) -> None:
        m: BondOrderMaps = self.maps
        for source, (x, y) in zip(
            self._map_sources, ((m.q4, m.q6), (m.avg_q4, m.avg_q6)), strict=True
        ):
            replace_data(source, x=x.tolist(), y=y.tolist(), colour=_colours(m.truth),
                         label=m.truth.tolist())  # fmt: skip
        self.map_text.value = (
            f"<p style='font-size:14px'>How well each map separates the classes "
            f"(5-nearest-neighbour accuracy, folds grouped by frame): plain "
            f"<b>{m.knn_plain:.3f}</b>, averaged <b>{m.knn_averaged:.3f}</b>.</p>"
        )

    def _redraw_unsupervised(self) -> None:
        r = self.unsupervised
        replace_data(self._bottleneck_source, size=r.sizes.tolist(), error=r.errors.tolist())
        self._elbow_line.location = float(r.bottleneck)
        replace_data(self._bic_source, k=r.curves.ks.tolist(), bic=r.curves.bic.tolist(),
                     entropy=r.curves.entropy.tolist())  # fmt: skip
        second = r.latent[:, 1] if r.latent.shape[1] > 1 else np.zeros(len(r.latent))
        replace_data(
            self._latent_source, x=r.latent[:, 0].tolist(), y=second.tolist(),
            colour=[class_color(int(c)) for c in r.clusters],
            label=[f"cluster {int(c) + 1}" for c in r.clusters],
        )  # fmt: skip
        self.study_text.value = (
            f"<p style='font-size:14px'>Elbow: bottleneck <b>{r.bottleneck}</b>; BIC elbow: "
            f"<b>K = {r.k}</b> clusters. Adjusted Rand index against the hidden truth: "
            f"autoencoder + GMM <b>{r.adjusted_rand:.2f}</b>, GMM on the full averaged-q "
            f"vector <b>{r.adjusted_rand_full:.2f}</b>.</p>"
        )


def _confusion_html(e: Evaluation) -> str:
    header = "".join(f"<th>{c}</th>" for c in (*e.classes, REJECTED))
    rows = "".join(
        f"<tr><th>{c}</th>" + "".join(f"<td>{int(v)}</td>" for v in row) + "</tr>"
        for c, row in zip(e.classes, e.confusion, strict=True)
    )
    return (
        "<div style='font-size:14px'><b>Unseen test atoms</b> (600 K and 1100 K crystals, "
        "1400 K liquid, gold): rows true, columns predicted"
        "<table style='border-collapse:collapse;text-align:right' cellpadding='4'>"
        f"<tr><th></th>{header}</tr>{rows}</table>"
        f"accuracy {e.accuracy:.3f}, coverage {e.coverage:.3f}, "
        f"accuracy on kept atoms {e.kept_accuracy:.3f}</div>"
    )
