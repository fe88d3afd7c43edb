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
#: Each kernel uses one BLAS / OpenMP thread (unless the environment says otherwise). A server
#: runs one kernel per open page on few cores, so the kernels are the parallelism; extra threads
#: on small matrices only spin while they wait. Measured on two loaded cores, CPU seconds of a
#: whole notebook: lab 05 6.1 -> 3.5, lab 07 8.9 -> 4.5, lab 08 7.5 -> 4.6, same printed results.
KERNEL_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: Memory of one kernel that has run its lab, MB (resident size measured after lab 08's
#: notebook: 231 MB; lab 05's: 178 MB), rounded up for the plots and data a class adds.
KERNEL_MB = 250
#: Seconds a used pre-heated kernel waits before its replacement starts. A replacement costs
#: 2-8 CPU seconds (its notebook); started at once, eight of them compete with the eight pages
#: still loading and with the students' first clicks (see benchmarks/RESULTS.md). A page opened
#: while every replacement still waits starts its own kernel (mi_widgets._server).
CLASSROOM_FILL_DELAY_S = 30


def voila_command(
    notebooks: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8866,
    open_browser: bool = False,
    classroom: dict[str, int] | None = None,
    fill_delay: float = CLASSROOM_FILL_DELAY_S,
) -> list[str]:
    """The Voila command line ``mi-lab`` runs.

    Voila runs through this interpreter (so ``mi-lab`` works from a venv that is not
    activated) as :mod:`mi_widgets._server`, Voila with safe kernel websockets.

    Parameters
    ----------
    notebooks : Path
        The folder of notebooks to serve.
    host, port : str, int
        Where to listen.
    open_browser : bool
        Whether Voila opens a browser tab.
    classroom : dict of str to int, optional
        Notebook file name -> pre-heated kernels to keep ready for it (see
        :func:`classroom_options`); None or empty for none (each page starts its kernel).
    fill_delay : float
        With ``classroom``: seconds before a used kernel's replacement starts.

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
    if classroom:
        command.extend(classroom_options(classroom, fill_delay))
    if not open_browser:
        command.append("--no-browser")
    return command


def classroom_options(
    seats: dict[str, int], fill_delay: float = CLASSROOM_FILL_DELAY_S
) -> list[str]:
    """Voila options that keep pre-heated kernels ready for some notebooks.

    A pre-heated kernel has already run its notebook, so its page shows at once. Voila keeps
    one pool per notebook; a used kernel is replaced after ``fill_delay`` seconds. Notebooks
    not in ``seats`` get no pool (their pages start a kernel, as without this option).
    Pooled kernels are never culled; a used one is culled like any other.

    Parameters
    ----------
    seats : dict of str to int
        Notebook file name (relative to the served folder) -> kernels to keep ready.
    fill_delay : float
        Seconds before a used kernel's replacement starts.

    Examples
    --------
    >>> classroom_options({"08_x.ipynb": 2})[:2]
    ['--preheat_kernel=True', '--VoilaKernelManager.fill_delay=30']
    >>> classroom_options({"08_x.ipynb": 2})[2].split("=", 1)[1]
    "{'default': {'pool_size': 0}, '08_x.ipynb': {'pool_size': 2}}"
    """
    pools = {"default": {"pool_size": 0}}
    pools.update({name: {"pool_size": int(n)} for name, n in seats.items()})
    return [
        "--preheat_kernel=True",
        f"--VoilaKernelManager.fill_delay={fill_delay:g}",
        f"--VoilaKernelManager.kernel_pools_config={pools!r}",
    ]


def classroom_seats(notebooks: Path, seats: int, labs: str | None) -> dict[str, int]:
    """Notebook file name -> ``seats`` for the labs named in ``labs`` ("05,08"; None: all).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("00_welcome.ipynb", "05_h.ipynb", "08_t.ipynb"):
    ...     _ = (folder / name).write_text("{}")
    >>> classroom_seats(folder, 8, "5,08")
    {'05_h.ipynb': 8, '08_t.ipynb': 8}
    >>> len(classroom_seats(folder, 2, None))
    3
    """
    if seats < 1:
        raise SystemExit("mi-lab: --classroom needs at least 1 seat")
    found = {path.name[:2]: path.name for path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))}
    if labs is None:
        return dict.fromkeys(found.values(), seats)
    chosen = {}
    for lab in filter(None, (part.strip() for part in labs.split(","))):
        key = lab.zfill(2)
        if key not in found:
            raise SystemExit(f"mi-lab: no lab {lab}; the labs are {', '.join(found)}")
        chosen[found[key]] = seats
    return chosen


def check_memory(seats: dict[str, int], available_mb: float | None) -> str:
    """A line on the memory pre-heated kernels take; SystemExit if more than is available.

    Examples
    --------
    >>> check_memory({"05_h.ipynb": 8}, 16000)
    'mi-lab: 8 pre-heated kernels (~2.0 GB of memory, ~250 MB per seat and lab)'
    """
    n = sum(seats.values())
    need = n * KERNEL_MB
    line = (
        f"mi-lab: {n} pre-heated kernels (~{need / 1000:.1f} GB of memory, "
        f"~{KERNEL_MB} MB per seat and lab)"
    )
    if available_mb is not None and need > 0.8 * available_mb:
        raise SystemExit(
            f"{line}, but only {available_mb / 1000:.1f} GB is available: "
            "choose fewer labs (--labs 05,08) or fewer seats"
        )
    return line


def available_memory_mb() -> float | None:
    """MemAvailable from /proc/meminfo in MB, or None where there is no such file."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


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
    parser.add_argument(
        "--classroom",
        type=int,
        metavar="SEATS",
        default=None,
        help=(
            "keep SEATS pre-heated kernels ready for each lab in --labs, so that a class "
            f"opening them at once sees the apps at once (~{KERNEL_MB} MB of memory per seat "
            f"and lab; a used kernel is replaced after {CLASSROOM_FILL_DELAY_S} s). "
            "Default: none, each page starts its own kernel"
        ),
    )
    parser.add_argument(
        "--labs",
        default=None,
        metavar="NN,NN",
        help="with --classroom: the labs to pre-heat, e.g. 05,08 (default: every notebook)",
    )
    parser.add_argument(
        "--fill-delay",
        type=float,
        default=CLASSROOM_FILL_DELAY_S,
        metavar="S",
        help=f"with --classroom: seconds before a used kernel is replaced "
        f"(default {CLASSROOM_FILL_DELAY_S})",
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
        seats = _classroom(args)
        command = voila_command(
            args.notebooks,
            host=args.host,
            port=port,
            open_browser=not args.no_browser,
            classroom=seats,
            fill_delay=args.fill_delay,
        )
        hashed = _hashed_password() if args.password else None
        options, token = auth_options(
            args.host, token=args.token, hashed_password=hashed, no_auth=args.no_auth
        )
        command.extend(options)
        if token:
            env["JUPYTER_TOKEN"] = token
        for name, value in KERNEL_THREAD_ENV.items():
            env.setdefault(name, value)
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


def _classroom(args: argparse.Namespace) -> dict[str, int] | None:
    """The pre-heated kernels ``--classroom`` / ``--labs`` ask for (None without them)."""
    if args.classroom is None:
        if args.labs is not None:
            raise SystemExit("mi-lab: --labs needs --classroom SEATS")
        return None
    seats = classroom_seats(args.notebooks, args.classroom, args.labs)
    print(check_memory(seats, available_memory_mb()))
    print("mi-lab: a kernel is ready when the log says 'Pre-heated kernel ... is ready'")
    return seats


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
