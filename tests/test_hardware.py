"""The latency lookup table: its prediction is its parts' sum, profiles set the threads and give them back, the
measuring protocol takes medians of shuffled rounds, and the shipped benchmark's figures are what its rows give.

No test times anything: a fake clock (a `latency_ms` that answers from the module it is given) stands in for the
machine, so every figure has an exact expected value."""

import itertools
import json
import random
from pathlib import Path

import pytest
import torch
from torch import nn

from nanonas import hardware
from nanonas.bench import NanoBench, using_ops
from nanonas.core import OPERATIONS, Zero, build_model
from nanonas.hardware import LatencyTable, Profile

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "hardware.json"
COST = {nn.Conv2d: 1.0, nn.BatchNorm2d: 0.25, nn.ReLU: 0.125, nn.MaxPool2d: 0.5, Zero: 0.0625, nn.Linear: 2.0}


def additive_machine(module, shape, batch, repeats, warmup, device="cpu"):
    """A fake `measure.latency_ms` of a machine where a network costs exactly the sum of its layers (no fusion)."""
    return sum(COST.get(type(m), 0.0) for m in module.modules()) * batch


def test_the_prediction_is_stem_plus_ops_plus_head():
    table = LatencyTable("toy", stem=1.0, ops={"a": 0.25, "b": 2.0, "c": 0.0}, head=0.5)
    assert table.predict([0, 1, 1]) == 1.0 + 0.25 + 2.0 + 2.0 + 0.5
    assert table.predict([2]) == 1.5
    rng = random.Random(0)
    for _ in range(50):
        dna = [rng.randrange(3) for _ in range(rng.randrange(1, 6))]
        assert table.predict(dna) == table.stem + sum(table.ops["abc"[i]] for i in dna) + table.head


@pytest.mark.parametrize("dna", [[0, 3], [True], [-1], [0, 0.5]], ids=["out of range", "bool", "negative", "float"])
def test_a_dna_the_table_cannot_read_is_a_value_error(dna):
    table = LatencyTable("toy", 1.0, {"a": 0.25, "b": 2.0, "c": 0.0}, 0.5)
    with pytest.raises(ValueError, match=r"0\.\.2 \(a, b, c\)"):
        table.predict(dna)


def test_on_an_additive_machine_the_table_is_exact(monkeypatch):
    """Where a network costs the sum of its parts, the table predicts every architecture exactly."""
    monkeypatch.setattr(hardware, "latency_ms", additive_machine)
    space = [list(d) for d in itertools.product(range(len(OPERATIONS)), repeat=2)]
    table, measured = hardware.table_and_networks(space, "phone-like", rounds=3, repeats=1)
    assert table.ops == {"conv3x3": 1.375, "conv5x5": 1.375, "maxpool": 0.5, "skip": 0.0, "zero": 0.0625}
    assert (table.stem, table.head) == (1.375, 2.0)
    assert [table.predict(d) for d in space] == measured
    error = hardware.prediction_error([table.predict(d) for d in space], measured)
    assert error["mape"] == 0 and error["spearman"] == pytest.approx(1.0)
    assert hardware.build_table("server-like", rounds=3).ops["maxpool"] == 0.5 * 256  # the profile's batch


def test_the_table_is_the_median_of_shuffled_rounds_after_a_warm_up(monkeypatch):
    parts = {name: (make(16), (16, 8, 8)) for name, make in OPERATIONS.items()}
    name_of = {id(module): name for name, (module, _) in parts.items()}
    calls, draws, rng = [], {name: [] for name in parts}, random.Random(1)

    def machine(module, shape, batch, repeats, warmup, device="cpu"):
        calls.append((name_of[id(module)], repeats, warmup))
        if warmup:
            return 1e6  # a warm-up's figure is never used
        draws[name_of[id(module)]].append(value := rng.choice([1.0, 2.0, 3.0, 100.0]))
        return value

    monkeypatch.setattr(hardware, "latency_ms", machine)
    ms, rounds = hardware.measure(parts, "phone-like", rounds=9, repeats=4)
    n = len(parts)
    assert rounds == 9 and all(w > 0 for _, _, w in calls[:n]) and all(w == 0 and r == 4 for _, r, w in calls[n:])
    orders = [tuple(name for name, _, _ in calls[n + i * n : n + (i + 1) * n]) for i in range(rounds)]
    assert all(sorted(o) == sorted(parts) for o in orders) and len(set(orders)) > 1, "every part each round, shuffled"
    assert ms == {name: sorted(values)[4] for name, values in draws.items()}  # the median of 9 rounds


