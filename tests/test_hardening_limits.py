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


def test_line_counts_read_every_line_ending_once():
    from mi_widgets._csv import count_lines

    assert count_lines("a\r\nb\r\n") == count_lines("a\nb\n") == count_lines("a\rb\r") == 2
    assert count_lines("a\nb") == 2 and count_lines("") == 0


@pytest.mark.parametrize(
    ("reader", "seed", "words"),
    [
        ("candidates", "x,y,v\n1,2,3\n", "at most 20,001"),
        ("phase", "phase,x\nL,0.5\n", "at most 50,001"),
        ("table", "a,b\n1,2\n", "at most 200,001"),
        ("curves", "T,B,M\n2,1,0.1\n", "at most 100,000"),
        ("bonds", "i,j,name\n0,1,J\n", "at most 10,000"),
    ],
)
def test_files_longer_than_a_lab_reads_are_refused_before_parsing(reader, seed, words):
    """A file at the upload limit is refused by counting its lines, not by parsing them."""
    from mi_widgets.active.io import read_phase_csv
    from mi_widgets.active.widgets import MAX_UPLOAD_CANDIDATES
    from mi_widgets.bayesopt.data import MAX_LAB_CANDIDATES, read_candidate_table
    from mi_widgets.learn.io import read_table
    from mi_widgets.learn.widgets import MAX_UPLOAD_ROWS
    from mi_widgets.spin.data import read_bonds_csv, read_magnetization_csv

    read = {
        "candidates": lambda b: read_candidate_table(b, max_rows=MAX_LAB_CANDIDATES),
        "phase": lambda b: read_phase_csv(b, name="p.csv", max_rows=MAX_UPLOAD_CANDIDATES),
        "table": lambda b: read_table(b, name="t.csv", max_rows=MAX_UPLOAD_ROWS),
        "curves": lambda b: read_magnetization_csv(b.decode()),
        "bonds": lambda b: read_bonds_csv(b.decode()),
    }[reader]
    head, _, row = seed.partition("\n")
    content = (head + "\n" + row * 250_000).replace("\n", "\r\n").encode()  # 250,001 lines
    with pytest.raises(MIInputError, match=words):
        read(content)


def test_a_cif_with_more_lines_than_atom_sites_the_apps_read_is_refused_before_parsing():
    import io

    from ase.build import bulk
    from ase.io import write

    from mi_widgets._limits import MAX_READ_ATOMS
    from mi_widgets.structure.io import read_structure

    buffer = io.BytesIO()
    write(buffer, bulk("Cu", "fcc", a=3.6, cubic=True), format="cif")
    one = buffer.getvalue()
    assert len(read_structure(one, filename="cu.cif")) == 4
    lines_per_copy = one.count(b"\n")
    big = one * (3 * MAX_READ_ATOMS // lines_per_copy)  # over MAX_READ_ATOMS data lines
    with pytest.raises(MIInputError, match=r"lines of data, more atom sites than the apps read"):
        read_structure(big, filename="big.cif")
