"""Lab 06 in Voila and headless Chromium: the Si cell is drawn in 3D with the feature bars,
and pressing Rotate redraws the atoms while the page reports unchanged features."""

from __future__ import annotations

import pytest
from browser_helpers import changed_fraction, ngl_screenshot, non_white_fraction, wait_until
from conftest import error_outputs

NOTEBOOK = "06_ml_potentials.ipynb"
pytestmark = pytest.mark.browser


def test_atoms_and_features_draw_and_rotation_keeps_the_features(open_app, screenshot_on_failure):
    page = open_app(NOTEBOOK, wait_for=".mi-potential-lab")
    screenshot_on_failure(page)
    app = page.locator(".mi-potential-lab").first
    app.get_by_text("symmetry functions, G1, 12 radial G2").first.wait_for(timeout=120_000)
    canvas = page.locator(".mi-structure-view canvas").first
    canvas.wait_for(state="visible", timeout=120_000)
    page.locator(".mi-structure-view").first.scroll_into_view_if_needed()  # NGL is clipped
    wait_until(page, lambda: non_white_fraction(ngl_screenshot(page)) > 0.05,
               timeout_s=120, message="atoms drawn")  # fmt: skip
    before = ngl_screenshot(page)
    app.get_by_role("button", name="Rotate").first.click()
    app.get_by_text("Largest change of any symmetry function").first.wait_for(timeout=60_000)
    wait_until(page, lambda: changed_fraction(before, ngl_screenshot(page)) > 0.01,
               timeout_s=120, message="3D view redrawn after the rotation")  # fmt: skip
    text = app.get_by_text("Largest change of any symmetry function").first.inner_text()
    assert "e-1" in text  # round-off, e.g. 3.6e-15
    assert error_outputs(page) == []
