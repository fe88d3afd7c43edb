"""Helpers for browser tests: waits for conditions (never fixed sleeps) and canvas pixels.

Every wait polls a condition and returns as soon as it holds, so a test is as fast as the
page on an idle machine and still passes on a loaded one. ``timeout_s`` is hang
protection only.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import numpy as np

JS_NGL_RECT = """() => {
  const c = Array.from(document.querySelectorAll('canvas')).filter(c => c.width >= 200)[0];
  if (!c) return null;
  const r = c.getBoundingClientRect();
  return {x: r.x, y: r.y, width: r.width, height: r.height};
}"""
#: Installed in every page before it loads: counts changes of the page's (light) DOM, where
#: ipywidgets draw labels, tables and banners; a Python callback that answers a click changes it.
JS_COUNT_MUTATIONS = """(() => {
  window.__miMutations = 0;
  window.__miMark = 0;
  window.__miLastChange = performance.now();
  const start = () => new MutationObserver(() => {
    window.__miMutations += 1;
    window.__miLastChange = performance.now();
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                        attributes: true, attributeFilter: ['class', 'style']});
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();"""
#: True when every bokeh root view on the page (a root checks its children) has finished
#: drawing, or there is no bokeh.
JS_BOKEH_IDLE = """() => {
  const B = window.Bokeh;
  if (!B || !B.index) return true;
  const roots = typeof B.index[Symbol.iterator] === 'function' ? [...B.index]
                                                              : Object.values(B.index);
  return roots.every(v => typeof v.has_finished !== 'function' || v.has_finished());
}"""
JS_DOM_QUIET = """(quietMs) => window.__miLastChange === undefined
  || performance.now() - window.__miLastChange >= quietMs"""
POLL_MS = 100


def poll_until(
    predicate: Callable[[], Any], *, timeout_s: float = 60.0, interval_s: float = 0.2
) -> bool:
    """Poll ``predicate()`` (no page involved: a server, a log, a worker thread) until it is
    true; return whether it became true within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval_s)
    return True


def wait_until(
    page,
    predicate: Callable[[], Any],
    *,
    timeout_s: float = 60.0,
    message: str = "condition",
    raise_on_timeout: bool = True,
) -> bool:
    """Poll ``predicate()`` until it is true; return whether it became true.

    Between polls the page keeps processing events (``page.wait_for_timeout`` yields to
    playwright's loop). On timeout raise ``TimeoutError`` naming ``message``, or return
    ``False`` when ``raise_on_timeout`` is false (the test's own assertion then reports).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            if raise_on_timeout:
                raise TimeoutError(f"{message} did not hold within {timeout_s:g} s")
            return False
        page.wait_for_timeout(POLL_MS)


def wait_for_stable(
    page, read: Callable[[], Any], *, polls: int = 3, timeout_s: float = 60.0
) -> Any:
    """Wait until ``read()`` returns the same value ``polls`` times in a row; return it."""
    history: list[Any] = []

    def settled() -> bool:
        history.append(read())
        return len(history) >= polls and all(v == history[-1] for v in history[-polls:])

    wait_until(page, settled, timeout_s=timeout_s, message="a stable value")
    return history[-1]


def wait_for_bokeh_idle(page, *, timeout_s: float = 60.0) -> None:
    """Wait until every bokeh plot on the page has finished drawing."""
    page.wait_for_function(JS_BOKEH_IDLE, timeout=timeout_s * 1000, polling=POLL_MS)


def wait_for_dom_quiet(page, *, quiet_ms: int = 500, timeout_s: float = 60.0) -> None:
    """Wait until the page's DOM has not changed for ``quiet_ms`` (widgets done rendering)."""
    page.wait_for_function(JS_DOM_QUIET, arg=quiet_ms, timeout=timeout_s * 1000, polling=POLL_MS)


def wait_for_idle(page, *, quiet_ms: int = 500, timeout_s: float = 60.0) -> None:
    """Wait until the DOM is quiet and every bokeh plot has drawn."""
    wait_for_dom_quiet(page, quiet_ms=quiet_ms, timeout_s=timeout_s)
    wait_for_bokeh_idle(page, timeout_s=timeout_s)
    mark_page(page)


def mark_page(page) -> None:
    """Remember the page's DOM state; :func:`wait_for_page_update` waits for a later change."""
    page.evaluate("() => { window.__miMark = window.__miMutations || 0; }")


def wait_for_page_update(page, *, quiet_ms: int = 300, timeout_s: float = 30.0) -> bool:
    """Wait until the DOM changed since the last mark (a callback answered), then settles.

    Returns ``False`` (does not raise) when nothing changed within ``timeout_s``.
    """
    try:
        page.wait_for_function(
            "() => (window.__miMutations || 0) > (window.__miMark || 0)",
            timeout=timeout_s * 1000,
            polling=POLL_MS,
        )
    except Exception:  # playwright's TimeoutError
        return False
    wait_for_dom_quiet(page, quiet_ms=quiet_ms, timeout_s=timeout_s)
    mark_page(page)
    return True


def wait_for_animation_frame(page) -> None:
    """Wait until the browser has drawn the next frame (after a pointer move, say)."""
    page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => resolve()))")


