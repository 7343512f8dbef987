"""What the lessons and projects share: where shipped results live, regret at a budget and its curves, paired
comparisons, and project 06a's grown space.

In a notebook:  `from course import lab`, then `lab.shipped("hardware.json")`, `lab.regret_at(history, 50, truth)`,
`lab.head_to_head(runs, [("progressive", "random")], by=["table"])`, `lab.regret_figure(runs, searches, title)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch.nn as nn

from nanonas.core import OPERATIONS, Task
from nanonas.fitness import Fitness
from nanonas.registry import STRATEGIES  # filled by nanonas's strategies: importing nanonas.* imports them

# -- where shipped results live


def results_dir(start: Path | str | None = None) -> Path:
    """The checkout's `benchmarks/results/` folder, found from `start` (default: the working directory) upwards."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "benchmarks" / "results").is_dir():
            return folder / "benchmarks" / "results"
    raise FileNotFoundError(
        f"no benchmarks/results/ folder in {here} or above it; the shipped results come with a checkout of nanoNAS: "
        "open the notebook from the repository's notebooks/ folder"
    )


def shipped(name: str, start: Path | str | None = None) -> Path:
    """The path of a shipped result, e.g. shipped('hardware.json'); a clear error when it is not there."""
    path = results_dir(start) / name
    if not path.exists():
        raise FileNotFoundError(
            f"no shipped result {name!r} in {path.parent}; the scripts in benchmarks/ write them (each script's "
            "docstring names its files)"
        )
    return path


# -- a search on a table, and its regret at a budget


def search_on_table(bench, strategy: str, seed: int, evaluations: int = 100, **options) -> list:
    """One seeded run of a registered strategy on a NanoBench, each evaluation a lookup of one training seed's
    accuracy (drawn with `seed`): its history, [(dna, score seen), ...] in evaluation order, `evaluations` long."""
    fitness = Fitness(bench.evaluator(seed))
    STRATEGIES[strategy].run(
        fitness, Task(data=None, positions=bench.positions, seed=seed), evaluations=evaluations, **options
    )
    if len(fitness) != evaluations:  # paired runs compare equal budgets
        raise RuntimeError(f"{strategy} stopped after {len(fitness)} of {evaluations} evaluations (seed {seed})")
    return list(fitness.items())


def regret_at(history: Sequence, budget: int, truth: Mapping) -> float:
    """Regret after `budget` evaluations: the space's best true accuracy minus the true accuracy of what the search
    returns then, the DNA with the best score it has seen (the first one on a tie).

    `history` is [(dna, score seen), ...] in evaluation order (`search_on_table`'s); `truth` maps tuple(dna) to
    its true accuracy (a NanoBench's mean over training seeds)."""
    if not 1 <= budget <= len(history):
        raise ValueError(f"budget must be 1 to {len(history)} (the evaluations in the history), not {budget}")
    pick = max(history[:budget], key=lambda pair: pair[1])[0]  # max keeps the first of equal scores
    return max(truth.values()) - truth[tuple(pick)]


# -- paired comparisons: seed s of search a against seed s of search b


def rank_biserial(a: Sequence[float], b: Sequence[float]) -> float:
    """Matched-pairs rank-biserial correlation of a against b, in [-1, 1]: 1 when a > b in every pair that differs.

    (sum of the ranks of |a - b| where a > b, minus those where a < b) / (their total); pairs that tie are dropped,
    as Wilcoxon's test drops them; 0.0 when no pair differs."""
    if len(a) != len(b):
        raise ValueError(f"paired samples have one value per pair: got {len(a)} and {len(b)}")
    from scipy.stats import rankdata

    diffs = [x - y for x, y in zip(a, b) if x != y]
    if not diffs:
        return 0.0
    ranks = rankdata([abs(d) for d in diffs])  # ties share their mean rank
    plus = sum(r for r, d in zip(ranks, diffs) if d > 0)
    return float((2 * plus - ranks.sum()) / ranks.sum())


def paired(a: Sequence[float], b: Sequence[float]) -> dict:
    """Search a against search b on their regrets (percentage points, lower is better), pair by pair: `a[i]` and
    `b[i]` are the same seed's runs. Means, medians, wins/ties/losses of a, Wilcoxon's signed-rank p (two-sided;
    1.0 when no pair differs) and the effect r = rank_biserial(b, a) (> 0: a has the lower regret)."""
    from scipy.stats import wilcoxon

    ra, rb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if ra.shape != rb.shape or ra.ndim != 1 or not len(ra):
        raise ValueError(f"paired regrets are two equally long lists, one value per seed: got {len(a)} and {len(b)}")
    differ = bool((ra != rb).any())
    return {
        "seeds": len(ra),
        "mean regret a (pp)": float(ra.mean()),
        "mean regret b (pp)": float(rb.mean()),
        "median regret a (pp)": float(np.median(ra)),
        "median regret b (pp)": float(np.median(rb)),
        "a better/tie/worse": f"{(ra < rb).sum()}/{(ra == rb).sum()}/{(ra > rb).sum()}",  # no spaces: no line break
        "Wilcoxon p": float(wilcoxon(ra, rb).pvalue) if differ else 1.0,
        "effect r": rank_biserial(rb, ra),
    }


