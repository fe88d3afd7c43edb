"""Loaders and upload paths under fuzzing: valid seed files, mutations, and the verdict.

Shared by ``tests/test_fuzz_loaders.py`` (hypothesis) and
``benchmarks/bench_hardening.py`` (a seeded corpus that counts the outcomes).
"""

from __future__ import annotations

import atexit
import io
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.io import write

from mi_widgets._errors import MIInputError
from mi_widgets.active.io import load_phase_diagram, read_phase_csv
from mi_widgets.bayesopt.data import (
    forrester_problem,
    load_grain_boundary,
    read_candidate_table,
    read_results,
)
from mi_widgets.datasets import load_si_md
from mi_widgets.learn.composition import load_element_table
from mi_widgets.learn.io import read_table
from mi_widgets.local_structure.classifier import LocalStructureClassifier
from mi_widgets.local_structure.data import load_local_structures
from mi_widgets.potentials.acsf import ACSFSettings
from mi_widgets.potentials.io import read_training_frames
from mi_widgets.potentials.network import NeuralNetworkPotential
from mi_widgets.spectra.io import load_spectra, load_spectrum
from mi_widgets.spin.data import read_bonds_csv, read_magnetization_csv, read_susceptibility_csv
from mi_widgets.structure.data import read_trajectory
from mi_widgets.structure.io import builtin_crystal, read_frames

_TMP = Path(tempfile.mkdtemp(prefix="mi-fuzz-"))
atexit.register(shutil.rmtree, _TMP, True)
_SERIAL = count()

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


def _classifier_npz() -> bytes:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = np.where(X[:, 0] > 0, "fcc", "bcc")
    model = LocalStructureClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    buffer = io.BytesIO()
    model.fit(X, y).save(buffer)
    return buffer.getvalue()


def _potential_npz() -> bytes:
    settings = ACSFSettings.create(4.0, ["Cu"], [[0.5, 0.0]], [])
    potential = NeuralNetworkPotential(("Cu",), settings, (4,))
    potential.initialize_weights(settings.n_features)  # untrained weights: enough to save
    potential.min_distance_ = 1.0
    path = potential.save(_TMP / "potential.npz")
    return path.read_bytes()


def _training_xyz() -> bytes:
    return (
        b'2\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3:forces:R:3 '
        b'energy=-7.25 pbc="T T T"\nCu 0 0 0 0.1 0 0\nCu 2.5 2.5 0 -0.1 0 0\n'
    )


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
        "table": b"composition,target\nFe2O3,1.5\nNiAl,0.25\nCu,3\nCuNi,2.5\nAl2O3,1.25\nFe,4\n",
        "diagram_name": b"eutectic",
        "md_name": b"crystal_300K",
        "crystal_name": b"Si (diamond)",
        "bo_table": b"x,y,strength\n0,1,2.5\n1,0,\n1,1,3.0\n0.5,0.5,\n",
        "gb_table": b"tx_A,ty_A,tz_A,removal_cutoff_A,energy_J_m2\n0,0,0,0,1.1\n0.5,0,0,0,0.9\n"
        b"0,0.5,0.2,1.5,1.0\n",
        "bo_results": b"row,x,f(x)\n2,0.5,0.9\n3,0.75,\n1,0.25,-0.5\n",
        "bo_own_results": b"row,x,y,strength\n1,1,0,2.0\n3,0.5,0.5,1.5\n",
        "magnetization": b"T,B,M\n2,0,0\n2,10,0.3\n2,20,0.45\n4,0,0\n4,10,0.25\n4,20,0.4\n",
        "susceptibility": b"T,chi\n2,0.01\n5,0.02\n10,0.015\n20,0.01\n",
        "bonds": b"i,j,name\n0,1,J1\n1,2,J1\n2,3,J2\n0,2,J2\n",
        "elements": b"symbol,mass,radius\nCu,63.5,1.28\nNi,58.7,1.24\nAl,27.0,1.43\n",
        "classifier": _classifier_npz(),
        "training_xyz": _training_xyz(),
        "training_frames": _training_xyz() * 2,  # lab 06 holds one frame out: two at least
        "potential": _potential_npz(),
        "local_phase": b"bcc",
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


def _nonempty(_content: bytes, result) -> str | None:
    return None if len(result) else "nothing loaded, no message"


def _as_text(content: bytes) -> str:
    return content.decode("utf-8", errors="replace")


def _upload_text(content: bytes) -> str:
    """Bytes as the spin lab hands them to its readers (text with at least one line)."""
    text = _as_text(content)
    return text if "\n" in text else text + "\n"


def _as_file(content: bytes, suffix: str) -> Path:
    """Write ``content`` to a fresh file (path-only loaders; a fresh name defeats caches)."""
    path = _TMP / f"f{next(_SERIAL)}{suffix}"
    path.write_bytes(content)
    return path


def _via_file(loader: Callable[[Path], object], suffix: str) -> Callable[[bytes], object]:
    def call(content: bytes) -> object:
        path = _as_file(content, suffix)
        try:
            return loader(path)
        finally:
            path.unlink(missing_ok=True)

    return call


