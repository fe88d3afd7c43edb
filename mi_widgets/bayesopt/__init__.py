"""Bayesian optimisation over a fixed candidate set (lab 04).

A Gaussian-process surrogate (:mod:`~mi_widgets.bayesopt.gp`), the acquisition functions
and the :class:`BayesianOptimizer` sampler (:mod:`~mi_widgets.bayesopt.optimizer`, an
implementation of :class:`mi_widgets.active.campaign.CandidateSampler`), the EMT
grain-boundary search problem (:mod:`~mi_widgets.bayesopt.grain_boundary`) and its data
(:mod:`~mi_widgets.bayesopt.data`). The lab's app is :class:`mi_widgets.bayesopt.widgets.BOLab`.
"""

from mi_widgets.bayesopt.data import load_grain_boundary, read_candidate_table
from mi_widgets.bayesopt.optimizer import BayesianOptimizer

__all__ = ["BayesianOptimizer", "load_grain_boundary", "read_candidate_table"]
