"""Lab 01 in Voila and headless Chromium: change the crystal, upload bad and huge files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_helpers import (
    changed_fraction,
    ngl_screenshot,
    non_white_fraction,
    wait_for_change,
    wait_for_ngl,
)
from conftest import ARTIFACTS, error_outputs

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
    wait_for_ngl(page)  # NGL re-fits ~1 s after it has loaded
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
    wait_for_change(lab, lambda: ngl_screenshot(lab), ngl_before, min_fraction=0.02)
    assert changed_fraction(ngl_before, ngl_screenshot(lab)) > 0.02
    assert changed_fraction(rdf_before, lab.locator(".mi-rdf-plot").first.screenshot()) > 0.005
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
    wait_for_ngl(lab)
    app = lab.locator(".mi-structure-explorer").first
    png = app.screenshot()
    assert non_white_fraction(ngl_screenshot(lab)) > 0.05
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "lab01_structure_explorer.png").write_bytes(png)
    if os.environ.get("MI_LAB_SCREENSHOTS"):
        (DOCS_IMAGES / "lab01_structure_explorer.png").write_bytes(png)
