"""The upload limit and the websocket cap: what they claim is what happens."""

from __future__ import annotations

import socket

import ipywidgets as widgets
import pytest
from tornado.iostream import IOStream

from mi_widgets._errors import MIInputError
from mi_widgets._limits import (
    TORNADO_STREAM_BUFFER_BYTES,
    UPLOAD_LIMIT_BYTES,
    WEBSOCKET_MAX_MESSAGE_BYTES,
)
from mi_widgets.viz.upload import read_upload, upload_button


def _upload(name: str, content: bytes, declared: int) -> widgets.FileUpload:
    upload = upload_button()
    entry = {
        "name": name,
        "type": "",
        "size": declared,
        "content": memoryview(content),
        "last_modified": 0,
    }
    upload.set_state({"value": [entry]})
    return upload


def test_websocket_cap_is_below_tornados_real_buffer():
    left, right = socket.socketpair()
    try:
        stream = IOStream(left)  # what Voila's HTTP server gives each connection
        assert stream.max_buffer_size == TORNADO_STREAM_BUFFER_BYTES
        stream.close()
    finally:
        right.close()
    assert UPLOAD_LIMIT_BYTES < WEBSOCKET_MAX_MESSAGE_BYTES < TORNADO_STREAM_BUFFER_BYTES


def test_upload_size_is_the_bytes_that_arrived_not_the_declared_size():
    content = b"1,2\n" * (UPLOAD_LIMIT_BYTES // 4 + 1)  # just over the limit
    with pytest.raises(MIInputError, match=r"big\.csv is 20\.1 MB; the limit is 20\.0 MB"):
        read_upload(_upload("big.csv", content, declared=100))
    small = read_upload(_upload("small.csv", b"1,2\n", declared=4))
    assert small.content == b"1,2\n"
