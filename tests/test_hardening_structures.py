"""Structure inputs that used to hang a kernel or give a silently wrong answer."""

from __future__ import annotations

import io

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import write

from mi_widgets._errors import MIInputError
from mi_widgets._limits import MAX_FRAME_ATOMS
from mi_widgets.structure import io as structure_io
from mi_widgets.structure._neighbors import MIN_ATOM_DISTANCE, check_neighbor_search
from mi_widgets.structure.descriptors import laaf_descriptor, steinhardt
from mi_widgets.structure.rdf import coordination_numbers, nearest_neighbor_distance, rdf
from mi_widgets.structure.stillinger_weber import StillingerWeber, sw_pairs_and_triplets

DUMP_HEADER = (
    b"ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n{n}\n"
    b"ITEM: BOX BOUNDS pp pp pp\n0 10\n0 10\n0 10\nITEM: ATOMS id type x y z\n"
)


@pytest.fixture
def no_parser(monkeypatch):
    """Fail the test if ASE's parser is reached: the refusal must come before it."""

    def _parse(*args, **kwargs):
        raise AssertionError("the file reached the parser")

    monkeypatch.setattr(structure_io, "_parse", _parse)


def _text(atoms: Atoms, fmt: str) -> bytes:
    buffer = io.StringIO()
    write(buffer, atoms, format=fmt)
    return buffer.getvalue().encode()


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"1000000000\n\nH 0 0 0\n", "huge.xyz"),  # 22 bytes claiming 10^9 atoms
        (b"2\n\nH 0 0 0\nH 1 0 0\n1000000000\n\n", "second_frame.xyz"),
        (DUMP_HEADER.replace(b"{n}", b"1000000000"), "huge.lammpstrj"),
        (DUMP_HEADER.replace(b"{n}", b"10000000") + b"1 1 0 0 0\n", "one_line.dump"),
        (
            b"Si\n1.0\n5 0 0\n0 5 0\n0 0 5\nSi\n1000000000\nDirect\n0 0 0\n",
            "POSCAR",
        ),
        (b"CRYSTAL\nPRIMVEC\n5 0 0\n0 5 0\n0 0 5\nPRIMCOORD\n1000000000 1\n14 0 0 0\n", "a.xsf"),
        (
            b"&system\n nat = 1000000000, ntyp = 1\n/\nATOMIC_POSITIONS angstrom\nSi 0 0 0\n",
            "a.pwi",
        ),
    ],
)
def test_claimed_atom_counts_are_checked_against_the_file(content, filename, no_parser):
    with pytest.raises(MIInputError, match=r"claims [\d,]+ atoms") as caught:
        structure_io.read_frames(content, filename=filename)
    assert str(caught.value).count(". ") == 0  # one sentence


def test_a_dump_that_lists_fewer_atoms_than_it_claims_is_refused():
    text = DUMP_HEADER.replace(b"{n}", b"3") + b"1 1 0 0 0\n2 1 2 0 0\n"
    with pytest.raises(MIInputError, match="claims 3 atoms but lists 2"):
        structure_io.read_frames(text, filename="short.lammpstrj")
    good = DUMP_HEADER.replace(b"{n}", b"2") + b"1 1 0 0 0\n2 1 2 0 0\n"
    assert len(structure_io.read_frames(good, filename="good.lammpstrj")[0]) == 2


def test_more_atoms_than_the_apps_show_is_refused_with_the_limit(no_parser):
    n = MAX_FRAME_ATOMS + 1
    text = f"{n}\n\n".encode() + b"H 0 0 0\n" * n
    with pytest.raises(MIInputError, match=f"at most {MAX_FRAME_ATOMS:,} atoms"):
        structure_io.read_frames(text, filename="big.xyz")


def test_valid_files_still_read():
    si = bulk("Si", "diamond", a=5.431, cubic=True)
    for fmt, filename in (("extxyz", "si.xyz"), ("vasp", "POSCAR"), ("xsf", "si.xsf")):
        atoms = structure_io.read_structure(_text(si, fmt), filename=filename)
        assert len(atoms) == 8
    two_frames = _text(si, "extxyz") * 2
    assert len(structure_io.read_frames(two_frames, filename="two.xyz")) == 2


