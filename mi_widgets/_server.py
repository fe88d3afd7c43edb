"""The Voila server ``mi-lab`` runs: Voila 0.5 with a few handlers made safe.

Run it as ``python -m mi_widgets._server NOTEBOOKS [voila options]``; it accepts
every Voila option. Differences from ``voila``:

* Kernel websockets must select the ``v1.kernel.websocket.jupyter.org``
  subprotocol (Voila's own page always does). Voila 0.5.13 (the latest release)
  parses every outgoing binary message as v1; a legacy-protocol client that
  uploads a file makes it read an offset count near 1e18 from the first 8 bytes
  and loop on the server's only thread. Such clients get 400 before the
  handshake, and the header parse is bounded by the message length.
* ``/voila/templates/<bad path>`` and ``/logout`` answer 404 instead of 500.
* The app page sets the ``_xsrf`` cookie, so the shutdown request that Voila's
  page sends when its tab closes (``navigator.sendBeacon`` with that cookie's
  value) is accepted and the tab's kernel is freed at once.
* With pre-heated kernels (``--preheat_kernel=True``, ``mi-lab --classroom``), a
  page gets a pooled kernel that has finished its notebook if there is one, else
  one that has started and is running it; when every pooled kernel is still
  waiting out the refill delay (Voila would make the page wait for it), the page
  starts its own kernel, as without a pool. At most one pooled kernel per core
  starts and runs its notebook at a time (Voila starts them all at once: then each
  of dozens of kernels shares the cores with all the others, and each must answer
  the notebook executor within its 60 s start-up wait). The log says when each
  pooled kernel has run its notebook ("Pre-heated kernel ... is ready").
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import tornado.web
import voila.app
from voila.app import Voila
from voila.static_file_handler import TemplateStaticFileHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler, WebsocketHandler
from voila.voila_kernel_manager import voila_kernel_manager_factory

__all__ = [
    "KERNEL_PROTOCOL",
    "MiLabVoila",
    "header_from_binary_message",
    "main",
]

#: The kernel websocket subprotocol every client must select.
KERNEL_PROTOCOL = "v1.kernel.websocket.jupyter.org"
#: Pooled kernels that may start and run their notebooks at the same time.
FILL_CONCURRENCY = max(1, os.cpu_count() or 1)


def header_from_binary_message(message: bytes) -> dict | None:
    """The header of a v1 binary kernel message, or None if ``message`` is not one.

    The v1 layout is ``n`` (8 bytes, little endian), ``n`` offsets of 8 bytes,
    then the parts; the header lies between offsets 1 and 2. Unlike Voila's own
    reader, every number is checked against the message length before use, so
    any bytes take constant time.

    Examples
    --------
    >>> header_from_binary_message(b"\\x00" * 7 + b"\\x7f")  # a legacy message
    >>> import json
    >>> body = json.dumps({"msg_type": "comm_msg"}).encode()
    >>> message = (4).to_bytes(8, "little") + b"".join(
    ...     k.to_bytes(8, "little") for k in (40, 40, 40 + len(body), 40 + len(body))
    ... ) + body
    >>> header_from_binary_message(message)
    {'msg_type': 'comm_msg'}
    """
    size = len(message)
    if size < 8:
        return None
    n_offsets = int.from_bytes(message[:8], "little")
    if n_offsets < 3 or 8 * (n_offsets + 1) > size:
        return None
    start = int.from_bytes(message[16:24], "little")
    stop = int.from_bytes(message[24:32], "little")
    if not 8 * (n_offsets + 1) <= start <= stop <= size:
        return None
    try:
        header = json.loads(message[start:stop].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return header if isinstance(header, dict) else None


class V1KernelWebsocketHandler(VoilaKernelWebsocketHandler):
    """Voila's kernel websocket, for clients that select the v1 protocol only."""

    async def get(self, *args, **kwargs):
        offered = self.request.headers.get("Sec-WebSocket-Protocol", "")
        if KERNEL_PROTOCOL not in {part.strip() for part in offered.split(",")}:
            self.set_status(400)
            self.finish(f"This server speaks only the {KERNEL_PROTOCOL} kernel protocol.")
            return None
        return await super().get(*args, **kwargs)

    def write_message(self, message, binary=False):
        if isinstance(message, bytes):
            header = header_from_binary_message(message)
        elif isinstance(message, dict):
            header = message.get("header")
        else:
            header = None
        if isinstance(header, dict) and header.get("msg_type") == "execute_input":
            return None  # Voila hides the code it runs
        return WebsocketHandler.write_message(self, message, binary)


