"""Core modules never import UI libraries (DESIGN.md: computation apart from UI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UI_FILES = {"widgets.py", "viewer.py", "importance.py"}
UI_MODULES = ("ipywidgets", "bokeh", "nglview", "jupyter_bokeh")


def _core_modules() -> list[str]:
    modules = []
    for path in sorted((ROOT / "mi_widgets").rglob("*.py")):
        relative = path.relative_to(ROOT)
        if path.name in UI_FILES or path.name.startswith("widgets_") or "viz" in relative.parts:
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules.append(".".join(parts))
    return modules


def _ui_imported_by(modules: list[str]) -> str:
    """Import ``modules`` in a fresh interpreter; return the UI modules that came along."""
    code = (
        "import sys, importlib\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(','.join(m for m in {UI_MODULES!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return result.stdout.strip()


def test_core_modules_import_no_ui():
    modules = _core_modules()
    assert "mi_widgets._errors" in modules
    if _ui_imported_by(modules):
        culprits = {m: ui for m in modules if (ui := _ui_imported_by([m]))}
        pytest.fail(f"core modules import UI libraries: {culprits}")
