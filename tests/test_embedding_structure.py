"""TS-LPP map of Si MD atoms: classification, melt-quench, bad input, the explorer widget."""

from __future__ import annotations

import io

import ase.io
import numpy as np
import pytest
from ase.build import bulk
from sklearn.metrics import adjusted_rand_score, confusion_matrix
from widget_helpers import upload as upload_file

from mi_widgets._errors import MIInputError
from mi_widgets.embedding.structure_map import (
    check_frames,
    classify_frames,
    fit_structure_map,
)
from mi_widgets.structure import load_si_md

REFERENCE_KINDS = {
    "crystal_300K": "crystal",
    "crystal_1600K": "crystal",
    "liquid_2000K": "liquid",
    "amorphous_300K": "amorphous",
}


@pytest.fixture(scope="module")
def reference():
    frames, labels = [], []
    for kind, phase in REFERENCE_KINDS.items():
        loaded = load_si_md(kind)
        frames += loaded
        labels += [phase] * len(loaded)
    return frames, labels


@pytest.fixture(scope="module")
def si_map(reference):
    return fit_structure_map(*reference)


@pytest.fixture(scope="module")
def quench():
    return load_si_md("quench")


# --------------------------------------------------------------------------- science
def test_tslpp_plane_classifies_held_out_si_atoms(si_map):
    """Issue 4: >= 0.95 kNN accuracy in the TS-LPP plane (map fitted without the held-out atoms)."""
    assert si_map.class_names == ("crystal", "liquid", "amorphous")
    assert si_map.accuracy["tslpp"] >= 0.95
    assert si_map.accuracy["pca"] < si_map.accuracy["tslpp"]


def test_pca_falls_short_on_liquid_versus_amorphous(si_map):
    """Both maps find the crystal; PCA mixes liquid and amorphous atoms about twice as often."""
    truth = si_map.labels
    tslpp = confusion_matrix(truth, si_map.tslpp_knn.predict(si_map.tslpp_xy))
    pca = confusion_matrix(truth, si_map.pca_knn.predict(si_map.pca_xy))
    crystal_errors = tslpp[0, 1:].sum() + pca[0, 1:].sum()
    assert crystal_errors <= 5
    mixed_tslpp, mixed_pca = tslpp[1, 2] + tslpp[2, 1], pca[1, 2] + pca[2, 1]
    assert mixed_pca > 1.5 * mixed_tslpp


def test_melt_quench_turns_liquid_into_amorphous(si_map, quench):
    result = si_map.classify(quench)
    np.testing.assert_allclose(result.fractions.sum(axis=1), 1.0)
    assert np.all(np.diff(result.temperatures) < 0)  # 2000 K -> 300 K
    liquid, amorphous = result.fractions[:, 1], result.fractions[:, 2]
    assert liquid[0] > 0.9  # 2000 K
    assert amorphous[-1] > 0.9  # 300 K
    hot, cold = result.temperatures > 1700, result.temperatures < 800
    assert liquid[hot].mean() > 0.9 and amorphous[cold].mean() > 0.9
    assert result.fractions[:, 0].max() < 0.05  # a fast quench does not crystallise


