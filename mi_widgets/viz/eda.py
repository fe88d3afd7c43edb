"""Exploratory-data-analysis pictures: Anscombe's quartet, bars against pies, colour maps."""

from __future__ import annotations

from math import pi

import ipywidgets as widgets
import numpy as np
from bokeh.layouts import gridplot, row
from bokeh.models import ColumnDataSource
from bokeh.palettes import Turbo256, Viridis256

from mi_widgets.eda import ANSCOMBE, CRUST_ABUNDANCE_WT_PERCENT, summary_statistics
from mi_widgets.viz.bokeh import bokeh_pane, new_figure
from mi_widgets.viz.palette import OKABE_ITO, class_colors

__all__ = ["anscombe_panel", "bars_versus_pie", "colour_map_comparison"]


def anscombe_panel() -> widgets.VBox:
    """Anscombe's four datasets with their least-squares lines, and their identical statistics.

    Examples
    --------
    >>> panel = anscombe_panel()
    >>> len(panel.children)
    2
    """
    figures, rows = [], []
    line_x = np.array([2.0, 20.0])
    for name, (x, y) in ANSCOMBE.items():
        stats = summary_statistics(x, y)
        fig = new_figure(
            f"Dataset {name}", width=300, height=240, tools="", x_range=(2, 20), y_range=(2, 14)
        )
        fig.scatter(x, y, size=9, color=OKABE_ITO[4])
        fig.line(line_x, stats.intercept + stats.slope * line_x, color=OKABE_ITO[5], line_width=2)
        figures.append(fig)
        rows.append(
            f"<tr><td>{name}</td><td>{stats.mean_x:.2f}</td><td>{stats.var_x:.2f}</td>"
            f"<td>{stats.mean_y:.2f}</td><td>{stats.var_y:.3f}</td>"
            f"<td>{stats.correlation:.3f}</td>"
            f"<td>y = {stats.intercept:.2f} + {stats.slope:.3f} x</td></tr>"
        )
    grid = gridplot([figures[:2], figures[2:]], toolbar_location=None)
    table = widgets.HTML(
        "<style>.mi-table td, .mi-table th {padding: 2px 10px; text-align: right;}</style>"
        '<table class="mi-table" style="font-size:14px;border-collapse:collapse;">'
        "<tr><th>set</th><th>mean x</th><th>var x</th><th>mean y</th><th>var y</th>"
        "<th>corr</th><th>least-squares line</th></tr>" + "".join(rows) + "</table>"
    )
    return widgets.VBox([bokeh_pane(grid), table])


def bars_versus_pie(shares: dict[str, float] | None = None, unit: str = "mass %") -> widgets.Widget:
    """The same numbers as a pie and as sorted bars: compare how easily you can rank them.

    Parameters
    ----------
    shares : dict of str to float, optional
        Category -> value; the Earth's-crust abundances of five elements by default.
    unit : str
        Unit of the values, for the axis label.

    Examples
    --------
    >>> from jupyter_bokeh import BokehModel
    >>> isinstance(bars_versus_pie(), BokehModel)
    True
    """
    shares = dict(shares or CRUST_ABUNDANCE_WT_PERCENT)
    names, values = list(shares), np.array(list(shares.values()), dtype=float)
    colours = class_colors(len(names))
    ends = np.cumsum(values) / values.sum() * 2 * pi
    starts = np.concatenate([[0.0], ends[:-1]])
    pie = new_figure(
        "As a pie", width=340, height=320, tools="", x_range=(-1.1, 1.1), y_range=(-1.1, 1.1)
    )
    pie.wedge(
        x=0,
        y=0,
        radius=1.0,
        start_angle=starts,
        end_angle=ends,
        color=colours,
        line_color="white",
    )
    pie.axis.visible = False
    pie.grid.visible = False
    for name, colour, mid in zip(names, colours, (starts + ends) / 2, strict=True):
        pie.text(
            [0.65 * np.cos(mid)],
            [0.65 * np.sin(mid)],
            text=[name],
            text_align="center",
            text_baseline="middle",
            text_font_size="14px",
            text_color="black" if colour != "#000000" else "white",
        )
    order = np.argsort(values)[::-1]
    source = ColumnDataSource(
        {
            "name": [names[i] for i in order],
            "value": values[order],
            "colour": [colours[i] for i in order],
        }
    )
    bars = new_figure(
        "As sorted bars",
        width=360,
        height=320,
        tools="",
        x_range=[names[i] for i in order],
        y_axis_label=unit,
    )
    bars.vbar(x="name", top="value", width=0.7, color="colour", source=source)
    bars.y_range.start = 0
    return bokeh_pane(row(pie, bars))


def colour_map_comparison(n: int = 120) -> widgets.Widget:
    """One smooth field drawn with a rainbow map and with a perceptually uniform one.

    The field rises smoothly, but the rainbow (Turbo) shows bands and edges that are
    not in the data; Viridis shows what is there and stays readable in grey.

    Examples
    --------
    >>> from jupyter_bokeh import BokehModel
    >>> isinstance(colour_map_comparison(20), BokehModel)
    True
    """
    x, y = np.meshgrid(np.linspace(-2, 2, n), np.linspace(-2, 2, n))
    field = np.exp(-(x**2 + y**2) / 2.0) + 0.3 * x
    figures = []
    for title, palette in (
        ("Rainbow (Turbo): false edges", Turbo256),
        ("Viridis: what is there", Viridis256),
    ):
        fig = new_figure(title, width=340, height=320, tools="", x_range=(-2, 2), y_range=(-2, 2))
        fig.image(image=[field], x=-2, y=-2, dw=4, dh=4, palette=palette)
        fig.axis.visible = False
        figures.append(fig)
    return bokeh_pane(row(*figures))
