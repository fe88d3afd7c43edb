"""PhaseDiagramLab driven from Python, and in the browser (Voila): Step changes the plots."""

from __future__ import annotations

import html

import numpy as np
import pytest
from browser_helpers import wait_until
from widget_helpers import upload as upload_file

from mi_widgets._errors import MIInputError
from mi_widgets.active.widgets import PhaseDiagramLab, plot_coordinates


@pytest.fixture
def lab():
    return PhaseDiagramLab("eutectic", n_initial=5, random_state=0)


def upload(lab, content: bytes, name: str) -> None:
    """Deliver a file through the lab's upload button, as the browser does."""
    upload_file(lab.upload, name, content)


def test_step_measures_the_highlighted_proposal(lab):
    proposed = lab.proposals.tolist()
    assert len(proposed) == 1 and lab.history[-1].n_observations == 5
    colors_before = list(lab.map_source.data["color"])
    lab.step_button.click()
    assert list(lab.history[-1].indices) == proposed
    assert lab.history[-1].n_observations == 6
    assert len(lab.f1_us.data["n"]) == 2
    assert list(lab.proposal_source.data["x"]) == [lab.px[lab.proposals[0]]]
    lab.run(15)
    assert lab.history[-1].n_observations == 21
    assert list(lab.map_source.data["color"]) != colors_before
    n_random, f1_random = lab.random_curve()  # the baseline keeps up with the samples
    assert n_random[-1] == 21 and np.isfinite(f1_random).all()
    assert list(lab.f1_random.data["n"]) == n_random.tolist()
    assert lab.banner.message == ""
    assert "phase_sampling_history.csv" in lab.history_download.value
    lab.reset_button.click()
    assert lab.history[-1].n_observations == 5 and len(lab.history) == 1
    assert lab.proposals.tolist() == proposed  # the same seeded start


def test_uncertainty_map_has_a_colour_bar_spanning_its_values(lab):
    assert not lab.uncertainty_bar.visible  # the phase view shows classes, not a scale
    lab.set_view("uncertainty")
    u = lab.sampler.uncertainty_
    assert lab.uncertainty_bar.visible
    assert lab.uncertainty_mapper.high == pytest.approx(u.max())
    darkest = lab.map_source.data["color"][int(np.argmax(u))]
    assert darkest == lab.uncertainty_mapper.palette[-1]  # the scale is used in full
    lab.reveal_truth(True)
    assert not lab.uncertainty_bar.visible
    lab.reveal_truth(False)
    lab.set_view("phases")
    assert not lab.uncertainty_bar.visible


def test_axis_titles_carry_units_and_the_legend_covers_no_data(lab):
    assert lab.map_figure.xaxis[0].axis_label == "x_B (mole fraction)"
    assert lab.map_figure.yaxis[0].axis_label == "T (K)"
    assert "<th style='padding:0 4px'>T (K)</th>" in lab.proposal_table.value
    assert lab.curve_figure.legend[0] in lab.curve_figure.below


def test_views_truth_and_batches(lab):
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
    n = lab.history[-1].n_observations
    lab.step()
    assert lab.history[-1].n_observations == n + 4
    assert np.isfinite(lab.history[-1].baseline_metric)  # random also took 4


def test_changing_estimator_keeps_measurements(lab):
    lab.run(5)
    measured = lab.sampler.measured_mask.sum()
    history = lab.history
    lab.estimator_choice.value = "label_spreading"
    assert lab.sampler.estimator == "label_spreading"
    assert lab.campaign.baseline.sampler.estimator == "label_spreading"
    assert lab.sampler.measured_mask.sum() == measured and lab.history == history
    assert lab.sampler.order_ == lab.campaign.observed_indices.tolist()


