"""Milestones for project 07a · Multi-objective NAS: coverage of the exact front, hypervolume as evaluations
accumulate, and one architecture picked for a budget with the noise of training in mind.

Every answer takes plain data (tuples of objectives, all maximised as in nanonas.pareto; records {"dna": [...],
"val_accuracy": ..., cost: ...}), so the checks build their cases from the NanoBench tables and from random ones
with many ties, and compare with the reference solutions.
"""

import math
import random

from nanonas import pareto
from nanonas.bench import NanoBench

from .question import Question, Wrong, as_list, expect, is_sequence, show
from .question import is_number as _is_number
from .question import reference as _reference

ASSIGNMENT = "07a_multi_objective"
REFERENCE = _reference(ASSIGNMENT)  # the solutions, read from solutions/07a_multi_objective.ipynb


def _grid_points(rng, n, dims=2, grid=4):
    return [tuple(rng.randrange(grid) for _ in range(dims)) for _ in range(n)]  # a small grid: many ties


def _table_points(name="digits"):
    """(mean validation accuracy, -latency) of every architecture of a shipped table, and its exact front."""
    records = list(NanoBench.load(name))
    points = [(r["val_accuracy"], -r["latency_b1_ms"]) for r in records]
    return points, [points[i] for i in pareto.pareto_front(points)]


# -- 1: coverage


def _check_coverage(answer, seed):
    rng = random.Random(seed)
    cases = [
        ([(1, 1)], [(1, 1)]),  # equal counts: weakly dominated
        ([(2, 2)], [(1, 1)]),
        ([(1, 1)], [(2, 2)]),
        ([], [(0, 0)]),
        ([(2, 0)], [(0, 2), (2, 0)]),
        ([(1, 1)], [(0, 2), (2, 0), (1, 1), (0, 0)]),
        ([(3, 0), (0, 3)], [(1, 1)]),  # no single point is at least as good on both
    ]
    cases += [(_grid_points(rng, rng.randrange(0, 12), d), _grid_points(rng, rng.randrange(1, 12), d)) for d in (2, 3)]
    cases += [
        (_grid_points(rng, rng.randrange(0, 15), dims), _grid_points(rng, rng.randrange(1, 15), dims))
        for dims in (rng.choice([2, 3]) for _ in range(60))
    ]
    points, exact = _table_points()
    found = rng.sample(points, 200)
    cases += [(found, exact), (exact, found), (exact, exact)]
    calls = [(list(a), list(b)) for a, b in cases]
    for (a, b), got in zip(cases, answer.each(calls)):
        want = REFERENCE.coverage(a, b)
        call = f"coverage({show(a, 60)}, {show(b, 60)})"
        expect(_is_number(got), f"{call} returned {show(got)}; return a share between 0 and 1.")
        if math.isclose(got, want, abs_tol=1e-12):
            continue
        strict = sum(any(pareto.dominates(p, q, tie=0) for p in a) for q in b) / len(b)
        hint = ""
        if math.isclose(got, strict, abs_tol=1e-12):
            hint = " A point at least as good on every objective covers one, even when it is equal: not only strict."
        elif math.isclose(got, want * len(b), abs_tol=1e-12):
            hint = " Return a share of the points of b, not a count."
        elif b and a and math.isclose(got, REFERENCE.coverage(b, a), abs_tol=1e-12):
            hint = " It is the points of b that are covered, by points of a (the order of the arguments matters)."
        raise Wrong(f"{call} returned {got:.6g}, expected {want:.6g}.{hint}")


# -- 2: hypervolume as evaluations accumulate


