"""Performance predictors against oracles: an additive fitness is linear in the one-hot, an interaction is not."""

import itertools
import math

import numpy as np
import pytest

from nanonas import predictors

ALL_2x3 = [list(d) for d in itertools.product(range(3), repeat=2)]  # every DNA of 2 positions and 3 ops


def test_one_hot_marks_one_column_per_position():
    X = predictors.one_hot([[0, 2], [1, 1]], 3)
    assert X.tolist() == [[1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 1, 0]]


def test_proxy_columns_log_scale_and_a_live_flag():
    cols = predictors.proxy_columns(
        [{"jacob_cov": -math.inf, "synflow": math.e - 1}, {"jacob_cov": -2.0, "synflow": 0}], ("synflow", "jacob_cov")
    )
    assert cols[0].tolist() == pytest.approx([1.0, 0.0, 0.0])  # log(1 + (e - 1)) = 1; -inf -> 0; dead
    assert cols[1].tolist() == pytest.approx([0.0, -math.log(3.0), 1.0])


def test_ridge_learns_an_additive_fitness_exactly():
    effect = {(0, 0): 0.1, (0, 1): 0.5, (0, 2): -0.2, (1, 0): 0.3, (1, 1): 0.0, (1, 2): 0.4}
    y = np.array([effect[0, a] + effect[1, b] for a, b in ALL_2x3])
    X = predictors.one_hot(ALL_2x3, 3)
    train = [0, 1, 2, 3, 6]  # every op seen at every position
    model = predictors.Ridge(alpha=1e-6).fit(X[train], y[train])
    assert model.predict(X) == pytest.approx(y, abs=1e-4)


def test_gradient_boosting_learns_that_a_zero_anywhere_kills():
    dnas = [list(d) for d in itertools.product(range(3), repeat=3)]
    y = np.array([0.1 if 2 in d else 0.9 + 0.01 * sum(d) for d in dnas])  # op 2 plays 'zero'
    X = predictors.one_hot(dnas, 3)
    error = lambda model: np.abs(model.fit(X, y).predict(X) - y).mean()
    assert error(predictors.GradientBoosting()) < 0.01
    assert error(predictors.Ridge(alpha=1e-6)) > 0.1  # additive: a sum of per-position effects cannot say "any"


def test_mlp_ensemble_members_differ_and_agree_on_the_trend():
    X = predictors.one_hot(ALL_2x3, 3)
    y = np.array([a + 2 * b for a, b in ALL_2x3], dtype=float)
    model = predictors.MLPEnsemble(members=3, steps=150).fit(X, y)
    samples = model.samples(X)
    assert samples.shape == (3, 9) and samples.std(0).max() > 0
    assert predictors.kendall_tau(model.predict(X), y) > 0.8


def test_predictions_have_one_row_per_member_and_bad_names_fail():
    rows = predictors.predictions("ridge", ALL_2x3[:5], [0.1, 0.2, 0.3, 0.4, 0.5], ALL_2x3[5:], 3)
    assert rows.shape == (1, 4)
    with pytest.raises(ValueError, match="choose one of: ridge, mlp_ensemble, gbm"):
        predictors.make("lstm")


def test_ridge_ties_what_is_equal_in_exact_arithmetic():
    # a training set that reads the same with its two positions swapped: the exact ridge gives both positions the
    # same weights, so a DNA and its mirror predict the same; unrounded, the solve leaves them ulps apart, and which
    # one a sort puts first would depend on the CPU's BLAS kernel
    model = predictors.Ridge().fit(predictors.one_hot([[0, 0], [1, 1], [2, 2]], 3), np.array([0.1, 0.2, 0.7]))
    p = {tuple(d): v for d, v in zip(ALL_2x3, model.predict(predictors.one_hot(ALL_2x3, 3)))}
    assert all(p[a, b] == p[b, a] for a, b in p)
    alone = [model.predict(predictors.one_hot([d], 3))[0] for d in ALL_2x3]  # one row at a time, as a search may ask
    assert alone == list(p.values())
