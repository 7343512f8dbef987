"""Regularized (aging) evolution, Real et al. 2019, "Regularized Evolution for Image Classifier Architecture Search".

Like the seed's evolution, but the population is a queue: each cycle samples a few members, mutates the best of
them, appends the child and removes the *oldest* member, whatever its fitness. Ageing stops a lucky early
architecture from staying forever, which makes the search more robust to noisy fitness.

With N workers it is the asynchronous variant the paper ran on hundreds of workers: N children train at once, and
whenever one finishes it joins the population and a new child is proposed from the population as it is then. So a
child's parent is picked without the results of the N - 1 children still training, and the search is a different
(equally valid) run for each N: the same seed and N give the same result, but N = 1 and N = 4 do not. Results are
collected in the order children were proposed, not the order they finish, so a run never depends on timing.

`start` opens the first population with DNAs you choose (say, the best architectures of a search on another
dataset); random DNAs fill the rest. Each one is evaluated like any member, so it counts toward `evaluations`.
"""

import random
from collections import deque

from ..core import OPERATIONS, Task, check_dna, dna_from_key, mutate, random_dna
from ..fitness import Fitness
from ..registry import strategy


def starting_dnas(start, positions: int, population_size: int) -> list[list[int]]:
    """The DNAs `start` names, checked and without repeats: lists of op indices, or strings like '1-0-2-1'."""
    dnas = []
    for dna in start:
        if isinstance(dna, str):  # from the command line: --start 1-0-2-1 0-0-1-1
            try:
                dna = dna_from_key(dna)
            except ValueError:
                pass  # not a key: check_dna says what a DNA of this search is
        dnas.append(tuple(check_dna(dna, positions)))
    dnas = [list(dna) for dna in dict.fromkeys(dnas)]
    if len(dnas) > population_size:
        raise ValueError(
            f"start holds {len(dnas)} DNAs, more than population_size={population_size}; pass at most that"
        )
    return dnas


@strategy("regularized_evolution", budget=lambda o: o["evaluations"])
def regularized_evolution(
    fitness: Fitness,
    task: Task,
    population_size=20,
    sample_size=10,
    evaluations=200,
    mutation_rate=0.0,
    start=(),  # DNAs that open the first population (e.g. the winners on another dataset); random ones fill the rest
):
    """Regularized (aging) evolution (Real et al., 2019): sample, mutate the best, add the child, drop the oldest."""
    rng = random.Random(task.seed)
    chosen = [fitness.new(lambda dna=dna: dna) for dna in starting_dnas(start, task.positions, population_size)]
    randoms = (fitness.new(lambda: random_dna(rng, task.positions)) for _ in range(population_size - len(chosen)))
    population = deque([*chosen, *randoms])
    fitness.many(population)
    fitness.log(population)
    budget = min(evaluations, len(OPERATIONS) ** task.positions)
    cycles = 0

    def add(child):  # the child joins, the oldest leaves; every population_size cycles is a "generation"
        nonlocal cycles
        population.append(child)
        population.popleft()
        cycles += 1
        if cycles % population_size == 0:
            fitness.log(population)

    def children():  # proposed one by one, each from the population as it is when a worker is free
        for _ in range(100 * budget):  # a child seen before costs nothing; stop anyway
            if len(fitness) + len(fitness.pending) >= budget:  # evaluated + in flight
                return
            parent = max(rng.sample(list(population), min(sample_size, len(population))), key=fitness)
            child = fitness.new(lambda p: mutate(p, rng, mutation_rate), parent)
            if tuple(child) in fitness:
                add(child)  # seen before: its score is known, it joins at once
            else:
                yield child

    for child in fitness.stream(children()):  # N workers: N children in flight
        add(child)
