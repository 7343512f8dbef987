"""The live widgets without a browser: the headless run draws the search's real data; Stop, errors, one at a time."""

import threading
import time

import pytest
import torch

from nanonas import OPERATIONS, Task, cells, load_dataset
from nanonas.bench import NanoBench
from nanonas.cells import EDGES
from nanonas.pareto import TIE, dominates
from nanonas.widgets import DartsDashboard, ParetoExplorer, SearchDashboard


@pytest.fixture(scope="module")
def bench():
    return NanoBench.load()


def running_max(values):
    best, out = float("-inf"), []
    for v in values:
        best = max(best, v)
        out.append(best)
    return out


def wait_for(condition, timeout=10.0):
    end = time.perf_counter() + timeout
    while not condition():
        assert time.perf_counter() < end, "timed out"
        time.sleep(0.02)


def evaluations(dashboard) -> int:
    return len(dashboard.progress.data[0].x or [])


@pytest.mark.parametrize("strategy", ["random", "evolution", "regularized_evolution"])
def test_blocking_run_draws_the_search_history(bench, strategy):
    dash = SearchDashboard(bench=bench)
    result = dash.run(strategy=strategy, population_size=10, generations=5, seed=3)
    fitness = [h["fitness"] for h in result.history]
    each, best, optimum = dash.progress.data
    assert list(each.x) == list(range(1, len(fitness) + 1)) and list(each.y) == fitness
    assert list(best.y) == running_max(fitness) == result.best_so_far()
    assert optimum.visible and list(optimum.y) == [bench.best()["val_accuracy"]] * 2
    assert not result.interrupted and dash.error is None and dash.result is result
    assert "finished" in dash.status.value and f"{len(fitness)} evaluations" in dash.status.value
    assert " → ".join(result.ops) in dash.status.value and f"{result.val_accuracy:.2%}" in dash.status.value
    # the population, best first: each row a DNA of the history, with its fitness
    seen = {tuple(h["dna"]): h["fitness"] for h in result.history}
    rows = [tuple(r) for r in dash.population.data[0].z]
    assert rows and all(r in seen for r in rows)
    assert [seen[r] for r in rows] == sorted((seen[r] for r in rows), reverse=True)
    if strategy != "random":
        assert sorted(rows) == sorted(tuple(d) for d in result.extra["populations"][-1])
    # the gene pool: each position's op shares are the population's, and add up to one
    for op, bar in enumerate(dash.gene_pool.data):
        assert list(bar.y) == [sum(r[p] == op for r in rows) / len(rows) for p in range(len(rows[0]))]
    assert dash.options()["strategy"] == strategy  # the controls show what ran


def test_custom_evaluator_and_reset():
    dash = SearchDashboard()
    result = dash.run(strategy="random", evaluations=12, evaluator=lambda dna: sum(dna) / 16)
    assert result.evaluations == 12
    assert result.val_accuracy == max(sum(h["dna"]) / 16 for h in result.history)
    assert not dash.progress.data[2].visible  # no true optimum without NanoBench
    dash.reset()
    assert not dash.progress.data[1].x and not dash.population.data[0].z and dash.result is None
    assert "ready" in dash.status.value


def test_only_the_relevant_controls_show():
    dash = SearchDashboard(strategy="random")
    shown = lambda: {n for n, c in dash.controls.items() if c.layout.display != "none"}
    assert "evaluations" in shown() and not {"mutation_rate", "population_size", "epochs"} & shown()
    dash.controls["strategy"].value = "regularized_evolution"
    assert {"evaluations", "sample_size", "population_size", "mutation_rate"} <= shown()
    assert "pace" in shown()  # NanoBench lookups are instant: a pause makes them watchable
    dash.controls["strategy"].value = "darts"
    assert {"epochs", "arch_lr"} <= shown() and "population_size" not in shown()
    assert "pace" not in shown()  # a supernet trains for real whatever scores its pick
    dash.controls["strategy"].value = "evolution"
    dash.controls["evaluator"].value = "train"
    assert "pace" not in shown()


