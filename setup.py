"""Build step that puts the data files and notebooks inside the wheel.

The repository keeps ``data/`` and ``notebooks/`` at the top level; a wheel carries copies
as ``mi_widgets/_data`` and ``mi_widgets/_notebooks`` (found by ``mi_widgets._resources``).
The public reference data in ``data/reference`` is for the tests and stays out. An editable
install reads the top-level folders directly and copies nothing. Everything else is in
``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: (folder in the repository, folder inside the package, files to skip)
BUNDLED = (
    ("data", "_data", ("reference",)),
    ("notebooks", "_notebooks", (".ipynb_checkpoints",)),
)


class BuildWithResources(build_py):
    """``build_py`` that also copies ``data/`` and ``notebooks/`` into the package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source, target, skipped in BUNDLED:
            destination = Path(self.build_lib) / "mi_widgets" / target
            if destination.exists():
                shutil.rmtree(destination)
            shutil.copytree(ROOT / source, destination, ignore=shutil.ignore_patterns(*skipped))


setup(cmdclass={"build_py": BuildWithResources})
