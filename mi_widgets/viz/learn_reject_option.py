"""The reject-option explorer of lab 10: coverage and accuracy against the threshold theta."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from bokeh.models import Span
from sklearn.metrics import log_loss

from mi_widgets._errors import MIInputError, check_finite_array
from mi_widgets.learn.models import reject_option
from mi_widgets.viz import OKABE_ITO, bokeh_pane, new_figure, style_legend
from mi_widgets.viz.app import LabApp

__all__ = ["RejectOptionExplorer"]

_THETAS = np.linspace(0.5, 1.0, 51)


class RejectOptionExplorer(LabApp):
    """Classify only when the largest posterior probability is at least theta.

    Parameters
    ----------
    probabilities : array, shape (n_samples, n_classes)
        ``predict_proba`` of a classifier on held-out samples.
    y_true : array of int, shape (n_samples,)
        True classes 0..n_classes-1.
    theta : float, default 0.5
        Initial threshold.
    random_state : int or None
        Unused (nothing is random); accepted like every app.

    Attributes
    ----------
    result : RejectOption
        Predictions, coverage and accuracy at the current theta.
    cross_entropy : float
        Log loss of the probabilities (nats per sample).

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7]])
    >>> lab = RejectOptionExplorer(p, np.array([0, 0, 1]))
    >>> lab.set_theta(0.65); lab.result.coverage
    0.6666666666666666
    """

    title = "Classification with a reject option"
    css_class = "mi-reject-option"

    def __init__(
        self,
        probabilities: np.ndarray,
        y_true: np.ndarray,
        *,
        theta: float = 0.5,
        random_state: int | None = 0,
    ):
        super().__init__(random_state=random_state)
        self.probabilities = check_finite_array(probabilities, "probabilities", ndim=2)
        self.y_true = np.asarray(y_true).astype(int)
        if len(self.y_true) != len(self.probabilities):
            raise MIInputError("probabilities and y_true need one row per sample.")
        self.cross_entropy = float(
            log_loss(self.y_true, self.probabilities, labels=range(self.probabilities.shape[1]))
        )
        curve = [reject_option(self.probabilities, t, self.y_true) for t in _THETAS]
        self.slider = widgets.FloatSlider(
            value=theta, min=0.5, max=1.0, step=0.01, description="theta", readout_format=".2f"
        )
        self.slider.add_class("mi-reject-theta")
        self.on_change(self.slider, lambda value: self.set_theta(float(value)))
        self.summary = widgets.HTML()
        fig = new_figure(
            "Reject option",
            width=520,
            height=340,
            x_axis_label="theta (smallest accepted max probability)",
            y_axis_label="fraction",
        )
        fig.y_range.start, fig.y_range.end = 0, 1.02
        fig.line(
            _THETAS,
            [r.coverage for r in curve],
            color=OKABE_ITO[4],
            line_width=3,
            legend_label="coverage (fraction classified)",
        )
        fig.line(
            _THETAS,
            [r.accuracy for r in curve],
            color=OKABE_ITO[5],
            line_width=3,
            line_dash="dashed",
            legend_label="accuracy on classified",
        )
        self._span = Span(location=theta, dimension="height", line_color="#333333", line_width=2)
        fig.add_layout(self._span)
        style_legend(fig, outside="below")
        self.figure = fig
        self.set_theta(theta)

    @property
    def app(self) -> widgets.Widget:
        """The displayed application (same as :attr:`widget`)."""
        return self.widget

    def _controls(self) -> list[widgets.Widget]:
        return [self.slider, self.summary]

    def _main(self) -> widgets.Widget:
        return bokeh_pane(self.figure)

    def set_theta(self, theta: float) -> None:
        """Apply the reject rule at ``theta`` and redraw."""
        self.result = reject_option(self.probabilities, theta, self.y_true)
        self._span.location = self.result.theta
        self.summary.value = (
            f"theta = {self.result.theta:.2f}<br>classified: {100 * self.result.coverage:.1f} %"
            f"<br>accuracy on those: {100 * self.result.accuracy:.1f} %"
            f"<br>cross-entropy: {self.cross_entropy:.3f} nats"
        )
