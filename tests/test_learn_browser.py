"""Notebooks 10 and 11 in Voila: a bar click changes the scatter; studies run when asked."""

from __future__ import annotations

import pytest
from browser_helpers import wait_until
from conftest import error_outputs, real_console_errors
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.browser

_TEXT_CHANGED = "([el, text]) => el.innerText !== text"


def _wait_until_changed(page, element, text: str, timeout_ms: int) -> bool:
    try:
        page.wait_for_function(_TEXT_CHANGED, arg=[element, text], timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


def test_click_a_feature_bar_changes_the_scatter(open_app):
    page = open_app("10_property_prediction_importance.ipynb", wait_for=".mi-importance-explorer")
    label = page.locator(".mi-importance-mae").first
    page.wait_for_function(
        "el => el.innerText.includes('MAE')", arg=label.element_handle(), timeout=60_000
    )
    first = label.inner_text()
    bars = page.locator(".mi-importance-bars").first
    # The chart (20+ px per bar) is taller than the window: bring its top, the largest bars,
    # into view.
    bars.evaluate("el => el.scrollIntoView({block: 'start'})")
    box = bars.bounding_box()
    assert box is not None and box["height"] > 200 and box["y"] > -5
    scatter = page.locator(".mi-importance-scatter").first
    scatter_before = scatter.screenshot()
    handle = label.element_handle()
    changed = None
    # Bars are sorted with the largest on top and start right of the ~190 px of labels; try
    # points down the upper part of the chart, just right of the axis.
    for dy in range(45, 245, 10):
        page.mouse.click(box["x"] + 0.52 * box["width"], box["y"] + dy)
        if _wait_until_changed(page, handle, first, 2_000):
            changed = label.inner_text()
            break
    assert changed is not None, "no click on the bar chart changed the selected feature"
    assert changed.split(":")[0] != first.split(":")[0]
    # the scatter redraws after the label: wait for its pixels to change
    assert wait_until(
        page, lambda: scatter.screenshot() != scatter_before, raise_on_timeout=False
    ), "the scatter plot did not redraw"
    # the model comparison before the app runs only when asked, and then prints into the page
    assert page.get_by_text("(CV MAE in meV/atom)").count() == 0
    page.get_by_role("button", name="Compare six models by 5-fold CV").click()
    page.get_by_text("(CV MAE in meV/atom)").wait_for(state="visible", timeout=120_000)
    assert page.get_by_text("Done in").count() == 1
    assert error_outputs(page) == []
    assert real_console_errors(page) == []


def test_model_choice_lab_opens_idle_and_runs_a_study_when_asked(open_app):
    page = open_app("11_model_choice_and_hyperparameters.ipynb", wait_for=".mi-model-choice")
    summary = page.get_by_text("Press a button to run a study.")
    summary.wait_for(state="visible", timeout=60_000)
    page.get_by_role("button", name="Grid vs random search").click()
    page.get_by_text("distinct gamma values tried").wait_for(state="visible", timeout=120_000)
    assert page.get_by_text("grid 2, random 16").count() == 1
    assert error_outputs(page) == []
    assert real_console_errors(page) == []


def test_a_running_study_can_be_stopped_and_the_lab_stays_usable(open_app):
    page = open_app("11_model_choice_and_hyperparameters.ipynb", wait_for=".mi-model-choice")
    page.get_by_text("Press a button to run a study.").wait_for(state="visible", timeout=60_000)
    page.get_by_role("button", name="Network depth").click()
    stop = page.locator(".mi-model-choice .mi-stop")
    stop.wait_for(state="visible", timeout=120_000)  # offered while the study runs
    stop.click()
    page.get_by_text("Stopped.").wait_for(state="visible", timeout=120_000)
    stop.wait_for(state="hidden", timeout=60_000)
    page.get_by_role("button", name="Grid vs random search").click()  # still usable
    page.get_by_text("distinct gamma values tried").wait_for(state="visible", timeout=180_000)
    assert error_outputs(page) == []
    assert real_console_errors(page) == []
