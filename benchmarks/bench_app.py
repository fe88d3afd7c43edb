"""Time until each lab's app is visible in Voila: cold, and with 8 pages opening at once.

Run: ``nice -n 10 python benchmarks/bench_app.py [--labs 00 01 08] [--repeats 1] [--write]``.

Modes side by side (``--modes``): "plain" is ``mi-lab`` (each page starts its kernel and runs
the notebook); "classroom" is ``mi-lab --classroom 8 --labs NN`` (eight kernels of the lab have
run its notebook before the pages open; the benchmark waits until the log says all eight are
ready, and reports how long that took); "classroom-cold" opens one page from a pool of one.
Besides the time until the app is visible it records when each page's HTML had fully arrived
("delivered", the server's part): all pages are drawn by one Chromium on the server's cores,
whereas in a class every student's browser draws only its own page.

It starts the server as ``mi-lab`` does, opens every lab in headless Chromium and records,
inside the page, the moment the app (``.mi-lab-app`` or the gallery) first becomes visible,
counted from navigation (``performance.now()``). "Cold" opens one page at a time; "8 at once"
opens eight pages of the same lab together and reports the median and the slowest, each counted
from the moment the first of them was asked for. Each page has a browser context of its own, as
each student has a browser of their own: one Chromium profile opens at most 6 connections to a
host, and Voila holds a page's connection until its notebook has run, so pages sharing one
profile would queue behind each other (``--shared-profile`` measures that case). Wall times
depend on how loaded the machine is, so it also executes each notebook's cells in this process
and reports the CPU seconds (``time.process_time``) spent before the app is drawn and in the
whole notebook (Voila shows the page once every cell has run). The issue's old wall times are
printed beside the new ones.
``--write`` replaces this section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_FLAGS, NOTEBOOKS, VoilaServer  # noqa: E402

from mi_widgets.cli import KERNEL_THREAD_ENV  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Opening the labs: time until the app is visible (`benchmarks/bench_app.py`)"
APP = ".mi-lab-app, .mi-gallery"
#: The variable Voila sets for its kernels: studies behind ``run_when_asked`` buttons stay idle.
AS_SERVED_BY_VOILA = {"VOILA_BASE_URL": "/"}
#: One-minute load averages read after each measurement (the machine is shared).
LOADS: list[float] = []
#: The previous table (2026-12-01, load average 13.9): cold, and 8 at once median / slowest.
PREVIOUS = {
    "00": ("2.5", "7.0 / 8.0"),
    "01": ("3.6", "19.9 / 23.1"),
    "02": ("6.3", "27.6 / 33.8"),
    "03": ("4.6", "24.3 / 27.3"),
    "04": ("4.3", "23.6 / 24.4"),
    "05": ("8.5", "43.2 / 53.5"),
    "06": ("4.5", "26.4 / 29.7"),
    "07": ("7.7", "52.5 / 64.1"),
    "08": ("9.1", "39.0 / 50.0"),
    "09": ("4.0", "16.5 / 19.1"),
    "10": ("8.0", "35.5 / 48.5"),
    "11": ("4.0", "16.4 / 19.5"),
}
#: Records the first moment an app element is laid out (visible), relative to navigation.
VISIBLE_PROBE = """
(() => {
  const seen = () => {
    for (const el of document.querySelectorAll(SELECTOR)) {
      if (el.offsetWidth > 0 && el.offsetHeight > 0) return true;
    }
    return false;
  };
  // a timer, not requestAnimationFrame: pages in the background get no animation frames
  const timer = setInterval(() => {
    if (seen()) {
      window.__miAppVisible = performance.now() / 1000;
      clearInterval(timer);
    }
  }, 50);
})();
""".replace("SELECTOR", repr(APP))


def notebook_for(lab: str) -> Path:
    """The notebook file of a lab number such as ``"08"``."""
    return next(NOTEBOOKS.glob(f"{lab}_*.ipynb"))


class Browsers:
    """New pages in one Chromium: each in a context of its own (a student's browser), or all
    in one shared profile (one person opening many tabs)."""

    def __init__(self, browser, shared: bool):
        self.browser = browser
        self.shared = self._context() if shared else None

    def _context(self):
        context = self.browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_init_script(VISIBLE_PROBE)
        return context

    def new_page(self):
        """A new page (in a new context unless the profile is shared)."""
        return (self.shared or self._context()).new_page()

    def close(self, page) -> None:
        """Close a page, and its context unless the profile is shared."""
        page.close()
        if self.shared is None:
            page.context.close()


#: Seconds from the epoch when the app became visible (navigation start + the probe's time).
JS_VISIBLE_AT = "(performance.timeOrigin / 1000) + window.__miAppVisible"
#: Seconds from the epoch when the page's HTML had fully arrived.
JS_DELIVERED_AT = (
    "(performance.timeOrigin + performance.getEntriesByType('navigation')[0].responseEnd) / 1000"
)


def open_pages(
    browsers: Browsers,
    url: str,
    n: int,
    timeout_s: float = 600.0,
    delivered: list | None = None,
) -> list[float]:
    """Open ``n`` pages of ``url`` together; seconds until each shows its app.

    Times count from the moment the first page was asked for. With ``delivered``, also
    append the seconds until each page's HTML had fully arrived (the server's part; the rest
    is the browser loading scripts and drawing the widgets).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    pages = [browsers.new_page() for _ in range(n)]
    problems: dict = {}
    start = time.time()
    for page in pages:
        _collect_problems(page, problems.setdefault(page, []))
        page.goto(url, wait_until="commit", timeout=int(timeout_s * 1000))
    times = []
    for page in pages:
        try:
            page.wait_for_function(
                "() => window.__miAppVisible !== undefined", timeout=int(timeout_s * 1000)
            )
        except PlaywrightTimeout:  # recorded as never, and the run goes on
            times.append(math.inf)
            print("a page never showed its app:", _page_state(page), problems[page][-10:])
            continue
        times.append(page.evaluate(JS_VISIBLE_AT) - start)
        if delivered is not None:
            delivered.append(page.evaluate(JS_DELIVERED_AT) - start)
    for page in pages:
        browsers.close(page)
    return times


