"""Small helpers for browser tests: pixels of the NGL and bokeh canvases."""

from __future__ import annotations

import io

import numpy as np

JS_NGL_RECT = """() => {
  const c = Array.from(document.querySelectorAll('canvas')).filter(c => c.width >= 200)[0];
  if (!c) return null;
  const r = c.getBoundingClientRect();
  return {x: r.x, y: r.y, width: r.width, height: r.height};
}"""


def png_array(png: bytes) -> np.ndarray:
    """An RGB array of a PNG screenshot."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def changed_fraction(before: bytes, after: bytes) -> float:
    """Fraction of pixels that differ clearly between two screenshots of one region."""
    a, b = png_array(before), png_array(after)
    if a.shape != b.shape:
        return 1.0
    return float((np.abs(a - b).sum(axis=2) > 30).mean())


def ngl_screenshot(page) -> bytes:
    """Screenshot of the first NGL (WebGL) canvas on the page."""
    page.wait_for_function(JS_NGL_RECT.replace("return null", "return false"), timeout=60_000)
    rect = page.evaluate(JS_NGL_RECT)
    return page.screenshot(clip=rect)


def non_white_fraction(png: bytes) -> float:
    """Fraction of pixels that are not (nearly) white: something is drawn."""
    return float((png_array(png).sum(axis=2) < 720).mean())