def test_dense_graph_is_offered_for_small_diagrams_only(lab):
    lab.graph_choice.value = "rbf"
    assert "dense RBF graph is offered up to 3000" in lab.banner.message
    assert lab.graph_choice.value == "knn" and lab.sampler.graph == "knn"
    lab.load_csv(b"phase,x\na,0\nb,1\n" + b"".join(b",%d\n" % i for i in range(2, 40)), "s.csv")
    lab.graph_choice.value = "rbf"
    assert lab.banner.message == "" and lab.sampler.graph == "rbf"
    assert len(lab.proposals) == 1


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
    upload(lab, csv, "mine.csv")
    assert lab.banner.message == ""
    assert not lab.has_truth and len(lab.proposals) == 1
    assert lab.history_download.value == ""  # nothing measured here: no history
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
        (b"phase,x,T\n,0,1\n,1,1\n", "has a phase yet"),
    ],
)
def test_bad_upload_shows_banner_and_keeps_the_lab(lab, content, message):
    lab.step()
    history = lab.history
    upload(lab, content, "bad.csv")
    assert message in lab.banner.message
    if message not in ("Only one phase", "has a phase yet"):  # valid files are loaded
        assert lab.diagram.name == "eutectic" and lab.history == history
    with pytest.raises(MIInputError, match=message):  # the same sentence from Python
        lab.load_csv(content, "bad.csv")


def test_csv_without_phase_column_is_refused_not_scored(lab):
    lab.run(3)
    history = lab.history
    upload(lab, b"x,T\n0.1,900\n0.2,900\n0.3,950\n", "coords.csv")
    assert "has no phase column" in lab.banner.message
    assert lab.has_truth and lab.history == history and "Macro-F1" in lab.status.value


def test_file_name_and_csv_strings_are_escaped(lab):
    name = "<img src=x onerror=alert(1)>"
    column = "<b onmouseover=alert(2)>T</b>"
    phase = "<script>alert(3)</script>"
    content = f"phase,x,{column}\n{phase},0,0\nbeta,1,1\n,0.5,0.5\n,0.2,0.7\n".encode()
    upload(lab, content, name)
    assert lab.banner.message == ""
    shown = lab.status.value + lab.legend.value + lab.proposal_table.value
    assert html.escape(name) in lab.status.value and name not in shown
    assert html.escape(phase) in lab.legend.value and phase not in shown
    assert html.escape(column) in lab.proposal_table.value and column not in shown
    upload(lab, b"phase\nL\n", name)  # the name in an error message is escaped too
    assert html.escape(name) in lab.banner._text.value
    assert name not in lab.banner._text.value


def test_too_many_proposals_and_run_on_own_data(lab):
    lab.load_csv(b"phase,x\na,0\nb,1\n,0.5\n,0.7\n", "small.csv")
    lab.batch_size.value = 3
    assert "more than the 2 unmeasured" in lab.banner.message
    lab.run_button.click()
    assert "Run N needs true labels" in lab.banner.message
    with pytest.raises(MIInputError, match="Run N needs true labels"):
        lab.run(2)


def test_settings_from_the_client_are_validated(lab):
    with pytest.raises(Exception):  # noqa: B017 - traitlets refuses unknown options
        lab.score_choice.value = "import os"
    lab.run_action(lab._on_diagram, "not-a-diagram")
    assert "diagram must be one of" in lab.banner.message
    with pytest.raises(MIInputError, match="diagram must be one of"):
        lab.load_diagram("not-a-diagram")
    assert lab.diagram.name == "eutectic"


def test_random_state_seeds_the_start():
    a = PhaseDiagramLab("eutectic", random_state=3)
    b = PhaseDiagramLab("eutectic", random_state=3)
    assert a.history[0].indices == b.history[0].indices
    assert PhaseDiagramLab("eutectic", random_state=4).history[0].indices != a.history[0].indices
    with pytest.raises(MIInputError, match="random_state"):
        PhaseDiagramLab("eutectic", random_state="0")


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
    for n_measured in (6, 7, 8):
        page.get_by_role("button", name="Step").click()
        page.wait_for_function(
            f"() => document.querySelector('.mi-pd-status').innerText"
            f".includes('{n_measured} measured')",
            timeout=60_000,
        )
    wait_until(page, lambda: page.locator(".mi-pd-map").screenshot() != map_before,
               timeout_s=60, message="map redrawn")  # fmt: skip
    wait_until(page, lambda: page.locator(".mi-pd-curve").screenshot() != curve_before,
               timeout_s=60, message="curve redrawn")  # fmt: skip
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
