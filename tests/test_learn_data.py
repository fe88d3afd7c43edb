"""The alloy data: the generating script works (small run), and the shipped files are sane."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from mi_widgets.learn import load_alloys, load_element_table, read_table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_alloy_data  # noqa: E402


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("alloys") / "small.csv"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "make_alloy_data.py"),
            "--small",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return read_table(out)


def test_small_run_writes_every_column(small_run):
    assert small_run.columns == make_alloy_data.COLUMNS
    assert small_run.n_rows == 7
    mixing = small_run.numeric("mixing_energy_eV_per_atom")
    assert np.array_equal(small_run.numeric("stable"), (mixing < 0).astype(float))


def test_mixing_energy_is_relative_to_the_pure_elements(small_run):
    # E(alloy) - E_mix = x_Cu E_Cu + x_Au E_Au must be linear in x_Cu across the Cu-Au rows.
    rows = small_run.column("system") == "Cu-Au"
    x = small_run.numeric("x_Cu")[rows]
    reference = (
        small_run.numeric("energy_eV_per_atom") - small_run.numeric("mixing_energy_eV_per_atom")
    )[rows]
    slope, intercept = np.polyfit(x, reference, 1)
    assert np.allclose(slope * x + intercept, reference, atol=2e-6)
    # ... and equal to the pure references computed by the script.
    pure = make_alloy_data.pure_references()
    assert intercept == pytest.approx(pure["Au"], abs=2e-6)
    assert slope + intercept == pytest.approx(pure["Cu"], abs=2e-6)


def test_lattice_constant_follows_composition(small_run):
    rows = small_run.column("system") == "Cu-Au"
    a = small_run.numeric("lattice_constant_A")[rows]
    x_cu = small_run.numeric("x_Cu")[rows]
    assert np.all(np.diff(a[np.argsort(x_cu)]) < 0)  # more Cu (smaller atom), smaller cell


def test_equation_of_state_of_pure_copper():
    # EMT copper: a0 = 3.59 A and B = 134 GPa (ASE's EMT equation-of-state tutorial value);
    # experiment: 3.61 A and 140 GPa.
    atoms = bulk("Cu", "fcc", a=3.8)
    make_alloy_data.relax(atoms)
    volume, _, modulus = make_alloy_data.equation_of_state(atoms)
    assert (4 * volume) ** (1 / 3) == pytest.approx(3.59, abs=0.01)
    assert modulus == pytest.approx(134, abs=4)


def test_shipped_alloys_are_sane():
    alloys = load_alloys()
    assert alloys.n_rows > 2000
    mixing = alloys.numeric("mixing_energy_eV_per_atom")
    stable = alloys.numeric("stable")
    assert 0.2 < stable.mean() < 0.8  # both classes well represented
    assert np.array_equal(stable, (mixing < 0).astype(float))
    fractions = np.column_stack([alloys.numeric(f"x_{e}") for e in make_alloy_data.ELEMENTS])
    assert np.allclose(fractions.sum(axis=1), 1, atol=1e-3)
    assert np.all(
        (alloys.numeric("bulk_modulus_GPa") > 30) & (alloys.numeric("bulk_modulus_GPa") < 350)
    )
    assert np.all(
        (alloys.numeric("lattice_constant_A") > 3.4) & (alloys.numeric("lattice_constant_A") < 4.2)
    )


def test_element_table_has_every_alloy_element_and_no_gaps():
    table = load_element_table()
    assert set(make_alloy_data.ELEMENTS) <= set(table.symbols)
    assert np.all(np.isfinite(table.values))
    cu = table.values[table.symbols.index("Cu")]
    assert cu[table.properties.index("atomic_number")] == 29
    assert cu[table.properties.index("ionisation_energy_eV")] == pytest.approx(7.726, abs=1e-3)
