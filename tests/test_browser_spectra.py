"""Labs 02 and 03 in Voila: click peaks and Fit, step EM, click a map pixel."""

from __future__ import annotations

import pytest

from tests.browser_helpers import wait_for_change, wait_for_idle, wait_for_page_update, wait_until
from tests.conftest import error_outputs, real_console_errors

pytestmark = pytest.mark.browser

#: Page coordinates of a data point (x, y) in the bokeh plot whose title starts with `title`.
JS_DATA_TO_PAGE = """([title, x, y]) => {
  const B = window.Bokeh;
  if (!B) return null;
  const views = B.index.all_views ? [...B.index.all_views()] : Object.values(B.index);
  const seen = new Set();
  const stack = [...views];
  while (stack.length) {
    const v = stack.pop();
    if (!v || seen.has(v)) continue;
    seen.add(v);
    const t = v.model && v.model.title;
    if (v.frame && t && typeof t.text === 'string' && t.text.startsWith(title)) {
      v.el.scrollIntoView({block: 'center'});
      const r = v.el.getBoundingClientRect();
      const px = r.x + v.frame.x_scale.compute(x), py = r.y + v.frame.y_scale.compute(y);
      return Number.isFinite(px) && Number.isFinite(py) ? [px, py] : 'not laid out';
    }
    if (v.child_views) stack.push(...v.child_views);
    if (v.renderer_views) stack.push(...v.renderer_views.values());
  }
  return null;
}"""


def _click_data(page, title: str, x: float, y: float) -> None:
    for _ in range(60):  # the plot lays out once its data has arrived
        point = page.evaluate(JS_DATA_TO_PAGE, [title, x, y])
        if isinstance(point, list):
            break
        wait_until(page, lambda: isinstance(page.evaluate(JS_DATA_TO_PAGE, [title, x, y]), list))
    assert isinstance(point, list), f"bokeh plot titled {title!r}: {point}"
    wait_for_idle(page)
    point = page.evaluate(JS_DATA_TO_PAGE, [title, x, y])  # after scrolling
    page.mouse.click(point[0], point[1])
    wait_for_page_update(page)  # two taps close together would count as one


def test_lab02_click_peaks_fit_and_step_em(open_app):
    page = open_app("02_em_peak_fitting.ipynb", wait_for=".mi-peak-picker")
    page.locator(".mi-peak-picker canvas").first.wait_for(state="visible", timeout=60_000)
    wait_for_idle(page)
    for centre in (284.8, 286.3, 288.9):  # the C 1s peaks, eV
        _click_data(page, "Spectrum", centre, 600.0)
    page.get_by_text("3 starting peak(s) placed").wait_for(timeout=20_000)
    page.locator(".mi-peak-picker button", has_text="Fit").first.click()
    table = page.locator(".mi-peak-table")
    table.wait_for(timeout=30_000)
    assert table.locator("tr").count() == 4  # header + three peaks
    assert "284.8" in table.inner_text()

    readout = page.locator(".mi-em-slider .widget-readout")
    assert readout.inner_text().strip() == "0"
    info = page.locator(".mi-em-player").get_by_text("log-likelihood")
    before = info.inner_text()
    page.locator(".mi-em-player button", has_text="Step").first.click()
    page.wait_for_function(
        "() => document.querySelector('.mi-em-slider .widget-readout').innerText.trim() === '1'",
        timeout=20_000,
    )
    wait_until(page, lambda: info.inner_text() != before, raise_on_timeout=False)
    assert info.inner_text() != before
    assert error_outputs(page) == []
    assert real_console_errors(page) == []


def test_lab03_click_a_map_pixel_changes_the_spectrum(open_app):
    page = open_app("03_spectral_imaging.ipynb", wait_for=".mi-map-explorer")
    page.locator(".mi-map-explorer canvas").first.wait_for(state="visible", timeout=60_000)
    wait_for_idle(page)
    label = page.locator(".mi-pixel-label")
    assert "Pixel (0, 0)" in label.inner_text()
    spectrum = page.locator(".mi-map-explorer .bk-Canvas").nth(1)
    before = spectrum.screenshot()
    _click_data(page, "Map", 30.5, 20.5)  # column 30, row 20
    page.get_by_text("Pixel (20, 30)").wait_for(timeout=20_000)
    wait_for_change(page, spectrum.screenshot, before, quiet_s=0.5)
    assert spectrum.screenshot() != before
    assert error_outputs(page) == []
    assert real_console_errors(page) == []