#: What a page that never showed its app was doing (printed with the run's output).
PAGE_STATE = """async () => {
  const frame = await new Promise(done => {
    requestAnimationFrame(() => done(true)); setTimeout(() => done(false), 2000); });
  const cells = document.getElementById('rendered_cells');
  const nav = performance.getEntriesByType('navigation')[0] || {};
  return {visibility: document.visibilityState, animationFrames: frame,
          requestStart: nav.requestStart, delivered: nav.responseEnd,
          loading: (document.getElementById('loading_text') || {}).innerText,
          cellsShown: cells ? cells.style.display !== 'none' : null,
          widgets: document.querySelectorAll('.jupyter-widgets').length,
          apps: [...document.querySelectorAll('.mi-lab-app')]
            .map(e => [e.offsetWidth, e.offsetHeight])};
}"""


def _collect_problems(page, problems: list[str]) -> None:
    """Keep a page's console errors, uncaught exceptions and websocket closes."""
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text[:200]}") if m.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {str(error)[:200]}"))
    page.on("websocket", lambda ws: ws.on("close", lambda _: problems.append("websocket closed")))


def _page_state(page) -> dict:
    try:
        return page.evaluate(PAGE_STATE)
    except Exception as error:  # a crashed page: say so, the run goes on
        return {"error": str(error)[:200]}


def wait_for_pool(server: VoilaServer, notebook: str, seats: int, timeout_s: float = 900.0):
    """Seconds until ``seats`` pre-heated kernels of ``notebook`` have run it (from the log)."""
    start = time.monotonic()
    line = f"for {notebook} is ready"
    while server.log_path.read_text().count(line) < seats:
        if time.monotonic() - start > timeout_s:
            raise RuntimeError(f"the pool of {notebook} did not fill in {timeout_s} s")
        if server.process.poll() is not None:
            raise RuntimeError(server.log_path.read_text()[-2000:])
        time.sleep(0.5)
    return time.monotonic() - start


