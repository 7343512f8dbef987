"""DartsDashboard: watch DARTS learn, epoch by epoch: the alphas of every position (or a cell's every edge), the
losses, the derived DNA."""

import html

import ipywidgets as W
import plotly.graph_objects as go

from .. import core
from ..cells import EDGES, SPACES
from ..core import Task
from ..palette import OKABE_ITO, STATE_COLORS, op_colors
from ..run import Run
from .live import LiveSearch, arrow, keep_drawn
from .search_dashboard import EVALUATORS, DartsEpoch


class DartsDashboard(LiveSearch):
    """DARTS, live: softmax(alphas) per position as bars, training and validation loss, and the architecture
    derived from them right now.

    `DartsDashboard()` in a cell shows it; `dashboard.run(epochs=10)` runs without clicks and returns the
    `SearchResult` (its `extra` holds the alphas, derived DNAs and losses of every epoch). `space='cell'` searches
    the cell of nanonas.cells (an op on each of its 6 edges) with the same DARTS, core.darts.
    """

    def __init__(self, epochs=20, arch_lr=3e-3, seed=0, evaluator="bench", bench=None, space="chain"):
        super().__init__(bench)
        style = {"description_width": "140px"}
        wide = lambda: W.Layout(width="360px")  # one Layout per control: each can be hidden on its own
        self.controls = {
            "epochs": W.IntSlider(value=epochs, min=1, max=100, description="epochs", style=style, layout=wide()),
            "arch_lr": W.FloatLogSlider(
                value=arch_lr,
                base=10,
                min=-4,
                max=-1,
                step=0.25,
                readout_format=".0e",
                description="alphas' learning rate",
                style=style,
                layout=wide(),
            ),
            "seed": W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed", style=style, layout=wide()),
            "space": W.Dropdown(options=list(SPACES), value=space, description="space", style=style, layout=wide()),
            "evaluator": W.Dropdown(
                options=list(EVALUATORS.items()),
                value=evaluator,
                description="score the pick by",
                style=style,
                layout=wide(),
            ),
        }
        self.alphas = go.FigureWidget(
            data=[go.Bar(name=op, marker_color=color) for op, color in op_colors().items()],
            layout=go.Layout(
                title="softmax(alphas) per position",
                barmode="group",
                xaxis_title="position in the chain",
                yaxis_title="weight of the op (softmax)",
                yaxis_range=[0, 0.5],
                width=560,
                height=360,
                margin={"t": 50, "b": 50},
            ),
        )
        self.losses = go.FigureWidget(
            data=[
                go.Scatter(name="training loss (weight steps)", mode="lines+markers", line={"color": OKABE_ITO[0]}),
                go.Scatter(
                    name="validation loss (alpha steps)",
                    mode="lines+markers",
                    line={"color": OKABE_ITO[5], "dash": "dash"},
                ),
            ],
            layout=go.Layout(
                title="Losses",
                xaxis_title="epoch",
                yaxis_title="cross-entropy loss",
                width=420,
                height=360,
                margin={"t": 50, "b": 50},
                legend={"x": 1, "xanchor": "right", "y": 1, "yanchor": "top"},
            ),
        )
        self.derived = W.HTML("").add_class("nanonas-derived")
        self.widget = W.VBox(
            [
                W.HBox([W.VBox(list(self.controls.values())[:3]), W.VBox(list(self.controls.values())[3:])]),
                W.HBox([self.start_button, self.stop_button, self.reset_button]),
                self.status,
                self.error_box,
                self.derived,
                W.HBox([keep_drawn(self, "alphas"), keep_drawn(self, "losses")]),
            ]
        ).add_class("nanonas-darts-dashboard")
        self.epochs = []  # the DartsEpoch of every epoch so far
        self._label(space)

    def _label(self, space: str) -> None:
        """The alphas' bars: one group per position of the chain, or per edge of the cell."""
        cell = space == "cell"
        self._place = "edge" if cell else "position"
        places = [f"edge {i}→{j}" for i, j in EDGES] if cell else [f"position {i + 1}" for i in range(Task.positions)]
        with self.alphas.batch_update():
            for bar in self.alphas.data:
                bar.x = places
            self.alphas.layout.xaxis.title = "edge of the cell (node → node)" if cell else "position in the chain"
            self.alphas.layout.title = f"softmax(alphas) per {self._place}"

    def _clear(self):
        self.epochs = []
        with self.alphas.batch_update():
            for bar in self.alphas.data:
                bar.y = []
        with self.losses.batch_update():
            for line in self.losses.data:
                line.x, line.y = [], []
        self.derived.value = ""

    def _search(self, epochs=20, arch_lr=3e-3, seed=0, evaluator="bench", space="chain"):
        evaluator = self.bench if evaluator == "bench" else evaluator
        options = {"epochs": epochs, "arch_lr": arch_lr, "on_epoch": self._on_epoch, "space": space}
        self._run = run = Run("darts", {"seed": seed, "evaluator": evaluator, "progress": False, **options})
        self._label(space)
        self.losses.layout.xaxis.range = [0.5, epochs + 0.5]
        run.search()  # core.darts, drawn by its on_epoch hook; Stop raises there (StopSearch, a KeyboardInterrupt)
        if not self.epochs:
            self._draw(run, "stopped")
            return None
        if run.interrupted:
            run.fitness(self.epochs[-1].dna)  # stopped: score the architecture derived now with the chosen evaluator
        self._draw(run, "stopped" if run.interrupted else "finished")
        return run.finish().search

    def _on_epoch(self, epoch, weights, dna, train_loss, valid_loss):
        """core.darts's hook after each epoch: keep it, draw it, and stop here if Stop was pressed."""
        self.epochs.append(DartsEpoch(epoch, weights, dna, train_loss, valid_loss))
        self._draw(self._run, "running")
        self.pause()

    def _draw(self, run, state):
        total = run.strategy_options["epochs"]
        parts = [
            f'<b style="color:{STATE_COLORS[state]}">{state}</b>',
            f"epoch {len(self.epochs)}/{total}",
            f"{self.elapsed():.1f} s",
        ]
        if not self.epochs:
            self.status.value = " · ".join(parts)
            return
        last = self.epochs[-1]
        with self.alphas.batch_update():
            for i, bar in enumerate(self.alphas.data):
                bar.y = last.weights[:, i].tolist()
            self.alphas.layout.yaxis.range = [0, max(0.5, float(last.weights.max()) + 0.05)]
            self.alphas.layout.title = f"softmax(alphas) per {self._place} after epoch {last.epoch + 1}"
        with self.losses.batch_update():
            xs = [e.epoch + 1 for e in self.epochs]
            self.losses.data[0].update(x=xs, y=[e.train_loss for e in self.epochs])
            self.losses.data[1].update(x=xs, y=[e.valid_loss for e in self.epochs])
        text = f"Derived architecture now: <b>{html.escape(arrow(core.decode(last.dna)))}</b>"
        if run.bench is not None and last.dna in run.bench:  # a cell table holds a sample of the cells
            record = run.bench.query(last.dna)
            text += (
                f" (NanoBench: {record['val_accuracy']:.2%} mean validation accuracy, rank "
                f"{run.bench.rank(last.dna)} of {len(run.bench)})"
            )
        if tuple(last.dna) in run.fitness:
            text += f"; scored {run.fitness[tuple(last.dna)]:.2%} by the evaluator"
        self.derived.value = text
        self.status.value = " · ".join(parts)
