"""Notebook 10 in Voila: clicking a feature bar changes the before/after scatter."""

from __future__ import annotations

import pytest
from browser_helpers import wait_for_change, wait_for_idle, wait_for_stable, wait_until
from conftest import error_outputs, real_console_errors

pytestmark = pytest.mark.browser


def test_click_a_feature_bar_changes_the_scatter(open_app):
    page = open_app("10_property_prediction_importance.ipynb", wait_for=".mi-importance-explorer")
    label = page.locator(".mi-importance-mae").first
    label.wait_for(state="visible", timeout=60_000)
    wait_for_idle(page)
    first = label.inner_text()
    assert "MAE" in first
    bars = page.locator(".mi-importance-bars").first
    bars.scroll_into_view_if_needed()
    wait_for_stable(page, bars.bounding_box)
    box = bars.bounding_box()
    scatter = page.locator(".mi-importance-scatter").first
    scatter_before = scatter.screenshot()
    assert box is not None and box["height"] > 200
    changed = None
    # Bars are sorted with the largest on top; try points down the upper part of the chart.
    for dy in range(40, 200, 7):
        for fx in (0.45, 0.5):
            page.mouse.click(box["x"] + fx * box["width"], box["y"] + dy)
            wait_until(
                page, lambda: label.inner_text() != first, timeout_s=2, raise_on_timeout=False
            )
            if label.inner_text() != first:
                changed = label.inner_text()
                break
        if changed:
            break
    assert changed is not None, "no click on the bar chart changed the selected feature"
    wait_for_change(page, scatter.screenshot, scatter_before, quiet_s=0.5)
    assert scatter.screenshot() != scatter_before, "the scatter plot did not redraw"
    feature_before = first.split(":")[0]
    assert changed.split(":")[0] != feature_before
    assert error_outputs(page) == []
    assert real_console_errors(page) == []
