"""mi_widgets.learn core: composition features, filter, zoo, reject option, importance, studies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, learning_curve
from sklearn.pipeline import Pipeline

from mi_widgets._errors import MIInputError
from mi_widgets.learn import (
    REGRESSORS,
    STATISTICS,
    CorrelationFilter,
    choose_model,
    chunked_permutation_importance,
    compare_models,
    compare_searches,
    composition_features,
    depth_study,
    elemnet_mlp,
    learning_curves,
    load_element_table,
    make_classifier,
    make_regressor,
    parse_composition,
    permuted_prediction,
    read_table,
    reject_option,
    table_features,
)

# ----------------------------------------------------------------- compositions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cu0.5Ni0.25Au0.25", {"Cu": 0.5, "Ni": 0.25, "Au": 0.25}),
        ("Cu2Ni", {"Cu": 2 / 3, "Ni": 1 / 3}),
        ("CuAu3", {"Cu": 0.25, "Au": 0.75}),
        (" Al .5 Ni .5 ", {"Al": 0.5, "Ni": 0.5}),
        ("CuCu", {"Cu": 1.0}),
        ({"Cu": 1, "Au": 3}, {"Cu": 0.25, "Au": 0.75}),
        ({"Pt": 0.4, "Pd": 0.6}, {"Pt": 0.4, "Pd": 0.6}),
    ],
)
def test_parse_composition(text, expected):
    got = parse_composition(text)
    assert got.keys() == expected.keys()
    assert np.allclose([got[k] for k in expected], list(expected.values()))


@pytest.mark.parametrize(
    ("bad", "phrase"),
    [
        ("Cu0.5Ni0.4", "sum to 0.9"),
        ({"Cu": 0.3, "Ni": 0.3}, "sum to 0.6"),
        ("cu2", "Cannot read"),
        ("Cu-Ni", "Cannot read"),
        ("", "empty"),
        ({"Cu": -1, "Ni": 2}, "positive"),
        (3.5, "must be text"),
    ],
)
def test_parse_composition_rejects_bad_input(bad, phrase):
    with pytest.raises(MIInputError, match=phrase):
        parse_composition(bad)


def test_unknown_element_is_named():
    with pytest.raises(MIInputError, match="'Xx', which is not in the element table"):
        composition_features(["Cu0.5Ni0.5", "Xx2Cu"])


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="CuNiAuXx0123456789.- ", max_size=12))
def test_parse_never_fails_with_a_bare_exception(text):
    try:
        fractions = parse_composition(text)
    except MIInputError:
        return
    assert abs(sum(fractions.values()) - 1) < 1e-9


def _magpie_by_loop(composition: dict, table, prop: str) -> dict:
    """Independent, element-by-element implementation of matminer's PropertyStats."""
    j = table.properties.index(prop)
    values = np.array([table.values[table.symbols.index(e), j] for e in composition])
    weights = np.array(list(composition.values()))
    mean = float(np.sum(weights * values))
    return {
        "mean": mean,
        "avg_dev": float(np.sum(weights * np.abs(values - mean))),
        "min": values.min(),
        "max": values.max(),
        "range": values.max() - values.min(),
    }


def test_composition_features_hand_values():
    features = composition_features(["Cu0.5Au0.5"], properties=["electronegativity_pauling"])
    got = dict(zip(features.names, features.values[0], strict=True))
    table = load_element_table()
    cu = table.values[
        table.symbols.index("Cu"), table.properties.index("electronegativity_pauling")
    ]
    au = table.values[
        table.symbols.index("Au"), table.properties.index("electronegativity_pauling")
    ]
    assert got["mean_electronegativity_pauling"] == pytest.approx((cu + au) / 2)
    assert got["avg_dev_electronegativity_pauling"] == pytest.approx(abs(au - cu) / 2)
    assert got["range_electronegativity_pauling"] == pytest.approx(abs(au - cu))


def test_composition_features_match_loop_reference():
    rng = np.random.default_rng(1)
    table = load_element_table()
    symbols = ["Al", "Ni", "Cu", "Pd", "Ag", "Pt", "Au", "Fe", "Ti"]
    compositions = []
    for _ in range(30):
        chosen = rng.choice(symbols, size=rng.integers(1, 5), replace=False)
        x = rng.dirichlet(np.ones(len(chosen)))
        compositions.append(dict(zip(chosen.tolist(), x.tolist(), strict=True)))
    features = composition_features(compositions)
    assert features.values.shape == (30, len(STATISTICS) * len(table.properties))
    for i, comp in enumerate(compositions):
        for prop in table.properties:
            expected = _magpie_by_loop(comp, table, prop)
            for stat in STATISTICS:
                column = features.names.index(f"{stat}_{prop}")
                assert features.values[i, column] == pytest.approx(expected[stat], rel=1e-12)


