"""Core modules never import UI libraries (DESIGN.md: computation apart from UI).

Checked by place, not by a list of file names: UI lives only in ``*/widgets.py`` and
``mi_widgets/viz/``; every other module of the package is core. A core module may not
import ipywidgets, bokeh, jupyter_bokeh, nglview or IPython.display, directly (anywhere in
the file, lazy imports included) or through another module (checked in a fresh
interpreter), nor import a UI module of the package.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mi_widgets"
UI_LIBRARIES = ("ipywidgets", "bokeh", "jupyter_bokeh", "nglview", "IPython.display")


def is_ui_path(path: Path) -> bool:
    """Whether a file of the package is a UI module, by its place."""
    relative = path.relative_to(PACKAGE)
    return path.name == "widgets.py" or relative.parts[0] == "viz"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULE_FILES = sorted(PACKAGE.rglob("*.py"))
CORE_FILES = [p for p in MODULE_FILES if not is_ui_path(p)]
UI_MODULES = {module_name(p) for p in MODULE_FILES if is_ui_path(p)}


def _is_ui_import(name: str) -> bool:
    if any(name == lib or name.startswith(lib + ".") for lib in UI_LIBRARIES):
        return True
    return name in UI_MODULES or any(name.startswith(m + ".") for m in UI_MODULES)


def ui_imports_in(path: Path) -> list[str]:
    """UI imports written in one file of the package (see :func:`ui_imports_in_source`)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    return ui_imports_in_source(path.read_text(), package)


def ui_imports_in_source(text: str, package: str) -> list[str]:
    """UI imports in source code (top level or inside functions), with line numbers.

    ``package`` is the package the code lives in, to resolve relative imports.
    """
    found = []
    for node in ast.walk(ast.parse(text)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            if node.level:
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        hits = [name for name in names if _is_ui_import(name)]
        if hits:
            found.append((node.lineno, hits[0]))
    return [f"line {line}: {name}" for line, name in sorted(found)]


def test_places_are_found():
    names = {module_name(p) for p in CORE_FILES}
    assert "mi_widgets._errors" in names and "mi_widgets.viz.app" in UI_MODULES
    assert not any(is_ui_path(p) for p in CORE_FILES)
    assert is_ui_path(PACKAGE / "spectra" / "widgets.py")
    assert is_ui_path(PACKAGE / "bayesopt" / "widgets.py")
    assert not is_ui_path(PACKAGE / "learn" / "widgets_importance.py")
    assert not is_ui_path(PACKAGE / "learn" / "importance.py")


def test_the_static_check_sees_lazy_relative_and_from_imports():
    text = (
        "import numpy as np\n"
        "from IPython import display\n"
        "def f():\n"
        "    import bokeh.plotting\n"
        "from .widgets import PeakPicker\n"
        "from ..viz import banner\n"
        "from . import io\n"
    )
    found = ui_imports_in_source(text, "mi_widgets.spectra")
    assert [f.split(":")[0] for f in found] == ["line 2", "line 4", "line 5", "line 6"]
    assert ui_imports_in_source("from mi_widgets.spectra import io\n", "mi_widgets") == []


@pytest.mark.parametrize("path", CORE_FILES, ids=[module_name(p) for p in CORE_FILES])
def test_core_module_does_not_import_ui(path):
    found = ui_imports_in(path)
    assert not found, f"{module_name(path)} is core (not widgets*.py, not viz/) but imports {found}"


def _ui_imported_by(modules: list[str]) -> str:
    """Import ``modules`` in a fresh interpreter; return the UI libraries that came along."""
    code = (
        "import sys, importlib\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(','.join(m for m in {UI_LIBRARIES!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return result.stdout.strip()


def test_core_modules_import_no_ui_at_run_time():
    """Importing every core module together pulls in no UI library (through any chain)."""
    modules = [module_name(p) for p in CORE_FILES]
    loaded = _ui_imported_by(modules)
    assert not loaded, f"importing the core modules loads {loaded} (see the per-file test)"
