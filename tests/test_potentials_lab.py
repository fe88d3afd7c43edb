"""PotentialLab driven from Python: every action, bad uploads in the banner, state kept."""

from __future__ import annotations

import io

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from browser_helpers import poll_until

from mi_widgets import MIInputError
from mi_widgets.potentials.training import load_si_frames
from mi_widgets.potentials.widgets import PotentialLab


@pytest.fixture
def lab():
    return PotentialLab(random_state=0)


def _extxyz(frames) -> bytes:
    buffer = io.StringIO()
    write(buffer, frames, format="extxyz")
    return buffer.getvalue().encode()


def _cu_frames(n=6):
    frames = []
    for k in range(n):
        atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
        atoms.rattle(0.05, seed=k)
        atoms.calc = EMT()
        atoms.calc = SinglePointCalculator(atoms, energy=atoms.get_potential_energy(),
                                           forces=atoms.get_forces())  # fmt: skip
        frames.append(atoms)
    return frames


def test_opens_with_the_shipped_potential_on_held_out_frames(lab):
    assert lab.model_name == "shipped potential"
    assert lab.errors is None  # trained on another split: its own held-out errors are shown
    assert "on its own held-out frames 3.0 meV/atom" in lab.training_text.value
    assert len(lab._feature_source.data["before"]) == lab.settings.n_features


def test_rotate_and_permute_leave_the_features(lab):
    lab.select_atom(7)
    before = np.array(lab._feature_source.data["before"])
    lab.rotate()
    assert lab.check.max_feature_difference < 1e-8
    assert lab.check.max_cartesian_difference > 0.1
    lab.permute()
    assert lab.check.max_feature_difference < 1e-8
    assert lab.atom.value == lab.check.index_after
    assert np.allclose(lab._feature_source.data["after"], before)
    assert "Cartesian" in lab.descriptor_text.value
    with pytest.raises(MIInputError, match="Atom index"):
        lab.select_atom(64)


def test_slider_drives_the_atom_and_bad_values_go_to_the_banner(lab):
    lab.atom.value = 3
    assert "Atom 3" in lab.descriptor_text.value
    lab.run_action(lab.select_atom, 999)
    assert "Atom index" in lab.banner.message
    assert "Atom 3" in lab.descriptor_text.value


@pytest.mark.slow
def test_train_updates_model_losses_and_parity(lab):
    lab.hidden.value, lab.epochs.value = 6, 20
    lab.train_button.click()  # runs in the background, Stop beside the bar
    assert lab.wait(timeout=600)
    assert lab.banner.message == ""
    assert lab.model_name == "trained here"
    assert len(lab._loss_source.data["epoch"]) == len(lab.model.history_["energy_rmse"])
    assert len(lab._energy_source.data["x"]) == len(lab.test_frames)
    assert lab.md_model.value == "trained here"


@pytest.mark.slow
def test_energy_only_vs_energy_and_force(lab):
    lab.hidden.value, lab.epochs.value = 6, 30
    lab.compare_force_training()
    only, both = lab.comparison["energy only"], lab.comparison["energy + force"]
    assert both.force_rmse < only.force_rmse
    assert "better with force" in lab.training_text.value


@pytest.mark.slow
def test_learning_curve(lab):
    lab.hidden.value, lab.epochs.value = 4, 10
    lab.learning_curve()
    assert lab._curve_source.data["n"] == [5, 10, 20, 40]


@pytest.mark.slow
def test_scale_up_md_next_to_stillinger_weber(lab):
    lab.run_md(n_atoms=216, n_steps=100)
    assert lab.md.n_atoms == 216
    assert len(lab._md_sources["rdf"][0].data["x"]) == len(lab.md.model.r)
    assert "Diffusion constant" in lab.md_text.value
    assert list(lab.md_atoms.options) == [216, 512, 1728]  # 1728: the lecture's large cell
    with pytest.raises(MIInputError):
        lab.run_md(n_atoms=100)


def test_upload_of_own_data_tests_the_model_then_trains(lab):
    frames = load_si_frames(include_md=False)[:6]
    lab.load_training_data(_extxyz(frames), "mine.extxyz")
    assert "energy RMSE" in lab.upload_text.value
    assert len(lab.frames) == 6
    lab.hidden.value, lab.epochs.value = 4, 5
    lab.train()
    assert lab.model.species == ("Si",)


def test_upload_of_other_species_says_so_and_trains_a_new_model(lab):
    lab.load_training_data(_extxyz(_cu_frames()), "cu.extxyz")
    assert "knows Si only, not Cu" in lab.upload_text.value
    lab.hidden.value, lab.epochs.value = 4, 5
    lab.train()
    assert lab.model.species == ("Cu",)
    lab.run_action(lab.run_md)
    lab.md_model.value = "trained here"
    lab.run_action(lab.run_md)
    assert "runs Si" in lab.banner.message


def test_close_atoms_give_an_extrapolation_warning(lab):
    frames = load_si_frames(include_md=False)[:3]
    squeezed = frames[0].copy()
    squeezed.positions[1] = squeezed.positions[0] + [1.7, 0, 0]
    squeezed.calc = SinglePointCalculator(squeezed, energy=frames[0].get_potential_energy(),
                                          forces=frames[0].get_forces())  # fmt: skip
    lab.load_training_data(_extxyz([squeezed, *frames[1:]]), "close.extxyz")
    assert "Warning" in lab.upload_text.value and "extrapolates" in lab.upload_text.value


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"this is not a structure file\n", "extended XYZ"),
        (_extxyz([Atoms("Si2", positions=[[0, 0, 0], [2.3, 0, 0]], cell=[6] * 3, pbc=True)]),
         "energy"),
    ],
)  # fmt: skip
def test_bad_uploads_get_one_sentence_and_keep_the_pool(lab, content, match):
    pool = lab.frames
    lab.run_action(lab.load_training_data, content, "bad.extxyz")
    assert match in lab.banner.message
    assert lab.frames is pool


def test_upload_without_forces_is_refused(lab):
    frame = load_si_frames(include_md=False)[0]
    bare = frame.copy()
    bare.info["energy"] = frame.get_potential_energy()
    lab.run_action(lab.load_training_data, _extxyz([bare, bare]), "noforces.extxyz")
    assert "forces" in lab.banner.message


@pytest.mark.slow
def test_stop_ends_the_md_and_keeps_the_previous_state(lab):
    lab.md_button.click()
    assert wait_for(lambda: lab.progress.value > 0)  # MD steps are being reported
    lab.stop()
    assert lab.wait(timeout=600)
    assert lab.banner.message.startswith("Stopped.")
    assert lab.md is None


def wait_for(condition, timeout: float = 600.0) -> bool:
    """Poll ``condition`` (a background action's progress) every 10 ms."""
    return poll_until(condition, timeout_s=timeout, interval_s=0.01)
