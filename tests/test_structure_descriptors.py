"""LAAF and Steinhardt descriptors: literature values, brute force, freud, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.cluster import Icosahedron
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import sph_harm_y

from mi_widgets._errors import MIInputError
from mi_widgets.structure.descriptors import (
    laaf_descriptor,
    spherical_harmonics,
    steinhardt,
    wigner_3j_lll,
)

# ------------------------------------------------------------------ Steinhardt: literature values

# q4, q6, w4, w6 (normalised) of perfect lattices: Steinhardt, Nelson & Ronchetti,
# PRB 28, 784 (1983), Table I; bcc-8 (cube) and sc (octahedron) as tabulated by
# Mickel et al., J. Chem. Phys. 138, 044501 (2013); w4 of the icosahedron is
# undefined (q4 = 0) and reported as 0 here.
HCP_C = 3.2 * np.sqrt(8 / 3)
LATTICES = {
    "fcc": (bulk("Cu", "fcc", a=3.6), 12, (0.19094, 0.57452, -0.15932, -0.01316)),
    "hcp": (bulk("Mg", "hcp", a=3.2, c=HCP_C), 12, (0.09722, 0.48476, 0.13410, -0.01244)),
    "bcc-8": (bulk("Fe", "bcc", a=2.87), 8, (0.50918, 0.62854, -0.15932, 0.01316)),
    "bcc-14": (bulk("Fe", "bcc", a=2.87), 14, (0.03637, 0.51069, 0.15932, 0.01316)),
    "sc": (bulk("Po", "sc", a=3.3), 6, (0.76376, 0.35355, 0.15932, 0.01316)),
}


@pytest.mark.parametrize("name", list(LATTICES))
@pytest.mark.parametrize("cell", ["primitive", "supercell"])
def test_steinhardt_of_perfect_lattices_matches_literature(name, cell):
    atoms, k, expected = LATTICES[name]
    if cell == "supercell":  # the cKDTree path instead of ASE's image-aware neighbour list
        atoms = atoms.repeat(4)
    result = steinhardt(atoms, ls=(4, 6), n_neighbors=k, w=True)
    got = np.hstack([result.q, result.w])
    np.testing.assert_allclose(got, np.tile(expected, (len(atoms), 1)), atol=1e-5)


def test_steinhardt_by_cutoff_equals_by_count_on_a_shell():
    fcc = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(3)
    by_cut = steinhardt(fcc, r_cut=3.0, w=True)  # first shell at 2.55 A, second at 3.6 A
    by_count = steinhardt(fcc, n_neighbors=12, w=True)
    np.testing.assert_allclose(by_cut.as_array(), by_count.as_array(), atol=1e-12)
    assert (by_cut.neighbor_counts == 12).all()


def test_icosahedron_centre_q6_and_w6():
    cluster = Icosahedron("Cu", 2)  # 13 atoms, the centre first
    result = steinhardt(cluster, ls=(4, 6), n_neighbors=12, w=True)
    assert result.q[0, 0] == pytest.approx(0.0, abs=1e-10)
    assert result.q[0, 1] == pytest.approx(0.66332, abs=1e-5)
    assert result.w[0, 1] == pytest.approx(-0.16975, abs=1e-5)
    assert result.w[0, 0] == 0.0


def test_averaged_q_of_a_perfect_crystal_equals_plain_q():
    fcc = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    plain = steinhardt(fcc, n_neighbors=12, w=True)
    averaged = steinhardt(fcc, n_neighbors=12, w=True, averaged=True)
    np.testing.assert_allclose(averaged.as_array(), plain.as_array(), atol=1e-12)
    assert averaged.column_names() == ["avg_q4", "avg_q6", "avg_w4", "avg_w6"]


def test_averaged_q_is_the_mean_of_qlm_over_atom_and_neighbours():
    rng = np.random.default_rng(4)
    cluster = Atoms("Ar20", positions=rng.normal(scale=2.5, size=(20, 3)))
    k = 5
    plain_pairs = steinhardt(cluster, ls=(6,), n_neighbors=k)
    averaged = steinhardt(cluster, ls=(6,), n_neighbors=k, averaged=True)
    # brute force: q_lm per atom, then the mean over {i} and its k neighbours
    d = cluster.positions[None, :, :] - cluster.positions[:, None, :]
    dist = np.linalg.norm(d, axis=2) + np.eye(20) * 1e9
    nearest = np.argsort(dist, axis=1)[:, :k]
    qlm = np.array(
        [
            spherical_harmonics(6, d[i, nearest[i]] / dist[i, nearest[i], None]).mean(axis=0)
            for i in range(20)
        ]
    )
    mean_qlm = np.array([qlm[np.r_[i, nearest[i]]].mean(axis=0) for i in range(20)])
    expected = np.sqrt(4 * np.pi / 13 * (np.abs(mean_qlm) ** 2).sum(axis=1))
    np.testing.assert_allclose(averaged.q[:, 0], expected, atol=1e-12)
    assert not np.allclose(plain_pairs.q, averaged.q)


def test_spherical_harmonics_match_scipy():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(200, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    theta, phi = np.arccos(v[:, 2]), np.arctan2(v[:, 1], v[:, 0])
    for ell in (0, 1, 2, 4, 6, 8, 12):
        m = np.arange(-ell, ell + 1)
        reference = sph_harm_y(ell, m[None, :], theta[:, None], phi[:, None])
        np.testing.assert_allclose(spherical_harmonics(ell, v), reference, atol=1e-12)


def test_wigner_3j_against_closed_forms():
    # (l l l; 0 0 0) closed form for even l (Edmonds 3.7.17) and (2 2 2; 2 -2 0)
    for ell in (2, 4, 6, 8):
        g = 3 * ell // 2
        from math import factorial

        exact = (-1) ** g * np.sqrt(factorial(ell) ** 3 / factorial(3 * ell + 1))
        exact *= factorial(g) / factorial(g - ell) ** 3
        assert wigner_3j_lll(ell)[ell, ell] == pytest.approx(exact, rel=1e-10)
    assert wigner_3j_lll(2)[4, 0] == pytest.approx(np.sqrt(2 / 35), rel=1e-10)
    # orthogonality: sum over m1, m2 of (l l l; m1 m2 m3)^2 = 1 for every m3, / (2l+1)
    for ell in (4, 6):
        table = wigner_3j_lll(ell)
        assert (table**2).sum() == pytest.approx(1.0, rel=1e-10)


# ------------------------------------------------------------------ Steinhardt vs freud


@pytest.mark.parametrize("averaged", [False, True])
@pytest.mark.parametrize("neighbours", ["count", "cutoff"])
def test_steinhardt_matches_freud_on_a_random_configuration(averaged, neighbours):
    freud_module = pytest.importorskip("freud", reason="freud is not installed (optional)")
    rng = np.random.default_rng(1)
    length, n = 16.0, 400
    kept = np.empty((0, 3))  # random points, none closer than 0.8 A (no overlapping atoms)
    for point in rng.uniform(0, length, (4 * n, 3)):
        gap = kept - point
        gap -= length * np.round(gap / length)
        if len(kept) < n and (np.einsum("ij,ij->i", gap, gap) >= 0.8**2).all():
            kept = np.vstack([kept, point])
    atoms = Atoms(f"Ar{n}", positions=kept, cell=[length] * 3, pbc=True)
    if neighbours == "count":
        ours = steinhardt(atoms, ls=(4, 6), n_neighbors=12, averaged=averaged, w=True)
        query = {"num_neighbors": 12}
    else:
        ours = steinhardt(atoms, ls=(4, 6), r_cut=3.2, averaged=averaged, w=True)
        query = {"r_max": 3.2}
    system = (freud_module.box.Box.cube(length), atoms.positions - length / 2)
    q = freud_module.order.Steinhardt([4, 6], average=averaged)
    q.compute(system, neighbors=query)
    w = freud_module.order.Steinhardt([4, 6], average=averaged, wl=True, wl_normalize=True)
    w.compute(system, neighbors=query)
    # freud works in single precision
    np.testing.assert_allclose(ours.q, q.particle_order, atol=2e-5)
    np.testing.assert_allclose(ours.w, w.particle_order, atol=2e-5)


# ------------------------------------------------------------------ LAAF


def brute_force_laaf(atoms, etas, r_cut, r_avg):
    """Loops over atoms and explicit periodic images, the atom itself in the average."""
    cell = atoms.cell.array
    shifts = [np.array(s) @ cell for s in itertools.product(range(-2, 3), repeat=3)]
    n = len(atoms)
    v = np.zeros((n, len(etas)))
    near = [[] for _ in range(n)]
    for i in range(n):
        for j in range(n):
            for shift in shifts:
                r = np.linalg.norm(atoms.positions[j] + shift - atoms.positions[i])
                if r < 1e-8:
                    continue
                if r < r_cut:
                    fc = 0.5 * (np.cos(np.pi * r / r_cut) + 1)
                    v[i] += np.exp(-((r / np.asarray(etas)) ** 2)) * fc
                if r < r_avg:
                    near[i].append(j)
    return np.array([v[[i, *near[i]]].mean(axis=0) for i in range(n)])


def test_laaf_matches_brute_force_loops_with_images():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    atoms.rattle(0.15, seed=2)
    etas = [0.5, 1.0, 2.0, 4.0]
    # r_cut larger than half the cell: several images of the same neighbour count
    got = laaf_descriptor(atoms, etas, r_cut=4.5, r_avg=3.0)
    np.testing.assert_allclose(got, brute_force_laaf(atoms, etas, 4.5, 3.0), rtol=1e-12)


def test_laaf_of_diamond_first_shell_closed_form():
    atoms = bulk("Si", "diamond", a=5.431)
    r = 5.431 * np.sqrt(3) / 4
    etas = np.array([1.0, 2.0, 3.0])
    expected = 4 * np.exp(-((r / etas) ** 2)) * 0.5 * (np.cos(np.pi * r / 3.0) + 1)
    got = laaf_descriptor(atoms, etas, r_cut=3.0, r_avg=3.0)
    np.testing.assert_allclose(got, np.tile(expected, (2, 1)), rtol=1e-12)


def test_laaf_tree_and_ase_paths_agree_and_averaging_changes_values():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(3)
    atoms.rattle(0.2, seed=5)
    etas = np.geomspace(0.5, 5, 6)
    fast = laaf_descriptor(atoms, etas, r_cut=5.0, r_avg=3.0)  # cKDTree path
    skewed = atoms.copy()  # the same lattice described by a sheared cell: ASE neighbour path
    a1, a2, a3 = atoms.cell.array
    skewed.set_cell([a1, a2, a3 + a1], scale_atoms=False)
    np.testing.assert_allclose(laaf_descriptor(skewed, etas, 5.0, 3.0), fast, rtol=1e-9)
    plain = laaf_descriptor(atoms, etas, r_cut=5.0, r_avg=0.0)
    assert not np.allclose(plain, fast)
    without_self = laaf_descriptor(atoms, etas, r_cut=5.0, r_avg=3.0, include_self=False)
    assert not np.allclose(without_self, fast)


def test_laaf_species_blocks_add_up_to_the_total():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[::3] = "Ge"
    atoms.set_chemical_symbols(symbols)
    atoms.rattle(0.1, seed=1)
    etas = [0.8, 1.6, 3.2]
    blocks = laaf_descriptor(atoms, etas, r_cut=4.0, r_avg=3.0, species=["Si", "Ge"])
    total = laaf_descriptor(atoms, etas, r_cut=4.0, r_avg=3.0)
    assert blocks.shape == (len(atoms), 6)
    np.testing.assert_allclose(blocks[:, :3] + blocks[:, 3:], total, rtol=1e-12)
    assert (blocks[:, 3:] > 0).any() and (blocks[:, :3] > 0).any()


def test_descriptors_are_invariant_under_rotation_and_translation():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    atoms.rattle(0.2, seed=9)
    moved = atoms.copy()
    rotation = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))[0]
    moved.set_cell(atoms.cell.array @ rotation.T, scale_atoms=True)
    moved.translate([1.1, -0.3, 2.2])
    moved.wrap()
    etas = [1.0, 2.0]
    np.testing.assert_allclose(
        laaf_descriptor(moved, etas, 4.0, 3.0), laaf_descriptor(atoms, etas, 4.0, 3.0), rtol=1e-10
    )
    np.testing.assert_allclose(
        steinhardt(moved, n_neighbors=4, w=True).as_array(),
        steinhardt(atoms, n_neighbors=4, w=True).as_array(),
        atol=1e-10,
    )


# ------------------------------------------------------------------ bad input


def test_bad_structures_raise_one_clear_error():
    si = bulk("Si", "diamond", a=5.431)
    nan = si.copy()
    nan.positions[1, 0] = np.nan
    with pytest.raises(MIInputError, match="NaN or infinite positions"):
        steinhardt(nan, n_neighbors=4)
    no_cell = Atoms("Si2", positions=[[0, 0, 0], [1, 1, 1]], pbc=True)
    with pytest.raises(MIInputError, match="periodic but has no cell"):
        laaf_descriptor(no_cell, [1.0], r_cut=3.0, r_avg=3.0)
    twin = si + si[:1]  # a duplicated atom
    with pytest.raises(MIInputError, match="sit on top of each other"):
        steinhardt(twin, n_neighbors=4)
    with pytest.raises(MIInputError, match="sit on top of each other"):
        laaf_descriptor(twin, [1.0], r_cut=3.0, r_avg=3.0)
    with pytest.raises(MIInputError, match=r"ase\.Atoms"):
        steinhardt(np.zeros((3, 3)), n_neighbors=4)


def test_bad_parameters_raise_one_clear_error():
    si = bulk("Si", "diamond", a=5.431, cubic=True)
    with pytest.raises(MIInputError, match="exactly one of n_neighbors"):
        steinhardt(si)
    with pytest.raises(MIInputError, match="exactly one of n_neighbors"):
        steinhardt(si, n_neighbors=4, r_cut=3.0)
    with pytest.raises(MIInputError, match="ls must be whole numbers"):
        steinhardt(si, ls=(4.5,), n_neighbors=4)
    with pytest.raises(MIInputError, match="has no neighbour within"):
        steinhardt(si, r_cut=1.0)
    with pytest.raises(MIInputError, match="neighbours per atom"):
        laaf_descriptor(si, [1.0], r_cut=40.0, r_avg=3.0)
    with pytest.raises(MIInputError, match="etas must all be positive"):
        laaf_descriptor(si, [1.0, -2.0], r_cut=4.0, r_avg=3.0)
    with pytest.raises(MIInputError, match="not in species"):
        laaf_descriptor(si, [1.0], r_cut=4.0, r_avg=3.0, species=["Ge"])
    cluster = Icosahedron("Cu", 2)
    with pytest.raises(MIInputError, match="only 13 atoms"):
        steinhardt(cluster, n_neighbors=13)


def test_a_cutoff_beyond_half_the_cell_uses_images_and_is_allowed():
    # a 2-atom cell with r_cut > cell size: each atom sees many images of its neighbour
    si = bulk("Si", "diamond", a=5.431)
    big = si.repeat(4)
    np.testing.assert_allclose(
        steinhardt(si, r_cut=4.0).q[0], steinhardt(big, r_cut=4.0).q[0], atol=1e-12
    )


@settings(max_examples=30, deadline=None)
@given(
    r_cut=st.one_of(st.floats(allow_nan=True), st.just(float("inf")), st.floats(max_value=0)),
)
def test_any_bad_cutoff_gives_mi_input_error(r_cut):
    si = bulk("Si", "diamond", a=5.431, cubic=True)
    if np.isfinite(r_cut) and 0 < r_cut < 30:
        return  # a valid cut-off; covered elsewhere
    with pytest.raises(MIInputError):
        laaf_descriptor(si, [1.0], r_cut=r_cut, r_avg=0.0)


def test_slab_with_mixed_periodicity_has_bulk_inside_and_9_neighbours_on_top():
    from ase.build import fcc111

    slab = fcc111("Cu", size=(3, 3, 5), a=3.6, vacuum=8.0)  # periodic in x, y only
    result = steinhardt(slab, ls=(6,), r_cut=3.0)
    layer = slab.get_tags()  # 1 = top ... 5 = bottom
    np.testing.assert_allclose(result.q[layer == 3, 0], 0.57452, atol=1e-5)
    assert (result.neighbor_counts[layer == 1] == 9).all()
    assert (result.neighbor_counts[layer == 3] == 12).all()
