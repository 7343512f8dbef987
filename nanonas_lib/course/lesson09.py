"""Milestones of project 09 (NAS-Bench-201): a cell's NAS-Bench-201 string, a two-fidelity search (many cells at 12
epochs, the best few at 200) with its cost, the best cell under a device's latency budget, and a proxy's rank
correlation within the top.

Every answer takes and returns plain data. The checks build their own small cases (random DNAs, random score and
latency lists) and need none of NAS-Bench-201's tables: the grader's sandbox cannot read them, and an answer graded
on a table it could read could look its answers up. The string's oracle is `nanonas.nb201.to_string`.
"""

import math
import random

import numpy as np
from scipy.stats import pearsonr, spearmanr

from nanonas import nb201
from nanonas.cells import EDGES

from .question import Question, Raised, Wrong, expect, is_sequence, show
from .question import close as _close
from .question import is_number as _is_number

NB201 = "09_nas_bench_201"
CHEAP = 12 / 200  # the cost of a 12-epoch evaluation, in full (200-epoch) trainings


def _string(dna, names=nb201.NAMES, shift=0, by_target=True):
    """An NB201 string, or one of its typical misspellings (other op names, 1-based sources, grouped by source)."""
    nodes = range(1, 4) if by_target else range(0, 3)
    side = 1 if by_target else 0
    groups = [[f"{names[op]}~{e[0] + shift}" for op, e in zip(dna, EDGES) if e[side] == k] for k in nodes]
    return "+".join("|" + "|".join(g) + "|" for g in groups)


def _parts(string):
    """The `op~source` parts of an NB201 string, in order, whatever bars and pluses surround them."""
    return [part for part in string.replace("+", "|").split("|") if part]


def _check_nb201_string(answer, seed):
    rng = random.Random(seed)
    dnas = [[3] * 6, [0] * 6, [0, 1, 2, 3, 4, 3], [1, 3, 2, 4, 0, 3], [4, 4, 4, 1, 1, 1]]
    dnas += [[rng.randrange(len(nb201.NAMES)) for _ in EDGES] for _ in range(60)]
    for dna, got in zip(dnas, answer.each([(list(d),) for d in dnas])):
        wrong_order = [dna[nb201.NASLIB_EDGES.index(e)] for e in EDGES]  # position i read as NASLib's edge i
        call = f"`nb201_string({dna})`"
        expect(type(got) is str, f"{call} returned `{show(got)}`; return the string, like {_string([3] * 6)!r}.")
        want = nb201.to_string(dna)
        if got == want:
            continue
        hint = ""
        if got == _string(dna, names=list(nb201.OPS)):
            hint = f" Those are nanonas's op names; NAS-Bench-201 spells them {', '.join(nb201.NAMES)} (op 0 to 4)."
        elif got == _string(dna, shift=1):
            hint = " The sources are node numbers from 0 (the cell's input), not positions from 1."
        elif got == _string(dna, by_target=False):
            hint = " Each `|...|` group lists the inputs *of* node 1, 2, 3 (`op~source`), not the outputs of 0, 1, 2."
        elif got == _string(wrong_order):
            hint = f" Position i of a DNA is edge `cells.EDGES[i]`: {EDGES}."
        elif _parts(got) == _parts(want) or "~" not in got:
            hint = " Write each node's inputs as `|op~source|op~source|` and join the three nodes with `+`."
        elif sorted(_parts(got)) == sorted(_parts(want)):
            hint = f" The right parts, in another order: node 1, then 2, then 3, each from source 0 up ({EDGES})."
        raise Wrong(f"{call} returned {got!r}, expected {want!r}.{hint}")


def _halving(low, high, full):
    promoted = sorted(range(len(low)), key=lambda i: -low[i])[:full]  # stable: on a tie, the cell listed first
    return min(promoted, key=lambda i: (-high[i], i)), len(low) * CHEAP + len(promoted)


def _scores(rng, n):
    grid = rng.choice([None, 4, 10])  # coarse grids make ties
    return [round(rng.randrange(grid) / grid, 3) if grid else round(rng.uniform(0.1, 0.95), 4) for _ in range(n)]


