"""PDC uncertainty sampling: equality with scikit-learn, coexistence, batches, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse.linalg import spsolve
from scipy.stats import entropy
from sklearn.metrics import f1_score
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelPropagation, LabelSpreading

from mi_widgets._errors import MIInputError
from mi_widgets.active.io import read_phase_csv
from mi_widgets.active.propagation import knn_affinity, propagate, propagation_operator
from mi_widgets.active.sampling import (
    PhaseDiagramSampler,
    compare_with_random,
    initial_design,
    macro_f1,
    uncertainty_scores,
)
from mi_widgets.active.thermo import builtin_diagram

SKLEARN = {"label_propagation": LabelPropagation, "label_spreading": LabelSpreading}


def original_choice(model, unlabelled, score):
    """The next point as tsudalab/PDC picks it from a fitted scikit-learn model."""
    dist = model.label_distributions_[unlabelled]
    if score == "least_confident":
        return unlabelled[np.argmax(1 - dist.max(axis=1))]
    if score == "margin":
        ordered = -np.sort(-dist, axis=1)
        return unlabelled[np.argmin(ordered[:, 0] - ordered[:, 1])]
    return unlabelled[np.argmax(entropy(dist.T))]


def check_same_as_sklearn(X, y, estimator, score):
    model = SKLEARN[estimator]().fit(StandardScaler().fit_transform(X), y)
    sampler = PhaseDiagramSampler(
        X, estimator=estimator, graph="rbf", score=score, coexistence=False
    )
    labelled = np.flatnonzero(y != -1)
    sampler.tell(labelled, y[labelled])
    np.testing.assert_allclose(sampler.proba_, model.label_distributions_, rtol=0, atol=1e-12)
    assert sampler.n_iter_ == model.n_iter_
    unlabelled = np.flatnonzero(y == -1)
    assert sampler.suggest()[0] == original_choice(model, unlabelled, score)
    np.testing.assert_array_equal(sampler.predict(), model.transduction_)


def _pdc_toy_csv(folder) -> Path:
    """The original PDC's toy input, rebuilt from its description (its repository has no
    licence, so the file is not shipped): a 10 x 10 grid, parameter 1 = 0..90, parameter 2 =
    100..1000, four points measured, in the original's format (no final newline)."""
    measured = {(50, 200): 2, (10, 500): 1, (70, 700): 0, (30, 800): 0}
    rows = ["#phase, parameter 1, parameter2"]
    for p1 in range(0, 100, 10):
        for p2 in range(100, 1100, 100):
            label = measured.get((p1, p2), "")
            rows.append(f"{label},{p1},{p2}")
    path = Path(folder) / "data.csv"
    path.write_text("\n".join(rows))
    return path


@pytest.mark.parametrize("estimator", ["label_propagation", "label_spreading"])
@pytest.mark.parametrize("score", ["least_confident", "margin", "entropy"])
def test_rbf_reproduces_original_on_pdc_data(estimator, score, tmp_path):
    obs = read_phase_csv(_pdc_toy_csv(tmp_path))
    y = np.array([-1 if v is None else v for v in obs.labels])
    assert (y >= 0).sum() == 4
    check_same_as_sklearn(obs.coordinates, y, estimator, score)


@pytest.mark.parametrize("estimator", ["label_propagation", "label_spreading"])
@pytest.mark.parametrize("score", ["least_confident", "margin", "entropy"])
def test_rbf_reproduces_original_on_builtin_ternary(estimator, score):
    d = builtin_diagram("ternary", steps=20)
    codes = np.unique(d.labels, return_inverse=True)[1]
    y = np.full(len(codes), -1)
    chosen = np.random.default_rng(3).choice(len(y), 25, replace=False)
    y[chosen] = codes[chosen]
    check_same_as_sklearn(d.coordinates, y, estimator, score)


def test_knn_propagation_converges_to_harmonic_solution():
    # a path graph: the harmonic function between clamped ends is linear
    n = 21
    W = sparse.diags([np.ones(n - 1), np.ones(n - 1)], [-1, 1]).tocsr()
    T = propagation_operator(W, "label_propagation")
    Y = np.zeros((n, 2))
    Y[0, 0] = Y[-1, 1] = 1
    labelled = np.zeros(n, bool)
    labelled[[0, -1]] = True
    res = propagate(
        T, Y, labelled, estimator="label_propagation", max_iter=20000, tol=1e-12, stopping="max"
    )
    assert res.converged
    # direct solve of the Laplace equation on the unlabelled nodes
    L = (sparse.diags(np.ravel(W.sum(1))) - W).tocsr()
    u = ~labelled
    exact = spsolve(L[u][:, u].tocsc(), -(L[u][:, labelled] @ Y[labelled, 1]))
    np.testing.assert_allclose(res.distributions[u, 1], exact, atol=1e-9)
    np.testing.assert_allclose(exact, np.linspace(0, 1, n)[1:-1], atol=1e-12)