def test_pure_element_has_zero_spread():
    f = composition_features(["Ni"])
    spread = [n for n in f.names if n.startswith(("avg_dev_", "range_"))]
    assert np.all(f.values[0, [f.names.index(n) for n in spread]] == 0)


# ------------------------------------------------------------------ filter


def test_correlation_filter_matches_numpy_and_drops_twins():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 200))
    X = np.column_stack([a, 2 * a + 0.01 * rng.normal(size=200), b, np.ones(200)])
    filt = CorrelationFilter(threshold=0.9).fit(X)
    assert np.allclose(filt.correlation_[:3, :3], np.corrcoef(X[:, :3].T))
    assert filt.support_.tolist() == [True, False, True, False]
    assert filt.transform(X).shape == (200, 2)
    assert filt.get_feature_names_out(["a", "twin", "b", "one"]).tolist() == ["a", "b"]


def test_correlation_filter_in_a_pipeline_and_bad_threshold():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    pipe = make_regressor("krr", correlation_threshold=0.95).fit(X, X[:, 0])
    assert isinstance(pipe.named_steps["filter"], CorrelationFilter)
    with pytest.raises(MIInputError, match="threshold"):
        CorrelationFilter(threshold=1.5).fit(X)


# -------------------------------------------------------------- model zoo


@pytest.mark.parametrize("name", REGRESSORS)
def test_every_regressor_is_a_pipeline_that_learns(name):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X[:, 0] + 0.5 * X[:, 1]
    model = make_regressor(name)
    assert isinstance(model, Pipeline) and "model" in model.named_steps
    mae = compare_models({name: model}, X, y, cv=3).mean_mae[0]
    dummy = compare_models({"d": make_regressor("dummy")}, X, y, cv=3).mean_mae[0]
    assert mae <= dummy * (1.0001 if name == "dummy" else 0.8)


def test_unknown_model_name():
    with pytest.raises(MIInputError, match="model must be one of"):
        make_regressor("xgboost")


def test_elemnet_depth_sets_layers():
    network = elemnet_mlp(depth=4, width=16).named_steps["model"].regressor
    assert network.hidden_layer_sizes == (16,) * 4
    assert elemnet_mlp(depth=2, classifier=True).named_steps["model"].hidden_layer_sizes == (64, 64)
    with pytest.raises(MIInputError, match="depth"):
        elemnet_mlp(depth=0)


def test_compare_models_equals_cross_val_score():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 2))
    y = X[:, 0] ** 2
    result = compare_models({"ridge": make_regressor("ridge")}, X, y, cv=4, random_state=7)
    folds = KFold(4, shuffle=True, random_state=7)
    expected = -cross_val_score(
        make_regressor("ridge"), X, y, cv=folds, scoring="neg_mean_absolute_error"
    )
    assert np.allclose(result.fold_mae[0], expected)


# ------------------------------------------------------------ reject option


def test_reject_option_coverage_and_accuracy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + 0.7 * rng.normal(size=300) > 0).astype(int)
    proba = make_classifier("logistic").fit(X, y).predict_proba(X)
    thetas = np.linspace(0.5, 1.0, 11)
    results = [reject_option(proba, t, y) for t in thetas]
    coverage = [r.coverage for r in results]
    assert coverage[0] == 1.0 and np.all(np.diff(coverage) <= 0)
    assert results[0].accuracy == pytest.approx(np.mean(proba.argmax(1) == y))
    accepted = [r.accuracy for r in results if r.coverage > 0.1]
    assert accepted[-1] > accepted[0]  # confident predictions are more often right
    with pytest.raises(MIInputError, match="theta"):
        reject_option(proba, 1.2)


# ----------------------------------------------------- permutation importance


