"""SearchDashboard: pick a strategy, press Start, and watch the search: best-so-far, the population, the gene pool."""

import html
from dataclasses import dataclass

import ipywidgets as W
import plotly.graph_objects as go
import torch

from .. import core, registry
from ..palette import GREY, OKABE_ITO, STATE_COLORS, op_colors
from ..pareto import TIE
from ..registry import STRATEGIES
from ..run import MINIMUM, Run
from .live import LiveSearch, arrow, keep_drawn

EVALUATORS = {"NanoBench (instant lookup)": "bench", "real training (~1 s each)": "train"}
LABELS = {  # how a control names an option; an option missing here is shown by its own name
    "population_size": "population size",
    "tournament_size": "tournament size",
    "sample_size": "sample size (aging)",
    "mutation_rate": "extra mutation rate",
    "epochs": "supernet epochs",
    "arch_lr": "alphas' learning rate",
}


@dataclass
class DartsEpoch:
    """What one epoch of a supernet search ended with, as its `on_epoch` hook reports it."""

    epoch: int  # 0-based
    weights: torch.Tensor  # (positions, ops): softmax(alphas), each row sums to 1
    dna: list  # the derived architecture now: argmax per position, never 'zero'
    train_loss: float  # mean loss of the weight steps (training batches)
    valid_loss: float  # mean loss of the alpha steps (validation batches)


def option_control(name: str, value, style):
    """A control for one strategy option, chosen by the kind of its default; None for what a slider cannot show."""
    layout, label = W.Layout(width="360px"), LABELS.get(name, name.replace("_", " "))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None  # hooks and tuples (e.g. NSGA-II's objectives) keep their defaults here
    if isinstance(value, int):
        least = MINIMUM.get(name, 1)
        return W.IntSlider(
            value=value, min=least, max=max(100, 2 * value), description=label, style=style, layout=layout
        )
    if name.endswith("rate") and not name.endswith("_lr"):
        return W.FloatSlider(value=value, min=0.0, max=1.0, step=0.05, description=label, style=style, layout=layout)
    return W.FloatLogSlider(
        value=value,
        base=10,
        min=-4,
        max=-1,
        step=0.25,
        readout_format=".0e",
        description=label,
        style=style,
        layout=layout,
    )


AXES = {  # the figures' titles and axes for a search that evaluates DNAs, and for a supernet (DARTS) by epoch
    "eval": {
        "progress": {
            "title": "Best so far",
            "xaxis_title_text": "evaluations",
            "yaxis_title_text": "validation accuracy",
            "yaxis_tickformat": ".0%",
        },
        "traces": ("each evaluation", "best so far"),
        "gene_pool": {"title": "Gene pool: share of each op", "yaxis_title_text": "share of the population"},
        "population": {"title": "Current population (best at top)", "yaxis_title_text": "member, ranked by fitness"},
    },
    "epoch": {
        "progress": {
            "title": "DARTS: the supernet's losses, epoch by epoch",
            "xaxis_title_text": "epoch",
            "yaxis_title_text": "cross-entropy loss",
            "yaxis_tickformat": "",
        },
        "traces": ("training loss (weight steps)", "validation loss (alpha steps)"),
        "gene_pool": {"title": "DARTS: softmax(alphas) per position", "yaxis_title_text": "softmax(alphas)"},
        "population": {"title": "DARTS: the architecture it would pick now", "yaxis_title_text": ""},
    },
}


def discrete_colorscale(colors) -> list:
    """A plotly colorscale with one flat band per colour, for a heatmap of op indices."""
    n = len(colors)
    return [[stop, c] for i, c in enumerate(colors) for stop in (i / n, (i + 1) / n)]


