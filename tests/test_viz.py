"""The shared widget helpers, driven from Python."""

from __future__ import annotations

import asyncio
import threading

import ipywidgets as widgets
import pytest
from ase.build import bulk
from bokeh.models import ColumnDataSource

from mi_widgets import MIInputError
from mi_widgets._limits import UPLOAD_LIMIT_BYTES, WEBSOCKET_MAX_MESSAGE_BYTES
from mi_widgets.viz import (
    OKABE_ITO,
    ErrorBanner,
    bokeh_pane,
    class_color,
    class_colors,
    download_link,
    lab_layout,
    new_figure,
    read_upload,
    replace_data,
    structure_view,
    update_structure,
    upload_button,
)
from mi_widgets.viz import bokeh as bokeh_module
from mi_widgets.viz.app import LabApp


def test_palette_is_okabe_ito_first_and_stable():
    assert class_colors(8) == list(OKABE_ITO)
    assert len(set(class_colors(17))) == 17
    assert class_color(3) == class_colors(5)[3]
    assert class_color(17) == class_color(0)


def test_replace_data_swaps_the_whole_dict():
    source = ColumnDataSource({"x": [0], "y": [0]})
    old = source.data
    replace_data(source, x=[1, 2], y=[3, 4])
    assert source.data is not old
    assert list(source.data["y"]) == [3, 4]
    with pytest.raises(ValueError, match="one length"):
        replace_data(source, x=[1], y=[1, 2])


def test_bokeh_pane_keeps_changes_made_before_a_view_exists():
    fig = new_figure("t")
    source = ColumnDataSource({"x": [], "y": []})
    fig.line("x", "y", source=source)
    pane = bokeh_pane(fig)
    replace_data(source, x=[1.5, 2.5], y=[3.25, 4.75])
    assert "4.75" in str(pane.render_bundle)  # the browser's first render sees the new data


def _count_serialisations(monkeypatch, pane) -> list:
    calls = []
    serialise = pane._model_to_traits
    monkeypatch.setattr(pane, "_model_to_traits", lambda model: calls.append(1) or serialise(model))
    return calls


def test_bokeh_pane_in_a_kernel_serialises_changes_made_in_one_go_once(monkeypatch):
    fig = new_figure("t")
    source = ColumnDataSource({"x": [], "y": []})
    fig.line("x", "y", source=source)
    pane = bokeh_pane(fig)
    calls = _count_serialisations(monkeypatch, pane)
    monkeypatch.setattr(bokeh_module, "_in_kernel", lambda: True)

    async def fill_in_one_go():  # as a cell or a callback does on the kernel's event loop
        for k in range(5):
            replace_data(source, x=[0.5, 1.5], y=[k + 0.25, 9.125])
        fig.title.text = "filled"
        assert calls == []  # nothing yet: the kernel is busy with this cell
        await _callbacks_waiting_have_run()  # the cell ends
        assert len(calls) == 1
        assert "4.25" in str(pane.render_bundle) and "filled" in str(pane.render_bundle)
        replace_data(source, x=[1.0], y=[7.375])  # the page asks before the loop is free
        assert "7.375" in str(pane.get_state()["render_bundle"])
        await _callbacks_waiting_have_run()
        assert len(calls) == 2  # answered with the state, not sent twice

    # on a thread of its own: the event loop of the thread running the tests may be taken
    failures = []
    thread = threading.Thread(target=lambda: _run_recording(fill_in_one_go(), failures))
    thread.start()
    thread.join()
    assert not failures, failures[0]


async def _callbacks_waiting_have_run() -> None:
    """Return once the event loop has run the callbacks scheduled before this call."""
    loop = asyncio.get_running_loop()
    turn = loop.create_future()
    loop.call_soon(turn.set_result, None)
    await turn


def _run_recording(coroutine, failures: list) -> None:
    try:
        asyncio.run(coroutine)
    except Exception as error:  # re-raised on the test's thread
        failures.append(error)


def test_error_banner_shows_hides_and_keeps_going():
    banner = ErrorBanner()
    assert banner.layout.display == "none"
    with banner.catching():
        raise MIInputError("bad <input>")
        pytest.fail("the rest of the block must be skipped")
    assert banner.message == "bad <input>"
    assert "&lt;input&gt;" in banner._text.value
    with banner.catching():
        pass
    assert banner.message == ""
    assert banner.layout.display == "none"


def test_error_banner_turns_a_bug_into_a_message(caplog):
    banner = ErrorBanner()
    with banner.catching():
        {}["missing"]
    assert banner.message.startswith("Something went wrong (KeyError")
    assert "unexpected error" in caplog.text


