"""ParetoExplorer: set a latency and a parameter budget; see the best architecture that fits, on the exact front."""

import html

import ipywidgets as W
import plotly.graph_objects as go

from ..palette import GREY, OKABE_ITO
from ..pareto import TIE
from .live import arrow, keep_drawn

OBJECTIVES = {"maximize": ("val_accuracy",), "minimize": ("latency_b1_ms", "params")}


class ParetoExplorer:
    """Every NanoBench architecture by latency and accuracy, the exact Pareto front (accuracy vs latency vs
    parameters), and two budget sliders that pick the best architecture under both budgets. Dead architectures
    (those with `zero`, at chance level) are left out unless `show_dead=True` or the checkbox is ticked.

    `explorer.set_budget(latency_ms=0.2, params=10_000)` does without sliders what they do, and returns the pick.
    """

    def __init__(self, latency_ms=None, params=None, bench=None, show_dead=False):
        if bench is None:
            from ..bench import NanoBench

            bench = NanoBench.load()
        self.bench = bench
        self.records = list(bench)  # best first
        self.front = bench.pareto_front(**OBJECTIVES)  # the exact front over all three objectives
        lat = [r["latency_b1_ms"] for r in self.records]
        par = [int(r["params"]) for r in self.records]
        style, wide = {"description_width": "160px"}, lambda: W.Layout(width="520px")
        self.latency_slider = W.FloatSlider(
            value=max(lat) if latency_ms is None else latency_ms,
            min=min(lat),
            max=max(lat),
            step=(max(lat) - min(lat)) / 200,
            readout_format=".3f",
            continuous_update=False,
            description="latency budget (ms)",
            style=style,
            layout=wide(),
        )
        self.params_slider = W.IntSlider(
            value=max(par) if params is None else params,
            min=min(par),
            max=max(par),
            step=100,
            continuous_update=False,
            description="parameter budget",
            style=style,
            layout=wide(),
        )
        self.latency_slider.add_class("nanonas-latency-budget")
        self.params_slider.add_class("nanonas-params-budget")
        for slider in (self.latency_slider, self.params_slider):
            slider.observe(lambda _: self._draw(), names="value")
        self.pick = W.HTML("").add_class("nanonas-pick")
        self.dead_toggle = W.Checkbox(value=show_dead, description="show dead architectures (with zero)", indent=False)
        self.dead_toggle.add_class("nanonas-show-dead")
        self.dead_toggle.observe(lambda _: self._draw(), names="value")

        hover = "%{text}<br>latency %{x:.3f} ms<br>accuracy %{y:.2%}<extra></extra>"
        label = lambda r: f"{arrow(r['ops'])}<br>{int(r['params']):,} parameters"
        front = sorted(self.front, key=lambda r: r["latency_b1_ms"])
        self.figure = go.FigureWidget(
            data=[
                go.Scatter(
                    name="over the latency budget",
                    mode="markers",
                    marker={"color": GREY, "size": 5, "opacity": 0.35},
                    hovertemplate=hover,
                ),
                go.Scatter(
                    name="within budget", mode="markers", marker={"color": OKABE_ITO[4], "size": 6}, hovertemplate=hover
                ),
                go.Scatter(
                    name="exact Pareto front (accuracy, latency, parameters)",
                    mode="markers",
                    x=[r["latency_b1_ms"] for r in front],
                    y=[r["val_accuracy"] for r in front],
                    text=[label(r) for r in front],
                    hovertemplate=hover,
                    marker={
                        "color": OKABE_ITO[0],
                        "size": 9,
                        "symbol": "diamond",
                        "line": {"color": "white", "width": 1},
                    },
                ),
                go.Scatter(
                    name="best under the budget",
                    mode="markers",
                    hovertemplate=hover,
                    marker={
                        "color": OKABE_ITO[5],
                        "size": 18,
                        "symbol": "star",
                        "line": {"color": "black", "width": 1},
                    },
                ),
                go.Scatter(
                    name="fast enough, over the parameter budget",
                    mode="markers",
                    marker={"color": OKABE_ITO[4], "size": 6, "symbol": "circle-open"},
                    hovertemplate=hover,
                ),
            ],
            layout=go.Layout(
                title="NanoBench: accuracy vs latency",
                xaxis_title="latency, batch of 1 (ms)",
                yaxis_title=f"validation accuracy (mean of {len(bench.meta['recipe']['seeds'])} seeds)",
                yaxis_tickformat=".0%",
                width=980,
                height=460,
                margin={"t": 50, "b": 50},
                legend={"x": 1, "xanchor": "right", "y": 0, "yanchor": "bottom"},
            ),
        )
        self._label = label
        self.widget = W.VBox(
            [self.latency_slider, self.params_slider, self.dead_toggle, self.pick, keep_drawn(self, "figure")]
        ).add_class("nanonas-pareto-explorer")
        self._draw()

    def best_under(self, latency_ms: float, params: float) -> dict | None:
        """The most accurate architecture with latency <= `latency_ms` and parameters <= `params` (None if none
        fits). It is always on the exact front: anything that beats it on all three would fit and be as accurate."""
        fits = [r for r in self.front if r["latency_b1_ms"] <= latency_ms and r["params"] <= params]
        if not fits:
            return None
        top = max(r["val_accuracy"] for r in fits)
        tied = [r for r in fits if r["val_accuracy"] >= top - TIE]  # the same images right: a tie, not a win
        return min(tied, key=lambda r: (r["latency_b1_ms"], r["params"]))

    def set_budget(self, latency_ms: float | None = None, params: float | None = None) -> dict | None:
        """Move the sliders (headless use) and return the best architecture under the new budget."""
        with self.latency_slider.hold_trait_notifications(), self.params_slider.hold_trait_notifications():
            if latency_ms is not None:
                self.latency_slider.value = latency_ms
            if params is not None:
                self.params_slider.value = int(params)
        self._draw()
        return self.best

    def _draw(self):
        budget_ms, budget_params = self.latency_slider.value, self.params_slider.value
        fits = lambda r: r["latency_b1_ms"] <= budget_ms and r["params"] <= budget_params
        self.best = self.best_under(budget_ms, budget_params)
        shown = [r for r in self.records if self.dead_toggle.value or "zero" not in r["ops"]]
        inside = [r for r in shown if fits(r)]
        outside = [r for r in shown if r["latency_b1_ms"] > budget_ms]
        too_big = [r for r in shown if r["latency_b1_ms"] <= budget_ms and r["params"] > budget_params]
        accuracy = [r["val_accuracy"] for r in shown]
        margin = 0.03 * (max(accuracy) - min(accuracy))
        with self.figure.batch_update():
            self.figure.layout.yaxis.range = [min(accuracy) - margin, max(accuracy) + margin]  # the range shown
            for trace, records in zip(self.figure.data[:2] + self.figure.data[4:], (outside, inside, too_big)):
                trace.update(
                    x=[r["latency_b1_ms"] for r in records],
                    y=[r["val_accuracy"] for r in records],
                    text=[self._label(r) for r in records],
                )
            star = [self.best] if self.best else []
            self.figure.data[3].update(
                x=[r["latency_b1_ms"] for r in star],
                y=[r["val_accuracy"] for r in star],
                text=[self._label(r) for r in star],
            )
            self.figure.layout.shapes = [
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": budget_ms,
                    "x1": budget_ms,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": OKABE_ITO[5], "dash": "dot"},
                }
            ]
            self.figure.layout.annotations = [
                {
                    "x": budget_ms,
                    "y": 1,
                    "xref": "x",
                    "yref": "paper",
                    "xanchor": "left",
                    "yanchor": "top",
                    "showarrow": False,
                    "text": f" budget: {budget_ms:.3f} ms, {budget_params:,} parameters",
                    "font": {"color": OKABE_ITO[5]},
                }
            ]
        if self.best is None:
            self.pick.value = "No architecture fits both budgets: loosen one of them."
            return
        b = self.best
        self.pick.value = (
            f"Best under {budget_ms:.3f} ms and {budget_params:,} parameters ({len(inside)} of {len(shown)} "
            f"architectures shown fit): <b>{html.escape(arrow(b['ops']))}</b>, "
            f"{b['val_accuracy']:.2%} validation accuracy, "
            f"{b['latency_b1_ms']:.3f} ms, {int(b['params']):,} parameters, NanoBench rank "
            f"{self.bench.rank(b['dna'])} of {len(self.records)}"
        )

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
