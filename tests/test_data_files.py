"""Every file in data/ is small, documented in data/README.md, unchanged, and free of pickles."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
DATA_FILES = sorted(p for p in DATA.rglob("*") if p.is_file() and p.name != "README.md")
MAX_BYTES = 5 * 2**20


@pytest.mark.parametrize("path", DATA_FILES, ids=[p.name for p in DATA_FILES])
def test_data_file_is_documented_small_and_unchanged(path):
    readme = (DATA / "README.md").read_text()
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is over 5 MB"
    rows = [line for line in readme.splitlines() if path.name in line and "|" in line]
    assert rows, f"{path.name} has no row in data/README.md"
    digests = set(re.findall(r"\b[0-9a-f]{64}\b", " ".join(rows)))
    assert hashlib.sha256(path.read_bytes()).hexdigest() in digests, f"{path.name}: sha256 differs"
    scripts = set(re.findall(r"scripts/(make_\w+\.py)", " ".join(rows) + readme))
    assert any((ROOT / "scripts" / s).is_file() for s in scripts), "no generating script named"


def test_no_pickles_in_data():
    for path in DATA.rglob("*.npz"):
        import numpy as np

        with np.load(path, allow_pickle=False) as archive:
            for key in archive.files:
                archive[key]  # raises if an array needs pickle