def stop_server(server: VoilaServer) -> None:
    """Stop the server and any kernel it leaves behind (only this server's children)."""
    import psutil

    children = psutil.Process(server.process.pid).children(recursive=True)
    server.stop()
    for child in children:
        if child.is_running():
            child.kill()


def classroom_run(browsers: Browsers, lab: str, pages: int, fill_delay: float | None) -> dict:
    """Open ``pages`` pages of a lab at once against a server with as many pre-heated kernels."""
    name = notebook_for(lab).name
    extra = ("--classroom", str(pages), "--labs", lab)
    if fill_delay is not None:
        extra += ("--fill-delay", f"{fill_delay:g}")
    server = VoilaServer(NOTEBOOKS, extra)
    try:
        fill = wait_for_pool(server, name, pages)
        delivered = []
        times = open_pages(browsers, server.url(name), pages, delivered=delivered)
        LOADS.append(os.getloadavg()[0])
        used = server.log_path.read_text().count("Using pre-heated kernel")
    finally:
        stop_server(server)
    if used < pages:
        raise RuntimeError(f"only {used} of {pages} pages of lab {lab} got a pre-heated kernel")
    return {"fill": fill, "times": times, "delivered": delivered}


def cpu_profile(notebook: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """CPU seconds of a notebook's cells up to the app and in total, in a fresh interpreter.

    ``env`` is added to this process's environment (``mi-lab``'s kernels get
    :data:`mi_widgets.cli.KERNEL_THREAD_ENV`, and Voila's variables, so that studies
    behind ``run_when_asked`` buttons are not run).
    """
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--profile-one", str(notebook)],
        capture_output=True,
        text=True,
        check=True,
        cwd=notebook.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    ).stdout
    before, total = json.loads(out.strip().splitlines()[-1])
    return before, total