def _check_hypervolume_curve(answer, seed):
    rng = random.Random(seed)
    ref = (0.0, 0.0)
    cases = [
        ([], ref, 3),
        ([(1, 1)], ref, 1),
        ([(1, 1)], ref, 5),
        ([(2, 1), (1, 2), (3, 3)], ref, 1),
        ([(2, 1), (1, 2), (3, 3), (0.5, 4)], ref, 2),
        ([(2, 1), (1, 2), (3, 3), (0.5, 4), (4, 0.5)], ref, 2),
        ([(3, 3), (1, 1), (2, 2)], ref, 1),  # dominated later points add nothing: the curve never falls
    ]
    for _ in range(50):
        points = [(rng.uniform(-1, 4), rng.uniform(-1, 4)) for _ in range(rng.randrange(1, 40))]
        cases.append((points, ref, rng.randrange(1, 12)))
    table, _ = _table_points()
    order = rng.sample(table, 120)
    table_ref = (0.10, min(p[1] for p in table))
    cases += [(order, table_ref, 20), (order[:110], table_ref, 20)]
    for (points, reference, step), got in zip(cases, answer.each([(list(p), r, s) for p, r, s in cases])):
        want = REFERENCE.hypervolume_curve(points, reference, step)
        call = f"hypervolume_curve(points of {len(points)} evaluations, reference={reference}, step={step})"
        expect(is_sequence(got), f"{call} returned {show(got)}; return a list of areas.")
        got = as_list(got)
        if len(got) != len(want):
            multiple = len(points) % step == 0
            hint = (
                f" With {len(points)} points and step {step}: k = step, 2·step, …"
                + ("" if multiple else f", and {len(points)} for all of them (not a multiple of step)")
                + "."
            )
            raise Wrong(f"{call} returned {len(got)} values, expected {len(want)}.{hint}")
        ends = [min(step * (i + 1), len(points)) for i in range(len(want))]
        for i, (g, w) in enumerate(zip(got, want)):
            expect(_is_number(g), f"{call}: value {i} is {show(g)}; each value is an area (a number).")
            if math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12):
                continue
            k = ends[i]
            window = pareto.hypervolume_2d(points[ends[i - 1] if i else 0 : k], reference)
            hint = ""
            if i and math.isclose(g, window, rel_tol=1e-9, abs_tol=1e-12):
                hint = " That is the area of the last step's points only: use everything evaluated so far, points[:k]."
            elif math.isclose(g, pareto.hypervolume_2d(points[: k - 1], reference), rel_tol=1e-9, abs_tol=1e-12):
                hint = " Off by one: the first k points are points[:k]."
            raise Wrong(f"{call}: value {i} (after {k} evaluations) is {g:.6g}, expected {w:.6g}.{hint}")


# -- 3: one architecture for a budget


