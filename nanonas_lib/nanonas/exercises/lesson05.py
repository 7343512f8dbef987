"""Exercises for lesson 05 · Pareto trade-offs: dominance, the 2-D front, hypervolume, a latency budget."""

import math
import random

from .. import pareto
from ..bench import NanoBench
from .question import Question, Wrong, expect, show
from .question import bind as _bind

# -- references (every objective is maximised, as in nanonas.pareto)


def dominates(a, b):
    """True when `a` is at least as good as `b` in every objective and strictly better in one."""
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def pareto_front_2d(points):
    """Indices of the points no other point dominates, in their original order."""
    return [i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)]


def hypervolume(points, reference):
    """The area the points dominate, above and to the right of `reference` (both objectives maximised)."""
    better = [p for p in points if p[0] > reference[0] and p[1] > reference[1]]  # the others add nothing
    area, top = 0.0, reference[1]
    for x, y in sorted(better, key=lambda p: (-p[0], -p[1])):  # sweep from the largest first objective down
        if y > top:  # a new strip, from the highest point so far up to this one
            area += (x - reference[0]) * (y - top)
            top = y
    return area


def best_under(bench, budget_ms):
    """The DNA of the most accurate architecture (mean validation accuracy) with latency_b1_ms <= budget_ms."""
    fits = [r for r in bench if r["latency_b1_ms"] <= budget_ms]
    return max(fits, key=lambda r: r["val_accuracy"])["dna"] if fits else None


# -- checks


def _random_points(rng, n, dims=2, grid=4):
    return [tuple(rng.randrange(grid) for _ in range(dims)) for _ in range(n)]  # a small grid: many ties


def _check_dominates(answer):
    rng = random.Random(0)
    fixed = [((1, 2), (1, 2)), ((2, 2), (1, 2)), ((2, 1), (1, 2)), ((1, 1), (2, 2)), ((0.9, -1.0), (0.9, -1.5))]
    pairs = fixed + [tuple(_random_points(rng, 2, dims=rng.choice([2, 3]))) for _ in range(400)]
    for a, b in pairs:
        got, want = answer(a, b), pareto.dominates(a, b)
        expect(got in (True, False), f"dominates({a}, {b}) returned {show(got)}; return True or False.")
        if got and not want:
            why = (
                "a point never dominates an equal one: it must be strictly better somewhere"
                if a == b
                else "it is worse in at least one objective"
            )
            raise Wrong(f"dominates({a}, {b}) returned True, but {why}.")
        if want and not got:
            raise Wrong(
                f"dominates({a}, {b}) returned False, but {a} is at least as good everywhere and strictly "
                "better somewhere (all objectives are maximised)."
            )


def _check_pareto_front_2d(answer):
    rng = random.Random(0)
    cases = [[], [(1, 1)], [(1, 1), (1, 1)], [(0, 1), (1, 0)], [(0, 0), (1, 1)], [(2, 0), (1, 1), (0, 2), (1, 1)]]
    cases += [_random_points(rng, rng.randrange(2, 30)) for _ in range(60)]
    cases += [[(rng.random(), -rng.random()) for _ in range(50)]]
    try:
        cases.append([(r["val_accuracy"], -r["latency_b1_ms"]) for r in NanoBench.load()])
    except ValueError:
        pass
    for points in cases:
        before = list(points)
        got = answer(points)
        expect(points == before, "pareto_front_2d changed the list of points it was given.")
        expect(isinstance(got, list), f"pareto_front_2d returned {show(got)}; return a list of indices.")
        want = pareto.pareto_front(points) if points else []  # the library's front
        if got == want:
            continue
        shown = show(points, 100)
        if sorted(got) == want:
            raise Wrong(
                f"pareto_front_2d({shown}) returned the right indices in another order; keep the points' "
                "original order."
            )
        extra, missing = sorted(set(got) - set(want)), sorted(set(want) - set(got))
        if extra:
            i = extra[0]
            if not isinstance(i, int) or not 0 <= i < len(points):
                raise Wrong(f"pareto_front_2d({shown}) returned {show(got)}; return indices into the list of points.")
            j = next(j for j, q in enumerate(points) if pareto.dominates(q, points[i]))
            raise Wrong(
                f"pareto_front_2d({shown}) includes index {i} {points[i]}, but point {j} {points[j]} dominates it."
            )
        i = missing[0]
        same = " (equal points do not dominate each other: keep both)" if points.count(points[i]) > 1 else ""
        raise Wrong(f"pareto_front_2d({shown}) misses index {i} {points[i]}, which nothing dominates{same}.")


