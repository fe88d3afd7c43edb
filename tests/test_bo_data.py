"""Lab 04 data: the Sigma5 grain boundary (physics and regeneration), test functions, tables."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import read
from conftest import run_script

from mi_widgets._errors import MIInputError
from mi_widgets.bayesopt.data import (
    GRAIN_BOUNDARY_CSV,
    GRAIN_BOUNDARY_STRUCTURE,
    branin,
    branin_problem,
    forrester,
    forrester_problem,
    load_grain_boundary,
    proposals_table_csv,
    read_candidate_table,
    read_results,
)
from mi_widgets.bayesopt.grain_boundary import (
    CU_EMT_ENERGY,
    CU_EMT_LATTICE,
    build_grain_boundary,
    grain_boundary_energy,
)

ROOT = Path(__file__).resolve().parents[1]


def _bulk_energy(a: float) -> float:
    atoms = bulk("Cu", "fcc", a=a, cubic=True)
    atoms.calc = EMT()
    return atoms.get_potential_energy() / len(atoms)


def test_bulk_reference_is_the_emt_minimum():
    assert _bulk_energy(CU_EMT_LATTICE) == pytest.approx(CU_EMT_ENERGY, abs=1e-6)
    h = 1e-3  # equilibrium: zero slope, positive curvature
    slope = (_bulk_energy(CU_EMT_LATTICE + h) - _bulk_energy(CU_EMT_LATTICE - h)) / (2 * h)
    assert abs(slope) < 1e-4
    assert _bulk_energy(CU_EMT_LATTICE + 0.02) > CU_EMT_ENERGY


def test_bicrystal_is_sigma5_and_a_perfect_crystal_has_zero_boundary_energy():
    atoms = build_grain_boundary(0.0, 0.0, 0.0)
    lx, ly, lz2 = atoms.cell.lengths()
    grain = atoms.arrays["grain"]
    assert len(atoms) == 80 and np.bincount(grain).tolist() == [40, 40]
    assert lx == pytest.approx(np.sqrt(5) * CU_EMT_LATTICE) and ly == pytest.approx(CU_EMT_LATTICE)
    # Sigma 5: one site in five of the mirrored lattice coincides with the original one
    lz = lz2 / 2
    lower = atoms.positions[grain == 0]
    mirrored = lower * [1, 1, -1]
    period = np.array([lx, ly, lz])
    diff = (lower[:, None, :] - mirrored[None, :, :]) / period
    diff -= np.round(diff)
    coincident = (np.linalg.norm(diff * period, axis=2) < 1e-6).any(axis=1).sum()
    assert len(lower) / coincident == pytest.approx(5.0)
    # the same construction without the mirror is bulk fcc: gamma = 0
    perfect = build_grain_boundary(0.0, 0.0, 0.0)
    perfect.positions[grain == 1] = lower + np.array([0.0, 0.0, lz])
    perfect.set_constraint()
    perfect.calc = EMT()
    gamma = (perfect.get_potential_energy() - len(perfect) * CU_EMT_ENERGY) / (2 * lx * ly)
    assert abs(gamma) < 1e-6


def test_removal_cutoff_removes_close_atoms_and_translation_moves_the_upper_grain():
    near = build_grain_boundary(0.0, 0.0, 0.0, removal_cutoff=2.1)
    assert near.info["n_removed"] == 80 - len(near) > 0
    moved = build_grain_boundary(1.0, 0.5, 0.3)
    base = build_grain_boundary(0.0, 0.0, 0.0)
    shift = moved.positions[40:] - base.positions[40:]
    period = moved.cell.lengths()[:2]
    shift[:, :2] = np.mod(shift[:, :2] + 1e-9, period) - 1e-9
    np.testing.assert_allclose(shift[:, :2], np.tile([1.0, 0.5], (40, 1)), atol=1e-8)
    with pytest.raises(MIInputError, match="tz must be above"):
        build_grain_boundary(0, 0, -1.0)


def test_data_file_energies_are_physical_and_reproduced(tmp_path):
    problem = load_grain_boundary()
    assert problem.candidates.shape == (960, 4) and problem.goal == "minimize"
    assert np.all(np.isfinite(problem.values))
    index, best = problem.optimum()
    # EAM and EMT values for Cu Sigma5 (210) are near 0.9-1.1 J/m^2
    assert 0.6 < best < 1.3 and problem.values.max() < 5.0
    structure = read(GRAIN_BOUNDARY_STRUCTURE)
    assert structure.info["energy_J_m2"] == pytest.approx(best, abs=1e-6)
    # a regenerated small grid (a subset of the rows) gives the same energies
    run_script("make_grain_boundary.py", "--small", "--out", tmp_path)
    with (tmp_path / GRAIN_BOUNDARY_CSV.name).open() as handle:
        small = list(csv.DictReader(handle))
    with GRAIN_BOUNDARY_CSV.open() as handle:
        full = {
            tuple(r[k] for k in ("tx_A", "ty_A", "tz_A", "removal_cutoff_A")): r
            for r in csv.DictReader(handle)
        }
    assert len(small) == 8
    for row in small:
        ref = full[tuple(row[k] for k in ("tx_A", "ty_A", "tz_A", "removal_cutoff_A"))]
        assert float(row["energy_J_m2"]) == pytest.approx(float(ref["energy_J_m2"]), abs=1e-6)
    # the stored optimum is a relaxed structure: relaxing again hardly changes it
    again = grain_boundary_energy(build_grain_boundary(*problem.candidates[index]))
    assert again.energy == pytest.approx(best, abs=1e-3)


def test_test_functions_have_their_published_minima():
    assert forrester(np.array([0.75724875]))[0] == pytest.approx(-6.02074, abs=1e-4)
    for x1, x2 in ((-np.pi, 12.275), (np.pi, 2.275), (9.42478, 2.475)):
        assert branin(x1, x2) == pytest.approx(0.397887, abs=1e-5)
    grid = branin_problem(100)
    assert grid.candidates.shape == (10000, 2) and grid.goal == "maximize"
    assert grid.optimum()[1] == pytest.approx(-0.3979, abs=0.02)
    assert forrester_problem(11).candidates.shape == (11, 1)


def test_candidate_table_round_trip_and_errors(tmp_path):
    text = b"x,y,strength\n0,1,2.5\n1,0,\n1,1,3.0\n2,2,\n"
    table = read_candidate_table(text, goal="maximize")
    assert table.feature_names == ("x", "y") and table.measured.tolist() == [1, 0, 1, 0]
    assert table.optimum() == (2, 3.0)
    csv_text = proposals_table_csv(table, np.array([1, 3]))
    assert csv_text.splitlines() == ["row,x,y,strength", "1,1,0,", "3,2,2,"]
    filled = csv_text.replace("1,1,0,", "1,1,0,4.5")
    assert [a.tolist() for a in read_results(filled, table)] == [[1], [4.5]]
    path = tmp_path / "t.csv"
    path.write_bytes(text)
    assert read_candidate_table(path, value_column="strength").name == "t"
    bad = {
        b"x,y\n1,2\n": "at least two rows",
        b"x,y\n1,2\n3\n": "has 1 cells",
        b"x,y\n1,2\na,3\n": "not a number",
        b"x,y\n1,2\n2,b\n": "give a number",
        b"y\n1\n2\n": "at least one feature column",
        b"x,y\n1,nan\n2,inf\n": None,
        b"\xff\xfe": "UTF-8",
    }
    for content, message in bad.items():
        if message is None:
            with pytest.raises(MIInputError):
                read_candidate_table(b"x,y\nnan,1\n2,3\n")
            continue
        with pytest.raises(MIInputError, match=message):
            read_candidate_table(content)
    with pytest.raises(MIInputError, match="No column 'z'"):
        read_candidate_table(text, value_column="z")
    with pytest.raises(MIInputError, match="No file"):
        read_candidate_table(tmp_path / "missing.csv")
    with pytest.raises(MIInputError, match="'row' column"):
        read_results("x,strength\n1,2\n", table)
    with pytest.raises(MIInputError, match="not a candidate"):
        read_results("row,strength\n9,2\n", table)
    with pytest.raises(MIInputError, match="No filled-in"):
        read_results("row,strength\n1,\n", table)
