"""Every lab on a projector, a laptop and a desktop (1024, 1280, 1920 px): plot beside controls.

The bounding boxes of the first app on each page are checked: the main view starts right of
the control column (not below it), the controls end inside the viewport, and no plot, canvas
or the page itself is wider than the window; at 1280 px no text of the app is under 12 px.
The first look at each lab also checks that it rendered with no error output and no console
error (the render test covers the other notebooks, so each lab's page starts once a run).
With ``MI_LAB_SCREENSHOTS=1`` the 1280-px screenshot of each lab is written to
``docs/images/`` (the README shows them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_helpers import wait_for_idle, wait_until
from conftest import ARTIFACTS, error_outputs, real_console_errors

DOCS_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
LABS = {
    "01": ("01_materials_data_with_ase.ipynb", ".mi-structure-explorer"),
    "02": ("02_em_peak_fitting.ipynb", ".mi-lab-app"),
    "03": ("03_spectral_imaging.ipynb", ".mi-lab-app"),
    "04": ("04_bayesian_optimization.ipynb", ".mi-lab-app"),
    "05": ("05_hamiltonian_estimation.ipynb", ".mi-lab-app"),
    "06": ("06_ml_potentials.ipynb", ".mi-potential-lab"),
    "07": ("07_local_structure_classification.ipynb", ".mi-lab-app"),
    "08": ("08_tslpp_structure_analysis.ipynb", ".mi-lab-app"),
    "09": ("09_phase_diagram_sampling.ipynb", ".mi-lab-app"),
    "10": ("10_property_prediction_importance.ipynb", ".mi-lab-app"),
    "11": ("11_model_choice_and_hyperparameters.ipynb", ".mi-lab-app"),
}
VIEWPORTS = [(1024, 768), (1280, 800), (1920, 1080)]
pytestmark = pytest.mark.browser

#: Boxes of every visible app's control column, its main view, and every plot inside it.
JS_BOXES = """(selector) => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
            width: r.width, height: r.height}; };
  const apps = [...document.querySelectorAll(selector)].filter(el => el.offsetWidth > 0);
  const doc = document.scrollingElement;
  return apps.map(app => {
    const controls = app.querySelector('.mi-controls');
    const main = controls.nextElementSibling;
    const plots = [...main.querySelectorAll('canvas, .bk-Figure, .bk-root, .widget-html-content')]
      .filter(el => el.offsetWidth > 0 && el.offsetHeight > 0)
      .map(box);
    return {controls: box(controls), main: box(main), plots: plots,
            viewport: doc.clientWidth, page: doc.scrollWidth,
            mainOverflow: main.scrollWidth - main.clientWidth};
  });
}"""


#: Texts of the first visible app drawn in a font under 12 px (the page's own HTML, not canvases).
JS_SMALL_TEXT = """(selector) => {
  const app = [...document.querySelectorAll(selector)].find(el => el.offsetWidth > 0);
  const small = [];
  const walker = document.createTreeWalker(app, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || el.offsetWidth === 0) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 11.5) small.push(`${node.textContent.trim().slice(0, 40)} (${size} px)`);
  }
  return small;
}"""


def _settled(page) -> bool:
    """Whether the layout holds; if not, let the widgets re-measure as after a resize."""
    if all(_layout_holds(boxes) for boxes in page.evaluate(JS_BOXES, ".mi-lab-app")):
        return True
    page.evaluate("window.dispatchEvent(new Event('resize'))")
    return False


def _layout_holds(boxes: dict) -> bool:
    """Whether the boxes pass every check of the test below."""
    controls, main, viewport = boxes["controls"], boxes["main"], boxes["viewport"]
    return (
        main["left"] >= controls["right"] - 1
        and main["top"] < controls["bottom"]
        and controls["right"] <= viewport + 1
        and main["right"] <= viewport + 1
        and boxes["page"] <= viewport + 1
        and boxes["mainOverflow"] <= 1
        and all(plot["right"] <= viewport + 1 for plot in boxes["plots"])
    )


def _check_boxes(boxes: dict, where: str) -> None:
    """Main view beside the controls, nothing cut off at the right, nothing clipped."""
    controls, main, viewport = boxes["controls"], boxes["main"], boxes["viewport"]
    where = f"{where}: {boxes}"
    assert main["left"] >= controls["right"] - 1, f"main view below the controls, {where}"
    assert main["top"] < controls["bottom"], f"main view below the controls, {where}"
    assert controls["right"] <= viewport + 1, f"controls cut off, {where}"
    assert main["right"] <= viewport + 1, f"main view cut off, {where}"
    assert boxes["page"] <= viewport + 1, f"the page scrolls sideways, {where}"
    assert boxes["mainOverflow"] <= 1, f"the main view clips its content, {where}"
    for plot in boxes["plots"]:
        assert plot["right"] <= viewport + 1, f"plot cut off at the right, {where}"


@pytest.mark.parametrize("lab", sorted(LABS))
def test_main_plot_beside_the_controls_and_nothing_clipped(lab, open_app):
    notebook, selector = LABS[lab]
    page = open_app(notebook, wait_for=None)
    # the app appears once every cell has run: allow for a loaded machine
    page.locator(selector).first.wait_for(state="visible", timeout=300_000)
    wait_for_idle(page)
    # the notebook rendered as an app (test_browser_render covers the other notebooks)
    assert error_outputs(page) == [], f"lab {lab} shows an error output"
    assert real_console_errors(page) == [], f"lab {lab} logged console errors"
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        wait_for_idle(page)
        # plots and the 3D view settle their sizes after a resize: wait until the
        # layout holds (or the time is up), then check it and report what was seen
        wait_until(page, lambda: _settled(page), timeout_s=60, raise_on_timeout=False)
        every_app = page.evaluate(JS_BOXES, ".mi-lab-app")
        assert every_app, f"no app visible in lab {lab} at {width}x{height}"
        for number, boxes in enumerate(every_app, start=1):
            _check_boxes(boxes, f"lab {lab} (app {number} on the page) at {width}x{height}")
        if width == 1280:
            small = page.evaluate(JS_SMALL_TEXT, ".mi-lab-app")
            assert small == [], f"text under 12 px in lab {lab}: {small[:10]}"
        page.locator(selector).first.evaluate("el => el.scrollIntoView()")
        png = page.screenshot()  # what the screen shows from the app's top
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"layout_lab{lab}_{width}.png").write_bytes(png)
        if width == 1280 and os.environ.get("MI_LAB_SCREENSHOTS"):
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            (DOCS_IMAGES / f"lab{lab}_{width}.png").write_bytes(png)