def _records(rng, n, grid=8):
    """Random records with distinct DNAs, on a dyadic grid (exact arithmetic, many ties of accuracy and of cost)."""
    return [
        {
            "dna": [i // 125, i // 25 % 5, i // 5 % 5, i % 5],
            "val_accuracy": rng.randrange(grid) / grid,
            "cost": rng.randrange(6),
        }
        for i in rng.sample(range(625), n)
    ]


def _check_pick_for_budget(answer, seed):
    rng = random.Random(seed)
    r = lambda dna, acc, cost: {"dna": dna, "val_accuracy": acc, "cost": cost}
    cases = [
        ([r([0], 0.5, 2.0)], 1.0, 0.0),  # nothing fits
        ([r([0], 0.5, 2.0)], 2.0, 0.0),  # a cost equal to the budget fits
        ([r([0], 0.75, 1.0), r([1], 0.5, 0.5)], 1.0, 0.0),  # no margin: the most accurate
        ([r([0], 0.75, 1.0), r([1], 0.5, 0.5)], 1.0, 0.25),  # within the margin (at its edge): the cheaper
        ([r([0], 0.75, 1.0), r([1], 0.5, 0.5)], 0.75, 0.25),  # only the cheap one fits
        ([r([0], 0.5, 1.0), r([1], 0.75, 1.0)], 1.0, 0.5),  # equal cost: the more accurate
        ([r([0], 0.5, 1.0), r([1], 0.5, 1.0)], 1.0, 0.0),  # a full tie: the first
        ([r([0], 0.75, 3.0), r([1], 0.875, 9.0), r([2], 0.625, 1.0)], 5.0, 0.125),  # the best under budget, not overall
    ]
    for _ in range(80):
        records = _records(rng, rng.randrange(1, 25))
        cases.append((records, rng.randrange(7), rng.randrange(4) / 8))
    for name in ("digits", "digits_variations"):
        table = [
            {"dna": x["dna"], "val_accuracy": x["val_accuracy"], "cost": x["latency_b1_ms"]}
            for x in NanoBench.load(name)
        ]
        lat = sorted(x["cost"] for x in table)
        cases += [(table, lat[i], m) for i in (0, 100, 300, 624) for m in (0.0, 0.003, 0.01)]
    calls = [(list(records), budget, margin, "cost") for records, budget, margin in cases]
    for (records, budget, margin), got in zip(cases, answer.each(calls)):
        got = as_list(got)  # a DNA as a tuple is the same DNA
        want = REFERENCE.pick_for_budget(records, budget, margin, "cost")
        call = f"pick_for_budget(records of {len(records)}, budget={budget:.4g}, margin={margin:.4g}, cost='cost')"
        if want is None:
            expect(got is None, f"{call} returned {show(got)}, but no record costs at most the budget: return None.")
            continue
        expect(got is not None, f"{call} returned None, but {want} fits (a cost equal to the budget fits).")
        picked = [x for x in records if x["dna"] == got]
        expect(picked, f"{call} returned {show(got)}; return the 'dna' of one of the records.")
        if got == want:
            continue
        fits = [x for x in records if x["cost"] <= budget]
        best = max(x["val_accuracy"] for x in fits)
        chosen = min(picked, key=lambda x: (x["cost"] > budget, -x["val_accuracy"]))
        ref = next(x for x in records if x["dna"] == want)
        if chosen["cost"] > budget:
            raise Wrong(f"{call} returned {got}, whose cost {chosen['cost']:.4g} is over the budget.")
        if chosen["val_accuracy"] < best - margin:
            raise Wrong(
                f"{call} returned {got} ({chosen['val_accuracy']:.4g}), more than the margin below the best under "
                f"the budget ({best:.4g})."
            )
        if chosen["cost"] > ref["cost"]:
            most = (
                " It is the most accurate; a cheaper one is within the margin."
                if chosen["val_accuracy"] == best
                else ""
            )
            raise Wrong(f"{call} returned {got} (cost {chosen['cost']:.4g}), but {want} costs {ref['cost']:.4g}.{most}")
        if chosen["cost"] == ref["cost"] and chosen["val_accuracy"] < ref["val_accuracy"]:
            raise Wrong(f"{call} returned {got}; {want} costs the same and is more accurate: on equal cost, take it.")
        raise Wrong(f"{call} returned {got}, expected {want} (on a full tie, the first in records).")


QUESTIONS = [
    Question(
        assignment=ASSIGNMENT,
        number=1,
        name="coverage",
        title="Coverage of a front",
        points=2,
        test=_check_coverage,
        hint_text="Go through the points of `b`: is there a point of `a` at least as good on every objective (equal "
        "counts)? Return how many are, as a share of `len(b)`.",
    ),
    Question(
        assignment=ASSIGNMENT,
        number=2,
        name="hypervolume_curve",
        title="Hypervolume as evaluations accumulate",
        points=2,
        test=_check_hypervolume_curve,
        hint_text="After k evaluations the search has seen `points[:k]`. Which values of k are asked for (every "
        "`step`, and the last point even when it is not a multiple)? `pareto.hypervolume_2d` gives each area.",
    ),
    Question(
        assignment=ASSIGNMENT,
        number=3,
        name="pick_for_budget",
        title="One architecture for a budget, defended",
        points=3,
        test=_check_pick_for_budget,
        hint_text="Three steps: keep the records within the budget; find the best accuracy among them; of those within "
        "`margin` of it, take the cheapest (then the more accurate, then the first).",
    ),
]