def test_knn_graph_is_sparse_and_symmetric():
    X = np.random.default_rng(0).random((500, 2))
    W = knn_affinity(X, n_neighbors=8)
    assert sparse.issparse(W) and W.nnz <= 2 * 8 * 500
    assert abs(W - W.T).max() == 0
    assert W.diagonal().max() == 0


def test_uncertainty_scores_match_definitions():
    p = np.array([[0.6, 0.3, 0.1], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(uncertainty_scores(p, "least_confident"), [0.4, 0.0, 1.0])
    np.testing.assert_allclose(uncertainty_scores(p, "margin"), [0.7, 0.0, 1.0])
    np.testing.assert_allclose(
        uncertainty_scores(p, "entropy")[:2], [entropy(p[0]) / np.log(3), 0.0]
    )


def test_uncertainty_sampling_picks_the_boundary_in_1d():
    x = np.linspace(0, 1, 41)[:, None]
    for graph in ("knn", "rbf"):
        s = PhaseDiagramSampler(x, graph=graph)
        s.tell([0, 40], ["alpha", "beta"])
        assert s.suggest()[0] == 20
        assert s.uncertainty_[20] == s.uncertainty_.max()
        assert s.uncertainty_[[0, 40]].tolist() == [0.0, 0.0]


def test_coexistence_two_phase_label_teaches_both_phases():
    x = np.linspace(0, 1, 41)[:, None]
    s = PhaseDiagramSampler(x, coexistence=True)
    s.tell([0, 20, 40], ["A", "A+B", "B"])
    s.fit()
    assert s.phases_.tolist() == ["A", "B"]
    # both single phases are present at the two-phase point and around it
    assert (s.phase_proba_[18:23] > 0.5).all()
    assert s.predict()[20] == "A+B"
    assert set(s.predict()) <= {"A", "A+B", "B"}
    # plain multiclass treats A+B as an unrelated class: A is absent there
    plain = PhaseDiagramSampler(x, coexistence=False)
    plain.tell([0, 20, 40], ["A", "A+B", "B"])
    assert plain.proba_.shape[1] == 3
    assert s.coexistence_ and not plain.coexistence_


def test_coexistence_interior_of_two_phase_region_is_certain():
    x = np.linspace(0, 1, 61)[:, None]
    s = PhaseDiagramSampler(x)  # "auto" switches coexistence on
    s.tell([0, 20, 30, 40, 60], ["A", "A+B", "A+B", "A+B", "B"])
    u = s.uncertainty_
    assert s.coexistence_
    assert u[25] < 0.15 and u[35] < 0.15  # five steps from A+B on both sides
    assert u[10] > 0.3 and u[50] > 0.3
    assert u[25] < u[10] / 4 and u[35] < u[50] / 4


def test_batch_ranked_and_neighbour_exclusion():
    g = np.stack(np.meshgrid(np.arange(20.0), np.arange(20.0)), -1).reshape(-1, 2)
    s = PhaseDiagramSampler(g, graph="rbf")
    s.tell([0, 399, 19, 380], ["a", "b", "a", "b"])
    ranked = s.suggest(5)
    order = np.argsort(-s.uncertainty_, kind="stable")
    assert ranked.tolist() == order[:5].tolist()
    ne = s.suggest(5, batch="neighbour_exclusion", k=1)
    assert len(set(ne.tolist())) == 5
    z = s.features_[ne]
    d = np.linalg.norm(z[:, None] - z[None], axis=-1)[np.triu_indices(5, 1)]
    step = np.linalg.norm(s.features_[1] - s.features_[0])
    assert d.min() > step * 1.0001
    assert ne[0] == ranked[0]


def test_one_parameter_at_a_time_moves_one_coordinate():
    g = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), -1).reshape(-1, 2)
    s = PhaseDiagramSampler(g, one_parameter_at_a_time=True)
    s.tell([0, 99, 9], ["a", "b", "a"])
    for _ in range(5):
        i = s.suggest()[0]
        prev = s.order_[-1]
        assert (g[i] == g[prev]).any()
        s.tell([i], ["a" if g[i].sum() < 9 else "b"])


