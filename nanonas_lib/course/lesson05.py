"""Exercises for lesson 05 · Pareto trade-offs: dominance, the 2-D front, hypervolume, a latency budget."""

import math
import random

from nanonas import pareto
from nanonas.bench import NanoBench

from .question import Question, Wrong, as_list, expect, is_sequence, show
from .question import reference as _reference

ASSIGNMENT = "05_pareto_tradeoffs"
REFERENCE = _reference(ASSIGNMENT)  # the solutions, read from solutions/05_pareto_tradeoffs.ipynb  (every
# objective is maximised, as in nanonas.pareto)


# -- checks


def _random_points(rng, n, dims=2, grid=4):
    return [tuple(rng.randrange(grid) for _ in range(dims)) for _ in range(n)]  # a small grid: many ties


def _check_dominates(answer, seed):
    rng = random.Random(seed)
    fixed = [((1, 2), (1, 2)), ((2, 2), (1, 2)), ((2, 1), (1, 2)), ((1, 1), (2, 2)), ((0.9, -1.0), (0.9, -1.5))]
    pairs = fixed + [tuple(_random_points(rng, 2, dims=rng.choice([2, 3]))) for _ in range(400)]
    for (a, b), got in zip(pairs, answer.each(pairs)):
        want = pareto.dominates(a, b, tie=0)  # exactly: no tolerance for ties
        expect(got in (True, False), f"`dominates({a}, {b})` returned `{show(got)}`; return `True` or `False`.")
        if got and not want:
            why = (
                "a point never dominates an equal one: it must be strictly better somewhere"
                if a == b
                else "it is worse in at least one objective"
            )
            raise Wrong(f"`dominates({a}, {b})` returned `True`, but {why}.")
        if want and not got:
            raise Wrong(
                f"`dominates({a}, {b})` returned `False`, but `{a}` is at least as good everywhere and strictly "
                "better somewhere (all objectives are maximised)."
            )


def _check_pareto_front_2d(answer, seed):
    rng = random.Random(seed)
    cases = [[], [(1, 1)], [(1, 1), (1, 1)], [(0, 1), (1, 0)], [(0, 0), (1, 1)], [(2, 0), (1, 1), (0, 2), (1, 1)]]
    cases += [_random_points(rng, rng.randrange(2, 30)) for _ in range(60)]
    cases += [[(rng.random(), -rng.random()) for _ in range(50)]]
    try:
        cases.append([(r["val_accuracy"], -r["latency_b1_ms"]) for r in NanoBench.load()])
    except ValueError:
        pass
    calls = [(list(points),) for points in cases]
    for points, (given,), got in zip(cases, calls, answer.each(calls)):
        expect(given == points, "`pareto_front_2d` changed the list of points it was given.")
        expect(is_sequence(got), f"`pareto_front_2d` returned `{show(got)}`; return a list of indices.")
        got, want = as_list(got), pareto.pareto_front(points, tie=0) if points else []  # the library's exact front
        if got == want:
            continue
        shown = show(points, 100)
        if sorted(got) == want:
            raise Wrong(
                f"`pareto_front_2d({shown})` returned the right indices in another order; keep the points' "
                "original order."
            )
        extra, missing = sorted(set(got) - set(want)), sorted(set(want) - set(got))
        if extra:
            i = extra[0]
            if not isinstance(i, int) or not 0 <= i < len(points):
                raise Wrong(
                    f"`pareto_front_2d({shown})` returned `{show(got)}`; return indices into the list of points."
                )
            j = next(j for j, q in enumerate(points) if pareto.dominates(q, points[i], tie=0))
            raise Wrong(
                f"`pareto_front_2d({shown})` includes index {i} `{points[i]}`, but point {j} `{points[j]}` dominates "
                "it."
            )
        i = missing[0]
        same = " (equal points do not dominate each other: keep both)" if points.count(points[i]) > 1 else ""
        raise Wrong(f"`pareto_front_2d({shown})` misses index {i} `{points[i]}`, which nothing dominates{same}.")