@pytest.mark.parametrize("chunk_size", [1, 3, 40])
def test_chunked_importance_equals_sklearn_regression(chunk_size):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 7))
    y = 2 * X[:, 0] + X[:, 3] - X[:, 0] * X[:, 5]
    model = RandomForestRegressor(n_estimators=20, random_state=0).fit(X, y)
    ours = chunked_permutation_importance(
        model, X, y, n_repeats=4, random_state=11, chunk_size=chunk_size
    )
    ref = permutation_importance(
        model, X, y, scoring="neg_mean_absolute_error", n_repeats=4, random_state=11
    )
    assert np.array_equal(ours.importances, ref.importances)
    assert np.array_equal(ours.importances_mean, ref.importances_mean)


@pytest.mark.parametrize("scoring", [None, "accuracy", "neg_log_loss"])
def test_chunked_importance_equals_sklearn_classification(scoring):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 5))
    y = (X[:, 1] - X[:, 2] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    ours = chunked_permutation_importance(
        model, X, y, scoring=scoring, n_repeats=3, random_state=2, chunk_size=2
    )
    ref = permutation_importance(model, X, y, scoring=scoring, n_repeats=3, random_state=2)
    assert np.array_equal(ours.importances, ref.importances)


def test_progress_is_reported_per_chunk():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    model = make_regressor("ridge").fit(X, X[:, 0])
    seen = []
    chunked_permutation_importance(
        model, X, X[:, 0], n_repeats=2, chunk_size=2, on_progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_shuffling_a_predictive_feature_hurts_and_a_useless_one_does_not():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = 3 * X[:, 0]
    model = make_regressor("ridge", alpha=1e-6).fit(X, y)
    before, after_useful = permuted_prediction(model, X, 0)
    _, after_useless = permuted_prediction(model, X, 1)
    assert np.mean(np.abs(after_useful - y)) > 1.0 > 100 * np.mean(np.abs(after_useless - y))
    assert np.allclose(before, y, atol=1e-4)


# ---------------------------------------------------------------- studies


def test_learning_curves_equal_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X @ [1.0, -1.0, 0.5] + 0.1 * rng.normal(size=100)
    lc = learning_curves({"ridge": make_regressor("ridge")}, X, y, cv=4, random_state=3)
    sizes, _, valid = learning_curve(
        make_regressor("ridge"),
        X,
        y,
        train_sizes=(0.1, 0.25, 0.5, 0.75, 1.0),
        cv=KFold(4, shuffle=True, random_state=3),
        scoring="neg_mean_absolute_error",
    )
    assert np.array_equal(lc.train_sizes, sizes)
    assert np.allclose(lc.validation_mae[0], -valid.mean(axis=1))
    assert lc.validation_mae[0, -1] < lc.validation_mae[0, 0]  # more data, better model


def test_search_comparison_uses_equal_budgets():
    from scipy.stats import loguniform

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = X[:, 0] + 0.3 * rng.normal(size=80)
    grid = {"model__alpha": [1e-3, 1e-1, 10.0, 1e3], "model__fit_intercept": [True, False]}
    dists = {"model__alpha": loguniform(1e-3, 1e3), "model__fit_intercept": [True, False]}
    result = compare_searches(make_regressor("ridge"), grid, dists, X, y, cv=3)
    assert len(result.grid_mae) == len(result.random_mae) == 8
    reference = GridSearchCV(
        make_regressor("ridge"),
        grid,
        cv=KFold(3, shuffle=True, random_state=0),
        scoring="neg_mean_absolute_error",
    ).fit(X, y)
    assert result.grid_best == reference.best_params_
    assert result.running_best(result.grid_mae)[-1] == pytest.approx(-reference.best_score_)


def test_depth_study_shapes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    study = depth_study(X, X[:, 0], depths=(1, 3), width=8, max_iter=30)
    assert study.depths.tolist() == [1, 3] and np.all(study.mae > 0)


def test_choose_model_keeps_the_test_split_out():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=100)
    models = {"dummy": make_regressor("dummy"), "ridge": make_regressor("ridge")}
    choice = choose_model(models, X, y, test_size=0.25, cv=3)
    assert (choice.n_train, choice.n_test) == (75, 25)
    assert choice.chosen == "ridge" and choice.test_mae < 0.2
    with pytest.raises(MIInputError, match="test_size"):
        choose_model(models, X, y, test_size=1.5)


# --------------------------------------------------------------- tables


@pytest.mark.parametrize(
    ("content", "target", "phrase"),
    [
        (b"a,y\n1,2\n2,x\n3,1\n4,2\n5,3\n", "y", "non-numeric value 'x' in data row 2"),
        (b"a,y\n1,2\n2,\n3,1\n4,2\n5,3\n", "y", "missing value in data row 2"),
        (b"a,y\n1,2\n", "y", "at least 5 rows"),
        (b"a,y\n1,2\n2,2\n3,2\n4,2\n5,2\n", "y", "constant"),
        (b"a,y\n1,2\n2,3\n3,1\n4,2\n5,3\n", "energy", "no column 'energy'"),
        (b"y\n1\n2\n3\n4\n5\n", "y", "no feature columns"),
        (b"a,y\n1,2,3\n", "y", "has 3 cells"),
        (b"\xff\xfe\x00", "y", "not UTF-8"),
        (b"a,y\n", "y", "at least one data row"),
    ],
)
def test_bad_tables_give_one_clear_message(content, target, phrase):
    with pytest.raises(MIInputError, match=phrase):
        table_features(read_table(content, name="t.csv"), target)


def test_table_with_composition_column():
    content = (
        b"# comment\nformula,T_K,y\nCuNi,300,1\nCu3Au,300,2\nAu,400,3\nNi2Al,500,4\nPt,300,5\n"
    )
    X, y, names = table_features(read_table(content), "y")
    assert X.shape == (5, 1 + len(composition_features(["Cu"]).names))
    assert names[-1] == "T_K" and y.tolist() == [1, 2, 3, 4, 5]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["1", "2.5", "-3", "", "x", "nan", "Cu", "1e3"]), min_size=2, max_size=3
        ),
        min_size=0,
        max_size=7,
    )
)
def test_any_small_table_gives_features_or_one_clear_message(rows):
    content = "a,b,y\n" + "\n".join(",".join(r) for r in rows)
    try:
        X, y, names = table_features(read_table(content.encode(), name="t.csv"), "y")
    except MIInputError as error:
        assert str(error).endswith(".") and "\n" not in str(error)
        return
    assert X.shape == (len(y), len(names)) and np.all(np.isfinite(X)) and np.ptp(y) > 0


