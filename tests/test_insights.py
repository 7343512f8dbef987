"""nas_insights: every figure carries real data, checked against brute force over the NanoBench records."""

import importlib.util
import itertools
import random
import re
import statistics
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

import nanonas
from course import lab
from nanonas import OPERATIONS
from nanonas.bench import COST_FIELDS, NanoBench, recipe, using_ops
from nanonas.palette import short
from nanonas.pareto import TIE
from nas_insights import ArchitectureDNA, ParetoAnalyzer, SearchLandscape, explore_nas_concepts

N_OPS = len(OPERATIONS)


@pytest.fixture(scope="module")
def bench():
    return NanoBench.load()


@pytest.fixture(scope="module")
def dna(bench):
    return ArchitectureDNA(bench=bench, seed=0)


@pytest.fixture(scope="module")
def landscape(bench):
    return SearchLandscape(bench=bench, seed=0)


@pytest.fixture(scope="module")
def pareto(bench):
    return ParetoAnalyzer(bench=bench, seed=0)


def traces(fig, name_start: str) -> list:
    return [t for t in fig.data if (t.name or "").startswith(name_start)]


def brute_local_optima(records) -> set:
    acc = {tuple(r["dna"]): r["val_accuracy"] for r in records}
    one_apart = lambda a, b: sum(x != y for x, y in zip(a, b)) == 1
    return {d for d in acc if not any(one_apart(d, e) and acc[e] > acc[d] for e in acc)}


def brute_area(points, ref) -> float:
    """Area dominated by `points` above `ref`: each strip between two x coordinates, up to the highest point right
    of it (a different sweep from hypervolume_2d's, which walks the front)."""
    xs = sorted({ref[0], *(p[0] for p in points if p[0] > ref[0])})
    return sum((x1 - x0) * max(0.0, max(p[1] for p in points if p[0] >= x1) - ref[1]) for x0, x1 in zip(xs, xs[1:]))


# -- ArchitectureDNA
def test_gene_pool_shares_sum_to_one_and_count_the_populations(dna):
    pops = dna.result.extra["populations"]
    shares = dna.gene_pool()
    assert shares.shape == (len(pops), 4, N_OPS)
    assert np.allclose(shares.sum(axis=-1), 1)
    for g, pop in enumerate(pops):
        for p, k in itertools.product(range(4), range(N_OPS)):
            assert shares[g, p, k] == sum(member[p] == k for member in pop) / len(pop)


def test_gene_pool_figure_carries_the_shares(dna):
    fig, shares = dna.visualize_dna_evolution(), dna.gene_pool()
    stacked = [t for t in fig.data if t.stackgroup]
    assert len(stacked) == 4 * N_OPS
    for t in stacked:
        assert np.allclose(t.y, shares[:, t.meta["position"], list(OPERATIONS).index(t.meta["op"])])
    for p in range(4):
        assert np.allclose(sum(np.array(t.y) for t in stacked if t.meta["position"] == p), 1)


def test_diversity_is_the_mean_hamming_distance_over_all_pairs(dna):
    for pop, d in zip(dna.result.extra["populations"], dna.diversity()):
        pairs = [sum(x != y for x, y in zip(a, b)) for a, b in itertools.product(pop, pop)]
        assert d == pytest.approx(statistics.fmean(pairs))
    assert np.allclose(traces(dna.visualize_dna_evolution(), "diversity")[0].y, dna.diversity())


def test_lineage_follows_the_recorded_parents(dna, bench):
    parents = {tuple(c): tuple(p) for c, p in dna.result.extra["parents"]}
    lineage = [tuple(d) for d in dna.lineage()]
    assert lineage[-1] == tuple(dna.result.dna) and lineage[0] not in parents
    assert all(parents[child] == parent for parent, child in zip(lineage, lineage[1:]))
    drawn = traces(dna.visualize_dna_evolution(), "lineage")[0]
    assert list(drawn.y) == [bench.query(d)["val_accuracy"] for d in lineage]


def test_darts_gene_pool_is_its_alphas_and_its_path_its_derived_dnas(bench):
    result = nanonas.nano_nas("darts", epochs=2, evaluator=bench, progress=False).search  # a real supernet, 2 epochs
    insight = ArchitectureDNA(result, bench=bench)
    assert np.allclose(insight.gene_pool(), result.extra["alphas"]) and insight.unit == "epoch"
    landscape = SearchLandscape(result, bench=bench)
    assert landscape.picks(result) == [tuple(g) for g in result.extra["derived"]]
    assert landscape.path(result)[-1] == tuple(result.extra["derived"][-1])


