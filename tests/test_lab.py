"""course.lab, what the notebooks share, each against an oracle: brute force, scipy's statistic, shipped files."""

import itertools
import random

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import wilcoxon

from course import lab
from nanonas.bench import NanoBench
from tests.test_notebooks import ROOT

# -- where shipped results live


def test_the_results_folder_is_found_from_any_folder_of_the_checkout():
    for start in (ROOT, ROOT / "notebooks", ROOT / "nanonas_lib" / "course"):
        assert lab.results_dir(start) == ROOT / "benchmarks" / "results"
    assert lab.shipped("hardware.json", ROOT / "notebooks") == ROOT / "benchmarks" / "results" / "hardware.json"


def test_outside_a_checkout_and_a_missing_file_are_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no benchmarks/results/ folder"):
        lab.results_dir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no shipped result 'nope.json'.*benchmarks/"):
        lab.shipped("nope.json", ROOT)


# -- regret at a budget


def test_regret_at_is_the_brute_force_regret_of_the_best_seen():
    """Oracle: for every budget, scan the history by hand for the first DNA with the highest score seen."""
    bench = NanoBench.load("digits")
    truth = {tuple(r["dna"]): r["val_accuracy"] for r in bench}
    rng = random.Random(0)
    history = [(dna, round(rng.random(), 1)) for dna in rng.sample(sorted(truth), 40)]  # rounded: many ties
    best = max(truth.values())
    for budget in range(1, len(history) + 1):
        top = max(score for _, score in history[:budget])
        first = next(dna for dna, score in history[:budget] if score == top)
        assert lab.regret_at(history, budget, truth) == best - truth[first]
    with pytest.raises(ValueError, match="budget must be 1 to 40"):
        lab.regret_at(history, 41, truth)


def test_a_search_on_a_table_is_the_strategy_run_by_hand_and_repeats():
    """Oracle: the same strategy run on a Fitness of the table's evaluator, by hand; the same seed, the same history."""
    from nanonas import STRATEGIES
    from nanonas.core import Task
    from nanonas.fitness import Fitness

    bench = NanoBench.load("digits")
    history = lab.search_on_table(bench, "regularized_evolution", seed=3, evaluations=30)
    fitness = Fitness(bench.evaluator(3))
    STRATEGIES["regularized_evolution"].run(fitness, Task(data=None, positions=4, seed=3), evaluations=30)
    assert history == list(fitness.items()) == lab.search_on_table(bench, "regularized_evolution", 3, 30)
    assert len(history) == 30 and history != lab.search_on_table(bench, "regularized_evolution", 4, 30)


# -- paired comparisons


def test_rank_biserial_agrees_with_wilcoxons_signed_rank_sum():
    """Oracle: scipy's one-sided statistic is W+, the rank sum of the positive differences: r = (2 W+ - T) / T."""
    rng = np.random.default_rng(0)
    for n in (5, 12, 30):
        a, b = rng.normal(size=n).round(1), rng.normal(size=n).round(1)  # rounded: ties and zero differences
        keep = a != b
        w_plus = wilcoxon(a[keep], b[keep], alternative="greater").statistic
        total = keep.sum() * (keep.sum() + 1) / 2
        assert lab.rank_biserial(a, b) == pytest.approx((2 * w_plus - total) / total)
        assert lab.rank_biserial(b, a) == pytest.approx(-lab.rank_biserial(a, b))
    assert lab.rank_biserial([1, 2, 3], [0, 1, 2]) == 1.0 and lab.rank_biserial([1, 2], [1, 2]) == 0.0
    with pytest.raises(ValueError, match="one value per pair"):
        lab.rank_biserial([1, 2], [1])


