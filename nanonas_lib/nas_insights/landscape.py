"""SearchLandscape: the true fitness of every architecture on a grid where one mutation is one step, with the
paths real searches took across it, its local optima and its fitness-distance correlation."""

import functools
import itertools
import statistics

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nanonas import OPERATIONS, STRATEGIES
from nanonas.bench import using_ops
from nanonas.palette import GREY, OKABE_ITO, WHITE

from ._common import (
    CONTINUOUS,
    as_result,
    check_space,
    load_bench,
    run_search,
    save_figure,
    short,
    strategy_color,
    subtitle,
    table_ops,
)

FDC_READINGS = [  # (upper bound, what a fitness-distance correlation up to it means for a search that mutates)
    (
        -0.5,
        "strongly negative: fitter architectures sit fewer mutations from the optimum, so mutating good ones "
        "climbs to it",
    ),
    (
        -0.15,
        "weakly negative: fitter architectures tend to sit a little closer to the optimum, so mutating good ones "
        "helps, but only somewhat",
    ),
    (0.15, "near zero: fitness says little about where the optimum is, so mutation gains little over sampling"),
    (1.0, "positive: fitter architectures sit further from the optimum, a deceptive landscape for mutation"),
]


def cell(dna, n_ops: int | None = None) -> tuple[int, int]:
    """Where a DNA sits on the grid: row = its ops at the first half of the positions, column = at the second half,
    each read as a number in base `n_ops` (4 positions: row = dna[0] * n + dna[1], column = dna[2] * n + dna[3]).

    One mutation changes one position, so a DNA's single-mutation neighbours share its row or its column.
    """
    n, half = len(OPERATIONS) if n_ops is None else n_ops, len(dna) // 2
    row, col = (functools.reduce(lambda acc, op: acc * n + op, ops, 0) for ops in (dna[:half], dna[half:]))
    return row, col


def neighbours(dna, n_ops: int | None = None) -> list[tuple]:
    """Every DNA one mutation away: one position changed to another op."""
    n = len(OPERATIONS) if n_ops is None else n_ops
    return [(*dna[:i], o, *dna[i + 1 :]) for i in range(len(dna)) for o in range(n) if o != dna[i]]


def hamming(a, b) -> int:
    return sum(x != y for x, y in zip(a, b))


def signed(correlation: float) -> str:
    """A correlation as '+0.12', or 'undefined (nothing varies)' where it is NaN."""
    return "undefined (nothing varies)" if np.isnan(correlation) else f"{correlation:+.2f}"


def positions_label(positions) -> str:
    """'op at position 1', 'ops at positions 1·2': an axis title for the positions a grid axis enumerates."""
    return ("ops at positions " if len(positions) > 1 else "op at position ") + "·".join(str(p + 1) for p in positions)