def _upload_with(name: str, content: bytes, size: int | None = None) -> widgets.FileUpload:
    upload = upload_button()
    entry = {
        "name": name,
        "type": "",
        "size": size if size is not None else len(content),
        "content": memoryview(content),
        "last_modified": 0,
    }
    upload.set_state({"value": [entry]})
    return upload


def test_read_upload_returns_name_and_bytes():
    uploaded = read_upload(_upload_with("a.csv", b"1,2\n"))
    assert (uploaded.name, uploaded.content) == ("a.csv", b"1,2\n")
    assert read_upload(upload_button()) is None


def test_read_upload_refuses_empty_and_oversized_files():
    with pytest.raises(MIInputError, match=r"a\.csv is empty"):
        read_upload(_upload_with("a.csv", b""))
    with pytest.raises(MIInputError, match=r"big.csv is 21.0 MB; the limit is 20.0 MB"):
        read_upload(_upload_with("big.csv", b"x", size=21 * 2**20))
    assert "20 MB" in upload_button().description


def test_websocket_cap_lets_an_oversized_upload_arrive_to_be_refused():
    assert WEBSOCKET_MAX_MESSAGE_BYTES >= 4 * UPLOAD_LIMIT_BYTES


def test_structure_view_colours_classes_and_swaps_atoms():
    view = structure_view(bulk("Cu", cubic=True), labels=[0, 0, 1, 1])
    assert view._mi_state["labels"].tolist() == [0, 0, 1, 1]
    update_structure(view, labels=[1, 1, 1, 0], highlight=[3])
    assert view._mi_state["highlight"] == [3]
    update_structure(view, atoms=bulk("Si", cubic=True), values=range(8))
    assert len(view._mi_state["atoms"]) == 8
    assert len(view._ngl_component_ids) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"labels": [0, 1]}, "one value per atom"),
        ({"labels": [0, -1, 0, 0]}, "non-negative"),
        ({"values": [0, 1, float("nan"), 2]}, "NaN"),
    ],
)
def test_structure_view_refuses_mismatched_colours(kwargs, message):
    with pytest.raises(MIInputError, match=message):
        structure_view(bulk("Cu", cubic=True), **kwargs)


def test_layout_helpers():
    app = lab_layout("Title", [widgets.Button()], widgets.Label(), banner=ErrorBanner())
    assert "mi-lab-app" in app._dom_classes
    link = download_link("a b.cif", "data_x\n", mime="chemical/x-cif")
    assert 'download="a b.cif"' in link and "base64,ZGF0YV94Cg==" in link


class _SlowApp(LabApp):
    """An app whose long action reports progress until it is stopped (or ``n`` steps).

    ``paused``: each step waits until ``resume`` is set, so a test can act while it runs.
    """

    title = "slow"

    def __init__(self, n: int = 10**6, *, paused: bool = False):
        super().__init__()
        self.n, self.done, self.result = n, 0, "old"
        self.started = threading.Event()
        self.resume = threading.Event()
        if not paused:
            self.resume.set()
        self.button = widgets.Button(description="Go")
        self.on_click(self.button, self.go, background=True)

    def _controls(self):
        return [self.button]

    def _main(self):
        return widgets.Label("plots")

    def go(self) -> None:
        with self.progress_shown("Going") as progress:
            for k in range(self.n):
                self.started.set()
                progress(k, self.n)
                self.done = k
                self.resume.wait()
        self.result = "new"  # state is assigned last: a stopped run leaves it as it was


def test_stop_ends_a_background_action_and_keeps_the_previous_result():
    app = _SlowApp(paused=True)
    app.widget  # noqa: B018 - builds the page
    app.button.click()
    assert app.started.wait(timeout=60) and app.busy
    assert app.stop_button.layout.display != "none"  # Stop is offered while it runs
    app.button.click()  # a second long action is refused, not queued
    assert app.banner.message.startswith("Still working")
    app.stop()
    app.resume.set()  # the next step sees the request
    assert app.wait(timeout=60)
    assert app.banner.message.startswith("Stopped.")
    assert app.result == "old" and app.done < app.n - 1
    assert app.stop_button.layout.display == "none"
    assert app.progress.layout.visibility == "hidden"


def test_a_background_action_that_finishes_updates_the_state():
    app = _SlowApp(n=5)
    app.button.click()
    assert app.wait(timeout=60)
    assert app.result == "new" and app.banner.message == ""
    app.stop()  # nothing runs: no effect
    app.button.click()
    assert app.wait(timeout=60) and app.result == "new"
