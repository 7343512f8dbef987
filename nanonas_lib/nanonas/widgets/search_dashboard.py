"""SearchDashboard: pick a strategy, press Start, and watch the search: best-so-far, the population, the gene pool."""

import html

import ipywidgets as W
import plotly.graph_objects as go

from .. import core
from ..search import Run, expected_evaluations
from .darts_loop import darts_epochs
from .live import GREY, OKABE_ITO, OP_COLORS, STATE_COLORS, LiveSearch, StopSearch, arrow

STRATEGY_NAMES = {"random": "random search", "evolution": "evolution", "regularized_evolution": "regularized evolution",
                  "darts": "DARTS"}  # fmt: skip
EVALUATORS = {"NanoBench (instant lookup)": "bench", "real training (~1 s each)": "train"}


def strategy_options(strategy: str, population_size, generations, mutation_rate, epochs) -> dict:
    """The dashboard's few knobs, as each strategy's own options."""
    budget = population_size + generations * (population_size // 2)  # as many evaluations as evolution makes
    return {
        "random": {"evaluations": budget},
        "evolution": {"population_size": population_size, "generations": generations, "mutation_rate": mutation_rate},
        "regularized_evolution": {"population_size": population_size, "evaluations": budget,
                                  "mutation_rate": mutation_rate},
        "darts": {"epochs": epochs},
    }.get(strategy, {})  # fmt: skip


def discrete_colorscale(colors) -> list:
    """A plotly colorscale with one flat band per colour, for a heatmap of op indices."""
    n = len(colors)
    return [[stop, c] for i, c in enumerate(colors) for stop in (i / n, (i + 1) / n)]


class SearchDashboard(LiveSearch):
    """Controls for a search, Start / Stop / Reset, and live figures of how it goes.

    `SearchDashboard()` in a cell shows it; `dashboard.run(strategy='evolution', generations=20)` runs a search
    without clicks (nbval, scripts) and returns its `SearchResult`.
    """

    def __init__(self, strategy="evolution", population_size=20, generations=10, mutation_rate=0.0, seed=0,
                 evaluator="bench", pace=0.05, epochs=20, bench=None):  # fmt: skip
        super().__init__()
        self._bench = bench  # a NanoBench, loaded when first needed
        style = {"description_width": "140px"}
        wide = lambda: W.Layout(width="360px")  # one Layout per control: each can be hidden on its own
        self.controls = {
            "strategy": W.Dropdown(options=[(v, k) for k, v in STRATEGY_NAMES.items()], value=strategy,
                                   description="strategy", style=style, layout=wide()),
            "evaluator": W.Dropdown(options=list(EVALUATORS.items()), value=evaluator, description="evaluator",
                                    style=style, layout=wide()),
            "seed": W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed", style=style, layout=wide()),
            "pace": W.FloatSlider(value=pace, min=0.0, max=0.5, step=0.01, description="pause per lookup, s",
                                  style=style, layout=wide()),
            "population_size": W.IntSlider(value=population_size, min=2, max=100, description="population size",
                                           style=style, layout=wide()),
            "generations": W.IntSlider(value=generations, min=1, max=100, description="generations", style=style,
                                       layout=wide()),
            "mutation_rate": W.FloatSlider(value=mutation_rate, min=0.0, max=1.0, step=0.05,
                                           description="mutation rate", style=style, layout=wide()),
            "epochs": W.IntSlider(value=epochs, min=1, max=100, description="DARTS epochs", style=style, layout=wide()),
        }  # fmt: skip
        for name in ("strategy", "evaluator"):
            self.controls[name].observe(lambda _: self._show_relevant(), names="value")
        self._show_relevant()

        ops, positions = list(core.OPERATIONS), [f"position {i + 1}" for i in range(core.Task.positions)]
        self.progress = go.FigureWidget(
            data=[
                go.Scatter(name="each evaluation", mode="markers", marker={"color": GREY, "size": 4}),
                go.Scatter(name="best so far", mode="lines", line={"color": OKABE_ITO[0], "width": 3}),
                go.Scatter(name="true optimum (NanoBench, mean of 3 seeds)", mode="lines", visible=False,
                           line={"color": OKABE_ITO[5], "dash": "dash"}),
            ],
            layout=go.Layout(title="Best so far", xaxis_title="evaluations", yaxis_title="validation accuracy",
                             yaxis_tickformat=".0%", width=980, height=330, margin={"t": 50, "b": 50},
                             legend={"x": 1, "xanchor": "right", "y": 0, "yanchor": "bottom"}),
        )  # fmt: skip
        self.population = go.FigureWidget(
            data=[go.Heatmap(x=positions, colorscale=discrete_colorscale(list(OP_COLORS.values())), zmin=-0.5,
                             zmax=len(ops) - 0.5, xgap=2, ygap=1, hovertemplate="%{text}<extra></extra>",
                             colorbar={"tickvals": list(range(len(ops))), "ticktext": ops, "title": "op"})],
            layout=go.Layout(title="Current population (best at top)", yaxis_title="member, ranked by fitness",
                             xaxis_title="position in the chain", yaxis_autorange="reversed", width=490, height=360,
                             margin={"t": 50, "b": 50}),
        )  # fmt: skip
        self.gene_pool = go.FigureWidget(
            data=[go.Bar(name=op, x=positions, marker_color=OP_COLORS[op]) for op in ops],
            layout=go.Layout(title="Gene pool: share of each op", barmode="stack", xaxis_title="position in the chain",
                             yaxis_title="share of the population", yaxis_range=[0, 1], yaxis_tickformat=".0%",
                             width=490, height=360, margin={"t": 50, "b": 50}),
        )  # fmt: skip
        self._darts = None  # the last DartsEpoch, while DARTS runs
        controls = list(self.controls.values())
        self.widget = W.VBox(
            [
                W.HBox([W.VBox(controls[:4]), W.VBox(controls[4:])]),
                W.HBox([self.start_button, self.stop_button, self.reset_button]),
                self.status,
                self.error_box,
                self.progress,
                W.HBox([self.population, self.gene_pool]),
            ]
        ).add_class("nanonas-search-dashboard")

    @property
    def bench(self):
        if self._bench is None:
            from ..bench import NanoBench

            self._bench = NanoBench.load()
        return self._bench

    def _show_relevant(self):
        """Show only the knobs the chosen strategy and evaluator use."""
        strategy, evaluator = self.controls["strategy"].value, self.controls["evaluator"].value
        used = {"strategy", "evaluator", "seed"} | ({"pace"} if evaluator == "bench" else set())
        used |= {"epochs"} if strategy == "darts" else {"population_size", "generations"}
        used |= {"mutation_rate"} if strategy in ("evolution", "regularized_evolution") else set()
        for name, control in self.controls.items():
            control.layout.display = None if name in used else "none"

    def _clear(self):
        self._darts = None
        with self.progress.batch_update():
            for trace in self.progress.data:
                trace.x, trace.y = [], []
            self.progress.data[2].visible = False
        with self.population.batch_update():
            self.population.data[0].update(z=[], y=[], text=[])
        with self.gene_pool.batch_update():
            for bar in self.gene_pool.data:
                bar.y = []

    # -- the search
    def _search(self, strategy="evolution", population_size=20, generations=10, mutation_rate=0.0, seed=0,
                evaluator="bench", pace=0.0, epochs=20):  # fmt: skip
        evaluator = self.bench if evaluator == "bench" else evaluator  # a loaded table, kept between searches
        own = strategy_options(strategy, population_size, generations, mutation_rate, epochs)
        run = Run(strategy, {"seed": seed, "evaluator": evaluator, "progress": False, **own})
        self.budget = expected_evaluations(strategy, run.strategy_options, run.task.positions)
        self.budget = 1 if strategy == "darts" else self.budget  # DARTS evaluates its one derived architecture
        self._optimum = run.bench.best()["val_accuracy"] if run.bench is not None else None
        evaluate = run.fitness.evaluator
        pace = pace if run.bench is not None else 0.0  # real training is slow enough to watch

        def live(dna):  # what the strategy calls to evaluate: draw, maybe stop, then evaluate
            if self.due():
                self._draw(run)
            self.pause(pace)
            return evaluate(dna)

        run.fitness.evaluator = live
        self._draw(run)
        try:
            if strategy == "darts":
                self._run_darts(run)
            else:
                core.STRATEGIES[strategy](run.fitness, run.task, **run.strategy_options)
        except (StopSearch, KeyboardInterrupt):  # Stop, or an interrupted kernel in a blocking run()
            run.interrupted = True
        if strategy == "darts" and run.interrupted and self._darts is not None:
            run.fitness.evaluator = evaluate
            run.fitness(self._darts.dna)  # stopped: score the architecture discretisation picks now
        self._draw(run, "stopped" if run.interrupted else "finished")
        return run.finish().search if run.fitness else None

    def _run_darts(self, run):
        options, record = run.strategy_options, run.strategy_options["on_epoch"]  # Run keeps alphas and genotypes
        for state in darts_epochs(run.task, options["epochs"], options["arch_lr"], after_step=self.pause):
            record(state.epoch, state.weights, state.dna)
            self._darts = state
            self._draw(run)
        run.fitness(self._darts.dna)  # score the derived architecture with the chosen evaluator

    # -- the figures
    def _draw(self, run, state="running"):
        items = list(run.fitness.items())  # a snapshot: (dna tuple, fitness) in the order evaluated
        best, running_max = float("-inf"), []
        for _, f in items:
            best = max(best, f)
            running_max.append(best)
        xs = list(range(1, len(items) + 1))
        with self.progress.batch_update():
            each, best_trace, optimum = self.progress.data
            each.x, each.y = xs, [f for _, f in items]
            best_trace.x, best_trace.y = xs, running_max
            if self._optimum is not None:
                optimum.update(x=[0, self.budget], y=[self._optimum] * 2, visible=True)
            self.progress.layout.xaxis.range = [0, max(self.budget, len(items)) + 1]

        members, shares = self._population(run, items)
        with self.population.batch_update():
            label = lambda dna, f: f"{'not evaluated' if f is None else f'{f:.2%}'}: {arrow(core.decode(dna))}"
            self.population.data[0].update(
                z=[list(dna) for dna, _ in members], y=list(range(1, len(members) + 1)),
                text=[[label(dna, f)] * len(dna) for dna, f in members],
            )  # fmt: skip
        with self.gene_pool.batch_update():
            for i, bar in enumerate(self.gene_pool.data):
                bar.y = [row[i] for row in shares] if shares else []
            self.gene_pool.layout.title = "DARTS: softmax(alphas) per position" if self._darts else (
                f"Gene pool: share of each op in the {len(members)} members"
            )  # fmt: skip
        self.population.layout.title = (
            "DARTS: the architecture it would pick now" if self._darts
            else "Current population (best at top)" if run.fitness.populations
            else f"The {len(members)} latest evaluated (best at top)"
        )  # fmt: skip
        self.status.value = self._status(run, state, items, running_max)

    def _population(self, run, items):
        """The current population as (dna, fitness), best first, and each position's share of each op."""
        ops = len(core.OPERATIONS)
        if self._darts is not None:  # DARTS keeps a distribution over ops instead of a population
            dna = tuple(self._darts.dna)
            return [(dna, run.fitness.get(dna))], self._darts.weights.tolist()
        if run.fitness.populations:
            population = [tuple(d) for d in run.fitness.populations[-1]]
        else:  # random search, or the first population still being drawn: the latest evaluations
            population = [dna for dna, _ in items[-run.strategy_options.get("population_size", 20) :]]
        members = sorted(((d, run.fitness[d]) for d in population if d in run.fitness), key=lambda m: -m[1])
        if not members:
            return [], []
        positions = len(members[0][0])
        shares = [[sum(d[p] == o for d, _ in members) / len(members) for o in range(ops)] for p in range(positions)]
        return members, shares

    def _status(self, run, state, items, running_max) -> str:
        count = f"{len(items)} evaluation{'' if len(items) == 1 else 's'}"
        parts = [f'<b style="color:{STATE_COLORS[state]}">{state}</b>', count]
        parts.append(f"{self.elapsed():.1f} s")
        if self._darts is not None:
            parts.append(f"epoch {self._darts.epoch + 1}/{run.strategy_options['epochs']}")
            parts.append(f"derived now: {arrow(core.decode(self._darts.dna))}")
        if items:
            dna = max(items, key=lambda h: h[1])[0]  # the first of equals, like the search's result
            text = f"best {running_max[-1]:.2%}: {arrow(core.decode(dna))}"
            if run.bench is not None:
                text += f" (NanoBench rank {run.bench.rank(dna)} of {len(run.bench)})"
            parts.append(text)
        return " · ".join(html.escape(p) if i else p for i, p in enumerate(parts))
