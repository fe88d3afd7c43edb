"""Spectra widgets driven from Python: picking, fitting, EM replay, map clicks, bad input."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from widget_helpers import upload as upload_file

from mi_widgets._errors import MIInputError
from mi_widgets.spectra import compare_phases, make_spectral_image, make_spectrum
from mi_widgets.spectra.widgets import EMPlayer, PeakPicker, SpectralMapExplorer
from mi_widgets.viz import UPLOAD_LIMIT_BYTES


def _upload(widget, name: str, content: bytes, size: int | None = None) -> None:
    upload_file(widget.upload, name, content, size=size)


@pytest.fixture
def spectrum():
    return make_spectrum(3, random_state=7)


def test_picker_clicks_add_and_remove_markers_and_fit(spectrum):
    x, y, truth = spectrum
    picker = PeakPicker(x, y)
    for c in truth.center + 1.0:
        picker._on_tap(SimpleNamespace(x=c))
    assert picker.picked == pytest.approx(np.sort(truth.center + 1.0))
    assert list(picker.marker_source.data["x"]) == picker.picked
    picker._on_tap(SimpleNamespace(x=truth.center[0] + 1.2))  # near a marker: removes it
    assert len(picker.picked) == 2
    picker.add_peak(truth.center[0])
    result = picker.fit()
    np.testing.assert_allclose(result.peaks.center, truth.center, atol=0.1 * truth.fwhm.min())
    assert len(picker.fit_source.data["y"]) == x.size
    assert len(picker.component_source.data["ys"]) == 3
    assert "mi-peak-table" in picker.table.value


def test_picker_without_markers_uses_automatic_starts(spectrum):
    x, y, truth = spectrum
    picker = PeakPicker(x, y, n_peaks=3)
    picker.fit()
    np.testing.assert_allclose(
        picker.result.peaks.center, truth.center, atol=0.1 * truth.fwhm.min()
    )


def test_picker_bad_clicks_and_fits_show_a_message_and_keep_the_previous_fit(spectrum):
    x, y, _ = spectrum
    picker = PeakPicker(x, y, n_peaks=2)
    first = picker.fit()
    picker._on_tap(SimpleNamespace(x=float("nan")))
    assert "must be finite" in picker.banner.message
    picker._on_tap(SimpleNamespace(x=1e6))
    assert "outside the spectrum" in picker.banner.message
    with pytest.raises(MIInputError, match="outside the spectrum"):
        picker.add_peak(-5.0)
    picker.n_peaks_box.value = 3
    picker.background_menu.value = "shirley"
    small = PeakPicker(x[:12], y[:12], n_peaks=3)
    small.fit_button.click()
    assert "need more than" in small.banner.message and small.result is None
    with pytest.raises(MIInputError, match="need more than"):
        small.fit()
    assert picker.result is first


def test_picker_auto_count_keeps_two_peaks_on_a_two_peak_upload():
    x, y, truth = make_spectrum(2, random_state=11)
    picker = PeakPicker(x, y)
    assert picker.n_peaks_box.value == "auto"
    picker.fit_button.click()
    assert picker.banner.message == ""
    assert picker.result.n_peaks == 2 and set(picker.result.bic_by_n_peaks) >= {1, 2, 3}
    np.testing.assert_allclose(
        picker.result.peaks.center, truth.center, atol=0.1 * truth.fwhm.min()
    )
    assert "BIC by count" in picker.table.value
    with pytest.raises(MIInputError, match="n_peaks must be 'auto'"):
        PeakPicker(x, y, n_peaks=0)


def test_picker_upload_good_and_bad_files(spectrum):
    x, y, _ = spectrum
    picker = PeakPicker(x, y, n_peaks=2)
    picker.fit()
    before = picker.result
    _upload(picker, "bad.csv", b"x,y\n1,2\n2,abc\n3,4\n")
    assert "line 3 has text ('abc')" in picker.banner.message
    assert picker.result is before and picker.x is x
    _upload(picker, "words.csv", b"energy;counts\nlow;high\nhigh;low\n")
    assert "no rows of numbers (every line has text" in picker.banner.message
    assert picker.result is before and picker.x is x
    _upload(picker, "huge.csv", b"1,2\n", size=UPLOAD_LIMIT_BYTES + 1)
    assert "the limit is" in picker.banner.message
    assert picker.result is before
    text = "e,c\n" + "".join(
        f"{v},{int(10 + 100 * np.exp(-((v - 5) ** 2)))}\n" for v in np.linspace(0, 10, 50)
    )
    assert "50 points" not in picker.source.value and "400 points" not in picker.source.value
    _upload(picker, "<b>good</b>.csv", text.encode())
    assert picker.banner.message == "" and picker.x.size == 50 and picker.result is None
    assert "&lt;b&gt;good&lt;/b&gt;.csv: 50 points" in picker.source.value


def test_em_player_replays_history_and_runs_least_squares_from_the_same_start(spectrum):
    x, y, _ = spectrum
    player = EMPlayer(x, y, 3, random_state=0)
    history = player.history
    assert player.slider.max == history.n_frames - 1
    player.step()
    player.step()
    assert player.frame == 2
    np.testing.assert_allclose(player.model_source.data["y"][:5], _model_at(player, 2)[:5])
    player.step(-1)
    assert player.frame == 1
    player.show_frame(10**6)
    assert player.frame == history.n_frames - 1
    assert (
        player.lsq_params is not None and "least squares from the same start" in player.info.value
    )
    assert np.all(np.diff(history.loglik[1:]) >= -1e-6 * abs(history.loglik[-1]))
    player.restart()
    assert player.frame == 0 and player.history is not history


def test_em_player_new_start_after_play_shows_iteration_zero_without_passing_the_end(spectrum):
    """After Play reached the end, a new start rewinds before the range changes.

    Had the range shrunk first, the slider would be clamped to the new last iteration, and the
    browser's play-slider link would send that value back after the rewind.
    """
    x, y, truth = spectrum
    player = EMPlayer(x, y, 3, random_state=0)
    player.show_frame(10**6)  # where Play stops
    player.play.value = player.frame
    seen = []
    player.slider.observe(lambda change: seen.append(change["new"]), names="value")
    player.play.observe(lambda change: seen.append(change["new"]), names="value")
    long_path = player.frame
    player.restart(init=truth.center)  # converges in fewer iterations: a shorter path
    assert player.slider.max < long_path
    assert set(seen) == {0}, f"the view passed through iterations {sorted(set(seen))}"
    assert player.frame == 0 and player.play.value == 0
    assert player.figure.title.text.startswith("EM iteration 0 of")
    assert player.play.playing is False


def test_em_player_actions_raise_from_python_and_fill_the_banner_from_buttons(spectrum):
    x, y, _ = spectrum
    with pytest.raises(MIInputError, match="init gives 2 starting centres for 3 peaks"):
        EMPlayer(x, y, 3, init=[10.0, 20.0])
    player = EMPlayer(x, y, 3, random_state=0)
    before = player.result
    with pytest.raises(MIInputError):
        player.restart(init=[float("nan")] * 3)
    assert player.result is before
    player.step_button.click()
    assert player.frame == 1 and player.banner.message == ""


def _model_at(player, t):
    from mi_widgets.spectra import model as pm

    return pm.model(player.x, player.history.params[t], 3, "linear")


def test_em_player_slider_values_from_a_client_are_clamped(spectrum):
    x, y, _ = spectrum
    player = EMPlayer(x, y, 3, random_state=0)
    player._on_slider({"new": 10**9})
    assert player.banner.message == ""
    assert player.figure.title.text.startswith(f"EM iteration {player.slider.max}")


@pytest.fixture
def explorer():
    image = make_spectral_image(10, 12, random_state=1)
    return image, SpectralMapExplorer(image.x, image.spectra, 2, truth=image.phase)


def test_map_click_selects_a_pixel_and_shows_its_fit(explorer):
    image, app = explorer
    app._on_tap(SimpleNamespace(x=4.5, y=2.2))
    assert app.selected == (2, 4)
    np.testing.assert_array_equal(app.data_source.data["y"], image.spectra[2, 4])
    assert len(app.fit_source.data["y"]) == image.x.size
    assert "Pixel (2, 4)" in app.pixel_label.value
    np.testing.assert_allclose(app.result.center[2 * 12 + 4], image.center[2, 4], atol=0.2)


def test_map_parameters_and_phases(explorer):
    image, app = explorer
    app.show_parameter("center:0")
    np.testing.assert_allclose(
        app.image_source.data["image"][0], app.result.center[:, 0].reshape(10, 12)
    )
    phases = app.cluster(3)
    assert compare_phases(phases, image.phase).adjusted_rand > 0.9
    assert app.parameter_menu.value == "phase"
    assert "adjusted Rand index" in app.phase_legend.value
    assert app.phase_legend.value.count("phase ") == 3
    assert app.color_bar.title == "phase (clusters)"
    app.show_parameter("center:0")
    assert app.color_bar.title == "center of peak 1 (eV)"
    np.testing.assert_array_equal(app.truth_source.data["image"][0], image.phase)


def test_map_model_menus_refit_with_another_peak_count(explorer):
    _, app = explorer
    app.n_peaks_menu.value = 3
    app.background_menu.value = "uniform"
    app.run_button.click()  # a long action: it runs in the background
    assert app.wait(timeout=300)
    assert app.banner.message == ""
    assert app.result.n_peaks == 3 and app.result.background_kind == "uniform"
    assert ("center of peak 3", "center:2") in app.parameter_menu.options


def test_map_bad_clicks_names_and_uploads_keep_the_result(explorer):
    image, app = explorer
    result = app.result
    app._on_tap(SimpleNamespace(x=50.0, y=1.0))
    assert "outside the 10 x 12 map" in app.banner.message
    app.run_action(app.show_parameter, "center:7")
    assert "Unknown map" in app.banner.message
    with pytest.raises(MIInputError):
        app.parameter_map("nonsense")
    _upload(app, "bad.csv", b"x,a\n1,2\n1,3\n2,4\n")
    assert "x repeats at row 1" in app.banner.message
    assert app.result is result and app.spectra.shape == image.spectra.shape


def _npz_bytes(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _npz_claiming(shape) -> bytes:
    """A tiny .npz whose spectra header claims ``shape`` (the data is not there)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": shape}
        )
        archive.writestr("spectra.npy", header.getvalue() + bytes(64))
        x = io.BytesIO()
        np.save(x, np.arange(3.0))
        archive.writestr("x.npy", x.getvalue())
    return buffer.getvalue()


