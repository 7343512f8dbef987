"""NanoBench: the shipped table, its queries against brute force, searches on it, and its honesty."""

import itertools
import json
import shutil

import numpy as np
import pytest

import nanonas
from nanonas import OPERATIONS
from nanonas.bench import COSTS, META, RUNS, TABLES, NanoBench, build, verify
from nanonas.pareto import TIE

TABLE_DIR = TABLES / "digits"  # the shipped digits table


@pytest.fixture(scope="module")
def bench():
    return NanoBench.load()


def test_the_shipped_table_covers_the_whole_space(bench):
    space = set(itertools.product(range(len(OPERATIONS)), repeat=4))
    assert len(bench) == 625 and {tuple(r["dna"]) for r in bench} == space
    assert bench.meta["complete"] and bench.meta["runs"] == 625 * 3
    for r in bench:
        assert len(r["val_accuracies"]) == 3 and all(0 <= a <= 1 for a in r["val_accuracies"])
        assert r["params"] > 0 and r["latency_b1_ms"] > 0 and r["peak_memory_mb"] > 0


def test_the_recipe_is_the_one_nano_nas_uses(bench):
    from nanonas.bench import recipe

    assert bench.meta["recipe"] == recipe()


def test_query_agrees_with_the_csv_rows(bench):
    import csv

    rows = [r for r in csv.DictReader((TABLE_DIR / RUNS).open()) if r["dna"] == "0-1-3-2"]
    record = bench.query([0, 1, 3, 2])
    assert record["ops"] == ["conv3x3", "conv5x5", "skip", "maxpool"]
    assert record["val_accuracy"] == pytest.approx(np.mean([float(r["val_accuracy"]) for r in rows]))
    assert record["train_seconds"] > 0


def test_best_rank_percentile_and_regret_agree_with_brute_force(bench):
    records = list(bench)
    brute_best = max(records, key=lambda r: r["val_accuracy"])
    assert bench.best()["val_accuracy"] == brute_best["val_accuracy"]
    assert bench.rank(bench.best()["dna"]) == 1
    assert bench.regret(bench.best()["dna"]) == 0
    for r in records[::37]:
        better = sum(o["val_accuracy"] > r["val_accuracy"] for o in records)
        assert bench.rank(r["dna"]) == better + 1
        assert bench.regret(r["dna"], "val_accuracy") == pytest.approx(brute_best["val_accuracy"] - r["val_accuracy"])
        assert 0 < bench.percentile(r["dna"]) <= 100


def test_dead_architectures_sit_at_chance(bench):
    dead = [r for r in bench if 4 in r["dna"]]
    assert len(dead) == 625 - 4**4
    assert max(r["val_accuracy"] for r in dead) < 0.2
    assert min(r["val_accuracy"] for r in bench if 4 not in r["dna"]) > 0.2


@pytest.mark.parametrize("minimize", [("latency_b1_ms",), ("params",), ("latency_b256_ms", "params")])
def test_pareto_front_equals_brute_force(bench, minimize):
    front = bench.pareto_front(maximize=("val_accuracy",), minimize=minimize)
    records = list(bench)

    def dominates(a, b, tie=TIE):  # values closer than TIE are equal (rounding, not accuracy): see nanonas.pareto
        ge = a["val_accuracy"] >= b["val_accuracy"] - tie and all(a[m] <= b[m] + tie for m in minimize)
        gt = a["val_accuracy"] > b["val_accuracy"] + tie or any(a[m] < b[m] - tie for m in minimize)
        return ge and gt

    brute = [r for r in records if not any(dominates(o, r) for o in records)]
    assert [r["dna"] for r in front] == [r["dna"] for r in brute]


def test_bad_input(bench):
    with pytest.raises(ValueError, match="a DNA is a list of 4 op indices in 0..4"):
        bench.query([0, 1, 2])
    with pytest.raises(ValueError, match="a DNA is a list of 4 op indices in 0..4"):
        bench.query([0, 1, 2, 7])
    with pytest.raises(ValueError, match="unknown objective 'speed'"):
        bench.pareto_front(minimize=("speed",))