def test_random_score_is_seeded_and_needs_no_fit():
    x = np.arange(30.0)[:, None]
    a = PhaseDiagramSampler(x, score="random", random_state=1)
    b = PhaseDiagramSampler(x, score="random", random_state=1)
    assert a.suggest(4).tolist() == b.suggest(4).tolist()


def test_macro_f1_matches_sklearn():
    rng = np.random.default_rng(0)
    truth = rng.choice(["a", "b", "c", "a+b"], 300)
    pred = np.where(rng.random(300) < 0.7, truth, rng.choice(["a", "b", "zz"], 300))
    expected = f1_score(truth, pred, average="macro", labels=np.unique(truth))
    assert macro_f1(truth, pred) == pytest.approx(expected, abs=1e-12)


def test_run_sampling_beats_random_on_small_eutectic():
    d = builtin_diagram("eutectic", n_x=31, n_t=21)
    cmp = compare_with_random(
        d.coordinates,
        d.labels,
        n_steps=200,
        seeds=[0, 1],
        random_steps=400,
        random_eval_every=20,
        threshold=0.9,
        stop_early=False,
    )
    assert np.median(cmp.samples_uncertainty) < np.median(cmp.samples_random)
    grid, mean = cmp.mean_curve("random")
    first = [r.macro_f1[0] for r in cmp.random]
    assert grid[0] == 5 and mean[0] == pytest.approx(np.mean(first))
    assert np.all(np.diff(grid) > 0) and len(mean) == len(grid)
    run = cmp.uncertainty[0]
    assert run.n_samples[0] == 5 and len(run.order) == 205
    assert run.macro_f1[-1] > run.macro_f1[0]


def test_initial_design_has_two_phases_and_is_seeded():
    truth = np.array(["a"] * 95 + ["b"] * 5)
    a = initial_design(truth, 3, random_state=4)
    assert len(set(truth[a])) == 2
    assert a.tolist() == initial_design(truth, 3, random_state=4).tolist()


# ---------------------------------------------------------------- bad input
def test_duplicate_candidates_rejected():
    with pytest.raises(MIInputError, match="candidates 0 and 2 are the same point"):
        PhaseDiagramSampler([[0, 1], [1, 1], [0, 1]])


def test_nan_candidates_rejected():
    with pytest.raises(MIInputError, match="NaN"):
        PhaseDiagramSampler([[0, 1], [np.nan, 1], [2, 1]])


def test_unknown_indices_and_label_counts_rejected():
    s = PhaseDiagramSampler(np.arange(5.0)[:, None])
    with pytest.raises(MIInputError, match="index 7 is not a candidate"):
        s.tell([1, 7], ["a", "b"])
    with pytest.raises(MIInputError, match="one label per index"):
        s.tell([1, 2], ["a"])
    with pytest.raises(MIInputError, match="phase names or integers"):
        s.tell([1], [""])
    assert not s.labelled_mask.any()  # nothing half-recorded


def test_single_phase_and_too_many_proposals():
    s = PhaseDiagramSampler(np.arange(5.0)[:, None])
    s.tell([0, 1], ["L", "L"])
    with pytest.raises(MIInputError, match="Only one phase"):
        s.suggest()
    assert len(s.suggest(2, score="random")) == 2
    s.tell([2], ["S"])
    with pytest.raises(MIInputError, match="at most 2"):
        s.suggest(3)


def test_bad_choices_rejected():
    with pytest.raises(MIInputError, match="score must be one of"):
        PhaseDiagramSampler(np.arange(5.0)[:, None], score="best")
    s = PhaseDiagramSampler(np.arange(5.0)[:, None])
    s.tell([0, 4], ["a", "b"])
    with pytest.raises(MIInputError, match="batch must be one of"):
        s.suggest(batch="fancy")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=5))
def test_tell_accepts_exactly_the_valid_indices(indices):
    s = PhaseDiagramSampler(np.arange(10.0)[:, None])
    labels = ["a"] * len(indices)
    if all(0 <= i < 10 for i in indices):
        s.tell(indices, labels)
        assert s.labelled_mask.sum() == len(set(indices))
    else:
        with pytest.raises(MIInputError):
            s.tell(indices, labels)


def test_integer_and_named_labels_mix_as_text():
    s = PhaseDiagramSampler(np.arange(6.0)[:, None])
    s.tell([0, 5, 3], [1, "L", 1])
    assert s.predict().tolist() == ["1", "1", "1", "1", "1", "L"]
    assert s.classes_.tolist() == ["1", "L"]
