"""ParetoAnalyzer: a real NSGA-II search for accurate *and* cheap architectures, against NanoBench's exact front."""

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from nanonas.palette import BLACK, LIGHT_GREY
from nanonas.pareto import hypervolume_2d, pareto_front

from ._common import CONTINUOUS, as_result, check_space, load_bench, run_search, save_figure, subtitle

COSTS = {  # the costs NanoBench measured, each to minimise, with the axis label it needs
    "latency_b1_ms": "latency at batch size 1 (ms)",
    "latency_b256_ms": "latency at batch size 256 (ms)",
    "params": "parameters",
    "macs": "multiply-accumulates per image (MACs)",
    "peak_memory_mb": "peak memory at batch size 256 (MB)",
}


class ParetoAnalyzer:
    """Accuracy against one cost: the populations of a multi-objective search, generation by generation, drawn
    against the exact Pareto front of all architectures, with the hypervolume each generation covers.

    With no `search`, runs NSGA-II (`nano_nas('nsga2', objectives=('val_accuracy', cost))`) on NanoBench lookups.
    Otherwise `search` is any search (SearchResult, model from nano_nas, saved path, history): its populations, or
    consecutive windows of `population_size` evaluations. Every population is drawn with NanoBench's mean scores.
    """

    def __init__(self, search=None, *, bench=None, cost="latency_b1_ms", population_size=20, generations=10, seed=0):
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r}; choose one of: {', '.join(COSTS)}")
        self.bench, self.cost = load_bench(bench), cost
        check_space(self.bench)
        self.records = {tuple(r["dna"]): r for r in self.bench}
        if any(r[cost] is None for r in self.records.values()):
            raise ValueError(f"this NanoBench has no {cost} yet; finish it with `nanonas bench build`")
        if search is None:
            search = run_search(
                "nsga2",
                self.bench.evaluator(seed, mean=True),  # the mean over seeds: the front it is compared with
                seed,
                objectives=("val_accuracy", cost),
                population_size=population_size,
                generations=generations,
            )
        result = as_result(search)
        self.name, dnas = result.strategy, [tuple(h["dna"]) for h in result.history]
        pops = result.extra.get("populations") or [
            dnas[i : i + population_size] for i in range(0, len(dnas), population_size)
        ]
        self.populations = [[tuple(d) for d in p] for p in pops]
        unknown = [d for p in self.populations for d in p if d not in self.records]
        if unknown:
            raise ValueError(f"{list(unknown[0])} is not in this NanoBench's space")

    def objectives(self, dna) -> tuple[float, float]:
        """What the search maximises: (mean validation accuracy, -cost)."""
        r = self.records[tuple(dna)]
        return r["val_accuracy"], -r[self.cost]

    # -- the data
    def exact_front(self) -> list[dict]:
        """Every architecture that no other one beats on both accuracy and cost: the truth, from all of NanoBench."""
        front = self.bench.pareto_front(maximize=("val_accuracy",), minimize=(self.cost,))
        return sorted(front, key=lambda r: r[self.cost])

    def front(self, generation: int = -1) -> list[tuple]:
        """The non-dominated DNAs of one generation's population, cheapest first (duplicates once)."""
        pop = list(dict.fromkeys(self.populations[generation]))
        front = [pop[i] for i in pareto_front([self.objectives(d) for d in pop])]
        return sorted(front, key=lambda d: self.records[d][self.cost])

    def reference(self) -> tuple[float, float]:
        """The hypervolume's reference point: the worst accuracy and the worst cost of the whole space."""
        points = [self.objectives(d) for d in self.records]
        return min(p[0] for p in points), min(p[1] for p in points)

    def hypervolumes(self) -> np.ndarray:
        """Each generation's hypervolume as a share of the exact front's (1 = the search found the whole front)."""
        ref = self.reference()
        exact = hypervolume_2d([self.objectives(r["dna"]) for r in self.exact_front()], ref)
        return np.array([hypervolume_2d([self.objectives(d) for d in p], ref) / exact for p in self.populations])

    # -- the picture
    def simulate_pareto_evolution(self) -> go.Figure:
        """Draw a multi-objective search that actually ran on NanoBench (no invented numbers): each generation's
        front over the exact Pareto front of all architectures, and the hypervolume it covers, generation by
        generation. (The name is the seed's; nothing here is simulated beyond looking scores up in the table.)"""
        label = COSTS[self.cost]
        fig = make_subplots(
            rows=1,
            cols=2,
            column_widths=[0.65, 0.35],
            horizontal_spacing=0.1,
            subplot_titles=[f"validation accuracy against {label}", "hypervolume each generation covers"],
        )
        records = list(self.records.values())
        fig.add_trace(
            go.Scatter(
                x=[r[self.cost] for r in records],
                y=[r["val_accuracy"] for r in records],
                mode="markers",
                name=f"all {len(records)} architectures",
                marker={"size": 5, "color": LIGHT_GREY},
                customdata=[" → ".join(r["ops"]) for r in records],
                hovertemplate="%{customdata}<br>%{y:.2%}, %{x:.4g}<extra></extra>",
            ),
            1,
            1,
        )
        colors = sample_colorscale(CONTINUOUS, list(np.linspace(0, 1, len(self.populations))))
        for g, color in enumerate(colors):
            front = self.front(g)
            fig.add_trace(
                go.Scatter(
                    x=[self.records[d][self.cost] for d in front],
                    y=[self.records[d]["val_accuracy"] for d in front],
                    mode="lines+markers",
                    name=f"generation {g}",
                    line={"color": color, "shape": "hv", "width": 1.5},
                    marker={"size": 7, "color": color},
                    customdata=[str(list(d)) for d in front],
                    hovertemplate=f"generation {g}: %{{customdata}}<br>%{{y:.2%}}, %{{x:.4g}}<extra></extra>",
                    visible=True if g in (0, len(colors) - 1) else "legendonly",  # first and last; click for more
                ),
                1,
                1,
            )
        exact = self.exact_front()
        fig.add_trace(
            go.Scatter(
                x=[r[self.cost] for r in exact],
                y=[r["val_accuracy"] for r in exact],
                mode="lines+markers",
                name=f"exact Pareto front ({len(exact)})",
                line={"color": BLACK, "shape": "hv", "dash": "dot"},
                marker={"symbol": "diamond-open", "size": 11, "color": BLACK},
                customdata=[str(r["dna"]) for r in exact],
                hovertemplate="exact front: %{customdata}<extra></extra>",
            ),
            1,
            1,
        )
        hv = self.hypervolumes()
        fig.add_trace(
            go.Scatter(
                x=list(range(len(hv))),
                y=hv,
                mode="lines+markers",
                name="hypervolume",
                showlegend=False,
                line={"color": "#0072B2"},
                hovertemplate="generation %{x}: %{y:.1%}<extra></extra>",
            ),
            1,
            2,
        )
        fig.add_hline(
            y=1,
            line={"dash": "dot", "color": BLACK},
            row=1,
            col=2,
            annotation_text="exact front",
            annotation_position="bottom right",
        )
        log = self.cost in ("params", "macs")
        fig.update_xaxes(title_text=label + (" (log scale)" if log else ""), type="log" if log else None, row=1, col=1)
        fig.update_yaxes(title_text="mean val accuracy (%)", tickformat=".0%", row=1, col=1)
        fig.update_xaxes(title_text="generation", dtick=1, row=1, col=2)
        fig.update_yaxes(title_text="hypervolume (% of the exact front's)", tickformat=".0%", row=1, col=2)
        found = len({tuple(r["dna"]) for r in exact} & set(self.front()))
        fig.update_layout(
            title=subtitle(
                f"{self.name} on NanoBench: watch each generation's front close in on the exact one",
                f"After {len(hv) - 1} generations its front covers {hv[-1]:.1%} of the exact front's hypervolume "
                f"and holds {found} of its {len(exact)} architectures (accuracy up, {label} down).",
            ),
            height=620,
            margin={"t": 150},
        )
        return fig

    def save(self, path):
        """Write the figure: .html (opens offline), or .png/.svg when kaleido and a Chromium are installed."""
        return save_figure(self.simulate_pareto_evolution(), path)

    def __repr__(self) -> str:
        return f"ParetoAnalyzer({self.name}, accuracy vs {self.cost}, {len(self.populations)} generations)"
