"""Lab 06 training data: the script runs, the shipped files hold what they claim."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.calculators.emt import EMT

from mi_widgets.structure import StillingerWeber

REPO = Path(__file__).resolve().parents[1]
SUBSETS = {"md", "strained", "vacancy", "surface", "liquid"}


def test_make_potential_data_small_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_potential_data.py"), "--small", "--out",
         tmp_path],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    for name, calculator in (("si", StillingerWeber()), ("cu", EMT())):
        frames = ase.io.read(tmp_path / f"potentials_{name}.extxyz", index=":")
        assert {f.info["subset"] for f in frames} == SUBSETS
        frame = frames[-1]
        assert calculator.get_potential_energy(frame) == pytest.approx(
            frame.get_potential_energy(), abs=1e-5
        )


@pytest.mark.parametrize(("name", "calculator"), [("si", StillingerWeber), ("cu", EMT)])
def test_shipped_data_is_labelled_by_its_reference(name, calculator):
    path = REPO / "data" / f"potentials_{name}.extxyz"
    if not path.is_file():
        pytest.skip("data/ files not generated")
    frames = ase.io.read(path, index=":")
    assert {f.info["subset"] for f in frames} == SUBSETS
    rng = np.random.default_rng(0)
    for index in rng.choice(len(frames), 3, replace=False):
        frame = frames[index]
        reference = frame.copy()
        reference.calc = calculator()
        assert reference.get_potential_energy() == pytest.approx(
            frame.get_potential_energy(), abs=1e-5
        )
        np.testing.assert_allclose(reference.get_forces(), frame.get_forces(), atol=1e-5)
    energies = {
        s: np.mean([f.get_potential_energy() / len(f) for f in frames if f.info["subset"] == s])
        for s in SUBSETS
    }
    # the liquid and the surface lie above the thermal crystal
    assert energies["liquid"] > energies["md"] and energies["surface"] > energies["md"]


def test_read_training_frames_accepts_the_shipped_format_and_refuses_others(tmp_path):
    from mi_widgets._errors import MIInputError
    from mi_widgets.potentials import read_training_frames

    good = b'1\nLattice="3 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3:forces:R:3 '
    good += b'energy=-1.5 pbc="T T T"\nCu 0 0 0 0.1 0 0\n'
    frames = read_training_frames(good, filename="cu.extxyz")
    assert frames[0].get_potential_energy() == -1.5
    assert frames[0].get_forces()[0, 0] == 0.1
    no_forces = b'1\nLattice="3 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3 energy=-1.5\n'
    no_forces += b"Cu 0 0 0\n"
    with pytest.raises(MIInputError, match="no forces"):
        read_training_frames(no_forces, filename="cu.extxyz")
    assert len(read_training_frames(no_forces, filename="cu.extxyz", need_forces=False)) == 1
    no_energy = b'1\nLattice="3 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3\nCu 0 0 0\n'
    with pytest.raises(MIInputError, match="no \\(finite\\) energy"):
        read_training_frames(no_energy, filename="cu.extxyz", need_forces=False)
    with pytest.raises(MIInputError, match="extended XYZ"):
        read_training_frames(b"this is not a structure file\n", filename="notes.extxyz")