def test_the_shipped_tables_by_space_are_the_folders_meta_says():
    folders = {p.name: json.loads((p / META).read_text())["recipe"] for p in TABLES.iterdir() if (p / META).exists()}
    for space in ("chain", "cell"):
        assert NanoBench.tables(space) == sorted(n for n, r in folders.items() if r.get("space", "chain") == space)
    assert NanoBench.tables() == sorted(folders) == sorted(NanoBench.tables("chain") + NanoBench.tables("cell"))
    assert {"digits", "digits_variations"} <= set(NanoBench.tables("chain"))
    with pytest.raises(ValueError, match="unknown space 'ring'; choose one of: chain, cell"):
        NanoBench.tables("ring")


def test_a_missing_or_corrupted_table_says_how_to_rebuild(tmp_path):
    with pytest.raises(ValueError, match="nanonas bench build"):
        NanoBench.load(tmp_path)
    for name in (RUNS, COSTS, META):
        shutil.copy(TABLE_DIR / name, tmp_path / name)
    (tmp_path / RUNS).write_text("dna,seed,val_accuracy\n0-0-0-0,0,not-a-number\n")
    with pytest.raises(ValueError, match="corrupted.*nanonas bench build"):
        NanoBench.load(tmp_path)
    (tmp_path / META).write_text("{")
    with pytest.raises(ValueError, match="corrupted"):
        NanoBench.load(tmp_path)


def test_searches_on_the_table_are_instant_and_reproducible(bench, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("a search on the table trained a network")

    monkeypatch.setattr(nanonas.core, "train", no_training)  # instant = no training; its speed is in benchmarks/
    a = nanonas.nano_nas("regularized_evolution", evaluations=200, evaluator="bench", seed=4, progress=False)
    b = nanonas.nano_nas("regularized_evolution", evaluations=200, evaluator=bench, seed=4, progress=False)
    assert a.search.history == b.search.history
    result = a.search
    assert result.evaluations == 200 and result.options["evaluator"] == "bench"
    assert result.test_accuracy == bench.query(result.dna)["test_accuracy"]
    assert result.search_cost > result.wall_time  # the simulated cost of training 200 networks
    for h in result.history:  # each lookup is one seed's real figure
        assert h["fitness"] in bench.query(h["dna"])["val_accuracies"]


@pytest.mark.parametrize("strategy", ["random", "evolution", "regularized_evolution"])
def test_every_strategy_runs_on_the_table(strategy):
    model = nanonas.nano_nas(strategy, evaluator="bench", progress=False)
    assert model.search.evaluations > 0 and 0 < model.search.val_accuracy <= 1


def test_darts_scores_its_derived_architecture_on_the_table(bench):
    model = nanonas.nano_nas("darts", epochs=1, evaluator="bench", progress=False)
    assert model.search.history[0]["fitness"] in bench.query(model.dna)["val_accuracies"]


def test_the_table_refuses_a_search_it_was_not_built_for():
    with pytest.raises(ValueError, match="NanoBench was built with channels=16"):
        nanonas.nano_nas("random", evaluator="bench", channels=8, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        nanonas.nano_nas("random", evaluator="bench", train_epochs=3, progress=False)


def test_the_builder_resumes_where_it_stopped(tmp_path):
    build(tmp_path, limit=2, progress=False)
    first = (tmp_path / RUNS).read_text().splitlines()
    build(tmp_path, limit=1, progress=False)  # continues: no row trained twice
    rows = (tmp_path / RUNS).read_text().splitlines()
    assert rows[: len(first)] == first and len(rows) == len(first) + 1
    assert len({tuple(r.split(",")[:2]) for r in rows[1:]}) == 3
    meta = json.loads((tmp_path / META).read_text())
    assert meta["runs"] == 3 and not meta["complete"]


def test_verify_retrains_two_architectures_within_tolerance(bench):
    report = verify(samples=2, seed=0, bench=bench, progress=False)
    assert len(report) == 6
    worst = max(abs(r["difference"]) for r in report)
    assert worst <= 0.01, f"the table drifted from the code by {worst:.4f} accuracy"
