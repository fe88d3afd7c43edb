"""Lab 04 in Voila: step the Bayesian-optimisation loop and see the plots change."""

from __future__ import annotations

import pytest
from browser_helpers import changed_fraction, wait_for_change, wait_for_idle

from tests.conftest import error_outputs, real_console_errors

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _plot(page, css: str):
    element = page.locator(f".{css}").first
    element.locator("canvas").first.wait_for(state="visible", timeout=60_000)
    return element


def test_lab04_step_changes_the_posterior_and_the_status(open_app):
    page = open_app("04_bayesian_optimization.ipynb", wait_for=".mi-bo-lab")
    plot = _plot(page, "mi-bo-intuition-plot")
    wait_for_idle(page)
    status = page.locator(".mi-bo-status")
    status.get_by_text("3 measured").wait_for(timeout=30_000)
    before = plot.screenshot()
    page.locator(".mi-bo-step button, button.mi-bo-step").first.click()
    status.get_by_text("4 measured").wait_for(timeout=30_000)
    wait_for_change(page, plot.screenshot, before, min_fraction=0.002)  # the redraw lands
    assert changed_fraction(before, plot.screenshot()) > 0.002
    page.locator(".mi-bo-run-n, .mi-bo-run-n button").first.click()
    status.get_by_text("14 measured").wait_for(timeout=60_000)
    # the grain-boundary tab: its map and curve draw and change with a step
    page.locator(".mi-bo-tabs .lm-TabBar-tab, .mi-bo-tabs .p-TabBar-tab").nth(1).click()
    curve = _plot(page, "mi-bo-curve")
    tiles = _plot(page, "mi-bo-map")
    wait_for_idle(page)
    before_curve, before_map = curve.screenshot(), tiles.screenshot()
    page.locator(".mi-bo-run-n, .mi-bo-run-n button").first.click()
    status.get_by_text("13 measured").wait_for(timeout=60_000)
    wait_for_change(page, tiles.screenshot, before_map, min_fraction=0.002)
    wait_for_idle(page)
    assert changed_fraction(before_map, tiles.screenshot()) > 0.002
    assert changed_fraction(before_curve, curve.screenshot()) > 0.0005
    assert "fit" in page.locator(".mi-bo-timing").inner_text()
    assert error_outputs(page) == []
    assert real_console_errors(page) == []
