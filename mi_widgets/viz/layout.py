"""Page furniture shared by the labs: titled cards, the lab layout, download links."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

import ipywidgets as widgets

__all__ = ["card", "download_link", "lab_layout"]

_CARD_TITLE = "margin:0 0 6px 0;font-size:16px;font-weight:600;color:#222;"


def card(title: str, body: widgets.Widget, *, width: str | None = None) -> widgets.VBox:
    """A titled, bordered panel around one widget.

    Examples
    --------
    >>> card("Controls", widgets.Label("x")).children[0].value
    '<div style="margin:0 0 6px 0;font-size:16px;font-weight:600;color:#222;">Controls</div>'
    """
    heading = widgets.HTML(f'<div style="{_CARD_TITLE}">{html.escape(title)}</div>')
    box = widgets.VBox([heading, body])
    box.add_class("mi-card")
    box.layout.border = "1px solid #ddd"
    box.layout.padding = "8px 12px"
    box.layout.margin = "4px"
    if width:
        box.layout.width = width
    return box


def lab_layout(
    title: str,
    controls: Sequence[widgets.Widget],
    main: widgets.Widget,
    *,
    banner: widgets.Widget | None = None,
    footer: widgets.Widget | None = None,
    controls_width: str = "300px",
) -> widgets.VBox:
    """The standard lab page: a title, the error banner, controls on the left, the main view.

    Examples
    --------
    >>> app = lab_layout("Demo", [widgets.Button(description="Go")], widgets.Label("plot"))
    >>> len(app.children)
    2
    """
    header = widgets.HTML(f'<h3 style="margin:4px 0 8px 0;">{html.escape(title)}</h3>')
    panel = widgets.VBox(
        list(controls), layout=widgets.Layout(width=controls_width, min_width=controls_width)
    )
    panel.add_class("mi-controls")
    main.add_class("mi-lab-main")
    body = widgets.HBox(
        [panel, main], layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap")
    )
    body.add_class("mi-lab-body")  # setup_notebook's styles keep it on one row from 1000 px
    rows: list[widgets.Widget] = [header]
    if banner is not None:
        rows.append(banner)
    rows.append(body)
    if footer is not None:
        rows.append(footer)
    app = widgets.VBox(rows)
    app.add_class("mi-lab-app")
    return app


def download_link(
    filename: str, content: bytes | str, *, mime: str = "text/plain", label: str | None = None
) -> str:
    """HTML for a link that downloads ``content`` as ``filename`` (works in JupyterLab and Voila).

    The data travels inside the link (a ``data:`` URI), so no server route is needed.

    Examples
    --------
    >>> download_link("a.txt", "hi")[:40]
    '<a download="a.txt" href="data:text/plai'
    """
    raw = content.encode() if isinstance(content, str) else content
    encoded = base64.b64encode(raw).decode("ascii")
    text = html.escape(label or f"Download {filename}")
    return (
        f'<a download="{html.escape(filename)}" href="data:{mime};base64,{encoded}" '
        f'class="mi-download" style="font-size:14px;">{text}</a>'
    )
