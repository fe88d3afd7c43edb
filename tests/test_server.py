"""The server ``mi-lab`` runs: a scripted client cannot freeze it, and bad paths are 404.

Every connection goes to 127.0.0.1 and every loop is bounded.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import nbformat
import pytest
from browser_helpers import poll_until

from mi_widgets import cli
from mi_widgets._server import KERNEL_PROTOCOL, header_from_binary_message
from tests.conftest import VoilaServer

psutil = pytest.importorskip("psutil")
websocket = pytest.importorskip("tornado.websocket")

#: An upload whose handler sends binary state back (as a lab's redraw does).
UPLOAD_NOTEBOOK = """\
import ipywidgets as widgets
from mi_widgets.viz.upload import read_upload, upload_button
button, preview = upload_button(), widgets.Image()
button.observe(lambda _: setattr(preview, "value", read_upload(button).content), "value")
widgets.VBox([button, preview])"""


@pytest.fixture(scope="module")
def upload_notebooks(tmp_path_factory):
    """A notebooks folder with one notebook that shows an upload button."""
    folder = tmp_path_factory.mktemp("notebooks")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(UPLOAD_NOTEBOOK)]
    nbformat.write(notebook, folder / "upload.ipynb")
    return folder


@pytest.fixture(scope="module")
def upload_server(upload_notebooks):
    """``mi-lab`` serving the upload notebook."""
    server = VoilaServer(upload_notebooks)
    yield server
    server.stop()


def _get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _kernel_id(server: VoilaServer) -> str:
    """Open the app page (this starts its kernel) and read the kernel id from it."""
    status, page = _get(server.url("upload.ipynb"), timeout=120)
    assert status == 200
    return re.search(rb'"kernelId": *"([0-9a-f-]+)"', page).group(1).decode()


def _message(msg_type: str, content: dict, channel: str = "shell") -> dict:
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "username": "x",
        "session": "s",
        "date": "",
        "version": "5.3",
    }
    return {
        "header": header,
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": channel,
        "buffers": [],
    }


def _legacy_binary(message: dict, buffers: list[bytes]) -> bytes:
    """The legacy (pre-v1) binary websocket frame: big-endian offsets, JSON, buffers."""
    parts = [json.dumps(message).encode(), *buffers]
    offsets, position = [], 4 * (len(parts) + 1)
    for part in parts:
        offsets.append(position)
        position += len(part)
    return struct.pack(f">{len(parts) + 1}I", len(parts), *offsets) + b"".join(parts)


async def _legacy_upload(base: str, kernel_id: str, n_bytes: int) -> str:
    """Connect without the v1 subprotocol, find the upload widget, and upload ``n_bytes``.

    Returns what happened: "refused" (no connection) or "sent".
    """
    url = base.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?session_id=s"
    try:
        connection = await websocket.websocket_connect(url, connect_timeout=10)
    except (websocket.WebSocketError, OSError, Exception) as error:
        if getattr(error, "code", None) == 400 or "400" in str(error):
            return "refused"
        raise

    async def replies(msg_type: str, limit: int = 50) -> list[dict]:
        found = []
        for _ in range(limit):  # bounded: a few dozen messages at most
            try:
                raw = await asyncio.wait_for(connection.read_message(), timeout=10)
            except asyncio.TimeoutError:
                break
            if raw is None:
                break
            if isinstance(raw, str):
                message = json.loads(raw)
                if message["header"]["msg_type"] == msg_type:
                    found.append(message)
                    if msg_type == "comm_info_reply":
                        break
        return found

    await connection.write_message(
        json.dumps(_message("comm_info_request", {"target_name": "jupyter.widget"}))
    )
    comms = (await replies("comm_info_reply"))[0]["content"]["comms"]
    for comm_id in list(comms)[:50]:
        request = _message("comm_msg", {"comm_id": comm_id, "data": {"method": "request_state"}})
        await connection.write_message(json.dumps(request))
    states = await replies("comm_msg", limit=2 * len(comms) + 10)
    upload_id = next(
        m["content"]["comm_id"]
        for m in states
        if m["content"]["data"].get("state", {}).get("_model_name") == "FileUploadModel"
    )
    payload = b"x" * n_bytes
    entry = {"name": "a.csv", "type": "text/csv", "size": n_bytes, "last_modified": 0}
    update = _message(
        "comm_msg",
        {
            "comm_id": upload_id,
            "data": {
                "method": "update",
                "state": {"value": [entry]},
                "buffer_paths": [["value", 0, "content"]],
            },
        },
    )
    await connection.write_message(_legacy_binary(update, [payload]), binary=True)
    # stay connected while the kernel echoes the upload (that echo is what Voila 0.5 parses)
    for _ in range(20):
        try:
            if await asyncio.wait_for(connection.read_message(), timeout=3) is None:
                break
        except asyncio.TimeoutError:
            break
    connection.close()
    return "sent"


def _rss(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def _run_in_own_loop(coroutine):
    """Run a coroutine on a fresh event loop in its own thread.

    Playwright's sync API (used by the browser tests of the same session) keeps an event
    loop running in the main thread, where ``asyncio.run`` is refused.
    """
    outcome = {}

    def target():
        outcome["value"] = asyncio.run(coroutine)

    worker = threading.Thread(target=target)
    worker.start()
    worker.join(timeout=120)
    assert "value" in outcome, "the scripted client did not finish"
    return outcome["value"]


@pytest.mark.slow
def test_legacy_protocol_upload_does_not_freeze_the_server(upload_server):
    kernel_id = _kernel_id(upload_server)
    rss_before = _rss(upload_server.process.pid)
    outcome = _run_in_own_loop(_legacy_upload(upload_server.base, kernel_id, 1024))
    assert outcome == "refused"
    for _ in range(3):  # the server keeps answering, and its memory stays flat
        started = time.monotonic()
        status, _ = _get(upload_server.base + "/", timeout=5)
        assert status == 200 and time.monotonic() - started < 5
    assert _rss(upload_server.process.pid) - rss_before < 30


@pytest.mark.slow
def test_bad_paths_answer_404_without_a_traceback(upload_server):
    for path in (
        "/voila/templates/..%2F",
        "/voila/templates/..%2F..%2Fetc%2Fpasswd",
        "/voila/templates/lab/x",
        "/voila/templates/lab/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/logout",
    ):
        status, body = _get(upload_server.base + path)
        assert status == 404, path
        assert b"Traceback" not in body
    assert _get(upload_server.base + "/voila/templates/lab/static/index.css")[0] == 200
    assert "Uncaught exception" not in upload_server.log_path.read_text()


def test_header_parse_is_bounded_by_the_message_length():
    legacy = _legacy_binary(_message("comm_msg", {}), [b"x" * 1024])
    assert header_from_binary_message(legacy) is None
    assert header_from_binary_message(b"\xff" * 8 + b"\x00" * 100) is None
    assert header_from_binary_message(b"") is None
    body = json.dumps({"msg_type": "execute_input"}).encode()
    offsets = [40, 40, 40 + len(body), 40 + len(body)]
    v1 = struct.pack("<5Q", 4, *offsets) + body
    assert header_from_binary_message(v1) == {"msg_type": "execute_input"}
    assert KERNEL_PROTOCOL.startswith("v1.")


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.slow
def test_closing_a_tab_frees_its_kernel(upload_server):
    """Replays the beacon Voila's page sends on ``beforeunload`` (FormData with the cookie)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(upload_server.url("upload.ipynb"), timeout=120).read()
    kernel_id = re.search(rb'"kernelId": *"([0-9a-f-]+)"', page).group(1).decode()
    xsrf = next(cookie.value for cookie in jar if cookie.name == "_xsrf")
    kernel_url = f"{upload_server.base}/api/kernels/{kernel_id}"
    assert opener.open(kernel_url, timeout=10).status == 200
    body, content_type = _multipart({"_xsrf": xsrf})
    request = urllib.request.Request(
        f"{upload_server.base}/voila/api/shutdown/{kernel_id}",
        data=body,
        headers={"Content-Type": content_type},
    )
    assert opener.open(request, timeout=30).status == 204
    with pytest.raises(urllib.error.HTTPError) as gone:
        opener.open(kernel_url, timeout=10)
    assert gone.value.code == 404


