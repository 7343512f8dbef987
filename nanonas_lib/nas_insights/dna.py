"""ArchitectureDNA: the gene pool of a real search, generation by generation, and the lineage of its best DNA."""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nanonas import OPERATIONS, decode
from nanonas.palette import BLACK, GREY

from ._common import CONTINUOUS, as_result, load_bench, op_color, run_search, save_figure, short, subtitle


class ArchitectureDNA:
    """The gene pool of a search: each op's share at each position over generations, diversity, and lineage.

    With no `search`, runs `strategy` (evolution by default) on NanoBench with `seed` and `options`. Otherwise
    `search` is a SearchResult, a model from nano_nas, a path to a saved result, or a history list. Evolution
    keeps its populations (`extra["populations"]`); DARTS's gene pool is its softmax(alphas) per epoch; a plain
    history is cut into consecutive windows of `window` evaluations.
    """

    def __init__(self, search=None, *, strategy="evolution", seed=0, bench=None, window=20, **options):
        if search is not None and options:
            raise ValueError(f"options ({', '.join(options)}) configure a new search; pass them without `search`")
        if not isinstance(window, int) or isinstance(window, bool) or window < 1:
            raise ValueError(f"window must be a positive integer (evaluations per generation); got {window!r}")
        self.bench = load_bench(bench)
        self.result = as_result(search) if search is not None else run_search(strategy, self.bench, seed, **options)
        extra = self.result.extra
        if extra.get("alphas"):  # DARTS: the relaxed choice is already a share per op
            self.unit, self.populations = "epoch", None
        elif extra.get("populations"):
            self.unit, self.populations = "generation", [[list(d) for d in p] for p in extra["populations"]]
        else:
            dnas = [h["dna"] for h in self.result.history]
            self.unit = f"window of {window} evaluations"
            self.populations = [dnas[i : i + window] for i in range(0, len(dnas), window)]

    # -- the data
    def gene_pool(self) -> np.ndarray:
        """Shares of each op at each position: an array (generations, positions, ops); each row sums to 1."""
        if self.populations is None:
            return np.array(self.result.extra["alphas"], dtype=float)  # (epochs, positions, ops)
        pops = [np.array(p) for p in self.populations]  # each (members, positions)
        counts = [np.stack([(p == k).sum(axis=0) for k in range(len(OPERATIONS))], axis=-1) for p in pops]
        return np.stack([c / len(p) for c, p in zip(counts, pops)])

    def diversity(self) -> np.ndarray:
        """Expected Hamming distance between two DNAs drawn from each generation's gene pool (in positions).

        For a population this is the mean Hamming distance over all ordered pairs of members, each member paired
        with itself too: sum over positions of 1 - sum of squared shares. 0 means every member is the same DNA.
        """
        shares = self.gene_pool()
        return (1 - (shares**2).sum(axis=-1)).sum(axis=-1)

    def converged_at(self) -> int | None:
        """The first generation whose diversity is at most half the first one's (None if it never gets there)."""
        d = self.diversity()
        below = np.flatnonzero(d <= d[0] / 2)
        return int(below[0]) if len(below) else None

    def lineage(self) -> list[list[int]]:
        """The DNAs from a random ancestor to the best, one mutation apart (DARTS: its genotype as it changed)."""
        extra = self.result.extra
        if extra.get("derived"):
            path = [list(g) for g in extra["derived"]]
            return [g for i, g in enumerate(path) if i == 0 or g != path[i - 1]]
        parents = {tuple(child): tuple(parent) for child, parent in extra.get("parents", [])}
        chain = [tuple(self.result.dna)]
        while chain[-1] in parents and parents[chain[-1]] not in chain:  # walk back to a DNA nobody mutated
            chain.append(parents[chain[-1]])
        return [list(d) for d in reversed(chain)]

    @staticmethod
    def mutation(parent, child) -> str:
        """What changed between two DNAs, e.g. 'position 2: skip → conv3x3' (positions count from 1)."""
        ops = list(OPERATIONS)
        pairs = enumerate(zip(parent, child), start=1)
        changes = [f"position {i}: {ops[a]} → {ops[b]}" for i, (a, b) in pairs if a != b]
        return ", ".join(changes) or "no change"

    # -- the picture
    def visualize_dna_evolution(self) -> go.Figure:
        """Stacked op shares per position over generations, the population's diversity, and the best's lineage."""
        shares, diversity, lineage = self.gene_pool(), self.diversity(), self.lineage()
        generations, positions, n_ops = shares.shape
        x = list(range(generations))
        panel = lambda p: (p // 2 + 1, p % 2 + 1)  # positions fill a 2 x 2 grid; diversity and lineage go below
        fig = make_subplots(
            rows=3,
            cols=2,
            vertical_spacing=0.09,
            horizontal_spacing=0.09,
            subplot_titles=[f"position {p + 1}: share of each op" for p in range(positions)]
            + ["diversity: how different two members are", "lineage of the best DNA, one mutation a step"],
        )
        for p in range(positions):
            for k, op in enumerate(OPERATIONS):
                fig.add_trace(
                    go.Scatter(
                        x=x,
                        y=shares[:, p, k],
                        name=op,
                        legendgroup=op,
                        showlegend=p == 0,
                        stackgroup=f"p{p}",
                        mode="lines",
                        line={"width": 0.5, "color": op_color(op)},
                        fillcolor=op_color(op),
                        meta={"position": p, "op": op},
                        hovertemplate=f"position {p + 1}, {op}<br>{self.unit} %{{x}}: %{{y:.0%}}<extra></extra>",
                    ),
                    *panel(p),
                )
            fig.update_yaxes(title_text="share (%)", tickformat=".0%", range=[0, 1], row=panel(p)[0], col=panel(p)[1])
            fig.update_xaxes(title_text=self.unit, row=panel(p)[0], col=panel(p)[1])
        uniform = positions * (1 - 1 / n_ops)  # the diversity of uniformly random DNAs
        fig.add_trace(
            go.Scatter(
                x=x,
                y=diversity,
                name="diversity",
                mode="lines+markers",
                line={"color": BLACK},
                hovertemplate=f"{self.unit} %{{x}}: %{{y:.2f}} positions differ<extra></extra>",
            ),
            3,
            1,
        )
        fig.add_trace(
            go.Scatter(
                x=[0, generations - 1],
                y=[uniform, uniform],
                name="uniformly random DNAs",
                mode="lines",
                line={"color": GREY, "dash": "dash"},
                hoverinfo="skip",
            ),
            3,
            1,
        )
        fig.update_yaxes(title_text="Hamming distance (positions)", range=[0, positions], row=3, col=1)
        fig.update_xaxes(title_text=self.unit, row=3, col=1)

        exact = len(OPERATIONS) ** self.bench.positions == len(self.bench) and all(d in self.bench for d in lineage)
        seen = {tuple(h["dna"]): h["fitness"] for h in self.result.history}  # a space the table does not cover
        truth = [self.bench.query(d)["val_accuracy"] if exact else seen.get(tuple(d)) for d in lineage]
        score = "mean val accuracy" if exact else "fitness in this search"  # the exact mean, not one noisy lookup
        labels = ["random ancestor"] + [self.mutation(a, b) for a, b in zip(lineage, lineage[1:])]
        fig.add_trace(
            go.Scatter(
                x=list(range(len(lineage))),
                y=truth,
                name="lineage",
                mode="lines+markers+text",
                text=["·".join(short(op) for op in decode(d)) for d in lineage],
                textposition="top center",
                customdata=[[str(d), label] for d, label in zip(lineage, labels)],
                marker={"size": 10, "color": truth, "colorscale": CONTINUOUS},
                line={"color": BLACK},
                hovertemplate="%{customdata[0]}: %{customdata[1]}<br>" + score + " %{y:.2%}<extra></extra>",
            ),
            3,
            2,
        )
        fig.update_yaxes(title_text=f"{score} (%)", tickformat=".1%", row=3, col=2)
        step = "change of the derived architecture" if self.unit == "epoch" else "mutation"
        fig.update_xaxes(title_text=f"{step}s from the start", dtick=1, row=3, col=2)

        r, half = self.result, self.converged_at()
        speed = f"half of it gone by {self.unit} {half}" if half is not None else "not yet halved"
        if len(lineage) > 1:
            story = f"the best DNA {'·'.join(decode(r.dna))} is {len(lineage) - 1} {step}(s) from where it started"
        else:
            story = f"the best DNA {'·'.join(decode(r.dna))} has no recorded parent ({r.strategy} breeds nothing)"
        fig.update_layout(
            title=subtitle(
                f"Gene pool of {r.strategy} (seed {r.seed}): "
                + ("each position settles on one op" if half is not None else "the positions stay mixed"),
                f"Diversity went from {diversity[0]:.2f} to {diversity[-1]:.2f} positions ({speed}); {story}.",
            ),
            height=950,
            legend={"title": {"text": "op"}},
            margin={"t": 150},
        )
        return fig

    def save(self, path):
        """Write the figure: .html (opens offline), or .png/.svg when kaleido and a Chromium are installed."""
        return save_figure(self.visualize_dna_evolution(), path)

    def __repr__(self) -> str:
        return f"ArchitectureDNA({self.result.strategy}: {len(self.gene_pool())} × {self.unit})"
