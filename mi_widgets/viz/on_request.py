"""Studies that run at once in a notebook and on a button in a Voila app.

Voila sends an app's page only when every cell of its notebook has run, so an exercise
that costs seconds after the app delays the app itself. :func:`run_when_asked` runs such
a study at once in JupyterLab (and when a notebook is executed in the tests) and, when the
kernel was started by Voila, shows a button in its place that runs it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from IPython.display import display

from mi_widgets.viz.banner import ErrorBanner

__all__ = ["StudyButton", "run_when_asked", "served_by_voila"]

#: Set by Voila in the environment of every kernel it starts (pre-heated ones too).
VOILA_ENVIRONMENT_VARIABLE = "VOILA_BASE_URL"


def served_by_voila() -> bool:
    """Whether this kernel was started by Voila (an app page) rather than by a notebook.

    Examples
    --------
    >>> import os
    >>> served_by_voila() == ("VOILA_BASE_URL" in os.environ)
    True
    """
    return VOILA_ENVIRONMENT_VARIABLE in os.environ


class StudyButton(widgets.VBox):
    """A button that runs a study and shows what it prints and returns below it.

    While the study runs the button is disabled and a line says so; afterwards the line
    gives the time it took. Bad input shows one sentence in a banner; the button stays
    usable and pressing it again runs the study again.

    Parameters
    ----------
    study : callable
        Called without arguments; what it prints and (unless None) returns is shown.
    label : str
        The button's text, e.g. "Run the parameter search".
    note : str, optional
        A line beside the button, e.g. how long the study takes.

    Examples
    --------
    >>> button = StudyButton(lambda: None, "Run nothing", note="instant")
    >>> button.run()
    >>> button.status.value
    'Done in 0.0 s.'
    """

    def __init__(self, study: Callable[[], Any], label: str, note: str = ""):
        self._study = study
        self._note = note
        self.button = widgets.Button(
            description=label,
            button_style="primary",
            icon="play",
            layout=widgets.Layout(width="auto", min_width="240px"),
        )
        self.button.on_click(lambda _: self.run())
        self.status = widgets.Label(note, layout=widgets.Layout(margin="0 0 0 12px"))
        self.banner = ErrorBanner()
        self.output = widgets.Output()
        header = widgets.HBox([self.button, self.status])
        super().__init__([header, self.banner, self.output])
        self.add_class("mi-study-button")

    def run(self) -> None:
        """Run the study now, its output replacing the previous run's."""
        self.button.disabled = True
        self.status.value = "Running..."
        self.output.outputs = ()
        start = time.perf_counter()
        finished = False
        try:
            with self.output, self.banner.catching():  # the banner catches first
                result = self._study()
                if result is not None:
                    display(result)
                finished = True
        finally:
            self.button.disabled = False
            took = f"Done in {time.perf_counter() - start:.1f} s."
            self.status.value = took if finished else self._note


def run_when_asked(
    study: Callable[[], Any], label: str, note: str = "", *, now: bool | None = None
) -> StudyButton | None:
    """Run ``study`` at once in a notebook; in a Voila app, show a button that runs it.

    Parameters
    ----------
    study : callable
        Called without arguments; what it prints and (unless None) returns is shown.
    label : str
        The button's text in the app.
    note : str, optional
        A line beside the button, e.g. "about 3 s".
    now : bool, optional
        Run at once (True) or show the button (False); by default, at once unless the
        kernel was started by Voila.

    Returns
    -------
    StudyButton or None
        The button (the cell's output) in an app; None when the study ran at once.

    Raises
    ------
    MIInputError
        When run at once, the study's own bad-input error, unchanged.

    Examples
    --------
    >>> run_when_asked(lambda: print("ran"), "Run", now=True)
    ran
    >>> type(run_when_asked(lambda: print("ran"), "Run", now=False)).__name__
    'StudyButton'
    """
    if now is None:
        now = not served_by_voila()
    if not now:
        return StudyButton(study, label, note)
    result = study()
    if result is not None:
        display(result)
    return None
