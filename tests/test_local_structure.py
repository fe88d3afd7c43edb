"""Lab 07 core: scale-free features, adaptive CNA, the classifier with a reject option,
the autoencoder + mixture pipeline. Reference values from the literature, pyscal3 side by side."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from mi_widgets import MIInputError
from mi_widgets.local_structure import (
    LocalStructureClassifier,
    accuracy_coverage,
    adaptive_cna,
    bond_order_maps,
    classify_local_structure,
    displaced_lattice,
    elbow,
    evaluate_classifier,
    features_and_labels,
    load_local_structures,
    load_shipped_classifier,
    local_structure_features,
    neighbour_distance_scale,
    q_threshold_labels,
)

FCC = bulk("Cu", "fcc", a=3.6, cubic=True)
BCC = bulk("Fe", "bcc", a=2.87, cubic=True)
HCP = bulk("Mg", "hcp", a=3.2, c=3.2 * np.sqrt(8 / 3), orthorhombic=True)


# ------------------------------------------------------------------ features
@pytest.mark.parametrize(
    ("atoms", "q4", "q6", "w4", "neighbours"),
    [
        # Steinhardt et al. 1983; Lechner & Dellago 2008 (bcc with both shells: 14)
        (FCC, 0.19094, 0.57452, -0.15932, 12),
        (HCP, 0.09722, 0.48476, 0.13410, 12),
        (BCC, 0.03637, 0.51069, 0.15932, 14),
    ],
)
def test_ideal_lattices_give_literature_bond_order(atoms, q4, q6, w4, neighbours):
    f = local_structure_features(atoms)
    assert f.n_neighbours.tolist() == [neighbours] * len(atoms)
    np.testing.assert_allclose(f.column("q4"), q4, atol=5e-5)
    np.testing.assert_allclose(f.column("q6"), q6, atol=5e-5)
    np.testing.assert_allclose(f.column("w4"), w4, atol=5e-5)
    # a perfect lattice: averaging over identical neighbours changes nothing
    np.testing.assert_allclose(f.column("avg_q6"), q6, atol=5e-5)


@pytest.mark.parametrize("factor", [0.5, 1.0, 1.7])
def test_features_do_not_depend_on_the_length_scale(factor):
    atoms = displaced_lattice("hcp", 0.08, n_atoms=200, random_state=3)
    scaled = atoms.copy()
    scaled.set_cell(atoms.cell * factor, scale_atoms=True)
    a = local_structure_features(atoms, "all")
    b = local_structure_features(scaled, "all")
    np.testing.assert_allclose(b.values, a.values, atol=1e-10)
    assert b.scale == pytest.approx(a.scale * factor)


def test_features_are_rotation_and_permutation_invariant():
    atoms = displaced_lattice("fcc", 0.1, n_atoms=108, random_state=0)
    turned = atoms.copy()
    turned.rotate(37, "x", rotate_cell=True)
    turned.rotate(-12, "z", rotate_cell=True)
    order = np.random.default_rng(1).permutation(len(atoms))
    shuffled = turned[order]
    a = local_structure_features(atoms, "all").values
    b = local_structure_features(shuffled, "all").values
    np.testing.assert_allclose(b, a[order], atol=1e-9)


def test_scale_is_the_nearest_neighbour_distance():
    assert neighbour_distance_scale(FCC) == pytest.approx(3.6 / np.sqrt(2))
    assert neighbour_distance_scale(BCC) == pytest.approx(2.87 * np.sqrt(3) / 2)


def test_atoms_with_few_neighbours_are_flagged_not_an_error():
    cluster = Atoms("Cu3", positions=[[0, 0, 0], [2.5, 0, 0], [0, 2.5, 0]])
    f = local_structure_features(cluster)
    assert not f.valid.any()
    assert (f.values == 0).all()
    labels = classify_local_structure(cluster)
    assert labels.tolist() == ["rejected"] * 3


def test_single_atom_and_bad_kind_give_one_sentence():
    with pytest.raises(MIInputError, match="single atom"):
        local_structure_features(Atoms("Cu", positions=[[0, 0, 0]]))
    with pytest.raises(MIInputError, match="kind"):
        local_structure_features(FCC, kind="soap")


# ---------------------------------------------------------------------- CNA
@pytest.mark.parametrize(
    ("atoms", "label"), [(FCC.repeat(2), "fcc"), (BCC.repeat(3), "bcc"), (HCP.repeat(2), "hcp")]
)
def test_adaptive_cna_on_ideal_lattices(atoms, label):
    assert set(adaptive_cna(atoms)) == {label}


@pytest.mark.parametrize("phase", ["fcc", "hcp", "bcc"])
@pytest.mark.parametrize("amplitude", [0.06, 0.12])
def test_adaptive_cna_matches_pyscal3_atom_by_atom(phase, amplitude):
    pyscal3 = pytest.importorskip("pyscal3")
    atoms = displaced_lattice(phase, amplitude, n_atoms=1000, random_state=7)
    reference = atoms.copy()
    pyscal3.common_neighbor_analysis(reference)
    names = {0: "other", 1: "fcc", 2: "hcp", 3: "bcc", 4: "other"}
    theirs = np.array([names[int(c)] for c in reference.arrays["pyscal_structure"]])
    ours = adaptive_cna(atoms)
    assert (ours == theirs).mean() >= 0.995


def test_liquid_is_not_a_crystal_for_cna():
    liquid = load_local_structures("liquid")[0]
    assert (adaptive_cna(liquid) == "other").mean() > 0.95


def test_q_threshold_rules_on_ideal_lattices():
    for atoms, label in ((FCC, "fcc"), (HCP, "hcp"), (BCC, "bcc")):
        f = local_structure_features(atoms)
        assert set(q_threshold_labels(f.column("avg_q4"), f.column("avg_q6"))) == {label}


# --------------------------------------------------------------- classifier
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_posteriors_match_scikit_learn_forward_pass():
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = np.where(X[:, 0] + X[:, 1] > 0, "a", np.where(X[:, 2] > 0, "b", "c"))
    model = LocalStructureClassifier(hidden_layer_sizes=(7, 5), max_iter=30, random_state=0)
    model.fit(X, y)
    net = MLPClassifier(hidden_layer_sizes=(7, 5))
    net.fit((X - model.mean_) / model.scale_, y)  # shapes and classes
    net.coefs_, net.intercepts_ = model.coefs_, model.intercepts_
    np.testing.assert_allclose(
        model.predict_proba(X), net.predict_proba((X - model.mean_) / model.scale_), atol=1e-12
    )


def test_reject_option_and_accuracy_coverage():
    p = np.array([[0.95, 0.05], [0.55, 0.45], [0.3, 0.7], [0.51, 0.49]])
    truth = ["a", "b", "b", "a"]
    curve = accuracy_coverage(p, truth, ["a", "b"], thetas=[0.0, 0.6, 0.96])
    np.testing.assert_allclose(curve.coverage, [1.0, 0.5, 0.0])
    np.testing.assert_allclose(curve.accuracy[:2], [0.75, 1.0])
    assert np.isnan(curve.accuracy[2])


def test_save_and_load_round_trip_without_pickle(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] > 0, "fcc", "bcc")
    model = LocalStructureClassifier(hidden_layer_sizes=(6,), theta=0.7, max_iter=20).fit(X, y)
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)
    loaded = LocalStructureClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.theta == 0.7


def test_bad_training_input():
    with pytest.raises(MIInputError, match="two classes"):
        LocalStructureClassifier().fit(np.zeros((5, 2)), ["a"] * 5)
    with pytest.raises(MIInputError, match="labels"):
        LocalStructureClassifier().fit(np.zeros((5, 2)), ["a", "b"])
    with pytest.raises(MIInputError, match="NaN"):
        LocalStructureClassifier().fit(np.full((5, 2), np.nan), ["a", "b"] * 2 + ["a"])


def test_evaluation_counts_rejected_as_wrong():
    e = evaluate_classifier(["fcc", "rejected", "liquid", "bcc"], ["fcc", "bcc", "liquid", "hcp"])
    assert e.accuracy == 0.5 and e.coverage == 0.75
    assert e.confusion.sum() == 4 and e.confusion[:, -1].sum() == 1


# ------------------------------------------------------- the shipped classifier
def _unseen_md_atoms():
    frames = [
        f
        for phase in ("fcc", "hcp", "bcc")
        for f in load_local_structures(phase)
        if f.info["temperature_K"] in (600.0, 1100.0)
    ]
    frames += [f for f in load_local_structures("liquid") if f.info["temperature_K"] == 1400.0]
    return features_and_labels(frames)


def test_shipped_classifier_on_unseen_md_and_another_element():
    X, truth, _ = _unseen_md_atoms()
    predicted = load_shipped_classifier().predict(X)
    for phase, goal in (("fcc", 0.98), ("hcp", 0.98), ("bcc", 0.98), ("liquid", 0.97)):
        assert (predicted[truth == phase] == phase).mean() >= goal, phase
    gold = load_local_structures("fcc", element="Au")[0]
    assert (classify_local_structure(gold) == "fcc").mean() >= 0.98


@pytest.mark.parametrize("phase", ["fcc", "hcp", "bcc"])
def test_shipped_classifier_on_random_displacements(phase):
    model = load_shipped_classifier()
    atoms = displaced_lattice(phase, 0.15, n_atoms=1000, random_state=12345)
    f = local_structure_features(atoms, "all")
    assert (model.predict(f.values) == phase).mean() >= 0.98
    # at 0.18 the reject option keeps >= 90 % and is right on >= 95 % of those (the median
    # over three random lattices: hcp, the hardest, scatters from 0.905 to 0.981 over six)
    kept = []
    for seed in (54321, 1, 2):
        atoms = displaced_lattice(phase, 0.18, n_atoms=1000, random_state=seed)
        proba = model.predict_proba(local_structure_features(atoms, "all").values)
        thetas = np.linspace(0, 1, 101)
        curve = accuracy_coverage(proba, [phase] * len(atoms), model.classes_, thetas)
        kept.append(np.nanmax(np.where(curve.coverage >= 0.9, curve.accuracy, -1.0)))
    assert np.median(kept) >= 0.95


def test_classical_cna_is_far_behind_at_high_noise():
    atoms = displaced_lattice("fcc", 0.15, n_atoms=1000, random_state=3)
    cna = (adaptive_cna(atoms) == "fcc").mean()
    nn = (classify_local_structure(atoms) == "fcc").mean()
    assert cna < 0.6 < 0.98 <= nn


# -------------------------------------------------------------- the two maps
def test_averaged_map_separates_the_classes_better():
    """Lechner & Dellago's point: averaging sharpens the (q4, q6) clouds."""
    frames = [
        f
        for phase in ("fcc", "hcp", "bcc")
        for f in load_local_structures(phase)
        if f.info["temperature_K"] == 900.0
    ]
    maps = bond_order_maps(frames + load_local_structures("liquid")[:2])
    assert maps.knn_averaged > maps.knn_plain + 0.05
    assert maps.knn_averaged > 0.9


# -------------------------------------------------------------- unsupervised
def test_elbow_finds_the_knee():
    assert elbow([1, 2, 3, 4, 5], [10.0, 6.0, 1.2, 1.0, 0.9]) == 3.0
    assert elbow([1, 2], [3.0, 1.0]) == 2.0


@pytest.mark.slow
def test_autoencoder_and_mixture_find_the_classes():
    from mi_widgets.local_structure.study import unsupervised_study

    frames = [
        displaced_lattice(p, 0.12, n_atoms=500, random_state=i)
        for i, p in enumerate(("fcc", "hcp", "bcc"))
    ]
    frames += [f for f in load_local_structures("liquid") if f.info["temperature_K"] == 1400.0]
    result = unsupervised_study(frames, random_state=0)
    assert result.k == 4
    assert result.adjusted_rand >= 0.9
    assert result.adjusted_rand_full >= 0.9
