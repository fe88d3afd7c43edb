"""Every notebook is stored without outputs and executes top to bottom cleanly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_PATHS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOK_PATHS]
#: Hang protection only (not a speed check): a cell that runs this long is stuck.
CELL_TIMEOUT_S = 600


def test_there_are_notebooks():
    assert any(p.name == "00_welcome.ipynb" for p in NOTEBOOK_PATHS)


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=IDS)
def test_outputs_are_stripped(path):
    notebook = json.loads(path.read_text())
    dirty = [
        k
        for k, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; strip them before committing"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=IDS)
def test_notebook_has_the_lab_shape(path):
    if path.name == "00_welcome.ipynb":
        pytest.skip("the gallery is not a lab")
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
    for heading in ("Goals", "Background", "Interactive lab", "Your own data", "References"):
        assert heading in text, f"{path.name} lacks the '{heading}' section"


def _section(cells: list[dict], heading: str) -> list[dict]:
    """The cells after the markdown heading ``heading`` up to the next heading of level 1-2."""
    start = next(
        (
            k
            for k, c in enumerate(cells)
            if c["cell_type"] == "markdown"
            and re.search(rf"^#{{1,3}}\s*{heading}", "".join(c["source"]), re.M)
        ),
        None,
    )
    assert start is not None, f"no '{heading}' heading"
    section = []
    for cell in cells[start + 1 :]:
        if cell["cell_type"] == "markdown" and re.match(r"#{1,2}\s", "".join(cell["source"])):
            break
        section.append(cell)
    return section


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=IDS)
def test_your_own_data_is_code_that_runs(path):
    """Readers run the "Your own data" code, so it is a code cell, not a markdown fence."""
    if path.name == "00_welcome.ipynb":
        pytest.skip("the gallery is not a lab")
    section = _section(json.loads(path.read_text())["cells"], "Your own data")
    runnable = [
        c
        for c in section
        if c["cell_type"] == "code"
        and any(line.strip() and not line.lstrip().startswith("#") for line in c["source"])
    ]
    assert runnable, f"{path.name}: 'Your own data' has no code cell that runs"


def test_notebooks_are_ruff_clean():
    """The notebooks are linted like the package (ruff's notebook support, pyproject config)."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "notebooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _problems(notebook) -> list[str]:
    problems = []
    for k, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                problems.append(f"cell {k}: {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                problems.append(f"cell {k} wrote to stderr: {output.text[:500]}")
    return problems


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=IDS)
def test_notebook_executes_without_error_or_warning(path, monkeypatch):
    notebook = nbformat.read(path, as_version=4)
    env_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    # the kernel inherits it and imports this checkout; undone after the test
    monkeypatch.setenv("PYTHONPATH", env_path)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        allow_errors=True,
    )
    client.execute()
    assert not _problems(notebook), "\n".join(_problems(notebook))
