"""LocalStructureLab driven from Python: every action, bad input in the banner, state kept."""

from __future__ import annotations

import io

import numpy as np
import pytest
from ase.io import write

from mi_widgets import MIInputError
from mi_widgets.local_structure import displaced_lattice
from mi_widgets.local_structure.widgets import LocalStructureLab


@pytest.fixture
def lab():
    return LocalStructureLab(random_state=0)


def test_opens_with_maps_classifier_and_interface(lab):
    assert lab.maps.knn_averaged > lab.maps.knn_plain
    assert lab.evaluation.accuracy > 0.97
    assert len(lab.labels) == len(lab.structure) == 640
    assert "crystal-liquid interface" in lab.view_caption.value


def test_theta_trades_coverage_for_accuracy(lab):
    before = lab.evaluation
    lab.set_theta(0.95)
    after = lab.evaluation
    assert after.coverage < before.coverage
    assert after.kept_accuracy >= before.kept_accuracy
    assert lab.theta.value == 0.95
    assert (lab.labels == "rejected").any()
    with pytest.raises(MIInputError, match="theta"):
        lab.set_theta(1.5)


def test_noise_model_and_temperature_change_the_maps(lab):
    hot = lab.maps
    lab.set_noise("displacement")
    assert lab.noise.value == "displacement"
    assert lab.maps.q4.size != hot.q4.size or not np.allclose(lab.maps.q4, hot.q4)
    lab.show_temperature(300.0)
    assert lab.maps.knn_averaged > 0.95
    with pytest.raises(MIInputError, match="temperature"):
        lab.show_temperature(450.0)


def test_colour_by_truth_and_cna(lab):
    lab.set_colour_by("truth")
    assert "colour: truth" in lab.view_caption.value
    lab.set_colour_by("adaptive CNA")
    assert "adaptive CNA" in lab.view_caption.value
    with pytest.raises(MIInputError):
        lab.set_colour_by("rainbow")


def test_upload_classifies_and_bad_upload_keeps_the_structure(lab):
    buffer = io.StringIO()
    write(buffer, displaced_lattice("bcc", 0.05, n_atoms=250, random_state=1), format="extxyz")
    lab.load_structure(buffer.getvalue().encode(), "<b>my</b>.extxyz")
    assert (lab.labels == "bcc").mean() > 0.95
    assert "&lt;b&gt;my&lt;/b&gt;.extxyz" in lab.view_caption.value
    kept = lab.structure
    lab.run_action(lab.load_structure, b"not a structure", "bad.extxyz")
    assert lab.banner.message
    assert lab.structure is kept


@pytest.mark.slow
def test_training_on_md_and_the_unsupervised_study(lab):
    lab.train("md")
    assert lab.evaluation.accuracy > 0.9
    lab.run_unsupervised()
    assert lab.unsupervised.k >= 2
    assert "Adjusted Rand" in lab.study_text.value
