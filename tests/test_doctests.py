"""The examples in every docstring of the package run and give what they show.

The package is walked, so a new module's examples run without being listed here.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil

import pytest

import mi_widgets

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(mi_widgets.__path__, "mi_widgets.")
    if not info.name.endswith("__main__")
)
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    # objects imported from elsewhere are tested in their own module
    return [t for t in tests if t.examples and _defined_in(t, module)]


def _defined_in(test: doctest.DocTest, module) -> bool:
    return test.filename is None or test.filename == module.__file__


def test_the_walk_finds_the_package():
    assert "mi_widgets._errors" in MODULES and "mi_widgets.viz.app" in MODULES
    assert sum(len(_examples(name)) for name in MODULES) > 0


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report = io.StringIO()
    for test in _examples(name):
        runner.run(test, out=report.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, report.getvalue()