def _check_hypervolume(answer):
    rng = random.Random(0)
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
        cases.append((points, (0.0, 0.0), pareto.hypervolume_2d(points, (0.0, 0.0))))
    for points, reference, want in cases:
        got = answer(list(points), reference)
        expect(
            isinstance(got, (int, float)) and not isinstance(got, bool),
            f"hypervolume returned {show(got)}; return a number (an area).",
        )
        if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9):
            continue
        shown = show(points, 100)
        hint = ""
        if got > want:
            hint = " It is too large: are overlapping rectangles counted twice? A dominated point adds nothing."
        if any(p[0] <= reference[0] or p[1] <= reference[1] for p in points):
            hint += " Points that are not better than the reference in both objectives add nothing."
        raise Wrong(f"hypervolume({shown}, reference={reference}) returned {got:.6g}, expected {want:.6g}.{hint}")


def _check_best_under(answer):
    bench = NanoBench.load()
    latencies = sorted(r["latency_b1_ms"] for r in bench)
    budgets = [latencies[0] - 1e-6, latencies[0], float("inf")]
    budgets += [latencies[i] for i in range(0, len(latencies), 37)]  # exactly at a latency: it fits
    budgets += [(a + b) / 2 for a, b in zip(latencies[5::53], latencies[6::53])]
    for budget in budgets:
        got = answer(bench, budget)
        want = best_under(bench, budget)
        if want is None:
            expect(
                got is None,
                f"best_under(bench, {budget:.4f}) returned {show(got)}, but no architecture is that fast: return None.",
            )
            continue
        edge = " (its latency equals the budget: a latency equal to the budget fits)" if bench.query(want)[
            "latency_b1_ms"] == budget else ""  # fmt: skip
        expect(got is not None, f"best_under(bench, {budget:.4f}) returned None, but {want} fits that budget{edge}.")
        try:
            record = bench.query(got)
        except (ValueError, TypeError):
            raise Wrong(
                f"best_under(bench, {budget:.4f}) returned {show(got)}; return a DNA (a list of op indices)."
            ) from None
        expect(
            record["latency_b1_ms"] <= budget,
            f"best_under(bench, {budget:.4f}) returned {got}, whose latency "
            f"{record['latency_b1_ms']:.4f} ms is over the budget (a latency equal to the budget fits).",
        )
        best = bench.query(want)["val_accuracy"]
        expect(
            record["val_accuracy"] >= best,
            f"best_under(bench, {budget:.4f}) returned {got} "
            f"({record['val_accuracy']:.2%}), but {want} fits too{edge} and is more accurate ({best:.2%}).",
        )


QUESTIONS = [
    Question(
        1,
        "dominates",
        "Dominance",
        1,
        _check_dominates,
        "Two conditions, both needed: all(x >= y ...) and any(x > y ...), over zip(a, b).",
        dominates,
    ),
    Question(
        2,
        "pareto_front_2d",
        "The Pareto front",
        2,
        _check_pareto_front_2d,
        "Keep index i unless some other point dominates points[i]; your `dominates` does the comparing.",
        pareto_front_2d,
    ),
    Question(
        3,
        "hypervolume",
        "Hypervolume in 2-D",
        3,
        _check_hypervolume,
        "Drop the points not better than the reference in both objectives. Sort the rest by the first objective, "
        "best first, and sweep: each point that is higher than every point before it adds a rectangle "
        "(x - ref_x) × (y - highest_so_far).",
        hypervolume,
    ),
    Question(
        4,
        "best_under",
        "The best architecture under a latency budget",
        2,
        _check_best_under,
        "Iterating over bench gives every record (a dict with 'dna', 'val_accuracy', 'latency_b1_ms', ...); "
        "keep those within the budget and take the max by 'val_accuracy'.",
        best_under,
    ),
]


def bind(namespace: dict) -> list[Question]:
    """This lesson's questions, checking the answers defined in `namespace` (pass `globals()`)."""
    return _bind(QUESTIONS, namespace)