# -- SearchLandscape
def test_every_landscape_cell_is_its_nanobench_record(landscape, bench):
    heat = [t for t in landscape.visualize_search_paths().data if t.type == "heatmap"][0]
    z, names = np.array(heat.z), np.array(heat.customdata)
    for r in bench:
        a, b, c, d = r["dna"]
        row, col = a * N_OPS + b, c * N_OPS + d  # the documented layout, computed here independently
        assert z[row, col] == r["val_accuracy"]
        assert names[row, col] == " → ".join(r["ops"])
    assert z.shape == (N_OPS**2, N_OPS**2)


def test_local_optima_equal_a_brute_force_count(landscape, bench):
    brute = brute_local_optima(list(bench))
    assert set(landscape.local_optima()) == brute
    drawn = traces(landscape.visualize_search_paths(), "local optima")[0]
    assert len(drawn.x) == len(brute) and drawn.name == f"local optima ({len(brute)})"


def test_fitness_distance_correlation_equals_pearson(landscape, bench):
    records, best = list(bench), tuple(bench.best()["dna"])
    for live_only in (False, True):
        kept = [r for r in records if not (live_only and 4 in r["dna"])]
        distance = [sum(x != y for x, y in zip(r["dna"], best)) for r in kept]
        expected = statistics.correlation([r["val_accuracy"] for r in kept], distance)
        assert landscape.fitness_distance_correlation(live_only) == pytest.approx(expected)


def test_search_paths_follow_the_best_so_far(landscape, bench):
    fig = landscape.visualize_search_paths()
    for result, label in zip(landscape.searches, landscape.labels):
        best, incumbents = None, []
        for h in result.history:
            if best is None or h["fitness"] > best["fitness"]:
                best = h
                incumbents.append(" → ".join(bench.query(h["dna"])["ops"]))
        assert list(traces(fig, label + ":")[0].customdata) == incumbents
        assert incumbents[-1] == " → ".join(result.ops)
    text = landscape.explain()
    assert all(label in text for label in landscape.labels) and "fitness-distance correlation" in text


def test_steps_to_optimum_match_a_direct_count(landscape, bench):
    target = bench.best()["val_accuracy"] - landscape.within
    for result in landscape.searches:
        best, steps = None, None
        for i, h in enumerate(result.history):
            best = h if best is None or h["fitness"] > best["fitness"] else best
            if steps is None and bench.query(best["dna"])["val_accuracy"] >= target:
                steps = i + 1
        assert landscape.steps_to_optimum(result) == steps


def test_the_race_reruns_each_strategy_and_counts_on_a_shared_budget(landscape, bench):
    race = landscape.race()
    assert set(race["steps"]) == {"random", "evolution"} and all(len(v) == 20 for v in race["steps"].values())
    assert race["budget"] == 100  # random search's 100 evaluations; evolution makes 120
    for seed in (0, 7):
        for strategy, steps in race["steps"].items():
            rerun = nanonas.nano_nas(strategy, seed=seed, evaluator=bench, progress=False).search
            expected = landscape.steps_to_optimum(rerun)
            assert steps[seed] == (expected if expected and expected <= 100 else None)
    hits = {s: sum(k is not None for k in v) for s, v in race["steps"].items()}
    assert all(f"{s} in {k} of 20 runs" in landscape.explain() for s, k in hits.items())


# -- ParetoAnalyzer
def test_drawn_pareto_front_equals_brute_force(pareto, bench):
    records = list(bench)
    beats = lambda a, b: (  # accuracies within TIE are the same images right: a tie, not a win
        a["val_accuracy"] >= b["val_accuracy"] - TIE
        and a["latency_b1_ms"] <= b["latency_b1_ms"] + TIE
        and (a["val_accuracy"] > b["val_accuracy"] + TIE or a["latency_b1_ms"] < b["latency_b1_ms"] - TIE)
    )
    brute = [r for r in records if not any(beats(o, r) for o in records)]
    drawn = traces(pareto.simulate_pareto_evolution(), "exact Pareto front")[0]
    points = set(zip(drawn.x, drawn.y))
    assert points == {(r["latency_b1_ms"], r["val_accuracy"]) for r in brute}
    assert not any(
        x2 <= x1 + TIE and y2 >= y1 - TIE and (x2 < x1 - TIE or y2 > y1 + TIE)
        for (x1, y1), (x2, y2) in itertools.permutations(points, 2)
    )