def test_stop_from_another_thread_stops_within_a_second(bench):
    dash = SearchDashboard(bench=bench, generations=100, pace=0.05)  # ~1000 lookups: 50 s if left alone
    assert dash.start()
    wait_for(lambda: evaluations(dash) >= 5)
    assert dash.running and dash.stop_button.disabled is False and dash.start_button.disabled is True
    asked = time.perf_counter()
    dash.stop()
    assert dash.wait(timeout=5)
    assert time.perf_counter() - asked < 1.0
    count = len(dash.result.history)
    time.sleep(0.3)
    assert len(dash.result.history) == count and evaluations(dash) == count < 1000
    assert dash.result.interrupted and "stopped" in dash.status.value and dash.error is None
    assert dash.start_button.disabled is False and dash.stop_button.disabled is True


def test_a_blocking_run_can_be_stopped_from_another_thread(bench):
    dash = SearchDashboard(bench=bench)
    threading.Timer(0.5, dash.stop).start()
    started = time.perf_counter()
    result = dash.run(generations=100, pace=0.05)
    assert time.perf_counter() - started < 2.0 and result.interrupted and 0 < result.evaluations < 1000


def test_an_error_in_the_evaluator_is_shown_not_swallowed():
    def broken(dna):
        raise ZeroDivisionError("the evaluator broke on purpose")

    dash = SearchDashboard()
    with pytest.raises(ZeroDivisionError):  # blocking: shown and raised
        dash.run(evaluator=broken)
    assert "error" in dash.status.value and "the evaluator broke on purpose" in dash.status.value
    assert "ZeroDivisionError" in dash.status.value and "Traceback" in dash.error_box.value
    assert not dash.running and dash.start_button.disabled is False
    assert dash.start(evaluator=broken) and dash.wait(timeout=10)  # in the background: shown, and kept
    assert isinstance(dash.error, ZeroDivisionError) and "broke on purpose" in dash.status.value


def test_a_bad_option_is_shown_in_words():
    dash = SearchDashboard()
    with pytest.raises(ValueError, match="unknown strategy"):
        dash.run(strategy="evolve")
    assert "unknown strategy" in dash.status.value


def test_one_search_at_a_time(bench):
    dash = SearchDashboard(bench=bench, generations=100, pace=0.05)
    assert dash.start()
    wait_for(lambda: evaluations(dash) >= 1)
    assert not dash.start() and "already running" in dash.status.value
    with pytest.raises(RuntimeError, match="already running"):
        dash.run()
    dash.reset()  # refused while running: the figures stay
    assert dash.running and evaluations(dash) >= 1
    dash.stop()
    assert dash.wait(timeout=5)
    assert dash.run(strategy="random", evaluations=30).evaluations == 30  # free again


def test_darts_dashboard_draws_every_epoch(bench):
    dash = DartsDashboard(bench=bench)
    result = dash.run(epochs=2)
    assert result.strategy == "darts" and result.evaluations == 1
    train_loss, valid_loss = dash.losses.data
    assert list(train_loss.x) == [1, 2] and list(train_loss.y) == result.extra["train_loss"]
    assert list(valid_loss.y) == result.extra["valid_loss"]
    last = result.extra["alphas"][-1]  # (positions, ops) softmax weights of the last epoch
    for op, bar in enumerate(dash.alphas.data):
        assert list(bar.y) == pytest.approx([row[op] for row in last])
    assert result.dna == result.extra["derived"][-1]
    assert " → ".join(result.ops) in dash.derived.value and f"rank {bench.rank(result.dna)} " in dash.derived.value
    assert "finished" in dash.status.value and "epoch 2/2" in dash.status.value


