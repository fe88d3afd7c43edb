"""Active learning over a fixed candidate set: phase-diagram uncertainty sampling (PDC).

The sequential-design core (:mod:`mi_widgets.active.campaign`) is shared with Bayesian
optimisation, which lives in :mod:`mi_widgets.bayesopt`; ``BayesianOptimizer`` is still
importable from here.
"""

from mi_widgets.active.campaign import (
    Campaign,
    CampaignComparison,
    CampaignRecord,
    CandidateSampler,
    RandomChoice,
)
from mi_widgets.active.io import load_phase_diagram, proposals_csv, read_phase_csv
from mi_widgets.active.metrics import macro_f1_metric, samples_to_discover
from mi_widgets.active.sampling import (
    PhaseDiagramSampler,
    SamplingComparison,
    SamplingRun,
    SamplingStep,
    compare_with_random,
    initial_design,
    macro_f1,
    run_sampling,
    samples_to_reach,
    sampling_step,
)
from mi_widgets.active.thermo import (
    CompoundPhase,
    PhaseDiagram,
    SolutionPhase,
    builtin_diagram,
)

__all__ = [
    "Campaign",
    "CampaignComparison",
    "CampaignRecord",
    "CandidateSampler",
    "CompoundPhase",
    "PhaseDiagram",
    "PhaseDiagramSampler",
    "RandomChoice",
    "SamplingComparison",
    "SamplingRun",
    "SamplingStep",
    "SolutionPhase",
    "builtin_diagram",
    "compare_with_random",
    "initial_design",
    "load_phase_diagram",
    "macro_f1",
    "macro_f1_metric",
    "proposals_csv",
    "read_phase_csv",
    "run_sampling",
    "samples_to_discover",
    "samples_to_reach",
    "sampling_step",
]


def __getattr__(name: str):
    """``mi_widgets.active.BayesianOptimizer``, imported on first use (no import cycle)."""
    if name == "BayesianOptimizer":
        from mi_widgets.bayesopt.optimizer import BayesianOptimizer

        return BayesianOptimizer
    raise AttributeError(f"module 'mi_widgets.active' has no attribute {name!r}")
