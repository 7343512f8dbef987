"""Progressive search (Liu et al., 2018, "Progressive Neural Architecture Search"), on a chain of positions.

PNAS grows cells one block at a time: every 1-block cell is trained, then each level expands the best K cells by
one more block, a predictor trained on everything so far ranks the expansions, and only the top K are trained.
Here an empty position is a 'skip' (the identity), so a DNA of b ops is [op1, ..., opb, skip, ..., skip]: it is
an architecture of the same space, with one op fewer per level. When the chain is full, the same move continues
as a local search: the predictor ranks every one-op change of the best K, the top K are trained.
"""

import itertools
import random

from .. import predictors, proxies
from ..core import OPERATIONS, Task
from ..fitness import Fitness
from ..registry import strategy


def expansions(parent, position: int, n_ops: int) -> list:
    """Every DNA that differs from `parent` only at `position`."""
    return [parent[:position] + [op] + parent[position + 1 :] for op in range(n_ops) if op != parent[position]]


@strategy("progressive", budget=lambda o: o["evaluations"])
def progressive(fitness: Fitness, task: Task, beam=5, evaluations=100, predictor="ridge", proxy=""):
    """PNAS-style progressive search: grow the chain one position at a time; a predictor picks which K to train."""
    if "skip" not in OPERATIONS:
        raise ValueError("progressive search needs a 'skip' op (an empty position); add it to OPERATIONS")
    predictors.make(predictor)  # a bad name fails here, before any training
    n_ops, skip = len(OPERATIONS), list(OPERATIONS).index("skip")
    budget = min(evaluations, n_ops**task.positions)
    score = proxies.for_task(proxy, task) if proxy else None
    rng = random.Random(task.seed)
    ones = [[op] + [skip] * (task.positions - 1) for op in range(n_ops)]  # level 1: every one-op chain is trained
    fitness.many([fitness.new(lambda d=d: d) for d in rng.sample(ones, len(ones))][:budget])
    level = ones
    for position in itertools.count(1):
        if len(fitness) >= budget:
            break
        parents = sorted(level, key=fitness, reverse=True)[:beam]
        if position < task.positions:  # grow: expand the best K of the last level at the next position
            children = [c for p in parents for c in expansions(p, position, n_ops)]
        else:  # full: change any one position of the best K seen so far
            parents = sorted(map(list, fitness), key=fitness, reverse=True)[:beam]
            children = [c for p in parents for i in range(task.positions) for c in expansions(p, i, n_ops)]
        children = [list(c) for c in dict.fromkeys(map(tuple, children)) if c not in fitness]
        if not children:  # the neighbourhood of the best K is all trained: widen it
            beam += 1
            continue
        samples = predictors.predictions(
            predictor, list(map(list, fitness)), list(fitness.values()), children, n_ops, score, task.seed
        )
        ranked = sorted(range(len(children)), key=lambda i: -samples[:, i].mean())
        chosen = [children[i] for i in ranked[: min(beam, budget - len(fitness))]]
        fitness.many([fitness.new(lambda d=d: d) for d in chosen])
        level = chosen + [p for p in parents if tuple(p) in fitness]  # a shorter chain may stay the best
    return {"proxy": proxy, "proxy_seconds": score.seconds, "proxy_scored": len(score.values)} if score else {}
