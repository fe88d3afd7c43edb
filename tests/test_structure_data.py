"""Reading user structures, the Si MD data files, and the script that makes them."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.build import bulk
from conftest import run_script
from hypothesis import given, settings
from hypothesis import strategies as st

from mi_widgets._errors import MIInputError
from mi_widgets.structure import StillingerWeber, steinhardt
from mi_widgets.structure.data import (
    SI_MD_KINDS,
    load_si_md,
    read_trajectory,
    si_md_path,
)
from mi_widgets.structure.io import read_frames


def read_structure(source, **kwargs):
    """The last frame, as a single-structure reader would give it."""
    return read_trajectory(source, index=-1, **kwargs)[0]


REPO = Path(__file__).resolve().parents[1]


def extxyz_bytes(frames) -> bytes:
    buffer = io.StringIO()
    ase.io.write(buffer, frames, format="extxyz")
    return buffer.getvalue().encode()


def test_read_structure_from_bytes_and_path_round_trip(tmp_path):
    si = bulk("Si", "diamond", a=5.431, cubic=True)
    si.rattle(0.05, seed=1)
    from_bytes = read_structure(extxyz_bytes(si), filename="si.extxyz")
    np.testing.assert_allclose(from_bytes.positions, si.positions, atol=1e-6)
    np.testing.assert_allclose(from_bytes.cell.array, si.cell.array, atol=1e-6)
    path = tmp_path / "POSCAR"
    ase.io.write(path, si, format="vasp")
    assert len(read_structure(path)) == 8
    assert len(read_structure(str(path), format="vasp")) == 8


def test_read_trajectory_returns_every_frame_or_the_indexed_one():
    frames = [bulk("Si", "diamond", a=a, cubic=True) for a in (5.40, 5.43, 5.46)]
    content = extxyz_bytes(frames)
    assert len(read_trajectory(content, filename="traj.extxyz")) == 3
    assert len(read_frames(content, filename="traj.extxyz")) == 3  # the same reader
    last = read_structure(content, filename="traj.extxyz")
    assert last.cell.lengths()[0] == pytest.approx(5.46)


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"this is not a structure\n", "notes.extxyz", "could not be read as extxyz"),
        (b"", "empty.xyz", "is empty"),
        (b"\x00\x01\x02", None, "Cannot tell the format of 'upload'"),
        (b"\x80\x02}q\x00.", "old.traj", "Cannot tell the format of 'old.traj'"),
        (b"2\n\nSi 0 0 0\nSi 1 1 1\n", "molecule.xyz", "has no periodic cell"),
        (
            b'2\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3\n'
            b"Si 0 0 0\nSi 1 nan 1\n",
            "nan.extxyz",
            "NaN or infinite positions",
        ),
    ],
)
def test_bad_files_raise_one_clear_error(content, filename, message):
    with pytest.raises(MIInputError, match=message) as caught:
        read_structure(content, filename=filename)
    assert "/tmp" not in str(caught.value)  # no temporary paths in user-facing messages


def test_missing_path_and_refused_format():
    with pytest.raises(MIInputError, match="does not exist"):
        read_structure("/no/such/file.extxyz")
    with pytest.raises(MIInputError, match="is not accepted"):
        read_structure(b"print(1)", filename="x.py", format="py")


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_escape_as_another_error(content):
    try:
        atoms = read_structure(content, filename="upload.extxyz")
    except MIInputError:
        return
    assert len(atoms) > 0 and np.isfinite(atoms.positions).all()


# ------------------------------------------------------------------ the Si MD data


def test_make_si_md_small_run_writes_every_kind(tmp_path):
    run_script("make_si_md.py", "--small", "--out", tmp_path)
    for kind in SI_MD_KINDS:
        frames = read_trajectory(tmp_path / f"si_md_{kind}.extxyz")
        assert all(len(f) == 64 for f in frames)
        assert frames[0].info["seed"] == 2026
    quench = read_trajectory(tmp_path / "si_md_quench.extxyz")
    temperatures = [f.info["temperature_K"] for f in quench]
    assert temperatures[0] == 2000 and temperatures[-1] == 300
    assert np.all(np.diff(temperatures) < 0)
    # energies stored in the file are the SW energies of the stored positions
    frame = read_trajectory(tmp_path / "si_md_liquid_2000K.extxyz")[-1]
    stored = frame.get_potential_energy()
    assert StillingerWeber().get_potential_energy(frame) == pytest.approx(stored, abs=1e-5)


@pytest.mark.skipif(not si_md_path("quench").exists(), reason="data/ files not generated")
def test_si_md_data_is_physical():
    crystal = load_si_md("crystal_300K")
    liquid = load_si_md("liquid_2000K")
    amorphous = load_si_md("amorphous_300K")
    assert {len(f) for f in crystal + liquid + amorphous} == {216}

    def mean_energy(frames):
        return np.mean([f.get_potential_energy() / len(f) for f in frames])

    # crystal < amorphous < liquid in potential energy per atom
    assert mean_energy(crystal) < mean_energy(amorphous) < mean_energy(liquid)

    def mean_q(frames):
        return np.mean([steinhardt(f, ls=(3,), n_neighbors=4).q.mean() for f in frames])

    # tetrahedral order (q3 of 4 neighbours) is highest in the crystal, lowest in the liquid
    assert mean_q(crystal) > mean_q(amorphous) > mean_q(liquid)
    quench = load_si_md("quench")
    assert quench[0].info["cooling_rate_K_per_s"] == pytest.approx(5e13)


def test_load_si_md_rejects_unknown_kind():
    with pytest.raises(MIInputError, match="kind must be one of"):
        load_si_md("glass")


@pytest.mark.skipif(not si_md_path("quench").exists(), reason="data/ files not generated")
def test_laaf_of_the_si_md_data_separates_the_three_phases():
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mi_widgets.structure import LAAF_SI_SETTINGS, laaf_descriptor

    features, labels = [], []
    for label, kind in enumerate(["crystal_300K", "liquid_2000K", "amorphous_300K"]):
        for frame in load_si_md(kind)[::2]:
            features.append(laaf_descriptor(frame, **LAAF_SI_SETTINGS))
            labels += [label] * len(frame)
    model = make_pipeline(StandardScaler(), KNeighborsClassifier(5))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    accuracy = cross_val_score(model, np.vstack(features), labels, cv=folds).mean()
    assert accuracy >= 0.95


def test_vink_amorphous_si_is_fourfold_like_real_a_si():
    """Vink's refitted SW and a slower quench: coordination near real a-Si's 3.88, not 4.5."""
    from mi_widgets.structure import coordination_numbers
    from mi_widgets.structure.build import first_shell_cutoff
    from mi_widgets.structure.stillinger_weber import SW_SILICON, StillingerWeber

    frames = load_si_md("amorphous_vink_300K")
    counts = np.concatenate([coordination_numbers(f, first_shell_cutoff(f)) for f in frames])
    assert 3.9 <= counts.mean() <= 4.1 and (counts == 4).mean() >= 0.9
    fast = np.concatenate(
        [coordination_numbers(f, first_shell_cutoff(f)) for f in load_si_md("amorphous_300K")]
    )
    assert fast.mean() > 4.3  # the original SW glass, over-coordinated
    # the stored energies are those of the refitted potential
    vink = StillingerWeber(
        elements={"Si": dataclasses.replace(SW_SILICON, epsilon=1.64833, lambda_=31.5)}
    )
    assert vink.get_potential_energy(frames[-1]) == pytest.approx(
        frames[-1].get_potential_energy(), abs=1e-5
    )


def test_make_si_amorphous_vink_small_run(tmp_path):
    run_script("make_si_amorphous_vink.py", "--small", "--out", tmp_path)
    frames = read_trajectory(tmp_path / "si_md_amorphous_vink_300K.extxyz")
    assert len(frames) == 2 and all(len(f) == 64 for f in frames)
    assert frames[0].info["potential"].startswith("Stillinger-Weber, Vink")
