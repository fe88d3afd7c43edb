"""Computed phase diagrams (convex hull of Gibbs energies) and the phase CSV files."""

from __future__ import annotations

import numpy as np
import pytest

from mi_widgets._errors import MIInputError
from mi_widgets._reference import reference_dir
from mi_widgets.active.io import load_phase_diagram, proposals_csv, read_phase_csv
from mi_widgets.active.thermo import (
    GAS_CONSTANT,
    SolutionPhase,
    binary_phase_labels,
    builtin_diagram,
)


def test_miscibility_gap_matches_analytic_binodal():
    # symmetric regular solution W x(1-x): the binodal solves ln(x/(1-x)) = W (2x-1) / (R T)
    w, t = 20000.0, 1000.0
    phase = SolutionPhase("a", (0.0, 0.0), (0.0, 0.0), (w,))
    x = np.linspace(0.0, 0.45, 20001)[1:]  # (the trivial root x = 1/2 is excluded)
    residual = np.log(x / (1 - x)) - w * (2 * x - 1) / (GAS_CONSTANT * t)
    binodal = x[np.argmin(np.abs(residual))]
    grid = np.linspace(0, 1, 401)
    labels = binary_phase_labels([phase], grid, np.array([t]), resolution=4000)[0]
    assert set(labels) == {"a", "a+a"}  # one phase twice inside the gap
    gap = grid[labels == "a+a"]
    assert gap.min() == pytest.approx(binodal, abs=0.003)
    assert gap.max() == pytest.approx(1 - binodal, abs=0.003)


def test_tie_line_is_a_common_tangent():
    # at the ends of a two-phase tie line both phases have the same chemical potentials
    d = builtin_diagram("eutectic", n_x=2001, n_t=1, t_range=(1100.0, 1100.0), resolution=4000)
    liquid, alpha = _eutectic_phases()[:2]
    two = np.flatnonzero(d.labels == "L+alpha")
    xa, xl = d.coordinates[two[0] - 1, 0], d.coordinates[two[-1] + 1, 0]

    def slope(phase, x0, h=1e-6):
        g = phase.gibbs(np.array([[1 - x0 - h, x0 + h], [1 - x0 + h, x0 - h]]), 1100.0)
        return (g[0] - g[1]) / (2 * h)

    chord = (
        liquid.gibbs(np.array([[1 - xl, xl]]), 1100.0)[0]
        - alpha.gibbs(np.array([[1 - xa, xa]]), 1100.0)[0]
    ) / (xl - xa)
    assert slope(alpha, xa) == pytest.approx(chord, rel=0.01)
    assert slope(liquid, xl) == pytest.approx(chord, rel=0.01)


def _eutectic_phases():
    from mi_widgets.active.thermo import _binary_systems

    return _binary_systems()["eutectic"]


def test_eutectic_has_expected_regions_and_melting_points():
    d = builtin_diagram("eutectic", n_x=41, n_t=46, t_range=(600.0, 1500.0))
    labels = d.labels.reshape(46, 41)
    temps = np.linspace(600, 1500, 46)
    assert set(d.labels) == {"L", "alpha", "beta", "L+alpha", "L+beta", "alpha+beta"}
    # pure A melts at 1300 K, pure B at 1000 K (entropy of fusion model)
    assert labels[temps < 1300, 0].tolist() == ["alpha"] * int((temps < 1300).sum())
    assert set(labels[temps > 1300, 0]) == {"L"}
    assert set(labels[temps > 1000, -1]) == {"L"} and set(labels[temps < 1000, -1]) == {"beta"}
    # Gibbs phase rule in a binary at fixed T: at most two phases
    assert max(label.count("+") for label in d.labels) == 1


def test_peritectic_has_compounds_and_ternary_has_three_phase_regions():
    p = builtin_diagram("peritectic", n_x=61, n_t=31)
    assert {"gamma", "delta", "L+gamma", "delta+gamma"} <= set(p.labels)
    t = builtin_diagram("ternary", steps=40)
    counts = {k: sum(label.count("+") + 1 == k for label in t.labels) for k in (1, 2, 3)}
    assert all(v > 0 for v in counts.values())
    assert max(label.count("+") for label in t.labels) == 2  # phase rule: <= 3 phases
    assert {"alpha", "beta", "gamma", "tau", "L"} <= set(t.labels)


