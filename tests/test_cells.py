"""The cell space (nanonas.cells) against oracles: a supernet's path is the cell it names, one-hot alphas are that
path, liveness is whether the output depends on the input, and a cell table builds and loads like NanoBench."""

import itertools
import random

import pytest
import torch

from nanonas import cells
from nanonas.bench import NanoBench, build
from nanonas.cells import EDGES, build_cell, is_live
from nanonas.core import OPERATIONS, Task, train
from nanonas.data import load_dataset

ZERO, SKIP = list(OPERATIONS).index("zero"), list(OPERATIONS).index("skip")


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits")


def small(data, n=128):
    """The first n training images as a whole dataset: a cheap stand-in for training steps."""
    X, y = data.train
    return type(data)(data.name, (X[:n], y[:n]), (X[:n], y[:n]), (X[:n], y[:n]), data.num_classes)


def test_edges_reach_every_node_from_every_earlier_one():
    assert EDGES == [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    assert sorted(EDGES) == sorted(itertools.combinations(range(cells.NODES), 2))


def test_a_cell_of_one_skip_from_input_to_output_is_the_identity():
    dna = [ZERO] * 6
    dna[EDGES.index((0, 3))] = SKIP
    cell = build_cell(dna).positions[0]
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(cell(x), x)
    dna[EDGES.index((0, 1))] = dna[EDGES.index((1, 3))] = SKIP  # two paths: the node sums them
    assert torch.equal(build_cell(dna).positions[0](x), 2 * x)


def test_is_live_is_whether_the_output_depends_on_the_input():
    rng = random.Random(0)
    dnas = [[rng.choice([ZERO, ZERO, SKIP, 2, 0]) for _ in EDGES] for _ in range(150)]
    x1, x2 = torch.randn(1, 16, 8, 8), torch.randn(1, 16, 8, 8)
    for dna in dnas:
        torch.manual_seed(0)
        cell = build_cell(dna).positions[0].eval()
        depends = not torch.equal(cell(x1), cell(x2))
        assert is_live(dna) == depends, dna
    assert {is_live(d) for d in dnas} == {True, False}


def test_the_stratified_sample_is_live_distinct_seeded_and_fills_every_stratum():
    sample = cells.stratified_sample(per_stratum=10, seed=3)
    assert sample == cells.stratified_sample(per_stratum=10, seed=3) != cells.stratified_sample(10, seed=4)
    assert all(is_live(d) for d in sample) and len({tuple(d) for d in sample}) == len(sample) == 70
    counts = [sum(cells.conv_edges(d) == k for d in sample) for k in range(7)]
    assert counts == [10] * 7
    assert len(cells.stratified_sample(per_stratum=100)) == 6 * 100 + 64  # only 64 cells have six convolutions


def test_a_supernet_on_a_path_computes_the_cell_it_names(data):
    task = Task(small(data), positions=6)
    net = cells.supernet(task).eval()
    dna = [0, 3, 1, 2, 4, 0]
    model = build_cell(dna).eval()
    model.stem.load_state_dict(net.stem.state_dict())
    model.head.load_state_dict(net.head.state_dict())
    for e, k in enumerate(dna):
        model.positions[0].edges[e].load_state_dict(net.positions[0].edges[e].ops[k].state_dict())
    x = data.valid[0][:16]
    with torch.no_grad(), cells.on_path(net, dna):
        assert torch.allclose(net(x), model(x), atol=1e-6)
    assert all(cell.path is None for cell in net.positions), "the path is cleared after use"


def test_one_hot_alphas_are_the_path(data):
    net = cells.supernet(Task(small(data), positions=6)).eval()
    dna = [1, 0, 3, 0, 2, 3]
    with torch.no_grad():
        for mixed, k in zip(net.positions[0].edges, dna):
            mixed.alphas.fill_(-float("inf"))
            mixed.alphas[k] = 0.0
        x = data.valid[0][:16]
        mixture = net(x)
        with cells.on_path(net, dna):
            assert torch.allclose(mixture, net(x), atol=1e-6)
    assert cells.derive(net) == dna


def test_derive_never_picks_zero():
    net = cells.supernet(Task(load_dataset("digits"), positions=6))
    with torch.no_grad():
        for mixed in net.positions[0].edges:
            mixed.alphas.zero_()
            mixed.alphas[ZERO] = 5.0
            mixed.alphas[SKIP] = 1.0
    assert cells.derive(net) == [SKIP] * 6


def test_darts_records_every_epoch_and_the_auxiliary_skip_decays_to_zero(data):
    seen, task = [], Task(small(data), positions=6, batch_size=64)
    net = cells.supernet(task)
    history = cells.darts(
        task, epochs=3, aux_skip=True, net=net, on_epoch=lambda *epoch: seen.append((net.positions[0].aux_skip, epoch))
    )
    assert [beta for beta, _ in seen] == [1.0, 0.5, 0.0]
    # core.darts's hook: (epoch, softmax(alphas), derived cell, training loss, validation loss), as history keeps them
    for e, (_, (epoch, weights, dna, train_loss, valid_loss)) in enumerate(seen):
        assert epoch == e and torch.equal(weights, history["alphas"][e]) and dna == history["derived"][e]
        assert (train_loss, valid_loss) == (history["train_loss"][e], history["valid_loss"][e])
    assert [a.shape for a in history["alphas"]] == [(6, len(OPERATIONS))] * 3
    assert all(torch.allclose(a.sum(-1), torch.ones(6)) for a in history["alphas"])
    assert all(ZERO not in d and len(d) == 6 for d in history["derived"]) and len(history["train_loss"]) == 3
    again = cells.darts(task, epochs=3, aux_skip=True)
    assert again["derived"] == history["derived"] and torch.equal(again["alphas"][-1], history["alphas"][-1])


def test_perturbation_selection_keeps_the_op_whose_removal_hurts_most(data, monkeypatch):
    net = cells.supernet(Task(small(data), positions=6))
    important = [0, 2, 3, 1, 3, 0]  # on each edge, the op the (stand-in) accuracy depends on

    def stand_in_accuracy(model, X, y):  # the weight left on each edge's important op
        weights = cells.alphas_of(model)
        return sum(weights[e, k].item() for e, k in enumerate(important))

    monkeypatch.setattr(cells, "accuracy", stand_in_accuracy)
    before = [m.alphas.detach().clone() for m in net.positions[0].edges]
    assert cells.perturbation_select(net, data) == important
    assert all(torch.equal(m.alphas, b) for m, b in zip(net.positions[0].edges, before)), "alphas are restored"


def test_supernet_accuracy_recalibrates_batchnorm_and_leaves_the_supernet_as_it_was(data):
    net = cells.train_one_shot(Task(small(data, 256), positions=6, batch_size=64), epochs=1)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    dna = [0, 1, 3, 0, 2, 1]
    plain = cells.supernet_accuracy(net, dna, data)
    fresh = cells.supernet_accuracy(net, dna, data, recalibrate=True, batches=2)
    assert 0 <= plain <= 1 and 0 <= fresh <= 1
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in state.items())
    assert cells.supernet_accuracy(net, dna, data) == plain
    assert cells.supernet_accuracy(net, dna, data, recalibrate=True, batches=2) == fresh


