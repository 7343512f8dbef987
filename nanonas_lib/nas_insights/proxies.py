"""Zero-cost proxies and performance predictors, drawn against NanoBench's exact accuracies (for a lesson).

    from nas_insights.proxies import proxy_scatter, proxy_correlations, predictor_curves, facts
    facts()                          # the numbers a lesson quotes: dead share, each proxy's rank correlations
    proxy_scatter("synflow")         # a proxy at initialisation vs the accuracy after training, dead ones apart
    proxy_correlations()             # Spearman over all / live / live top 10% architectures, per proxy
    predictor_curves()               # Kendall tau of predictors vs architectures trained, proxies as flat lines

Everything is computed from the shipped tables (nanobench/<table>/runs.csv and proxies.csv): no training.
"""

import numpy as np
import plotly.graph_objects as go

from nanonas import predictors, proxies
from nanonas.bench import NanoBench
from nanonas.palette import OKABE_ITO

SUBSETS = ("all", "live", "live top 10%")


def _rows(table: str):
    bench, values = NanoBench.load(table), proxies.load(table)
    records = list(bench)
    truth = np.array([r["val_accuracy"] for r in records])
    live = np.array([values[tuple(r["dna"])]["live"] for r in records])
    return records, [values[tuple(r["dna"])] for r in records], truth, live


def facts(table: str = "digits") -> dict:
    """{'architectures', 'dead_share', proxy: {subset: spearman}}: what the plots show, as numbers."""
    _, rows, truth, live = _rows(table)
    top = live & (truth >= np.quantile(truth[live], 0.9))
    out = {"architectures": len(rows), "dead_share": float(1 - live.mean())}
    for p in proxies.PROXIES:
        v = np.array([r[p] for r in rows])
        masks = dict(zip(SUBSETS, (np.ones_like(live), live, top)))
        out[p] = {s: proxies.rank_correlations(v[m], truth[m])["spearman"] for s, m in masks.items()}
    return out


def proxy_scatter(proxy: str = "synflow", table: str = "digits") -> go.Figure:
    """Each architecture: its proxy at initialisation (x, symmetric log) against its accuracy after training (y)."""
    records, rows, truth, live = _rows(table)
    v = np.array([r[proxy] for r in rows])
    x = np.where(np.isfinite(v), np.sign(v) * np.log10(1 + np.abs(v)), np.nan)
    fig = go.Figure()
    for mask, name, color in ((live, "live", OKABE_ITO[0]), (~live, "dead (a zero cuts the chain)", OKABE_ITO[1])):
        fig.add_scatter(
            x=x[mask],
            y=truth[mask],
            mode="markers",
            name=name,
            marker={"color": color, "size": 6, "opacity": 0.7},
            text=["-".join(r["ops"]) for r, m in zip(records, mask) if m],
            hovertemplate="%{text}<br>%{y:.2%}",
        )
    rho = proxies.rank_correlations(v, truth)["spearman"]
    fig.update_layout(
        title=f"{proxy} at initialisation vs accuracy after training ({table}; Spearman {rho:.2f})",
        xaxis_title=f"{proxy} (sign · log10(1 + |value|))",
        yaxis_title="mean validation accuracy",
        template="plotly_white",
    )
    return fig


def proxy_correlations(table: str = "digits") -> go.Figure:
    """Spearman's rho of every proxy with the true accuracy, over all, live, and live top-10% architectures."""
    f = facts(table)
    fig = go.Figure()
    for subset, color in zip(SUBSETS, OKABE_ITO):
        fig.add_bar(x=list(proxies.PROXIES), y=[f[p][subset] for p in proxies.PROXIES], name=subset, marker_color=color)
    fig.update_layout(
        title=f"Proxies weed out bad networks; can they pick the best? ({table}, {f['dead_share']:.0%} dead)",
        yaxis_title="Spearman ρ with accuracy",
        barmode="group",
        template="plotly_white",
    )
    return fig


def predictor_curves(table: str = "digits", sizes=(10, 25, 50, 100, 200), draws: int = 5, seed: int = 0) -> go.Figure:
    """Kendall tau on unseen architectures of ridge and gradient boosting (one-hot, and + proxies) against the
    number of architectures trained on; #params and synflow need no training: flat lines. ~20 s on a laptop CPU."""
    records, rows, truth, _ = _rows(table)
    dnas, n_ops = [r["dna"] for r in records], len(NanoBench.load(table).meta["recipe"]["ops"])
    fig, rng = go.Figure(), np.random.default_rng(seed)
    splits = [[rng.permutation(len(dnas)) for _ in range(draws)] for _ in sizes]
    for i, (model, names) in enumerate([(m, n) for m in ("ridge", "gbm") for n in ((), tuple(proxies.PROXIES))]):
        X = predictors.features(dnas, n_ops, rows, names)
        taus = []
        for n, perms in zip(sizes, splits):
            fits = [predictors.make(model).fit(X[p[:n]], truth[p[:n]]).predict(X[p[n:]]) for p in perms]
            taus.append(np.mean([predictors.kendall_tau(f, truth[p[n:]]) for f, p in zip(fits, perms)]))
        label = f"{model} ({'one-hot + proxies' if names else 'one-hot'})"
        fig.add_scatter(x=list(sizes), y=taus, name=label, mode="lines+markers", line_color=OKABE_ITO[i % 8])
    for p, dash in (("params", "dot"), ("synflow", "dash")):
        tau = proxies.rank_correlations([r[p] for r in rows], truth)["kendall"]
        fig.add_scatter(x=[sizes[0], sizes[-1]], y=[tau, tau], name=f"{p} (no training)", line={"dash": dash})
    fig.update_layout(
        title=f"How many trained architectures does a predictor need? ({table})",
        template="plotly_white",
        xaxis={"title": "architectures trained (N)", "type": "log"},
        yaxis_title="Kendall τ on the unseen ones",
    )
    return fig