def test_a_build_stops_after_max_seconds_but_not_before_three_rounds(monkeypatch):
    monkeypatch.setattr(hardware, "latency_ms", additive_machine)
    assert hardware.build_table("phone-like", rounds=50, max_seconds=0).meta["rounds"] == 3
    assert hardware.build_table("phone-like", rounds=5, max_seconds=None).meta["rounds"] == 5


def test_the_table_times_every_op_of_the_space_even_a_new_one(monkeypatch):
    monkeypatch.setattr(hardware, "latency_ms", additive_machine)
    grown = {**OPERATIONS, "avgpool": lambda C: nn.AvgPool2d(3, stride=1, padding=1)}
    with using_ops(grown):
        table = hardware.build_table("phone-like", rounds=3)
    assert list(table.ops) == list(grown) and table.ops["avgpool"] == 0.0
    assert table.meta["batch"] == 1 and table.meta["threads"] == 1 and table.meta["input_shape"] == [1, 8, 8]


def test_a_table_survives_json():
    table = LatencyTable("toy", 1.0, {"a": 0.25, "b": 2.0}, 0.5, {"batch": 1})
    again = LatencyTable.from_dict(json.loads(json.dumps(table.as_dict())))
    assert again == table and list(again.ops) == ["a", "b"]


def test_a_real_table_is_positive_and_adds_up():
    """One real (tiny) build: every part took some time, and the prediction is their sum (no timing asserted)."""
    table = hardware.build_table("phone-like", rounds=3, repeats=1)
    assert table.stem > 0 and table.head > 0 and all(ms > 0 for ms in table.ops.values())
    assert list(table.ops) == list(OPERATIONS) and table.meta["rounds"] == 3 and table.profile == "phone-like"
    ops = list(table.ops.values())
    assert table.predict([0, 1, 2, 3]) == table.stem + sum([ops[0], ops[1], ops[2], ops[3]]) + table.head
    assert hardware.measure_networks([[0, 1, 2, 3]], "phone-like", rounds=3, repeats=1)[0] > 0


# -- profiles


def test_profiles_set_the_threads_and_give_them_back():
    torch.set_num_threads(1)
    with hardware.using("server-like") as profile:
        assert torch.get_num_threads() == hardware.cores() == profile.threads and profile.batch == 256
    assert torch.get_num_threads() == 1
    with hardware.using(Profile("three", batch=4, threads=3)):
        assert torch.get_num_threads() == 3
        with hardware.using("phone-like"):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 3
    with pytest.raises(RuntimeError), hardware.using(Profile("two", batch=1, threads=2)):
        raise RuntimeError("a failed measurement")
    assert torch.get_num_threads() == 1, "given back after an error too"


def test_measuring_gives_the_threads_back(monkeypatch):
    monkeypatch.setattr(hardware, "latency_ms", additive_machine)
    torch.set_num_threads(1)
    table = hardware.build_table(Profile("three", batch=2, threads=3), rounds=3)
    assert torch.get_num_threads() == 1 and table.meta["threads"] == 3 and table.profile == "three"


@pytest.mark.parametrize("name", ["phone", "Phone-like", "tpu", None])
def test_an_unknown_profile_is_a_value_error_naming_the_profiles(name):
    with pytest.raises(ValueError, match="unknown device profile.*choose one of: phone-like, server-like"):
        hardware.get_profile(name)


