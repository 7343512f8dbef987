"""Multi-objective search: dominance, fronts, crowding, hypervolume, NSGA-II, each against brute force."""

import itertools
import random

import pytest

from nanonas import nano_nas
from nanonas.pareto import (
    TIE,
    crowding_distance,
    dominates,
    hypervolume,
    hypervolume_2d,
    non_dominated_sort,
    pareto_front,
)


def brute_front(points):
    return [i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)]


def test_dominates():
    assert dominates((2, 2), (1, 2)) and not dominates((1, 2), (1, 2)) and not dominates((3, 0), (0, 3))


@pytest.mark.parametrize("seed", range(5))
def test_pareto_front_equals_brute_force(seed):
    rng = random.Random(seed)
    points = [(rng.randint(0, 9), rng.randint(0, 9), rng.random()) for _ in range(60)]
    assert pareto_front(points) == brute_front(points)


def test_twins_same_count_of_correct_images_only_the_cheaper_is_on_the_front():
    # 355 correct of 359 on each of 3 seeds vs 354, 355, 356: the same images in total, but each seed's accuracy is
    # stored rounded to 6 decimals, so the two means differ by rounding alone
    a = sum(round(k / 359, 6) for k in (355, 355, 355)) / 3
    b = sum(round(k / 359, 6) for k in (354, 355, 356)) / 3
    assert a != b and abs(a - b) < TIE
    slow_twin, fast_twin, other = (max(a, b), -0.259), (min(a, b), -0.250), (0.99, -0.3)
    assert dominates(fast_twin, slow_twin) and not dominates(slow_twin, fast_twin)
    assert pareto_front([slow_twin, fast_twin, other]) == [1, 2]
    assert non_dominated_sort([slow_twin, fast_twin, other]) == [[1, 2], [0]]
    assert pareto_front([slow_twin, fast_twin], tie=0) == [0, 1]  # compared exactly, rounding decides


def test_nanobench_front_holds_no_twin():
    from nanonas.bench import NanoBench

    for objectives in ((("val_accuracy",), ("latency_b1_ms",)), (("val_accuracy",), ("latency_b1_ms", "params"))):
        front = NanoBench.load().pareto_front(*objectives)
        cost = lambda r: [r[m] for m in objectives[1]]
        for r in front:
            for q in front:
                same = abs(r["val_accuracy"] - q["val_accuracy"]) < TIE
                assert not (same and all(x <= y for x, y in zip(cost(r), cost(q))) and cost(r) != cost(q))


def test_pareto_front_small_example():
    assert pareto_front([[1, 5], [2, 4], [2, 2], [0, 6], [1, 4]]) == [0, 1, 3]


def test_non_dominated_sort_peels_fronts():
    rng = random.Random(1)
    points = [(rng.random(), rng.random()) for _ in range(40)]
    fronts = non_dominated_sort(points)
    assert sorted(itertools.chain(*fronts)) == list(range(40))
    left = list(range(40))
    for front in fronts:
        assert sorted(front) == sorted(left[i] for i in brute_front([points[j] for j in left]))
        left = [i for i in left if i not in front]


def test_crowding_keeps_extremes_and_measures_gaps():
    points = [(0, 4), (1, 3), (3, 1), (4, 0)]
    d = crowding_distance(points, [0, 1, 2, 3])
    assert d[0] == d[3] == float("inf")
    assert d[1] == pytest.approx(3 / 4 + 3 / 4) and d[2] == pytest.approx(d[1])


def test_hypervolume_2d_against_a_grid_count():
    rng = random.Random(3)
    points = [(rng.randint(1, 20), rng.randint(1, 20)) for _ in range(15)]
    grid = sum(any(x < p[0] and y < p[1] for p in points) for x in range(20) for y in range(20))
    assert hypervolume_2d(points, (0, 0)) == grid
    assert hypervolume_2d([], (0, 0)) == 0


