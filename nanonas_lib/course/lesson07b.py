"""Milestones of project 07b, transfer across datasets: how much of a ranking carries over, and what to carry.

Every answer takes plain data (records {"dna": [...], "val_accuracy": ...}, lists of numbers, [dna, score] pairs), so
the checks build their cases from the two shipped tables (digits, digits_variations) and from random tables with
ties, and compare with the reference solutions in solutions/07b_transfer.ipynb.
"""

import random
from functools import lru_cache

from scipy.stats import kendalltau

from nanonas.bench import NanoBench

from .question import Question, Wrong, as_list, expect, is_sequence, show
from .question import close as _close
from .question import is_number as _is_number
from .question import reference as _reference

TRANSFER = "07b_transfer"
REFERENCE = _reference(TRANSFER)


@lru_cache(maxsize=1)
def _tables():
    """(digits records, digits_variations records) over the live architectures, in the digits table's order."""
    source, target = NanoBench.load("digits"), NanoBench.load("digits_variations")
    live = [r["dna"] for r in source if "zero" not in r["ops"]]
    records = lambda table: [{"dna": dna, "val_accuracy": table.query(dna)["val_accuracy"]} for dna in live]
    return records(source), records(target)


def _random_pair(rng):
    """Two random tables over the same DNAs (each in its own order), scores on a coarse grid (ties) or continuous."""
    n_ops, positions = rng.randrange(2, 5), rng.randrange(1, 4)
    space = [[(i // n_ops**p) % n_ops for p in range(positions)] for i in range(n_ops**positions)]
    grid = rng.choice([None, 4, 10])
    score = (lambda: rng.randrange(grid) / grid) if grid else rng.random
    source = [{"dna": dna, "val_accuracy": score()} for dna in space]
    target = [{"dna": dna, "val_accuracy": score()} for dna in rng.sample(space, len(space))]
    return source, target


def _copy(records):
    return [{"dna": list(r["dna"]), "val_accuracy": r["val_accuracy"]} for r in records]


def _pair_cases(seed, n=40):
    rng = random.Random(seed)
    digits, variations = _tables()
    cases = [(digits, variations), (variations, digits)]
    return cases + [_random_pair(rng) for _ in range(n)]


def _overlap(source, target, k, take):
    """The overlap of the DNAs `take` picks from each table sorted by accuracy, worst first (for wrong answers)."""
    picked = lambda records: {tuple(r["dna"]) for r in take(sorted(records, key=lambda r: r["val_accuracy"]))}
    return len(picked(source) & picked(target))


def _check_top_k_overlap(answer, seed):
    rng = random.Random(seed)
    cases = [(s, t, k) for s, t in _pair_cases(seed)[:2] for k in (1, 5, 10, 25)]
    cases += [(s, t, rng.randrange(1, len(s) + 2)) for s, t in _pair_cases(seed)[2:]]
    calls = [(_copy(s), _copy(t), k) for s, t, k in cases]
    for (source, target, k), got in zip(cases, answer.each(calls)):
        want = REFERENCE.top_k_overlap(source, target, k)
        call = f"`top_k_overlap(source, target, k={k})` on tables of {len(source)} architectures"
        expect(_is_number(got), f"{call} returned `{show(got)}`; return a count.")
        if got == want:
            continue
        hint = ""
        if got == _overlap(source, target, k, lambda ranked: ranked[:k]):  # ascending: the worst k
            hint = " It looks like you took the k *worst*: best first means the highest `val_accuracy` first."
        elif got > k:
            hint = " An overlap of two sets of k DNAs is at most k."
        elif got == _overlap(source, target, k, lambda ranked: ranked[::-1][:k]):  # best first, ties last-first
            hint = " Check how you break ties: on equal `val_accuracy`, the record first in its list ranks first."
        raise Wrong(f"{call} returned `{got}`, expected `{want}`.{hint}")


def _check_transfer_regret(answer, seed):
    cases = _pair_cases(seed)
    for (source, target), got in zip(cases, answer.each([(_copy(s), _copy(t)) for s, t in cases])):
        want = REFERENCE.transfer_regret(source, target)
        call = f"`transfer_regret(source, target)` on tables of {len(source)} architectures"
        expect(_is_number(got), f"{call} returned `{show(got)}`; return a difference of accuracies.")
        if _close(got, want):
            continue
        on_target = {tuple(r["dna"]): r["val_accuracy"] for r in target}
        pick = tuple(max(source, key=lambda r: r["val_accuracy"])["dna"])
        hint = ""
        if _close(got, on_target[pick]):
            hint = (
                " That is the accuracy of the source's best on the target; the regret is how far below the best it is."
            )
        elif _close(got, -want):
            hint = " The sign is flipped: a regret is never negative (best minus the pick)."
        elif _close(got, 0.0):
            hint = " Did you pick the best on the target instead of the best on the source?"
        raise Wrong(f"{call} returned `{show(got)}`, expected `{want:.6g}`.{hint}")


def _check_kendall_tau(answer, seed):
    rng = random.Random(seed)
    cases = [
        ([1, 2, 3], [1, 2, 3]),
        ([1, 2, 3], [3, 2, 1]),
        ([1, 2, 3, 4], [1, 3, 2, 4]),
        ([1, 1, 2, 3], [1, 2, 2, 3]),
        ([0.5, 0.5, 0.9], [0.1, 0.3, 0.2]),
    ]
    digits, variations = _tables()
    cases.append(([r["val_accuracy"] for r in digits][:60], [r["val_accuracy"] for r in variations][:60]))
    for _ in range(50):
        n, grid = rng.randrange(2, 30), rng.choice([3, 5, None])
        draw = (lambda: rng.randrange(grid)) if grid else rng.random
        a, b = [draw() for _ in range(n)], [draw() for _ in range(n)]
        if len(set(a)) > 1 and len(set(b)) > 1:  # a constant list has no order: tau is undefined
            cases.append((a, b))
    for (a, b), got in zip(cases, answer.each([(list(a), list(b)) for a, b in cases])):
        want = float(kendalltau(a, b).statistic)  # tau-b
        call = f"`kendall_tau({show(a, 50)}, {show(b, 50)})`"
        expect(_is_number(got), f"{call} returned `{show(got)}`; return a number in [-1, 1].")
        if _close(got, want, 1e-9):
            continue
        pairs = [(i, j) for i in range(len(a)) for j in range(i + 1, len(a))]
        sign = lambda x: (x > 0) - (x < 0)
        s = sum(sign(a[i] - a[j]) * sign(b[i] - b[j]) for i, j in pairs)
        hint = ""
        if _close(got, s / len(pairs)):
            hint = " That is tau-a: with ties, divide by sqrt((n0 - n1)(n0 - n2)) instead of the number of pairs."
        elif _close(got, -want):
            hint = " The sign is flipped: pairs ordered the same way in both lists count +1."
        raise Wrong(f"{call} returned `{show(got)}`, expected `{want:.6g}`.{hint}")


def _check_best_k(answer, seed):
    rng = random.Random(seed)
    cases = [([], 3), ([[[0, 1], 0.5]], 1), ([[[0, 1], 0.5], [[1, 1], 0.9], [[1, 0], 0.5]], 3)]
    for _ in range(50):
        n, positions, grid = rng.randrange(1, 40), rng.randrange(1, 5), rng.choice([4, 20, None])
        dnas = list({tuple(rng.randrange(5) for _ in range(positions)) for _ in range(n)})
        rng.shuffle(dnas)
        score = (lambda: rng.randrange(grid) / grid) if grid else rng.random
        cases.append(([[list(dna), score()] for dna in dnas], rng.randrange(1, len(dnas) + 3)))
    calls = [([[list(d), s] for d, s in scores], k) for scores, k in cases]
    for (scores, k), got in zip(cases, answer.each(calls)):
        want = REFERENCE.best_k(scores, k)
        call = f"`best_k(scores, k={k})` on {len(scores)} evaluations"
        expect(is_sequence(got), f"{call} returned `{show(got)}`; return a list of DNAs.")
        got = [as_list(dna) for dna in got]
        if got == want:
            continue
        hint = ""
        if len(got) != len(want):
            hint = f" Return k DNAs, or every DNA when there are fewer than k ({len(want)} here)."
        elif got and all(is_sequence(g, 2) and is_sequence(g[0]) for g in got):
            hint = " Return the DNAs alone, without their scores."
        elif got == [list(d) for d, _ in sorted(scores, key=lambda p: p[1])[:k]]:
            hint = " Those are the k *lowest* scores."
        elif sorted(map(tuple, got)) == sorted(map(tuple, want)):
            hint = " Same DNAs, another order: best first, and on equal scores the one evaluated first."
        raise Wrong(f"{call} returned `{show(got)}`, expected `{show(want)}`.{hint}")


QUESTIONS = [
    Question(
        assignment=TRANSFER,
        number=1,
        name="top_k_overlap",
        title="How much of the top carries over",
        points=2,
        test=_check_top_k_overlap,
        hint_text="Make a set of the k best DNAs of each table (as tuples, so they can go in a set), then count "
        "what the two sets share. Which record comes first when two scores are equal?",
    ),
    Question(
        assignment=TRANSFER,
        number=2,
        name="transfer_regret",
        title="The regret of the source's best on the target",
        points=2,
        test=_check_transfer_regret,
        hint_text="Find the source's best record, look its DNA up in the target (a dict keyed by `tuple(dna)`), and "
        "compare with the target's best accuracy.",
    ),
    Question(
        assignment=TRANSFER,
        number=3,
        name="kendall_tau",
        title="Kendall's τ, by counting pairs",
        points=3,
        test=_check_kendall_tau,
        hint_text="For each pair i < j, the product of the signs of `a[i] - a[j]` and `b[i] - b[j]` is +1, -1 or 0. "
        "Sum them; n1 and n2 count the pairs tied in `a` and in `b`.",
    ),
    Question(
        assignment=TRANSFER,
        number=4,
        name="best_k",
        title="The winners to carry over",
        points=2,
        test=_check_best_k,
        hint_text="Python's sort is stable, with `reverse=True` too: equal scores keep their order.",
    ),
]