def test_paired_counts_and_tests_pair_by_pair():
    a, b = [0.1, 0.5, 0.2, 0.9, 0.3], [0.4, 0.5, 0.6, 0.8, 1.0]
    row = lab.paired(a, b)
    assert row["seeds"] == 5 and row["a better/tie/worse"] == "3/1/1" and (lab.wins(row), lab.losses(row)) == (3, 1)
    assert row["mean regret a (pp)"] == pytest.approx(0.4) and row["median regret b (pp)"] == 0.6
    assert row["Wilcoxon p"] == wilcoxon(a, b).pvalue and row["effect r"] == lab.rank_biserial(b, a) > 0
    same = lab.paired(a, a)
    assert same["Wilcoxon p"] == 1.0 and same["effect r"] == 0.0  # nothing differs: nothing to test
    with pytest.raises(ValueError, match="equally long"):
        lab.paired(a, b[:3])


def test_head_to_head_pairs_runs_by_seed_within_each_group():
    """Oracle: the same rows built by hand with paired() on seed-sorted regrets; a seed one search lacks drops out."""
    rng = np.random.default_rng(1)
    runs = pd.DataFrame(
        [
            {"table": t, "search": s, "seed": seed, "regret": float(rng.random())}
            for t, s, seed in itertools.product(("x", "y"), ("a", "b", "c"), range(8))
        ]
    ).sample(frac=1, random_state=0)  # shuffled: pairing must not depend on the row order
    runs = runs[~((runs.search == "c") & (runs.seed == 3))]
    table = lab.head_to_head(runs, [("a", "b"), ("a", "c")], by=["table"])
    assert sorted(table.index) == [(t, p) for t in ("x", "y") for p in ("a vs b", "a vs c")]
    for t, (a, b) in itertools.product(("x", "y"), [("a", "b"), ("a", "c")]):
        regrets = {s: runs[(runs.table == t) & (runs.search == s)].set_index("seed").regret for s in (a, b)}
        seeds = sorted(set(regrets[a].index) & set(regrets[b].index))
        assert table.loc[(t, f"{a} vs {b}")].to_dict() == lab.paired(regrets[a][seeds], regrets[b][seeds])
    assert table.loc[("x", "a vs c"), "seeds"] == 7
    with pytest.raises(ValueError, match="same seed"):
        lab.head_to_head(runs, [("a", "b")])  # two tables' runs, not split by table
    with pytest.raises(ValueError, match="no column table"):
        lab.head_to_head(runs.drop(columns="table"), [("a", "b")], by=["table"])


# -- project 06a's grown space


def test_the_regret_figure_draws_each_searchs_mean_regret_by_hand():
    rng = random.Random(0)
    rows = [
        {"table": t, "search": s, "seed": seed, "trainings": n, "regret": rng.uniform(0, 20)}
        for t in ("digits", "digits_variations")
        for s in ("random", "evolution", "ours")
        for seed in range(4)
        for n in (5, 10, 15)
    ]
    searches = ["evolution", "random"]  # the order of the lines; a search not named is not drawn
    fig = lab.regret_figure(pd.DataFrame(rows), searches, "a title", log=True)
    assert [(t.name, t.xaxis) for t in fig.data] == [(s, x) for x in ("x", "x2") for s in searches]
    for trace in fig.data:
        table = "digits" if trace.xaxis == "x" else "digits_variations"
        assert list(trace.x) == [5, 10, 15]
        for n, y in zip(trace.x, trace.y, strict=True):
            mine = [r["regret"] for r in rows if (r["table"], r["search"], r["trainings"]) == (table, trace.name, n)]
            assert y == pytest.approx(sum(mine) / 4)
    assert [a.text for a in fig.layout.annotations] == ["digits", "digits_variations"]
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.title.text == "mean regret over 4 seeds (pp, log scale)"
    assert fig.layout.title.text == "a title"
    assert lab.regret_figure(pd.DataFrame(rows), searches, "").layout.yaxis.type is None  # linear unless told


def test_the_grown_space_is_the_shipped_tables_and_every_op_keeps_the_shape():
    recipe = NanoBench.load(lab.shipped("projects06_grown")).meta["recipe"]
    assert list(lab.GROWN_OPS) == recipe["ops"] and lab.GROWN_POSITIONS == recipe["positions"] == 2
    x = torch.randn(2, 16, 8, 8)  # (B, C, H, W)
    for name, make in lab.GROWN_OPS.items():
        assert make(16)(x).shape == x.shape, name
