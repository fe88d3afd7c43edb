"""An error banner: bad input shows one clear message and the app keeps working."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import ipywidgets as widgets

from mi_widgets._errors import MIInputError

__all__ = ["ErrorBanner"]

logger = logging.getLogger(__name__)

_STYLE = (
    "background:#fdecea;border-left:6px solid #D55E00;color:#611a15;"
    "padding:8px 12px;border-radius:4px;font-size:15px;line-height:1.4;"
)


class ErrorBanner(widgets.HBox):
    """A dismissible banner that shows one error message, hidden while there is none.

    Examples
    --------
    >>> banner = ErrorBanner()
    >>> with banner.catching():
    ...     raise MIInputError("x must increase strictly; value 2 repeats at index 2.")
    >>> banner.message
    'x must increase strictly; value 2 repeats at index 2.'
    >>> banner.clear(); banner.message
    ''
    """

    def __init__(self, **kwargs):
        self._text = widgets.HTML()
        self._dismiss = widgets.Button(description="Dismiss", layout=widgets.Layout(width="90px"))
        self._dismiss.on_click(lambda _: self.clear())
        super().__init__([self._text, self._dismiss], **kwargs)
        self.add_class("mi-error-banner")
        self.layout.display = "none"
        self.layout.align_items = "center"
        self.message = ""

    def show(self, message: str) -> None:
        """Show ``message`` (plain text; it is escaped)."""
        self.message = str(message)
        self._text.value = f'<div role="alert" style="{_STYLE}">{html.escape(self.message)}</div>'
        self.layout.display = "flex"

    def clear(self) -> None:
        """Hide the banner."""
        self.message = ""
        self._text.value = ""
        self.layout.display = "none"

    @contextmanager
    def catching(self) -> Iterator[None]:
        """Run a block; on bad input show its message and skip the rest of the block.

        The banner is cleared when the block starts (a new action replaces an old
        message), so blocks may nest. ``MIInputError`` shows its own message. Any other
        exception is a bug: it is logged with its traceback and a short message is
        shown, so the app stays usable.
        """
        self.clear()
        try:
            yield
        except MIInputError as error:
            self.show(str(error))
        except Exception as error:
            logger.exception("unexpected error in an mi-lab widget")
            self.show(
                f"Something went wrong ({type(error).__name__}: {error}). "
                "The previous result is kept; please report this."
            )