def test_progress_is_reported_per_frame(si_map, quench):
    seen = []
    classify_frames(si_map, quench[:4], progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_new_crystal_frames_are_crystal(si_map):
    crystal = bulk("Si", "diamond", a=5.431, cubic=True).repeat(3)
    crystal.rattle(0.05, seed=3)
    result = classify_frames(si_map, [crystal])
    assert result.fractions[0, 0] == 1.0
    assert result.tslpp_xy[0].shape == (216, 2)


def test_unsupervised_clusters_split_crystal_from_disordered(reference):
    """Without labels, two k-means clusters in the TS-LPP plane are exactly crystal vs
    disordered (liquid and amorphous touch in the plane: kNN separates them, k-means not)."""
    frames, labels = reference
    clusters = fit_structure_map(frames, None, n_clusters=2)
    truth = np.repeat([label == "crystal" for label in labels], [len(a) for a in frames])
    assert clusters.class_names == ("cluster 1", "cluster 2")
    assert not clusters.supervised and clusters.accuracy == {}
    assert adjusted_rand_score(truth, clusters.labels) == 1.0


def test_per_atom_labels_equal_per_frame_labels(reference):
    frames, labels = reference[0][:2] + reference[0][-2:], ["a", "a", "b", "b"]
    per_atom = np.repeat(labels, [len(a) for a in frames])
    by_frame = fit_structure_map(frames, labels, cross_validate=False)
    by_atom = fit_structure_map(frames, per_atom, cross_validate=False)
    np.testing.assert_array_equal(by_frame.labels, by_atom.labels)
    np.testing.assert_allclose(by_frame.tslpp_xy, by_atom.tslpp_xy)


# --------------------------------------------------------------------------- bad input
def _no_cell():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    atoms.set_cell(np.zeros((3, 3)))
    atoms.pbc = False
    return atoms


def _nan_positions():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    atoms.positions[2] = np.nan
    return atoms


@pytest.mark.parametrize(
    ("frames", "fragment"),
    [
        ("not a structure", "non-empty list"),
        ([], "non-empty list"),
        (["POSCAR"], "not a structure"),
        ([_no_cell()], "no periodic cell"),
        ([_nan_positions()], "NaN"),
    ],
)
def test_bad_frames_raise_one_clear_message(frames, fragment):
    with pytest.raises(MIInputError, match=fragment):
        check_frames(frames)


def test_one_class_only_is_refused(reference):
    frames = reference[0][:3]
    with pytest.raises(MIInputError, match="one class only"):
        fit_structure_map(frames, ["liquid"] * 3)


def test_labels_of_the_wrong_length_are_refused(reference):
    with pytest.raises(MIInputError, match="one per frame"):
        fit_structure_map(reference[0][:3], ["a", "b"])


def test_new_frame_with_other_elements_is_refused(si_map):
    alloy = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    alloy.symbols[:4] = "Ge"
    with pytest.raises(MIInputError, match="contains Ge"):
        si_map.classify([alloy])


# --------------------------------------------------------------------------- the widget
@pytest.fixture()
def explorer(si_map, quench):
    from mi_widgets.embedding.widgets import StructureMapExplorer

    return StructureMapExplorer(si_map, quench)


def test_selection_highlights_atoms_in_3d(explorer):
    explorer.select([3, 1, 2])
    np.testing.assert_array_equal(explorer.selected, [1, 2, 3])
    np.testing.assert_array_equal(explorer.view._mi_state["highlight"], [1, 2, 3])
    assert explorer._atoms.selected.indices == [1, 2, 3]
    # A lasso in the browser arrives as new indices of the frame's source.
    explorer._atoms.selected.indices = [7, 8]
    np.testing.assert_array_equal(explorer.view._mi_state["highlight"], [7, 8])
    explorer.select([])
    assert explorer.view._mi_state["highlight"] is None


def test_frame_slider_swaps_atoms_maps_and_3d(explorer):
    explorer.select([0])
    explorer._slider.value = 10
    assert explorer.frame == 10 and explorer.selected.size == 0
    result = explorer.result
    shown = explorer.view._mi_state["atoms"]
    wrapped = result.frames[10].copy()
    wrapped.wrap()
    np.testing.assert_allclose(shown.positions, wrapped.positions)
    np.testing.assert_array_equal(explorer.view._mi_state["labels"], result.labels[10])
    unit = np.std(explorer.model.tslpp_xy)
    np.testing.assert_allclose(explorer._atoms.data["xt"] * unit, result.tslpp_xy[10][:, 0])
    assert explorer._cursor.location == pytest.approx(result.temperatures[10])
    assert "T = " in explorer._frame_info.value


def test_fraction_lines_follow_the_classification(explorer):
    solid, _, item = explorer._fraction_lines[1]
    np.testing.assert_allclose(solid.data["y"], explorer.result.fractions[:, 1])
    assert item.label.value == "liquid"
    assert explorer._fraction_lines[5][2].visible is False


def test_is_a_lab_app(explorer):
    from mi_widgets.viz.app import LabApp

    assert isinstance(explorer, LabApp)
    assert explorer.widget is explorer.widget
    assert "mi-structure-map" in explorer.widget._dom_classes
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


def test_bad_values_from_the_client_show_the_banner_and_keep_state(explorer):
    explorer.select([4])
    explorer._atoms.selected.indices = [10_000]
    assert "Atom indices" in explorer.banner.message
    np.testing.assert_array_equal(explorer.selected, [4])
    explorer._slider.value = 5
    explorer.select([5])
    assert explorer.banner.message == ""


def test_bad_values_from_python_raise(explorer):
    with pytest.raises(MIInputError, match="Atom indices"):
        explorer.select([-1])
    with pytest.raises(MIInputError, match="frame"):
        explorer.set_frame(999)
    assert explorer.frame == 0
    with pytest.raises(MIInputError, match="No file uploaded"):
        explorer.analyse_upload()


def _upload(explorer, name: str, content: bytes) -> None:
    upload_file(explorer._upload, name, content)


def test_upload_garbage_keeps_the_previous_result(explorer):
    before = explorer.result
    _upload(explorer, "notes.xyz", b"this is not a structure\n")
    assert explorer.banner.message
    explorer._analyse.click()
    assert "No file uploaded" in explorer.banner.message
    assert explorer.result is before


def test_upload_trajectory_with_clusters(explorer, quench):
    buffer = io.StringIO()
    ase.io.write(buffer, quench[:3], format="extxyz")
    _upload(explorer, "<b>mine</b>.xyz", buffer.getvalue().encode())
    assert explorer.banner.message == ""
    assert "&lt;b&gt;mine&lt;/b&gt;.xyz: 3 frames of 216 atoms" in explorer._upload_info.value
    explorer._mode.value = "unsupervised clusters"
    explorer._clusters.value = 2
    seen = []
    explorer.progress.observe(lambda change: seen.append(change["new"]), "value")
    explorer._analyse.click()
    assert explorer.banner.message == ""
    assert explorer.model.class_names == ("cluster 1", "cluster 2")
    assert len(explorer.result.frames) == 3 and explorer._slider.max == 2
    assert explorer.progress.max == 6 and seen[-1] == 6  # 3 frames described twice
    assert explorer.progress.layout.visibility == "hidden"
    assert explorer._fraction_lines[2][2].visible is False


def test_upload_with_other_elements_is_refused_and_nothing_lost(explorer):
    before_model, before_result = explorer.model, explorer.result
    alloy = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    alloy.symbols[:4] = "Ge"
    buffer = io.StringIO()
    ase.io.write(buffer, alloy, format="extxyz")
    _upload(explorer, "alloy.xyz", buffer.getvalue().encode())
    explorer._analyse.click()
    assert "contains Ge" in explorer.banner.message
    assert explorer.model is before_model and explorer.result is before_result


def test_accuracy_folds_are_grouped_by_frame_and_silhouette_reported(si_map):
    """Atoms of one frame are near-copies: folds keep each frame whole."""
    assert si_map.validation == "5 folds grouped by frame"
    assert set(si_map.silhouette) == {"tslpp", "pca"}
    assert si_map.silhouette["tslpp"] > si_map.silhouette["pca"] > 0


def test_single_frame_falls_back_to_folds_of_atoms():
    crystal = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    hot = crystal.copy()
    hot.rattle(0.3, seed=1)
    hot.translate([0.0, 0.0, crystal.cell[2, 2]])  # stacked above the crystal, not on it
    both = crystal + hot
    both.set_cell(crystal.cell * [1.0, 1.0, 2.0])  # one frame, two kinds of atoms
    labels = ["crystal"] * len(crystal) + ["hot"] * len(hot)
    model = fit_structure_map([both], labels, n_neighbors=7)
    assert model.validation == "5 folds of atoms"
    assert set(model.accuracy) == {"tslpp", "pca"}


def test_app_shows_silhouette_beside_accuracy(explorer):
    summary = explorer._summary.value
    assert "grouped by frame" in summary and "silhouette" in summary
    assert f"{explorer.model.silhouette['tslpp']:.2f}" in summary
