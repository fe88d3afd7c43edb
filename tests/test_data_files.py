"""Every file in data/ is small, documented, unchanged, and in a format parsed without pickle.

Generated files name the ``scripts/make_*.py`` that makes them; the public reference files
in ``data/reference/<set>/`` have a README beside them giving their source and licence.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
REFERENCE = DATA / "reference"
DATA_FILES = sorted(p for p in DATA.rglob("*") if p.is_file() and p.name != "README.md")
IDS = [str(p.relative_to(DATA)) for p in DATA_FILES]
MAX_BYTES = 5 * 2**20
#: The formats a data file may have (DESIGN.md: text or npz without pickles, extended XYZ).
FORMATS = {".csv", ".extxyz", ".npz", ".json", ".dat", ".txt"}


def _is_reference(path: Path) -> bool:
    return REFERENCE in path.parents


@pytest.mark.parametrize("path", DATA_FILES, ids=IDS)
def test_data_file_is_documented_small_and_unchanged(path):
    readme = (DATA / "README.md").read_text()
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is over 5 MB"
    rows = [line for line in readme.splitlines() if path.name in line and "|" in line]
    assert rows, f"{path.name} has no row in data/README.md"
    digests = set(re.findall(r"\b[0-9a-f]{64}\b", " ".join(rows)))
    assert hashlib.sha256(path.read_bytes()).hexdigest() in digests, f"{path.name}: sha256 differs"
    if _is_reference(path):
        beside = path.parent / "README.md"
        assert beside.is_file(), f"{path.parent.name}/ has no README giving source and licence"
        text = beside.read_text()
        for word in ("Source", "Licence", path.name):
            assert word in text, f"{beside.relative_to(ROOT)} does not mention {word!r}"
    else:
        scripts = set(re.findall(r"scripts/(make_\w+\.py)", " ".join(rows) + readme))
        assert any((ROOT / "scripts" / s).is_file() for s in scripts), "no generating script named"


def _check_csv(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    widths = {len(row) for row in rows}
    assert len(rows) >= 2 and len(widths) == 1, f"{path.name}: ragged or empty table {widths}"
    assert widths.pop() >= 2, f"{path.name}: a table needs at least two columns"
    header_is_text = not all(_is_number(v) for v in rows[0])
    body = rows[1:] if header_is_text else rows
    numeric = [j for j, v in enumerate(body[0]) if _is_number(v)]
    assert numeric, f"{path.name}: no numeric column"
    # an empty cell is a value not measured yet (candidate tables); anything else is a number
    values = np.array([[float(row[j]) if row[j].strip() else 0.0 for j in numeric] for row in body])
    assert np.isfinite(values).all(), f"{path.name}: non-finite numbers"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_whitespace_table(path: Path) -> None:
    values = np.loadtxt(path, ndmin=2)
    assert values.shape[0] >= 2 and values.shape[1] >= 2 and np.isfinite(values).all()


def _check_nist(path: Path) -> None:
    lines = path.read_text(encoding="ascii").splitlines()
    assert "NIST/ITL StRD" in lines[0], f"{path.name} is not a NIST StRD file"
    match = re.search(r"Data\s*\(lines\s*(\d+)\s*to\s*(\d+)\)", "\n".join(lines[:20]))
    assert match, f"{path.name}: no data line range in the header"
    first, last = int(match.group(1)), int(match.group(2))
    values = np.loadtxt(lines[first - 1 : last], ndmin=2)
    assert values.shape == (last - first + 1, 2) and np.isfinite(values).all()


def _check_extxyz(path: Path) -> None:
    import ase.io

    frames = ase.io.read(path, index=":", format="extxyz")
    assert frames and all(len(atoms) > 0 for atoms in frames), f"{path.name}: no atoms"
    assert all(np.isfinite(atoms.positions).all() for atoms in frames)


def _check_npz(path: Path) -> None:
    with np.load(path, allow_pickle=False) as archive:
        assert archive.files, f"{path.name} is an empty archive"
        for key in archive.files:
            assert archive[key].dtype != object  # loading raises if it needs pickle


@pytest.mark.parametrize("path", DATA_FILES, ids=IDS)
def test_no_pickles_in_data(path):
    """Each data file parses in its declared format with a reader that cannot unpickle."""
    assert path.suffix in FORMATS, f"{path.name}: {path.suffix} is not an accepted data format"
    if path.suffix == ".csv":
        _check_csv(path)
    elif path.suffix == ".extxyz":
        _check_extxyz(path)
    elif path.suffix == ".npz":
        _check_npz(path)
    elif path.suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
    elif path.suffix == ".dat":
        _check_nist(path)
    else:
        _check_whitespace_table(path)


def test_format_check_rejects_a_pickled_array(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        _check_npz(path)
