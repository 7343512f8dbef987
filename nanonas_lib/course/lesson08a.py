"""Milestones of project 08a, progressive NAS: expand a DNA at one position, choose the next level with a predictor,
and score a search by its regret at a budget.

Every answer takes plain data: DNAs are lists of op indices, a predictor is a function `predict(dna)` (a table
lookup, so the check sees which DNAs it was asked about), a history is a list of [dna, score] pairs and the truth a
dict {tuple(dna): accuracy}. The checks build random cases (with ties) and cases from the shipped tables, and
compare with the reference solutions in solutions/08a_progressive.ipynb.
"""

import itertools
import random
from functools import lru_cache

from nanonas.bench import NanoBench

from .question import Question, Wrong, as_list, expect, is_sequence, show
from .question import close as _close
from .question import is_number as _is_number
from .question import reference as _reference
from .remote import Lookup

PROGRESSIVE = "08a_progressive"
REFERENCE = _reference(PROGRESSIVE)  # from solutions/08a_progressive.ipynb


def _dnas(value):
    """A returned list of DNAs as a list of lists, or None when it is not one."""
    if not is_sequence(value) or not all(is_sequence(d) and all(_is_number(i) for i in d) for d in value):
        return None
    return [as_list(d) for d in value]


def _expand(parent, position, n_ops):
    return [parent[:position] + [op] + parent[position + 1 :] for op in range(n_ops) if op != parent[position]]


def _check_expansions(answer, seed):
    rng = random.Random(seed)
    cases = [([3, 3, 3, 3], 1, 5), ([0], 0, 2), ([1, 0], 1, 3), ([0, 1, 2, 3], 3, 5), ([4, 4, 4, 4], 0, 5)]
    for _ in range(60):
        n_ops, positions = rng.randrange(2, 7), rng.randrange(1, 6)
        cases.append(([rng.randrange(n_ops) for _ in range(positions)], rng.randrange(positions), n_ops))
    calls = [(list(parent), position, n_ops) for parent, position, n_ops in cases]
    for (parent, position, n_ops), (sent, _, _), got in zip(cases, calls, answer.each(calls)):
        call = f"`expansions({parent}, position={position}, n_ops={n_ops})`"
        want = _expand(parent, position, n_ops)
        expect(
            sent == parent, f"{call} changed `parent` in place (it became `{sent}`): build each child as a new list."
        )
        got = _dnas(got)
        expect(got is not None, f"{call} returned something that is not a list of DNAs.")
        if got == want:
            continue
        hint = ""
        if parent in got:
            hint = " It includes the parent itself: an expansion puts a *different* op at `position`."
        elif any(len(d) != len(parent) for d in got):
            hint = " Every child has as many positions as its parent."
        elif sorted(got) == sorted(want):
            hint = " Same DNAs, another order: list them by their op at `position`, 0 first."
        elif got and all(d[position] == parent[position] for d in got):
            moved = sorted({i for d in got for i in range(len(d)) if d[i] != parent[i]})
            hint = f" Your children differ from the parent at position(s) {moved}, not at `position` = {position}."
        elif len(got) != len(want):
            hint = f" There are n_ops - 1 = {len(want)} other ops to put at `position`."
        raise Wrong(f"{call} returned `{show(got)}`, expected `{show(want)}`.{hint}")


def _space(n_ops, positions):
    return [list(d) for d in itertools.product(range(n_ops), repeat=positions)]