# ------------------------------------------------------------- honest folds


def test_folds_grouped_by_composition_do_not_flatter_the_model():
    """Row-wise K-fold is optimistic when a composition appears twice; grouped folds are not.

    The old alloy table held symmetry-equivalent copies of many cells.  Put such copies back
    (every training row twice) and compare three errors of a random forest: the error on
    compositions it never saw (the truth), row-wise 5-fold CV, and 5-fold CV grouped by
    composition.  Row-wise CV puts a copy of a validation row in the training folds and
    reports far less than the truth; the grouped error does not fall below it.
    """
    from sklearn.metrics import mean_absolute_error

    from mi_widgets.learn import load_alloy_features, split_rows

    data = load_alloy_features()
    unseen, row_wise, grouped = [], [], []
    for seed in range(3):
        train, test = split_rows(len(data.y), test_size=0.25, groups=data.groups, random_state=seed)
        X, y = np.repeat(data.X[train], 2, axis=0), np.repeat(data.y[train], 2)
        groups = np.repeat(data.groups[train], 2)
        forest = make_regressor("random_forest", n_estimators=50)
        unseen.append(mean_absolute_error(data.y[test], forest.fit(X, y).predict(data.X[test])))
        row_wise.append(compare_models({"rf": forest}, X, y, cv=5).mean_mae[0])
        grouped.append(compare_models({"rf": forest}, X, y, cv=5, groups=groups).mean_mae[0])
    unseen, row_wise, grouped = np.mean(unseen), np.mean(row_wise), np.mean(grouped)
    assert row_wise < 0.85 * unseen  # measured: 6.3 vs 8.9 meV/atom
    assert grouped >= unseen  # measured: 10.5 meV/atom


def test_grouped_folds_never_split_a_group():
    from mi_widgets.learn import cv_folds

    groups = np.repeat(np.arange(20), 3)
    for train, test in cv_folds(4, groups).split(np.zeros((60, 1)), groups=groups):
        assert not set(groups[train]) & set(groups[test])
    with pytest.raises(MIInputError, match="at least 5 groups"):
        cv_folds(5, np.repeat(np.arange(3), 4))