def test_cuda_is_a_profile_only_where_there_is_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert list(hardware.profiles()) == ["phone-like", "server-like"]
    with pytest.raises(ValueError, match="no CUDA device on this machine; choose one of: phone-like, server-like$"):
        hardware.build_table("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    cuda = hardware.get_profile("cuda")
    assert (cuda.device, cuda.batch, cuda.threads) == ("cuda", 256, None)


# -- scoring a prediction, and the search under a budget


def test_prediction_error_against_hand_computed_values():
    error = hardware.prediction_error([2.0, 2.0, 9.0], [1.0, 4.0, 10.0])
    assert error["mape"] == pytest.approx(100 * (1.0 + 0.5 + 0.1) / 3)
    assert error["spearman"] == pytest.approx(0.8660254)  # ranks (1.5, 1.5, 3) vs (1, 2, 3): ties share their rank
    assert hardware.prediction_error([3, 2, 1], [1, 2, 3])["spearman"] == pytest.approx(-1.0)


def test_calibrated_is_the_least_squares_line():
    cost = [0, 10, 20, 30]
    assert hardware.calibrated(cost, [1 + 2 * c for c in cost]) == pytest.approx([1, 21, 41, 61])
    assert hardware.calibrated([0, 0, 1, 1], [1, 3, 5, 7]) == pytest.approx([2, 2, 6, 6])


def test_best_under_a_budget():
    table = LatencyTable("toy", 0.0, {"fast": 1.0, "slow": 3.0}, 0.0)
    records = [
        {"dna": [1, 1], "val_accuracy": 0.99},  # 6 ms
        {"dna": [0, 1], "val_accuracy": 0.95},  # 4 ms
        {"dna": [1, 0], "val_accuracy": 0.95},  # 4 ms: a tie, later
        {"dna": [0, 0], "val_accuracy": 0.95},  # 2 ms: the same accuracy, faster
        {"dna": [0, 0], "val_accuracy": 0.90},
    ]
    assert hardware.best_under(table, records, 6.0)["dna"] == [1, 1]  # the budget is inclusive
    assert hardware.best_under(table, records, 5.9) is records[3]
    assert hardware.best_under(table, records[:3], 4.0) is records[1]  # tie in both: the first
    assert hardware.best_under(table, records, 1.9) is None


# -- the shipped benchmark: its figures are what its rows and tables give


@pytest.mark.skipif(not RESULTS.exists(), reason="benchmarks/hardware.py has not been run")
def test_the_shipped_benchmark_figures_are_what_its_rows_give():
    out = json.loads(RESULTS.read_text())
    rows, bench = out["rows"], NanoBench.load("digits")
    assert len(rows) == out["meta"]["architectures"] == 625
    for name, p in out["meta"]["profiles"].items():
        table = LatencyTable.from_dict(p["table"])
        measured = [r[f"{name}_measured_ms"] for r in rows]
        assert [table.predict(r["dna"]) for r in rows] == pytest.approx([r[f"{name}_predicted_ms"] for r in rows])
        assert hardware.prediction_error([r[f"{name}_predicted_ms"] for r in rows], measured) == pytest.approx(
            p["figures"]["lookup table (same rounds)"]
        )
        macs = hardware.calibrated([r["macs"] for r in rows], measured)
        assert hardware.prediction_error(macs, measured) == pytest.approx(
            p["figures"]["MACs (line fitted to measured)"]
        )
        assert [r["macs"] for r in rows] == [bench.query(r["dna"])["macs"] for r in rows]
        assert LatencyTable.from_dict(p["table_alone"]).meta["seconds"] <= 60, "the issue's limit on a build"
        best = hardware.best_under(table, list(bench), p["budget_ms"])
        assert best["dna"] == p["best_under_budget"]["dna"]
        assert p["budget_ms"] == hardware.latency_budget(table, list(bench), out["meta"]["budget_share"])


def test_a_fused_network_computes_the_same_without_batchnorm():
    torch.manual_seed(0)
    model = build_model([0, 1, 2, 3])
    model.train()(torch.randn(64, 1, 8, 8))  # BatchNorm statistics that are not the identity
    fused = hardware.fuse_conv_bn(model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules()), "the original is left alone"
    x = torch.randn(5, 1, 8, 8)
    assert torch.allclose(fused(x), model.eval()(x), atol=1e-5)


def test_a_budget_admits_its_share_of_live_architectures():
    table = LatencyTable("toy", 0.0, {"a": 1.0, "b": 2.0, "zero": 0.0}, 0.0)
    records = [{"dna": [i, j], "ops": [["a", "b", "zero"][k] for k in (i, j)]} for i in range(3) for j in range(3)]
    live = sorted(table.predict(r["dna"]) for r in records if "zero" not in r["ops"])  # 2, 3, 3, 4
    assert live == [2.0, 3.0, 3.0, 4.0]
    assert hardware.latency_budget(table, records, 0.0) == 2.0 and hardware.latency_budget(table, records, 1.0) == 4.0
    assert hardware.latency_budget(table, records, 0.5) == 3.0


def test_records_of_another_space_are_refused_not_mispredicted():
    table = LatencyTable("toy", 0.0, {"a": 1.0, "b": 2.0}, 0.0)
    records = [{"dna": [0, 1], "ops": ["b", "a"], "val_accuracy": 0.9}]  # the records' space orders its ops otherwise
    with pytest.raises(ValueError, match="the table times a, b"):
        hardware.best_under(table, records, 10.0)
    with pytest.raises(ValueError, match="the table times a, b"):
        hardware.latency_budget(table, records)
    assert hardware.best_under(table, [dict(records[0], ops=["a", "b"])], 10.0)["dna"] == [0, 1]
