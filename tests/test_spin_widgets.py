"""HamiltonianLab driven from Python: forward redraw, searches, analyses, uploads, errors."""

from __future__ import annotations

import numpy as np
import pytest

from mi_widgets import MIInputError
from mi_widgets.spin import SpinCluster, magnetization, spin_gap
from mi_widgets.spin.data import KCU4P3O12_COUPLINGS, make_magnetization_data
from mi_widgets.spin.widgets import HamiltonianLab


@pytest.fixture
def app():
    lab = HamiltonianLab(random_state=0)
    lab.widget  # noqa: B018 - builds the page
    return lab


def test_sliders_redraw_the_forward_model(app):
    app.set_couplings(KCU4P3O12_COUPLINGS)
    app.t_slider.value = 0.0
    app.sliders["J1"].value = -8.0
    app.sliders["J1"].value = -8.54
    m = np.asarray(app.src_m.data["y"])
    b = np.asarray(app.src_m.data["x"])
    expected = magnetization(app.cluster, KCU4P3O12_COUPLINGS, b, 0.0, g=app.g_slider.value)
    assert m == pytest.approx(expected)
    gap = spin_gap(app.cluster, KCU4P3O12_COUPLINGS)
    assert f"{gap:.3f} meV" in app.forward_text.value
    assert len(app.src_levels.data["ys"]) == 40


def test_step_advances_every_search_and_reset_forgets(app):
    app.step(3)
    lengths = {m: t.energy.size for m, t in app.traces.items()}
    assert lengths["random"] == lengths["grid"] == 3
    assert all(v == 3 for v in lengths.values())
    assert len(app.src_trace["random"].data["y"]) == 3
    assert app.best_fit() is not None and "best:" in app.search_text.value
    app.use_best_fit()
    assert app.couplings == pytest.approx(app.estimator.as_dict(app.best_fit()[1]), abs=0.01)
    app.reset()
    assert all(t.energy.size == 0 for t in app.traces.values())


def test_bad_actions_go_to_the_banner_and_keep_the_state(app):
    app.reset()
    app.run_action(app.use_best_fit)
    assert "no search has run yet" in app.banner.message
    before = app.data
    app.run_action(app.load_curves, b"B,M\n0,0\n5,0.1\n3,0.2\n", "bad.csv")
    assert "bad.csv" in app.banner.message and "decrease at index 2" in app.banner.message
    assert app.data is before


def test_uploads_replace_the_cluster_and_curves():
    lab = HamiltonianLab(random_state=1, budget=20)
    lab.load_bonds(b"i,j,name\n0,1,J\n1,2,K\n", "three.csv")
    assert list(lab.sliders) == ["J", "K"]
    cluster = SpinCluster(3, [(0, 1, "J"), (1, 2, "K")])
    data = make_magnetization_data(cluster, {"J": -3.0, "K": -1.0}, np.arange(0, 50, 2.0), [2.0])
    lab.load_curves(data.to_csv(), "three_curves.csv")
    assert lab.data.m.shape == (1, 25)
    lab.run()
    assert all(t.energy.size <= 20 for t in lab.traces.values())
    with pytest.raises(MIInputError, match="up to 12 spins"):
        lab.load_bonds("i,j,name\n" + "".join(f"{i},{i + 1},J\n" for i in range(13)), "big.csv")


@pytest.mark.slow
def test_analyses_fill_the_plots_on_a_small_model():
    cluster = SpinCluster(2, [(0, 1, "J")])
    data = make_magnetization_data(
        cluster, {"J": -4.0}, np.linspace(0, 80, 41), [2.0, 8.0], noise=0.02, seed=3
    )
    lab = HamiltonianLab(cluster, data, random_state=0)
    lab.compute_elbow(np.logspace(-1, 3, 5))
    assert set(lab.elbows) == {"l1", "l2"} and len(lab.src_elbow["l1"].data["x"]) == 5
    lab.compute_free_energy(n_sweeps=60)
    assert len(lab.src_free.data["x"]) == 9 and "F(" in lab.analysis_text.value
    lab.compute_posterior(n=40)
    assert len(lab.src_pair.data["x"]) == 40
    mean, _ = lab.posterior.gap
    assert mean == pytest.approx(4.0, abs=0.2)