def test_darts_dashboard_drives_a_cell_search_with_the_cells_own_darts():
    scored = []
    dash = DartsDashboard(epochs=1, space="cell")
    result = dash.run(evaluator=lambda dna: scored.append(list(dna)) or 0.5)  # no table holds every cell
    assert result.options["space"] == "cell" and len(result.dna) == len(EDGES) and scored == [result.dna]
    last = result.extra["alphas"][-1]  # (edges, ops)
    assert [bar.x for bar in dash.alphas.data] == [tuple(f"edge {i}→{j}" for i, j in EDGES)] * len(OPERATIONS)
    for op, bar in enumerate(dash.alphas.data):
        assert list(bar.y) == pytest.approx([row[op] for row in last])
    assert "per edge after epoch 1" in dash.alphas.layout.title.text and "finished" in dash.status.value
    # the oracle: the same seed's cells.darts, the cell supernet's DARTS with its own history
    history = cells.darts(Task(load_dataset("digits"), positions=len(EDGES), build_model=cells.build_cell), epochs=1)
    assert torch.equal(torch.tensor(last), history["alphas"][-1]) and result.extra["derived"] == history["derived"]
    assert result.extra["train_loss"] == history["train_loss"] and result.dna == history["derived"][-1]


def test_search_dashboard_runs_darts(bench):
    dash = SearchDashboard(bench=bench)
    result = dash.run(strategy="darts", epochs=1)
    assert result.evaluations == 1 and list(dash.population.data[0].z) == [result.dna]
    shares = [bar.y[0] for bar in dash.gene_pool.data]  # position 1: softmax(alphas), not a population count
    assert shares == pytest.approx(result.extra["alphas"][-1][0]) and sum(shares) == pytest.approx(1)


def test_darts_mode_has_its_own_axes_and_reset_restores_them(bench):
    dash = SearchDashboard(bench=bench)
    dash.run(strategy="darts", epochs=2)
    assert dash.progress.layout.xaxis.title.text == "epoch" and list(dash.progress.data[0].x) == [1, 2]
    assert dash.progress.layout.yaxis.title.text == "cross-entropy loss" and len(dash.progress.data[1].y) == 2
    assert dash.gene_pool.layout.yaxis.title.text == "softmax(alphas)"
    dash.reset()
    assert dash.progress.layout.xaxis.title.text == "evaluations" and dash.progress.layout.title.text == "Best so far"
    assert dash.gene_pool.layout.title.text.startswith("Gene pool") and list(dash.progress.data[0].x) == []
    dash.run(strategy="random", evaluations=5)
    assert dash.progress.layout.yaxis.tickformat == ".0%" and dash.progress.data[0].name == "each evaluation"


def test_a_lucky_lookup_above_the_optimum_is_named(bench):
    dash = SearchDashboard(bench=bench)
    result = dash.run(strategy="random", evaluations=300, seed=0)
    lucky = result.val_accuracy > bench.best()["val_accuracy"]  # one seed's accuracy can beat every mean
    assert lucky == ("one lucky training" in dash.status.value)


