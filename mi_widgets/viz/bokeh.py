"""Bokeh inside ipywidgets: loading BokehJS, the shared look, whole-dict data updates."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bokeh.models import ColumnDataSource
from bokeh.plotting import figure
from jupyter_bokeh import BokehModel

from mi_widgets._errors import MIInputError

__all__ = ["bokeh_pane", "new_figure", "replace_data", "setup_notebook"]

_BOKEHJS_LOADED = False

FONT = "Helvetica, Arial, sans-serif"

#: Page-wide styles for the apps: tab titles at their natural width (ipywidgets cuts them);
#: from 1000 px the main view stays beside the controls (narrower screens wrap it below).
APP_CSS = """<style>
.jupyter-widgets.widget-tab > .lm-TabBar .lm-TabBar-tab,
.jupyter-widgets.widget-tab > .p-TabBar .p-TabBar-tab {
  flex: 0 0 auto !important; max-width: none !important; min-width: 60px !important;
}
@media (min-width: 1000px) {
  .jupyter-widgets.mi-lab-body { flex-wrap: nowrap !important; }
}
.jupyter-widgets.mi-lab-body > .mi-lab-main { flex: 1 1 auto; }
</style>"""


def _in_kernel() -> bool:
    """True when running inside a Jupyter kernel (where BokehJS can be sent to a page)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def setup_notebook() -> None:
    """Load BokehJS into the page once per kernel, inline so it works offline; add the app styles.

    ``jupyter_bokeh.BokehModel`` needs BokehJS on the page before it renders
    (in JupyterLab and in Voila). Call this in the first code cell of a notebook;
    :func:`bokeh_pane` calls it too. Outside a kernel it does nothing.

    Examples
    --------
    >>> setup_notebook()  # no output outside a notebook
    """
    global _BOKEHJS_LOADED
    if _BOKEHJS_LOADED or not _in_kernel():
        return
    from bokeh.io import output_notebook
    from bokeh.resources import Resources
    from IPython.display import HTML, display

    display(HTML(APP_CSS))

    # Only the core bundle (~2.7 MB): mi-lab keeps controls in ipywidgets, not bokeh widgets.
    output_notebook(Resources(mode="inline", components=["bokeh"]), hide_banner=True)
    _BOKEHJS_LOADED = True


def new_figure(
    title: str | None = None,
    *,
    width: int = 520,
    height: int = 360,
    tools: str = "pan,wheel_zoom,box_zoom,reset,save",
    **kwargs: Any,
) -> figure:
    """Create a bokeh figure with the shared mi-lab look (readable when projected).

    Parameters
    ----------
    title : str, optional
        Plot title.
    width, height : int
        Size in screen pixels.
    tools : str
        Bokeh tools, comma separated.
    **kwargs
        Passed to :func:`bokeh.plotting.figure` (``x_axis_label``, ``x_range`` ...).

    Returns
    -------
    bokeh.plotting.figure

    Examples
    --------
    >>> fig = new_figure("g(r)", x_axis_label="r (Å)")
    >>> fig.title.text
    'g(r)'
    """
    fig = figure(title=title or "", width=width, height=height, tools=tools, **kwargs)
    fig.toolbar.logo = None
    fig.title.text_font = FONT
    fig.title.text_font_size = "15px"
    fig.title.text_font_style = "bold"
    for axis in (*fig.xaxis, *fig.yaxis):
        axis.axis_label_text_font = FONT
        axis.axis_label_text_font_size = "14px"
        axis.axis_label_text_font_style = "normal"
        axis.major_label_text_font_size = "12px"
    fig.grid.grid_line_alpha = 0.4
    fig.outline_line_color = None
    fig.min_border_right = 16
    return fig