def _next_level_cases(seed):
    rng = random.Random(seed)
    cases = []
    # a growth step as in the project: parents [a, b, skip, skip] expanded at position 2, skip = op 3 of 5
    parents = [[0, 1, 3, 3], [1, 1, 3, 3], [0, 0, 3, 3]]
    trained = [[op, 3, 3, 3] for op in range(5)] + parents
    scores = {tuple(d): rng.randrange(10) / 10 for d in _space(5, 4)}
    cases.append((parents, 2, 5, trained, scores, 3))
    for _ in range(40):
        n_ops, positions = rng.randrange(2, 6), rng.randrange(1, 5)
        space = _space(n_ops, positions)
        parents = rng.sample(space, min(len(space), rng.randrange(1, 6)))
        trained = parents + rng.sample(space, rng.randrange(0, len(space) // 2 + 1))
        rng.shuffle(trained)
        grid = rng.choice([None, 3, 10])
        scores = {tuple(d): (rng.randrange(grid) / grid if grid else rng.random()) for d in space}
        cases.append((parents, rng.randrange(positions), n_ops, trained, scores, rng.randrange(1, 9)))
    return cases


def _check_next_level(answer, seed):
    cases = _next_level_cases(seed)
    calls = [
        ([list(p) for p in parents], position, n_ops, [list(t) for t in trained], Lookup(scores), k)
        for parents, position, n_ops, trained, scores, k in cases
    ]
    for (parents, position, n_ops, trained, scores, k), got in zip(cases, answer.each(calls)):
        call = f"`next_level({show(parents, 60)}, position={position}, n_ops={n_ops}, trained, predict, k={k})`"
        want = REFERENCE.next_level(
            [list(p) for p in parents], position, n_ops, [list(t) for t in trained], lambda d: scores[tuple(d)], k
        )
        got = _dnas(got)
        expect(got is not None, f"{call} returned something that is not a list of DNAs.")
        if got == want:
            continue
        new = [c for c in dict.fromkeys(tuple(c) for p in parents for c in _expand(p, position, n_ops))]
        new = [list(c) for c in new if c not in {tuple(t) for t in trained}]
        hint = ""
        old = next((d for d in got if d in trained), None)
        twice = next((d for i, d in enumerate(got) if d in got[:i]), None)
        strange = next((d for d in got if d not in new and d not in trained), None)
        if old is not None:
            hint = f" `{old}` is already trained: a level only trains DNAs not trained yet."
        elif twice is not None:
            hint = f" `{twice}` is in it twice: two parents can have the same child; keep it once."
        elif strange is not None:
            hint = f" `{strange}` is not a parent with another op at `position` = {position}."
        elif len(got) != len(want):
            hint = f" Return k children, or every new one when there are fewer than k ({len(want)} here)."
        elif got == sorted(new, key=lambda d: scores[tuple(d)])[:k]:
            hint = " Those have the *lowest* predicted scores: best first means the highest first."
        elif sorted(got) == sorted(want):
            hint = (
                " Same DNAs, another order: best predicted first, and on a tie the child generated first "
                "(parents in their order, each one's children by op)."
            )
        elif sorted(got, key=lambda d: -scores[tuple(d)]) != got:
            hint = " They are not sorted by `predict(dna)`, highest first."
        else:
            hint = " On a tie, keep the child generated first (parents in their order, each one's children by op)."
        raise Wrong(f"{call} returned `{show(got)}`, expected `{show(want)}`.{hint}")


@lru_cache(maxsize=1)
def _table_cases():
    """Histories of random search on the two shipped tables, as a search sees them (one training seed per lookup)."""
    cases = []
    for name in ("digits", "digits_variations"):
        bench = NanoBench.load(name)
        truth = {tuple(r["dna"]): r["val_accuracy"] for r in bench}
        rng, evaluate = random.Random(7), bench.evaluator(seed=7)
        dnas = rng.sample(sorted(truth), 120)
        history = [[list(d), evaluate(list(d))] for d in dnas]
        cases += [(history, budget, truth) for budget in (1, 10, 25, 50, 100, 120, 200)]
    return cases


def _regret_cases(seed):
    rng = random.Random(seed)
    cases = list(_table_cases())
    for _ in range(40):
        n_ops, positions = rng.randrange(2, 5), rng.randrange(1, 4)
        space = [tuple(d) for d in _space(n_ops, positions)]
        grid = rng.choice([None, 4, 10])
        draw = (lambda: rng.randrange(grid) / grid) if grid else rng.random
        truth = {d: draw() for d in space}
        seen = rng.sample(space, rng.randrange(1, len(space) + 1))
        history = [[list(d), draw()] for d in seen]
        cases.append((history, rng.randrange(1, len(history) + 3), truth))
    return cases


def _regret(history, budget, truth, pick=None):
    pick = pick or max(history[:budget], key=lambda pair: pair[1])[0]
    return max(truth.values()) - truth[tuple(pick)]


def _check_regret_at(answer, seed):
    cases = _regret_cases(seed)
    calls = [([[list(d), s] for d, s in history], budget, dict(truth)) for history, budget, truth in cases]
    for (history, budget, truth), got in zip(cases, answer.each(calls)):
        call = f"`regret_at(history, budget={budget}, truth)` on a history of {len(history)} evaluations"
        want = _regret(history, budget, truth)
        expect(_is_number(got), f"{call} returned `{show(got)}`; return a number (an accuracy difference).")
        if _close(got, want):
            continue
        seen = history[:budget]
        pick = max(seen, key=lambda pair: pair[1])[0]
        tied = sum(score == max(s for _, s in seen) for _, score in seen) > 1
        hint = ""
        if _close(got, 100 * want):
            hint = " That is in percentage points: return it in the units of `truth` (the notebook multiplies by 100)."
        elif _close(got, truth[tuple(pick)]):
            hint = " That is the true accuracy of the pick; the regret is how far below the best of the space it is."
        elif _close(got, -want):
            hint = " The sign is flipped: a regret is never negative (the best of the space minus the pick's)."
        elif tied and _close(got, _regret(history, budget, truth, max(reversed(seen), key=lambda p: p[1])[0])):
            hint = " On equal scores, the search returns the DNA it evaluated first."
        elif _close(got, _regret(history, budget, truth, max(seen, key=lambda p: truth[tuple(p[0])])[0])):
            hint = (
                " You picked by the *true* accuracy: a search only knows the scores it saw, so it returns the DNA with "
                "the best score in the history."
            )
        elif _close(got, max(truth.values()) - max(score for _, score in seen)):
            hint = (
                " You took the best *score* seen (one noisy training seed) as the pick's accuracy: the regret uses the"
                " pick's *true* accuracy, `truth[tuple(dna)]`."
            )
        elif _close(got, _regret(history, len(history), truth)):
            hint = " Only the first `budget` evaluations count: that is what the search had seen by then."
        elif _close(got, _regret(history, budget, truth, max(reversed(seen), key=lambda pair: pair[1])[0])):
            hint = " On equal scores, the search returns the DNA it evaluated first."
        elif _close(got, _regret(history, budget, truth, seen[-1][0])):
            hint = " That is the regret of the last DNA evaluated; a search returns the best it saw."
        raise Wrong(f"{call} returned `{show(got)}`, expected `{want:.6g}`.{hint}")


QUESTIONS = [
    Question(
        assignment=PROGRESSIVE,
        number=1,
        name="expansions",
        title="Every child of a DNA at one position",
        points=2,
        test=_check_expansions,
        hint_text="Loop over the op indices; skip the one the parent already has at `position`. Slicing a list "
        "(`parent[:position]`) makes a new list, so the parent is left as it was.",
    ),
    Question(
        assignment=PROGRESSIVE,
        number=2,
        name="next_level",
        title="One level of the progressive loop",
        points=3,
        test=_check_next_level,
        hint_text="Three steps: collect the children of every parent in order, keeping a set of the tuples you have "
        "already (trained ones included) so that nothing comes twice; then rank them by `predict`. Which sort keeps "
        "the first of equal items first?",
    ),
    Question(
        assignment=PROGRESSIVE,
        number=3,
        name="regret_at",
        title="Regret at a budget, from a history",
        points=2,
        test=_check_regret_at,
        hint_text="What does the search return after `budget` evaluations? Only what it has seen by then, and only "
        "by the scores it saw. Then look that DNA up in `truth`.",
    ),
]
