"""Bayesian optimisation core: GP against scikit-learn, acquisitions against closed forms."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.linalg import cholesky
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, Matern
from sklearn.gaussian_process.kernels import ConstantKernel as Constant

from mi_widgets._errors import MIInputError
from mi_widgets.active.campaign import Campaign, CandidateSampler
from mi_widgets.bayesopt import optimizer as bayes
from mi_widgets.bayesopt.gp import (
    CandidateGP,
    GaussianProcess,
    KernelParams,
    RandomFeatureRegression,
    _cholupdate,
    learn_hyperparameters,
    log_marginal_likelihood,
)
from mi_widgets.bayesopt.optimizer import (
    BayesianOptimizer,
    expected_improvement,
    probability_of_improvement,
    upper_confidence_bound,
)

SCALES = (0.7, 1.2, 2.0)


def _sklearn_kernel(kind, scales, amplitude):
    base = RBF(list(scales)) if kind == "rbf" else Matern(list(scales), nu=2.5)
    return Constant(amplitude**2, "fixed") * base


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (300, 3))
    f = np.sin(x[:, 0]) + x[:, 1] ** 2 - 0.5 * x[:, 2]
    return x, f, rng


@pytest.mark.parametrize("kind", ["rbf", "matern52"])
def test_gaussian_process_equals_sklearn_for_fixed_kernel(data, kind):
    x, f, _ = data
    gp = GaussianProcess(kind, length_scale=SCALES, amplitude=1.3, noise=0.05).fit(x[:40], f[:40])
    mean, std = gp.predict(x, return_std=True)
    ref = GaussianProcessRegressor(
        _sklearn_kernel(kind, SCALES, 1.3), alpha=0.05**2 + 1e-10, optimizer=None
    ).fit(x[:40], f[:40])
    ref_mean, ref_std = ref.predict(x, return_std=True)
    np.testing.assert_allclose(mean, ref_mean, rtol=0, atol=1e-8)
    np.testing.assert_allclose(std, ref_std, rtol=0, atol=1e-8)


@pytest.mark.parametrize("kind", ["rbf", "matern52"])
def test_optimizer_posterior_equals_sklearn_after_incremental_tells(data, kind):
    x, f, rng = data
    bo = BayesianOptimizer(x, kernel=kind, learn_every=0, amplitude=1.3, noise=0.05)
    bo.params_ = dataclasses.replace(bo.params_, length_scale=SCALES)
    order = rng.choice(len(x), 40, replace=False)
    bo.tell(order[:10], f[order[:10]])  # a batch, then one at a time (incremental Cholesky)
    for i in order[10:]:
        bo.tell(int(i), f[i])
    mean, std = bo.predict()
    ref = GaussianProcessRegressor(
        _sklearn_kernel(kind, SCALES, 1.3),
        alpha=0.05**2 + 1e-10,
        optimizer=None,
        normalize_y=True,
    ).fit(bo._x[order], f[order])
    ref_mean, ref_std = ref.predict(bo._x, return_std=True)
    np.testing.assert_allclose(mean, ref_mean, rtol=0, atol=1e-8)
    np.testing.assert_allclose(std, ref_std, rtol=0, atol=1e-8)


def test_incremental_cholesky_equals_rebuild_and_truncate_undoes(data):
    x, _, rng = data
    params = KernelParams("matern52", SCALES, 1.1, 0.02)
    order = [int(i) for i in rng.choice(len(x), 25, replace=False)]
    grown = CandidateGP(x, params)
    grown.rebuild(order[:5], params)
    for i in order[5:]:
        grown.append(i)
    fresh = CandidateGP(x, params)
    fresh.rebuild(order, params)
    y = rng.standard_normal(25)
    for a, b in zip(grown.mean_var(y), fresh.mean_var(y), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
    grown.truncate(10)
    fresh.rebuild(order[:10], params)
    for a, b in zip(grown.mean_var(y[:10]), fresh.mean_var(y[:10]), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)


@pytest.mark.parametrize("kind", ["rbf", "matern52"])
def test_log_marginal_likelihood_matches_sklearn_and_finite_differences(data, kind):
    x, f, _ = data
    x, y = x[:30], f[:30] - f[:30].mean()
    theta = np.log([1.2, 0.5, 0.9, 1.5, 0.1])
    value, grad = log_marginal_likelihood(x, y, theta, kind)
    ref = GaussianProcessRegressor(
        _sklearn_kernel(kind, np.exp(theta[1:-1]), np.exp(theta[0])),
        alpha=np.exp(2 * theta[-1]) + 1e-10,
        optimizer=None,
    ).fit(x, y)
    assert value == pytest.approx(ref.log_marginal_likelihood_value_, abs=1e-8)
    h = 1e-6
    numeric = [
        (
            log_marginal_likelihood(x, y, theta + e, kind)[0]
            - log_marginal_likelihood(x, y, theta - e, kind)[0]
        )
        / (2 * h)
        for e in np.eye(theta.size) * h
    ]
    np.testing.assert_allclose(grad, numeric, atol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_learnt_hyperparameters_reach_sklearn_optimum(data):
    x, f, _ = data
    x, y = x[:40], (f[:40] - f[:40].mean()) / f[:40].std()
    learnt = learn_hyperparameters(x, y, KernelParams("rbf", (1.0,) * 3, 1.0, 0.1))
    kernel = Constant(1.0, (0.05**2, 100.0)) * RBF([1.0] * 3, (0.03, 30.0))
    from sklearn.gaussian_process.kernels import WhiteKernel

    ref = GaussianProcessRegressor(kernel + WhiteKernel(0.01, (1e-6, 1.0)), random_state=0)
    ref.fit(x, y)
    assert learnt.log_marginal_likelihood >= ref.log_marginal_likelihood_value_ - 1e-3


def test_length_prior_keeps_length_scales_off_the_bounds():
    # 12 points of a function of the first feature only: ML-II calls the second
    # feature irrelevant (length scale at the upper bound 30); the log-normal prior
    # keeps it near the candidates' spread, and the reported likelihood excludes the prior
    rng = np.random.default_rng(3)
    x = rng.standard_normal((12, 2))
    y = np.sin(2.0 * x[:, 0])
    y = (y - y.mean()) / y.std()
    start = KernelParams("matern52", (1.0, 1.0), 1.0, 0.1)
    plain = learn_hyperparameters(x, y, start)
    prior = learn_hyperparameters(x, y, start, length_prior=(0.0, 0.6))
    assert plain.length_scale[1] == pytest.approx(30.0, rel=1e-6)
    assert 1.0 < prior.length_scale[1] < 10.0
    lml, _ = log_marginal_likelihood(x, y, prior.theta, "matern52")
    assert prior.log_marginal_likelihood == pytest.approx(lml, abs=1e-9)
    assert plain.log_marginal_likelihood >= prior.log_marginal_likelihood
    assert BayesianOptimizer(x).length_prior == bayes.LENGTH_PRIOR
    # five points of a smooth curve: the length prior alone would call them noise
    # (noise 0.86); the noise penalty keeps the interpolating explanation
    grid = np.linspace(0, 1, 50)
    bo = BayesianOptimizer(grid, random_state=0)
    bo.tell([0, 10, 25, 40, 49], np.sin(6 * grid[[0, 10, 25, 40, 49]]))
    assert bo.params_.noise < 0.1
    with pytest.raises(MIInputError, match="length_prior"):
        BayesianOptimizer(x, length_prior=(0.0, 0.0))


def test_expected_improvement_equals_its_integral():
    mean, std, best = 0.3, 0.8, 0.5
    integral, _ = integrate.quad(
        lambda v: max(v - best, 0.0) * stats.norm.pdf(v, mean, std), -10, 10, points=[best]
    )
    assert expected_improvement(np.array([mean]), np.array([std]), best)[0] == pytest.approx(
        integral, abs=1e-10
    )
    # closed form with a margin, and the sigma -> 0 limit
    z = (mean - best - 0.1) / std
    closed = (mean - best - 0.1) * stats.norm.cdf(z) + std * stats.norm.pdf(z)
    assert expected_improvement(np.array([mean]), np.array([std]), best, 0.1)[0] == pytest.approx(
        closed, abs=1e-14
    )
    np.testing.assert_allclose(
        expected_improvement(np.array([1.0, 0.0]), np.zeros(2), 0.5), [0.5, 0.0]
    )


def test_probability_of_improvement_and_ucb_closed_forms():
    mean = np.array([0.0, 1.0, 2.0])
    std = np.array([1.0, 0.5, 0.0])
    np.testing.assert_allclose(
        probability_of_improvement(mean, std, 0.5), [stats.norm.sf(0.5), stats.norm.cdf(1.0), 1.0]
    )
    np.testing.assert_allclose(upper_confidence_bound(mean, std, 1.5), [1.5, 1.75, 2.0])


@pytest.mark.parametrize("acquisition", ["EI", "PI", "UCB"])
@pytest.mark.parametrize("goal", ["maximize", "minimize"])
def test_acquisition_scores_follow_the_posterior(data, acquisition, goal):
    x, f, _ = data
    bo = BayesianOptimizer(x, acquisition=acquisition, goal=goal, kappa=1.5, xi=0.01)
    bo.tell(np.arange(12), f[:12])
    mean, std = bo.predict()
    y = f[:12]
    m, s = y.mean(), y.std()
    sign = 1.0 if goal == "maximize" else -1.0
    mu, sd, best = sign * (mean - m) / s, std / s, np.max(sign * (y - m) / s)
    expected = {
        "EI": expected_improvement(mu, sd, best, 0.01),
        "PI": probability_of_improvement(mu, sd, best, 0.01),
        "UCB": upper_confidence_bound(mu, sd, 1.5),
    }[acquisition]
    scores = bo.acquisition_()
    assert np.all(np.isneginf(scores[:12]))
    np.testing.assert_allclose(scores[12:], expected[12:], atol=1e-12)
    assert bo.suggest()[0] == int(np.argmax(scores))


def test_random_feature_posterior_converges_to_exact_gp(data):
    x, f, _ = data
    params = KernelParams("rbf", (1.5,) * 3, 1.0, 0.1)
    rows = list(range(40))
    y = (f[:40] - f[:40].mean()) / f[:40].std()
    exact = CandidateGP(x, params)
    exact.rebuild(rows, params)
    ref_mean, ref_var = exact.mean_var(y)
    errors = []
    for m in (20, 200, 2000):
        model = RandomFeatureRegression(x, params, m, np.random.default_rng(1))
        model.set_params(params, rows)
        mean, var = model.mean_var(y)
        rms = np.sqrt(
            np.mean((mean - ref_mean) ** 2) + np.mean((np.sqrt(var) - np.sqrt(ref_var)) ** 2)
        )
        errors.append(rms)
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.05
    # rank-1 updates give the same posterior as the refactorisation
    grown = RandomFeatureRegression(x, params, 60, np.random.default_rng(1))
    for i in rows:
        grown.append(i)
    model = RandomFeatureRegression(x, params, 60, np.random.default_rng(1))
    model.set_params(params, rows)
    for a, b in zip(grown.mean_var(y), model.mean_var(y), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_rank_one_cholesky_update_equals_refactorisation():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 6))
    a = a @ a.T + 6 * np.eye(6)
    v = rng.standard_normal(6)
    chol = cholesky(a, lower=True)
    _cholupdate(chol, v)
    np.testing.assert_allclose(chol, cholesky(a + np.outer(v, v), lower=True), atol=1e-12)


def test_thompson_draws_from_exact_gp_follow_the_posterior():
    x = np.linspace(0, 1, 60)
    y = np.sin(6 * x)
    bo = BayesianOptimizer(
        x,
        acquisition="TS",
        surrogate="gp",
        kernel="rbf",
        learn_every=0,
        length_scale=0.5,
        noise=0.05,
        n_features=2000,
        random_state=0,
    )
    bo.tell([0, 15, 30, 45, 59], y[[0, 15, 30, 45, 59]])
    draws = np.array([bo._thompson_draw() for _ in range(250)])
    mean, std = bo._posterior_std_units()
    np.testing.assert_allclose(draws.mean(0), mean, atol=0.15)
    np.testing.assert_allclose(draws.std(0), std, atol=0.1)


def test_errors_are_one_clear_sentence(data):
    x = data[0]
    bo = BayesianOptimizer(x)
    with pytest.raises(MIInputError, match="at least two observations"):
        bo.learn()
    bo.tell([1, 2], [0.5, 0.7])
    with pytest.raises(MIInputError, match="already measured"):
        bo.tell(1, 0.2)
    with pytest.raises(MIInputError, match="appears twice"):
        bo.tell([5, 5], [0.1, 0.2])
    with pytest.raises(MIInputError, match="NaN"):
        bo.tell([6], [np.nan])
    with pytest.raises(MIInputError, match="out of range"):
        bo.tell([300], [1.0])
    with pytest.raises(MIInputError, match="out of range"):
        bo.tell([-1], [1.0])
    with pytest.raises(MIInputError, match="one value per index"):
        bo.tell([7, 8], [1.0])
    with pytest.raises(MIInputError, match="whole numbers"):
        bo.tell([7.5], [1.0])
    with pytest.raises(MIInputError, match="acquisition must be one of"):
        BayesianOptimizer(x, acquisition="EIx")
    with pytest.raises(MIInputError, match="NaN"):
        BayesianOptimizer([[0.0], [np.nan]])
    with pytest.raises(MIInputError, match="positive number"):
        BayesianOptimizer(x, noise=0.0)
    with pytest.raises(MIInputError, match="No observation"):
        BayesianOptimizer(x).best_  # noqa: B018
    # a failed tell changes nothing
    assert bo.n_observations == 2 and bo.measured_mask.sum() == 2


def test_tiny_and_degenerate_inputs():
    one = BayesianOptimizer([[1.0, 2.0]], random_state=0)
    assert one.suggest(3).tolist() == [0]
    one.tell(0, 5.0)
    assert one.suggest().size == 0 and one.best_ == (0, 5.0)
    # identical candidates, constant values: finite posterior, no crash
    same = BayesianOptimizer(np.ones((5, 2)), random_state=0)
    same.tell([0, 1], [3.0, 3.0])
    mean, std = same.predict()
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std))
    assert np.allclose(mean, 3.0)
    assert sorted(same.suggest(5).tolist()) == [2, 3, 4]
    # before any observation: distinct random candidates, seeded
    first = BayesianOptimizer(np.arange(10.0), random_state=4).suggest(4)
    assert len(set(first.tolist())) == 4
    assert first.tolist() == BayesianOptimizer(np.arange(10.0), random_state=4).suggest(4).tolist()
    # a 1-D candidate list, one observation: prior hyperparameters, suggests away from it
    line = BayesianOptimizer(np.linspace(0, 1, 11), random_state=0)
    line.tell(0, 1.0)
    assert line.suggest()[0] != 0
    assert not line.relearned_


def test_learning_schedule_and_timings():
    x = np.linspace(0, 1, 50)
    bo = BayesianOptimizer(x, random_state=0)
    learnt_at = []
    for k, i in enumerate(range(0, 50, 3)):
        bo.tell(i, np.sin(5 * x[i]))
        if bo.relearned_:
            learnt_at.append(k + 1)
    assert learnt_at == [2, 3, 4, 6, 9, 13]
    assert set(bo.timings_) == {"fit", "learn", "score"}
    fixed = BayesianOptimizer(x, learn_every=0, length_scale=0.3)
    fixed.tell([0, 10, 20], [0.0, 1.0, 0.0])
    assert not fixed.relearned_ and fixed.params_.length_scale == (0.3,)


@pytest.mark.parametrize("acquisition", ["EI", "UCB", "TS"])
@pytest.mark.parametrize("surrogate", ["gp", "random_features"])
def test_batches_are_distinct_unmeasured_and_leave_the_model_unchanged(
    data, acquisition, surrogate
):
    x, f, _ = data
    bo = BayesianOptimizer(
        x, acquisition=acquisition, surrogate=surrogate, n_features=200, random_state=0
    )
    bo.tell(np.arange(8), f[:8])
    before = bo.predict()
    batch = bo.suggest(6)
    assert len(set(batch.tolist())) == 6 and not bo.measured_mask[batch].any()
    for a, b in zip(before, bo.predict(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_auto_switches_to_random_features_beyond_the_cache(data, monkeypatch):
    x, f, _ = data
    monkeypatch.setattr(bayes, "AUTO_MAX_CACHE", 300 * 10)
    bo = BayesianOptimizer(x, random_state=0, n_features=100)
    bo.tell(np.arange(10), f[:10])
    assert bo.surrogate_ == "gp"
    bo.tell(10, f[10])
    assert bo.surrogate_ == "random_features"
    assert np.all(np.isfinite(bo.predict()[1]))


def test_campaign_runs_the_optimizer_and_beats_random(data):
    x, f, _ = data
    assert isinstance(BayesianOptimizer(x), CandidateSampler)
    found_bo, found_random = [], []
    for seed in range(3):
        campaign = Campaign(
            BayesianOptimizer(x, random_state=seed),
            oracle=lambda idx: f[idx],
            metric=lambda s: s.best_[1],
            baseline=BayesianOptimizer(x, random_state=seed),
            initial=np.random.default_rng(seed).choice(len(x), 3, replace=False),
            random_state=seed,
        )
        campaign.run(20)
        n, best = campaign.curve()
        assert n[-1] == 23 and np.all(np.diff(best) >= 0)
        found_bo.append(best[-1])
        found_random.append(campaign.curve("baseline_metric")[1][-1])
        assert "index,value" in campaign.to_csv().splitlines()[0]
    assert np.median(found_bo) == pytest.approx(f.max())
    assert np.median(found_bo) > np.median(found_random)


def test_minimising_a_one_dimensional_function_finds_the_minimum():
    x = np.linspace(-1, 2, 301)
    y = (x - 0.77) ** 2 + 0.1 * np.sin(9 * x)
    bo = BayesianOptimizer(x, goal="minimize", random_state=0)
    bo.tell([0, 150, 300], y[[0, 150, 300]])
    for _ in range(12):
        i = bo.suggest()
        bo.tell(i, y[i])
    assert bo.best_[1] == pytest.approx(y.min(), abs=1e-3)
    assert bo.best_trace()[-1] == bo.best_[1]


def test_continuous_box_with_sobol_candidates_and_batches():
    sobol = stats.qmc.Sobol(3, seed=0).random_base2(11)
    lo, hi = np.array([-2.0, 0.0, 0.5]), np.array([2.0, 1.0, 3.0])
    box = lo + (hi - lo) * sobol
    target = np.array([0.4, 0.3, 1.7])
    loss = ((box - target) ** 2 / (hi - lo) ** 2).sum(1)
    bo = BayesianOptimizer(box, goal="minimize", random_state=0)
    first = bo.suggest(4)
    bo.tell(first, loss[first])
    for _ in range(8):
        batch = bo.suggest(4)
        bo.tell(batch, loss[batch])
    assert bo.best_[1] < np.sort(loss)[20]


def test_a_proposal_stands_until_the_next_tell(data):
    x, f, _ = data
    bo = BayesianOptimizer(x, acquisition="TS", random_state=0)
    bo.tell(np.arange(5), f[:5])
    first = bo.suggest(2)
    assert bo.suggest(2).tolist() == first.tolist()  # a Thompson draw is not redrawn
    bo.tell(first, f[first])
    assert not set(bo.suggest(2).tolist()) & set(first.tolist())
    bo.set_acquisition("UCB")
    assert bo.acquisition == "UCB"
    with pytest.raises(MIInputError, match="acquisition must be one of"):
        bo.set_acquisition("ucb")


def test_gp_versus_linear_model_on_the_same_observations(data):
    from mi_widgets.bayesopt.comparison import compare_with_linear

    x, f, _ = data
    bo = BayesianOptimizer(x, random_state=0)
    with pytest.raises(MIInputError, match="at least two observations"):
        compare_with_linear(bo, f)
    bo.tell(np.arange(60), f[:60])
    result = compare_with_linear(bo, f)
    design = np.column_stack([np.ones(60), x[:60]])
    coef = np.linalg.lstsq(design, f[:60], rcond=None)[0]
    assert result.intercept == pytest.approx(coef[0]) and result.coefficients == pytest.approx(
        tuple(coef[1:])
    )
    assert result.indices.size == 240 and result.rmse_gp < 0.5 * result.rmse_linear