def test_generation_fronts_are_non_dominated_members_of_their_population(pareto, bench):
    fig = pareto.simulate_pareto_evolution()
    for g, pop in enumerate(pareto.populations):
        drawn = next(t for t in fig.data if t.name == f"generation {g}")
        members = {(bench.query(d)["latency_b1_ms"], bench.query(d)["val_accuracy"]) for d in pop}
        beats = lambda q, p: q[0] <= p[0] + TIE and q[1] >= p[1] - TIE and (q[0] < p[0] - TIE or q[1] > p[1] + TIE)
        front = {p for p in members if not any(beats(q, p) for q in members)}  # values within TIE are ties
        assert set(zip(drawn.x, drawn.y)) == front


def test_hypervolumes_equal_a_grid_computation(pareto, bench):
    records = list(bench)
    ref = (min(r["val_accuracy"] for r in records), -max(r["latency_b1_ms"] for r in records))
    point = lambda d: (bench.query(d)["val_accuracy"], -bench.query(d)["latency_b1_ms"])
    exact = brute_area([point(r["dna"]) for r in records], ref)
    hv = pareto.hypervolumes()
    assert len(hv) == 11 and all(0 < h <= 1 + 1e-12 for h in hv)
    for g in (0, len(hv) - 1):
        assert hv[g] == pytest.approx(brute_area([point(d) for d in pareto.populations[g]], ref) / exact)


def test_pareto_analyzer_takes_other_costs_and_searches(bench):
    insight = ParetoAnalyzer(bench=bench, cost="params", population_size=8, generations=2, seed=1)
    assert len(insight.populations) == 3 and insight.simulate_pareto_evolution().layout.xaxis.type == "log"
    evolution = nanonas.nano_nas("evolution", evaluator=bench, progress=False).search
    assert ParetoAnalyzer(evolution, bench=bench).populations[0] == [
        tuple(d) for d in evolution.extra["populations"][0]
    ]


