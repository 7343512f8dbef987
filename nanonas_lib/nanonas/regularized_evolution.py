"""Regularized (aging) evolution, Real et al. 2019, "Regularized Evolution for Image Classifier Architecture Search".

Like the seed's evolution, but the population is a queue: each cycle samples a few members, mutates the best of
them, appends the child and removes the *oldest* member, whatever its fitness. Ageing stops a lucky early
architecture from staying forever, which makes the search more robust to noisy fitness.
"""

import random
from collections import deque

from .core import OPERATIONS, STRATEGIES, Task, mutate, random_dna
from .history import History


def regularized_evolution(
    fitness: History, task: Task, population_size=20, sample_size=10, evaluations=200, mutation_rate=0.0
):
    """Real et al. 2019 (aging evolution): sample, pick the best, mutate it, add the child, drop the oldest."""
    rng = random.Random(task.seed)
    population = deque(fitness.explore(lambda: random_dna(rng, task.positions)) for _ in range(population_size))
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


STRATEGIES["regularized_evolution"] = regularized_evolution  # nano_nas('regularized_evolution', ...) now works
