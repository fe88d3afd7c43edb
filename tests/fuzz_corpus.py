"""Loaders and upload paths under fuzzing: valid seed files, mutations, and the verdict.

Shared by ``tests/test_fuzz_loaders.py`` (hypothesis) and
``benchmarks/bench_hardening.py`` (a seeded corpus that counts the outcomes).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ase.build import bulk
from ase.io import write

from mi_widgets._errors import MIInputError
from mi_widgets.active.io import load_phase_diagram, read_phase_csv
from mi_widgets.datasets import load_si_md
from mi_widgets.learn.io import read_table
from mi_widgets.spectra.io import load_spectra, load_spectrum
from mi_widgets.structure.data import read_trajectory
from mi_widgets.structure.io import builtin_crystal, read_frames

#: Byte strings that break parsers: numbers at the edges, separators, encodings, counts.
NASTY = (
    b"nan",
    b"inf",
    b"-inf",
    b"1e308",
    b"-1e-320",
    b"1000000000",
    b"10000000",
    b"-1",
    b"0",
    b"0.01",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r\n",
    b'"',
    b"1,5",
    b"ITEM: ATOMS id type x y z\n",
    b"ITEM: NUMBER OF ATOMS\n",
    b'Lattice="',
    b"Properties=species:S:1:pos:R:3",
    b"_cell_length_a 1e-9\n",
    b"<img src=x onerror=alert(1)>",
)


def _text(atoms, fmt: str) -> bytes:
    buffer = io.BytesIO() if fmt == "cif" else io.StringIO()
    write(buffer, atoms, format=fmt)
    value = buffer.getvalue()
    return value if isinstance(value, bytes) else value.encode()


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _seeds() -> dict[str, bytes]:
    si = bulk("Si", "diamond", a=5.431, cubic=True)
    dump = (
        b"ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n"
        b"0 5.4\n0 5.4\n0 5.4\nITEM: ATOMS id type x y z\n1 1 0 0 0\n2 1 1.3 1.3 1.3\n"
    )
    x = np.linspace(280.0, 295.0, 16)
    return {
        "extxyz": _text(si, "extxyz"),
        "cif": _text(si, "cif"),
        "vasp": _text(si, "vasp"),
        "xsf": _text(si, "xsf"),
        "pdb": _text(si, "proteindatabank"),
        "lammps": dump,
        "spectrum": b"energy,counts\n" + b"".join(b"%g,%g\n" % (v, 10 + v % 7) for v in x),
        "spectra_csv": b"x,a,b\n" + b"".join(b"%g,%g,%g\n" % (v, v % 3, v % 5) for v in x),
        "spectra_npz": _npz(x=x, spectra=np.ones((2, 3, x.size))),
        "phase_csv": b"phase,x_B,T_K\nalpha,0,600\nbeta,0.5,700\n,0.25,650\nalpha,0.1,620\n",
        "table": b"composition,target\nFe2O3,1.5\nNiAl,0.25\nCu,3\n",
        "diagram_name": b"eutectic",
        "md_name": b"crystal_300K",
        "crystal_name": b"Si (diamond)",
    }


SEEDS = _seeds()


@dataclass(frozen=True)
class Loader:
    """One loader or upload path: how to call it on bytes, and what a success must satisfy."""

    name: str
    seed: str
    call: Callable[[bytes], object]
    #: Returns a reason if a successful result is wrong, else None.
    wrong: Callable[[bytes, object], str | None]


def _claimed(content: bytes, pattern: bytes) -> int | None:
    match = re.search(pattern, content)
    return int(match.group(1)) if match else None


def _structure_wrong(_content: bytes, frames) -> str | None:
    if not frames:
        return "no frames"
    for atoms in frames:
        if not (np.isfinite(atoms.positions).all() and np.isfinite(atoms.cell.array).all()):
            return "non-finite numbers"
    return None


def _xyz_wrong(content: bytes, frames) -> str | None:
    first = content.lstrip().split(b"\n", 1)[0].strip()
    if first.isdigit() and int(first) != len(frames[0]):
        return f"claims {int(first)} atoms, read {len(frames[0])}"
    return _structure_wrong(content, frames)


def _dump_wrong(content: bytes, frames) -> str | None:
    claimed = _claimed(content, rb"ITEM: NUMBER OF ATOMS\s*\n\s*(\d+)\s*\n")
    if claimed is not None and claimed != len(frames[0]):
        return f"dump claims {claimed} atoms, read {len(frames[0])}"
    return _structure_wrong(content, frames)


def _spectrum_wrong(_content: bytes, result) -> str | None:
    x, y = result
    if len(x) != len(y) or len(x) < 1:
        return "x and y differ in length"
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return "non-finite numbers"
    if len(x) > 1 and not (np.diff(x) > 0).all():
        return "x does not increase"
    return None


def _spectra_wrong(_content: bytes, result) -> str | None:
    x, spectra = result
    if spectra.shape[-1] != len(x):
        return "channels differ from x"
    if not (np.isfinite(x).all() and np.isfinite(spectra).all()):
        return "non-finite numbers"
    if len(x) > 1 and not (np.diff(x) > 0).all():
        return "x does not increase"
    return None


def _phase_wrong(_content: bytes, result) -> str | None:
    coordinates = np.asarray(result.coordinates, dtype=float)
    if coordinates.size == 0 or not np.isfinite(coordinates).all():
        return "no or non-finite coordinates"
    if len(result.labels) != len(coordinates):
        return "labels and coordinates differ in length"
    return None


def _table_wrong(_content: bytes, result) -> str | None:
    lengths = {len(values) for values in result.cells.values()}
    if len(lengths) > 1:
        return "ragged columns"
    return None


def _no_check(_content: bytes, _result) -> str | None:
    return None


def _as_text(content: bytes) -> str:
    return content.decode("utf-8", errors="replace")


LOADERS: dict[str, Loader] = {
    loader.name: loader
    for loader in (
        Loader("structure.xyz", "extxyz", lambda b: read_frames(b, filename="up.xyz"), _xyz_wrong),
        Loader(
            "structure.cif", "cif", lambda b: read_frames(b, filename="up.cif"), _structure_wrong
        ),
        Loader(
            "structure.POSCAR",
            "vasp",
            lambda b: read_frames(b, filename="POSCAR"),
            _structure_wrong,
        ),
        Loader(
            "structure.xsf", "xsf", lambda b: read_frames(b, filename="up.xsf"), _structure_wrong
        ),
        Loader(
            "structure.pdb", "pdb", lambda b: read_frames(b, filename="up.pdb"), _structure_wrong
        ),
        Loader(
            "structure.lammpstrj",
            "lammps",
            lambda b: read_frames(b, filename="up.lammpstrj"),
            _dump_wrong,
        ),
        Loader(
            "trajectory.extxyz",
            "extxyz",
            lambda b: read_trajectory(b, filename="run.extxyz"),
            _xyz_wrong,
        ),
        Loader(
            "spectrum.csv", "spectrum", lambda b: load_spectrum(b, name="s.csv"), _spectrum_wrong
        ),
        Loader(
            "spectra.csv", "spectra_csv", lambda b: load_spectra(b, name="s.csv"), _spectra_wrong
        ),
        Loader(
            "spectra.npz", "spectra_npz", lambda b: load_spectra(b, name="s.npz"), _spectra_wrong
        ),
        Loader("phase.csv", "phase_csv", lambda b: read_phase_csv(b, name="p.csv"), _phase_wrong),
        Loader("table.csv", "table", lambda b: read_table(b, name="t.csv"), _table_wrong),
        Loader(
            "datasets.load_phase_diagram",
            "diagram_name",
            lambda b: load_phase_diagram(_as_text(b)),
            _no_check,
        ),
        Loader("datasets.load_si_md", "md_name", lambda b: load_si_md(_as_text(b)), _no_check),
        Loader(
            "datasets.builtin_crystal",
            "crystal_name",
            lambda b: builtin_crystal(_as_text(b)),
            _no_check,
        ),
    )
}


#: Fragments of Python's own messages: passed through, they tell a user nothing.
_RAW = re.compile(
    r"Traceback|invalid literal for|could not convert|index out of range|not enough values"
    r"|too many values|NoneType|object has no attribute|unsupported operand|codec can't"
)


def unclear_reason(message: str) -> str | None:
    """Why an MIInputError message is not one clear sentence, or None if it is."""
    if not message.strip():
        return "empty message"
    if "\n" in message:
        return "several lines"
    if len(message) > 400:
        return "longer than 400 characters"
    if _RAW.search(message):
        return "a raw Python message"
    return None


def verdict(loader: Loader, content: bytes) -> tuple[str, str]:
    """Run ``loader`` on ``content``: one of loaded, clear, unclear, wrong, crash; and why."""
    try:
        result = loader.call(content)
    except MIInputError as error:
        reason = unclear_reason(str(error))
        return ("unclear", f"{reason}: {error}") if reason else ("clear", str(error))
    except Exception as error:  # the point: any other exception is a finding
        return "crash", f"{type(error).__name__}: {error}"
    reason = loader.wrong(content, result)
    return ("wrong", reason) if reason else ("loaded", "")


def mutate(seed: bytes, edits: list[tuple[int, int, int, int]]) -> bytes:
    """Apply edits ``(kind, position, length, token)`` to ``seed``; positions wrap around."""
    data = bytearray(seed)
    for kind, position, length, token in edits:
        where = position % (len(data) + 1)
        piece = NASTY[token % len(NASTY)]
        if kind % 4 == 0:  # delete a run
            del data[where : where + length % 64]
        elif kind % 4 == 1:  # insert a nasty token
            data[where:where] = piece
        elif kind % 4 == 2:  # overwrite with a nasty token
            data[where : where + len(piece)] = piece
        else:  # cut the file short
            del data[where:]
    return bytes(data)
