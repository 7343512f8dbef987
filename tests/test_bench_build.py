"""Building a NanoBench for any space: a tiny custom-space table end to end, resuming, and its guard rails."""

import json

import pytest
import torch.nn as nn

import nanonas
from nanonas import OPERATIONS
from nanonas.bench import COSTS, META, RUNS, NanoBench, build, using_ops, verify

TINY = {"epochs": 2, "channels": 4}  # a recipe that trains in a blink: the test is about plumbing


@pytest.fixture(scope="module")
def custom_ops():
    return {"conv3x3": OPERATIONS["conv3x3"], "avgpool": lambda C: nn.AvgPool2d(3, stride=1, padding=1)}


@pytest.fixture(scope="module")
def tiny_table(tmp_path_factory, custom_ops):
    out = tmp_path_factory.mktemp("tiny")
    build(out, ops=custom_ops, positions=2, seeds=(0,), workers=2, progress=False, **TINY)
    return out


def test_a_custom_space_table_is_built_end_to_end(tiny_table, custom_ops):
    bench = NanoBench.load(tiny_table)
    assert len(bench) == 4 and bench.meta["complete"] and bench.meta["runs"] == 4  # 2 ops ** 2 positions x 1 seed
    recipe = bench.meta["recipe"]
    assert recipe["ops"] == ["conv3x3", "avgpool"] and recipe["positions"] == 2 and recipe["seeds"] == [0]
    assert (recipe["epochs"], recipe["channels"], recipe["dataset"]) == (2, 4, "digits")
    assert "AvgPool2d" in bench.meta["ops_source"]["avgpool"]  # how the learner's op was built is on record
    assert bench.meta["data"]["input_shape"] == [1, 8, 8] and bench.meta["build_workers"] == 2
    assert bench.query([1, 1])["ops"] == ["avgpool", "avgpool"] and bench.query([1, 1])["params"] > 0
    assert list(OPERATIONS) == ["conv3x3", "conv5x5", "maxpool", "skip", "zero"]  # the build left the space alone


def test_the_table_reproduces_and_searches_on_it(tiny_table, custom_ops):
    bench = NanoBench.load(tiny_table)
    with using_ops(custom_ops):  # the learner's space, as after OPERATIONS["avgpool"] = ...
        report = verify(samples=2, bench=bench, progress=False)
        # forked workers train exactly like this process: only the table's 6 significant digits differ
        assert [r["difference"] for r in report] == [pytest.approx(0, abs=1e-6)] * 2
        model = nanonas.nano_nas(
            "random", evaluations=4, positions=2, channels=4, train_epochs=2, evaluator=bench, progress=False
        )
    assert model.search.dna == bench.best()["dna"]  # 4 lookups cover this whole space


def test_a_search_with_other_ops_or_recipe_is_refused(tiny_table):
    bench = NanoBench.load(tiny_table)
    with pytest.raises(ValueError, match="ops"):
        nanonas.nano_nas("random", evaluations=2, positions=2, channels=4, train_epochs=2, evaluator=bench)
    with pytest.raises(ValueError, match="this table was built with ops that OPERATIONS lacks: avgpool"):
        verify(samples=1, bench=bench, progress=False)


def test_building_resumes_and_adds_seeds(tmp_path):
    ops = ["conv3x3", "skip"]
    build(tmp_path, ops=ops, positions=2, seeds=(0, 1), limit=3, progress=False, **TINY)
    assert len((tmp_path / RUNS).read_text().splitlines()) == 1 + 3
    assert not json.loads((tmp_path / META).read_text())["complete"]
    with (tmp_path / RUNS).open("a") as f:
        f.write("0-1,1,0.5")  # a row cut short when a build was killed mid-write
    build(tmp_path, ops=ops, positions=2, seeds=(0, 1), progress=False, **TINY)
    bench = NanoBench.load(tmp_path)
    assert bench.meta["complete"] and bench.meta["runs"] == 8
    build(tmp_path, ops=ops, positions=2, seeds=(2,), progress=False, **TINY)  # one more seed
    bench = NanoBench.load(tmp_path)
    assert bench.meta["recipe"]["seeds"] == [0, 1, 2] and bench.meta["runs"] == 12 and bench.meta["complete"]
    assert len((tmp_path / COSTS).read_text().splitlines()) == 1 + 4


