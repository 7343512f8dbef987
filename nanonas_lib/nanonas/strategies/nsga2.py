"""NSGA-II (Deb et al., 2002, "A fast and elitist multiobjective genetic algorithm: NSGA-II"), as a strategy.

Parents are picked by binary tournament on (front rank, crowding distance), children come from mutation, and the
next population is the best `population_size` of parents + children in the same order. The objectives are names:
'val_accuracy' (the fitness, maximised) and any costs of the architecture, minimised ('params', 'macs',
'latency_b1_ms', ...): from the NanoBench table when the search looks up a table, measured here otherwise.
"""

import random

from ..core import Task, mutate, random_dna
from ..fitness import Fitness
from ..pareto import crowding_distance, non_dominated_sort, pareto_front
from ..registry import strategy


def objective_vector(fitness: Fitness, dna, objectives) -> tuple:
    """The DNA's objectives, all turned into "more is better": accuracy as is, each cost negated."""
    return tuple(fitness(dna) if name == "val_accuracy" else -fitness.costs(dna)[name] for name in objectives)


@strategy("nsga2", budget=lambda o: o["population_size"] * (o["generations"] + 1))
def nsga2(
    fitness: Fitness,
    task: Task,
    population_size=20,
    generations=10,
    objectives=("val_accuracy", "latency_b1_ms"),
    mutation_rate=0.0,
):
    """NSGA-II (Deb et al., 2002): evolve a population toward the Pareto front of several objectives at once."""
    unknown = [name for name in objectives if name != "val_accuracy" and name not in fitness.cost_names]
    if unknown or len(objectives) < 2:
        allowed = ", ".join(["val_accuracy", *fitness.cost_names])
        raise ValueError(f"objectives must be two or more of: {allowed}; got {objectives!r}")
    rng = random.Random(task.seed)
    score = lambda dna: objective_vector(fitness, dna, objectives)

    def rank(pop) -> dict:  # position in pop -> (front index, -crowding distance): lower is better
        points, order = [score(d) for d in pop], {}
        for f, front in enumerate(non_dominated_sort(points)):
            for i, distance in crowding_distance(points, front).items():
                order[i] = (f, -distance)
        return order

    population = [fitness.new(lambda: random_dna(rng, task.positions)) for _ in range(population_size)]
    fitness.many(population)
    fitness.log(population)
    for _ in range(generations):
        order = rank(population)
        tournament = lambda: population[min(rng.sample(range(len(population)), 2), key=order.get)]
        children = [fitness.new(lambda p: mutate(p, rng, mutation_rate), tournament()) for _ in range(population_size)]
        fitness.many(children)  # trained together (side by side when there are workers)
        merged = [list(d) for d in dict.fromkeys(tuple(d) for d in population + children)]  # no duplicates
        order = rank(merged)
        population = [merged[i] for i in sorted(range(len(merged)), key=order.get)[:population_size]]
        fitness.log(population)
    front = [population[i] for i in pareto_front([score(d) for d in population])]
    return {"front": front, "objectives": list(objectives)}
