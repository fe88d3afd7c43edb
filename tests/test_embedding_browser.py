"""Lab 08 in Voila: lasso atoms on the TS-LPP map and see the 3D view change; the layout."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import wait_until
from conftest import wait_for_voila

NOTEBOOK = "08_tslpp_structure_analysis.ipynb"
ARTIFACTS = Path(__file__).parent / "artifacts"
ARTIFACTS_WANTED = bool(os.environ.get("MI_LAB_SCREENSHOTS"))  # to look at the app
pytestmark = pytest.mark.browser


def _pixels(locator) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"), dtype=float)


def _lasso(page, box: dict) -> None:
    """Drag a closed loop around most of the top (TS-LPP) figure's plot area."""
    left, top = box["x"] + 90, box["y"] + 45
    right, bottom = box["x"] + box["width"] - 40, box["y"] + box["height"] / 2 - 60
    corners = [(left, top), (right, top), (right, bottom), (left, bottom), (left, top + 5)]
    page.mouse.move(*corners[0])
    page.mouse.down()
    for x, y in corners[1:]:
        page.mouse.move(x, y, steps=15)
    page.mouse.up()


def _open(voila_server, browser_context, width: int, height: int):
    page = browser_context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(voila_server.url(NOTEBOOK), wait_until="domcontentloaded", timeout=120_000)
    try:
        wait_for_voila(page)
        # Voila shows cells as they run: the app comes after the map is fitted (slow under load)
        page.locator(".mi-structure-map").first.wait_for(state="visible", timeout=300_000)
        page.locator(".mi-structure-view canvas").first.wait_for(state="visible", timeout=120_000)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"lab08_open_{width}.png"), full_page=True)
        page.close()
        raise
    return page


def test_lasso_on_the_map_highlights_atoms_in_3d(voila_server, browser_context):
    page = _open(voila_server, browser_context, 1400, 1000)
    try:
        view = page.locator(".mi-structure-view").first
        view.scroll_into_view_if_needed()
        wait_until(page, lambda: _pixels(view).std() > 5, message="a drawn (not blank) 3D view")
        before = _pixels(view)
        maps = page.locator(".mi-maps-pane").first
        maps.scroll_into_view_if_needed()
        _lasso(page, maps.bounding_box())

        def changed() -> float:
            return float((np.abs(_pixels(view) - before).sum(axis=2) > 30).mean())

        wait_until(page, lambda: changed() > 0.01, message="the 3D view recoloured (1 % of pixels)")
        if ARTIFACTS_WANTED:
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator(".mi-structure-map").first.screenshot(path=str(ARTIFACTS / "lab08.png"))
        assert not page.locator(".mi-error-banner").first.is_visible()
    finally:
        page.close()


def _layout_problems(page) -> list[str]:
    """What is wrong with lab 08's layout at the page's size (empty when nothing is)."""
    width = page.viewport_size["width"]

    def box(selector: str) -> dict:
        return page.locator(f".mi-structure-map {selector}").first.bounding_box()

    controls, maps, view = box(".mi-controls"), box(".mi-maps-pane"), box(".mi-structure-view")
    inside = ", ".join(
        f".mi-structure-map .mi-controls {tag}" for tag in ("> *", "input", "button", "select")
    )
    edges = page.evaluate(
        "(sel) => Array.from(document.querySelectorAll(sel))"
        ".map(e => [e.getBoundingClientRect().right, e.tagName + '.' + e.className])",
        inside,
    )
    clipped = page.evaluate(
        """() => Array.from(document.querySelectorAll('.mi-structure-map .mi-controls > *'))
             .filter(e => e.scrollWidth > e.clientWidth + 2).length"""
    )
    checks = {
        f"a control sticks out of its column: {max(edges)}": max(right for right, _ in edges)
        <= controls["x"] + controls["width"] + 1,
        f"{clipped} controls clipped": clipped == 0,
        "maps not right of the controls": maps["x"] >= controls["x"] + controls["width"] - 1,
        "3D view not right of the maps": view["x"] >= maps["x"] + maps["width"] - 1,
        "3D view not in the maps' row": view["y"] < maps["y"] + maps["height"] / 2,
        "3D view cut off": view["x"] + view["width"] <= width + 1,
        "3D view narrower than 280 px": view["width"] >= 280,
        "the page scrolls sideways": page.evaluate("() => document.documentElement.scrollWidth")
        <= width,
    }
    return [f"{problem} at {width} px" for problem, holds in checks.items() if not holds]


def test_controls_whole_and_3d_view_beside_the_maps(voila_server, browser_context):
    """Laptops and projectors: nothing cut off, the 3D view beside the maps, not below.

    The page opens at 1280x800 and is then narrowed to 1024x768 (one kernel for both sizes).
    """
    page = _open(voila_server, browser_context, 1280, 800)
    try:
        for width, height in [(1280, 800), (1024, 768)]:
            page.set_viewport_size({"width": width, "height": height})
            wait_until(
                page, lambda: not _layout_problems(page), timeout_s=30, raise_on_timeout=False
            )
            if ARTIFACTS_WANTED:
                ARTIFACTS.mkdir(exist_ok=True)
                app = page.locator(".mi-structure-map").first
                app.screenshot(path=str(ARTIFACTS / f"lab08_{width}.png"))
            assert _layout_problems(page) == []
    finally:
        page.close()
