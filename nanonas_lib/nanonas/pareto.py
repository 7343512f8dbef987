"""Many objectives at once: dominance, Pareto fronts, hypervolume, and NSGA-II (Deb et al., 2002).

Every objective here is *maximised*; to minimise latency, maximise its negative. A point dominates another
when it is at least as good on every objective and strictly better on one.
"""

import random
from dataclasses import dataclass, field

import numpy as np

from .core import mutate, random_dna
from .history import History


def dominates(a, b) -> bool:
    """True when `a` is at least as good as `b` everywhere and strictly better somewhere (all maximised)."""
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def pareto_front(points) -> list[int]:
    """Indices of the points that no other point dominates, in their original order."""
    pts = np.asarray(points, dtype=float)
    return [i for i, p in enumerate(pts) if not np.any(np.all(pts >= p, axis=1) & np.any(pts > p, axis=1))]


def non_dominated_sort(points) -> list[list[int]]:
    """NSGA-II's ranking: front 0 is the Pareto front, front 1 the front once front 0 is removed, and so on."""
    remaining, fronts = list(range(len(points))), []
    while remaining:
        front = [remaining[i] for i in pareto_front([points[j] for j in remaining])]
        fronts.append(front)
        remaining = [i for i in remaining if i not in set(front)]
    return fronts


def crowding_distance(points, front: list[int]) -> dict[int, float]:
    """How much room each point of a front has around it (its neighbours' spread, summed over objectives)."""
    distance = {i: 0.0 for i in front}
    for m in range(len(points[front[0]])):
        order = sorted(front, key=lambda i: points[i][m])
        lo, hi = points[order[0]][m], points[order[-1]][m]
        distance[order[0]] = distance[order[-1]] = float("inf")  # the extremes are always kept
        if hi == lo:
            continue
        for prev, cur, nxt in zip(order, order[1:], order[2:]):
            distance[cur] += (points[nxt][m] - points[prev][m]) / (hi - lo)
    return distance


def hypervolume_2d(points, reference) -> float:
    """Area dominated by `points` and bounded below by `reference` (both objectives maximised)."""
    pts = [tuple(p) for p in points if p[0] > reference[0] and p[1] > reference[1]]
    front = sorted({pts[i] for i in pareto_front(pts)}, key=lambda p: -p[0]) if pts else []
    area, y = 0.0, reference[1]
    for x, top in front:  # sweep from the best first objective down, adding each new strip
        if top > y:
            area += (x - reference[0]) * (top - y)
            y = top
    return area


@dataclass
class ParetoSearch:
    """What NSGA-II did: the objectives of every evaluated DNA and the population of every generation."""

    objectives: dict  # {dna tuple: objective vector}, in the order evaluated
    populations: list = field(default_factory=list)  # one list of DNAs per generation, the first is random

    def front(self, generation: int = -1) -> list[list[int]]:
        """The non-dominated DNAs of one generation's population."""
        pop = self.populations[generation]
        return [pop[i] for i in pareto_front([self.objectives[tuple(d)] for d in pop])]


def nsga2(objectives, positions=4, population_size=20, generations=10, seed=0, mutation_rate=0.0) -> ParetoSearch:
    """NSGA-II: parents by binary tournament on (front rank, crowding), children by mutation, and the next
    population is the best `population_size` of parents + children by the same order.

    `objectives(dna)` returns a tuple to maximise, e.g. (accuracy, -latency); it is asked once per DNA.
    """
    if population_size < 2 or generations < 1:
        raise ValueError("population_size must be at least 2 and generations at least 1")
    rng, history = random.Random(seed), History(lambda dna: tuple(objectives(dna)))
    population = [history.explore(lambda: random_dna(rng, positions)) for _ in range(population_size)]
    search = ParetoSearch(history, [population])

    def rank(pop):  # lower is better: (front index, -crowding distance)
        pts = [history[tuple(d)] for d in pop]
        order = {}
        for f, front in enumerate(non_dominated_sort(pts)):
            for i, c in crowding_distance(pts, front).items():
                order[i] = (f, -c)
        return order

    for _ in range(generations):
        order = rank(population)
        tournament = lambda: population[min(rng.sample(range(len(population)), 2), key=order.get)]
        children = [
            history.explore(lambda p: mutate(p, rng, mutation_rate), tournament()) for _ in range(population_size)
        ]
        merged = [list(d) for d in dict.fromkeys(tuple(d) for d in population + children)]  # no duplicates
        order = rank(merged)
        population = [merged[i] for i in sorted(range(len(merged)), key=order.get)[:population_size]]
        search.populations.append(population)
    return search