def _tiny_si(length: float) -> Atoms:
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    atoms.set_cell(atoms.cell * (length / 5.431), scale_atoms=True)
    return atoms


@pytest.mark.parametrize("length", [0.01, 0.05])
def test_tiny_cells_are_refused_by_every_neighbour_search(length):
    atoms = _tiny_si(length)
    calls = [
        lambda: rdf(atoms),
        lambda: coordination_numbers(atoms),
        lambda: coordination_numbers(atoms, cutoff=3.0),
        lambda: nearest_neighbor_distance(atoms),
        lambda: steinhardt(atoms, n_neighbors=4),
        lambda: steinhardt(atoms, r_cut=3.0),
        lambda: laaf_descriptor(atoms, [1.0], r_cut=3.0, r_avg=3.0),
        lambda: sw_pairs_and_triplets(atoms, 3.77),
        lambda: StillingerWeber().get_potential_energy(atoms),
    ]
    for call in calls:
        with pytest.raises(MIInputError, match="denser than atoms"):
            call()


def test_a_tiny_cell_upload_is_refused():
    text = _text(_tiny_si(0.05), "vasp")
    with pytest.raises(MIInputError, match="denser than atoms"):
        structure_io.read_structure(text, filename="POSCAR")


def test_neighbour_guard_estimates_before_building_lists():
    si = bulk("Si", "diamond", a=5.431, cubic=True)
    with pytest.raises(MIInputError, match=r"r_max = 1000 A would give about .* use a cut-off"):
        rdf(si, r_max=1000)
    assert rdf(si, r_max=20.0, n_bins=50).g.shape == (50,)
    with pytest.raises(MIInputError, match="positive distance"):
        check_neighbor_search(si, float("nan"))
    cluster = Atoms("Ar3", positions=[[0, 0, 0], [3, 0, 0], [0, 3, 0]])
    assert check_neighbor_search(cluster, 1e6) == 1e6  # a cluster has at most N - 1 neighbours


def test_non_finite_cells_are_refused():
    si = bulk("Si", "diamond", a=5.431)
    text = _text(si, "extxyz").replace(b'Lattice="0.0', b'Lattice="nan', 1)
    assert b'Lattice="nan' in text
    with pytest.raises(MIInputError, match="NaN or infinite numbers in its cell"):
        structure_io.read_structure(text, filename="nan.xyz")
    bad = si.copy()
    bad.cell[0, 0] = np.inf
    for call in (lambda: rdf(bad), lambda: steinhardt(bad, n_neighbors=4)):
        with pytest.raises(MIInputError, match="NaN or infinite numbers in its cell"):
            call()


def test_overlapping_atoms_are_refused_not_counted_as_bonds():
    si = bulk("Si", "diamond", a=5.431, cubic=True)
    twin = si + si[:1]  # a duplicated atom: it used to count as a fifth bond
    calls = [
        lambda: coordination_numbers(twin),
        lambda: nearest_neighbor_distance(twin),  # used to skip the 0 A pair
        lambda: rdf(twin),
        lambda: StillingerWeber().get_potential_energy(twin),  # used to be NaN
        lambda: structure_io.read_structure(_text(twin, "extxyz"), filename="twin.xyz"),
    ]
    for call in calls:
        with pytest.raises(MIInputError, match="sit on top of each other"):
            call()
    near = si.copy()
    near.positions[1] = near.positions[0] + [0.3, 0, 0]
    with pytest.raises(MIInputError, match=r"Atoms 0 and 1 .* 0\.3 A apart"):
        coordination_numbers(near)
    apart = si.copy()
    apart.positions[1] = apart.positions[0] + [MIN_ATOM_DISTANCE + 0.05, 0, 0]
    assert np.isfinite(StillingerWeber().get_potential_energy(apart))


def test_stillinger_weber_energy_is_finite_for_accepted_structures():
    rng = np.random.default_rng(3)
    for _ in range(5):
        atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
        atoms.rattle(stdev=0.3, seed=int(rng.integers(1000)))
        try:
            energy = StillingerWeber().get_potential_energy(atoms)
        except MIInputError:
            continue  # a rattle that put two atoms on top of each other
        assert np.isfinite(energy)
