"""``mi-lab``: serve the notebooks as Voila apps, or open them in JupyterLab."""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import shutil
import sys
from pathlib import Path

from mi_widgets._limits import WEBSOCKET_MAX_MESSAGE_BYTES
from mi_widgets._resources import notebooks_dir

#: The notebooks folder of a source checkout (``pip install -e .``).
NOTEBOOKS = notebooks_dir()

#: Kernels with no open tab are shut down after this many idle seconds, busy or not. A closing
#: tab frees its kernel at once (mi_widgets._server accepts Voila's shutdown beacon); the
#: culler catches tabs that vanished without closing (a crashed browser, a lost network).
#: Seconds the notebook executor waits for a cell's last outputs (nbclient's default is 4).
IOPUB_TIMEOUT_S = 120
CULL_IDLE_TIMEOUT_S = 120
CULL_INTERVAL_S = 20
#: Raise tornado's websocket cap so uploads up to the limit arrive (see mi_widgets._limits).
TORNADO_SETTINGS = f"{{'websocket_max_message_size': {WEBSOCKET_MAX_MESSAGE_BYTES}}}"


def voila_command(
    notebooks: Path, *, host: str = "127.0.0.1", port: int = 8866, open_browser: bool = False
) -> list[str]:
    """The Voila command line ``mi-lab`` runs.

    Voila runs through this interpreter (so ``mi-lab`` works from a venv that is not
    activated) as :mod:`mi_widgets._server`, Voila with safe kernel websockets.

    Examples
    --------
    >>> cmd = voila_command(Path("notebooks"), port=9000)
    >>> cmd[1:6]
    ['-m', 'mi_widgets._server', 'notebooks', '--port=9000', '--Voila.ip=127.0.0.1']
    """
    command = [
        sys.executable,
        "-m",
        "mi_widgets._server",
        str(notebooks),
        f"--port={port}",
        f"--Voila.ip={host}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL_S}",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_TIMEOUT_S}",
        "--MappingKernelManager.cull_connected=False",
        "--MappingKernelManager.cull_busy=True",
        f"--Voila.tornado_settings={TORNADO_SETTINGS}",
        # notebook 7's JupyterLab extension (pulled in by nglview) cannot load in Voila's page
        "--VoilaConfiguration.extension_denylist=['@jupyter-notebook/lab-extension']",
        # no progressive rendering: with it the app shows while later cells still run, and
        # clicks made before the notebook finishes are lost (measured: lab 02's peak picks)
        # with many kernels on few cores a cell's outputs can arrive after nbclient's default
        # 4 s wait for them, and would be dropped (a page without its app): wait longer
        f"--VoilaExecutor.iopub_timeout={IOPUB_TIMEOUT_S}",
    ]
    if not open_browser:
        command.append("--no-browser")
    return command


def lab_command(notebooks: Path, *, host: str = "127.0.0.1", port: int = 8888) -> list[str]:
    """The JupyterLab command line ``mi-lab --lab`` runs.

    Examples
    --------
    >>> lab_command(Path("notebooks"))[1:4]
    ['-m', 'jupyterlab', '--notebook-dir=notebooks']
    """
    return [
        sys.executable,
        "-m",
        "jupyterlab",
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
    parser.add_argument(
        "--token",
        default=None,
        help="require this token (?token=... in the URL); generated when the host is not local",
    )
    parser.add_argument(
        "--password",
        action="store_true",
        help="require a password (asked for, or read from $MI_LAB_PASSWORD)",
    )
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help="no token even on a network address (only behind a proxy that authenticates)",
    )
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help=argparse.SUPPRESS)
    return parser


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a public address


def auth_options(
    host: str, *, token: str | None, hashed_password: str | None, no_auth: bool
) -> tuple[list[str], str | None]:
    """Voila options and the token for the server's authentication (Jupyter's own).

    A token is generated when the host is not loopback and neither a token nor a
    password was given (unless ``no_auth``). The token travels in ``JUPYTER_TOKEN``
    (not on the command line, where other users could read it).

    Returns
    -------
    options : list of str
        Extra Voila command-line options.
    token : str or None
        The token to put in ``JUPYTER_TOKEN``; None for no token.

    Examples
    --------
    >>> auth_options("127.0.0.1", token=None, hashed_password=None, no_auth=False)
    ([], None)
    >>> options, token = auth_options("0.0.0.0", token=None, hashed_password=None, no_auth=False)
    >>> options, len(token) > 20
    (['--Voila.auto_token=True'], True)
    """
    if token is None and hashed_password is None and not no_auth and not is_loopback(host):
        token = secrets.token_urlsafe(24)
    options = []
    if token:
        options.append("--Voila.auto_token=True")  # the token then comes from JUPYTER_TOKEN
    if hashed_password:
        options.append(f"--PasswordIdentityProvider.hashed_password={hashed_password}")
    return options, token or None


def _hashed_password() -> str:
    """Ask for a password twice (or read $MI_LAB_PASSWORD) and hash it as Jupyter does."""
    from getpass import getpass

    from jupyter_server.auth import passwd

    password = os.environ.get("MI_LAB_PASSWORD")
    if password is None:
        password = getpass("mi-lab password: ")
        if getpass("again: ") != password:
            raise SystemExit("mi-lab: the two passwords differ")
    if not password:
        raise SystemExit("mi-lab: the password is empty")
    return passwd(password)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mi-lab`` command."""
    args = _parser().parse_args(argv)
    if not args.notebooks.is_dir():
        print(f"mi-lab: no notebooks folder at {args.notebooks}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    if args.lab:
        command = lab_command(args.notebooks, host=args.host, port=args.port or 8888)
        if args.no_browser:
            command.append("--no-browser")
    else:
        port = args.port or 8866
        command = voila_command(
            args.notebooks, host=args.host, port=port, open_browser=not args.no_browser
        )
        hashed = _hashed_password() if args.password else None
        options, token = auth_options(
            args.host, token=args.token, hashed_password=hashed, no_auth=args.no_auth
        )
        command.extend(options)
        if token:
            env["JUPYTER_TOKEN"] = token
        query = f"?token={token}" if token else ""
        print(
            f"mi-lab: serving the gallery at "
            f"http://{args.host}:{port}/voila/render/00_welcome.ipynb{query}"
        )
        print(f"mi-lab: every lab is listed at http://{args.host}:{port}/{query}  (Ctrl-C stops)")
    root = args.notebooks.resolve().parent
    if (root / "mi_widgets").is_dir():
        # kernels import the mi_widgets beside the notebooks, whatever is installed
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return _replace_process(command, env)


def _replace_process(command: list[str], env: dict[str, str]) -> int:
    """Become the server process, so that signals (Ctrl-C, a test's terminate) reach it."""
    executable = command[0] if os.path.isabs(command[0]) else shutil.which(command[0])
    if executable is None or not os.access(executable, os.X_OK):
        print(f"mi-lab: {command[0]} is not installed; run `pip install -e .`", file=sys.stderr)
        return 2
    if command[1:2] == ["-m"]:
        module = command[2].split(".")[0]
        try:
            __import__(module)
        except ImportError:
            print(f"mi-lab: {module} is not installed; run `pip install -e .`", file=sys.stderr)
            return 2
    os.execve(executable, command, env)
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