def _check_successive_halving(answer, seed):
    rng = random.Random(seed)
    cases = [([0.5, 0.7, 0.6], [0.9, 0.8, 0.95], 2), ([0.3], [0.4], 1), ([0.2, 0.2, 0.1], [0.5, 0.6, 0.9], 1)]
    cases += [([0.6, 0.5, 0.4, 0.3], [0.1, 0.2, 0.3, 0.9], 2), ([0.5, 0.5], [0.7, 0.7], 5)]
    for _ in range(60):
        n = rng.randrange(1, 25)
        cases.append((_scores(rng, n), _scores(rng, n), rng.randrange(1, n + 3)))
    for (low, high, full), got in zip(cases, answer.each([(list(lo), list(hi), k) for lo, hi, k in cases])):
        call = f"`successive_halving({show(low, 50)}, {show(high, 50)}, full={full})`"
        ok = is_sequence(got, 2) and type(got[0]) is int and _is_number(got[1])
        expect(ok, f"{call} returned `{show(got)}`; return a pair (index of the returned cell, cost).")
        index, cost = got
        want_index, want_cost = _halving(low, high, full)
        n, trained = len(low), min(full, len(low))
        if index != want_index:
            hint = ""
            promoted = set(sorted(range(n), key=lambda i: -low[i])[:full])
            if not 0 <= index < n:
                hint = f" Return an index into the lists, 0 to {n - 1}."
            elif index not in promoted and index in sorted(range(n), key=lambda i: low[i])[:full]:
                hint = " That cell was not promoted: promote the cells with the *highest* 12-epoch scores."
            elif index not in promoted:
                hint = " That cell was not promoted: only the best `full` at 12 epochs are trained for 200."
            elif low[index] == max(low[i] for i in promoted) and high[index] < high[want_index]:
                hint = " That is the best at 12 epochs; among the promoted, return the best at 200 epochs."
            elif high[index] == high[want_index]:
                hint = " A tie: return the cell listed first (lowest index), in both rounds."
            raise Wrong(f"{call} returned the cell at index {index}, expected {want_index}.{hint}")
        if not _close(cost, want_cost):
            hint = ""
            if _close(cost, n + trained):
                hint = f" A 12-epoch evaluation costs 12/200 = {CHEAP} of a full one."
            elif _close(cost, n * CHEAP + n):
                hint = " That counts every cell trained in full: only the promoted ones are."
            elif _close(cost, n * CHEAP):
                hint = " Add the full trainings of the promoted cells: one each."
            elif _close(cost, n * CHEAP + trained * (1 - CHEAP)):
                hint = " NAS-Bench-201's 12-epoch results are a separate, shorter run: a full training starts anew."
            elif _close(cost, n * CHEAP + full):
                hint = f" Only {n} cells exist here: at most {n} can be trained in full."
            raise Wrong(f"{call} says it cost {show(cost)} full trainings, expected {want_cost:.6g}.{hint}")


def _best_under_budget(accuracy, latency, budget):
    fits = [i for i, ms in enumerate(latency) if ms is not None and ms <= budget]
    return min(fits, key=lambda i: (-accuracy[i], i)) if fits else None


def _unmeasured_told(results):
    """The answer's results; a TypeError from comparing None (an unmeasured latency) says so."""
    try:
        yield from results
    except Raised as e:
        if isinstance(e.original, TypeError) and "NoneType" in str(e):  # e.g. None <= 2.0
            raise Wrong(f"{e}. A latency is None where the device did not measure the cell: leave those out.") from e
        raise


def _check_best_under_budget(answer, seed):
    rng = random.Random(seed)
    cases = [
        ([0.9, 0.8, 0.7, 0.6], [3.0, 2.0, 1.5, 1.0], 2.0),
        ([0.9, 0.8], [None, 1.0], 5.0),
        ([0.9, 0.8], [4.0, 5.0], 3.0),
        ([0.6, 0.9, 0.9], [1.0, 2.0, 1.5], 2.0),
        ([0.5], [None], 1.0),
    ]
    draw = lambda: rng.choice([1.0, 2.0, 3.0, round(rng.uniform(0.5, 9), 2)])  # noqa: E731
    for _ in range(60):
        n = rng.randrange(1, 25)
        latency = [None if rng.random() < 0.15 else draw() for _ in range(n)]  # None: the device did not measure it
        cases.append((_scores(rng, n), latency, rng.choice([1.0, 2.0, 3.0, round(rng.uniform(0.3, 9), 2)])))
    results = _unmeasured_told(answer.each([(list(a), list(ms), b) for a, ms, b in cases]))
    for (accuracy, latency, budget), got in zip(cases, results):
        call = f"`best_under_budget({show(accuracy, 50)}, {show(latency, 50)}, budget={budget})`"
        want = _best_under_budget(accuracy, latency, budget)
        if got == want and (got is None or type(got) is int):
            continue
        if want is None:
            raise Wrong(f"{call} returned `{show(got)}`: no measured cell fits the budget; return None.")
        expect(type(got) is int or got is None, f"{call} returned `{show(got)}`; return the cell's index (an int).")
        hint = ""
        if got is None:
            hint = " A cell fits: return the index of the most accurate one that does."
        elif not 0 <= got < len(latency):
            hint = f" Return an index into the lists, 0 to {len(latency) - 1}."
        elif latency[got] is None:
            hint = " That cell's latency was not measured (None): nothing shows that it fits; leave it out."
        elif latency[got] > budget:
            hint = f" That cell takes {latency[got]} ms, over the budget."
        elif accuracy[got] == accuracy[want]:
            hint = " A tie in accuracy: return the cell listed first (lowest index)."
        elif latency[got] == min(ms for ms in latency if ms is not None) and accuracy[got] < accuracy[want]:
            hint = " That is the fastest cell; return the most accurate one that fits."
        elif latency[want] == budget:
            hint = " A cell exactly at the budget fits it (latency ≤ budget)."
        raise Wrong(f"{call} returned {got}, expected {want}.{hint}")


def _top(accuracy, top):
    return sorted(range(len(accuracy)), key=lambda i: -accuracy[i])[:top]  # stable: on a tie, the cell listed first


