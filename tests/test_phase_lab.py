"""PhaseDiagramLab driven from Python, and in the browser (Voila): Step changes the plots."""

from __future__ import annotations

import numpy as np
import pytest

from mi_widgets.active.widgets import PhaseDiagramLab, plot_coordinates


@pytest.fixture(scope="module")
def lab():
    return PhaseDiagramLab("eutectic", n_initial=5, seed=0)


def test_step_measures_the_highlighted_proposal(lab):
    lab.reset()
    proposed = lab.proposals.tolist()
    assert len(proposed) == 1 and lab.history[-1]["n_samples"] == 5
    colors_before = list(lab.map_source.data["color"])
    lab.step()
    assert lab.history[-1]["measured"] == proposed
    assert lab.history[-1]["n_samples"] == 6
    assert len(lab.f1_us.data["n"]) == 2
    assert list(lab.proposal_source.data["x"]) == [lab.px[lab.proposals[0]]]
    lab.run(15)
    assert lab.history[-1]["n_samples"] == 21
    assert list(lab.map_source.data["color"]) != colors_before
    assert lab.random_curve[-1][0] >= 21  # the baseline keeps up with the samples
    assert lab.banner.message == ""


def test_views_truth_and_batches(lab):
    lab.reset()
    lab.set_view("uncertainty")
    uncertainty_colors = list(lab.map_source.data["color"])
    lab.set_view("phases")
    assert list(lab.map_source.data["color"]) != uncertainty_colors
    assert max(lab.map_source.data["alpha"]) <= 1.0
    lab.reveal_truth(True)
    truth_colors = lab.map_source.data["color"]
    assert len(set(truth_colors)) == len(set(lab.truth))
    lab.reveal_truth(False)
    lab.batch_size.value = 4
    lab.batch_choice.value = "neighbour_exclusion"
    assert len(lab.proposals) == 4
    n = lab.history[-1]["n_samples"]
    lab.step()
    assert lab.history[-1]["n_samples"] == n + 4
    lab.batch_size.value = 1
    lab.batch_choice.value = "ranked"


def test_changing_estimator_keeps_measurements(lab):
    lab.reset()
    lab.run(5)
    measured = lab.sampler.labelled_mask.sum()
    lab.estimator_choice.value = "label_spreading"
    assert lab.sampler.estimator == "label_spreading"
    assert lab.sampler.labelled_mask.sum() == measured
    lab.estimator_choice.value = "label_propagation"


def test_ternary_is_drawn_in_a_triangle():
    lab = PhaseDiagramLab("ternary")
    x, y = lab.map_source.data["x"], lab.map_source.data["y"]
    assert min(y) == 0 and max(y) == pytest.approx(np.sqrt(3) / 2)
    assert min(x) == 0 and max(x) == 1
    assert len(lab.outline_source.data["x"]) == 4


def test_plot_coordinates_of_binary():
    from mi_widgets.active.thermo import builtin_diagram

    d = builtin_diagram("eutectic", n_x=3, n_t=2)
    px, py = plot_coordinates(d)
    np.testing.assert_array_equal(px, d.coordinates[:, 0])
    np.testing.assert_array_equal(py, d.coordinates[:, 1])


def test_own_data_gives_proposals_to_download(lab):
    csv = b"#phase, p1, p2\n" + b"\n".join(
        (f"{'a' if (i, j) == (0, 0) else 'b' if (i, j) == (9, 9) else ''},{i},{j}").encode()
        for i in range(10)
        for j in range(10)
    )
    lab.load_csv(csv, "mine.csv")
    assert lab.banner.message == ""
    assert not lab.has_truth and len(lab.proposals) == 1
    assert "data:text/csv;base64," in lab.download.value
    assert "Next proposals" in lab.proposal_table.value
    lab.batch_size.value = 3
    assert len(lab.proposals) == 3
    lab.batch_size.value = 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"phase\nL\n", "at least one coordinate column"),
        (b"phase,x,T\nL,0,1\nS,0,1\n,1,1\n", "are the same point"),
        (b"phase,x,T\nL,0,1\nL,1,1\n,0.5,1\n", "Only one phase"),
        (b"phase,x,T\nL,0,nan\nS,1,1\n", "not finite"),
    ],
)
def test_bad_upload_shows_banner_and_keeps_the_lab(content, message):
    lab = PhaseDiagramLab("eutectic")
    lab.step()
    history = list(lab.history)
    lab.load_csv(content, "bad.csv")
    assert message in lab.banner.message
    if "Only one phase" not in message:  # a valid file with one phase is loaded
        assert lab.diagram.name == "eutectic" and lab.history == history
    lab.reset()


def test_too_many_proposals_and_run_on_own_data():
    lab = PhaseDiagramLab("eutectic")
    lab.load_csv(b"phase,x\na,0\nb,1\n,0.5\n,0.7\n", "small.csv")
    lab.batch_size.value = 3
    assert "at most 2" in lab.banner.message
    lab.run(2)
    assert "Run N needs true labels" in lab.banner.message


def test_settings_from_the_client_are_validated(lab):
    lab.reset()
    with pytest.raises(Exception):  # noqa: B017 - traitlets refuses unknown options
        lab.score_choice.value = "import os"
    lab._on_diagram({"new": "not-a-diagram"})
    assert "diagram must be one of" in lab.banner.message


@pytest.mark.browser
def test_step_in_voila_changes_map_and_curve(open_app):
    page = open_app("09_phase_diagram_sampling.ipynb", wait_for=".mi-phase-lab")
    status = page.locator(".mi-pd-status")
    status.wait_for(state="visible", timeout=60_000)
    assert "5 measured" in status.inner_text()
    canvases = page.locator(".mi-pd-map canvas, .mi-pd-curve canvas")
    canvases.first.wait_for(state="attached", timeout=60_000)
    map_before = page.locator(".mi-pd-map").screenshot()
    curve_before = page.locator(".mi-pd-curve").screenshot()
    for _ in range(3):
        page.get_by_role("button", name="Step").click()
        page.wait_for_timeout(1000)
    page.wait_for_function(
        "() => document.querySelector('.mi-pd-status').innerText.includes('8 measured')",
        timeout=30_000,
    )
    page.wait_for_timeout(1000)
    assert page.locator(".mi-pd-map").screenshot() != map_before
    assert page.locator(".mi-pd-curve").screenshot() != curve_before
    assert "Macro-F1" in status.inner_text()
    from tests.conftest import error_outputs, real_console_errors

    assert not error_outputs(page)
    assert not real_console_errors(page)


def test_diagram_dropdown_follows_what_is_loaded():
    lab = PhaseDiagramLab("ternary")
    assert lab.diagram_choice.value == "ternary"
    lab.diagram_choice.value = "eutectic"
    assert lab.diagram.name == "eutectic" and lab.corner_source.data["text"] == []
    lab.load_csv(b"phase,x\na,0\nb,1\n,0.5\n", "mine.csv")
    assert lab.diagram_choice.value is None
    lab.diagram_choice.value = "eutectic"  # back to a built-in from the user's file
    assert lab.diagram.name == "eutectic" and lab.has_truth
