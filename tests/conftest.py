"""Shared fixtures: a Voila server as ``mi-lab`` runs it, and a headless Chromium page."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser_helpers import JS_COUNT_MUTATIONS, poll_until, wait_for_idle

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path(os.environ.get("MI_LAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: JavaScript that lists what Voila shows as failures: error/stderr outputs and widget errors.
JS_ERROR_OUTPUTS = """() => {
  const found = [];
  for (const el of document.querySelectorAll(
      '[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output.jp-mod-error'))
    found.push(el.innerText.slice(0, 300));
  for (const el of document.querySelectorAll('.jupyter-widgets, .widget-box, body')) {
    const t = el.innerText || '';
    const at = Math.max(t.indexOf('Error displaying widget'),
                        t.indexOf('There was an error when executing'));
    if (at >= 0) { found.push(t.slice(at, at + 300)); break; }
  }
  return found;
}"""
#: Console messages that are known noise (see STACK.md), not failures.
CONSOLE_NOISE = (
    "fontawesome",
    "font-awesome",
    "favicon",
    "version",
    "ERR_NAME_NOT_RESOLVED",
    "ERR_INTERNET_DISCONNECTED",
    "Failed to load resource",
)


def run_script(name: str, *args: object) -> subprocess.CompletedProcess:
    """Run ``scripts/<name>`` with this interpreter, the checkout first on the import path.

    Raises ``CalledProcessError`` (with the script's output) if it fails.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "scripts" / name), *map(str, args)]
    return subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=env)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class VoilaServer:
    """A running ``mi-lab`` (Voila) server on a free local port."""

    def __init__(self, notebooks: Path, extra_args: tuple[str, ...] = (), root: Path = ROOT):
        """Serve ``notebooks`` with the ``mi_widgets`` of the checkout at ``root``."""
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkstemp(prefix="voila-", suffix=".log")[1])
        command = [
            sys.executable,
            "-m",
            "mi_widgets.cli",
            "--no-browser",
            f"--port={self.port}",
            f"--notebooks={notebooks}",
            *extra_args,
        ]
        env = dict(os.environ, PYTHONPATH=str(root))
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command, cwd=root, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_until_up()

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"Voila exited: {self.log_path.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(self.base + "/", timeout=2)
        except OSError:
            return False
        return True

    def _wait_until_up(self, timeout: float = 60.0) -> None:
        if poll_until(self._answers, timeout_s=timeout, interval_s=0.3):
            return
        raise RuntimeError(
            f"Voila did not start in {timeout} s: {self.log_path.read_text()[-2000:]}"
        )

    def url(self, notebook: str) -> str:
        """The Voila app URL of ``notebooks/<notebook>``."""
        return f"{self.base}/voila/render/{notebook}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def _browser_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists()


@pytest.fixture(scope="session")
def voila_server() -> Iterator[VoilaServer]:
    """Serve ``notebooks/`` with Voila exactly as ``mi-lab`` does."""
    if not _browser_available():
        pytest.skip(f"browser tests need playwright and Chromium at {CHROMIUM}")
    server = VoilaServer(NOTEBOOKS)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_context():
    """One headless Chromium (Debian's) for the session, with a fresh profile."""
    if not _browser_available():
        pytest.skip(f"browser tests need playwright and Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="mi-lab-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def new_page(context):
    """A new page that records console errors and counts DOM changes (see browser_helpers)."""
    page = context.new_page()
    page.add_init_script(JS_COUNT_MUTATIONS)
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(f"pageerror: {e}"))
    return page


def wait_for_voila(page, timeout_ms: int = 120_000) -> None:
    """Wait until Voila has run every cell and the widgets have rendered."""
    page.wait_for_function(
        """() => { const c = document.getElementById('rendered_cells');
                   return c && getComputedStyle(c).display !== 'none'; }""",
        timeout=timeout_ms,
    )
    wait_for_idle(page, timeout_s=timeout_ms / 1000)


def error_outputs(page) -> list[str]:
    """Texts of the error outputs Voila shows on the page."""
    return page.evaluate(JS_ERROR_OUTPUTS)


@pytest.fixture
def open_app(request, voila_server, browser_context) -> Iterator[Callable]:
    """Open a notebook as a Voila app: ``page = open_app("01_x.ipynb")``.

    The page records console errors in ``page.console_errors``; on test failure a
    screenshot goes to ``tests/artifacts/<test name>.png``.
    """
    pages = []

    def _open(notebook: str, *, wait_for: str | None = ".mi-lab-app, .widget-box"):
        page = new_page(browser_context)
        pages.append(page)
        page.goto(voila_server.url(notebook), wait_until="domcontentloaded", timeout=120_000)
        wait_for_voila(page)
        if wait_for:
            page.locator(wait_for).first.wait_for(state="visible", timeout=60_000)
        return page

    yield _open
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for k, page in enumerate(pages):
        if failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
            page.screenshot(path=str(ARTIFACTS / f"{name}-{k}.png"), full_page=True)
        page.close()


@pytest.fixture
def open_shared_app(open_app) -> Callable:
    """The same as ``open_app``: every test gets a fresh page, so no test sees another's state.

    (A page shared by a module's tests was mutated across them; kept as a name only.)
    """
    return open_app


@pytest.fixture
def screenshot_on_failure(request):
    """Call with a page; if the test fails, its screenshot goes to tests/artifacts/."""
    pages = []
    yield pages.append
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        for k, page in enumerate(pages):
            page.screenshot(path=str(ARTIFACTS / f"{name}-{k}.png"), full_page=True)


def real_console_errors(page) -> list[str]:
    """Console errors that are not known harmless noise."""
    return [
        e for e in page.console_errors if not any(n.lower() in e.lower() for n in CONSOLE_NOISE)
    ]


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item (for screenshots on failure)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def pytest_collection_modifyitems(config, items):
    """Keep every browser test on one worker (``pytest`` runs two, ``--dist=loadgroup``).

    That worker then holds the single Voila server and Chromium; both run the other tests.
    """
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


#: Niceness of the tests that run beside the browser tests (two workers share two cores).
NICE_BESIDE_BROWSER = 10


def pytest_runtest_setup(item):
    """With two workers, run the tests beside the browser tests at a lower CPU priority.

    A browser test waits on a Voila server, a kernel and Chromium; when the other worker's
    computations took their CPU, pages showed widget errors (Voila's front end waits only
    4 s for a kernel's widget states, the likely cause). Niced, the other tests use the CPU
    the browser side leaves idle. Raising the niceness is always allowed; lowering it back
    needs privileges, so without them a worker that ran other tests stays niced.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:  # one process: nothing runs beside
        return
    wanted = 0 if item.get_closest_marker("browser") else NICE_BESIDE_BROWSER
    if os.getpriority(os.PRIO_PROCESS, 0) != wanted:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, wanted)
        except PermissionError:
            pass