def _rho(scores, accuracy, cells):
    return float(spearmanr([scores[i] for i in cells], [accuracy[i] for i in cells]).statistic)


def _spearman_within_top(scores, accuracy, top):
    return _rho(scores, accuracy, _top(accuracy, top))


def _check_spearman_within_top(answer, seed):
    rng = random.Random(seed)
    cases = [([3.0, 1.0, 2.0, 0.5], [0.9, 0.8, 0.7, 0.1], 3), ([1.0, 2.0, 3.0, 4.0, 0.0], [0.5, 0.6, 0.7, 0.8, 0.9], 4)]
    cases.append(([1.0, 1.0, 2.0, 5.0, 3.0], [0.6, 0.7, 0.8, 0.9, 0.5], 4))  # tied scores: average ranks
    while len(cases) < 60:
        n = rng.randrange(4, 30)
        accuracy = [round(rng.uniform(0.1, 0.95), 3) for _ in range(n)]
        noise = rng.choice([0.05, 0.2, 1.0])
        scores = [round(a + rng.gauss(0, noise), rng.choice([1, 2, 4])) for a in accuracy]  # rounding makes ties
        top = rng.randrange(3, n + 1)
        if not math.isnan(_spearman_within_top(scores, accuracy, top)):
            cases.append((scores, accuracy, top))
    for (scores, accuracy, top), got in zip(cases, answer.each([(list(s), list(a), k) for s, a, k in cases])):
        call = f"`spearman_within_top({show(scores, 50)}, {show(accuracy, 50)}, top={top})`"
        expect(_is_number(got), f"{call} returned `{show(got)}`; return ρ as a number (a float).")
        want = _spearman_within_top(scores, accuracy, top)
        if _close(got, want, 1e-6):
            continue
        keep, by_score = _top(accuracy, top), _top(scores, top)
        worst = sorted(range(len(accuracy)), key=lambda i: accuracy[i])[:top]
        sub_s, sub_a = [scores[i] for i in keep], [accuracy[i] for i in keep]
        of_score, of_worst = (_close(got, _rho(scores, accuracy, cells), 1e-6) for cells in (by_score, worst))
        hint = ""
        if _close(got, float(spearmanr(scores, accuracy).statistic), 1e-6):
            hint = " That is ρ over every cell; keep only the `top` most accurate first."
        elif of_score and of_worst:
            hint = (
                " Keep the `top` most accurate cells (by `accuracy`, best first), "
                "not the top by score nor the least accurate."
            )
        elif of_score:
            hint = " Those are the top cells by score; the top is the most accurate (what a search is after)."
        elif of_worst:
            hint = " Those are the `top` *least* accurate cells; sort by accuracy, best first."
        elif len(set(sub_s)) > 1 and _close(got, float(pearsonr(sub_s, sub_a).statistic), 1e-6):
            hint = " That is Pearson's r of the values; Spearman's ρ is Pearson's r of their *ranks*."
        elif _close(got, float(np.corrcoef(np.argsort(np.argsort(sub_s)), np.argsort(np.argsort(sub_a)))[0, 1])):
            hint = " Tied scores share the average of their ranks (`scipy.stats.rankdata` does that)."
        raise Wrong(f"{call} returned {show(got)}, expected {want:.6g}.{hint}")


QUESTIONS = [
    Question(
        assignment=NB201,
        number=1,
        name="nb201_string",
        title="A cell's NAS-Bench-201 string",
        points=2,
        test=_check_nb201_string,
        hint_text="Walk the nodes 1, 2, 3; for node j, collect `f'{NAMES[op]}~{i}'` for every position whose edge "
        "`EDGES[position]` is (i, j), join them with `|` inside `|...|`, and join the three groups with `+`.",
    ),
    Question(
        assignment=NB201,
        number=2,
        name="successive_halving",
        title="Many cells at 12 epochs, the best few at 200: what it returns and what it costs",
        points=3,
        test=_check_successive_halving,
        hint_text="Sort the indices by their 12-epoch score, best first (`sorted` is stable: ties keep their order), "
        "keep the first `full`; return the promoted index with the best 200-epoch score (on a tie, the lowest index, "
        "which need not come first among the promoted), and the cost: 12/200 per cell looked at, plus 1 per cell "
        "trained in full.",
    ),
    Question(
        assignment=NB201,
        number=3,
        name="best_under_budget",
        title="The best cell under a device's latency budget",
        points=2,
        test=_check_best_under_budget,
        hint_text="Keep the indices whose latency is not None and at most the budget; of those, the one with the "
        "highest accuracy (`max` returns the first of equal ones); None when nothing is left.",
    ),
    Question(
        assignment=NB201,
        number=4,
        name="spearman_within_top",
        title="A proxy's rank correlation within the top",
        points=2,
        test=_check_spearman_within_top,
        hint_text="Sort the indices by accuracy, best first (stable), keep the first `top`; then Spearman's ρ of "
        "the kept scores and accuracies: `scipy.stats.spearmanr(x, y).statistic`, or Pearson's r of their ranks "
        "(ties averaged).",
    ),
]