class SearchDashboard(LiveSearch):
    """Controls for any registered strategy, Start / Stop / Reset, and live figures of how the search goes.

    `SearchDashboard()` in a cell shows it; `dashboard.run(strategy='evolution', generations=20)` runs a search
    without clicks (nbval, scripts) and returns its `SearchResult`. The strategies and their controls come from
    the registry (`nanonas.STRATEGIES`): a newly registered strategy appears here with its own options.
    """

    def __init__(self, strategy="evolution", seed=0, evaluator="bench", pace=0.05, bench=None, **options):
        super().__init__(bench)
        style = {"description_width": "140px"}
        wide = lambda: W.Layout(width="360px")  # one Layout per control: each can be hidden on its own
        names = [(s.summary.split(":")[0].split(" (")[0], name) for name, s in STRATEGIES.items()]
        self.controls = {
            "strategy": W.Dropdown(options=names, value=strategy, description="strategy", style=style, layout=wide()),
            "evaluator": W.Dropdown(
                options=list(EVALUATORS.items()), value=evaluator, description="evaluator", style=style, layout=wide()
            ),
            "seed": W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed", style=style, layout=wide()),
            "pace": W.FloatSlider(
                value=pace, min=0.0, max=0.5, step=0.01, description="pause per lookup, s", style=style, layout=wide()
            ),
        }
        defaults = {name: v for s in [STRATEGIES[strategy], *STRATEGIES.values()] for name, v in s.options.items()}
        known = {name for s in STRATEGIES.values() for name in s.options}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"no strategy takes {', '.join(unknown)}; the options are: {', '.join(sorted(known))}")
        for name in dict.fromkeys(n for s in STRATEGIES.values() for n in s.options):
            control = option_control(name, options.get(name, defaults[name]), style)
            if control is not None:
                self.controls[name] = control
        for name in ("strategy", "evaluator"):
            self.controls[name].observe(lambda _: self._show_relevant(), names="value")
        self._show_relevant()

        ops, positions = list(core.OPERATIONS), [f"position {i + 1}" for i in range(core.Task.positions)]
        colors = op_colors()  # from the ops of the space as it is now: an added op gets its colour
        self.progress = go.FigureWidget(
            data=[
                go.Scatter(name="each evaluation", mode="markers", marker={"color": GREY, "size": 4}),
                go.Scatter(name="best so far", mode="lines", line={"color": OKABE_ITO[0], "width": 3}),
                go.Scatter(
                    name="true optimum (NanoBench, mean of 3 seeds)",
                    mode="lines",
                    visible=False,
                    line={"color": OKABE_ITO[5], "dash": "dash"},
                ),
            ],
            layout=go.Layout(
                title="Best so far",
                xaxis_title="evaluations",
                yaxis_title="validation accuracy",
                yaxis_tickformat=".0%",
                width=980,
                height=330,
                margin={"t": 50, "b": 50},
                legend={"x": 1, "xanchor": "right", "y": 0, "yanchor": "bottom"},
            ),
        )
        self.population = go.FigureWidget(
            data=[
                go.Heatmap(
                    x=positions,
                    colorscale=discrete_colorscale(list(colors.values())),
                    zmin=-0.5,
                    zmax=len(ops) - 0.5,
                    xgap=2,
                    ygap=1,
                    hovertemplate="%{text}<extra></extra>",
                    colorbar={"tickvals": list(range(len(ops))), "ticktext": ops, "title": "op"},
                )
            ],
            layout=go.Layout(
                title="Current population (best at top)",
                yaxis_title="member, ranked by fitness",
                xaxis_title="position in the chain",
                yaxis_autorange="reversed",
                width=490,
                height=360,
                margin={"t": 50, "b": 50},
            ),
        )
        self.gene_pool = go.FigureWidget(
            data=[go.Bar(name=op, x=positions, marker_color=colors[op]) for op in ops],
            layout=go.Layout(
                title="Gene pool: share of each op",
                barmode="stack",
                xaxis_title="position in the chain",
                yaxis_title="share of the population",
                yaxis_range=[0, 1],
                yaxis_tickformat=".0%",
                width=490,
                height=360,
                margin={"t": 50, "b": 50},
            ),
        )
        self._darts = None  # the last DartsEpoch, while a supernet search runs
        self._losses = []  # (epoch, training loss, validation loss) of the supernet search under way
        self._optimum = None  # the table's best mean accuracy, when the search looks up NanoBench
        controls = list(self.controls.values())
        half = (len(controls) + 1) // 2
        self.widget = W.VBox(
            [
                W.HBox([W.VBox(controls[:half]), W.VBox(controls[half:])]),
                W.HBox([self.start_button, self.stop_button, self.reset_button]),
                self.status,
                self.error_box,
                keep_drawn(self, "progress"),
                W.HBox([keep_drawn(self, "population"), keep_drawn(self, "gene_pool")]),
            ]
        ).add_class("nanonas-search-dashboard")

    def _show_relevant(self):
        """Show only the knobs the chosen strategy and evaluator use."""
        chosen, evaluator = STRATEGIES[self.controls["strategy"].value], self.controls["evaluator"].value
        used = {"strategy", "evaluator", "seed", *chosen.options}
        used |= {"pace"} if evaluator == "bench" and chosen.unit == "eval" else set()  # a supernet trains anyway
        for name, control in self.controls.items():
            control.layout.display = None if name in used else "none"

    def _axes(self, unit: str):
        """Titles and axes for a search by evaluations ('eval') or a supernet by epochs ('epoch')."""
        axes = AXES[unit]
        with self.progress.batch_update():
            self.progress.layout.update(axes["progress"])
            self.progress.layout.xaxis.range = None
            for trace, name in zip(self.progress.data, axes["traces"]):
                trace.name = name
            self.progress.data[1].line.color = OKABE_ITO[0] if unit == "eval" else OKABE_ITO[1]
        self.gene_pool.layout.update(axes["gene_pool"])
        self.population.layout.update(axes["population"])

    def _clear(self):
        self._darts, self._losses = None, []
        self._axes("eval")
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
    def _search(self, strategy="evolution", seed=0, evaluator="bench", pace=0.0, **values):
        chosen = registry.get(strategy)  # an unknown name: a ValueError that lists the registered ones
        evaluator = self.bench if evaluator == "bench" else evaluator  # a loaded table, kept between searches
        own = {name: values[name] for name in chosen.options if name in values}
        if chosen.unit == "epoch":
            own["on_epoch"] = self._on_epoch
        run = Run(strategy, {"seed": seed, "evaluator": evaluator, "progress": False, **own})
        self._run = run
        self._axes(chosen.unit)
        self.budget = 1 if chosen.unit == "epoch" else chosen.expected(run.strategy_options)  # a supernet: 1 pick
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
        run.search()  # Stop raises StopSearch (a KeyboardInterrupt) in the hook: the run keeps what it found
        run.fitness.evaluator = evaluate
        if run.interrupted and self._darts is not None and tuple(self._darts.dna) not in run.fitness:
            run.fitness(self._darts.dna)  # stopped: score the architecture the supernet derives now
        self._draw(run, "stopped" if run.interrupted else "finished")
        return run.finish().search if run.fitness else None

    def _on_epoch(self, epoch, weights, dna, train_loss, valid_loss):
        """The supernet's hook: keep the epoch, draw it, and stop here if Stop was pressed."""
        self._darts = DartsEpoch(epoch, weights, dna, train_loss, valid_loss)
        self._losses.append((epoch + 1, train_loss, valid_loss))
        self._draw(self._run)
        self.pause()

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
            if self._losses:  # a supernet: its two losses per epoch (accuracy comes once, for the derived DNA)
                epochs = run.strategy_options.get("epochs", len(self._losses))
                each.update(x=[e for e, _, _ in self._losses], y=[t for _, t, _ in self._losses], mode="lines+markers")
                best_trace.x, best_trace.y = [e for e, _, _ in self._losses], [v for _, _, v in self._losses]
                self.progress.layout.xaxis.range = [0.5, epochs + 0.5]
            else:
                each.update(x=xs, y=[f for _, f in items], mode="markers")
                best_trace.x, best_trace.y = xs, running_max
                if self._optimum is not None:
                    optimum.update(x=[0, self.budget], y=[self._optimum] * 2, visible=True)
                self.progress.layout.xaxis.range = [0, max(self.budget, len(items)) + 1]

        members, shares = self._population(run, items)
        with self.population.batch_update():
            label = lambda dna, f: f"{'not evaluated' if f is None else f'{f:.2%}'}: {arrow(core.decode(dna))}"
            self.population.data[0].update(
                z=[list(dna) for dna, _ in members],
                y=list(range(1, len(members) + 1)),
                text=[[label(dna, f)] * len(dna) for dna, f in members],
            )
        with self.gene_pool.batch_update():
            for i, bar in enumerate(self.gene_pool.data):
                bar.y = [row[i] for row in shares] if shares else []
            if not self._darts:
                self.gene_pool.layout.title = f"Gene pool: share of each op in the {len(members)} members"
        if not self._darts:
            self.population.layout.title = (
                "Current population (best at top)"
                if run.fitness.populations
                else f"The {len(members)} latest evaluated (best at top)"
            )
        self.status.value = self._status(run, state, items, running_max)

    def _population(self, run, items):
        """The current population as (dna, fitness), best first, and each position's share of each op."""
        ops = len(core.OPERATIONS)
        if self._darts is not None:  # a supernet keeps a distribution over ops instead of a population
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
            parts.append(f"epoch {self._darts.epoch + 1}/{run.strategy_options.get('epochs', '?')}")
            parts.append(f"derived now: {arrow(core.decode(self._darts.dna))}")
        if items:
            dna = max(items, key=lambda h: h[1])[0]  # the first of equals, like the search's result
            text = f"best {running_max[-1]:.2%}: {arrow(core.decode(dna))}"
            if run.bench is not None:
                text += f" (NanoBench rank {run.bench.rank(dna)} of {len(run.bench)})"
            parts.append(text)
            if self._optimum is not None and running_max[-1] > self._optimum + TIE:
                parts.append(  # a lookup returns one training's accuracy: a lucky one can beat every mean
                    f"best so far is above the optimum's mean ({self._optimum:.2%}): one lucky training, not a better "
                    "architecture"
                )
        return " · ".join(html.escape(p) if i else p for i, p in enumerate(parts))