def test_studies_accept_groups_and_keep_groups_apart():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(30), 3)
    X = rng.normal(size=(90, 3))
    y = X[:, 0] + 0.1 * rng.normal(size=90)
    models = {"dummy": make_regressor("dummy"), "ridge": make_regressor("ridge")}
    choice = choose_model(models, X, y, cv=3, groups=groups)
    assert choice.chosen == "ridge" and choice.n_train + choice.n_test == 90
    assert choice.n_test % 3 == 0  # whole groups held out
    seen = []
    lc = learning_curves(models, X, y, cv=3, groups=groups, progress=lambda d, t: seen.append(d))
    assert lc.validation_mae.shape == (2, 5) and seen == [1, 2]
    study = depth_study(X, y, depths=(1,), width=4, max_iter=20, groups=groups)
    assert study.mae.shape == (1,)


def test_search_scores_equal_sklearns_searches():
    from scipy.stats import loguniform
    from sklearn.model_selection import RandomizedSearchCV

    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    y = X[:, 0] + 0.3 * rng.normal(size=60)
    groups = np.repeat(np.arange(20), 3)
    grid = {"model__alpha": [1e-2, 1.0, 100.0]}
    dists = {"model__alpha": loguniform(1e-3, 1e3)}
    ours = compare_searches(make_regressor("ridge"), grid, dists, X, y, groups=groups, cv=3)
    from mi_widgets.learn import cv_folds

    reference = RandomizedSearchCV(
        make_regressor("ridge"),
        dists,
        n_iter=3,
        cv=cv_folds(3, groups),
        scoring="neg_mean_absolute_error",
        random_state=0,
    ).fit(X, y, groups=groups)
    assert np.allclose(ours.random_mae, -reference.cv_results_["mean_test_score"])
    assert ours.random_best == reference.best_params_


@pytest.mark.slow
def test_random_search_wins_only_when_minor_hyperparameters_dilute_the_grid():
    """Bergstra and Bengio (2012) on the alloys: 16 settings each, four subsets of 400 rows.

    Over (alpha, gamma) the 4 x 4 grid and 16 random draws tie.  Add two knobs that barely
    matter and the 2 x 2 x 2 x 2 grid tries only two values of gamma: random search, still
    trying 16, finds a better model in every subset.
    """
    from mi_widgets.learn import krr_search_space, load_alloy_features

    data = load_alloy_features()
    gains = {False: [], True: []}
    for nuisance in (False, True):
        for seed in range(4):
            rows = np.random.default_rng(seed).permutation(len(data.y))[:400]
            estimator, grid, dists = krr_search_space(nuisance=nuisance)
            result = compare_searches(
                estimator,
                grid,
                dists,
                data.X[rows],
                data.y[rows],
                groups=data.groups[rows],
                random_state=seed,
            )
            gains[nuisance].append(result.grid_mae.min() - result.random_mae.min())
            assert result.distinct_values("model__gamma") == ((2, 16) if nuisance else (4, 16))
    assert min(gains[True]) > 0  # measured: 0.5-1.0 meV/atom in every subset
    assert np.mean(gains[True]) > 2 * abs(np.mean(gains[False]))  # measured: 0.7 vs 0.05


def test_refit_importance_gives_twins_zero_where_permutation_does_not():
    """No refit: how much the fitted model relies on a feature.  Refit: what the data lose."""
    from mi_widgets.learn import drop_column_importance

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    X[:, 1] = X[:, 0] + 0.05 * rng.normal(size=400)  # a correlated twin
    y = X[:, 0] + 0.5 * X[:, 2]
    train, test = slice(0, 300), slice(300, None)
    forest = RandomForestRegressor(n_estimators=50, random_state=0).fit(X[train], y[train])
    permuted = chunked_permutation_importance(forest, X[test], y[test], n_repeats=5)
    refit = drop_column_importance(
        RandomForestRegressor(n_estimators=50, random_state=0), X[train], y[train], X[test], y[test]
    )
    assert permuted.importances_mean[0] > 0.1 and permuted.importances_mean[1] > 0.05
    assert np.all(np.abs(refit[:2]) < 0.3 * permuted.importances_mean[:2])
    assert refit[2] > 0.2


def test_learn_core_modules_import_no_ui_and_io_imports_no_other_learn_module():
    """``importance.py`` is core now (its widget moved to ``widgets.py``); no io <-> cycle."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import mi_widgets.learn.io as io_module

    tree = ast.parse(Path(io_module.__file__).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert not [m for m in imported if m.startswith("mi_widgets.learn")]
    code = (
        "import sys\n"
        "import mi_widgets.learn, mi_widgets.learn.importance, mi_widgets.learn.studies\n"
        "ui = ('ipywidgets', 'bokeh', 'nglview', 'jupyter_bokeh')\n"
        "print(','.join(m for m in ui if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
