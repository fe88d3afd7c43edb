"""The app of the Bayesian-optimisation lab (04): :class:`BOLab`.

The app (controls and actions) is in ``lab``, its figures and their redrawing in
``plots``; the app is gathered here.
"""

from mi_widgets.bayesopt.widgets.lab import BOLab

__all__ = ["BOLab"]