def style_legend(fig: figure, location: str = "top_right", *, outside: str | None = None) -> None:
    """Give a figure's legend the shared look (call after adding labelled glyphs).

    Parameters
    ----------
    fig : bokeh figure
    location : str, default "top_right"
        Corner of the plot area for a legend inside it.
    outside : {"below", "right"}, optional
        Put the legend beside the plot area instead, where it never covers data
        (``"below"`` lays the entries out in a row).

    Examples
    --------
    >>> fig = new_figure()
    >>> _ = fig.line([0, 1], [0, 1], legend_label="a")
    >>> style_legend(fig, outside="below")
    >>> len(fig.below) - 1, fig.legend[0].orientation  # the x axis and the legend
    (1, 'horizontal')
    """
    if outside not in (None, "below", "right"):
        raise MIInputError(f"outside must be 'below' or 'right', not {outside!r}.")
    for legend in fig.legend:
        legend.location = location
        legend.label_text_font_size = "12px"
        legend.background_fill_alpha = 0.8
        legend.click_policy = "hide"
        if outside is not None:
            fig.center = [item for item in fig.center if item is not legend]
            legend.location = "center"
            legend.orientation = "horizontal" if outside == "below" else "vertical"
            fig.add_layout(legend, outside)


class _BokehPane(BokehModel):
    """A BokehModel whose changes made before the browser shows it are not lost.

    ``BokehModel`` sends every change as a patch to the browser's views; a patch sent
    before any view exists is dropped, so a plot filled after it was wrapped shows up
    empty. Until the front end reports a view (ipywidgets' ``_view_count``), this pane
    re-serialises the document instead; afterwards it sends patches as usual.

    Re-serialising costs about as much as drawing the whole document, and an app fills
    its plots with many changes before the page shows them (lab 05: 50 changes while its
    notebook runs). In a kernel the changes made in one go (a cell, a callback) are
    therefore re-serialised once, when the kernel's event loop is next free; the front
    end's request for the state (Voila's page) never sees a stale document either.
    """

    def __init__(self, model: Any, **kwargs: Any) -> None:
        self._stale = False
        super().__init__(model, **kwargs)
        self._view_count = 0  # ask the front end to report its views

    def _document_patched(self, event: Any) -> None:
        if self._view_count:
            self._send_if_stale()
            super()._document_patched(event)
            return
        if event.setter is self:
            return
        loop = _running_loop()
        already_waiting = self._stale
        self._stale = True
        if loop is None:  # a worker thread or no kernel: send now
            self._send_if_stale()
        elif not already_waiting:
            loop.call_soon(self._send_if_stale)

    def _send_if_stale(self) -> None:
        """Re-serialise the document once for the changes waiting (the browser redraws)."""
        if self._stale:
            self._stale = False
            self.render_bundle = self._model_to_traits(self._model)

    def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict:
        """The widget's state, with the document as it is now."""
        if getattr(self, "_stale", False):  # answered with the state: no second message
            self._stale = False
            self._trait_values["render_bundle"] = self._model_to_traits(self._model)
        return super().get_state(key, drop_defaults)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The kernel's event loop when this runs on it (a cell, a widget callback), else None.

    Outside a kernel (a script, the tests) or on a worker thread nothing is deferred.
    """
    if not _in_kernel():
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def bokeh_pane(fig: Any) -> BokehModel:
    """Wrap a bokeh figure or layout in an ipywidget so Python callbacks can redraw it.

    Register bokeh event callbacks (``fig.on_event``, ``source.selected.on_change``)
    before calling this.

    Parameters
    ----------
    fig : bokeh.models.LayoutDOM
        A figure or a bokeh layout.

    Returns
    -------
    jupyter_bokeh.BokehModel

    Examples
    --------
    >>> pane = bokeh_pane(new_figure())
    >>> isinstance(pane, BokehModel)
    True
    """
    setup_notebook()
    return _BokehPane(fig)


def replace_data(source: ColumnDataSource, **columns: Sequence[Any]) -> None:
    """Replace all of a ColumnDataSource's data at once.

    A whole new dict is the one update that stays consistent between Python and
    the browser through ``BokehModel``; ``stream`` and ``patch`` desynchronise.

    Parameters
    ----------
    source : bokeh.models.ColumnDataSource
    **columns : sequence
        The new columns, all of one length.

    Raises
    ------
    ValueError
        If the columns differ in length (a bug in the caller, not bad user input).

    Examples
    --------
    >>> src = ColumnDataSource({"x": [0], "y": [0]})
    >>> replace_data(src, x=[1, 2], y=[3, 4])
    >>> list(src.data["x"])
    [1, 2]
    """
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"Plot columns must have one length; got {lengths}.")
    source.data = dict(columns)
