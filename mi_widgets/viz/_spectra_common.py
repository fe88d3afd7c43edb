"""What the spectra apps share: the model menus, colours, and the plotting helpers.

The peak picker, the EM player and the map explorer draw a spectrum, its model and
its components the same way; the helpers for that live here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mi_widgets._errors import MIInputError
from mi_widgets.spectra.results import PeakModel
from mi_widgets.viz import class_colors, style_legend

SHAPE_OPTIONS = [
    ("pseudo-Voigt", "pseudo_voigt"),
    ("Gaussian", "gaussian"),
    ("Lorentzian", "lorentzian"),
]
BACKGROUND_OPTIONS = [
    ("linear", "linear"),
    ("none", "none"),
    ("uniform", "uniform"),
    ("exponential", "exponential"),
    ("Shirley (binding energy)", "shirley"),
    ("Shirley (kinetic energy)", "shirley_kinetic"),
]
DATA_COLOR = "#555555"
MODEL_COLOR = "#000000"
_SMALL = "<div style='font-size:13px;line-height:1.5'>{}</div>"


def _peak_colors(n: int) -> list[str]:
    return class_colors(max(n, 1))[:n]


def _finite_float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MIInputError(f"{name} must be a number; got {value!r}.") from None
    if not math.isfinite(number):
        raise MIInputError(f"{name} must be finite; got {value!r}.")
    return number


def _component_columns(x: np.ndarray, params: np.ndarray, model: PeakModel) -> dict:
    """Multi-line columns: every peak on top of the background."""
    bg = model.background_curve(x, params)
    peaks = model.components(x, params) + bg
    return {"xs": [x] * model.n_peaks, "ys": list(peaks), "color": _peak_colors(model.n_peaks)}


def _legend_outside(fig: Any) -> None:
    """Put the legend to the right of the plot so that it never covers data."""
    style_legend(fig)
    for legend in list(fig.legend):
        fig.center.remove(legend)
        legend.location = "top_left"
        fig.add_layout(legend, "right")


def _unit_of(label: str) -> str:
    """The unit in an axis label such as ``"binding energy (eV)"``."""
    if label.endswith(")") and "(" in label:
        return label[label.rindex("(") + 1 : -1]
    return ""