class TemplateFileHandler(TemplateStaticFileHandler):
    """Voila's template files; a path that is not ``<template>/static/<file>`` is 404."""

    def parse_url_path(self, path):
        parts = path.split("/", 2)
        if len(parts) < 3 or parts[1] != "static" or not parts[0] or not parts[2]:
            raise tornado.web.HTTPError(404)
        try:
            return super().parse_url_path(path)
        except (AssertionError, ValueError):
            raise tornado.web.HTTPError(404) from None

    @classmethod
    def get_absolute_path(cls, root, path):
        try:
            return super().get_absolute_path(root, path)
        except (AssertionError, ValueError):
            raise tornado.web.HTTPError(404) from None


class NotFoundHandler(tornado.web.RequestHandler):
    """A plain 404 (Voila has no logout page)."""

    def prepare(self):
        raise tornado.web.HTTPError(404)


class AppPageHandler(TornadoVoilaHandler):
    """Voila's app page, which also sets the ``_xsrf`` cookie its tab-close beacon sends."""

    async def get(self, path=None):
        self.xsrf_token  # noqa: B018 - reading the token sets the cookie
        return await super().get(path)


def _readiness(pool_item) -> int:
    """2: the pool entry's kernel has run its notebook; 1: it is running it; 0: not started."""
    if not pool_item.done() or pool_item.cancelled() or pool_item.exception() is not None:
        return 0
    return 2 if pool_item.result()["task"].done() else 1


def kernel_manager_factory(base_class, preheat_kernel, default_pool_size, page_config_hook=None):
    """Voila's kernel manager class, whose pools hand out ready kernels first and log them."""
    manager = voila_kernel_manager_factory(
        base_class, preheat_kernel, default_pool_size, page_config_hook
    )
    if not preheat_kernel:
        return manager

    class ReadyFirstKernelManager(manager):
        """Voila's ``VoilaKernelManager`` (its config section name still applies)."""

        _fill_slots: asyncio.Semaphore | None = None

        async def _initialize(self, notebook_path, kernel_id=None, **kwargs):
            if kernel_id is not None:  # a restart of a kernel in use, not a pool fill
                return await super()._initialize(notebook_path, kernel_id, **kwargs)
            if self._fill_slots is None:
                self._fill_slots = asyncio.Semaphore(FILL_CONCURRENCY)
            await self._fill_slots.acquire()
            try:
                content = await super()._initialize(notebook_path, kernel_id, **kwargs)
            except BaseException:
                self._fill_slots.release()
                raise
            content["task"].add_done_callback(lambda _: self._ready(content, notebook_path))
            return content

        def _ready(self, content, notebook_path):
            self._fill_slots.release()
            self.log.info(
                "Pre-heated kernel %s for %s is ready", content["kernel_id"], notebook_path
            )

        def get_pool_size(self, notebook_name):
            """Pooled kernels that have started (0 makes Voila's handler start a kernel)."""
            return sum(_readiness(item) > 0 for item in self._pools.get(notebook_name, []))

        async def get_rendered_notebook(self, notebook_name, *args, **kwargs):
            pool = self._pools.get(notebook_name, [])
            if pool:
                best = max(range(len(pool)), key=lambda k: _readiness(pool[k]))
                pool.insert(0, pool.pop(best))
            return await super().get_rendered_notebook(notebook_name, *args, **kwargs)

    return ReadyFirstKernelManager


class MiLabVoila(Voila):
    """Voila with the handlers above in place of Voila's own."""

    def init_settings(self):
        factory = voila.app.voila_kernel_manager_factory
        voila.app.voila_kernel_manager_factory = kernel_manager_factory
        try:
            return super().init_settings()
        finally:
            voila.app.voila_kernel_manager_factory = factory

    def init_handlers(self) -> list:
        replacements = {
            VoilaKernelWebsocketHandler: V1KernelWebsocketHandler,
            TemplateStaticFileHandler: TemplateFileHandler,
            TornadoVoilaHandler: AppPageHandler,
        }
        handlers = []
        for pattern, handler, *rest in super().init_handlers():
            if str(pattern).rstrip("/$").endswith("/logout"):
                handler, rest = NotFoundHandler, []
            handlers.append((pattern, replacements.get(handler, handler), *rest))
        return handlers


def main(argv: list[str] | None = None) -> None:
    """Start the server (``python -m mi_widgets._server``)."""
    MiLabVoila.launch_instance(argv=argv)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
