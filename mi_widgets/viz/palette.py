"""One colour-blind-safe palette for classes, the same in 2D plots and 3D views."""

from __future__ import annotations

#: Okabe & Ito (2008) colour-universal design palette, in their order.
OKABE_ITO: tuple[str, ...] = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
)

#: Paul Tol's "muted" scheme, also colour-blind safe: used after the eight Okabe-Ito colours.
TOL_MUTED: tuple[str, ...] = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
)

CLASS_COLORS: tuple[str, ...] = OKABE_ITO + TOL_MUTED


def class_color(index: int) -> str:
    """Return the colour of class ``index`` (cycling after 17 classes).

    Examples
    --------
    >>> class_color(0)
    '#E69F00'
    """
    return CLASS_COLORS[int(index) % len(CLASS_COLORS)]


def class_colors(n: int) -> list[str]:
    """Return the colours of classes ``0 .. n-1``.

    Up to 8 classes use the Okabe-Ito palette, up to 17 continue with Paul
    Tol's muted palette (both colour-blind safe); beyond that colours repeat.

    Examples
    --------
    >>> class_colors(3)
    ['#E69F00', '#56B4E9', '#009E73']
    """
    return [class_color(i) for i in range(int(n))]
