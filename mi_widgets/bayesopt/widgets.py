"""The app of the Bayesian-optimisation lab (04): :class:`BOLab`.

The app (controls and actions) is in ``mi_widgets.viz.bayesopt_lab``, its figures and
their redrawing in ``mi_widgets.viz.bayesopt_plots``; the app is gathered here.
"""

from mi_widgets.viz.bayesopt_lab import BOLab

__all__ = ["BOLab"]
