"""BANANAS (White et al., 2021, "BANANAS: Bayesian Optimization with Neural Architectures for NAS"), as a strategy.

A loop of: fit a performance predictor on every architecture evaluated so far; draw candidates (mutations of the
best ten, as in the paper, or also random architectures); score them with an acquisition function on the
predictions; train the `batch` best. Independent Thompson sampling ('its', the paper's choice) draws one value per
candidate from a normal with an ensemble's mean and spread; 'ucb' takes mean + spread; 'mean' the mean alone (a
single predictor such as ridge has no spread, so all three are its mean). With a `proxy`, the predictor also sees
that zero-cost proxy (its seconds are returned as `proxy_seconds`), and the first `initial` architectures are the
proxy's best of `screen` random ones instead of random ones.

The defaults are the configuration that measured best (benchmarks/search_defaults.py: lowest regret at 25, 50,
100 and 200 evaluations on both chain tables and NAS-Bench-201, against Optuna's TPE): a ridge regression on the
one-hot DNA plus synflow, 200 candidates of which half are random, two architectures per step. The paper's own
configuration (an ensemble of five MLPs on the DNA alone, 100 mutations, five per step) is `PAPER`:
`nano_nas('bananas', **PAPER)`.
"""

import random

import numpy as np

from .. import predictors, proxies
from ..core import OPERATIONS, Task, mutate, random_dna
from ..fitness import Fitness
from ..registry import strategy
from .proxy_evolution import screened

ACQUISITIONS = ("its", "ucb", "mean")
POOLS = ("mutations", "mixed", "random")  # candidates: mutations of the best ten, half of them random DNAs, or all
PAPER = {"predictor": "mlp_ensemble", "proxy": "", "batch": 5, "candidates": 100, "pool": "mutations"}


def draw(best: list, fitness: Fitness, rng: random.Random, positions: int, candidates: int, pool: str) -> list:
    """Up to `candidates` distinct DNAs not evaluated yet: mutations of `best` (round robin) and/or random ones."""
    drawn = {}
    for i in range(10 * candidates):  # stop at `candidates` new ones
        local = pool == "mutations" or (pool == "mixed" and i % 2 == 0)
        child = tuple(mutate(best[i % len(best)], rng) if local else random_dna(rng, positions))
        if child not in fitness:
            drawn[child] = None
        if len(drawn) >= candidates:
            break
    return [list(d) for d in drawn] or [random_dna(rng, positions)]


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
    initial=10,  # the proxy's best of `screen` random DNAs (random DNAs without a proxy)
    batch=2,  # trained per step: better than the paper's 5 at 25 evaluations (the predictor is refitted more often)
    candidates=200,
    predictor="ridge",  # the MLP ensemble ranks no better with a few dozen examples (benchmarks/results/predictors.md)
    acquisition="its",
    proxy="synflow",  # the best single proxy on both chain tables (benchmarks/results/proxies.md); '' for none
    screen=100,
    pool="mixed",  # where candidates come from (POOLS): half of them random keeps it from piling up near-ties
):
    """BANANAS (White et al., 2021): a predictor picks which candidates (mutated or random) to train."""
    if acquisition not in ACQUISITIONS:
        raise ValueError(f"unknown acquisition {acquisition!r}; choose one of: {', '.join(ACQUISITIONS)}")
    if pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r}; choose one of: {', '.join(POOLS)}")
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
        cands = draw(best, fitness, rng, task.positions, candidates, pool)
        samples = predictors.predictions(predictor, evaluated, list(fitness.values()), cands, n_ops, score, task.seed)
        value = acquire(samples, acquisition, np_rng)
        chosen = [cands[i] for i in np.argsort(-value)[: min(batch, budget - len(fitness))]]
        fitness.many([fitness.new(lambda d=d: d) for d in chosen])
    return {"proxy": proxy, "proxy_seconds": score.seconds, "proxy_scored": len(score.values)} if score else {}
