"""File uploads with a size limit that the user sees."""

from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets as widgets

from mi_widgets._errors import MIInputError
from mi_widgets._limits import UPLOAD_LIMIT_BYTES

__all__ = ["UPLOAD_LIMIT_BYTES", "UploadedFile", "read_upload", "upload_button"]


@dataclass(frozen=True)
class UploadedFile:
    """A file a user uploaded: its name and its bytes."""

    name: str
    content: bytes


def _megabytes(n_bytes: int) -> str:
    # rounded up, so a file just over the limit never reads as equal to it
    return f"{math.ceil(n_bytes / 2**20 * 10) / 10:.1f} MB"


def _file_name(name: object) -> str:
    """The uploaded file's name as a short, printable, single-line string."""
    text = "".join(ch for ch in str(name or "upload") if ch.isprintable()).strip()
    return text[:120] or "upload"


def upload_button(accept: str = ".csv,.txt", description: str = "Upload") -> widgets.FileUpload:
    """A single-file upload button whose label states the size limit.

    Examples
    --------
    >>> upload_button(".cif", "Upload structure").description
    'Upload structure (≤ 20 MB)'
    """
    button = widgets.FileUpload(
        accept=accept,
        multiple=False,
        description=f"{description} (≤ {UPLOAD_LIMIT_BYTES // 2**20} MB)",
        layout=widgets.Layout(width="auto"),
    )
    button.add_class("mi-upload")
    return button


def read_upload(
    upload: widgets.FileUpload, *, max_bytes: int = UPLOAD_LIMIT_BYTES
) -> UploadedFile | None:
    """Return the file in an upload widget, or ``None`` when there is none.

    Parameters
    ----------
    upload : ipywidgets.FileUpload
        The widget (its ``value`` is a tuple of dicts in ipywidgets 8).
    max_bytes : int
        The size limit.

    Raises
    ------
    MIInputError
        If the file is empty or larger than ``max_bytes``.

    Examples
    --------
    >>> read_upload(upload_button()) is None
    True
    """
    files = upload.value
    if not files:
        return None
    entry = files[-1]
    name = _file_name(entry.get("name"))
    content = bytes(entry.get("content", b""))
    # The size a client declares can lie (or be anything); the bytes that arrived cannot.
    try:
        declared = int(entry.get("size") or 0)
    except (TypeError, ValueError, OverflowError):
        declared = 0
    size = max(len(content), declared)
    if size > max_bytes:
        raise MIInputError(
            f"{name} is {_megabytes(size)}; the limit is {_megabytes(max_bytes)}. "
            "Upload a smaller file, or call the mi_widgets function on the file in a notebook."
        )
    if not content:
        raise MIInputError(f"{name} is empty; choose a file with data in it.")
    return UploadedFile(name=name, content=content)
