"""Where the public reference data lives (NIST StRD, the original TS-LPP and PDC files).

The reference files ship with the repository in ``data/reference/<set>/``, each set with a
README giving its source and licence. Tests and benchmarks find them with
:func:`reference_dir`. A source checkout has them; an installed wheel does not (the labs
do not need them).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The reference data shipped in the repository.
SHIPPED_REFERENCE = REPO_ROOT / "data" / "reference"
#: A shared copy beside the checkout (older layout), searched last.
SIBLING_REFERENCE = REPO_ROOT.parent / "shared" / "reference"


def reference_bases() -> list[Path]:
    """The folders searched for reference data, in order.

    ``$MI_LAB_REFERENCE`` (when set), then the repository's ``data/reference``, then
    ``<repository>/../shared/reference``.

    Returns
    -------
    list of pathlib.Path
        The candidate folders (they need not exist).

    Examples
    --------
    >>> reference_bases()[-2:] == [SHIPPED_REFERENCE, SIBLING_REFERENCE]
    True
    """
    bases = [SHIPPED_REFERENCE, SIBLING_REFERENCE]
    override = os.environ.get("MI_LAB_REFERENCE")
    if override:
        bases.insert(0, Path(override))
    return bases


def reference_dir(*parts: str) -> Path | None:
    """Return a reference folder (or a file in it), or ``None`` when no copy has it.

    The first of :func:`reference_bases` that holds ``parts`` wins, so
    ``$MI_LAB_REFERENCE`` overrides the copy shipped in ``data/reference``.

    Parameters
    ----------
    *parts : str
        Sub-folders or a file name inside the reference folder.

    Returns
    -------
    pathlib.Path or None
        The existing path, or ``None`` when it does not exist anywhere.

    Examples
    --------
    >>> reference_dir("nist_strd", "Gauss1.dat").name
    'Gauss1.dat'
    >>> reference_dir("no_such_set") is None
    True
    """
    for base in reference_bases():
        path = base.joinpath(*parts)
        if path.exists():
            return path
    return None
