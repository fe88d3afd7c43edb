"""BOLab driven from Python: every action, the plots' data, the error banner."""

from __future__ import annotations

import numpy as np
import pytest

from mi_widgets._errors import MIInputError
from mi_widgets.bayesopt.widgets import BOLab
from mi_widgets.viz.upload import UploadedFile


@pytest.fixture
def lab():
    app = BOLab(random_state=0)
    app.widget  # noqa: B018 - build the page as a notebook would
    return app


def test_intuition_step_moves_the_posterior_and_the_next_point(lab):
    before_next = list(lab.src_next.data["x"])
    before_mean = np.array(lab.src_post.data["mean"])
    record = lab.step()
    assert record.n_observations == 4 and lab.history[-1] is record
    assert record.indices[0] == pytest.approx(
        np.flatnonzero(lab.problems["intuition"].candidates[:, 0] == before_next[0])[0]
    )  # the point shown as "next" is the one measured
    assert not np.allclose(before_mean, lab.src_post.data["mean"])
    assert len(lab.src_obs.data["x"]) == 4
    assert "fit" in lab.timing.value and "score" in lab.timing.value
    # the band is mean +- 2 sd of the optimiser's posterior
    mean, std = lab.campaign.sampler.predict()
    np.testing.assert_allclose(lab.src_post.data["hi"], mean + 2 * std)


def test_run_reaches_the_forrester_minimum_and_reset_restarts(lab):
    lab.run(12)
    assert lab.campaign.n_observations == 15
    assert lab.campaign.history[-1].metric == pytest.approx(-6.018, abs=0.01)
    lab.reset()
    assert lab.campaign.n_observations == 3 and len(lab.history) == 1


@pytest.mark.slow
def test_sliders_and_acquisitions_change_the_model(lab):
    lab.step()
    narrow = np.array(lab.src_post.data["hi"]) - np.array(lab.src_post.data["lo"])
    lab.length_slider.value = 0.3  # the widget path: inside the banner
    wide = np.array(lab.src_post.data["hi"]) - np.array(lab.src_post.data["lo"])
    assert wide.mean() < narrow.mean()  # longer length scale: less uncertainty between points
    lab.set_noise(0.5)
    assert lab.campaign.sampler.params_.noise == 0.5
    for acq in ("TS", "EI"):
        lab.acq_select.value = acq
        assert lab.campaign.sampler.acquisition == acq
        assert np.isfinite(np.array(lab.src_acq.data["a"], float)).sum() > 100
    lab.learn_box.value = True
    assert lab.campaign.sampler.relearned_ and lab.length_slider.disabled
    assert "Re-learning hyperparameters" in lab.status.value
    lab.learn_box.value = False
    assert lab.campaign.sampler.learn_every == 0


@pytest.mark.slow
def test_grain_boundary_tab_curves_map_parity_and_structure(lab):
    lab.select("grain_boundary")
    assert lab.tabs.selected_index == 1
    lab.run(4)
    n, best = lab.campaign.curve()
    assert list(lab.src_curve["bo"].data["n"]) == list(n)
    assert np.all(np.diff(best) <= 0)  # minimising: the best energy only goes down
    gb = lab.problems["grain_boundary"]
    assert len(lab.src_map.data["c"]) == gb.candidates.shape[0]
    assert len(lab.src_map_obs.data["x"]) == lab.campaign.n_observations
    assert len(lab.src_map_next.data["x"]) == 1
    lab.colour_by("uncertainty")
    np.testing.assert_allclose(lab.src_map.data["c"], lab.campaign.sampler.predict()[1])
    lab.colour_select.value = "true"
    np.testing.assert_allclose(lab.src_map.data["c"], gb.values)
    lab.select("gp_vs_linear")
    assert "RMSE" in lab.parity_note.value and len(lab.src_parity["gp"].data["t"]) > 0
    lab.show_best_structure()
    assert lab.view is not None and "atoms" in lab.structure_note.value
    assert lab.structure_box.children == (lab.view,)


def test_compare_acquisitions_fills_median_curves(lab):
    result = lab.compare_acquisitions(n_steps=3, seeds=(0,))
    assert set(result) == {"EI", "PI", "UCB", "TS", "random", "n"}
    assert len(lab.src_compare["TS"].data["best"]) == 4


def test_own_table_propose_download_and_tell_back(lab):
    table = b"a,b,y\n0,0,1\n0,1,\n1,0,2\n1,1,\n0.5,0.5,\n0.2,0.8,\n"
    lab.table_upload.value = ()  # the upload path goes through the same handler
    lab._receive_table(UploadedFile(name="mine.csv", content=table))
    assert lab.tabs.selected_index == 3 and "mine.csv" in lab.own_status.value
    assert lab.own.n_observations == 2
    text = lab.propose(2)
    rows = text.splitlines()
    assert rows[0] == "row,a,b,y,predicted,predicted_sd" and len(rows) == 3
    assert "proposals.csv" in lab.download.value
    first = int(rows[1].split(",")[0])
    lab.tell_results(f"row,y\n{first},0.5\n".encode())
    assert lab.own.n_observations == 3 and lab.own.best_ == (first, 0.5)
    lab.step()  # on this tab Step proposes
    assert "Download" in lab.download.value


def test_errors_go_to_the_banner_and_keep_the_state(lab):
    lab.run_action(lab.propose)
    assert lab.banner.message == "Upload a candidate table first."
    before = lab.campaign.n_observations
    lab.run_action(lab.set_length_scale, -1.0)
    assert "length scale" in lab.banner.message
    assert lab.campaign.n_observations == before
    lab.run_action(lab._receive_table, UploadedFile(name="<b>x</b>.csv", content=b"x\n1\n"))
    assert "two rows" in lab.banner.message and "<b>" not in lab.own_status.value
    with pytest.raises(MIInputError, match="acquisition must be one of"):
        lab.set_acquisition("XX")
    with pytest.raises(MIInputError, match="tab must be one of"):
        lab.select("nope")


def test_file_names_are_escaped(lab):
    table = b"a,y\n0,1\n1,\n2,3\n"
    lab._receive_table(UploadedFile(name="<script>.csv", content=table))
    assert "<script>" not in lab.own_status.value and "&lt;script&gt;" in lab.own_status.value