_BO = forrester_problem(5)


def _problem_wrong(_content: bytes, problem) -> str | None:
    if problem.candidates.shape[0] != problem.values.shape[0] or problem.candidates.size == 0:
        return "candidates and values differ in length"
    if not np.isfinite(problem.candidates).all() or np.isinf(problem.values).any():
        return "non-finite features or infinite values"
    return None


def _results_wrong(_content: bytes, result) -> str | None:
    indices, values = result
    if not np.isfinite(values).all():
        return "non-finite values"
    if len(set(indices.tolist())) != len(indices):
        return "a row told twice"
    return None


def _curves_wrong(_content: bytes, data) -> str | None:
    if not (np.isfinite(data.m).all() and np.isfinite(data.fields).all()):
        return "non-finite numbers"
    if not np.isfinite(data.temperatures).all():
        return "non-finite temperatures"
    return None


def _chi_wrong(_content: bytes, data) -> str | None:
    if not (np.isfinite(data.chi).all() and np.isfinite(data.temperatures).all()):
        return "non-finite numbers"
    return None


def _bonds_wrong(_content: bytes, cluster) -> str | None:
    if cluster.n_spins > 30:
        return f"{cluster.n_spins} spins"
    return None


def _elements_wrong(_content: bytes, table) -> str | None:
    if not np.isfinite(table.values).all():
        return "non-finite properties"
    return None


def _classifier_wrong(_content: bytes, model) -> str | None:
    X = np.zeros((2, model.n_features_in_))
    try:
        model.predict(X)
    except Exception as error:  # a loaded model must predict
        return f"loaded model cannot predict: {type(error).__name__}"
    return None


def _potential_wrong(_content: bytes, potential) -> str | None:
    arrays = (potential.coefficients_, potential.feature_mean_, potential.feature_scale_)
    if not all(np.isfinite(a).all() for a in arrays):
        return "non-finite weights"
    if not potential.feature_scale_.size or (potential.feature_scale_ <= 0).any():
        return "feature scales not positive"
    return None


def _training_wrong(content: bytes, frames) -> str | None:
    reason = _xyz_wrong(content, frames)
    if reason:
        return reason
    for atoms in frames:
        if (
            not np.isfinite(atoms.get_potential_energy())
            or not np.isfinite(atoms.get_forces()).all()
        ):
            return "non-finite energy or forces"
    return None


def _keyword(function: Callable, **keywords) -> Callable[[bytes], object]:
    """``function(bytes, **keywords)``: an upload path that takes the file's name."""
    return lambda content: function(content, **keywords)


def _by_name(function: Callable) -> Callable[[bytes], object]:
    """``function(text)``: a loader that takes a built-in dataset's name."""
    return lambda content: function(_as_text(content))


def _by_upload_text(function: Callable) -> Callable[[bytes], object]:
    """``function(text)`` on the decoded upload."""
    return lambda content: function(_upload_text(content))


_candidates = _keyword(read_candidate_table, name="c.csv")
_elements = _via_file(load_element_table, ".csv")
_classifier = _via_file(LocalStructureClassifier.load, ".npz")
_network = _via_file(NeuralNetworkPotential.load, ".npz")
_training = _keyword(read_training_frames, filename="t.extxyz")
_local_phase = _by_name(load_local_structures)

_LOADER_TABLE = (
    ("structure.xyz", "extxyz", _keyword(read_frames, filename="up.xyz"), _xyz_wrong),
    ("structure.cif", "cif", _keyword(read_frames, filename="up.cif"), _structure_wrong),
    ("structure.POSCAR", "vasp", _keyword(read_frames, filename="POSCAR"), _structure_wrong),
    ("structure.xsf", "xsf", _keyword(read_frames, filename="up.xsf"), _structure_wrong),
    ("structure.pdb", "pdb", _keyword(read_frames, filename="up.pdb"), _structure_wrong),
    ("structure.lammpstrj", "lammps", _keyword(read_frames, filename="up.lammpstrj"), _dump_wrong),
    ("trajectory.extxyz", "extxyz", _keyword(read_trajectory, filename="run.extxyz"), _xyz_wrong),
    ("spectrum.csv", "spectrum", _keyword(load_spectrum, name="s.csv"), _spectrum_wrong),
    ("spectra.csv", "spectra_csv", _keyword(load_spectra, name="s.csv"), _spectra_wrong),
    ("spectra.npz", "spectra_npz", _keyword(load_spectra, name="s.npz"), _spectra_wrong),
    ("phase.csv", "phase_csv", _keyword(read_phase_csv, name="p.csv"), _phase_wrong),
    ("table.csv", "table", _keyword(read_table, name="t.csv"), _table_wrong),
    ("datasets.load_phase_diagram", "diagram_name", _by_name(load_phase_diagram), _no_check),
    ("datasets.load_si_md", "md_name", _by_name(load_si_md), _no_check),
    ("datasets.builtin_crystal", "crystal_name", _by_name(builtin_crystal), _no_check),
    ("bo.candidate_table", "bo_table", _candidates, _problem_wrong),
    ("bo.results", "bo_results", lambda b: read_results(b, _BO), _results_wrong),
    ("bo.load_grain_boundary", "gb_table", _via_file(load_grain_boundary, ".csv"), _problem_wrong),
    ("spin.magnetization", "magnetization", _by_upload_text(read_magnetization_csv), _curves_wrong),
    ("spin.susceptibility", "susceptibility", _by_upload_text(read_susceptibility_csv), _chi_wrong),
    ("spin.bonds", "bonds", _by_upload_text(read_bonds_csv), _bonds_wrong),
    ("learn.load_element_table", "elements", _elements, _elements_wrong),
    ("local_structure.classifier_load", "classifier", _classifier, _classifier_wrong),
    ("local_structure.load_local_structures", "local_phase", _local_phase, _nonempty),
    ("potentials.network_load", "potential", _network, _potential_wrong),
    ("potentials.training_frames", "training_xyz", _training, _training_wrong),
)

