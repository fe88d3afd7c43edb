"""What the browser does to a widget, done from Python (no browser needed)."""

from __future__ import annotations

import datetime

import ipywidgets as widgets


def file_entry(name: str, content: bytes, *, size: int | None = None) -> dict:
    """One file as ``FileUpload.value`` holds it; ``size`` is the size the browser claims."""
    return {
        "name": name,
        "type": "",
        "size": len(content) if size is None else size,
        "content": memoryview(content),
        "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    }


def upload(button: widgets.FileUpload, name: str, content: bytes, *, size: int | None = None):
    """Put one file into an upload widget, as the browser does when a user picks it."""
    button.value = (file_entry(name, content, size=size),)