# -- searches in any form, and bad input
def test_saved_results_models_and_histories_work(bench, tmp_path):
    model = nanonas.nano_nas("evolution", evaluator=bench, seed=3, progress=False)
    path = model.search.save(tmp_path / "found.json")
    from_result = ArchitectureDNA(model.search, bench=bench).gene_pool()
    assert np.array_equal(ArchitectureDNA(path, bench=bench).gene_pool(), from_result)
    assert np.array_equal(ArchitectureDNA(model, bench=bench).gene_pool(), from_result)
    history = model.search.history
    windows = ArchitectureDNA(history, bench=bench, window=30)
    assert len(windows.gene_pool()) == -(-len(history) // 30) and np.allclose(windows.gene_pool().sum(-1), 1)
    landscape = SearchLandscape(history, str(path), bench=bench)
    assert landscape.labels == ["history (seed 0)", "evolution (seed 3)"]
    assert landscape.path(landscape.searches[0]) == landscape.path(landscape.searches[1])
    assert ParetoAnalyzer(history, bench=bench).populations[0] == [tuple(h["dna"]) for h in history[:20]]


def test_bad_input_says_what_is_allowed(bench, dna, tmp_path):
    with pytest.raises(ValueError, match="SearchResult"):
        ArchitectureDNA(42, bench=bench)
    with pytest.raises(ValueError, match="op indices"):
        SearchLandscape([{"dna": [9, 9, 9, 9], "fitness": 1.0}], bench=bench)
    with pytest.raises(ValueError, match="entry 1"):
        ArchitectureDNA([{"dna": [0, 0, 0, 0], "fitness": 1.0}, {"dna": [0, 0, 0, 0]}], bench=bench)
    with pytest.raises(ValueError, match="unknown strategy"):
        ArchitectureDNA(strategy="evolve", bench=bench)
    with pytest.raises(ValueError, match="without `search`"):
        ArchitectureDNA(dna.result, bench=bench, generations=3)
    with pytest.raises(ValueError, match="unknown cost"):
        ParetoAnalyzer(bench=bench, cost="speed")
    with pytest.raises(ValueError, match="within"):
        SearchLandscape(bench=bench, within=2)
    with pytest.raises(ValueError, match="bench must be"):
        SearchLandscape(bench=object())
    with pytest.raises(ValueError, match="not a saved nanonas search result"):
        ArchitectureDNA(tmp_path / "missing.json", bench=bench)
    with pytest.raises(ValueError, match=r"\.html"):
        dna.save(tmp_path / "view.txt")
    with pytest.raises(ValueError, match=r"\.html"):
        explore_nas_concepts(tmp_path / "tour.txt", bench=bench)


def test_figures_save_as_html_and_images_ask_for_kaleido(dna, tmp_path):
    path = dna.save(tmp_path / "dna.html")
    assert path.exists() and "plotly" in path.read_text()
    if importlib.util.find_spec("kaleido") is None:
        with pytest.raises(RuntimeError, match="pip install kaleido"):
            dna.save(tmp_path / "dna.png")


# -- the tour
def test_the_tour_writes_one_offline_html_report_with_every_insight(bench, tmp_path, capsys):
    path = explore_nas_concepts(tmp_path / "tour.html", bench=bench)
    page = path.read_text()
    assert str(path.resolve()) in capsys.readouterr().out
    for title in ("Architecture DNA", "Search landscape", "Pareto trade-offs"):
        assert f"<h2>{title}</h2>" in page
    assert page.count('class="plotly-graph-div"') == 3
    assert page.count("plotly.js v") == 1  # the library embedded once: the report opens offline


def test_the_tour_in_a_notebook_is_tabs_of_figure_widgets(dna, landscape, pareto, monkeypatch):
    import ipywidgets

    from nas_insights import tour

    figures = [dna.visualize_dna_evolution(), landscape.visualize_search_paths(), pareto.simulate_pareto_evolution()]
    stops = [(f"stop {i}", f"text {i}", fig) for i, fig in enumerate(figures)]  # the searches ran once, above
    monkeypatch.setattr(tour, "chapters", lambda bench, seed: stops)
    monkeypatch.setattr(tour, "in_notebook", lambda: True)
    tabs = explore_nas_concepts()
    assert isinstance(tabs, ipywidgets.Tab) and tabs.titles == ("stop 0", "stop 1", "stop 2")
    for i, (page, fig) in enumerate(zip(tabs.children, figures)):
        assert page.children[0].value == f"<p>text {i}</p>"
        widget = page.children[1]
        assert isinstance(widget, go.FigureWidget) and [t.name for t in widget.data] == [t.name for t in fig.data]


# -- any table with an even number of positions and its own ops
ROOT = Path(__file__).resolve().parents[1]


def synthetic(ops, positions, seed=0) -> NanoBench:
    """A complete NanoBench over `ops` (names from OPERATIONS, in the table's own order) at `positions`, made in
    memory with random accuracies (distinct: the brute-force oracles meet no ties), and the recipe a search checks."""
    rng = random.Random(seed)
    records = {}
    for dna in itertools.product(range(len(ops)), repeat=positions):
        val, test = [rng.random() for _ in range(2)], [rng.random() for _ in range(2)]
        records[dna] = {
            "dna": list(dna),
            "ops": [ops[i] for i in dna],
            "val_accuracy": statistics.fmean(val),
            "test_accuracy": statistics.fmean(test),
            "val_accuracies": val,
            "test_accuracies": test,
            "train_seconds_per_seed": [0.5, 0.5],
            "seeds": [0, 1],
            **{k: 1.0 for k in COST_FIELDS[1:]},
        }
    return NanoBench(records, {"recipe": recipe(nanonas.Task(data=None, positions=positions), ops, seeds=(0, 1))})


def grown_ops() -> dict:
    """The ops project 06a's grown table was built with."""
    return lab.GROWN_OPS


def check_grid_is_a_brute_force_placement(landscape, bench):
    """Row: the ops at the first half of the positions, numbered in the order itertools.product lists them;
    column: the second half, likewise; ticks and axis titles name the table's own ops and positions."""
    n, half = len(bench.meta["recipe"]["ops"]), bench.positions // 2
    order = {combo: i for i, combo in enumerate(itertools.product(range(n), repeat=half))}
    fig = landscape.visualize_search_paths()
    heat = [t for t in fig.data if t.type == "heatmap"][0]
    z, names = np.array(heat.z), np.array(heat.customdata)
    assert z.shape == (n**half, n**half) and np.array_equal(landscape.grid(), z)
    for r in bench:
        row, col = order[tuple(r["dna"][:half])], order[tuple(r["dna"][half:])]
        assert z[row, col] == r["val_accuracy"] and names[row, col] == " → ".join(r["ops"])
        for e in itertools.product(range(n), repeat=2 * half):  # one mutation: one step along a row or a column
            if sum(x != y for x, y in zip(r["dna"], e)) == 1:
                assert landscape.cell(e)[0] == row or landscape.cell(e)[1] == col
    ops = bench.meta["recipe"]["ops"]
    rows = ["·".join(short(o) for o in combo) for combo in itertools.product(ops, repeat=half)]
    assert list(fig.layout.yaxis.ticktext) == rows and list(fig.layout.xaxis.ticktext) == rows
    first = "·".join(str(p) for p in range(1, half + 1))
    second = "·".join(str(p) for p in range(half + 1, 2 * half + 1))
    plural = "ops at positions " if half > 1 else "op at position "
    assert (fig.layout.yaxis.title.text, fig.layout.xaxis.title.text) == (plural + first, plural + second)
    title = " ".join(re.sub("<[^>]+>", " ", fig.layout.title.text).split())  # the subtitle's lines, unwrapped
    assert f"Grid labels: {', '.join(f'{short(op)} = {op}' for op in ops)}." in title


SPACES = [(["skip", "zero", "conv3x3"], 2), (["maxpool", "conv3x3"], 6), (["conv5x5", "zero", "skip", "maxpool"], 4)]


@pytest.mark.parametrize("ops, positions", SPACES, ids=["3ops-2pos", "2ops-6pos", "4ops-4pos"])
def test_any_even_table_with_its_own_ops_is_placed_searched_and_read_as_brute_force_says(ops, positions):
    before = list(OPERATIONS.items())
    bench = synthetic(ops, positions)
    landscape = SearchLandscape(bench=bench, seed=0, race_seeds=3)
    check_grid_is_a_brute_force_placement(landscape, bench)
    brute = brute_local_optima(list(bench))
    assert set(landscape.local_optima()) == brute
    assert traces(landscape.visualize_search_paths(), "local optima")[0].name == f"local optima ({len(brute)})"
    best = tuple(bench.best()["dna"])
    for live_only in (False, True):
        kept = [r for r in bench if not (live_only and "zero" in r["ops"])]  # by name: zero is not op 4 here
        distance = [sum(x != y for x, y in zip(r["dna"], best)) for r in kept]
        fitness = [r["val_accuracy"] for r in kept]
        fdc = landscape.fitness_distance_correlation(live_only)
        if len(set(distance)) < 2:  # e.g. 2 positions: every live architecture 2 mutations from a dead optimum
            assert np.isnan(fdc) and "undefined" in landscape.visualize_search_paths().layout.title.text
        else:
            assert fdc == pytest.approx(statistics.correlation(fitness, distance))
    fig = landscape.visualize_search_paths()
    for result, label in zip(landscape.searches, landscape.labels):  # real searches, with the table's ops
        best_so_far, incumbents = None, []
        for h in result.history:
            assert len(h["dna"]) == positions and tuple(h["dna"]) in bench
            if best_so_far is None or h["fitness"] > best_so_far["fitness"]:
                best_so_far = h
                incumbents.append(" → ".join(bench.query(h["dna"])["ops"]))
        assert list(traces(fig, label + ":")[0].customdata) == incumbents
        assert incumbents[-1] == " → ".join(result.ops)
    assert "fitness-distance correlation" in landscape.explain()  # the race runs after construction, too
    assert list(OPERATIONS.items()) == before


def test_the_grown_table_of_project_06a_needs_its_ops_then_draws_them(bench, landscape):
    grown = NanoBench.load(ROOT / "benchmarks" / "results" / "projects06_grown")  # 7 ops x 2 positions
    with pytest.raises(ValueError, match="add the table's ops first"):
        SearchLandscape(bench=grown)
    ops = grown_ops()
    with using_ops(ops):
        on_grown = SearchLandscape(bench=grown, seed=0, race_seeds=2)
        on_shipped = SearchLandscape(bench=bench, seed=0, strategies=("random",))  # OPERATIONS has 7 ops now
    assert list(OPERATIONS) == ["conv3x3", "conv5x5", "maxpool", "skip", "zero"]
    check_grid_is_a_brute_force_placement(on_grown, grown)
    assert set(on_grown.local_optima()) == brute_local_optima(list(grown))
    assert "fitness-distance correlation" in on_grown.explain()
    assert np.array_equal(on_shipped.grid(), landscape.grid())  # the shipped table keeps its own 5 ops
    assert set(on_shipped.local_optima()) == set(landscape.local_optima())


def test_an_odd_number_of_positions_says_what_is_allowed():
    with pytest.raises(ValueError, match=r"even number of positions \(2, 4, 6, \.\.\.\); this NanoBench has 3"):
        SearchLandscape(bench=synthetic(["skip", "conv3x3"], 3))


def test_the_landscape_mentions_darts_only_when_it_draws_darts():
    fig = SearchLandscape(race_seeds=0).visualize_search_paths()
    assert fig.layout.xaxis2.title.text == "evaluations"
    title_lines = fig.layout.title.text.count("<br>")
    assert fig.layout.margin.t >= 60 + 16 * title_lines  # room for every line of the subtitle above the plot
