"""CPU timing shared by the benchmarks (CPU seconds resist other users of a shared machine)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def cpu_time(function: Callable[[], object], repeats: int = 3) -> float:
    """Best CPU time (s) of ``repeats`` calls of ``function`` in this process."""
    best = np.inf
    for _ in range(repeats):
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best
