"""The TS-LPP paper's headline on its own Training.csv, as lab 08 shows it."""

from __future__ import annotations

import numpy as np
import pytest

from mi_widgets._errors import MIInputError
from mi_widgets.embedding.paper import (
    TRAINING_CLASSES,
    compare_maps,
    load_tslpp_training,
    tslpp_training_path,
)

pytestmark = pytest.mark.skipif(
    tslpp_training_path() is None, reason="Training.csv of the original TS-LPP code is absent"
)


@pytest.fixture(scope="module")
def comparison():
    return compare_maps(*load_tslpp_training())


def test_training_set_is_three_blocks_of_400():
    features, labels = load_tslpp_training()
    assert features.shape == (1200, 100)
    assert np.bincount(labels).tolist() == [400, 400, 400]
    assert TRAINING_CLASSES == ("crystal", "liquid", "amorphous")


def test_knn_accuracy_in_2d_is_the_papers_headline(comparison):
    """Tamura et al. 2022 on Training.csv: TS-LPP 1.000, LPP 0.938, PCA 0.858."""
    accuracy = comparison.accuracy
    assert accuracy["TS-LPP"] == pytest.approx(1.000, abs=5e-4)
    assert accuracy["LPP"] == pytest.approx(0.938, abs=1e-3)
    assert accuracy["PCA"] == pytest.approx(0.858, abs=1e-3)


def test_silhouette_ranks_the_maps_like_the_accuracy(comparison):
    silhouette = comparison.silhouette
    assert silhouette["TS-LPP"] > 0.7  # three compact, distant groups
    assert silhouette["PCA"] < silhouette["LPP"] < silhouette["TS-LPP"]


def test_paper_maps_panel_titles_carry_the_numbers(comparison):
    from mi_widgets.embedding.widgets import paper_maps

    pane = paper_maps(comparison)
    titles = [fig.title.text for fig in pane._model.children]
    assert titles[2].startswith("TS-LPP: kNN 1.0000")
    assert "PCA: kNN 0.857" in titles[0] or "PCA: kNN 0.858" in titles[0]


def test_labels_of_the_wrong_length_are_refused():
    with pytest.raises(MIInputError, match="one class per row"):
        compare_maps(np.zeros((10, 3)), [0, 1])
