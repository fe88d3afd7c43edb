"""The wheel works outside the checkout: data, notebooks and ``mi-lab`` come with it.

Builds the wheel from a copy of the sources, installs it into a fresh virtual environment
in a temporary folder (with the system site-packages, so the scientific stack is not
downloaded again, but with neither the checkout nor an editable install importable), and
there runs ``mi-lab --help``, loads every data set and executes one notebook.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("mi_widgets", "data", "notebooks", "pyproject.toml", "setup.py", "MANIFEST.in")
SOURCES_OPTIONAL = ("README.md", "LICENSE")
#: What a fresh install must do, run in the venv from an unrelated working directory.
CHECK_INSTALLED = textwrap.dedent(
    """
    import inspect
    import sys
    from pathlib import Path

    import mi_widgets
    from mi_widgets import datasets
    from mi_widgets._resources import data_dir, notebooks_dir
    from mi_widgets.structure.data import SI_MD_KINDS

    installed_at = Path(mi_widgets.__file__).resolve().parents
    assert Path(sys.prefix).resolve() in installed_at and Path(CHECKOUT) not in installed_at
    assert (notebooks_dir() / "00_welcome.ipynb").is_file(), notebooks_dir()
    assert not (data_dir() / "reference").exists(), "reference data belongs to the tests"
    # every loader that needs no argument, then every built-in name of the others
    loaded = []
    for name in datasets.__all__:
        function = getattr(datasets, name)
        parameters = inspect.signature(function).parameters.values()
        if name.startswith("load_") and all(p.default is not p.empty for p in parameters):
            function()
            loaded.append(name)
    assert len(loaded) >= 7, loaded
    from mi_widgets.local_structure.study import load_shipped_classifier

    load_shipped_classifier()
    for kind in SI_MD_KINDS:
        assert len(datasets.load_si_md(kind)) > 0, kind
    diagrams = sorted(data_dir().glob("phase_diagram_*.csv"))
    assert diagrams
    for path in diagrams:
        datasets.load_phase_diagram(path.stem.removeprefix("phase_diagram_"))
    print("ok", mi_widgets.__file__)
    """
)


def _isolated_env(venv: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(command: list, cwd: Path, env: dict | None = None) -> str:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES + SOURCES_OPTIONAL:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif path.is_file():
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("dist")
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out, "."],
        cwd=source,
    )
    (built,) = out.glob("mi_lab-*.whl")
    return built


@pytest.mark.slow
def test_wheel_holds_the_data_and_notebooks(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    data = {Path(n).name for n in names if n.startswith("mi_widgets/_data/")}
    notebooks = {Path(n).name for n in names if n.startswith("mi_widgets/_notebooks/")}
    assert {p.name for p in (ROOT / "data").glob("*") if p.is_file()} <= data
    assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} == notebooks
    assert not any("/reference/" in n for n in names), "reference data is for the tests only"


@pytest.mark.slow
@pytest.mark.notebook
def test_wheel_works_in_a_fresh_venv_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    env = _isolated_env(venv)
    # the system site-packages may hold an editable mi-lab: the venv's own install shadows it
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", wheel], tmp_path, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    check = f"CHECKOUT = {str(ROOT.resolve())!r}\n" + CHECK_INSTALLED
    assert "ok" in _run([python, "-c", check], elsewhere, env)
    assert "Voila" in _run([venv / "bin" / "mi-lab", "--help"], elsewhere, env)

    notebook = _run(
        [python, "-c", "from mi_widgets._resources import notebooks_dir; print(notebooks_dir())"],
        elsewhere,
        env,
    ).strip()
    executed = elsewhere / "executed.ipynb"
    code = textwrap.dedent(
        f"""
        import nbformat
        from nbclient import NotebookClient
        from pathlib import Path

        path = Path({notebook!r}) / "02_em_peak_fitting.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell("import mi_widgets; print(mi_widgets.__file__)"))
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={{"metadata": {{"path": {str(elsewhere)!r}}}}}).execute()
        errors = [o for c in nb.cells for o in c.get("outputs", [])
                  if o.output_type == "error"
                  or (o.output_type == "stream" and o.name == "stderr")]
        assert not errors, errors
        assert nb.cells[-1].outputs[0].text.startswith({str(venv)!r}), nb.cells[-1].outputs
        nbformat.write(nb, {str(executed)!r})
        """
    )
    _run([python, "-c", code], elsewhere, env)
    assert executed.is_file()
