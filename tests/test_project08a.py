"""Project 08a (progressive NAS): the milestones' checks (references pass, typical wrong answers are told what is
wrong, answers written another way pass); the notebook's shape is tested with every project's (test_projects06.py)."""

from functools import partial
from pathlib import Path

import pytest

from course.question import CORRECT
from nanonas.strategies.progressive import expansions as library_expansions
from tests import helpers

ROOT = Path(__file__).resolve().parents[1]


verdict = partial(helpers.verdict, "08a_progressive")


def _expansions_in_place(parent, position, n_ops):
    children = []
    for op in range(n_ops):
        if op != parent[position]:
            parent[position] = op  # forgets to put the parent's op back
            children.append(list(parent))
    return children


def _level(parents, position, n_ops, trained, predict, k, dedupe=True, drop_trained=True, reverse=True):
    """next_level with one of its steps left out (for the wrong answers below)."""
    children, old, taken = [], {tuple(t) for t in trained}, set()
    for parent in parents:
        for child in library_expansions(parent, position, n_ops):
            if (drop_trained and tuple(child) in old) or (dedupe and tuple(child) in taken):
                continue
            taken.add(tuple(child))
            children.append(child)
    return sorted(children, key=predict, reverse=reverse)[:k]


def _ties_last(parents, position, n_ops, trained, predict, k):
    children = _level(parents, position, n_ops, trained, predict, len(parents) * n_ops)
    return sorted(children, key=predict)[::-1][:k]  # best first, but equal predictions in reverse order


def _pick(history, budget, key=lambda pair: pair[1]):
    return max(history[:budget], key=key)[0]


WRONG = [
    ("expansions", lambda p, i, n: [p[:i] + [op] + p[i + 1 :] for op in range(n)], "parent itself"),
    ("expansions", _expansions_in_place, "in place"),
    ("expansions", lambda p, i, n: [p[:i] + [op] + p[i + 1 :] for op in reversed(range(n)) if op != p[i]], "order"),
    (
        "expansions",
        lambda p, i, n: [p[: i - 1] + [op] + p[i:] for op in range(n) if op != p[i - 1]] if i else [],
        "not at `position`",
    ),
    ("next_level", lambda *a: _level(*a, drop_trained=False), "already trained"),
    ("next_level", lambda *a: _level(*a, dedupe=False), "twice"),
    ("next_level", lambda *a: _level(*a, reverse=False), "*lowest*"),
    ("next_level", _ties_last, "on a tie the child generated first"),
    ("next_level", lambda *a: _level(*a)[: max(1, a[-1] - 1)], "Return k children"),
    ("regret_at", lambda h, b, t: 100 * (max(t.values()) - t[tuple(_pick(h, b))]), "percentage points"),
    ("regret_at", lambda h, b, t: t[tuple(_pick(h, b))], "true accuracy of the pick"),
    ("regret_at", lambda h, b, t: t[tuple(_pick(h, b))] - max(t.values()), "sign is flipped"),
    ("regret_at", lambda h, b, t: max(t.values()) - t[tuple(_pick(h, b, lambda p: t[tuple(p[0])]))], "*true* accuracy"),
    ("regret_at", lambda h, b, t: max(t.values()) - max(s for _, s in h[:b]), "best *score* seen"),
    ("regret_at", lambda h, b, t: max(t.values()) - t[tuple(_pick(h, len(h)))], "first `budget`"),
    ("regret_at", lambda h, b, t: max(t.values()) - t[tuple(_pick(h[:b][::-1], b))], "evaluated first"),
]


@pytest.mark.parametrize("name, fn, words", WRONG, ids=helpers.wrong_ids(WRONG))
def test_wrong_answers_are_told_what_is_wrong(name, fn, words):
    helpers.assert_told_what_is_wrong("08a_progressive", name, fn, words, expansions=library_expansions)


def test_answers_written_another_way_pass():
    """The library's own expansions, tuples for DNAs, numpy for the regret: any correct answer passes."""
    import numpy as np

    def next_level(parents, position, n_ops, trained, predict, k):
        children = [tuple(c) for p in parents for c in library_expansions(list(p), position, n_ops)]
        children = [c for c in dict.fromkeys(children) if c not in set(map(tuple, trained))]
        scores = np.array([predict(list(c)) for c in children])
        return [children[i] for i in np.argsort(-scores, kind="stable")[:k]]

    def regret_at(history, budget, truth):
        scores = np.array([score for _, score in history[:budget]])
        return float(max(truth.values()) - truth[tuple(history[int(np.argmax(scores))][0])])

    assert verdict("expansions", library_expansions).status == CORRECT
    assert verdict("next_level", next_level).status == CORRECT
    assert verdict("regret_at", regret_at).status == CORRECT


def test_the_reference_level_is_the_librarys():
    """Milestone 2's reference chooses what the library's progressive search trains, given the same scores."""
    from course.lesson08a import REFERENCE

    parents, trained = [[1, 3, 3, 3], [0, 3, 3, 3]], [[op, 3, 3, 3] for op in range(5)]
    predict = lambda dna: -sum(dna) % 3  # noqa: E731  (ties on purpose)
    level = REFERENCE.next_level(parents, 1, 5, trained, predict, 4)
    children = [c for p in parents for c in library_expansions(p, 1, 5)]
    assert level == sorted(children, key=lambda c: -predict(c))[:4]


def test_not_attempted_is_not_wrong():
    helpers.assert_not_attempted("08a_progressive")
