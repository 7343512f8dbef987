"""Milestones of project 07c (hardware-aware search): predict a latency from a lookup table, and judge the prediction.

Every answer takes plain data: a table is {"stem": ms, "ops": [ms per op index], "head": ms}; latencies are lists of
numbers. The checks build random tables and latencies, and compare with scipy and with the reference solutions.
"""

import random

from .question import Question, Wrong, as_list, expect, is_sequence, show
from .question import close as _close
from .question import is_number as _is_number
from .question import reference as _reference

HARDWARE = "07c_hardware_aware"
REFERENCE = _reference(HARDWARE)  # from solutions/07c_hardware_aware.ipynb


def _random_table(rng, n_ops):
    return {
        "stem": rng.uniform(0.01, 2),
        "ops": [rng.choice([0.0, rng.uniform(0.001, 5)]) for _ in range(n_ops)],
        "head": rng.uniform(0.01, 1),
    }


def _latencies(rng, n, ties=False):
    draw = (lambda: rng.choice([0.5, 1.0, 2.0, 4.0])) if ties else (lambda: rng.lognormvariate(0, 1))
    return [draw() for _ in range(n)]


def _check_predict_latency(answer, seed):
    rng = random.Random(seed)
    cases = [({"stem": 1.0, "ops": [0.25, 2.0, 0.0], "head": 0.5}, dna) for dna in ([0], [1, 1], [2, 2, 2], [0, 1, 2])]
    for _ in range(60):
        n_ops = rng.randrange(1, 8)
        cases.append((_random_table(rng, n_ops), [rng.randrange(n_ops) for _ in range(rng.randrange(1, 7))]))
    for (table, dna), got in zip(cases, answer.each([(dict(t, ops=list(t["ops"])), list(d)) for t, d in cases])):
        want = table["stem"] + sum(table["ops"][i] for i in dna) + table["head"]
        call = f"predict_latency({show(table, 90)}, {dna})"
        expect(_is_number(got), f"{call} returned {show(got)}; return a number of milliseconds.")
        if _close(got, want):
            continue
        ops = sum(table["ops"][i] for i in dna)
        hint = ""
        if _close(got, ops) or _close(got, ops + table["stem"]) or _close(got, ops + table["head"]):
            hint = " Every network also runs the stem before its ops and the head after them: add both."
        elif _close(got, table["stem"] + sum(set(table["ops"][i] for i in dna)) + table["head"]):
            hint = " An op used at two positions runs twice: count it at every position."
        raise Wrong(f"{call} returned {got:.6g}, expected {want:.6g} ms (stem + each position's op + head).{hint}")


def _check_mape(answer, seed):
    rng = random.Random(seed)
    cases = [([1.0], [1.0]), ([2.0, 2.0], [1.0, 4.0]), ([1.0, 3.0], [2.0, 2.0]), ([0.0], [5.0])]
    for _ in range(60):
        measured = _latencies(rng, rng.randrange(1, 30))
        cases.append(([m * rng.uniform(0.3, 2.5) for m in measured], measured))
    for (predicted, measured), got in zip(cases, answer.each([(list(p), list(m)) for p, m in cases])):
        want = REFERENCE.mape(predicted, measured)
        call = f"mape({show(predicted, 60)}, {show(measured, 60)})"
        expect(_is_number(got), f"{call} returned {show(got)}; return a percentage.")
        if _close(got, want, 1e-6):
            continue
        errors = [(p - m, m, p) for p, m in zip(predicted, measured)]
        hint = ""
        if _close(got, want / 100, 1e-6):
            hint = " That is a fraction: a percentage is 100 times it."
        elif _close(got, 100 * sum(abs(d) / p for d, _, p in errors if p) / len(errors), 1e-6):
            hint = " Divide each error by the *measured* latency, the truth, not by the prediction."
        elif _close(got, 100 * sum(d / m for d, m, _ in errors) / len(errors), 1e-6):
            hint = " Take the absolute value of each error, or over- and under-predictions cancel out."
        raise Wrong(
            f"{call} returned {got:.6g}, expected {want:.6g} (mean of |predicted - measured| / measured, in %).{hint}"
        )


