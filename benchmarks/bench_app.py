"""Time the apps in Voila: page load to widgets visible (cold and preheated), click to redraw.

Run: ``python benchmarks/bench_app.py [--repeats 3] [--write]``. It starts the server as
``mi-lab`` does (cold), then with Voila's preheated kernel pool, opens every notebook in
headless Chromium and reports the medians; ``--write`` replaces the app section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_FLAGS, NOTEBOOKS, VoilaServer, wait_for_voila  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
WIDGETS_VISIBLE = ".mi-lab-app, .mi-gallery, .widget-box"


class PreheatedVoila(VoilaServer):
    """The same server with Voila's kernel pool: one executed kernel waits per notebook."""

    def __init__(self, notebooks: Path):
        import mi_widgets.cli as cli

        original = cli.voila_command

        def with_pool(*args, **kwargs):
            return [*original(*args, **kwargs), "--preheat_kernel=True", "--pool_size=1"]

        cli.voila_command = with_pool
        try:
            super().__init__(notebooks)
        finally:
            cli.voila_command = original


def time_to_widgets(context, url: str) -> float:
    """Seconds from navigation to the first app widget being visible."""
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded", timeout=180_000)
    wait_for_voila(page, timeout_ms=180_000)
    page.locator(WIDGETS_VISIBLE).first.wait_for(state="visible", timeout=120_000)
    elapsed = time.perf_counter() - start
    page.close()
    return elapsed


def click_to_redraw(context, url: str, repeats: int) -> list[float]:
    """Lab 01: choose another crystal and wait for its formula to be drawn."""
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded", timeout=180_000)
    wait_for_voila(page, timeout_ms=180_000)
    page.locator(".mi-structure-info").first.wait_for(state="visible", timeout=120_000)
    crystals = [("Cu (fcc)", "Cu108"), ("Si (diamond)", "Si216"), ("NaCl (rocksalt)", "Na108Cl108")]
    times = []
    for k in range(repeats * len(crystals)):
        name, formula = crystals[k % len(crystals)]
        start = time.perf_counter()
        page.locator(".mi-structure-explorer select").first.select_option(name)
        page.locator(".mi-structure-info", has_text=formula).first.wait_for(timeout=30_000)
        times.append(time.perf_counter() - start)
        page.wait_for_timeout(300)
    page.close()
    return times


def measure(server_class, notebooks: list[Path], repeats: int, context) -> dict[str, float]:
    server = server_class(NOTEBOOKS)
    try:
        if server_class is PreheatedVoila:
            time.sleep(30)  # let the pool execute every notebook once
        return {
            nb.name: statistics.median(
                time_to_widgets(context, server.url(nb.name)) for _ in range(repeats)
            )
            for nb in notebooks
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tempfile.mkdtemp(),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        cold = measure(VoilaServer, notebooks, args.repeats, context)
        warm = measure(PreheatedVoila, notebooks, args.repeats, context)
        server = VoilaServer(NOTEBOOKS)
        try:
            clicks = click_to_redraw(
                context, server.url("01_materials_data_with_ase.ipynb"), args.repeats
            )
        finally:
            server.stop()
        context.close()
    table = render_table(cold, warm, clicks)
    print(table)
    if args.write:
        write_section(table)


def render_table(cold: dict, warm: dict, clicks: list[float]) -> str:
    lines = [
        "| notebook | cold: load to widgets (s) | preheated kernel (s) | preheated / cold |",
        "|---|---|---|---|",
    ]
    for name in cold:
        lines.append(
            f"| {name} | {cold[name]:.1f} | {warm[name]:.1f} | {warm[name] / cold[name]:.2f} |"
        )
    lines += [
        "",
        f"Click to redraw (lab 01, choose a crystal -> new 3D view, g(r) and info drawn), "
        f"{len(clicks)} clicks: median {statistics.median(clicks):.2f} s, "
        f"max {max(clicks):.2f} s (goal: interactive actions answer within 0.2 s of compute; "
        "the browser round trip adds to it).",
    ]
    return "\n".join(lines)


def write_section(table: str) -> None:
    machine = f"{platform.machine()}, Python {platform.python_version()}, 2 cores"
    section = (
        "## Apps in Voila (bench_app.py)\n\n"
        f"Machine: {machine}; Debian Chromium headless; {time.strftime('%Y-%m-%d')}.\n\n"
        f"{table}\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    start = text.find("## Apps in Voila")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
