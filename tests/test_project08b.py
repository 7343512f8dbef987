"""Project 08b (a neural predictor): the milestones' checks (references pass, the graded predictor's draw is fixed
and its bar is met with margin, typical wrong answers are told what is wrong, answers written another way pass) and
the notebook's shape."""

from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from course import lesson08b
from course.question import CORRECT, INCORRECT
from nanonas import predictors
from nanonas.bench import NanoBench
from tests import helpers

ROOT = Path(__file__).resolve().parents[1]


verdict = partial(helpers.verdict, "08b_neural_predictor")


def _ridge(features):
    def fit_predict(train_dnas, train_scores, test_dnas):
        model = predictors.Ridge().fit(features(train_dnas), np.asarray(train_scores))
        return model.predict(features(test_dnas)).tolist()

    return fit_predict


one_hot = lambda dnas: predictors.one_hot(dnas, 5)  # noqa: E731
PARAMS = {tuple(r["dna"]): r["params"] for r in NanoBench.load("digits")}  # the same networks in both tables


def test_the_graded_draw_is_fixed_and_the_reference_clears_the_bar_with_margin():
    for table in lesson08b.TABLES:
        train, scores, test, truth, params = lesson08b.held_out(table)
        assert len(train) == lesson08b.TRAIN_SIZE and len(test) == 625 - lesson08b.TRAIN_SIZE
        assert not {tuple(d) for d in train} & {tuple(d) for d in test}, "held out means unseen"
        lesson08b.held_out.cache_clear()
        assert lesson08b.held_out(table)[:2] == (train, scores), "the same draw every time"
        ours = lesson08b.tau(lesson08b.REFERENCE.fit_predict(train, scores, test), truth)
        assert ours >= lesson08b.THRESHOLD + 0.05 and lesson08b.tau(params, truth) < lesson08b.THRESHOLD - 0.1


def _made_up_mean_tau(fit_predict, seed):
    tables = list(lesson08b.made_up_tables(seed))
    return lesson08b.made_up_tau(tables, [fit_predict(train, scores, test) for train, scores, test, _, _ in tables])


def test_made_up_tables_have_the_shipped_shape_and_each_a_mirror_image():
    tables = list(lesson08b.made_up_tables(7))
    assert len(tables) == 2 * lesson08b.MADE_UP
    everything = set(PARAMS)  # the 625 chains of the shipped tables
    for (train, scores, test, truth, live), mirror in zip(tables[::2], tables[1::2]):
        assert len(train) == lesson08b.TRAIN_SIZE and {tuple(d) for d in train + test} == everything
        assert mirror[0] == train and mirror[2] == test, "a pair shares its chains"
        assert live == [4 not in d for d in test] and mirror[4] == live
        for t in (truth, mirror[3]):
            assert all(v == lesson08b.CHANCE for v, alive in zip(t, live) if not alive)
            assert all(0.55 <= v <= 0.99 for v, alive in zip(t, live) if alive)
        alive = np.asarray(live)
        assert lesson08b.tau(np.asarray(truth)[alive], np.asarray(mirror[3])[alive]) == pytest.approx(-1)
        assert all(abs(s - 0.1) < 0.01 for s, d in zip(scores, train) if 4 in d)  # chance, a run's luck aside
    assert lesson08b.made_up_tau(tables, [t[3] for t in tables]) == pytest.approx(1)  # the truth itself
    assert lesson08b.made_up_tau(tables, [[-x for x in t[3]] for t in tables]) == pytest.approx(-1)
    assert lesson08b.made_up_tau(tables, [[0.5] * len(t[3]) for t in tables]) == 0
    assert [t[1] for t in lesson08b.made_up_tables(7)] == [t[1] for t in tables], "the same seed, the same tables"
    assert [t[1] for t in lesson08b.made_up_tables(8)] != [t[1] for t in tables]


@pytest.mark.parametrize(
    "rule",
    [
        lambda d: float(4 not in d),
        lambda d: (4 not in d) * (1 + sum({0: 9, 1: 25}.get(op, 0) for op in d)),  # zero last, then #params
        lambda d: (4 not in d) * (1 + d.count(2) - d.index(min(d))),
        lambda d: hash(tuple(d)) % 1000,
    ],
)
def test_an_answer_that_ignores_the_training_scores_averages_exactly_zero(rule):
    for seed in (0, 1, 2):
        assert _made_up_mean_tau(lambda train, scores, test: [rule(d) for d in test], seed) == pytest.approx(
            0, abs=1e-12
        )


def test_the_reference_learns_the_made_up_tables_with_margin_and_one_learned_weight_rarely_does():
    """Over 50 draws of the check's seed: the reference's mean τ stays well above the bar; a ridge on dead-or-not and
    #params (it learns one weight along a direction fixed in advance) averages about 0.3 and rarely reaches it."""
    ours = [_made_up_mean_tau(lesson08b.REFERENCE.fit_predict, seed) for seed in range(50)]
    assert min(ours) >= lesson08b.MADE_UP_THRESHOLD + 0.15, min(ours)
    params = lambda dnas: np.array([[4 in d, (4 not in d) * PARAMS[tuple(d)]] for d in dnas], dtype=float)  # noqa: E731
    one_weight = [_made_up_mean_tau(_ridge(params), seed) for seed in range(50)]
    assert np.mean(one_weight) < 0.4 and np.mean(np.asarray(one_weight) >= lesson08b.MADE_UP_THRESHOLD) <= 0.05


