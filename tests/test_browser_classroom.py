"""``mi-lab --classroom``: pages are served from pre-heated kernels and are fully interactive.

One seat for lab 01 (bokeh and nglview), a short refill delay and a token: every page is
opened twice, each time from a kernel that had run the notebook before the request.

The refill waits ``FILL_DELAY_S``. With a refill started at once (the notebook running in a
new kernel while the page that took the old one loads), 3 of 4 parallel runs of the suite on
a loaded machine showed a widget error on that page. Voila's widget manager waits 4 s for the
kernel's widget states before it falls back to asking model by model, the likely cause;
``mi-lab``'s default delay (30 s) keeps refills away from the pages being opened.
"""

from __future__ import annotations

import re
import urllib.request

import pytest
from browser_helpers import ngl_screenshot, wait_for_change, wait_for_ngl, wait_until
from conftest import (
    NOTEBOOKS,
    VoilaServer,
    _browser_available,
    error_outputs,
    new_page,
    real_console_errors,
    wait_for_voila,
)

NOTEBOOK = "01_materials_data_with_ase.ipynb"
TOKEN = "classroom-token"
#: Seconds before a used kernel's replacement starts (see the module's docstring).
FILL_DELAY_S = 10
READY = re.compile(rf"Pre-heated kernel ([0-9a-f-]+) for {re.escape(NOTEBOOK)} is ready")
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def classroom_server():
    """``mi-lab --classroom 1 --labs 01 --fill-delay 10 --token ...``."""
    if not _browser_available():
        pytest.skip("browser tests need playwright and Chromium")
    server = VoilaServer(
        NOTEBOOKS,
        ("--classroom", "1", "--labs", "01", "--fill-delay", str(FILL_DELAY_S), "--token", TOKEN),
    )
    yield server
    server.stop()


def _ready_kernels(server: VoilaServer) -> list[str]:
    return READY.findall(server.log_path.read_text())


def _kernel_of(page) -> str:
    return re.search(r'"kernelId": *"([0-9a-f-]+)"', page.content()).group(1)


def _kernel_exists(page, server: VoilaServer, kernel_id: str) -> bool:
    response = page.request.get(f"{server.base}/api/kernels/{kernel_id}?token={TOKEN}")
    return response.status == 200


def _open_from_the_pool(context, server: VoilaServer, used: set[str]):
    """Wait for a pre-heated kernel not used yet, open the lab, check it got that kernel."""
    page = new_page(context)
    wait_until(
        page,
        lambda: set(_ready_kernels(server)) - used,
        timeout_s=300,
        message="a pre-heated kernel of lab 01",
    )
    page.goto(f"{server.url(NOTEBOOK)}?token={TOKEN}", wait_until="domcontentloaded")
    wait_for_voila(page)
    kernel_id = _kernel_of(page)
    assert kernel_id in _ready_kernels(server) and kernel_id not in used
    assert f"Using pre-heated kernel: {kernel_id} for {NOTEBOOK}" in server.log_path.read_text()
    return page, kernel_id


def _change_the_crystal(page) -> None:
    """Pick another crystal: Python answers with a new structure, 3D view and RDF."""
    page.locator(".mi-structure-explorer").first.wait_for(state="visible", timeout=60_000)
    before = wait_for_ngl(page)
    page.locator(".mi-structure-explorer select").first.select_option("NaCl (rocksalt)")
    page.locator(".mi-structure-info", has_text="Na108Cl108").first.wait_for(timeout=60_000)
    assert wait_for_change(page, lambda: ngl_screenshot(page), before, min_fraction=0.02)


def test_pages_come_from_preheated_kernels_and_are_interactive(classroom_server, browser_context):
    # without the token: the login page, and no pre-heated kernel is handed out
    with urllib.request.urlopen(classroom_server.url(NOTEBOOK), timeout=60) as response:
        assert b"kernelId" not in response.read() and "/login" in response.url
    assert "Using pre-heated kernel" not in classroom_server.log_path.read_text()
    used: set[str] = set()
    pages = []
    for _ in range(2):
        page, kernel_id = _open_from_the_pool(browser_context, classroom_server, used)
        pages.append((page, kernel_id))
        used.add(kernel_id)
        _change_the_crystal(page)
        errors = error_outputs(page)
        assert not errors, "\n".join(errors)
        assert real_console_errors(page) == []
    first, first_kernel = pages[0]
    first.close(run_before_unload=True)  # the shutdown beacon frees a used pooled kernel
    second, _ = pages[1]
    wait_until(
        second,
        lambda: not _kernel_exists(second, classroom_server, first_kernel),
        timeout_s=60,
        message="the closed tab's kernel is shut down",
    )
    second.close()
