"""Where the public reference data lives (NIST StRD, the original TS-LPP and PDC files).

The reference files are not part of the project: they sit beside the checkout in
``../shared/reference``. Tests and benchmarks that need them call
:func:`reference_dir` and skip when it returns ``None``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def reference_dir(*parts: str) -> Path | None:
    """Return the reference folder (or a sub-path of it), or ``None`` when absent.

    The folder is ``$MI_LAB_REFERENCE`` when that variable is set, otherwise
    ``<repository>/../shared/reference``.

    Parameters
    ----------
    *parts : str
        Sub-folders or a file name inside the reference folder.

    Returns
    -------
    pathlib.Path or None
        The existing path, or ``None`` when it does not exist.

    Examples
    --------
    >>> path = reference_dir("nist_strd", "Gauss1.dat")
    >>> path is None or path.name == "Gauss1.dat"
    True
    """
    base = Path(os.environ.get("MI_LAB_REFERENCE", REPO_ROOT.parent / "shared" / "reference"))
    path = base.joinpath(*parts)
    return path if path.exists() else None
