"""Anscombe's quartet: the published identical statistics (Anscombe 1973)."""

from __future__ import annotations

import numpy as np
import pytest

from mi_widgets import MIInputError
from mi_widgets.eda import ANSCOMBE, summary_statistics


@pytest.mark.parametrize("name", list(ANSCOMBE))
def test_anscombe_statistics_match_the_paper(name):
    stats = summary_statistics(*ANSCOMBE[name])
    assert stats.n == 11
    assert stats.mean_x == pytest.approx(9.0)
    assert stats.var_x == pytest.approx(11.0)
    assert stats.mean_y == pytest.approx(7.50, abs=0.005)
    assert stats.var_y == pytest.approx(4.125, abs=0.003)
    assert stats.correlation == pytest.approx(0.816, abs=0.001)
    assert stats.intercept == pytest.approx(3.00, abs=0.005)
    assert stats.slope == pytest.approx(0.500, abs=0.001)


def test_summary_statistics_match_numpy_polyfit():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=50), rng.normal(size=50)
    stats = summary_statistics(x, y)
    slope, intercept = np.polyfit(x, y, 1)
    assert stats.slope == pytest.approx(slope)
    assert stats.intercept == pytest.approx(intercept)
    assert stats.correlation == pytest.approx(np.corrcoef(x, y)[0, 1])


def test_constant_x_is_refused():
    with pytest.raises(MIInputError, match="x is constant"):
        summary_statistics([1, 1, 1], [1, 2, 3])
