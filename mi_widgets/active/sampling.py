"""Phase-diagram uncertainty sampling (PDC): the names of the former single module.

The sampler lives in :mod:`mi_widgets.active.pdc`, Macro-F1 and friends in
:mod:`mi_widgets.active.metrics`, initial designs in :mod:`mi_widgets.active.design` and
the loop (over :class:`~mi_widgets.active.campaign.Campaign`) in
:mod:`mi_widgets.active.loop`; this module re-exports them so existing imports keep working.
"""

from mi_widgets.active.design import initial_design
from mi_widgets.active.loop import (
    SamplingComparison,
    SamplingRun,
    SamplingStep,
    compare_with_random,
    run_sampling,
    sampling_step,
)
from mi_widgets.active.metrics import macro_f1, samples_to_reach
from mi_widgets.active.pdc import (
    BATCHES,
    ESTIMATORS,
    GRAPHS,
    SCORES,
    PhaseDiagramSampler,
    split_assemblage,
    uncertainty_scores,
)

__all__ = [
    "BATCHES",
    "ESTIMATORS",
    "GRAPHS",
    "SCORES",
    "PhaseDiagramSampler",
    "SamplingComparison",
    "SamplingRun",
    "SamplingStep",
    "compare_with_random",
    "initial_design",
    "macro_f1",
    "run_sampling",
    "samples_to_reach",
    "sampling_step",
    "split_assemblage",
    "uncertainty_scores",
]
