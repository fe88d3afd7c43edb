"""Where the package finds its data files and notebooks, installed or in a checkout.

A wheel carries the repository's ``data/`` and ``notebooks/`` inside the package as
``mi_widgets/_data`` and ``mi_widgets/_notebooks`` (``setup.py`` copies them at build
time); a source checkout (``pip install -e .``) uses the top-level folders. Both are found
through :mod:`importlib.resources`, so loaders and ``mi-lab`` work from any working
directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: Folder names inside the installed package (see ``setup.py``).
PACKAGE_DATA = "_data"
PACKAGE_NOTEBOOKS = "_notebooks"
#: The repository root of a source checkout.
REPO_ROOT = Path(__file__).resolve().parents[1]


def _installed_or_checkout(inside: str, top_level: str) -> Path:
    resource = files("mi_widgets") / inside
    if resource.is_dir():
        return Path(str(resource))
    return REPO_ROOT / top_level


def data_dir() -> Path:
    """The folder of the data files (``data/`` of a checkout, or the installed copy).

    Returns
    -------
    pathlib.Path
        The folder; it holds ``README.md`` and the files it lists.

    Examples
    --------
    >>> (data_dir() / "xps_c1s.csv").is_file()
    True
    """
    return _installed_or_checkout(PACKAGE_DATA, "data")


def data_path(name: str) -> Path:
    """The path of one data file by name, e.g. ``"alloys.csv"``.

    Parameters
    ----------
    name : str
        File name inside the data folder.

    Returns
    -------
    pathlib.Path
        Its path (which exists when the file ships with the package).

    Examples
    --------
    >>> data_path("elements.csv").name
    'elements.csv'
    """
    return data_dir() / name


def notebooks_dir() -> Path:
    """The folder of the lab notebooks (``notebooks/`` of a checkout, or the installed copy).

    Returns
    -------
    pathlib.Path
        The folder holding ``00_welcome.ipynb`` and the labs.

    Examples
    --------
    >>> (notebooks_dir() / "00_welcome.ipynb").is_file()
    True
    """
    return _installed_or_checkout(PACKAGE_NOTEBOOKS, "notebooks")
