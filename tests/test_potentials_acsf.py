"""Symmetry functions: DScribe's values, finite-difference derivatives, invariances."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from mi_widgets._errors import MIInputError
from mi_widgets.potentials import ACSFSettings, acsf

# the module (the package exports the function under the same name)
acsf_module = importlib.import_module("mi_widgets.potentials.acsf")
values_module = importlib.import_module("mi_widgets.potentials._acsf_values")

G2 = [(0.5, 2.0), (1.0, 3.0), (0.1, 0.0)]
G4 = [(0.01, 1.0, 1.0), (0.02, 2.0, -1.0), (0.005, 4.0, 1.0)]
G5 = [(0.01, 1.0, -1.0), (0.1, 2.0, 1.0)]
R_CUT = 5.0


def _si():
    atoms = bulk("Si", "diamond", a=5.43, cubic=True) * (2, 1, 1)
    atoms.rattle(0.1, seed=1)
    return atoms


def _cu():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.rattle(0.05, seed=2)
    return atoms


def _two_elements():
    atoms = bulk("NaCl", "rocksalt", a=5.6, cubic=True)
    atoms.rattle(0.1, seed=3)
    return atoms


def _cluster():
    atoms = Atoms("SiCSiC", positions=[[0, 0, 0], [1.8, 0.1, 0], [0.2, 1.9, 0.3], [1.5, 1.6, 1.7]])
    return atoms


STRUCTURES = {"Si": _si, "Cu": _cu, "NaCl": _two_elements, "cluster": _cluster}


@pytest.mark.parametrize("g5", [(), G5], ids=["g2-g4", "g2-g4-g5"])
@pytest.mark.parametrize("name", sorted(STRUCTURES))
def test_values_equal_dscribe(name, g5):
    dscribe = pytest.importorskip("dscribe.descriptors")
    atoms = STRUCTURES[name]()
    species = sorted(set(atoms.get_chemical_symbols()))
    reference = dscribe.ACSF(
        r_cut=R_CUT, g2_params=G2, g4_params=G4, g5_params=list(g5) or None, species=species,
        periodic=atoms.pbc.any(),
    ).create(atoms)  # fmt: skip
    ours = acsf(atoms, R_CUT, G2, G4, g5=g5)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-12 * np.abs(reference).max())


@pytest.mark.parametrize("name", ["Si", "NaCl"])
def test_g5_derivatives_equal_central_differences(name):
    atoms = STRUCTURES[name]()
    _, derivatives = acsf(atoms, 4.0, G2, G4, derivatives=True, g5=G5)
    analytic = derivatives.wrt_positions()
    step = 1e-5
    for atom in range(2):
        for axis in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[atom, axis] += step
            minus.positions[atom, axis] -= step
            numeric = (acsf(plus, 4.0, G2, G4, g5=G5) - acsf(minus, 4.0, G2, G4, g5=G5)) / (
                2 * step
            )
            scale = np.abs(numeric).max()
            np.testing.assert_allclose(
                analytic[:, atom, axis], numeric, rtol=1e-6, atol=1e-6 * scale
            )


def test_g5_settings_round_trip_and_labels():
    settings = ACSFSettings.create(4.0, ["Si"], G2, G4, G5)
    assert settings.n_features == 1 + len(G2) + len(G4) + len(G5)
    assert settings.feature_labels()[-1] == "G5[Si-Si](eta=0.1, zeta=2, lambda=1)"
    d = settings.to_dict()
    assert ACSFSettings.create(d["r_cut"], d["species"], d["g2"], d["g4"], d["g5"]) == settings
    assert "g5" not in ACSFSettings.create(4.0, ["Si"], G2, G4).to_dict()


def test_species_order_and_absent_element_match_dscribe():
    dscribe = pytest.importorskip("dscribe.descriptors")
    atoms = _two_elements()
    species = ["Cl", "H", "Na"]  # H absent: its blocks are zero, order by atomic number
    reference = dscribe.ACSF(
        r_cut=R_CUT, g2_params=G2, g4_params=G4, species=species, periodic=True
    ).create(atoms)
    ours = acsf(atoms, R_CUT, G2, G4, species=species)
    np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-14)
    labels = ACSFSettings.create(R_CUT, species, G2, G4).feature_labels()
    assert labels[0] == "G1[H]" and len(labels) == ours.shape[1]
    assert labels[3 * 4].startswith("G4[H-H]")


@pytest.mark.parametrize("name", sorted(STRUCTURES))
def test_derivatives_equal_central_differences(name):
    atoms = STRUCTURES[name]()
    _, derivatives = acsf(atoms, R_CUT, G2, G4, derivatives=True)
    analytic = derivatives.wrt_positions()  # (centre, atom, axis, feature)
    step = 1e-5
    for atom in range(min(len(atoms), 3)):
        for axis in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[atom, axis] += step
            minus.positions[atom, axis] -= step
            numeric = (acsf(plus, R_CUT, G2, G4) - acsf(minus, R_CUT, G2, G4)) / (2 * step)
            scale = np.abs(numeric).max()
            np.testing.assert_allclose(
                analytic[:, atom, axis], numeric, rtol=1e-6, atol=1e-6 * scale
            )


def test_chunked_evaluation_equals_one_pass(monkeypatch):
    atoms = _two_elements()
    features, derivatives = acsf(atoms, R_CUT, G2, G4, derivatives=True)
    monkeypatch.setattr(acsf_module, "TRIPLETS_PER_CHUNK", 500)
    chunked, chunked_derivatives = acsf(atoms, R_CUT, G2, G4, derivatives=True)
    np.testing.assert_allclose(chunked, features, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(chunked_derivatives.values, derivatives.values, atol=1e-14)
    np.testing.assert_array_equal(chunked_derivatives.j, derivatives.j)


#: Angular functions beyond the shared squares: non-integer and large zeta, both lambdas.
G4_MIXED = [*G4, (0.01, 2.5, -1.0), (0.005, 16.0, 1.0), (0.02, 1.0, -1.0), (0.005, 70.0, -1.0)]


@pytest.mark.parametrize("name", sorted(STRUCTURES))
def test_values_alone_equal_the_values_beside_derivatives(name):
    atoms = STRUCTURES[name]()
    alone = acsf(atoms, R_CUT, G2, G4_MIXED)
    beside, _ = acsf(atoms, R_CUT, G2, G4_MIXED, derivatives=True)
    np.testing.assert_allclose(alone, beside, rtol=1e-12, atol=1e-14 * np.abs(beside).max())


def test_values_with_non_integer_zeta_equal_dscribe():
    dscribe = pytest.importorskip("dscribe.descriptors")
    atoms = _two_elements()
    reference = dscribe.ACSF(
        r_cut=R_CUT, g2_params=G2, g4_params=G4_MIXED, species=["Na", "Cl"], periodic=True
    ).create(atoms)
    ours = acsf(atoms, R_CUT, G2, G4_MIXED)
    np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-12 * np.abs(reference).max())


def test_chunked_values_equal_one_pass(monkeypatch):
    # a far atom without neighbours between two clusters: its row stays zero in any chunk
    gap = _cluster() + Atoms("C", positions=[[30.0, 0, 0]]) + _cluster()
    gap.positions[5:] += [60.0, 0, 0]
    structures = (gap, _two_elements())
    one_pass = [acsf(atoms, R_CUT, G2, G4) for atoms in structures]
    for per_chunk in (1, 3, 500):
        monkeypatch.setattr(values_module, "TRIPLETS_PER_VALUE_CHUNK", per_chunk)
        for atoms, features in zip(structures, one_pass, strict=True):
            chunked = acsf(atoms, R_CUT, G2, G4)
            np.testing.assert_allclose(chunked, features, rtol=1e-12, atol=1e-14)
    features = one_pass[0]
    assert not features[4].any() and features[:4].any()
    np.testing.assert_allclose(features[5:], features[:4], rtol=1e-12)


def test_derivatives_of_a_translation_vanish():
    atoms = _two_elements()
    _, derivatives = acsf(atoms, R_CUT, G2, G4, derivatives=True)
    total = derivatives.wrt_positions().sum(axis=1)
    assert np.abs(total).max() < 1e-12


def test_rotation_and_permutation_invariance():
    atoms = _two_elements()
    reference = acsf(atoms, R_CUT, G2, G4)
    rotated = atoms.copy()
    rotated.rotate(37, (1, 2, 3), rotate_cell=True)
    np.testing.assert_allclose(acsf(rotated, R_CUT, G2, G4), reference, rtol=1e-10, atol=1e-12)
    order = np.random.default_rng(0).permutation(len(atoms))
    permuted = atoms[order]
    np.testing.assert_allclose(
        acsf(permuted, R_CUT, G2, G4), reference[order], rtol=1e-10, atol=1e-12
    )


def test_isolated_atom_has_zero_features():
    features = acsf(Atoms("Si", positions=[[0, 0, 0]]), R_CUT, G2, G4)
    assert features.shape == (1, 7) and not features.any()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"r_cut": -1.0}, "positive distance"),
        ({"g2": [(0.0, 1.0)]}, "eta"),
        ({"g2": [(1.0, 2.0, 3.0)]}, "shape"),
        ({"g4": [(0.1, 0.5, 1.0)]}, "zeta"),
        ({"g4": [(0.1, 1.0, 0.5)]}, "lambda"),
        ({"species": ["Si"]}, "not in species"),
        ({"species": ["Xx"]}, "not a chemical element"),
    ],
)
def test_bad_input_says_what_to_fix(kwargs, match):
    arguments = {"r_cut": R_CUT, "g2": G2, "g4": G4, **kwargs}
    with pytest.raises(MIInputError, match=match):
        acsf(_two_elements(), **arguments)


def test_g4_without_close_triplets_is_zero_and_g5_is_not():
    # diamond Si, r_c = 3.8 A: the first shell (2.35 A) is in, but every j-k distance of a
    # triplet (3.84 A) lies beyond r_c, so the G4 vanish; the G5 have no j-k term
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    features, derivatives = acsf(atoms, 3.8, G2, G4, derivatives=True, g5=G5)
    n_radial = 1 + len(G2)
    assert not features[:, n_radial : n_radial + len(G4)].any()
    assert (features[:, n_radial + len(G4) :] > 0).all()
    assert np.isfinite(derivatives.values).all()
