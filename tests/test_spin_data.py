"""The lab-05 data: regenerated bit for bit, loaded and read back; CSV readers reject bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import run_script

from mi_widgets import MIInputError
from mi_widgets.spin import magnetization, spin_gap
from mi_widgets.spin.data import (
    KCU4P3O12_COUPLINGS,
    KCU4P3O12_G,
    KCU4P3O12_NOISE,
    load_kcu4p3o12,
    read_bonds_csv,
    read_magnetization_csv,
)

ROOT = Path(__file__).resolve().parents[1]


def test_script_regenerates_the_committed_files(tmp_path):
    run_script("make_spin_data.py", "--out", tmp_path)
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (ROOT / "data" / path.name).read_bytes(), path.name


def test_loaded_data_match_the_model_within_the_stated_noise():
    cluster, curves, chi = load_kcu4p3o12()
    assert cluster.names == ("J1", "J2", "J3", "J4") and cluster.is_connected
    clean = magnetization(
        cluster, KCU4P3O12_COUPLINGS, curves.fields, curves.temperatures, g=KCU4P3O12_G
    )
    residual = curves.m - clean
    assert residual.std() == pytest.approx(KCU4P3O12_NOISE, rel=0.1)
    assert clean[0, -1] == pytest.approx(KCU4P3O12_G / 2, abs=1e-6)  # saturated at 75 T, 1.4 K
    assert spin_gap(cluster, KCU4P3O12_COUPLINGS) == pytest.approx(2.87, abs=0.06)
    assert chi.chi.shape == chi.temperatures.shape == (50,)


def test_csv_readers_round_trip_and_reject_bad_files():
    _, curves, _ = load_kcu4p3o12()
    again = read_magnetization_csv(curves.to_csv())
    assert np.allclose(again.m, curves.m) and np.allclose(again.fields, curves.fields)
    two_columns = read_magnetization_csv("B,M\n0,0\n5,0.2\n")
    assert two_columns.temperatures.tolist() == [0.0]
    with pytest.raises(MIInputError, match="decrease at index 2"):
        read_magnetization_csv("B,M\n0,0\n5,0.2\n4,0.3\n")
    with pytest.raises(MIInputError, match="0 K or above"):
        read_magnetization_csv("T,B,M\n-1,0,0\n-1,5,0.2\n")
    with pytest.raises(MIInputError, match="other fields"):
        read_magnetization_csv("T,B,M\n1,0,0\n1,5,0.2\n2,0,0\n2,6,0.2\n")
    with pytest.raises(MIInputError, match="NaN"):
        read_magnetization_csv("B,M\n0,0\nnan,0.2\n")
    with pytest.raises(MIInputError, match="non-integer"):
        read_bonds_csv("i,j,name\n0,1,J\n0,x,J\n")