def test_nsga2_moves_towards_the_exact_front():
    def accuracy(dna):  # two conflicting toy objectives over the 625 DNAs: many high ops vs few conv3x3 (op 0)
        return sum(dna) / 16

    zeros = {tuple(d): sum(op == 0 for op in d) + 0.1 * d[0] for d in itertools.product(range(5), repeat=4)}
    objectives = lambda dna: (accuracy(dna), -zeros[tuple(dna)])
    exact = {d for i, d in enumerate(zeros) if i in set(pareto_front([objectives(d) for d in zeros]))}
    from nanonas.run import Run

    run = Run(
        "nsga2",
        {
            "evaluator": accuracy,
            "progress": False,
            "population_size": 16,
            "generations": 15,
            "objectives": ("val_accuracy", "macs"),
        },
    )
    run.fitness.costs, run.fitness.cost_names = (lambda dna: {"macs": zeros[tuple(dna)]}), ("macs",)
    result = run.search().finish().search
    ref = (-1, -5)
    hv = [hypervolume_2d([objectives(d) for d in pop], ref) for pop in result.extra["populations"]]
    assert len(hv) == 16 and hv[-1] > hv[0]
    assert all(b >= a - 1e-9 for a, b in zip(hv, hv[1:]))  # elitism: never worse
    assert len({tuple(d) for d in result.extra["front"]} & exact) >= 3
    front_points = [objectives(d) for d in result.extra["front"]]  # the returned front: non-dominated
    assert all(not dominates(p, q) for p in front_points for q in front_points)


def test_nsga2_through_nano_nas_on_nanobench():
    model = nano_nas("nsga2", evaluator="bench", objectives=("val_accuracy", "params"), generations=3, progress=False)
    result = model.search
    assert result.strategy == "nsga2" and len(result.extra["populations"]) == 4
    assert result.extra["objectives"] == ["val_accuracy", "params"] and result.extra["front"]
    with pytest.raises(ValueError, match="objectives must be two or more of: val_accuracy, params"):
        nano_nas("nsga2", evaluator="bench", objectives=("val_accuracy", "speed"), progress=False)


def union_area(points, reference):
    """Brute force: the area of the union of the boxes [reference, p], by cells between the points' coordinates."""
    xs = sorted({reference[0], *(p[0] for p in points if p[0] > reference[0])})  # from the reference up
    ys = sorted({reference[1], *(p[1] for p in points if p[1] > reference[1])})
    area = 0.0
    for x0, x1 in zip(xs, xs[1:]):
        for y0, y1 in zip(ys, ys[1:]):  # a cell is inside when some box contains its upper corner
            if any(x1 <= p[0] and y1 <= p[1] for p in points if p[0] > reference[0] and p[1] > reference[1]):
                area += (x1 - x0) * (y1 - y0)
    return area


@pytest.mark.parametrize("seed", range(5))
def test_hypervolume_2d_against_the_union_of_boxes(seed):
    rng = random.Random(seed)
    points = [(rng.uniform(-1, 3), rng.uniform(-1, 3)) for _ in range(rng.randrange(1, 30))]
    points += [points[0], (points[0][0], rng.uniform(-1, 3))]  # a repeat and a shared coordinate
    reference = (rng.uniform(-1, 0.5), rng.uniform(-1, 0.5))
    assert hypervolume_2d(points, reference) == pytest.approx(union_area(points, reference), abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_hypervolume_in_three_objectives_against_a_grid_count(seed):
    rng = random.Random(seed)
    points = [tuple(rng.randint(0, 8) for _ in range(3)) for _ in range(rng.randrange(1, 25))]
    cells = itertools.product(range(8), repeat=3)  # unit cells [x, x+1] x [y, y+1] x [z, z+1] above (0, 0, 0)
    grid = sum(any(all(c < p_m for c, p_m in zip(cell, p)) for p in points) for cell in cells)
    assert hypervolume(points, (0, 0, 0)) == grid


def test_hypervolume_matches_the_2d_sweep_and_counts_nothing_at_the_reference():
    rng = random.Random(7)
    points = [(rng.uniform(-1, 3), rng.uniform(-1, 3)) for _ in range(40)]
    assert hypervolume(points, (0, 0)) == pytest.approx(hypervolume_2d(points, (0, 0)))
    assert hypervolume([(1, 1, 0), (0, 5, 5)], (0, 0, 0)) == 0 and hypervolume([], (0, 0, 0)) == 0
    assert hypervolume([(3,), (2,)], (1,)) == 2