def _check_hypervolume(answer, seed):
    rng = random.Random(seed)
    cases = [
        ([], (0, 0), 0.0),
        ([(3, 2)], (0, 0), 6.0),
        ([(3, 2)], (1, 1), 2.0),
        ([(2, 1), (1, 2)], (0, 0), 3.0),
        ([(2, 2), (1, 1)], (0, 0), 4.0),
        ([(2, 2), (2, 2)], (0, 0), 4.0),
        ([(-1, 5), (3, -2)], (0, 0), 0.0),
        ([(1, 3), (3, 1), (2, 2)], (0, 0), 6.0),
    ]
    for _ in range(80):
        points = [(rng.uniform(-1, 4), rng.uniform(-1, 4)) for _ in range(rng.randrange(1, 25))]
        cases.append((points, (0.0, 0.0), REFERENCE.hypervolume(points, (0.0, 0.0))))
    for (points, reference, want), got in zip(cases, answer.each([(list(p), r) for p, r, _ in cases])):
        expect(
            isinstance(got, (int, float)) and not isinstance(got, bool),
            f"`hypervolume` returned `{show(got)}`; return a number (an area).",
        )
        if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9):
            continue
        shown = show(points, 100)
        hint = ""
        if got > want:
            hint = " It is too large: are overlapping rectangles counted twice? A dominated point adds nothing."
        if any(p[0] <= reference[0] or p[1] <= reference[1] for p in points):
            hint += " Points that are not better than the reference in both objectives add nothing."
        raise Wrong(f"`hypervolume({shown}, reference={reference})` returned `{got:.6g}`, expected `{want:.6g}`.{hint}")


def _check_best_under(answer, seed):
    bench = NanoBench.load()
    latencies = sorted(r["latency_b1_ms"] for r in bench)
    budgets = [latencies[0] - 1e-6, latencies[0], float("inf")]
    budgets += [latencies[i] for i in range(0, len(latencies), 37)]  # exactly at a latency: it fits
    budgets += [(a + b) / 2 for a, b in zip(latencies[5::53], latencies[6::53])]
    for budget, got in zip(budgets, answer.each([(bench, budget) for budget in budgets])):
        want = REFERENCE.best_under(bench, budget)
        if want is None:
            expect(
                got is None,
                f"`best_under(bench, {budget:.4f})` returned `{show(got)}`, but no architecture is that fast: return "
                "`None`.",
            )
            continue
        at_budget = bench.query(want)["latency_b1_ms"] == budget
        edge = " (its latency equals the budget: a latency equal to the budget fits)" if at_budget else ""
        expect(
            got is not None, f"`best_under(bench, {budget:.4f})` returned `None`, but `{want}` fits that budget{edge}."
        )
        try:
            record = bench.query(as_list(got))
        except (ValueError, TypeError):
            raise Wrong(
                f"`best_under(bench, {budget:.4f})` returned `{show(got)}`; return a DNA (a list of op indices)."
            ) from None
        expect(
            record["latency_b1_ms"] <= budget,
            f"`best_under(bench, {budget:.4f})` returned `{show(got)}`, whose latency "
            f"{record['latency_b1_ms']:.4f} ms is over the budget (a latency equal to the budget fits).",
        )
        best = bench.query(want)["val_accuracy"]
        expect(
            record["val_accuracy"] >= best - pareto.TIE,  # the same images right (a rounding apart) is a tie
            f"`best_under(bench, {budget:.4f})` returned `{show(got)}` "
            f"({record['val_accuracy']:.2%}), but `{want}` fits too{edge} and is more accurate ({best:.2%}).",
        )


QUESTIONS = [
    Question(
        assignment=ASSIGNMENT,
        number=1,
        name="dominates",
        title="Dominance",
        points=1,
        test=_check_dominates,
        hint_text=(
            "Two conditions must both hold: one about *every* objective, one about *some* objective. Python has a "
            "built-in function for each, and `zip(a, b)` pairs the objectives."
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=2,
        name="pareto_front_2d",
        title="The Pareto front",
        points=2,
        test=_check_pareto_front_2d,
        hint_text=(
            "Your `dominates` from task 1 does the comparing. What must be true of all the other points for index "
            "`i` to stay? Return the indices in their original order."
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=3,
        name="hypervolume",
        title="Hypervolume in 2-D",
        points=3,
        test=_check_hypervolume,
        hint_text=(
            "Draw three points and the reference on paper and shade the area first. Sorted by the first objective, "
            "best first, how much *new* area does each point add to what the points before it cover? Which points "
            "add none?"
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=4,
        name="best_under",
        title="The best architecture under a latency budget",
        points=2,
        test=_check_best_under,
        hint_text=(
            "Each record is a dict: `print(next(iter(bench)))` shows its fields. Which records fit the budget, and "
            "which of those is best? Mind the case where none fits."
        ),
    ),
]
