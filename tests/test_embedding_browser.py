"""Lab 08 in Voila: lasso atoms on the TS-LPP map and see the 3D view change."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import wait_for_animation_frame, wait_for_change, wait_for_settled

NOTEBOOK = "08_tslpp_structure_analysis.ipynb"
ARTIFACTS = Path(__file__).parent / "artifacts"
ARTIFACTS_WANTED = bool(os.environ.get("MI_LAB_SCREENSHOTS"))  # to look at the app


def _pixels(locator) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"), dtype=float)


def _lasso(page, box: dict) -> None:
    """Drag a closed loop around most of the left (TS-LPP) figure's plot area."""
    left, top = box["x"] + 100, box["y"] + 50
    right, bottom = box["x"] + box["width"] / 2 - 70, box["y"] + box["height"] - 70
    corners = [(left, top), (right, top), (right, bottom), (left, bottom), (left, top + 5)]
    page.mouse.move(*corners[0])
    page.mouse.down()
    for x, y in corners[1:]:
        page.mouse.move(x, y, steps=15)
        wait_for_animation_frame(page)
    page.mouse.up()


@pytest.mark.browser
def test_lasso_on_the_map_highlights_atoms_in_3d(open_app):
    page = open_app(NOTEBOOK, wait_for=".mi-structure-map")
    view = page.locator(".mi-structure-view").first
    view.wait_for(state="visible", timeout=60_000)
    view.scroll_into_view_if_needed()
    page.locator(".mi-structure-view canvas").first.wait_for(state="attached", timeout=60_000)
    wait_for_settled(page, view.screenshot)  # NGL loads, then re-fits itself after ~1 s
    before = _pixels(view)
    assert before.std() > 5, "the 3D view is blank"

    maps = page.locator(".mi-maps-pane").first
    maps.scroll_into_view_if_needed()
    _lasso(page, maps.bounding_box())
    wait_for_change(page, view.screenshot, before, min_fraction=0.01)  # callback -> redraw
    after = _pixels(view)
    if ARTIFACTS_WANTED:
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(".mi-structure-map").first.screenshot(path=str(ARTIFACTS / "lab08.png"))

    changed = np.abs(after - before).sum(axis=2) > 30
    assert changed.mean() > 0.01, f"only {changed.mean():.2%} of the 3D view changed"
    assert not page.locator(".mi-error-banner").first.is_visible()
