"""Notebook 05 in Voila: the lab renders, a slider redraws M(B), Step fills the search plot."""

from __future__ import annotations

import pytest
from conftest import error_outputs, real_console_errors

pytestmark = pytest.mark.browser


def test_lab05_renders_and_steps(open_app):
    page = open_app("05_hamiltonian_estimation.ipynb", wait_for=".mi-spin-lab")
    lab = page.locator(".mi-spin-lab").first
    lab.locator("canvas").first.wait_for(state="visible", timeout=60_000)
    text = lab.locator(".widget-html", has_text="spin gap").first
    text.wait_for(state="visible", timeout=60_000)
    before = text.inner_text()
    slider = lab.locator(".mi-coupling .ui-slider-handle, .mi-coupling .noUi-handle").first
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([el, old]) => el.innerText !== old", arg=[text.element_handle(), before], timeout=30_000
    )
    lab.get_by_role("button", name="Step").first.click()
    status = lab.locator(".widget-html", has_text="calls, best E").first
    status.wait_for(state="visible", timeout=60_000)
    assert "random: 1 calls" in status.inner_text()
    assert error_outputs(page) == []
    assert real_console_errors(page) == []