def test_every_bad_stack_upload_gets_its_own_sentence_and_the_map_stays(explorer):
    _, app = explorer
    result, spectra = app.result, app.spectra
    bombs = _npz_bytes(x=np.arange(300.0), spectra=np.zeros((200, 200, 1000)))
    cases = [
        ("plain.npz", b"not a zip archive at all", "not a readable .npz (zip) archive"),
        (
            "text.npz",
            _npz_bytes(x=np.array(["a", "b", "c"]), spectra=np.ones((2, 3))),
            "x holds text",
        ),
        ("claims.npz", _npz_claiming((1_000_000, 1_000_000)), "7.28 TiB"),
        ("bomb.npz", bombs, "would unpack to 0.298 GiB"),
        ("comma.csv", b"x;y\n1,5;2,0\n2,5;3,0\n3,5;1,0\n", "decimals with commas"),
        ("words.csv", b"energy counts\nhello world\n", "no rows of numbers"),
    ]
    for name, content, message in cases:
        _upload(app, name, content)
        assert message in app.banner.message, (name, app.banner.message)
        assert app.result is result and app.spectra is spectra
    assert len(bombs) < 400_000  # 320 MB of zeros compress to about 0.3 MB


def test_utf16_csv_is_read_and_a_map_too_large_for_the_app_is_refused(explorer):
    from mi_widgets.spectra import load_spectrum
    from mi_widgets.spectra.io import MAX_APP_MAP_VALUES

    _, y = load_spectrum("x,y\n1,2\n2,3\n3,1\n".encode("utf-16"), name="u16.csv")
    assert y.tolist() == [2.0, 3.0, 1.0]
    _, app = explorer
    result = app.result
    side = int(np.sqrt(MAX_APP_MAP_VALUES / 20)) + 2
    with pytest.raises(MIInputError, match="the app fits at most"):
        app.set_spectra(np.arange(20.0), np.ones((side, side, 20)))
    assert app.result is result


def test_true_phase_map_has_a_legend_entry_per_phase(explorer):
    image, app = explorer
    items = app.truth_figure.legend[0].items
    shown = [item.label.value for item in items if item.visible]
    n = int(image.phase.max()) + 1
    assert shown == [f"phase {k + 1}" for k in range(n)]