@pytest.mark.slow
def test_token_is_required_when_given(upload_notebooks):
    server = VoilaServer(upload_notebooks, extra_args=("--token", "s3cret-token"))
    try:
        status, page = _get(server.base + "/voila/render/upload.ipynb")
        assert b"kernelId" not in page and b"/login" in page  # sent to the login page
        status, page = _get(server.base + "/?token=s3cret-token")
        assert status == 200 and b"voila-tree-main" in page
        # mi-lab became the server (execve); its command line does not show the token
        assert "s3cret-token" not in " ".join(psutil.Process(server.process.pid).cmdline())
    finally:
        server.stop()


def test_a_network_host_gets_a_generated_token(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(cli, "_replace_process", lambda command, env: calls.append((command, env)))
    monkeypatch.delenv("JUPYTER_TOKEN", raising=False)
    cli.main(["--host", "0.0.0.0", "--no-browser"])
    command, env = calls[-1]
    token = env["JUPYTER_TOKEN"]
    assert len(token) >= 24 and "--Voila.auto_token=True" in command
    assert token not in " ".join(command)  # not on the command line, where `ps` shows it
    assert f"?token={token}" in capsys.readouterr().out
    cli.main(["--host", "127.0.0.1", "--no-browser"])
    assert "JUPYTER_TOKEN" not in calls[-1][1]
    cli.main(["--host", "0.0.0.0", "--no-auth", "--no-browser"])
    assert "JUPYTER_TOKEN" not in calls[-1][1]
    monkeypatch.setenv("MI_LAB_PASSWORD", "a password")
    cli.main(["--host", "0.0.0.0", "--password", "--no-browser"])
    command, env = calls[-1]
    assert "JUPYTER_TOKEN" not in env
    assert any(
        option.startswith("--PasswordIdentityProvider.hashed_password=argon2") for option in command
    )


def test_mi_lab_runs_voila_through_its_own_interpreter(monkeypatch, tmp_path):
    """A venv that is not activated has no `voila` on PATH; mi-lab must not need it."""
    monkeypatch.setenv("PATH", str(tmp_path))
    ran = []
    monkeypatch.setattr(cli.os, "execve", lambda path, command, env: ran.append(path))
    assert cli.main(["--no-browser"]) == 0
    assert ran == [sys.executable]


@pytest.mark.slow
@pytest.mark.browser
def test_closing_a_browser_tab_frees_its_kernel(upload_server, browser_context):
    page = browser_context.new_page()
    page.goto(upload_server.url("upload.ipynb"), wait_until="domcontentloaded", timeout=120_000)
    page.locator(".widget-upload").first.wait_for(timeout=120_000)
    page.wait_for_function("() => document.cookie.includes('_xsrf=')", timeout=30_000)
    kernel_id = re.search(r'"kernelId": *"([0-9a-f-]+)"', page.content()).group(1)
    kernel_url = f"{upload_server.base}/api/kernels/{kernel_id}"
    assert _get(kernel_url)[0] == 200
    page.close(run_before_unload=True)  # the page sends its shutdown beacon
    poll_until(lambda: _get(kernel_url)[0] == 404, timeout_s=30)
    assert _get(kernel_url)[0] == 404, "the kernel of the closed tab is still running"


def test_kernels_without_a_tab_are_culled_even_when_busy():
    command = cli.voila_command(cli.NOTEBOOKS)
    assert "--MappingKernelManager.cull_connected=False" in command
    assert "--MappingKernelManager.cull_busy=True" in command
    assert f"--MappingKernelManager.cull_idle_timeout={cli.CULL_IDLE_TIMEOUT_S}" in command


def _wait_for_log(server: VoilaServer, pattern: str, count: int = 1) -> list[str]:
    """Matches of ``pattern`` in the server's log, once there are ``count`` (bounded wait)."""

    def found() -> list[str]:
        return re.findall(pattern, server.log_path.read_text())

    if poll_until(lambda: len(found()) >= count, timeout_s=300):
        return found()
    raise AssertionError(f"{pattern!r} not in the log: {server.log_path.read_text()[-2000:]}")


@pytest.mark.slow
def test_classroom_page_starts_its_own_kernel_while_the_refill_waits(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider()")]
    nbformat.write(notebook, tmp_path / "01_slider.ipynb")
    server = VoilaServer(tmp_path, extra_args=("--classroom", "1", "--fill-delay", "600"))
    try:
        ready = _wait_for_log(
            server, r"Pre-heated kernel ([0-9a-f-]+) for 01_slider.ipynb is ready"
        )
        pages = [_get(server.url("01_slider.ipynb"), timeout=120)[1] for _ in range(2)]
        kernels = [re.search(rb'"kernelId": *"([0-9a-f-]+)"', p).group(1).decode() for p in pages]
        assert kernels[0] == ready[0] and kernels[1] != kernels[0]
        assert all(b"IntSliderModel" in page or b"widget-view" in page for page in pages)
        log = server.log_path.read_text()
        assert log.count("Using pre-heated kernel") == 1  # the refill waits its 600 s
    finally:
        server.stop()
