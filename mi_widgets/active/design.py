"""Initial designs: the points measured before the sampler takes over."""

from __future__ import annotations

from typing import Any

import numpy as np

from mi_widgets._errors import check_positive_int

__all__ = ["initial_design"]


def initial_design(truth: Any, n_initial: int = 5, random_state: int | None = None) -> np.ndarray:
    """Random starting points, redrawn (seeded) until at least two phases are among them.

    Examples
    --------
    >>> initial_design(["a"] * 5 + ["b"] * 5, 2, random_state=0).size
    2
    """
    truth = np.asarray(truth)
    n_initial = check_positive_int(n_initial, "n_initial", maximum=len(truth))
    rng = np.random.default_rng(random_state)
    for _ in range(100):
        chosen = rng.choice(len(truth), size=n_initial, replace=False)
        if len(np.unique(truth[chosen])) >= 2 or n_initial == 1:
            return chosen
    return chosen
