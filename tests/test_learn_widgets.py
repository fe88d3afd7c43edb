"""The importance explorer, the reject-option and model-choice widgets, driven from Python."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split
from widget_helpers import upload as upload_file

from mi_widgets._errors import MIInputError
from mi_widgets.learn import load_alloy_features, make_classifier, make_regressor
from mi_widgets.learn.widgets import (
    ModelChoiceLab,
    PermutationImportanceExplorer,
    RejectOptionExplorer,
)


@pytest.fixture(scope="module")
def alloy_split():
    data = load_alloy_features(n_samples=300, random_state=1)
    return train_test_split(data.X, data.y, test_size=0.3, random_state=0), data.names


@pytest.fixture
def explorer(alloy_split):
    (X_train, X_test, y_train, y_test), names = alloy_split
    model = make_regressor("random_forest", n_estimators=30).fit(X_train, y_train)
    return PermutationImportanceExplorer(
        model, X_test, y_test, names, n_repeats=3, random_state=5, chunk_size=7
    )


def _upload(explorer, name: str, content: bytes) -> None:
    upload_file(explorer.upload, name, content)


def test_result_is_sklearns_permutation_importance(explorer):
    ref = permutation_importance(
        explorer.model,
        explorer.X,
        explorer.y,
        scoring="neg_mean_absolute_error",
        n_repeats=3,
        random_state=5,
    )
    assert np.array_equal(explorer.result.importances, ref.importances)
    assert explorer.progress.value == explorer.progress.max == len(explorer.feature_names)


def test_bars_are_sorted_and_the_top_feature_is_selected(explorer):
    means = list(explorer._bar_source.data["mean"])
    assert means == sorted(means)
    top = explorer.feature_names[int(np.argmax(explorer.result.importances_mean))]
    explorer.select(top)
    assert explorer._bar_source.data["feature"][-1] == top
    assert explorer.mae_after > explorer.mae_before


def test_select_and_click_change_the_scatter(explorer):
    least = explorer._bar_source.data["feature"][0]
    top = explorer._bar_source.data["feature"][-1]
    explorer.select(top)
    after_top = np.array(explorer._scatter_source.data["after"])
    explorer._bar_source.selected.indices = [0]  # what a click on the lowest bar sends
    assert explorer.selected == least
    assert not np.array_equal(after_top, explorer._scatter_source.data["after"])
    assert np.array_equal(explorer._scatter_source.data["true"], explorer.y)
    assert explorer.mae_after - explorer.mae_before < 0.5 * explorer.result.importances_mean.max()
    explorer._bar_source.selected.indices = [10**6]  # a forged index is ignored
    assert explorer.selected == least
    with pytest.raises(MIInputError, match="Unknown feature"):
        explorer.select("colour")


def test_correlation_heat_map_is_pearson(explorer):
    r = np.array(explorer._corr_source.data["r"])
    n = len(explorer.feature_names)
    assert r.shape == (n * n,)
    a, b = explorer._corr_source.data["a"][1], explorer._corr_source.data["b"][1]
    i, j = explorer.feature_names.index(a), explorer.feature_names.index(b)
    X = explorer.X
    if X[:, i].std() > 0 and X[:, j].std() > 0:
        assert r[1] == pytest.approx(np.corrcoef(X[:, i], X[:, j])[0, 1])


GOOD = b"composition,T_K,y\n" + b"".join(
    f"Cu{x:.2f}Ni{1 - x:.2f},{300 + 10 * k},{x * (1 - x) + 0.001 * k}\n".encode()
    for k, x in enumerate(np.linspace(0.05, 0.95, 12))
)


def test_upload_fits_a_model_and_keeps_it_on_bad_uploads():
    explorer = PermutationImportanceExplorer(n_repeats=2)
    _upload(explorer, "good.csv", GOOD)
    assert explorer.banner.message == ""
    assert explorer.target_dropdown.value == "y" and "T_K" in explorer.feature_names
    result, selected = explorer.result, explorer.selected
    for name, content, phrase in [
        ("text.csv", b"a,y\n1,2\n2,x\n3,1\n4,2\n5,3\n6,1\n", "non-numeric"),
        ("gap.csv", b"a,y\n1,2\n2,3\n3,\n4,2\n5,3\n", "missing value"),
        ("one.csv", b"a,y\n1,2\n", "at least 5 rows"),
        ("flat.csv", b"a,y\n1,2\n2,2\n3,2\n4,2\n5,2\n", "constant"),
        ("alien.csv", b"composition,y\nXx,1\nCu,2\nNi,3\nAu,4\nPt,5\n", "'Xx'"),
        ("sum.csv", b"composition,y\nCu0.5Ni0.4,1\nCu,2\nNi,3\nAu,4\nPt,5\n", "sum to 0.9"),
        ("words.csv", b"name,label\nfoo,bar\nbaz,qux\n", "no numeric column"),
    ]:
        _upload(explorer, name, content)
        assert phrase in explorer.banner.message, (name, explorer.banner.message)
        assert explorer.result is result and explorer.selected == selected
    assert explorer.target_dropdown.options == ("T_K", "y")
    explorer.target_dropdown.value = "T_K"  # choose another target: refit and recompute
    assert explorer.banner.message == "" and "y" in explorer.feature_names


def test_explorer_rejects_bad_arguments(alloy_split):
    (X_train, _, y_train, _), names = alloy_split
    model = make_regressor("ridge").fit(X_train, y_train)
    with pytest.raises(MIInputError, match="distinct names"):
        PermutationImportanceExplorer(model, X_train, y_train, names[:-1])
    with pytest.raises(MIInputError, match="NaN"):
        PermutationImportanceExplorer(model, np.full((5, 2), np.nan), np.ones(5))
    with pytest.raises(MIInputError, match="cannot predict"):
        PermutationImportanceExplorer(model, X_train[:, :5], y_train)
    with pytest.raises(MIInputError, match="n_repeats"):
        PermutationImportanceExplorer(n_repeats=0)


def test_reject_option_widget(alloy_split):
    data = load_alloy_features(n_samples=300, random_state=1)
    X_train, X_test, s_train, s_test = train_test_split(data.X, data.stable, random_state=0)
    proba = make_classifier("logistic").fit(X_train, s_train).predict_proba(X_test)
    lab = RejectOptionExplorer(proba, s_test)
    assert lab.result.coverage == 1.0
    lab.slider.value = 0.9
    assert lab.result.theta == 0.9 and lab.result.coverage < 1.0
    assert lab._span.location == 0.9 and "classified" in lab.summary.value
    assert lab.cross_entropy > 0


def test_model_choice_lab_runs_nothing_before_it_is_drawn_and_each_button_runs_its_study():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = X[:, 0] - 0.5 * X[:, 1] ** 2
    groups = np.repeat(np.arange(60), 2)
    raw = np.abs(rng.normal(size=(120, 3)))
    lab = ModelChoiceLab(X, y, groups=groups, raw=raw, n_samples=80)
    assert lab.widget is not None and lab.results == {}  # drawn, nothing computed
    expected = {
        "Learning curves": "learning_curves",
        "Grid vs random search": "search",
        "Network depth": "depth",
        "Training length (epochs)": "epochs",
        "Choose model": "choice",
    }
    for label, key in expected.items():
        lab.buttons[label].click()  # a long action: it runs in the background
        assert lab.wait(timeout=600)
        assert lab.banner.message == "", lab.banner.message
        assert key in lab.results
        assert lab.progress.value == lab.progress.max  # the bar ran to the end
        assert lab.progress.layout.visibility == "hidden"
    assert "depth_raw" in lab.results  # the raw-input depth curve is drawn too
    assert len(lab._depth_sources[1].data["mae"]) == 4
    assert len(lab._choice_source.data["mae"]) == 6
    assert lab.results["choice"].chosen != "dummy"
    assert lab.results["choice"].n_train + lab.results["choice"].n_test == 80
    epochs = lab.results["epochs"]
    assert len(lab._epoch_source.data["valid"]) == len(epochs.epochs) == 150
    assert "distinct gamma values tried: grid 2, random 16" in lab.summary.value
    lab.n_samples.value = 5  # below the slider minimum: the slider clamps it
    assert lab.n_samples.value == 20


def test_model_choice_lab_rejects_mismatched_groups():
    X = np.zeros((30, 2))
    with pytest.raises(MIInputError, match="groups"):
        ModelChoiceLab(X, np.arange(30.0), groups=np.arange(5))


def test_a_pure_noise_feature_gets_an_importance_of_about_zero():
    from mi_widgets.learn import add_noise_feature, split_rows

    data = load_alloy_features()
    X, names = add_noise_feature(data.X, data.names, random_state=0)
    train, test = split_rows(len(data.y), test_size=0.3, groups=data.groups, random_state=0)
    model = make_regressor("random_forest", n_estimators=40).fit(X[train], data.y[train])
    explorer = PermutationImportanceExplorer(model, X[test], data.y[test], names, n_repeats=5)
    mean, std = explorer.result.importances_mean, explorer.result.importances_std
    noise = names.index("noise (random)")
    assert abs(mean[noise]) < 0.02 * mean.max()  # measured: 0.3 % of the top feature
    assert abs(mean[noise]) < 3 * std[noise] + 1e-4


def test_small_splits_warn_and_large_tables_are_subsampled():
    explorer = PermutationImportanceExplorer(n_repeats=2)
    _upload(explorer, "good.csv", GOOD)  # 12 rows: 3 held out
    assert any(n.startswith("Only 3 held-out rows") for n in explorer.notes)
    assert "Only 3 held-out rows" in explorer.status.value
    rng = np.random.default_rng(0)
    rows = "".join(f"{a:.4f},{b:.4f},{2 * a + 0.1 * b:.4f}\n" for a, b in rng.normal(size=(400, 2)))
    big = PermutationImportanceExplorer(n_repeats=2, max_rows=120)
    big.load_csv(("a,b,y\n" + rows).encode(), "big.csv")
    assert big.notes == (
        "The table has 400 rows; the model and the importances use a random 120 of them.",
    )
    assert len(big.y) == 30 and "random 120" in big.status.value
    assert big.selected == "a"


def test_labels_are_readable_and_bars_large_enough_to_click(explorer):
    def px(size):
        return int(size.removesuffix("px"))

    assert px(explorer.bar_figure.yaxis[0].major_label_text_font_size) >= 12
    for axis in (*explorer.correlation_figure.xaxis, *explorer.correlation_figure.yaxis):
        assert px(axis.major_label_text_font_size) >= 12
    n = len(explorer.feature_names)
    # plot area per bar (figure height minus ~90 px of title and axis) of at least 20 px
    assert (explorer.bar_figure.height - 90) / n >= 20
    assert (explorer.correlation_figure.height - 300) / n >= 14  # one 12 px label per row


def test_uploaded_names_are_escaped():
    explorer = PermutationImportanceExplorer(n_repeats=2)
    evil = "<img src=x onerror=alert(1)>"
    content = (f"a,{evil},y\n" + "".join(f"{i},{i % 4},{i % 5}\n" for i in range(40))).encode()
    explorer.load_csv(content, "t.csv")
    explorer.select(evil)
    assert "<img" not in explorer.mae_label.value and "&lt;img" in explorer.mae_label.value


def _legends_inside(fig) -> list:
    from bokeh.models import Legend

    return [item for item in fig.center if isinstance(item, Legend)]


def test_legends_sit_below_the_plots_where_they_cover_no_data(explorer):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    lab = ModelChoiceLab(X, X[:, 0], n_samples=40)
    figures = [lab.fig_curves, lab.fig_search, lab.fig_gamma, lab.fig_depth, lab.fig_epochs]
    proba = np.column_stack([np.linspace(0, 1, 20), 1 - np.linspace(0, 1, 20)])
    reject = RejectOptionExplorer(proba, np.arange(20) % 2)
    figures += [explorer.scatter_figure, reject.figure]
    for fig in figures:
        assert fig.legend, fig.title.text
        assert _legends_inside(fig) == [], fig.title.text
        assert fig.legend[0] in fig.below


def test_importance_axis_holds_every_error_bar(explorer):
    data = explorer._bar_source.data
    x_range = explorer.bar_figure.x_range
    assert x_range.start <= min(0.0, min(data["lower"]))
    assert x_range.end > max(data["upper"])  # the longest whisker is not cut off


def test_depth_and_choice_ranges_follow_their_error_bars():
    from bokeh.models import Scatter

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    lab = ModelChoiceLab(X, X[:, 0], n_samples=40)
    for fig in (lab.fig_depth, lab.fig_choice):
        fields = {
            r.glyph.y.get("field") if isinstance(r.glyph.y, dict) else r.glyph.y
            for r in fig.renderers
            if isinstance(r.glyph, Scatter)
        }
        assert {"lower", "upper"} <= fields, fig.title.text  # the automatic range sees them