def test_a_one_hot_ridge_beats_params_but_not_the_bar():
    """The bar is set where the project says: above #params, and above what the one-hot alone gets from 50."""
    v = verdict("fit_predict", _ridge(one_hot))
    assert v.status == INCORRECT and "above #params" in v.feedback and "*how many*" in v.feedback, v.feedback


def _mlp_on_knowledge(train_dnas, train_scores, test_dnas):
    """Another correct answer: a small torch MLP, seeded, on dead + op counts + one-hot."""

    def features(dnas):
        D = np.asarray(dnas)
        dead = (D == 4).any(1, keepdims=True)
        counts = np.stack([(D == op).sum(1) for op in range(4)], 1) * ~dead
        return torch.tensor(np.hstack([dead, counts]), dtype=torch.float32)

    torch.manual_seed(0)
    X, y = features(train_dnas), torch.tensor(train_scores, dtype=torch.float32)
    mean, std = X.mean(0), X.std(0).clamp_min(1e-6)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.mse_loss(net((X - mean) / std).squeeze(1), (y - y.mean()) / y.std()).backward()
        opt.step()
    with torch.no_grad():
        return net((features(test_dnas) - mean) / std).squeeze(1).tolist()


def test_answers_written_another_way_pass():
    assert verdict("fit_predict", _mlp_on_knowledge).status == CORRECT
    tuples = lambda dnas, n_ops: [tuple(r) for r in predictors.one_hot(dnas, n_ops).astype(int).tolist()]  # noqa: E731
    assert verdict("one_hot", tuples).status == CORRECT
    assert verdict("one_hot", lambda dnas, n_ops: torch.tensor(predictors.one_hot(dnas, n_ops)).tolist()).correct

    def pick_to_train(candidates, predicted, trained, k):
        order = np.argsort(-np.asarray(predicted, dtype=float), kind="stable")
        new = dict.fromkeys(tuple(candidates[i]) for i in order if list(candidates[i]) not in trained)
        return [list(d) for d in list(new)[:k]]

    assert verdict("pick_to_train", pick_to_train).status == CORRECT


def _op_major(dnas, n_ops):
    return [[int(d[i % len(d)] == i // len(d)) for i in range(len(d) * n_ops)] for d in dnas]


def _pick(candidates, predicted, trained, k, drop=True, once=True, reverse=True, stable=True):
    ranked = sorted(range(len(candidates)), key=lambda i: predicted[i], reverse=reverse)
    if not stable:
        ranked = sorted(range(len(candidates)), key=lambda i: predicted[i])[::-1]
    picked = []
    for i in ranked:
        c = list(candidates[i])
        if (drop and c in trained) or (once and c in picked):
            continue
        picked.append(c)
    return picked[:k]


WRONG = [
    ("one_hot", _op_major, "op-major"),
    ("one_hot", lambda dnas, n_ops: predictors.one_hot(dnas, n_ops), "numpy array"),
    ("one_hot", lambda dnas, n_ops: [[int(i == op) for op in d for i in range(n_ops)][:-1] for d in dnas], "columns"),
    ("fit_predict", lambda train, scores, test: [0.5] * len(test), "same value"),
    ("fit_predict", lambda train, scores, test: [PARAMS[tuple(d)] for d in test], "not above the #params"),
    ("fit_predict", lambda train, scores, test: [0.5, 0.6] * 3, "one per test DNA"),
    ("fit_predict", lambda *a: [-x for x in _ridge(lambda d: predictors.features(d, 5))(*a)], "below 0"),
    ("fit_predict", lambda train, scores, test: np.zeros(len(test)), "numpy array"),
    ("fit_predict", lambda train, scores, test: [float(4 not in d) for d in test], "made-up tables"),
    ("fit_predict", lambda train, scores, test: [10**400 * (4 not in d) for d in test], "too large for a float"),
    ("pick_to_train", lambda *a: _pick(*a, drop=False), "already trained"),
    ("pick_to_train", lambda *a: _pick(*a, once=False), "twice"),
    ("pick_to_train", lambda *a: _pick(*a, reverse=False), "*lowest*"),
    ("pick_to_train", lambda *a: _pick(*a, stable=False), "on a tie the candidate listed first"),
    ("pick_to_train", lambda *a: _pick(*a)[: max(1, a[-1] - 1)], "Return k DNAs"),
]


@pytest.mark.parametrize("name, fn, words", WRONG, ids=helpers.wrong_ids(WRONG))
def test_wrong_answers_are_told_what_is_wrong(name, fn, words):
    helpers.assert_told_what_is_wrong("08b_neural_predictor", name, fn, words)


def test_not_attempted_is_not_wrong():
    helpers.assert_not_attempted("08b_neural_predictor")
