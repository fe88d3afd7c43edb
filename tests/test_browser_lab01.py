"""Lab 01 in Voila and headless Chromium: change the crystal, upload bad and huge files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import (
    changed_fraction,
    ngl_screenshot,
    non_white_fraction,
    png_array,
    wait_until,
)
from conftest import ARTIFACTS, error_outputs, wait_for_voila

from mi_widgets._limits import UPLOAD_LIMIT_BYTES

NOTEBOOK = "01_materials_data_with_ase.ipynb"
DOCS_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
pytestmark = pytest.mark.browser


@pytest.fixture
def lab(open_shared_app, screenshot_on_failure):
    page = open_shared_app(NOTEBOOK, wait_for=".mi-structure-explorer")
    screenshot_on_failure(page)
    page.locator(".mi-rdf-plot").first.wait_for(state="visible")
    page.locator(".mi-structure-info").first.wait_for(state="visible")
    _choose(page, "Si (diamond)", "Si216")
    _wait_until_atoms_fill_the_canvas(page)
    return page


def _choose(page, crystal: str, formula: str) -> None:
    page.locator(".mi-structure-explorer select").first.select_option(crystal)
    page.locator(".mi-structure-info", has_text=formula).first.wait_for(timeout=30_000)


def _info(page) -> str:
    return page.locator(".mi-structure-info").first.inner_text()


def test_changing_the_crystal_redraws_the_3d_view_and_the_rdf(lab):
    assert "Si216" in _info(lab)
    ngl_before = ngl_screenshot(lab)
    rdf_before = lab.locator(".mi-rdf-plot").first.screenshot()
    assert non_white_fraction(ngl_before) > 0.05, "the 3D view is blank or tiny"
    _choose(lab, "NaCl (rocksalt)", "Na108Cl108")
    wait_until(
        lab,
        lambda: changed_fraction(ngl_before, ngl_screenshot(lab)) > 0.02,
        message="the 3D view redrawn for NaCl",
    )
    rdf = lab.locator(".mi-rdf-plot").first
    wait_until(
        lab,
        lambda: changed_fraction(rdf_before, rdf.screenshot()) > 0.005,
        message="the g(r) plot redrawn for NaCl",
    )
    assert error_outputs(lab) == []


def _upload(page, name: str, content: bytes) -> None:
    """Click the upload button and pick a file, as a user does."""
    with page.expect_file_chooser() as chooser:
        page.locator(".mi-upload").first.click()
    chooser.value.set_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}]
    )


def test_malformed_upload_shows_the_banner_and_keeps_the_structure(lab):
    _upload(lab, "broken.cif", b"data_broken\n_cell_length_a oops\n")
    banner = lab.locator(".mi-error-banner").first
    banner.wait_for(state="visible", timeout=30_000)
    assert "broken.cif" in banner.inner_text() and "valid cif file" in banner.inner_text()
    assert "Si216" in _info(lab)
    _choose(lab, "Cu (fcc)", "Cu108")  # still usable
    assert not banner.is_visible()


def test_oversized_upload_gets_a_visible_message(lab):
    _upload(lab, "huge.xyz", b"0" * (UPLOAD_LIMIT_BYTES + 2**20))
    banner = lab.locator(".mi-error-banner").first
    banner.wait_for(state="visible", timeout=60_000)
    assert "the limit is 20.0 MB" in banner.inner_text()
    assert "Si216" in _info(lab)


def test_app_screenshot_looks_like_an_app(lab):
    """The picture in the README is this screenshot (refresh it with MI_LAB_SCREENSHOTS=1)."""
    _choose(lab, "ZnO (wurtzite)", "Zn54O54")
    lab.locator(".mi-structure-explorer .widget-toggle-button", has_text="Element").first.click()
    _wait_until_atoms_fill_the_canvas(lab)
    app = lab.locator(".mi-structure-explorer").first
    png = app.screenshot()
    assert non_white_fraction(ngl_screenshot(lab)) > 0.05
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "lab01_structure_explorer.png").write_bytes(png)
    if os.environ.get("MI_LAB_SCREENSHOTS"):
        (DOCS_IMAGES / "lab01_structure_explorer.png").write_bytes(png)


# --------------------------------------------------------------------------- 3D view under load
def _drawn_extent(png: bytes) -> tuple[float, float, float]:
    """Bounding box of the non-white pixels relative to the image: (width, height, drawn share)."""
    drawn = png_array(png).sum(axis=2) < 720
    if not drawn.any():
        return 0.0, 0.0, 0.0
    rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    height, width = drawn.shape
    return (cols[-1] - cols[0] + 1) / width, (rows[-1] - rows[0] + 1) / height, float(drawn.mean())


def _wait_until_atoms_fill_the_canvas(page, timeout_s: float = 120.0) -> tuple[float, float, float]:
    """Poll the NGL canvas until the atoms span most of it (or the time is up)."""
    canvas = page.locator(".mi-structure-view canvas").first
    canvas.wait_for(state="visible", timeout=int(timeout_s * 1000))
    extent = [(0.0, 0.0, 0.0)]

    def filled() -> bool:
        extent[0] = _drawn_extent(canvas.screenshot())
        width, height, ink = extent[0]
        return width > 0.5 and height > 0.5 and ink > 0.1

    wait_until(page, filled, timeout_s=timeout_s, raise_on_timeout=False)
    return extent[0]


@pytest.mark.slow
def test_3d_view_fills_its_canvas_with_the_cpu_throttled(voila_server, browser_context):
    """Under load NGL drew the atoms tiny in a corner ("reading 'autoView'" in the page)."""
    page = browser_context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 6})
    try:
        page.goto(voila_server.url(NOTEBOOK), wait_until="domcontentloaded", timeout=180_000)
        wait_for_voila(page, timeout_ms=300_000)
        page.locator(".mi-structure-explorer").first.wait_for(state="visible", timeout=120_000)
        width, height, drawn = _wait_until_atoms_fill_the_canvas(page)
        assert width > 0.5 and height > 0.5 and drawn > 0.1, (width, height, drawn)
        # a new crystal is fitted too
        _choose(page, "NaCl (rocksalt)", "Na108Cl108")
        width, height, drawn = _wait_until_atoms_fill_the_canvas(page)
        assert width > 0.5 and height > 0.5, (width, height, drawn)
        assert not [e for e in errors if "autoView" in e], errors
    finally:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        page.close()


def _view_beside_controls(page) -> bool:
    """Whether lab 01's 3D view sits beside its controls, whole, with no sideways scroll."""
    width = page.viewport_size["width"]

    def box(selector: str) -> dict:
        return page.locator(f".mi-structure-explorer {selector}").first.bounding_box()

    controls, view = box(".mi-controls"), box(".mi-structure-view")
    return (
        view["x"] >= controls["x"] + controls["width"] - 1  # beside, not below
        and view["y"] < controls["y"] + controls["height"] / 2
        and view["x"] + view["width"] <= width + 1  # not cut off
        and page.evaluate("() => document.documentElement.scrollWidth") <= width
    )


def test_3d_view_beside_the_controls_on_a_laptop_and_a_projector(voila_server, browser_context):
    """Opened at 1280x800, then narrowed to 1024x768: the 3D view stays beside the controls."""
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    try:
        page.goto(voila_server.url(NOTEBOOK), wait_until="domcontentloaded", timeout=120_000)
        wait_for_voila(page)
        page.locator(".mi-structure-view canvas").first.wait_for(state="visible", timeout=120_000)
        assert _view_beside_controls(page), "3D view below or beyond the controls at 1280x800"
        page.set_viewport_size({"width": 1024, "height": 768})
        assert wait_until(
            page, lambda: _view_beside_controls(page), timeout_s=30, raise_on_timeout=False
        ), "3D view below or beyond the controls at 1024x768"
    finally:
        page.close()
