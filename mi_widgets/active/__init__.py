"""Active learning over a fixed candidate set: phase-diagram uncertainty sampling (PDC)."""

from mi_widgets.active.sampling import (
    PhaseDiagramSampler,
    SamplingComparison,
    SamplingRun,
    compare_with_random,
    initial_design,
    macro_f1,
    run_sampling,
    samples_to_reach,
)

__all__ = [
    "PhaseDiagramSampler",
    "SamplingComparison",
    "SamplingRun",
    "compare_with_random",
    "initial_design",
    "macro_f1",
    "run_sampling",
    "samples_to_reach",
]
