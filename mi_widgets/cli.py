"""``mi-lab``: serve the notebooks as Voila apps, or open them in JupyterLab."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from mi_widgets._limits import WEBSOCKET_MAX_MESSAGE_BYTES
from mi_widgets._resources import notebooks_dir

#: The notebooks folder of a source checkout (``pip install -e .``).
NOTEBOOKS = notebooks_dir()

#: Kernels of closed tabs are shut down after this many idle seconds (Voila does not do it).
CULL_IDLE_TIMEOUT_S = 120
CULL_INTERVAL_S = 20
#: Raise tornado's websocket cap so uploads up to the limit arrive (see mi_widgets._limits).
TORNADO_SETTINGS = f"{{'websocket_max_message_size': {WEBSOCKET_MAX_MESSAGE_BYTES}}}"


def voila_command(
    notebooks: Path, *, host: str = "127.0.0.1", port: int = 8866, open_browser: bool = False
) -> list[str]:
    """The Voila command line ``mi-lab`` runs.

    Examples
    --------
    >>> cmd = voila_command(Path("notebooks"), port=9000)
    >>> cmd[:4]
    ['voila', 'notebooks', '--port=9000', '--Voila.ip=127.0.0.1']
    """
    command = [
        "voila",
        str(notebooks),
        f"--port={port}",
        f"--Voila.ip={host}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL_S}",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_TIMEOUT_S}",
        "--MappingKernelManager.cull_connected=False",
        f"--Voila.tornado_settings={TORNADO_SETTINGS}",
        # notebook 7's JupyterLab extension (pulled in by nglview) cannot load in Voila's page
        "--VoilaConfiguration.extension_denylist=['@jupyter-notebook/lab-extension']",
    ]
    if not open_browser:
        command.append("--no-browser")
    return command


def lab_command(notebooks: Path, *, host: str = "127.0.0.1", port: int = 8888) -> list[str]:
    """The JupyterLab command line ``mi-lab --lab`` runs.

    Examples
    --------
    >>> lab_command(Path("notebooks"))[:3]
    ['jupyter', 'lab', '--notebook-dir=notebooks']
    """
    return [
        "jupyter",
        "lab",
        f"--notebook-dir={notebooks}",
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={port}",
        f"--ServerApp.tornado_settings={TORNADO_SETTINGS}",
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mi-lab",
        description="Serve the mi-lab notebooks as Voila apps (the gallery is 00_welcome).",
    )
    parser.add_argument("--port", type=int, default=None, help="port (default 8866, lab 8888)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--lab", action="store_true", help="open JupyterLab instead of Voila")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mi-lab`` command."""
    args = _parser().parse_args(argv)
    if not args.notebooks.is_dir():
        print(f"mi-lab: no notebooks folder at {args.notebooks}", file=sys.stderr)
        return 2
    if args.lab:
        command = lab_command(args.notebooks, host=args.host, port=args.port or 8888)
        if args.no_browser:
            command.append("--no-browser")
    else:
        port = args.port or 8866
        command = voila_command(
            args.notebooks, host=args.host, port=port, open_browser=not args.no_browser
        )
        print(
            f"mi-lab: serving the gallery at http://{args.host}:{port}/voila/render/00_welcome.ipynb"
        )
        print(f"mi-lab: every lab is listed at http://{args.host}:{port}/  (Ctrl-C stops)")
    env = dict(os.environ)
    root = args.notebooks.resolve().parent
    if (root / "mi_widgets").is_dir():
        # kernels import the mi_widgets beside the notebooks, whatever is installed
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return _replace_process(command, env)


def _replace_process(command: list[str], env: dict[str, str]) -> int:
    """Become the server process, so that signals (Ctrl-C, a test's terminate) reach it."""
    executable = shutil.which(command[0])
    if executable is None:
        print(f"mi-lab: {command[0]} is not installed; run `pip install -e .`", file=sys.stderr)
        return 2
    os.execve(executable, command, env)
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
