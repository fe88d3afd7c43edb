"""Helpers shared by the apps of the property-prediction labs."""

from __future__ import annotations

import numpy as np

from mi_widgets._errors import check_positive_int


def _seed(random_state: int | None) -> int:
    """A whole-number seed for the core functions that need one."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    return check_positive_int(random_state, "random_state", minimum=0)
