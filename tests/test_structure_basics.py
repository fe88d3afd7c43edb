"""Structure reading, supercells, g(r) and coordination against independent counts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from hypothesis import given, settings
from hypothesis import strategies as st

from mi_widgets import MIInputError
from mi_widgets.structure import (
    BUILTIN_CRYSTALS,
    builtin_crystal,
    coordination_numbers,
    rdf,
    read_frames,
    read_structure,
    structure_to_text,
)
from mi_widgets.structure.build import MAX_SUPERCELL_ATOMS, describe_structure, supercell


def brute_force_distances(atoms: Atoms, r_max: float) -> np.ndarray:
    """All centre-neighbour distances up to r_max by explicit lattice translations."""
    n = int(np.ceil(r_max / min(atoms.cell.lengths()))) + 1
    shifts = np.array(list(itertools.product(range(-n, n + 1), repeat=3))) @ atoms.cell.array
    positions = atoms.positions
    vectors = positions[None, :, None, :] + shifts[None, None, :, :] - positions[:, None, None, :]
    distances = np.linalg.norm(vectors, axis=-1).ravel()
    return distances[(distances > 1e-8) & (distances < r_max)]


@pytest.mark.parametrize("name", ["Cu (fcc)", "Si (diamond)", "Mg (hcp)", "ZnO (wurtzite)"])
def test_rdf_counts_equal_a_brute_force_lattice_sum(name):
    atoms = builtin_crystal(name)
    result = rdf(atoms, r_max=7.0, n_bins=700)
    expected, _ = np.histogram(brute_force_distances(atoms, 7.0), bins=result.edges)
    np.testing.assert_allclose(result.neighbors_per_atom, expected / len(atoms), atol=1e-12)


def test_fcc_shells_are_12_6_24_12():
    a = 3.615
    result = rdf(bulk("Cu", "fcc", a=a), r_max=5.57, n_bins=1000)  # no shell on a bin edge
    shells = {a / np.sqrt(2): 12, a: 6, a * np.sqrt(1.5): 24, a * np.sqrt(2): 12}
    for distance, count in shells.items():
        k = np.searchsorted(result.edges, distance) - 1
        assert result.neighbors_per_atom[k] == pytest.approx(count)


def test_rdf_normalisation_gives_neighbour_counts():
    result = rdf(builtin_crystal("NaCl (rocksalt)"), r_max=6.0, n_bins=600, smearing=0.05)
    shell = 4 / 3 * np.pi * np.diff(result.edges**3)
    integral = np.cumsum(result.g * result.density * shell)
    np.testing.assert_allclose(integral, result.running_coordination())
    # a smeared crystal keeps its neighbour count: 6 Cl + 12 Na + 8 Cl within 5.2 Å
    assert integral[np.searchsorted(result.edges, 5.2) - 1] == pytest.approx(26, abs=1e-6)


def test_partial_rdf_of_rocksalt():
    atoms = builtin_crystal("NaCl (rocksalt)")
    unlike = rdf(atoms, r_max=3.0, n_bins=300, pair=("Na", "Cl"))
    like = rdf(atoms, r_max=3.0, n_bins=300, pair=("Na", "Na"))
    assert unlike.neighbors_per_atom.sum() == pytest.approx(6)
    assert like.neighbors_per_atom.sum() == 0
    with pytest.raises(MIInputError, match="'K' is not in the structure"):
        rdf(atoms, pair=("Na", "K"))


def test_supercell_has_the_same_rdf_and_coordination():
    cell = builtin_crystal("Si (diamond)")
    big = supercell(cell, (2, 3, 2))
    assert len(big) == 12 * len(cell)
    np.testing.assert_allclose(rdf(big, 6.0, 120).g, rdf(cell, 6.0, 120).g, atol=1e-12)
    assert set(coordination_numbers(big).tolist()) == {4}
    assert describe_structure(big).density == pytest.approx(describe_structure(cell).density)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Cu (fcc)", 12), ("Si (diamond)", 4), ("NaCl (rocksalt)", 6), ("Mg (hcp)", 12)],
)
def test_coordination_numbers(name, expected):
    assert set(coordination_numbers(builtin_crystal(name)).tolist()) == {expected}


def test_every_builtin_crystal_builds():
    for name in BUILTIN_CRYSTALS:
        assert len(builtin_crystal(name)) >= 2
    with pytest.raises(MIInputError, match="Unknown crystal"):
        builtin_crystal("Unobtainium")


@pytest.mark.parametrize("fmt", ["cif", "extxyz"])
def test_written_text_reads_back(fmt):
    atoms = supercell(builtin_crystal("ZnO (wurtzite)"), (2, 1, 1))
    suffix = {"cif": "x.cif", "extxyz": "x.xyz"}[fmt]
    back = read_structure(structure_to_text(atoms, fmt).encode(), filename=suffix)
    assert back.get_chemical_formula() == atoms.get_chemical_formula()
    np.testing.assert_allclose(back.cell.cellpar(), atoms.cell.cellpar(), atol=1e-4)


def test_poscar_is_recognised_by_name(tmp_path):
    from ase.io import write

    write(tmp_path / "POSCAR", builtin_crystal("Fe (bcc)"), format="vasp")
    assert read_structure(tmp_path / "POSCAR").get_chemical_formula() == "Fe2"
    assert len(read_frames(tmp_path / "POSCAR")) == 1


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "a.cif", "is empty"),
        (b"this is not a crystal\n", "a.cif", "could not be read as cif"),
        (b"2\n\nH 0 0 0\nH 0 0 nan\n", "a.xyz", "NaN or infinite position at atom 1"),
        (b"data", "a.docx", "Cannot tell the format"),
        (b"data", "a.traj", "Cannot tell the format"),
    ],
)
def test_bad_files_give_one_clear_message(content, name, message):
    with pytest.raises(MIInputError, match=message):
        read_structure(content, filename=name)


@settings(max_examples=60, deadline=None)
@given(
    content=st.binary(min_size=1, max_size=400),
    suffix=st.sampled_from(list(".cif .xyz .vasp .pdb .xsf".split())),
)
def test_random_bytes_never_escape_as_other_errors(content, suffix):
    try:
        read_structure(content, filename="random" + suffix)
    except MIInputError:
        pass


def test_structures_without_a_cell_are_refused_where_a_cell_is_needed():
    molecule = Atoms("H2O", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    for call in (lambda: rdf(molecule), lambda: supercell(molecule, (2, 2, 2))):
        with pytest.raises(MIInputError, match="no periodic cell"):
            call()


def test_supercell_limits():
    cell = builtin_crystal("Cu (fcc)")
    with pytest.raises(MIInputError, match="would have"):
        supercell(cell, (20, 20, 20))
    assert 20**3 * len(cell) > MAX_SUPERCELL_ATOMS
    with pytest.raises(MIInputError, match="whole number"):
        supercell(cell, (1.5, 1, 1))
    with pytest.raises(MIInputError, match="at least 1"):
        supercell(cell, (0, 1, 1))