def _cpu_profile_here(notebook: Path) -> tuple[float, float]:
    """CPU seconds of a notebook's cells up to the app and in total, run in this process."""
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    namespace: dict = {}
    before_app = None
    start = time.process_time()
    cwd = os.getcwd()
    os.chdir(notebook.parent)
    try:
        for index, cell in enumerate(cells):
            if cell.cell_type != "code":
                continue
            exec(compile(cell.source, f"{notebook.name}[{index}]", "exec"), namespace)
            last = cell.source.strip().splitlines()[-1] if cell.source.strip() else ""
            shown = namespace.get(last) if last.isidentifier() else None
            if before_app is None and shown is not None:
                widget = getattr(shown, "widget", shown)
                if hasattr(widget, "_repr_mimebundle_"):
                    before_app = time.process_time() - start
    finally:
        os.chdir(cwd)
    total = time.process_time() - start
    return (total if before_app is None else before_app), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--labs",
        nargs="+",
        default=["00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"],
    )
    parser.add_argument("--repeats", type=int, default=1, help="cold opens per lab")
    parser.add_argument("--pages", type=int, default=8, help="pages opening at once")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["plain", "classroom", "classroom-cold"],
        choices=["plain", "classroom", "classroom-cold"],
    )
    parser.add_argument(
        "--fill-delay", type=float, default=None, help="classroom refill delay (mi-lab's default)"
    )
    parser.add_argument("--skip-cpu", action="store_true", help="no CPU profile of the notebooks")
    parser.add_argument(
        "--shared-profile",
        action="store_true",
        help="open every page in one browser profile (6 connections per host) instead of one each",
    )
    parser.add_argument(
        "--against",
        metavar="REF",
        help="cold opens only, alternating with the notebooks and package of git REF "
        "(served from a temporary worktree): the before/after table of one run",
    )
    parser.add_argument("--profile-one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile_one:  # a child run of cpu_profile: imports counted from a cold start
        print(json.dumps(_cpu_profile_here(args.profile_one)))
        return
    if args.against:
        print(against_run(args.against, args.labs, args.repeats, args.shared_profile))
        return
    from playwright.sync_api import sync_playwright

    rows = {}
    for lab in args.labs:
        rows[lab] = {}
        if args.skip_cpu:
            continue
        notebook = notebook_for(lab)
        rows[lab] = {
            "cpu": cpu_profile(notebook, {**KERNEL_THREAD_ENV, **AS_SERVED_BY_VOILA}),
            "cpu_threads": cpu_profile(notebook, AS_SERVED_BY_VOILA),
        }
        print(lab, "cpu", rows[lab]["cpu"], flush=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        browsers = Browsers(browser, shared=args.shared_profile)
        if "plain" in args.modes:
            plain_runs(browsers, rows, args.labs, args.repeats, args.pages)
        if "classroom-cold" in args.modes:  # one page from a pool of one: one browser's share
            for lab in args.labs:
                rows[lab]["classroom_cold"] = classroom_run(browsers, lab, 1, args.fill_delay)
                print(lab, "classroom_cold", rows[lab]["classroom_cold"], flush=True)
        if "classroom" in args.modes:
            for lab in args.labs:
                rows[lab]["classroom"] = classroom_run(browsers, lab, args.pages, args.fill_delay)
                print(lab, "classroom", rows[lab]["classroom"], flush=True)
        browser.close()
    table = render_table(rows, args.pages) + "\n\n" + render_goals(rows, args.pages)
    print(table)
    if args.write:
        write_section(table, args.fill_delay)


def against_run(ref: str, labs: list[str], repeats: int, shared_profile: bool) -> str:
    """Cold opens of each lab, alternating between this checkout and git ``ref``.

    ``ref`` is checked out in a temporary worktree and served with its own package, so
    both servers run on the same machine at the same time of day: the ratio is the change.
    """
    import subprocess
    import tempfile

    from playwright.sync_api import sync_playwright

    other = Path(tempfile.mkdtemp(prefix="mi-lab-ref-")) / "checkout"
    git = ["git", "-C", str(ROOT)]
    subprocess.run([*git, "worktree", "add", "--detach", str(other), ref], check=True)
    servers = {}
    try:
        servers = {"now": VoilaServer(NOTEBOOKS), ref: VoilaServer(other / "notebooks", root=other)}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
            )
            browsers = Browsers(browser, shared_profile)
            times = _alternating_cold_opens(browsers, servers, labs, repeats)
            browser.close()
    finally:
        for server in servers.values():
            stop_server(server)
        subprocess.run([*git, "worktree", "remove", "--force", str(other)], check=False)
    return render_against(times, ref, repeats)


def _alternating_cold_opens(browsers, servers: dict, labs: list[str], repeats: int) -> dict:
    """lab -> server name -> cold-open times, the servers taking turns page by page."""
    times = {lab: {name: [] for name in servers} for lab in labs}
    for lab in labs:
        for _ in range(repeats):
            for name, server in servers.items():
                url = server.url(notebook_for(lab).name)
                times[lab][name].append(open_pages(browsers, url, 1)[0])
                LOADS.append(os.getloadavg()[0])
        print(lab, times[lab], flush=True)
    return times


def render_against(times: dict, ref: str, repeats: int) -> str:
    """The before/after table of :func:`against_run` (medians of ``repeats`` cold opens)."""
    lines = [
        f"| lab | cold, {ref} (s) | cold, now (s) | ratio (before / now) "
        f"| goal {GOAL_COLD_S:g} s |",
        "|---|---|---|---|---|",
    ]
    for lab, row in times.items():
        before, now = statistics.median(row[ref]), statistics.median(row["now"])
        met = "met" if now <= GOAL_COLD_S else "**not met**"
        lines.append(f"| {lab} | {before:.1f} | {now:.1f} | {before / now:.2f} | {met} |")
    load = f"{min(LOADS, default=0):.1f}-{max(LOADS, default=0):.1f}"
    lines.append(f"\nMedians of {repeats} cold opens each, taking turns; load average {load}.")
    return "\n".join(lines)


def plain_runs(browsers: Browsers, rows: dict, labs: list[str], repeats: int, pages: int) -> None:
    """Cold and ``pages``-at-once times of each lab against one plain ``mi-lab`` server."""
    server = VoilaServer(NOTEBOOKS)
    try:
        for lab in labs:
            url = server.url(notebook_for(lab).name)
            cold = [open_pages(browsers, url, 1)[0] for _ in range(repeats)]
            rows[lab]["cold"] = statistics.median(cold)
            rows[lab]["delivered"] = []
            rows[lab]["load"] = open_pages(browsers, url, pages, delivered=rows[lab]["delivered"])
            LOADS.append(os.getloadavg()[0])
            print(lab, rows[lab], flush=True)
    finally:
        stop_server(server)


def _number(value, spec: str = ".1f") -> str:
    return "-" if value is None or isinstance(value, str) else format(value, spec)


def _spread(times: list[float] | None) -> str:
    """Median / slowest; a page that never showed its app is counted as such."""
    if not times:
        return "-"
    never = sum(math.isinf(t) for t in times)
    slowest = f"never ({never} of {len(times)})" if never else f"{max(times):.1f}"
    return f"{statistics.median(times):.1f} / {slowest}"


#: Issue 16's goals, seconds until the app is visible: one page (cold), and the slowest of 8.
GOAL_COLD_S, GOAL_AT_ONCE_S = 8.0, 20.0


def render_goals(rows: dict, pages: int) -> str:
    """Which labs meet the issue's goals in which mode, as sentences."""

    def labs(test) -> str:
        met = [lab for lab, row in rows.items() if test(row)]
        return ", ".join(met) if met else "none"

    cold = labs(lambda row: "cold" in row and row["cold"] <= GOAL_COLD_S)
    plain = labs(lambda row: row.get("load") and max(row["load"]) <= GOAL_AT_ONCE_S)
    room = labs(
        lambda row: row.get("classroom") and max(row["classroom"]["times"]) <= GOAL_AT_ONCE_S
    )

    def served_and_drawn(row) -> bool:
        if not row.get("classroom") or not row.get("classroom_cold"):
            return False
        served = max(row["classroom"].get("delivered") or [math.inf])
        return served + row["classroom_cold"]["times"][0] <= GOAL_AT_ONCE_S

    served = labs(served_and_drawn)
    return (
        f"Goals met in this run: visible within {GOAL_COLD_S:g} s cold (one page, plain "
        f"`mi-lab`): {cold}. Slowest of {pages} pages at once visible within "
        f"{GOAL_AT_ONCE_S:g} s, all {pages} drawn by one browser on the server's two cores: "
        f"plain `mi-lab`: {plain}; classroom mode (`--classroom {pages}`): {room}. "
        f"In a class each student's browser draws only its own page: the slowest of {pages} "
        f"pages delivered plus one page drawn (classroom, 1 page) is within "
        f"{GOAL_AT_ONCE_S:g} s for: {served}."
    )


def render_table(rows: dict, pages: int) -> str:
    lines = [
        f"| lab | before: cold (s) | before: {pages} at once (s) | cold (s) "
        f"| plain, {pages} at once (s) | plain: slowest page delivered (s) "
        f"| classroom, 1 page (s) | classroom, {pages} at once (s) "
        "| classroom: slowest page delivered (s) | slowest: plain / classroom "
        "| pool filled after (s) | CPU before the app (s) | CPU whole notebook (s) "
        "| CPU whole notebook, BLAS threads as installed (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lab, row in rows.items():
        load, room = row.get("load"), row.get("classroom", {})
        one = row.get("classroom_cold", {}).get("times") or [None]
        ratio = "-"
        if load and room and math.isfinite(max(load) + max(room["times"])):
            ratio = f"{max(load) / max(room['times']):.1f}x"
        before = PREVIOUS.get(lab, ("-", "-"))
        cpu, threads = row.get("cpu", ("-", "-")), row.get("cpu_threads", ("-", "-"))
        lines.append(
            f"| {lab} | {before[0]} | {before[1]} | {_number(row.get('cold'))} "
            f"| {_spread(load)} | {_number(max(row.get('delivered') or [None]))} "
            f"| {_number(one[0])} | {_spread(room.get('times'))} "
            f"| {_number(max(room.get('delivered') or [None]), '.2f')} "
            f"| {ratio} | {_number(room.get('fill'), '.0f')} "
            f"| {_number(cpu[0])} | {_number(cpu[1])} | {_number(threads[1])} |"
        )
    return "\n".join(lines)


NOTES = """\
Reading the table: the two "before" columns are the previous table (2026-12-01 20:03, load
average 13.9), before classroom mode and one BLAS thread per kernel. "cold" opens one page at a
time against plain `mi-lab`; "plain, N at once" opens N pages of the same lab together (N
kernels start on two cores); "classroom, 1 page" opens one page from a pool of one, and
"classroom, N at once" N pages together against `mi-lab --classroom N --labs NN`, once its N
pre-heated kernels have run the notebook ("pool filled after": seconds from the server's start
until then; at most one kernel per core fills at a time). Every classroom page came from a
pre-heated kernel (checked in the log). "delivered" is when the page's HTML had fully arrived:
the server's part. Voila (progressive rendering off) sends the page once every cell has run.
All N pages are drawn by one Chromium on the same two cores as the server and the kernels, so
"visible" for N pages at once also counts N page loads (2.7 MB each, with BokehJS) and N
widget trees drawn by one browser; in a class each student's browser draws only its own page.
The CPU columns are the cells' CPU time in a fresh interpreter, imports included: with one
BLAS / OpenMP thread, as `mi-lab` now runs its kernels, and (last column) with the threads numpy
and scikit-learn take by default (two here), as before.

What changed: `mi-lab --classroom SEATS --labs NN,NN` keeps pre-heated kernels (README, "Serving
for a class"). `mi-lab` runs its kernels with `OMP_NUM_THREADS=1` (and OpenBLAS, MKL): on two
loaded cores idle BLAS / OpenMP threads spin while they wait, and the notebooks of labs 05, 07
and 08 took 1.4-2.9x the CPU with two threads (printed results identical in labs 02, 05, 07, 08
and 10). Earlier: lab 11 runs its four studies only when a button is pressed; lab 08's exercise
uses 4 k-means restarts instead of 10; `mi-lab` waits up to 120 s for a cell's last outputs.
Voila's progressive rendering showed apps earlier but lost clicks made while later cells still
ran (lab 02's peak picks), so it stays off.

Refill delay: a used pre-heated kernel is replaced after 30 s (`--fill-delay`). Refilling costs
what filling costs ("pool filled after": 7-60+ s of both cores for eight kernels); started at
once, it would run while the class's pages load and the students make their first clicks. A
page opened while every replacement still waits starts its own kernel, as in plain mode (tested
in `tests/test_server.py`), so a late student waits no longer than without classroom mode.

What remains in plain mode: every kernel imports numpy, scipy, scikit-learn, ase, bokeh and
ipywidgets (about 1.5 s of CPU) and runs the whole notebook; N pages at once share two cores,
so the slowest waits for about the sum of their CPU. The largest cells left are exercises after
the app (lab 07's autoencoder study, lab 08's TS-LPP parameter search, lab 05's six-coupling
fit) and lab 10's model comparison before its app.
"""


def write_section(table: str, fill_delay: float | None = None) -> None:
    machine = f"{platform.machine()}, Python {platform.python_version()}, 2 shared cores"
    section = (
        f"{SECTION}\n\n"
        f"Machine: {machine}; Debian Chromium headless at 1280x800; "
        f"{time.strftime('%Y-%m-%d %H:%M')} UTC, one-minute load average "
        f"{min(LOADS, default=0):.1f}-{max(LOADS, default=0):.1f} during the run; classroom "
        f"refill delay {'default' if fill_delay is None else f'{fill_delay:g} s'}."
        f"\n\n{table}\n\n{NOTES}"
    )
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