def test_building_into_a_table_of_another_recipe_is_refused(tmp_path):
    build(tmp_path, ops=["skip"], positions=1, seeds=(0,), progress=False, **TINY)
    with pytest.raises(ValueError, match="holds a table built with positions=1"):
        build(tmp_path, ops=["skip"], positions=2, seeds=(0,), progress=False, **TINY)
    with pytest.raises(ValueError, match="ops must be a list of names from OPERATIONS"):
        build(tmp_path, ops=["avgpool"], progress=False)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        build(tmp_path, ops=["skip"], positions=1, workers=0, progress=False)


def test_tables_load_by_name_and_unknown_names_say_what_ships():
    assert NanoBench.load("digits").meta["recipe"]["dataset"] == "digits"
    with pytest.raises(ValueError, match="no NanoBench table named 'cifar10'.*shipped ones are: digits"):
        NanoBench.load("cifar10")


def test_the_command_line_builds_and_verifies_a_custom_table(tmp_path, capsys):
    from nanonas.cli import main

    out = str(tmp_path / "t")
    args = ["--out", out, "--ops", "skip", "conv3x3", "--positions", "1", "--seeds", "0", "--epochs", "1"]
    assert main(["bench", "build", *args, "--channels", "4"]) == 0
    meta = json.loads((tmp_path / "t" / META).read_text())
    assert meta["recipe"]["ops"] == ["skip", "conv3x3"] and meta["complete"] and meta["runs"] == 2
    with using_ops({n: OPERATIONS[n] for n in ("skip", "conv3x3")}):
        assert main(["bench", "verify", "--table", out, "--samples", "2"]) == 0
    assert "largest difference 0.0000" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["bench", "build", "--out", out, "--ops", "avgpool"])


def test_chosen_architectures_can_be_built_first(tmp_path):
    ops = ["conv3x3", "skip"]
    build(tmp_path, ops=ops, positions=2, seeds=(0, 1), architectures=[[1, 1]], progress=False, **TINY)
    bench = NanoBench.load(tmp_path)
    assert len(bench) == 1 and bench.query([1, 1])["seeds"] == [0, 1] and not bench.meta["complete"]
    with pytest.raises(ValueError, match="architectures must be DNAs of 2 op indices in 0..1"):
        build(tmp_path, ops=ops, positions=2, architectures=[[2, 0]], progress=False, **TINY)


def test_building_a_finished_table_again_changes_nothing(tmp_path):
    build(tmp_path, ops=["skip"], positions=1, seeds=(0,), progress=False, **TINY)
    before = {name: (tmp_path / name).read_bytes() for name in (RUNS, COSTS, META)}
    build(tmp_path, ops=["skip"], positions=1, seeds=(0,), progress=False, **TINY)
    assert {name: (tmp_path / name).read_bytes() for name in (RUNS, COSTS, META)} == before


def test_a_build_in_this_process_trains_on_one_thread_and_gives_the_threads_back(tmp_path, monkeypatch):
    import torch

    from nanonas import bench

    seen = []
    train_one = bench._train_one
    monkeypatch.setattr(bench, "_train_one", lambda job: seen.append(torch.get_num_threads()) or train_one(job))
    torch.set_num_threads(2)  # the conftest fixture sets one again after the test
    build(tmp_path / "t", ops=["skip", "maxpool"], positions=1, seeds=(0,), workers=1, progress=False, **TINY)
    assert seen == [1, 1] and torch.get_num_threads() == 2
