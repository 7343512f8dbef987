"""Proxy-seeded evolution: screen architectures with a zero-cost proxy (no training), then evolve from the best.

Regularized evolution (Real et al., 2019) spends its first `population_size` evaluations on random architectures,
most of which a proxy could have rejected for free: 59% of the 4-position space is dead (a 'zero' cuts the chain).
Here the first population is the best `population_size` of `screen` random architectures by the proxy
(Abdelfattah et al., 2021, "Zero-Cost Proxies for Lightweight NAS", call this warm-up), and a child the proxy
ranks below the screen's median is redrawn before it is trained (their "move proposal"). The proxy's seconds
are returned in the result (`proxy_seconds`): a fair comparison charges them to the search.
"""

import itertools
import random
import statistics
from collections import deque

from .. import proxies
from ..core import OPERATIONS, Task, mutate, random_dna
from ..fitness import Fitness
from ..registry import strategy


def screened(proxy, rng: random.Random, positions: int, screen: int) -> list:
    """`screen` distinct random DNAs (all of them when the space is that small), best proxy value first."""
    space = len(OPERATIONS) ** positions
    if screen >= space:
        pool = [list(d) for d in itertools.product(range(len(OPERATIONS)), repeat=positions)]
    else:
        pool = list({tuple(random_dna(rng, positions)): None for _ in range(50 * screen)})[:screen]
        pool = [list(d) for d in pool]
    return sorted(pool, key=proxy, reverse=True)


@strategy("proxy_evolution", budget=lambda o: o["evaluations"])
def proxy_evolution(
    fitness: Fitness,
    task: Task,
    proxy="synflow",
    screen=100,
    population_size=10,
    sample_size=5,
    evaluations=200,
    mutation_rate=0.0,
):
    """Regularized evolution started from the architectures a zero-cost proxy ranks best (screened untrained)."""
    rng, score = random.Random(task.seed), proxies.for_task(proxy, task)
    pool = screened(score, rng, task.positions, screen)
    bar = statistics.median(score(d) for d in pool)  # a child below the screen's median is not worth training
    population = deque(fitness.new(lambda d=d: d) for d in pool[:population_size])
    fitness.many(population)
    fitness.log(population)
    budget = min(evaluations, len(OPERATIONS) ** task.positions)
    for cycle in range(100 * budget):  # a cycle whose child was seen before costs nothing; stop anyway
        if len(fitness) >= budget:
            break
        parent = max(rng.sample(list(population), min(sample_size, len(population))), key=fitness)
        for _ in range(20):  # redraw children the proxy rejects (each draw costs one proxy computation)
            child = fitness.new(lambda p: mutate(p, rng, mutation_rate), parent)
            if score(child) >= bar or tuple(child) in fitness:
                break
            fitness.pending.discard(tuple(child))  # forgotten: it was never trained
            fitness.parents.pop(tuple(child), None)
        fitness.many([child])
        population.append(child)
        population.popleft()
        if (cycle + 1) % population_size == 0:
            fitness.log(population)
    return {"proxy": proxy, "proxy_seconds": score.seconds, "proxy_scored": len(score.values)}
