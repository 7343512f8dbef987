"""Project 07b (transfer across datasets): regularized evolution's `start` option, the milestones' checks, and the
notebook's shape."""

import random
from functools import partial
from pathlib import Path

import pytest
from scipy.stats import kendalltau

import nanonas
from course.question import CORRECT
from nanonas import STRATEGIES
from nanonas.core import Task
from nanonas.fitness import Fitness
from tests import helpers

ROOT = Path(__file__).resolve().parents[1]


def run(start=(), seed=0, evaluations=30, population_size=8, score=None):
    """Regularized evolution on a toy fitness; returns the Fitness (every DNA it evaluated, in order)."""
    fitness = Fitness(score or (lambda dna: sum(dna) / 16))
    STRATEGIES["regularized_evolution"].run(
        fitness,
        Task(data=None, seed=seed),
        population_size=population_size,
        sample_size=3,
        evaluations=evaluations,
        start=start,
    )
    return fitness


def test_start_opens_the_first_population_and_counts_toward_the_budget():
    start = [[4, 4, 4, 3], [0, 1, 2, 3], [4, 4, 4, 3], (3, 3, 3, 3)]  # a repeat counts once; a tuple is a DNA too
    fitness = run(start)
    first = fitness.populations[0]
    assert first[:3] == [[4, 4, 4, 3], [0, 1, 2, 3], [3, 3, 3, 3]] and len(first) == 8
    assert list(fitness)[:3] == [(4, 4, 4, 3), (0, 1, 2, 3), (3, 3, 3, 3)]  # evaluated first, in the order given
    assert len(fitness) == 30  # the chosen DNAs are evaluations like any other


def test_without_start_the_search_is_the_one_it_always_was():
    """`start=()` draws the same random numbers as before the option existed: the population, then the children."""
    fitness = run()
    rng = random.Random(0)
    assert fitness.populations[0] == [[rng.randrange(5) for _ in range(4)] for _ in range(8)]
    assert list(run()) == list(fitness) and list(run(seed=1)) != list(fitness)


def test_a_good_start_is_found_at_once_and_a_search_goes_on_from_it():
    best = (4, 4, 4, 4)
    fitness = run(start=[best], evaluations=20)
    assert max(fitness, key=fitness.get) == best and list(fitness)[0] == best
    assert all(fitness[dna] <= fitness[best] for dna in fitness)


def test_start_through_nano_nas_and_the_command_line(capsys):
    model = nanonas.nano_nas(
        "regularized_evolution",
        evaluator="bench",
        start=[[1, 0, 2, 1]],
        evaluations=12,
        population_size=4,
        sample_size=2,
        progress=False,
    )
    assert model.search.options["start"] == ([1, 0, 2, 1],) and model.search.evaluations == 12
    from nanonas.cli import main

    flags = "--evaluator bench --start 1-0-2-1 0-0-1-1 --evaluations 12 --population-size 4 --no-progress"
    assert main(["search", "regularized_evolution", *flags.split()]) == 0
    assert "12 evaluations" in capsys.readouterr().out


@pytest.mark.parametrize(
    "start, words",
    [
        ([[0, 1, 2]], "a DNA is a list of 4 op indices"),
        ([[0, 1, 2, 9]], "a DNA is a list of 4 op indices"),
        (["1-0-x-1"], "a DNA is a list of 4 op indices"),
        ([[0, 0, 0, i] for i in range(5)] + [[0, 0, 1, 1]] * 4, "start holds 6 DNAs, more than population_size=5"),
    ],
)
def test_a_bad_start_is_one_clear_value_error(start, words):
    with pytest.raises(ValueError, match=words):
        run(start, population_size=5)


verdict = partial(helpers.verdict, "07b_transfer")


def _tau_a(a, b):
    n = len(a)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    return sum(((a[i] > a[j]) - (a[i] < a[j])) * ((b[i] > b[j]) - (b[i] < b[j])) for i, j in pairs) / len(pairs)


def _best(records, k, reverse=True):
    return {tuple(r["dna"]) for r in sorted(records, key=lambda r: r["val_accuracy"], reverse=reverse)[:k]}


def _reversed_ties(records, k):
    return {tuple(r["dna"]) for r in sorted(records, key=lambda r: r["val_accuracy"])[::-1][:k]}


def _on_target(source, target):
    pick = tuple(max(source, key=lambda r: r["val_accuracy"])["dna"])
    return {tuple(r["dna"]): r["val_accuracy"] for r in target}[pick]


WRONG = [
    ("top_k_overlap", lambda s, t, k: len(_best(s, k, False) & _best(t, k, False)), "*worst*"),
    ("top_k_overlap", lambda s, t, k: len(_best(s, k + 1) & _best(t, k + 1)), "expected"),
    ("top_k_overlap", lambda s, t, k: len(_reversed_ties(s, k) & _reversed_ties(t, k)), "break ties"),
    ("transfer_regret", _on_target, "accuracy of the source's best on the target"),
    ("transfer_regret", lambda s, t: _on_target(s, t) - max(r["val_accuracy"] for r in t), "sign is flipped"),
    ("transfer_regret", lambda s, t: 0.0, "best on the target instead"),
    ("kendall_tau", _tau_a, "tau-a"),
    ("kendall_tau", lambda a, b: -kendalltau(a, b).statistic, "sign is flipped"),
    ("best_k", lambda scores, k: [d for d, _ in sorted(scores, key=lambda p: p[1])[:k]], "*lowest*"),
    ("best_k", lambda scores, k: [d for d, _ in sorted(scores, key=lambda p: p[1])[::-1][:k]], "evaluated first"),
    ("best_k", lambda scores, k: sorted(scores, key=lambda p: -p[1])[:k], "without their scores"),
    ("best_k", lambda scores, k: [d for d, _ in sorted(scores, key=lambda p: -p[1])][: max(1, k - 1)], "Return k"),
]


@pytest.mark.parametrize("name, fn, words", WRONG, ids=helpers.wrong_ids(WRONG))
def test_wrong_answers_are_told_what_is_wrong(name, fn, words):
    helpers.assert_told_what_is_wrong("07b_transfer", name, fn, words)


def test_answers_written_another_way_pass():
    """scipy for tau, numpy for the overlap, tuples instead of lists: any correct answer passes."""
    import numpy as np

    def top_k_overlap(source, target, k):
        order = lambda records: np.argsort([-r["val_accuracy"] for r in records], kind="stable")[:k]  # noqa: E731
        return len({tuple(source[i]["dna"]) for i in order(source)} & {tuple(target[i]["dna"]) for i in order(target)})

    def best_k(scores, k):
        return tuple(tuple(dna) for dna, _ in sorted(scores, key=lambda p: p[1], reverse=True)[:k])

    assert verdict("top_k_overlap", top_k_overlap).status == CORRECT
    assert verdict("kendall_tau", lambda a, b: float(kendalltau(a, b).statistic)).status == CORRECT
    assert verdict("best_k", best_k).status == CORRECT
