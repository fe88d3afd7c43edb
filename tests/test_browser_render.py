"""Every notebook renders as a Voila app with no error output."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import wait_for_idle
from conftest import error_outputs, real_console_errors

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_NAMES = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.browser
@pytest.mark.parametrize("notebook", NOTEBOOK_NAMES)
def test_notebook_renders_in_voila(open_app, notebook):
    page = open_app(notebook, wait_for=".widget-html, .mi-lab-app, .jp-RenderedHTMLCommon")
    wait_for_idle(page)
    assert error_outputs(page) == []
    assert real_console_errors(page) == []
