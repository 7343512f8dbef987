"""Regularized (aging) evolution, Real et al. 2019, "Regularized Evolution for Image Classifier Architecture Search".

Like the seed's evolution, but the population is a queue: each cycle samples a few members, mutates the best of
them, appends the child and removes the *oldest* member, whatever its fitness. Ageing stops a lucky early
architecture from staying forever, which makes the search more robust to noisy fitness.
"""

import random
from collections import deque

from ..core import OPERATIONS, Task, mutate, random_dna
from ..fitness import Fitness
from ..registry import strategy


@strategy("regularized_evolution", budget=lambda o: o["evaluations"])
def regularized_evolution(
    fitness: Fitness, task: Task, population_size=20, sample_size=10, evaluations=200, mutation_rate=0.0
):
    """Regularized (aging) evolution (Real et al., 2019): sample, mutate the best, add the child, drop the oldest."""
    rng = random.Random(task.seed)
    population = deque(fitness.new(lambda: random_dna(rng, task.positions)) for _ in range(population_size))
    fitness.many(population)
    fitness.log(population)
    budget = min(evaluations, len(OPERATIONS) ** task.positions)
    for cycle in range(100 * budget):  # a cycle whose child was seen before costs nothing; stop anyway
        if len(fitness) >= budget:
            break
        parent = max(rng.sample(list(population), min(sample_size, len(population))), key=fitness)
        population.append(fitness.explore(lambda p: mutate(p, rng, mutation_rate), parent))
        population.popleft()
        if (cycle + 1) % population_size == 0:
            fitness.log(population)  # a "generation": every population_size cycles
