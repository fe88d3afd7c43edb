"""Spectra core: shapes, EM, polish, NIST StRD, batches, Dask, loaders, bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mi_widgets._errors import MIInputError
from mi_widgets._reference import reference_dir
from mi_widgets.spectra import (
    fit_many,
    fit_peaks,
    gaussian,
    least_squares_from,
    load_spectra,
    load_spectrum,
    lorentzian,
    make_spectral_image,
    make_spectrum,
    pseudo_voigt,
)
from mi_widgets.spectra import model as pm
from mi_widgets.spectra.em import EMGrid, EMState, run_em
from mi_widgets.spectra.generate import OVERLAPPING_PEAKS

FWHM_PER_B = 2.0 * np.sqrt(np.log(2.0))  # NIST: exp(-(x-b4)^2 / b5^2) has FWHM 2 sqrt(ln 2) b5


# ---------------------------------------------------------------- shapes and model
@pytest.mark.parametrize(
    "profile", [gaussian, lorentzian, lambda x, c, w, a: pseudo_voigt(x, c, w, a, 0.4)]
)
def test_profiles_have_the_area_and_fwhm_they_are_given(profile):
    x = np.linspace(-2000, 2000, 2_000_001)
    y = profile(x, 3.0, 2.0, 5.0)
    assert np.trapezoid(y, x) == pytest.approx(5.0, rel=2e-3)  # Lorentzian tails beyond +-2000
    peak = profile(3.0, 3.0, 2.0, 5.0)
    assert profile(4.0, 3.0, 2.0, 5.0) == pytest.approx(peak / 2, rel=1e-12)


def test_pseudo_voigt_matches_lmfit_with_eta_as_fraction():
    lineshapes = pytest.importorskip("lmfit.lineshapes")
    x = np.linspace(-10, 10, 101)
    ours = pseudo_voigt(x, 1.5, 3.0, 7.0, 0.3)
    theirs = lineshapes.pvoigt(
        x, amplitude=7.0, center=1.5, sigma=1.5, fraction=0.3
    )  # sigma = HWHM
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("background", pm.BACKGROUNDS)
def test_jacobian_matches_central_differences(background):
    x = np.linspace(0, 100, 300)
    bg = {
        "none": [],
        "uniform": [2.0],
        "linear": [3.0, -0.01],
        "exponential": [5.0, 0.02],
        "shirley": [1.0, 0.01],
        "shirley_kinetic": [1.0, 0.01],
    }
    params = pm.join([40.0, 60.0], [5.0, 8.0], [100.0, 50.0], [0.3, 0.6], np.array(bg[background]))
    jac = pm.jacobian(x, params, 2, background)
    numeric = np.empty_like(jac)
    for i in range(params.size):
        h = 1e-6 * max(1.0, abs(params[i]))
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        numeric[:, i] = (pm.model(x, up, 2, background) - pm.model(x, down, 2, background)) / (
            2 * h
        )
    np.testing.assert_allclose(jac, numeric, atol=1e-7 * np.abs(numeric).max())


# ---------------------------------------------------------------- NIST StRD
def _nist(name):
    path = reference_dir("nist_strd", f"{name}.dat")
    if path is None:
        pytest.skip("NIST StRD files absent: set MI_LAB_REFERENCE to the shared reference folder")
    lines = path.read_text().splitlines()
    table = np.array([[float(v) for v in line.split("=")[1].split()[:3]] for line in lines[40:48]])
    rss = float(lines[49].split(":")[1])
    data = np.array([[float(v) for v in line.split()] for line in lines[60:310]])
    return data[:, 1], data[:, 0], table[:, :2], table[:, 2], rss


def _as_nist_params(fit, x0):
    b = fit.background.params
    p = fit.peaks
    return np.array(
        [
            b["amplitude"] * np.exp(b["rate"] * x0),
            b["rate"],
            p.height[0],
            p.center[0],
            p.fwhm[0] / FWHM_PER_B,
            p.height[1],
            p.center[1],
            p.fwhm[1] / FWHM_PER_B,
        ]
    )


@pytest.mark.parametrize("name", ["Gauss1", "Gauss2", "Gauss3"])
@pytest.mark.parametrize("start", ["auto", 0, 1])
def test_nist_gauss_certified_values(name, start):
    x, y, starts, certified, certified_rss = _nist(name)
    init = None
    if start != "auto":
        b = starts[:, start]
        init = {
            "center": [b[3], b[6]],
            "fwhm": [FWHM_PER_B * b[4], FWHM_PER_B * b[7]],
            "height": [b[2], b[5]],
            "background": {"amplitude": b[0], "rate": b[1]},
        }
    fit = fit_peaks(x, y, 2, shape="gaussian", background="exponential", init=init, random_state=0)
    np.testing.assert_allclose(_as_nist_params(fit, x[0]), certified, rtol=1e-4)
    assert fit.rss == pytest.approx(certified_rss, rel=1e-8)
    # certified standard deviations of the peak centres, from the Jacobian
    assert fit.peaks.center_err[0] == pytest.approx(
        {"Gauss1": 1.0460593412e-01, "Gauss2": 1.5006798316e-01, "Gauss3": 3.5317859757e-01}[name],
        rel=1e-3,
    )


# ---------------------------------------------------------------- EM properties
def test_gaussian_em_log_likelihood_never_decreases():
    x, y, _ = make_spectrum(3, shape="gaussian", background="uniform", random_state=3)
    fit = fit_peaks(
        x,
        y,
        3,
        shape="gaussian",
        background="uniform",
        init=[20.0, 50.0, 80.0],
        polish=False,
        tol=1e-12,
    )
    gains = np.diff(fit.history.loglik)
    assert fit.history.n_frames > 30
    assert gains.min() >= -1e-9 * abs(fit.history.loglik[-1])
    assert gains[:10].sum() > 0


def test_em_batch_of_many_equals_each_alone():
    x, y, _ = make_spectrum(2, random_state=5)
    grid = EMGrid.from_x(x)
    weights = np.stack([y, 2 * y[::-1]]) * grid.dx
    start = EMState(
        np.array([[30.0, 60.0], [40.0, 70.0]]),
        np.array([[10.0, 10.0], [8.0, 8.0]]),
        np.full((2, 2), 0.5),
        np.tile([40.0, 40.0, 10.0, 10.0], (2, 1)),
        np.zeros(2),
    )
    both = run_em(grid, weights, start, "pseudo_voigt", "linear", max_iter=50, tol=0.0)
    for i in range(2):
        alone = run_em(
            grid,
            weights[i : i + 1],
            start.take(np.array([i])),
            "pseudo_voigt",
            "linear",
            max_iter=50,
            tol=0.0,
        )
        np.testing.assert_allclose(alone.state.center[0], both.state.center[i], rtol=1e-12)
        assert alone.loglik[0] == pytest.approx(both.loglik[i], rel=1e-12)


def test_fitted_shape_is_invariant_to_scaling_y():
    x, y, _ = make_spectrum(3, random_state=7)
    small = fit_peaks(x, y, 3, random_state=1)
    large = fit_peaks(x, 1000.0 * y, 3, random_state=1)
    for name in ("center", "fwhm", "eta"):
        np.testing.assert_allclose(
            getattr(large.peaks, name), getattr(small.peaks, name), rtol=1e-6, atol=1e-9
        )
    np.testing.assert_allclose(large.peaks.area, 1000.0 * small.peaks.area, rtol=1e-6)
    np.testing.assert_allclose(large.peaks.center_err, small.peaks.center_err, rtol=1e-4)


@pytest.mark.parametrize("counts", [3e3, 3e4, 3e5, 3e6])
def test_recovers_peaks_across_noise_levels_with_honest_errors(counts):
    x, y, truth = make_spectrum(3, total_counts=counts, random_state=11)
    fit = fit_peaks(x, y, 3, random_state=0)
    z = (fit.peaks.center - truth.center) / fit.peaks.center_err
    assert np.all(np.abs(z) < 5), z
    assert np.all(np.abs(fit.peaks.center - truth.center) < 0.1 * truth.fwhm)
    assert np.all(
        np.abs(fit.peaks.area / truth.area - 1) < 5 * fit.peaks.area_err / truth.area + 1e-3
    )


def test_automatic_starts_find_random_overlapping_peaks():
    found = 0
    for seed in range(12):
        x, y, truth = make_spectrum(3, random_state=200 + seed)
        fit = fit_peaks(x, y, 3, random_state=seed)
        found += np.all(np.abs(fit.peaks.center - truth.center) < 0.1 * truth.fwhm)
    assert found >= 11


def test_polish_equals_lmfit_least_squares_from_a_good_start():
    lmfit = pytest.importorskip("lmfit")
    x, y, truth = make_spectrum(2, random_state=13)
    fit = fit_peaks(x, y, 2, random_state=0)
    model = lmfit.models.PseudoVoigtModel(prefix="p0_") + lmfit.models.PseudoVoigtModel(
        prefix="p1_"
    )
    model += lmfit.models.LinearModel()
    params = model.make_params(intercept=0.0, slope=0.0)
    for k in range(2):
        params[f"p{k}_center"].set(value=truth.center[k])
        params[f"p{k}_sigma"].set(value=truth.fwhm[k] / 2, min=0)
        params[f"p{k}_amplitude"].set(value=truth.area[k], min=0)
        params[f"p{k}_fraction"].set(value=0.5, min=0, max=1)
    result = model.fit(y, params, x=x)
    for k in range(2):
        assert fit.peaks.center[k] == pytest.approx(result.params[f"p{k}_center"].value, rel=1e-6)
        assert fit.peaks.fwhm[k] == pytest.approx(2 * result.params[f"p{k}_sigma"].value, rel=1e-4)
        assert fit.peaks.area[k] == pytest.approx(result.params[f"p{k}_amplitude"].value, rel=1e-4)
        assert fit.peaks.eta[k] == pytest.approx(result.params[f"p{k}_fraction"].value, abs=1e-4)
        assert fit.peaks.center_err[k] == pytest.approx(
            result.params[f"p{k}_center"].stderr, rel=1e-2
        )


def test_auto_peak_count_by_bic():
    x, y, _ = make_spectrum(3, total_counts=3e5, random_state=17)
    fit = fit_peaks(x, y, "auto", max_peaks=5, random_state=0)
    assert fit.n_peaks == 3
    assert set(fit.bic_by_n_peaks) == {1, 2, 3, 4, 5}
    assert min(fit.bic_by_n_peaks, key=fit.bic_by_n_peaks.get) == 3


def test_shirley_background_is_fitted_inside_the_model():
    x = np.linspace(280, 295, 600)
    truth = pm.join(
        [284.8, 286.3, 288.9],
        [1.1, 1.3, 1.4],
        [900.0, 300.0, 150.0],
        [0.3, 0.3, 0.3],
        np.array([20.0, 0.08]),
    )
    expected = pm.model(x, truth, 3, "shirley")
    y = np.random.default_rng(0).poisson(expected).astype(float)
    fit = fit_peaks(x, y, 3, background="shirley", random_state=0)
    np.testing.assert_allclose(fit.peaks.center, [284.8, 286.3, 288.9], atol=0.05)
    assert fit.background.params["k"] == pytest.approx(0.08, rel=0.1)
    np.testing.assert_allclose(fit.model(x), expected, atol=5 * np.sqrt(expected.max()))


def test_kinetic_energy_shirley_step_is_on_the_low_energy_side():
    """The same C 1s lines on a kinetic-energy axis: the background is higher below each peak."""
    photon = 1486.6
    binding = np.linspace(280, 295, 600)
    params = pm.join(
        [284.8, 286.3, 288.9], [1.1, 1.3, 1.4], [900.0, 300.0, 150.0], [0.3] * 3, [20.0, 0.08]
    )
    on_binding = pm.model(binding, params, 3, "shirley")
    kinetic = photon - binding[::-1]  # increasing kinetic energy
    params_ke = params.copy()
    params_ke[0:12:4] = photon - params[0:12:4]
    on_kinetic = pm.model(kinetic, params_ke, 3, "shirley_kinetic")
    np.testing.assert_allclose(on_kinetic, on_binding[::-1], rtol=1e-12)
    background = pm.background_curve(kinetic, params_ke, 3, "shirley_kinetic")
    assert background[0] > background[-1]  # low kinetic energy = high binding energy
    y = np.random.default_rng(1).poisson(on_kinetic).astype(float)
    fit = fit_peaks(kinetic, y, 3, background="shirley_kinetic", random_state=0)
    np.testing.assert_allclose(fit.peaks.center, np.sort(params_ke[0:12:4]), atol=0.05)
    assert fit.background.params["k"] == pytest.approx(0.08, rel=0.1)


def test_result_curves_add_up():
    x, y, _ = make_spectrum(2, random_state=19)
    fit = fit_peaks(x, y, 2, random_state=0)
    np.testing.assert_allclose(
        fit.components(x).sum(axis=0) + fit.background_curve(x), fit.model(x)
    )
    assert fit.history.params.shape == (fit.history.n_frames, pm.n_params(2, "linear"))
    assert fit.n_iter == fit.history.n_frames - 1


def test_user_picked_centres_start_a_single_run():
    x, y, truth = make_spectrum(3, random_state=23)
    fit = fit_peaks(x, y, 3, init=truth.center + 2.0)
    np.testing.assert_allclose(fit.peaks.center, truth.center, atol=0.1 * truth.fwhm.min())
    np.testing.assert_allclose(fit.history.params[0][:12:4], np.sort(truth.center + 2.0))


# ---------------------------------------------------------------- fit_many
def test_fit_many_matches_fit_peaks_per_spectrum():
    image = make_spectral_image(3, 4, random_state=2)
    spectra = image.spectra.reshape(12, -1)
    batch = fit_many(image.x, spectra, 2, random_state=0)
    for i in (0, 5, 11):
        single = fit_peaks(image.x, spectra[i], 2, init=batch.params[i])
        np.testing.assert_allclose(batch.center[i], single.peaks.center, rtol=1e-6)
        np.testing.assert_allclose(batch.area[i], single.peaks.area, rtol=1e-4)
    truth = image.center.reshape(12, 2)
    assert np.all(np.abs(batch.center - truth) < 0.15)


def test_fit_many_reports_progress_and_chunks_do_not_change_results():
    image = make_spectral_image(4, 5, random_state=3)
    spectra = image.spectra.reshape(20, -1)
    calls = []
    one = fit_many(
        image.x,
        spectra,
        2,
        chunk_size=7,
        progress=lambda d, t: calls.append((d, t)),
        random_state=0,
    )
    other = fit_many(image.x, spectra, 2, chunk_size=20, random_state=0)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    np.testing.assert_allclose(one.params, other.params, rtol=1e-10)


def test_fit_many_on_a_dask_cluster_gives_the_local_result():
    distributed = pytest.importorskip("dask.distributed")
    image = make_spectral_image(3, 4, random_state=4)
    spectra = image.spectra.reshape(12, -1)
    local = fit_many(image.x, spectra, 2, chunk_size=5, random_state=0)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            remote = fit_many(image.x, spectra, 2, chunk_size=5, client=client, random_state=0)
    np.testing.assert_allclose(remote.params, local.params, rtol=1e-12)


# ---------------------------------------------------------------- generators and loaders
def test_generators_are_seeded():
    a = make_spectrum(3, random_state=1)[1]
    b = make_spectrum(3, random_state=1)[1]
    np.testing.assert_array_equal(a, b)
    image = make_spectral_image(6, 7, random_state=0)
    assert image.spectra.shape == (6, 7, 300)
    assert set(np.unique(image.phase)) == {0, 1, 2}
    np.testing.assert_array_equal(image.spectra, make_spectral_image(6, 7, random_state=0).spectra)


@pytest.mark.parametrize("sep", [",", ";", "\t", " "])
def test_load_spectrum_any_delimiter_and_header(sep):
    text = f"# comment\nenergy{sep}counts\n" + "".join(
        f"{v}{sep}{2 * v}\n" for v in (3.0, 2.0, 1.0)
    )
    x, y = load_spectrum(text.encode())
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])  # a decreasing axis is reversed
    np.testing.assert_array_equal(y, [2.0, 4.0, 6.0])


def test_load_spectra_text_and_npz(tmp_path):
    _, spectra = load_spectra(b"x,a,b\n1,1,2\n2,3,4\n3,5,6\n")
    assert spectra.tolist() == [[1, 3, 5], [2, 4, 6]]
    buffer = io.BytesIO()
    np.savez(buffer, x=np.arange(4.0), spectra=np.ones((2, 3, 4)))
    _x, spectra = load_spectra(buffer.getvalue())
    assert spectra.shape == (2, 3, 4)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"x,y\n1,2\n2,abc\n3,4\n", "line 3 has text ('abc')"),
        (b"x,y\n1,2\n1,3\n2,4\n", "x repeats at row 1"),
        (b"x,y\n1,2\n3,3\n2,4\n", "x goes back at row 2"),
        (b"x\n1\n2\n3\n", "one column"),
        (b"x,y\n1,2\n2,nan\n3,4\n", "NaN"),
        (b"hello\n", "no rows of numbers"),
    ],
)
def test_load_spectrum_bad_files(content, message):
    with pytest.raises(MIInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_spectrum(content)


# ---------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def spectrum():
    x, y, _ = make_spectrum(2, n_channels=200, random_state=0)
    return x, y


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x, y: (x, np.r_[y[:5], np.nan, y[6:]]), "y contains NaN at index 5"),
        (lambda x, y: (x, np.r_[y[:5], np.inf, y[6:]]), "y contains infinity"),
        (lambda x, y: (x[::-1], y), "x must increase"),
        (lambda x, y: (np.r_[x[:3], x[2], x[4:]], y), "repeats at index 3"),
        (lambda x, y: (x[:-1], y), "Lengths differ"),
        (lambda x, y: (x, np.zeros_like(y)), "no positive intensity"),
        (lambda x, y: (x, -np.abs(y)), "no positive intensity"),
        (lambda x, y: (x[:9], y[:9]), "need more than 10 channels; the spectrum has 9"),
    ],
)
def test_bad_spectra_give_one_clear_message(spectrum, change, message):
    x, y = change(*spectrum)
    with pytest.raises(MIInputError, match=message):
        fit_peaks(x, y, 2)


def test_bad_options(spectrum):
    x, y = spectrum
    with pytest.raises(MIInputError, match="n_peaks must be at least 1 and at most 20; got 50"):
        fit_peaks(x, y, 50)
    with pytest.raises(MIInputError, match="shape must be one of"):
        fit_peaks(x, y, 2, shape="voigt")
    with pytest.raises(MIInputError, match="background must be one of"):
        fit_peaks(x, y, 2, background="spline")
    with pytest.raises(MIInputError, match="init gives 1 starting centres for 2 peaks"):
        fit_peaks(x, y, 2, init=[3.0])
    with pytest.raises(MIInputError, match="spectrum 1"):
        fit_many(x, np.stack([y, np.zeros_like(y)]), 2)
    pv = fit_peaks(x, y, 2, random_state=0)
    with pytest.raises(MIInputError, match="init was fitted with 2 pseudo_voigt peaks"):
        fit_many(x, np.stack([y, y]), 2, shape="gaussian", init=pv)
    with pytest.raises(MIInputError, match="use the same options"):
        fit_peaks(x, y, 3, init=pv)


def test_negative_noise_is_zero_weight_in_em_and_kept_in_the_polish(spectrum):
    x, y = spectrum
    offset = np.percentile(y, 10)
    shifted = y - offset  # some channels go negative, as after a background subtraction
    assert (shifted < 0).any()
    fit = fit_peaks(x, shifted, 2, random_state=0)
    reference = fit_peaks(x, y, 2, random_state=0)
    np.testing.assert_allclose(fit.peaks.center, reference.peaks.center, rtol=1e-3)
    level = reference.background.params["level"] - offset
    assert fit.background.params["level"] == pytest.approx(level, abs=1e-3 * offset)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=12, max_value=60),
    where=st.integers(min_value=0, max_value=11),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_any_non_finite_value_is_named(n, where, bad):
    x = np.linspace(0, 10, n)
    y = np.exp(-((x - 5) ** 2)) + 0.1
    y[where] = bad
    with pytest.raises(MIInputError, match=f"y contains .* at index {where}"):
        fit_peaks(x, y, 1)


def test_data_script_regenerates_the_example_spectrum(tmp_path):
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "make_spectra_data", root / "scripts" / "make_spectra_data.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    small = script.write(tmp_path, 60)
    x, y = load_spectrum(small)
    assert x.size == 60 and x[0] == 280.0 and y.min() >= 0
    full = script.write(tmp_path, 400)
    assert full.read_bytes() == (root / "data" / "xps_c1s.csv").read_bytes()


def test_fit_many_threads_give_the_same_fits_and_leave_blas_settings_alone():
    from threadpoolctl import threadpool_info

    from mi_widgets.spectra import make_spectral_image

    image = make_spectral_image(6, 8, random_state=1)
    spectra = image.spectra.reshape(48, -1)
    before = [info["num_threads"] for info in threadpool_info()]
    threaded = fit_many(image.x, spectra, 2, chunk_size=8, n_jobs=3, random_state=0)
    serial = fit_many(image.x, spectra, 2, chunk_size=8, n_jobs=1, random_state=0)
    np.testing.assert_array_equal(threaded.center, serial.center)
    np.testing.assert_array_equal(threaded.area, serial.area)
    assert [info["num_threads"] for info in threadpool_info()] == before
    with pytest.raises(MIInputError, match="n_jobs must be at least 1"):
        fit_many(image.x, spectra, 2, n_jobs=0)


# ---------------------------------------------------------------- shared batch runner
def test_map_chunks_keeps_chunk_order_reports_progress_and_raises_task_errors():
    from mi_widgets._parallel import map_chunks, split_rows

    chunks = split_rows(np.arange(50.0).reshape(25, 2), 4)
    calls = []
    for n_jobs in (1, 3):
        sums = map_chunks(np.sum, chunks, n_jobs=n_jobs, progress=lambda d, t: calls.append((d, t)))
        assert sums == [float(c.sum()) for c in chunks]
    assert calls[-1] == (7, 7) and len(calls) == 14

    def fail_on_third(chunk, limit):
        if chunk[0, 0] >= limit:
            raise MIInputError("chunk too far")
        return chunk.shape[0]

    with pytest.raises(MIInputError, match="chunk too far"):
        map_chunks(fail_on_third, chunks, shared=(16.0,), n_jobs=2)
    assert map_chunks(fail_on_third, [], shared=(0.0,)) == []


def test_peak_model_validates_and_refuses_a_fit_of_another_model():
    from mi_widgets.spectra import PeakModel

    with pytest.raises(MIInputError, match="shape must be one of"):
        PeakModel(2, "voigt")
    with pytest.raises(MIInputError, match="n_peaks"):
        PeakModel(0)
    x, y, _ = make_spectrum(2, random_state=3)
    fit = fit_peaks(x, y, 2, random_state=0)
    assert fit.peak_model == PeakModel(2, "pseudo_voigt", "linear")
    with pytest.raises(MIInputError, match="use the same options"):
        fit_many(x, np.stack([y, y]), 2, background="uniform", init=fit)


# ---------------------------------------------------------------- fidelity (lab 02 and lab 03)
def _hard_spectrum(seed: int):
    """Three overlapping pseudo-Voigt peaks: centres 20-80 of 0-100, FWHM 3-7, >= 0.6 mean FWHM."""
    return make_spectrum(3, **OVERLAPPING_PEAKS, random_state=seed)


@pytest.mark.parametrize("seed", [35, 57, 58, 10_010, 10_044, 20_008, 20_028, 20_037, 20_050])
def test_overlapping_peaks_are_recovered_where_one_start_merges_two(seed):
    """Spectra on which the best EM likelihood merged two peaks or parked one far off."""
    x, y, truth = _hard_spectrum(seed)
    fit = fit_peaks(x, y, 3, shape="pseudo_voigt", background="linear", random_state=seed % 100)
    assert np.all(np.abs(fit.peaks.center - truth.center) < 0.1 * truth.fwhm)


@pytest.mark.parametrize("seed", range(4))
def test_no_returned_peak_leaves_the_data_or_is_narrower_than_a_channel(seed):
    x, y, _ = make_spectrum(2, total_counts=2e4, random_state=seed)
    for n_peaks, background in ((4, "linear"), (5, "none"), (3, "exponential")):
        fit = fit_peaks(x, y, n_peaks, background=background, random_state=seed)
        assert np.all((fit.peaks.center >= x[0]) & (fit.peaks.center <= x[-1]))
        assert np.all(fit.peaks.fwhm >= x[1] - x[0])
        em = fit.history.params[:, : 4 * n_peaks : 4]
        assert np.all((em >= x[0]) & (em <= x[-1]))


@pytest.mark.parametrize("shape", [(6, 6), (12, 9), (40, 40), (30, 80)])
def test_every_phase_of_a_spectral_image_has_a_real_share(shape):
    for seed in range(12):
        phase = make_spectral_image(*shape, n_channels=20, random_state=seed).phase
        fractions = np.bincount(phase.ravel(), minlength=3) / phase.size
        assert fractions.min() >= 0.1, (seed, fractions)


def test_clustering_with_the_true_phase_count_recovers_the_notebook_map():
    from mi_widgets.spectra import cluster_phases, compare_phases

    image = make_spectral_image(40, 40, random_state=0)  # the lab 03 map
    batch = fit_many(image.x, image.spectra.reshape(1600, -1), 2, random_state=0)
    agreement = compare_phases(cluster_phases(batch, 3), image.phase)
    assert agreement.adjusted_rand >= 0.9 and agreement.matched >= 0.95


# ---------------------------------------------------------------- units
_UNIT_REFERENCE = {}


@settings(max_examples=12, deadline=None)
@given(
    y_exponent=st.integers(min_value=-14, max_value=30),
    x_scale=st.sampled_from([1e-12, 1.0, 1e4]),
)
def test_fits_do_not_depend_on_the_units_of_x_and_y(y_exponent, x_scale):
    """Intensities x 1e-14 .. 1e30 and positions x 1e-12 give the same peaks, in those units."""
    x, y, _ = make_spectrum(2, random_state=3)
    if not _UNIT_REFERENCE:
        _UNIT_REFERENCE["fit"] = fit_peaks(x, y, 2, random_state=0)
    ref = _UNIT_REFERENCE["fit"]
    y_scale = 10.0**y_exponent
    fit = fit_peaks(x * x_scale, y * y_scale, 2, random_state=0)
    np.testing.assert_allclose(fit.peaks.center / x_scale, ref.peaks.center, rtol=1e-7)
    np.testing.assert_allclose(fit.peaks.fwhm / x_scale, ref.peaks.fwhm, rtol=1e-6)
    np.testing.assert_allclose(fit.peaks.area / (x_scale * y_scale), ref.peaks.area, rtol=1e-6)
    np.testing.assert_allclose(fit.peaks.height / y_scale, ref.peaks.height, rtol=1e-6)
    np.testing.assert_allclose(fit.peaks.center_err / x_scale, ref.peaks.center_err, rtol=1e-4)
    np.testing.assert_allclose(fit.rss / y_scale**2, ref.rss, rtol=1e-6)
    np.testing.assert_allclose(fit.model(x * x_scale) / y_scale, ref.model(x), rtol=1e-6, atol=1e-6)
    lsq = least_squares_from(x * x_scale, y * y_scale, fit.history.params[0], 2, max_nfev=50)
    assert np.all(np.isfinite(lsq))


@pytest.mark.parametrize(("x_scale", "y_scale"), [(1.0, 1e-14), (1.0, 1e30), (1e-12, 1e-14)])
def test_fit_many_does_not_depend_on_the_units_either(x_scale, y_scale):
    image = make_spectral_image(3, 4, random_state=0)
    spectra = image.spectra.reshape(12, -1)
    ref = fit_many(image.x, spectra, 2, random_state=0)
    scaled = fit_many(image.x * x_scale, spectra * y_scale, 2, random_state=0)
    np.testing.assert_allclose(scaled.center / x_scale, ref.center, rtol=1e-9)
    np.testing.assert_allclose(scaled.area / (x_scale * y_scale), ref.area, rtol=1e-6)