def _check_spearman(answer, seed):
    from scipy.stats import pearsonr, spearmanr

    rng = random.Random(seed)
    cases = [([1, 2, 3], [10, 20, 30]), ([1, 2, 3], [3, 2, 1]), ([1, 1, 2], [1, 2, 3]), ([1, 2, 3, 4], [1, 3, 2, 100])]
    for _ in range(60):
        n = rng.randrange(3, 40)
        ties = rng.random() < 0.5
        cases.append((_latencies(rng, n, ties), _latencies(rng, n, ties and rng.random() < 0.5)))
    cases = [(a, b) for a, b in cases if len(set(a)) > 1 and len(set(b)) > 1]  # a constant has no rank correlation
    for (a, b), got in zip(cases, answer.each([(list(a), list(b)) for a, b in cases])):
        want = float(spearmanr(a, b).statistic)
        call = f"spearman({show(a, 60)}, {show(b, 60)})"
        expect(_is_number(got), f"{call} returned {show(got)}; return a number in [-1, 1].")
        if _close(got, want, 1e-6):
            continue
        hint = ""
        if _close(got, float(pearsonr(a, b).statistic), 1e-6):
            hint = " That is Pearson's correlation of the values: rank each list first, then correlate the ranks."
        elif _close(got, -want, 1e-6):
            hint = " The sign is flipped."
        elif len(set(a)) < len(a) or len(set(b)) < len(b):
            hint = " Equal values must share their average rank (1, 2, 2, 4 → 1, 2.5, 2.5, 4; scipy.stats.rankdata)."
        raise Wrong(f"{call} returned {got:.6g}, expected {want:.6g}.{hint}")


def _check_admitted_over_budget(answer, seed):
    rng = random.Random(seed)
    cases = [([1.0, 2.0, 3.0], [1.5, 2.5, 2.0], 2.0), ([1.0], [1.0], 1.0), ([2.0], [3.0], 2.0), ([], [], 1.0)]
    for _ in range(60):
        measured = _latencies(rng, rng.randrange(1, 40), ties=rng.random() < 0.3)
        predicted = [m * rng.choice([0.5, 0.8, 1.0, 1.25, 2.0]) for m in measured]
        cases.append((predicted, measured, rng.choice(measured + predicted)))
    calls = [(list(p), list(m), b) for p, m, b in cases]
    for (predicted, measured, budget), got in zip(cases, answer.each(calls)):
        want = REFERENCE.admitted_over_budget(predicted, measured, budget)
        call = f"admitted_over_budget({show(predicted, 50)}, {show(measured, 50)}, budget={budget:.4g})"
        expect(
            is_sequence(got) and all(_is_number(i) for i in got),
            f"{call} returned {show(got)}; return a list of indices.",
        )
        got = as_list(got)  # a tuple of indices is the same answer
        if got == want:
            continue
        n = len(predicted)
        hint = ""
        if got == [i for i in range(n) if measured[i] <= budget < predicted[i]]:
            hint = (
                " Those are the ones the table wrongly *rejects*: you want those it admits (prediction within budget)."
            )
        elif got == [i for i in range(n) if predicted[i] < budget < measured[i]]:
            hint = " A prediction exactly at the budget fits it (<=)."
        elif got == [i for i in range(n) if measured[i] > budget]:
            hint = " Only the architectures the table admits count: their prediction must be within the budget."
        raise Wrong(
            f"{call} returned {show(got)}, expected {want}: the indices, in order, whose predicted latency is within "
            f"the budget but whose measured latency is over it.{hint}"
        )


QUESTIONS = [
    Question(
        assignment=HARDWARE,
        number=1,
        name="predict_latency",
        title="A lookup table's prediction",
        points=1,
        test=_check_predict_latency,
        hint_text="A network runs its stem, then the op at each position of its DNA (an op index looks up "
        "`table['ops']`), then its head: what does each of those cost?",
    ),
    Question(
        assignment=HARDWARE,
        number=2,
        name="mape",
        title="Mean absolute percentage error",
        points=1,
        test=_check_mape,
        hint_text="Each architecture's error is |predicted - measured| as a share of the *measured* latency (the "
        "truth); average them, and say it in percent.",
    ),
    Question(
        assignment=HARDWARE,
        number=3,
        name="spearman",
        title="Spearman's rank correlation, ties included",
        points=2,
        test=_check_spearman,
        hint_text="scipy.stats.rankdata gives average ranks; Spearman's rho is Pearson's correlation of the two rank "
        "lists (numpy.corrcoef(ra, rb)[0, 1]).",
    ),
    Question(
        assignment=HARDWARE,
        number=4,
        name="admitted_over_budget",
        title="What the table lets through",
        points=2,
        test=_check_admitted_over_budget,
        hint_text="Two conditions on each index: the table lets it through (its prediction is within the budget), and "
        "the machine does not (its measured latency is over). Keep the indices in order.",
    ),
]