def test_pareto_explorer_picks_the_best_under_budget(bench):
    explorer = ParetoExplorer(bench=bench)
    records = list(bench)
    front = {tuple(r["dna"]) for r in explorer.front}
    for latency in (0.06, 0.1, 0.2, 0.3, 0.6):
        for params in (500, 3_000, 10_000, 30_000):
            fits = [r for r in records if r["latency_b1_ms"] <= latency and r["params"] <= params]
            pick = explorer.best_under(latency, params)
            if not fits:
                assert pick is None
                continue
            best = max(r["val_accuracy"] for r in fits)  # brute force, ties (same images right) included
            assert pick["val_accuracy"] >= best - TIE and tuple(pick["dna"]) in front
            twins = [r for r in fits if abs(r["val_accuracy"] - pick["val_accuracy"]) < TIE]
            assert not any(
                dominates((0, -r["latency_b1_ms"], -r["params"]), (0, -pick["latency_b1_ms"], -pick["params"]))
                for r in twins
            )
    # the learner's case: two networks with the same 98.89%, the faster and smaller one must win
    pick = explorer.best_under(0.276, 30_000)
    assert (pick["latency_b1_ms"], pick["params"]) == min(
        (r["latency_b1_ms"], r["params"]) for r in records if r["dna"] in ([0, 0, 1, 2], [0, 0, 0, 1])
    )
    pick = explorer.set_budget(latency_ms=0.1, params=5_000)
    assert pick == explorer.best_under(explorer.latency_slider.value, explorer.params_slider.value)
    star = explorer.figure.data[3]
    assert list(star.x) == [pick["latency_b1_ms"]] and list(star.y) == [pick["val_accuracy"]]
    inside, live = explorer.figure.data[1], [r for r in records if "zero" not in r["ops"]]  # dead ones hidden
    assert len(inside.x) == sum(r["latency_b1_ms"] <= 0.1 and r["params"] <= 5_000 for r in live)
    explorer.dead_toggle.value = True  # ticking the box brings them back
    assert len(explorer.figure.data[1].x) == sum(r["latency_b1_ms"] <= 0.1 and r["params"] <= 5_000 for r in records)
    assert " → ".join(pick["ops"]) in explorer.pick.value
    assert len(OPERATIONS) ** bench.positions == len(records)


def test_darts_dashboard_stops_after_an_epoch(bench):
    dash = DartsDashboard(bench=bench, epochs=50)
    assert dash.start()
    wait_for(lambda: len(dash.epochs) >= 1, timeout=30)
    asked_at = len(dash.epochs)
    dash.stop()
    assert dash.wait(timeout=30) and len(dash.epochs) <= asked_at + 1  # the epoch under way ends, then it stops
    result = dash.result  # stopped: the architecture derived now, scored
    assert result.interrupted and result.dna == result.extra["derived"][-1] and len(dash.epochs) < 50
    assert "stopped" in dash.status.value


def widgets_in(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from widgets_in(child)


def figure_without_uids(figure) -> dict:
    return {
        "data": [{k: v for k, v in t.items() if k != "uid"} for t in figure.to_dict()["data"]],
        **figure.layout.to_plotly_json(),
    }


def drew(figure, traces: int):
    """What plotly's browser view replies after drawing: one delta per trace it holds (a lost view holds none)."""
    deltas = [{"uid": t.uid} for t in figure.data[:traces]]
    figure.set_state({"_js2py_traceDeltas": {"trace_deltas": deltas, "trace_edit_id": figure._last_trace_edit_id}})


@pytest.mark.parametrize(
    "make, name", [(SearchDashboard, "progress"), (DartsDashboard, "losses"), (ParetoExplorer, "figure")]
)
def test_a_figure_the_browser_drew_without_its_traces_is_replaced_by_a_fresh_one(bench, make, name):
    dash = make(bench=bench)
    kept = getattr(dash, name)
    drew(kept, len(kept.data))  # a view that drew every trace: left alone
    assert getattr(dash, name) is kept
    for _ in range(3):  # anywidget dropped the figure's messages: the view drew plotly's empty default figure
        lost = getattr(dash, name)
        drew(lost, 0)
        fresh = getattr(dash, name)
        assert fresh is not lost and lost.comm is None  # a new widget (a new browser model), the lost one closed
        assert figure_without_uids(fresh) == figure_without_uids(lost)
        assert fresh in widgets_in(dash.widget) and lost not in widgets_in(dash.widget)
    drew(fresh, 0)
    assert getattr(dash, name) is fresh  # three tries, then it stays
    if make is SearchDashboard:
        result = dash.run(generations=2, population_size=5)  # the search draws on the fresh one
        assert len(dash.progress.data[0].x) == result.evaluations > 0 and dash.progress is fresh
