"""Lab 07 in Voila and headless Chromium: the maps draw, the classifier tab shows the
interface in 3D, and recolouring it by adaptive CNA redraws the atoms."""

from __future__ import annotations

import pytest
from browser_helpers import changed_fraction, ngl_screenshot, non_white_fraction, wait_until
from conftest import error_outputs

NOTEBOOK = "07_local_structure_classification.ipynb"
pytestmark = pytest.mark.browser


def test_maps_draw_and_the_interface_recolours(open_app, screenshot_on_failure):
    page = open_app(NOTEBOOK, wait_for=".mi-local-structure-lab")
    screenshot_on_failure(page)
    app = page.locator(".mi-local-structure-lab").first
    text = app.get_by_text("How well each map separates the classes").first
    text.wait_for(timeout=120_000)
    assert "averaged" in text.inner_text()
    app.locator(".lm-TabBar-tab, .p-TabBar-tab", has_text="Classifier + reject").first.click()
    canvas = page.locator(".mi-structure-view canvas").first
    canvas.wait_for(state="visible", timeout=120_000)
    wait_until(page, lambda: non_white_fraction(ngl_screenshot(page)) > 0.05,
               timeout_s=120, message="atoms drawn")  # fmt: skip
    before = ngl_screenshot(page)
    page.locator(".mi-local-structure-lab select").last.select_option("adaptive CNA")
    wait_until(page, lambda: changed_fraction(before, ngl_screenshot(page)) > 0.01,
               timeout_s=120, message="3D view recoloured")  # fmt: skip
    app.get_by_text("colour: adaptive CNA").first.wait_for(timeout=60_000)
    assert error_outputs(page) == []