LOADERS: dict[str, Loader] = {row[0]: Loader(*row) for row in _LOADER_TABLE}


#: Fragments of Python's own messages: passed through, they tell a user nothing.
_RAW = re.compile(
    r"Traceback|invalid literal for|could not convert|index out of range|not enough values"
    r"|too many values|NoneType|object has no attribute|unsupported operand|codec can't"
)


#: A sentence ends and another begins (a full stop, then a capital after a space).
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NEXT_SENTENCE = re.compile(r"[a-z0-9)\]'\"][.!?]\s+[A-Z]")


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
    if not message.isprintable():
        return "unprintable characters"
    if _NEXT_SENTENCE.search(_QUOTED.sub("''", message)):  # quoted user text may hold anything
        return "several sentences"
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


def _zip(members: dict[str, bytes]) -> bytes:
    """A zip archive (DEFLATE) of ``members``."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npy(shape: tuple[int, ...], data: bytes, dtype: str = "<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue() + data


def _npz_inputs(seed: bytes, names: tuple[str, str]) -> list[bytes]:
    """Archives that lie: a header claiming 10^12 values, 200 MB of zeros packed small."""
    first, second = names
    members = dict(np.load(io.BytesIO(seed), allow_pickle=False).items())
    plain = {f"{k}.npy": _npy(v.shape, np.ascontiguousarray(v).tobytes(), v.dtype.str)
             for k, v in members.items() if v.dtype.kind in "biuf"}  # fmt: skip
    text = {f"{k}.npy": _npy(v.shape, v.tobytes(), v.dtype.str)
            for k, v in members.items() if v.dtype.kind not in "biuf"}  # fmt: skip
    base = {**plain, **text}
    claim = dict(base, **{f"{first}.npy": _npy((10**6, 10**6), b"\0" * 64)})
    zeros = 200 * 2**20
    last = members[second].shape[-1]  # a plausible shape: the lie is only in the size
    bomb = dict(base, **{f"{second}.npy": _npy((zeros // 8 // last, last), bytes(zeros))})
    shape = members[second].shape
    nan = dict(base, **{f"{second}.npy": _npy(shape, np.full(shape, np.nan).tobytes())})
    wrong_type = dict(base, **{f"{first}.npy": _npy((3,), b"abcdefghijkl", "|S4")})
    return [_zip(claim), _zip(bomb), _zip(nan), _zip(wrong_type), _zip({})]


_NUMBER = re.compile(rb"(?<![A-Za-z_])-?\d+(\.\d+)?([eE][-+]?\d+)?(?![A-Za-z_])")


def _every_number(seed: bytes, token: bytes) -> bytes:
    """``seed`` with every number after the first line replaced by ``token``."""
    head, _, body = seed.partition(b"\n")
    return head + b"\n" + _NUMBER.sub(token, body)


def hostile_inputs(seed_key: str, *, long: bool = True) -> list[bytes]:
    """Hand-made inputs that lie, for the loaders reading ``SEEDS[seed_key]``.

    Every number NaN, infinite or huge; the file repeated to about 2 MB (``long``); for
    archives, a member claiming 10^12 values, 200 MB of zeros packed into a small file,
    NaN data, text where numbers belong, an empty archive.
    """
    seed = SEEDS[seed_key]
    if seed_key == "spectra_npz":
        return _npz_inputs(seed, ("x", "spectra"))
    if seed_key == "classifier":
        return _npz_inputs(seed, ("mean", "w0"))
    if seed_key == "potential":
        return _npz_inputs(seed, ("feature_mean", "coefficients"))
    if b"\n" not in seed:  # a built-in name
        return [seed * 10_000, b"../" * 50 + seed, b"<b>" + seed + b"</b>"][: 3 if long else 2]
    repeated = seed + seed.partition(b"\n")[2] * max(1, 2_000_000 // max(len(seed), 1))
    lies = [_every_number(seed, token) for token in (b"nan", b"inf", b"1e308", b"0")]
    return [*lies, repeated] if long else lies
