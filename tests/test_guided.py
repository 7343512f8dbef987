"""Guided searches: registered, budgets kept, proxies used and charged, with table lookups and real training."""

import random

import pytest

from nanonas import Fitness, nano_nas, proxies
from nanonas.registry import STRATEGIES
from nanonas.strategies.bananas import PAPER, POOLS, draw

FAST = {"evaluator": "bench", "progress": False}


@pytest.mark.parametrize("name", ["proxy_evolution", "bananas", "progressive"])
def test_each_guided_search_spends_exactly_its_budget(name):
    result = nano_nas(name, evaluations=20, **FAST).search
    dnas = [tuple(h["dna"]) for h in result.history]
    assert name in STRATEGIES and len(dnas) == len(set(dnas)) == 20
    assert result.val_accuracy == max(h["fitness"] for h in result.history)


def test_proxy_evolution_starts_from_the_proxys_best_and_reports_its_cost():
    result = nano_nas("proxy_evolution", evaluations=15, screen=625, population_size=5, **FAST).search
    table = proxies.load("digits")
    best = sorted(table, key=lambda d: -table[d]["synflow"])[:5]
    assert [tuple(h["dna"]) for h in result.history[:5]] == best
    # every architecture screened and every child proposed was charged, at the table's recorded milliseconds
    assert result.extra["proxy_scored"] == 625
    assert result.extra["proxy_seconds"] == pytest.approx(sum(r["synflow_ms"] for r in table.values()) / 1000)


def test_progressive_trains_every_one_op_chain_first():
    result = nano_nas("progressive", evaluations=12, **FAST).search
    skip = 3  # conv3x3, conv5x5, maxpool, skip, zero
    assert sorted(tuple(h["dna"]) for h in result.history[:5]) == sorted((op, skip, skip, skip) for op in range(5))


def test_bananas_with_a_proxy_and_an_ensemble():
    options = {"predictor": "mlp_ensemble", "proxy": "naswot"}
    result = nano_nas("bananas", evaluations=15, initial=5, batch=5, **options, **FAST).search
    assert len(result.history) == 15 and result.extra["proxy"] == "naswot" and result.extra["proxy_seconds"] > 0


def test_bananas_paper_configuration_runs_without_a_proxy():
    result = nano_nas("bananas", evaluations=15, **PAPER, **FAST).search
    assert len({tuple(h["dna"]) for h in result.history}) == 15 and result.extra == {}


@pytest.mark.parametrize("pool", POOLS)
def test_bananas_candidates_are_new_and_mutations_are_one_op_from_the_best(pool):
    rng, evaluated = random.Random(0), {(0, 0, 0, 0): 0.9, (1, 2, 3, 4): 0.8, (2, 2, 2, 2): 0.1}
    fitness = Fitness(lambda dna: evaluated[tuple(dna)])
    fitness.many([list(d) for d in evaluated])
    best = [[0, 0, 0, 0], [1, 2, 3, 4]]
    cands = draw(best, fitness, rng, 4, 30, pool)  # 32 DNAs are one op from the two best
    assert len(cands) == len({tuple(d) for d in cands}) == 30 and not any(tuple(d) in fitness for d in cands)
    near = [any(sum(a != b for a, b in zip(d, parent)) == 1 for parent in best) for d in cands]
    if pool == "mutations":
        assert all(near)
    else:  # a random DNA is one op from these two with probability 32 / 625
        assert sum(near) < {"mixed": 25, "random": 8}[pool]


def test_guided_searches_run_with_real_training_and_live_proxies():
    # 4 channels: no shipped proxy table has this recipe, so the proxy is computed on the spot
    result = nano_nas(
        "bananas",
        evaluations=4,
        initial=2,
        batch=2,
        predictor="ridge",
        proxy="synflow",
        screen=6,
        train_epochs=1,
        channels=4,
        progress=False,
    ).search
    assert len(result.history) == 4 and result.extra["proxy_scored"] >= 6 and result.test_accuracy is not None


def test_bad_options_say_what_is_allowed():
    with pytest.raises(ValueError, match="acquisition"):
        nano_nas("bananas", acquisition="ei", **FAST)
    with pytest.raises(ValueError, match="choose one of: mutations, mixed, random"):
        nano_nas("bananas", pool="best", **FAST)
    with pytest.raises(ValueError, match="choose one of: ridge"):
        nano_nas("progressive", predictor="lstm", **FAST)
    with pytest.raises(ValueError, match="choose from: params"):
        nano_nas("proxy_evolution", proxy="flops", **FAST)