class SearchLandscape:
    """The exact landscape of every architecture of a NanoBench, with the paths that real searches took.

    Any complete table with an even number of positions: the shipped one (5 ops x 4 positions: a 25 x 25 grid), or
    one you built, e.g. project 06a's grown space (7 ops x 2 positions: 7 x 7). Its ops must be in OPERATIONS (the
    searches run with them); the landscape keeps them, so it works on after OPERATIONS changes back.

    `searches` are SearchResults, models from nano_nas, paths to saved results, or histories; with none, runs
    `strategies` on NanoBench with `seed`. A DARTS result draws the path of its discretised genotype per epoch;
    `include_darts=True` runs one (a real supernet: ~0.5 s an epoch on a CPU). `within` is how close to the optimum
    (in mean validation accuracy) counts as "found it" for the comparison of the searches; `race_seeds` more
    seeds of the landscape's own strategies (instant on NanoBench) make that comparison more than one run's luck.
    """

    def __init__(
        self,
        *searches,
        bench=None,
        seed=0,
        strategies=("random", "evolution"),
        include_darts=False,
        darts_epochs=50,
        within=0.005,
        race_seeds=20,
    ):
        self.bench = load_bench(bench)
        self.ops, self.positions = table_ops(self.bench), getattr(self.bench, "positions", 4)
        if self.positions < 2 or self.positions % 2:
            raise ValueError(
                f"the landscape grid puts the first half of the positions on its rows and the second half on its "
                f"columns, so it needs an even number of positions (2, 4, 6, ...); this NanoBench has {self.positions}"
            )
        missing = [op for op in self.ops if op not in OPERATIONS]
        if missing:
            raise ValueError(
                f"this NanoBench's ops {', '.join(missing)} are not in nanonas.OPERATIONS ({', '.join(OPERATIONS)}), "
                f"and the searches on the landscape need them: add the table's ops first (06a's grown table: "
                f"`OPERATIONS.update(GROWN_OPS)`, with the ops 06a built it with), or make the landscape inside "
                f"`with nanonas.bench.using_ops(GROWN_OPS):`"
            )
        self.constructors = {op: OPERATIONS[op] for op in self.ops}  # the searches run with these, in this order
        check_space(self.bench)
        if not isinstance(within, (int, float)) or not 0 <= within < 1:
            raise ValueError(f"within must be an accuracy gap in [0, 1), e.g. 0.005 for half a point; got {within!r}")
        if not isinstance(race_seeds, int) or isinstance(race_seeds, bool) or race_seeds < 0:
            raise ValueError(f"race_seeds must be a whole number of seeds (0: no race); got {race_seeds!r}")
        self.within, self.race_seeds, self._race = within, race_seeds, None
        self.strategies = () if searches else tuple(strategies)  # the ones this landscape runs itself
        self.searches = [as_result(s) for s in searches] or [self.run(s, seed) for s in strategies]
        if include_darts and all(r.strategy != "darts" for r in self.searches):
            self.searches.append(self.run("darts", seed, epochs=darts_epochs))
        self.accuracy = {tuple(r["dna"]): r["val_accuracy"] for r in self.bench}  # mean over the 3 seeds
        self.optimum = tuple(self.bench.best()["dna"])
        for r in self.searches:
            unknown = [d for d in self.picks(r) if d not in self.accuracy]
            if unknown:
                raise ValueError(f"{r.strategy} evaluated {list(unknown[0])}, which is not in this NanoBench's space")
        labels = [f"{r.strategy} (seed {r.seed})" for r in self.searches]
        self.labels = [f"{a} #{i + 1}" if labels.count(a) > 1 else a for i, a in enumerate(labels)]

    def run(self, strategy: str, seed: int, **options):
        """One search on this table, with the table's ops and positions (lookups; DARTS trains its supernet)."""
        with using_ops(self.constructors):
            return run_search(strategy, self.bench, seed, positions=self.positions, **options)

    def decode(self, dna) -> list[str]:
        """The names of a DNA's ops, in this table's op order."""
        return [self.ops[i] for i in dna]

    def name(self, dna) -> str:
        """A DNA as its ops, e.g. 'conv3x3 → skip'."""
        return " → ".join(self.decode(dna))

    def cell(self, dna) -> tuple[int, int]:
        """(row, column) of a DNA on this table's grid: see `cell`."""
        return cell(dna, len(self.ops))

    # -- the landscape
    def grid(self) -> np.ndarray:
        """Mean validation accuracy of every architecture, as an n^(P/2) x n^(P/2) array (n ops, P positions; the
        shipped table: 25 x 25) indexed by `cell(dna)`."""
        side = len(self.ops) ** (self.positions // 2)
        z = np.zeros((side, side))
        for dna, acc in self.accuracy.items():
            z[self.cell(dna)] = acc
        return z

    def local_optima(self) -> list[tuple]:
        """Architectures that no single mutation strictly improves (by mean validation accuracy)."""
        acc, n = self.accuracy, len(self.ops)
        return [d for d in acc if not any(acc[m] > acc[d] for m in neighbours(d, n))]

    def fitness_distance_correlation(self, live_only: bool = False) -> float:
        """Pearson correlation of fitness with Hamming distance to the global optimum (Jones & Forrest, 1995).

        Strongly negative: the fitter an architecture, the fewer mutations from the optimum, so climbing works.
        `live_only` keeps architectures without 'zero' (which cuts the chain and leaves chance accuracy).
        NaN where it is undefined: fitness or distance does not vary (a small table, e.g. 2 positions with 'zero').
        """
        zero = self.ops.index("zero") if "zero" in self.ops else -1
        dnas = [d for d in self.accuracy if not (live_only and zero in d)]
        fitness = [self.accuracy[d] for d in dnas]
        distance = [hamming(d, self.optimum) for d in dnas]
        if len(set(fitness)) < 2 or len(set(distance)) < 2:
            return float("nan")
        return float(np.corrcoef(fitness, distance)[0, 1])

    # -- the searches on it
    def picks(self, result) -> list[tuple]:
        """The DNA the search would return after each evaluation (its best fitness so far; the first of equals).

        For DARTS, the architecture derived from its alphas after each epoch.
        """
        if result.extra.get("derived"):
            return [tuple(g) for g in result.extra["derived"]]
        best, out = None, []
        for h in result.history:
            if best is None or h["fitness"] > best["fitness"]:
                best = h
            out.append(tuple(best["dna"]))
        return out

    def path(self, result) -> list[tuple]:
        """The successive picks of a search, each once: the route its best-so-far took across the landscape."""
        picks = self.picks(result)
        return [p for i, p in enumerate(picks) if i == 0 or p != picks[i - 1]]

    def steps_to_optimum(self, result) -> int | None:
        """Evaluations (DARTS: epochs) until the search's pick is within `within` of the optimum; None if never."""
        target = self.accuracy[self.optimum] - self.within
        return next((i + 1 for i, p in enumerate(self.picks(result)) if self.accuracy[p] >= target), None)

    def racers(self) -> list[str]:
        """This landscape's own strategies that count evaluations (a supernet, which counts epochs, trains: slow)."""
        return [s for s in self.strategies if STRATEGIES[s].unit == "eval"]

    def race(self) -> dict:
        """This landscape's own strategies (not DARTS: it trains) run on seeds 0..race_seeds-1: the evaluations each run
        needed to come within `within` of the optimum, on the budget they all share (None: not within it)."""
        if self._race is None:
            strategies = self.racers()
            runs = {s: [self.run(s, seed) for seed in range(self.race_seeds)] for s in strategies}
            budget = min((len(r.history) for rs in runs.values() for r in rs), default=0)
            steps = {s: [self.steps_to_optimum(r) for r in rs] for s, rs in runs.items()}
            self._race = {
                "budget": budget,
                "steps": {s: [n if n and n <= budget else None for n in v] for s, v in steps.items()},
            }
        return self._race

    def explain(self) -> str:
        """A few sentences, computed from the runs and the table, on which search does better here and why."""
        best, gap = self.accuracy[self.optimum], f"{100 * self.within:.1f} points"
        lines, ranked = [], []
        for i, r in enumerate(self.searches):
            steps, unit = self.steps_to_optimum(r), "epochs" if r.extra.get("derived") else "evaluations"
            final = best - self.accuracy[self.picks(r)[-1]]
            done = f"came within {gap} of the optimum after {steps} {unit}" if steps else f"never came within {gap}"
            lines.append(f"{self.labels[i]} {done}; its final pick is {100 * final:.2f} points below the optimum.")
            if unit == "evaluations":
                ranked.append((steps or float("inf"), final, self.labels[i], r))
        if len(ranked) > 1:  # the same seed draws the same random DNAs: a shared start is no merit of either
            (*_, one, a), (*_, two, b) = ranked[:2]
            shared = next((k for k, (x, y) in enumerate(zip(a.history, b.history)) if x["dna"] != y["dna"]), 0)
            if shared:
                why = " (the same seed draws the same random DNAs)" if a.seed == b.seed else ""
                lines.append(
                    f"{one} and {two} evaluated the same first {shared} DNAs{why}, so only what follows differs."
                )
        near = sum(a >= best - self.within for a in self.accuracy.values())
        lines.append(
            f"Only {near} of {len(self.accuracy)} architectures lie within {gap}: uniform sampling expects about "
            f"{(len(self.accuracy) + 1) / (near + 1):.0f} draws to meet one, and must then recognise it through noisy "
            f"fitness."
        )
        fdc, optima = self.fitness_distance_correlation(live_only=True), self.local_optima()
        why = next((text for bound, text in FDC_READINGS if fdc <= bound), "so it says nothing about mutation here")
        live = sum("zero" not in self.decode(d) for d in optima)
        lines.append(
            f"Over live architectures the fitness-distance correlation is {signed(fdc)}, {why}; {live} live local "
            f"optima (of {len(optima)} in all) are where a pure hill climber would stop."
        )
        race = self.race() if len(self.racers()) > 1 and self.race_seeds else None
        if race:
            n, tally = self.race_seeds, []
            for strategy, steps in race["steps"].items():
                hits = [k for k in steps if k]
                median = statistics.median(hits) if hits else float("inf")
                said = f", median {median:.0f} evaluations" if hits else ""
                tally.append((-len(hits), median, strategy, f"{strategy} in {len(hits)} of {n} runs{said}"))
            tally.sort()  # most runs that got there first, then the fewest evaluations
            (h1, m1, first, _), (h2, m2, second, _) = tally[:2]
            p1, p2 = -h1 / n, -h2 / n  # success rates; two standard errors of their difference is seed luck
            luck = 2 * ((p1 * (1 - p1) + p2 * (1 - p2)) / n) ** 0.5
            if (h1, m1) == (h2, m2):
                verdict = "Neither does better here."
            elif p1 - p2 > luck:
                verdict = f"So {first} does better here."
            else:
                verdict = f"Here {first} comes out ahead of {second}, but by less than the luck of {n} seeds."
            lines.append(
                f"Over {n} seeds, within a shared budget of {race['budget']} evaluations, the searches came within "
                f"{gap}: {'; '.join(t[3] for t in tally)}. {verdict}"
            )
        elif len(ranked) > 1:
            ranked.sort(key=lambda t: t[:2])
            (s1, f1, first, _), (s2, f2, second, _) = ranked[0], ranked[1]
            if (s1, f1) == (s2, f2):
                lines.append(f"In these runs {first} and {second} did equally well.")
            elif s1 < s2:
                lines.append(f"In these runs {first} did better than {second}: it got within {gap} sooner.")
            else:
                lines.append(
                    f"In these runs {first} did better than {second}: both got within {gap} equally fast, and its "
                    f"final pick is closer."
                )
        return " ".join(lines)

    # -- the picture
    def visualize_search_paths(self) -> go.Figure:
        """The landscape (the shipped table: 25 x 25) coloured by mean validation accuracy, local optima, and each
        search's path; beside it, how close each search's pick is to the optimum after each evaluation."""
        half, z = self.positions // 2, self.grid()
        side, name = len(z), self.name
        names = np.empty(z.shape, dtype=object)
        for dna in self.accuracy:
            names[self.cell(dna)] = name(dna)
        ticks = ["·".join(map(short, ops)) for ops in itertools.product(self.ops, repeat=half)]  # the rows' order
        live = [a for d, a in self.accuracy.items() if "zero" not in self.decode(d)] or list(self.accuracy.values())
        fig = make_subplots(
            rows=1,
            cols=2,
            column_widths=[0.6, 0.4],
            horizontal_spacing=0.18,
            subplot_titles=[
                "every architecture; one mutation moves along a row or a column",
                "how far each search's pick is from the optimum",
            ],
        )
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=list(range(side)),
                y=list(range(side)),
                customdata=names,
                name="NanoBench",
                colorscale=CONTINUOUS,
                zmin=min(live),
                zmax=float(z.max()),  # chance-level 'zero' archs bottom out
                colorbar={"title": {"text": "mean val<br>accuracy (%)"}, "tickformat": ".0%", "x": 0.5},
                hovertemplate="%{customdata}<br>mean val accuracy %{z:.2%}<extra></extra>",
            ),
            1,
            1,
        )
        optima = self.local_optima()
        rows, cols = zip(*map(self.cell, optima))
        ring = max(7, min(18, round(175 / side)))  # a ring that fits a cell: 7 px on the shipped 25 x 25 grid
        fig.add_trace(
            go.Scatter(
                x=cols,
                y=rows,
                mode="markers",
                name=f"local optima ({len(optima)})",
                marker={"symbol": "circle-open", "size": ring, "color": WHITE, "line": {"width": 1.5 * ring / 7}},
                customdata=[name(d) for d in optima],
                hovertemplate="local optimum: %{customdata}",
            ),
            1,
            1,
        )
        row, col = self.cell(self.optimum)
        fig.add_trace(
            go.Scatter(
                x=[col],
                y=[row],
                mode="markers",
                name="global optimum",
                hoverinfo="name",
                marker={"symbol": "star", "size": 18, "color": OKABE_ITO[6], "line": {"width": 1.5}},
            ),
            1,
            1,
        )
        best = self.accuracy[self.optimum]
        for i, r in enumerate(self.searches):
            color, label, path = strategy_color(r.strategy, i), self.labels[i], self.path(r)
            offset = 0.25 * (i - (len(self.searches) - 1) / 2)  # side by side, so overlapping paths stay visible
            rows, cols = zip(*map(self.cell, path))
            fig.add_trace(
                go.Scatter(
                    x=[c + offset for c in cols],
                    y=[r_ + offset for r_ in rows],
                    mode="lines+markers",
                    name=f"{label}: {len(path)} picks",
                    legendgroup=label,
                    line={"color": color, "width": 3},
                    marker={"size": 8, "color": color, "line": {"width": 1, "color": WHITE}},
                    customdata=[name(d) for d in path],
                    hovertemplate=f"{label}: %{{customdata}}",
                ),
                1,
                1,
            )
            gaps = [100 * (best - self.accuracy[p]) for p in self.picks(r)]
            unit = "epoch" if r.extra.get("derived") else "evaluation"
            fig.add_trace(
                go.Scatter(
                    x=list(range(1, len(gaps) + 1)),
                    y=gaps,
                    mode="lines",
                    name=f"{label} ({unit}s)",
                    legendgroup=label,
                    showlegend=False,
                    line={"color": color, "width": 2, "shape": "hv"},
                    hovertemplate=f"{label}<br>{unit} %{{x}}: %{{y:.2f}} points below<extra></extra>",
                ),
                1,
                2,
            )
        within = f"within {100 * self.within:.1f} points"
        fig.add_hline(
            y=100 * self.within,
            line={"dash": "dash", "color": GREY},
            row=1,
            col=2,
            annotation_text=within,
            annotation_position="top right",
        )
        axis = {"tickvals": list(range(side)), "ticktext": ticks, "tickfont": {"size": 8}}
        rows_title, cols_title = positions_label(range(half)), positions_label(range(half, self.positions))
        fig.update_xaxes(title_text=cols_title, tickangle=-90, constrain="domain", row=1, col=1, **axis)
        fig.update_yaxes(title_text=rows_title, autorange="reversed", scaleanchor="x", row=1, col=1, **axis)
        darts = any(r.extra.get("derived") for r in self.searches)
        fig.update_xaxes(title_text="evaluations" + (" (DARTS: epochs)" if darts else ""), type="log", row=1, col=2)
        fig.update_yaxes(title_text="gap to the optimum (accuracy points)", rangemode="tozero", row=1, col=2)
        fdc_all, fdc_live = self.fitness_distance_correlation(), self.fitness_distance_correlation(live_only=True)
        title = subtitle(
            "The true fitness landscape: watch where each search's best-so-far walks",
            f"{len(optima)} local optima (no single mutation improves them); fitness-distance correlation "
            f"{signed(fdc_all)} over all, {signed(fdc_live)} over live architectures (without 'zero'). "
            "Grid labels: " + ", ".join(f"{short(op)} = {op}" for op in self.ops) + ".",
        )
        lines = title["text"].count("<br>")  # the subtitle's lines: the top margin grows with them, or they clip
        fig.update_layout(
            title=title,
            height=720,
            legend={"orientation": "h", "y": -0.22},
            margin={"t": max(150, 60 + 24 * lines)},
        )
        return fig

    def save(self, path):
        """Write the figure: .html (opens offline), or .png/.svg when kaleido and a Chromium are installed."""
        return save_figure(self.visualize_search_paths(), path)

    def __repr__(self) -> str:
        return f"SearchLandscape({', '.join(self.labels)})"