def wins(row: Mapping) -> int:
    """The pairs a won in a row of `paired` or `head_to_head`."""
    return int(row["a better/tie/worse"].split("/")[0])


def losses(row: Mapping) -> int:
    """The pairs a lost in a row of `paired` or `head_to_head`."""
    return int(row["a better/tie/worse"].split("/")[2])


# how a head_to_head table reads: `table.style.format(lab.SHOWN)`; p to 3 significant digits (a tiny p reads 1.2e-06)
SHOWN = {"Wilcoxon p": "{:.3g}", "effect r": "{:.2f}"}
SHOWN |= {f"{stat} regret {x} (pp)": "{:.2f}" for stat in ("mean", "median") for x in "ab"}


def head_to_head(runs, pairs: Iterable[tuple[str, str]], by: Sequence[str] = (), search="search", regret="regret"):
    """A table of `paired` comparisons, one row per (a, b) in `pairs` and per group of the `by` columns.

    `runs` is a DataFrame with one row per run: columns `search`, "seed", `regret` (pp) and the `by` columns. Runs
    are paired on their seed; a seed only one of the two ran is left out. Index: (*by, "a vs b")."""
    import pandas as pd

    by, pairs = list(by), list(pairs)
    missing = {search, "seed", regret, *by} - set(runs.columns)
    if missing:
        raise ValueError(f"runs has no column {', '.join(sorted(missing))}; it needs {search}, seed, {regret}, {by}")
    rows = []
    for key, group in runs.groupby(by, sort=False) if by else [((), runs)]:
        for a, b in pairs:
            ra, rb = (group[group[search] == s].set_index("seed")[regret] for s in (a, b))
            if not (ra.index.is_unique and rb.index.is_unique):
                raise ValueError(f"two runs of one search with the same seed in group {key}: pass `by` to split them")
            seeds = ra.index.intersection(rb.index).sort_values()
            labels = dict(zip(by, key if isinstance(key, tuple) else (key,)))
            rows.append({**labels, "a vs b": f"{a} vs {b}", **paired(ra[seeds], rb[seeds])})
    return pd.DataFrame(rows).set_index([*by, "a vs b"])


def regret_figure(runs, searches: Sequence[str], title: str, log: bool = False):
    """Mean regret against trainings: one panel per table, one line per search (`searches`, in the palette's order).

    `runs` is the DataFrame `head_to_head` reads, with columns "table", "search", "seed", "trainings" and "regret"
    (pp); `log` draws regret on a log scale (the first regrets are tens of points, the last a fraction of one)."""
    from plotly.subplots import make_subplots

    from nanonas.palette import OKABE_ITO

    tables = list(dict.fromkeys(runs["table"]))
    fig = make_subplots(rows=1, cols=len(tables), subplot_titles=tables)
    for col, table in enumerate(tables, 1):
        curves = runs[runs["table"] == table].groupby(["search", "trainings"])["regret"].mean()
        for i, label in enumerate(searches):
            fig.add_scatter(
                x=curves[label].index,
                y=curves[label].to_numpy(),
                name=label,
                legendgroup=label,
                showlegend=col == 1,
                mode="lines",
                line={"color": OKABE_ITO[i]},
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="trainings")
    if log:
        fig.update_yaxes(type="log", tickvals=[0.3, 0.5, 1, 2, 5, 10, 20])
    scale = ", log scale" if log else ""
    fig.update_yaxes(title_text=f"mean regret over {runs['seed'].nunique()} seeds (pp{scale})", col=1)
    return fig.update_layout(title=title, height=420)


# -- project 06a's grown space: the notebook teaches it, benchmarks/projects06.py built its table with it


def sep_conv(C: int) -> nn.Module:
    """Depthwise-separable 3x3: one 3x3 filter per channel, then a 1x1 that mixes channels (MobileNet, DARTS)."""
    return nn.Sequential(
        nn.Conv2d(C, C, 3, padding=1, groups=C, bias=False),
        nn.Conv2d(C, C, 1, bias=False),
        nn.BatchNorm2d(C),
        nn.ReLU(),
    )


def dil_conv(C: int) -> nn.Module:
    """Dilated 3x3 (dilation 2): nine weights spread over a 5x5 window (DARTS's dil_conv_3x3, without the split)."""
    return nn.Sequential(nn.Conv2d(C, C, 3, padding=2, dilation=2, bias=False), nn.BatchNorm2d(C), nn.ReLU())


GROWN_OPS = {name: OPERATIONS[name] for name in ("conv3x3", "conv5x5", "maxpool", "skip", "zero")}  # core's 5 ops
GROWN_OPS.update(sep_conv3x3=sep_conv, dil_conv3x3=dil_conv)  # then the 2 new ones
GROWN_POSITIONS, GROWN_SEEDS = 2, (0,)  # 7 ops x 2 positions = 49 architectures, each trained once
