"""The mi-lab command line and the gallery's table of labs."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from mi_widgets import cli
from mi_widgets.gallery import LABS, gallery_html

ROOT = Path(__file__).resolve().parents[1]


def test_voila_command_culls_kernels_and_raises_the_upload_cap():
    command = cli.voila_command(Path("nb"), host="0.0.0.0", port=9999)
    joined = " ".join(command)
    assert command[:4] == [sys.executable, "-m", "mi_widgets._server", "nb"]
    assert "--port=9999" in command and "--Voila.ip=0.0.0.0" in command
    assert "cull_idle_timeout" in joined and "cull_interval" in joined
    assert f"'websocket_max_message_size': {cli.WEBSOCKET_MAX_MESSAGE_BYTES}" in joined
    assert "--no-browser" in command


def test_lab_command_uses_the_same_folder():
    assert cli.lab_command(Path("nb"))[:4] == [
        sys.executable,
        "-m",
        "jupyterlab",
        "--notebook-dir=nb",
    ]


def test_main_runs_voila_and_prints_the_gallery_url(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(
        cli, "_replace_process", lambda command, env: calls.append((command, env)) or 0
    )
    assert cli.main(["--port", "9123", "--no-browser"]) == 0
    command, env = calls[0]
    assert command[2] == "mi_widgets._server" and "--port=9123" in command
    assert str(ROOT) in env["PYTHONPATH"]
    assert "http://127.0.0.1:9123/voila/render/00_welcome.ipynb" in capsys.readouterr().out
    assert cli.main(["--lab", "--no-browser"]) == 0
    assert calls[1][0][1:3] == ["-m", "jupyterlab"]


def test_missing_notebooks_folder_is_reported(tmp_path, capsys):
    assert cli.main(["--notebooks", str(tmp_path / "nope")]) == 2
    assert "no notebooks folder" in capsys.readouterr().err


def test_gallery_lists_every_lab_and_links_only_existing_ones(tmp_path):
    (tmp_path / LABS[1].notebook).write_text("{}")
    page = gallery_html(tmp_path)
    assert page.count('class="mi-lab-card"') == len(LABS) == 11
    assert page.count('class="mi-lab-link"') == 1
    assert f'href="{LABS[1].notebook}"' in page
    assert page.count("Coming soon") == 10


def test_gallery_numbers_match_the_notebook_names():
    numbers = [lab.notebook[:2] for lab in LABS]
    assert numbers == [f"{k:02d}" for k in range(1, 12)]
    for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        if path.name != "00_welcome.ipynb":
            assert path.name in {lab.notebook for lab in LABS}, f"{path.name} is not in the gallery"


def test_binder_config_matches_the_command_line():
    namespace = {"get_config": lambda: _Config()}
    exec((ROOT / "binder" / "jupyter_server_config.py").read_text(), namespace)
    c = namespace["c"]
    assert c.settings["ServerApp.tornado_settings"] == {
        "websocket_max_message_size": cli.WEBSOCKET_MAX_MESSAGE_BYTES
    }
    assert c.settings["MappingKernelManager.cull_idle_timeout"] == cli.CULL_IDLE_TIMEOUT_S


def test_environment_files_pin_the_working_nglview():
    for name in ("environment.yml", "binder/environment.yml"):
        assert "nglview==4.0\n" in (ROOT / name).read_text()
    assert '"nglview==4.0"' in (ROOT / "pyproject.toml").read_text()


class _Config:
    """A stand-in for traitlets' config object that records dotted assignments."""

    def __init__(self, prefix: str = "", settings: dict | None = None):
        object.__setattr__(self, "prefix", prefix)
        object.__setattr__(self, "settings", {} if settings is None else settings)

    def __getattr__(self, name):
        return _Config(f"{self.prefix}{name}.", self.settings)

    def __setattr__(self, name, value):
        self.settings[f"{self.prefix}{name}"] = value


def _command(monkeypatch, argv: list[str], available_mb: float = 64_000) -> list[str]:
    calls = []
    monkeypatch.setattr(cli, "_replace_process", lambda command, env: calls.append(command) or 0)
    monkeypatch.setattr(cli, "available_memory_mb", lambda: available_mb)
    assert cli.main([*argv, "--no-browser"]) == 0
    return calls[0]


def test_plain_mi_lab_preheats_no_kernel(monkeypatch):
    command = _command(monkeypatch, [])
    assert not any("preheat" in option or "pool" in option for option in command)


def test_classroom_keeps_seats_preheated_for_the_chosen_labs(monkeypatch, capsys):
    command = _command(monkeypatch, ["--classroom", "8", "--labs", "5,08", "--fill-delay", "30"])
    assert "--preheat_kernel=True" in command
    assert "--VoilaKernelManager.fill_delay=30" in command
    pools = next(o for o in command if o.startswith("--VoilaKernelManager.kernel_pools_config="))
    assert ast.literal_eval(pools.split("=", 1)[1]) == {
        "default": {"pool_size": 0},
        "05_hamiltonian_estimation.ipynb": {"pool_size": 8},
        "08_tslpp_structure_analysis.ipynb": {"pool_size": 8},
    }
    assert "16 pre-heated kernels" in capsys.readouterr().out
    every = _command(monkeypatch, ["--classroom", "1"])
    pools = next(o for o in every if "kernel_pools_config" in o)
    assert all(
        f"'{path.name}': {{'pool_size': 1}}" in pools for path in cli.NOTEBOOKS.glob("*.ipynb")
    )


@pytest.mark.parametrize(
    ("argv", "available_mb", "message"),
    [
        (["--labs", "05"], 64_000, "--labs needs --classroom"),
        (["--classroom", "2", "--labs", "42"], 64_000, "no lab 42"),
        (["--classroom", "0"], 64_000, "at least 1 seat"),
        (["--classroom", "8"], 2_000, "choose fewer labs"),
    ],
)
def test_classroom_refuses_bad_requests_and_too_little_memory(
    monkeypatch, argv, available_mb, message
):
    with pytest.raises(SystemExit, match=message):
        _command(monkeypatch, argv, available_mb)


def test_help_documents_the_classroom_mode(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--classroom SEATS" in text and "pre-heated kernels" in text
    assert f"~{cli.KERNEL_MB} MB of memory per seat and lab" in text


def test_kernels_use_one_blas_thread_unless_told_otherwise(monkeypatch):
    envs = []
    monkeypatch.setattr(cli, "_replace_process", lambda command, env: envs.append(env) or 0)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    assert cli.main(["--no-browser"]) == 0
    assert envs[0]["OMP_NUM_THREADS"] == "1" and envs[0]["OPENBLAS_NUM_THREADS"] == "4"