def png_array(png: bytes | np.ndarray) -> np.ndarray:
    """An RGB array of a PNG screenshot (an array is returned as it is)."""
    if isinstance(png, np.ndarray):
        return png.astype(int)
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def changed_fraction(before: bytes | np.ndarray, after: bytes | np.ndarray) -> float:
    """Fraction of pixels that differ clearly between two screenshots of one region."""
    a, b = png_array(before), png_array(after)
    if a.shape != b.shape:
        return 1.0
    return float((np.abs(a - b).sum(axis=2) > 30).mean())


def wait_for_settled(
    page, shoot: Callable[[], bytes], *, quiet_s: float = 1.5, timeout_s: float = 60.0
) -> bytes:
    """Wait until screenshots from ``shoot()`` stop changing for ``quiet_s``; return the last.

    NGL re-fits its view about a second after it loads, so a quiet period longer than
    that means the drawing is final.
    """
    last = {"png": shoot(), "since": time.monotonic()}

    def quiet() -> bool:
        png = shoot()
        if changed_fraction(last["png"], png) > 0.0005:
            last.update(png=png, since=time.monotonic())
        return time.monotonic() - last["since"] >= quiet_s

    wait_until(page, quiet, timeout_s=timeout_s, message="a settled drawing")
    return last["png"]


def wait_for_change(
    page,
    shoot: Callable[[], bytes],
    before: bytes | np.ndarray,
    *,
    min_fraction: float = 0.0,
    quiet_s: float = 1.5,
    timeout_s: float = 60.0,
) -> bool:
    """Wait until ``shoot()`` differs from ``before`` by more than ``min_fraction``, then settles.

    Returns ``False`` (does not raise) when it never changed, so the test's own assertion
    reports what it expected.
    """
    changed = wait_until(
        page,
        lambda: changed_fraction(before, shoot()) > min_fraction,
        timeout_s=timeout_s,
        raise_on_timeout=False,
    )
    if changed:
        wait_for_settled(page, shoot, quiet_s=quiet_s, timeout_s=timeout_s)
    return changed


def ngl_screenshot(page) -> bytes:
    """Screenshot of the first NGL (WebGL) canvas on the page."""
    page.wait_for_function(JS_NGL_RECT.replace("return null", "return false"), timeout=60_000)
    rect = page.evaluate(JS_NGL_RECT)
    return page.screenshot(clip=rect)


def wait_for_ngl(page, *, quiet_s: float = 1.5, timeout_s: float = 60.0) -> bytes:
    """Wait until the NGL view has loaded and re-fitted itself; return its screenshot."""
    return wait_for_settled(
        page, lambda: ngl_screenshot(page), quiet_s=quiet_s, timeout_s=timeout_s
    )


def non_white_fraction(png: bytes) -> float:
    """Fraction of pixels that are not (nearly) white: something is drawn."""
    return float((png_array(png).sum(axis=2) < 720).mean())
