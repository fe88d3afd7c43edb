"""Every notebook renders as a Voila app with no error output.

The labs are opened by the layout test (``test_browser_layout.py``), which checks the same
(no error output, no console error) on its first look at each lab, so a lab's page is
started once per run; this file covers the notebooks it does not open (the gallery).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import wait_for_idle
from conftest import error_outputs, real_console_errors
from test_browser_layout import LABS

ROOT = Path(__file__).resolve().parents[1]
LAB_NOTEBOOKS = {notebook for notebook, _ in LABS.values()}
NOTEBOOK_NAMES = sorted(
    p.name for p in (ROOT / "notebooks").glob("*.ipynb") if p.name not in LAB_NOTEBOOKS
)


def test_every_notebook_is_rendered_by_one_browser_test():
    assert "00_welcome.ipynb" in NOTEBOOK_NAMES
    every = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert set(NOTEBOOK_NAMES) | LAB_NOTEBOOKS == every


@pytest.mark.browser
@pytest.mark.parametrize("notebook", NOTEBOOK_NAMES)
def test_notebook_renders_in_voila(open_app, notebook):
    page = open_app(notebook, wait_for=".widget-html, .mi-lab-app, .jp-RenderedHTMLCommon")
    wait_for_idle(page)
    assert error_outputs(page) == []
    assert real_console_errors(page) == []
