"""LabApp: the one base class every mi-lab app builds on.

The contract (see ``CONTRIBUTING.md``):

* **Layout.** A subclass sets :attr:`LabApp.title` and implements
  :meth:`LabApp._controls` (a list of widgets for the control column) and
  :meth:`LabApp._main` (the plots). The page is built once, lazily, by
  :attr:`LabApp.widget`: a title, the error banner, controls beside the main
  view, the progress bar.
* **Errors.** Public methods are the app's actions (``step``, ``run``,
  ``load_csv`` ...). Called from Python they raise :class:`MIInputError` on bad
  input. Wired to a button with :meth:`LabApp.on_click` (or to a value with
  :meth:`LabApp.on_change`), the same action runs inside the banner: the
  sentence is shown, the previous state is kept and nothing escapes to the
  notebook. An action computes first and assigns its state last, so a failure
  leaves the state as it was.
* **Uploads.** :meth:`LabApp.upload_button` gives a size-labelled button whose
  file reaches a handler inside the banner.
* **Progress.** Core functions take ``progress: Callable[[int, int], None]``
  called as ``progress(done, total)``; :meth:`LabApp.progress_callback` gives
  one that moves the app's bar (see :meth:`LabApp.progress_shown`).
* **Long actions.** ``on_click(button, action, background=True)`` runs the action in
  a worker thread, so the page stays responsive and a **Stop** button beside the bar
  ends it at its next progress report (the previous results are kept); a second
  long action waits for the first. :meth:`LabApp.wait` joins the worker.
* **Randomness.** Every app takes ``random_state`` (an int or ``None``) and
  passes it to the core.
* **Display.** ``app`` alone in a cell shows it (``_repr_mimebundle_``);
  ``app.show()`` does the same from code.

Examples
--------
>>> import ipywidgets as widgets
>>> class CounterApp(LabApp):
...     title = "Counter"
...     def __init__(self, *, random_state=0):
...         super().__init__(random_state=random_state)
...         self.count = 0
...         self.button = widgets.Button(description="Add")
...         self.on_click(self.button, self.add)
...     def _controls(self):
...         return [self.button]
...     def _main(self):
...         return widgets.Label("plots")
...     def add(self, n=1):
...         if n < 1:
...             raise MIInputError("n must be at least 1; got 0.")
...         self.count += n
>>> app = CounterApp()
>>> app.button.click(); app.count
1
>>> app.run_action(app.add, 0); app.banner.message
'n must be at least 1; got 0.'
>>> app.count
1
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import ipywidgets as widgets

from mi_widgets._errors import MIInputError
from mi_widgets.viz.banner import ErrorBanner
from mi_widgets.viz.layout import lab_layout
from mi_widgets.viz.upload import UploadedFile, read_upload, upload_button

__all__ = ["LabApp", "ProgressCallback", "StoppedByUser"]

#: ``progress(done, total)``: the one progress convention of the core functions.
ProgressCallback = Callable[[int, int], None]


class StoppedByUser(MIInputError):
    """Raised at a progress report after the user pressed Stop."""


STOPPED_MESSAGE = "Stopped. The plots still show the last run that finished."
BUSY_MESSAGE = "Still working on the previous request; wait for it to finish or press Stop."


class LabApp:
    """Base class of the mi-lab apps: layout, error policy, uploads, progress, display.

    Parameters
    ----------
    random_state : int or None, default 0
        Seed handed to every random choice the app makes (``None``: fresh entropy).

    Attributes
    ----------
    banner : ErrorBanner
        Shows the one-sentence message of a failed user action.
    progress : ipywidgets.IntProgress
        The app's progress bar, hidden while nothing runs.
    random_state : int or None
        The seed.
    """

    #: The heading of the page.
    title: ClassVar[str] = "mi-lab"
    #: Width of the control column.
    controls_width: ClassVar[str] = "300px"
    #: A CSS class added to the page (for browser tests and styling).
    css_class: ClassVar[str | None] = None

    def __init__(self, *, random_state: int | None = 0) -> None:
        if random_state is not None and (
            isinstance(random_state, bool) or not isinstance(random_state, int)
        ):
            raise MIInputError(
                f"random_state must be a whole number or None; got {random_state!r}."
            )
        self.random_state = random_state
        self.banner = ErrorBanner()
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Working")
        self.progress.layout.visibility = "hidden"
        self.progress.add_class("mi-progress")
        self.stop_button = widgets.Button(
            description="Stop", icon="stop", layout=widgets.Layout(width="80px", display="none")
        )
        self.stop_button.add_class("mi-stop")
        self.stop_button.on_click(lambda _button: self.stop())
        self._stop_requested = threading.Event()
        self._worker: threading.Thread | None = None
        self._widget: widgets.Widget | None = None

    # ---------------------------------------------------------------- layout
    def _controls(self) -> Sequence[widgets.Widget]:
        """The widgets of the control column (override)."""
        raise NotImplementedError

    def _main(self) -> widgets.Widget:
        """The main view: plots, 3D views, tables (override)."""
        raise NotImplementedError

    def _footer(self) -> widgets.Widget | None:
        """An optional row below controls and plots."""
        return None

    @property
    def widget(self) -> widgets.Widget:
        """The whole app as one ipywidget, built on first access and then kept."""
        if self._widget is None:
            progress_row = widgets.HBox(
                [self.progress, self.stop_button], layout=widgets.Layout(align_items="center")
            )
            controls = [*self._controls(), progress_row]
            page = lab_layout(
                self.title,
                controls,
                self._main(),
                banner=self.banner,
                footer=self._footer(),
                controls_width=self.controls_width,
            )
            if self.css_class:
                page.add_class(self.css_class)
            self._widget = page
        return self._widget

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        """Display the app when it is the value of a notebook cell."""
        return self.widget._repr_mimebundle_(**kwargs)

    def show(self) -> None:
        """Display the app in the current notebook output."""
        from IPython.display import display

        display(self.widget)

    # ---------------------------------------------------------------- errors
    def run_action(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``action(*args, **kwargs)`` as a user action: errors go to the banner.

        Returns the action's result, or ``None`` when it failed.
        """
        with self.banner.catching():
            return action(*args, **kwargs)
        return None

    def on_click(
        self, button: widgets.Button, action: Callable[[], Any], *, background: bool = False
    ) -> None:
        """Wire ``button`` to the no-argument ``action``, run inside the banner.

        With ``background=True`` the action runs in a worker thread (see
        :meth:`run_in_background`): for actions that take seconds and report progress.
        """
        if background:
            button.on_click(lambda _button: self.run_in_background(action))
        else:
            button.on_click(lambda _button: self.run_action(action))

    # ------------------------------------------------------- long actions
    @property
    def busy(self) -> bool:
        """Whether a background action is running."""
        return self._worker is not None and self._worker.is_alive()

    def run_in_background(self, action: Callable[[], Any]) -> None:
        """Start ``action`` in a worker thread, inside the banner; refuse while one runs.

        The kernel stays free to handle other clicks meanwhile, above all **Stop**.
        """
        if self.busy:
            self.banner.show(BUSY_MESSAGE)
            return
        self._stop_requested.clear()
        self._worker = threading.Thread(
            target=self.run_action, args=(action,), name=f"{type(self).__name__} action"
        )
        self._worker.daemon = True
        self._worker.start()

    def stop(self) -> None:
        """Ask the running action to stop at its next progress report."""
        if self.busy:
            self._stop_requested.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background action (if any); return True once none runs."""
        if self._worker is not None:
            self._worker.join(timeout)
        return not self.busy

    def on_change(
        self, widget: widgets.Widget, action: Callable[[Any], Any], name: str = "value"
    ) -> None:
        """Call ``action(new_value)`` inside the banner whenever ``widget.<name>`` changes."""
        widget.observe(lambda change: self.run_action(action, change["new"]), names=name)

    # --------------------------------------------------------------- uploads
    def upload_button(
        self,
        accept: str,
        description: str,
        handler: Callable[[UploadedFile], Any],
    ) -> widgets.FileUpload:
        """A size-labelled upload button whose file goes to ``handler`` inside the banner.

        The handler receives the checked :class:`UploadedFile` (real byte length
        within the limit, not empty). The widget's value is cleared afterwards so
        the same file can be uploaded again after a fix.
        """
        button = upload_button(accept, description)

        def receive(_change: Any) -> None:
            if not button.value:
                return
            try:
                self.run_action(lambda: self._deliver(button, handler))
            finally:
                button.value = ()

        button.observe(receive, names="value")
        return button

    @staticmethod
    def _deliver(button: widgets.FileUpload, handler: Callable[[UploadedFile], Any]) -> None:
        uploaded = read_upload(button)
        if uploaded is not None:
            handler(uploaded)

    # -------------------------------------------------------------- progress
    def progress_callback(self) -> ProgressCallback:
        """A ``progress(done, total)`` callback that moves the app's bar."""

        def report(done: int, total: int) -> None:
            if self._stop_requested.is_set():
                raise StoppedByUser(STOPPED_MESSAGE)
            self.progress.max = max(int(total), 1)
            self.progress.value = min(max(int(done), 0), self.progress.max)

        return report

    @contextmanager
    def progress_shown(self, description: str = "Working") -> Iterator[ProgressCallback]:
        """Show the bar while a block runs; yields the ``progress(done, total)`` callback."""
        self.progress.description = description
        self.progress.value = 0
        self.progress.layout.visibility = "visible"
        stoppable = threading.current_thread() is self._worker
        if stoppable:
            self.stop_button.layout.display = "inline-flex"
        try:
            yield self.progress_callback()
        finally:
            self.progress.layout.visibility = "hidden"
            self.stop_button.layout.display = "none"