def test_builtin_data_files_match_the_model():
    for name in ("eutectic", "peritectic", "ternary"):
        stored = load_phase_diagram(name)
        computed = builtin_diagram(name)
        np.testing.assert_array_equal(stored.labels, computed.labels)
        np.testing.assert_allclose(stored.coordinates, computed.coordinates, atol=1e-9)


def test_script_regenerates_small_data(tmp_path):
    import importlib.util

    from mi_widgets._reference import REPO_ROOT

    spec = importlib.util.spec_from_file_location(
        "make_phase_diagrams", REPO_ROOT / "scripts" / "make_phase_diagrams.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    paths = module.main(["--out", str(tmp_path), "--small"])
    assert len(paths) == 4
    example = read_phase_csv(tmp_path / "phase_observations_example.csv")
    stored = read_phase_csv(REPO_ROOT / "data" / "phase_observations_example.csv")
    np.testing.assert_array_equal(example.labels, stored.labels)
    assert sum(v is not None for v in example.labels) == module.EXAMPLE_MEASURED
    ternary = read_phase_csv(tmp_path / "phase_diagram_ternary.csv")
    assert ternary.kind == "ternary" and len(ternary.labels) == 231
    np.testing.assert_array_equal(
        ternary.labels.astype(str), builtin_diagram("ternary", steps=20).labels
    )


def test_read_pdc_data_csv_and_cu_mg_zn(tmp_path):
    from test_phase_sampling import _pdc_toy_csv

    obs = read_phase_csv(_pdc_toy_csv(tmp_path))
    assert obs.coordinates.shape == (100, 2)
    assert sorted(v for v in obs.labels if v is not None) == [0, 0, 1, 2]
    cu = read_phase_csv(reference_dir("pdc", "Cu-Mg_Zn_850K.csv"))
    assert cu.kind == "ternary" and cu.coordinates.shape == (5151, 3)
    assert len(set(cu.labels)) == 22


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"phase\nL\n", "needs a phase column and at least one coordinate"),
        (b"phase,x,T\nL,0.1\n", "line 2 has 2 fields but the header has 3"),
        (b"phase,x,T\nL,0.1,hot\n", "column 'T' is not a number"),
        (b"phase,x,T\nL,0.1,nan\n", "is not finite"),
        (b"", "is empty"),
        (b"phase,x\n", "no candidate rows"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"x,T\n0.1,900\n0.2,950\n", "has no phase column: its first column 'x' holds numbers"),
        (b"x,T\n0,900\n1,950\n", "has no phase column"),
        (b"phase,x\nL,0\n0.5,1\n", "line 3 has the phase '0.5', a number"),
    ],
)
def test_bad_csv_gives_one_clear_message(content, message):
    with pytest.raises(MIInputError, match=message):
        read_phase_csv(content, name="mine.csv")


def test_phase_column_is_found_by_name_or_by_type():
    moved = read_phase_csv(b"x,T,phase\n0.1,900,L\n0.2,950,\n", name="m.csv")
    assert moved.columns == ("x", "T") and moved.labels.tolist() == ["L", None]
    np.testing.assert_array_equal(moved.coordinates, [[0.1, 900], [0.2, 950]])
    text = read_phase_csv(b"state,x\nL,0\nS,1\n", name="t.csv")  # names: the labels
    assert text.labels.tolist() == ["L", "S"] and text.columns == ("x",)
    codes = read_phase_csv(b"#phase,a,b\n9,0,0\n,0,250\n", name="c.csv")  # PDC's codes
    assert codes.labels.tolist() == [9, None]


def test_proposals_csv_round_trip():
    text = proposals_csv(
        np.array([[0.1, 900.0], [0.2, 950.0]]), ("x", "T"), [1, 0], np.array([0.3, 0.9])
    )
    assert text.splitlines() == [
        "rank,index,x,T,uncertainty",
        "1,1,0.2,950,0.9000",
        "2,0,0.1,900,0.3000",
    ]


def test_bad_thermo_input():
    with pytest.raises(MIInputError, match="name must be one of"):
        builtin_diagram("quaternary")
    with pytest.raises(MIInputError, match="between 0 and 1"):
        binary_phase_labels([], np.array([0.0, 1.5]), np.array([900.0]))
