"""BANANAS (White et al., 2021, "BANANAS: Bayesian Optimization with Neural Architectures for NAS"), as a strategy.

A loop of: fit a performance predictor (an ensemble of small MLPs) on every architecture evaluated so far; draw
candidates by mutating the best ones; score them with an acquisition function on the ensemble's predictions;
train the `batch` best. Independent Thompson sampling ('its', the paper's choice) draws one value per candidate
from a normal with the ensemble's mean and spread; 'ucb' takes mean + spread; 'mean' the mean alone. With a `proxy`,
the predictor also sees that zero-cost proxy (its seconds are returned as `proxy_seconds`), and the first
`initial` architectures are the proxy's best of `screen` random ones instead of random ones.
"""

import random

import numpy as np

from .. import predictors, proxies
from ..core import OPERATIONS, Task, mutate, random_dna
from ..fitness import Fitness
from ..registry import strategy
from .proxy_evolution import screened

ACQUISITIONS = ("its", "ucb", "mean")


def acquire(samples: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """(candidates,): how much each candidate is worth training, from (members, candidates) predictions."""
    mean, spread = samples.mean(0), samples.std(0)
    if kind == "its":
        return rng.normal(mean, spread)
    return mean + spread if kind == "ucb" else mean


@strategy("bananas", budget=lambda o: o["evaluations"])
def bananas(
    fitness: Fitness,
    task: Task,
    evaluations=100,
    initial=10,
    batch=5,
    candidates=100,
    predictor="mlp_ensemble",
    acquisition="its",
    proxy="",
    screen=100,
):
    """BANANAS (White et al., 2021): a predictor ensemble picks which mutations of the best architectures to train."""
    if acquisition not in ACQUISITIONS:
        raise ValueError(f"unknown acquisition {acquisition!r}; choose one of: {', '.join(ACQUISITIONS)}")
    predictors.make(predictor)  # a bad name fails here, before any training
    rng, np_rng = random.Random(task.seed), np.random.default_rng(task.seed)
    score = proxies.for_task(proxy, task) if proxy else None
    n_ops, budget = len(OPERATIONS), min(evaluations, len(OPERATIONS) ** task.positions)
    if score is not None:
        first = screened(score, rng, task.positions, screen)[:initial]
        fitness.many([fitness.new(lambda d=d: d) for d in first])
    else:
        fitness.many([fitness.new(lambda: random_dna(rng, task.positions)) for _ in range(initial)])
    while len(fitness) < budget:
        evaluated = [list(d) for d in fitness]
        best = sorted(evaluated, key=fitness, reverse=True)[:10]
        pool = {}
        for i in range(10 * candidates):  # mutations of the best ten, round robin; stop at `candidates` new ones
            child = tuple(mutate(best[i % len(best)], rng))
            if child not in fitness:
                pool[child] = None
            if len(pool) >= candidates:
                break
        pool = [list(d) for d in pool] or [random_dna(rng, task.positions)]
        samples = predictors.predictions(predictor, evaluated, list(fitness.values()), pool, n_ops, score, task.seed)
        value = acquire(samples, acquisition, np_rng)
        chosen = [pool[i] for i in np.argsort(-value)[: min(batch, budget - len(fitness))]]
        fitness.many([fitness.new(lambda d=d: d) for d in chosen])
    return {"proxy": proxy, "proxy_seconds": score.seconds, "proxy_scored": len(score.values)} if score else {}