def test_core_trains_a_cell_through_the_task(data):
    task = Task(small(data), positions=6, epochs=1, build_model=build_cell)
    model, loss = train([0, 3, 1, 2, 4, 0], task)
    assert model.dna == [0, 3, 1, 2, 4, 0] and loss > 0
    with pytest.raises(ValueError, match="a DNA is a list of 6 op indices"):
        build_cell([0, 1, 2, 3])


def test_a_cell_table_builds_resumes_and_loads(tmp_path, data):
    out, first, second = tmp_path / "cells", [[0, 3, 1, 2, 4, 0]], [[3, 3, 3, 3, 3, 3]]
    build(out, dataset=small(data), space="cell", architectures=first, seeds=[0], epochs=1, progress=False)
    build(out, dataset=small(data), space="cell", architectures=second, seeds=[0], epochs=1, progress=False)
    bench = NanoBench.load(out)
    assert bench.meta["recipe"]["space"] == "cell" and bench.positions == 6 and bench.meta["complete"]
    assert bench.meta["sample"] == ["0-3-1-2-4-0", "3-3-3-3-3-3"] and len(bench) == 2
    assert bench.query(first[0])["params"] == sum(p.numel() for p in build_cell(first[0]).parameters())
    with pytest.raises(ValueError, match="space"):
        bench.check_task(Task(small(data), positions=6, epochs=1))  # a chain search cannot use a cell table
    bench.check_task(Task(small(data), positions=6, epochs=1, build_model=build_cell))
    build(out, dataset=small(data), space="cell", seeds=[0, 1], epochs=1, progress=False)  # resume: a seed more
    again = NanoBench.load(out)
    assert len(again) == 2 and again.meta["runs"] == 4, "a resumed cell table trains its own sample, not the space"
    with pytest.raises(ValueError, match="a cell space has 15,625 architectures: give architectures="):
        build(tmp_path / "whole", dataset=small(data), space="cell", seeds=[0], epochs=1, progress=False)
    with pytest.raises(ValueError, match="a cell has 6 edges"):
        build(tmp_path / "x", dataset=small(data), space="cell", positions=4, architectures=first, progress=False)
    with pytest.raises(ValueError, match="unknown space 'dag'; choose one of: chain, cell"):
        build(tmp_path / "x", dataset=small(data), space="dag", progress=False)


def test_darts_trains_in_train_mode_after_an_on_epoch_that_scored_the_supernet(data):
    modes, task = [], Task(small(data), positions=6, batch_size=64)
    plain = cells.darts(task, epochs=2)
    net = cells.supernet(task)

    def score_then_look(epoch, *_):
        cells.perturbation_select(net, task.data)  # leaves the supernet in eval mode
        modes.append(net.training)

    scored = cells.darts(task, epochs=2, on_epoch=score_then_look, net=net)
    assert modes == [False, False]
    assert torch.equal(plain["alphas"][-1], scored["alphas"][-1]), "scoring between epochs changes nothing"


def test_the_command_line_builds_a_stratified_cell_table(tmp_path, capsys):
    from nanonas.cli import main

    out = tmp_path / "cells"
    args = ["bench", "build", "--space", "cell", "--sample", "1", "--seeds", "0", "--epochs", "1", "--out", str(out)]
    assert main(args) == 0
    bench = NanoBench.load(out)
    assert [r["dna"] for r in sorted(bench, key=lambda r: r["dna"])] == sorted(cells.stratified_sample(1))
    assert bench.meta["complete"] and bench.meta["recipe"]["space"] == "cell"
    with pytest.raises(SystemExit):
        main(["bench", "build", "--sample", "3", "--out", str(tmp_path / "chain")])
    assert "--sample takes a positive number of cells per stratum, with --space cell" in capsys.readouterr().err
