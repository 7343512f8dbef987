"""Zero-cost proxies: guess how well an architecture will train from one mini-batch at initialisation, untrained.

Each proxy is a function `(model, x, y) -> float` (more is better) computed on a freshly initialised network and
one seeded mini-batch; `score(dna, data)` builds the network and runs them. The survey that compared them all:
Abdelfattah et al., 2021, "Zero-Cost Proxies for Lightweight NAS" (ICLR); NAS-Bench-Suite-Zero (Krishnakumar et
al., 2022) measured them on 28 tasks. A table of every proxy for every architecture of a NanoBench ships next to it
(nanobench/<table>/proxies.csv), built by

    python -m nanonas.proxies build digits          # ~1 min on one CPU core
"""

import csv
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .core import OPERATIONS, build_model, check_dna, dna_from_key, dna_key
from .measure import count_macs, count_params

BATCH_SIZE = 64  # one mini-batch: enough inputs for a 64 x 64 kernel, small enough for ~1 ms per proxy
PROXY_FILE = "proxies.csv"


# 1. The proxies: each a few lines, more is better.
def params(model, x, y) -> float:
    """Number of trainable parameters: the flat baseline every proxy must beat."""
    return float(count_params(model))


def macs(model, x, y) -> float:
    """Multiply-accumulates of one forward pass (FLOPs / 2)."""
    return float(count_macs(model, x.shape[1:]))


def grad_norm(model, x, y) -> float:
    """Sum over parameter tensors of the L2 norm of the loss gradient (Abdelfattah et al., 2021)."""
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return sum(p.grad.norm().item() for p in model.parameters() if p.grad is not None)


def snip(model, x, y) -> float:
    """Sum of |weight x gradient|: the loss's sensitivity to removing each weight (SNIP, Lee et al., 2019)."""
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return sum((p * p.grad).abs().sum().item() for p in model.parameters() if p.grad is not None)


def synflow(model, x, y) -> float:
    """Synaptic flow (Tanaka et al., 2020): all weights made positive, an input of ones, sum of weight x gradient of
    the summed output. Data-free. BatchNorm in eval mode, which at initialisation is the identity."""
    model = model.double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    model.zero_grad()
    model(torch.ones(1, *x.shape[1:], dtype=torch.double)).sum().backward()
    return sum((p * p.grad).sum().item() for p in model.parameters() if p.grad is not None)


def input_jacobian(model, x) -> torch.Tensor:
    """(B, D): the gradient of each input's summed outputs with respect to that input, flattened."""
    x = x.clone().requires_grad_(True)
    model(x).sum().backward()
    return x.grad.flatten(1)


def jacob_cov(model, x, y) -> float:
    """Jacobian covariance (Mellor et al., 2021, first version): inputs whose Jacobians are uncorrelated score high.
    A network whose output ignores its input (a 'zero' cuts the chain) has no Jacobian: it scores -inf."""
    J = input_jacobian(model, x).double()
    if not J.abs().sum(dim=1).all() or J.std(dim=1).eq(0).any():
        return -math.inf
    eigenvalues = torch.linalg.eigvalsh(torch.corrcoef(J))  # the correlation matrix is symmetric
    k = 1e-5
    return -(torch.log(eigenvalues + k) + 1 / (eigenvalues + k)).sum().item()


def naswot(model, x, y) -> float:
    """NASWOT (Mellor et al., 2021, "Neural Architecture Search without Training"): log |det K| where
    K[i, j] counts the ReLUs on which inputs i and j agree (both active or both inactive)."""
    codes = []
    hooks = [m.register_forward_hook(lambda m, i, o: codes.append((o > 0).flatten(1).double())) for m in relus(model)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    c = torch.cat(codes, dim=1)  # (B, number of ReLU units): 1 where the unit is active
    K = c @ c.T + (1 - c) @ (1 - c).T  # = units - Hamming distance between the codes
    return torch.linalg.slogdet(K).logabsdet.item()


def relus(model) -> list:
    return [m for m in model.modules() if isinstance(m, nn.ReLU)]


PROXIES = {  # name -> proxy(model, x, y); add your own and the table, the benchmarks and the searches follow
    "params": params,
    "macs": macs,
    "grad_norm": grad_norm,
    "snip": snip,
    "synflow": synflow,
    "jacob_cov": jacob_cov,
    "naswot": naswot,
}


# 2. Scoring a DNA: a fresh network per proxy (synflow changes the weights), one seeded mini-batch.
def minibatch(data, seed: int = 0, batch_size: int = BATCH_SIZE) -> tuple:
    """The same `batch_size` training examples for every architecture: the first of a seeded shuffle."""
    X, y = data.train
    idx = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))[:batch_size]
    return X[idx], y[idx]


def is_live(dna, data, channels: int = 16, seed: int = 0) -> bool:
    """Does the network's output depend on its input? (59% of the 4-position space does not: a 'zero' cuts it.)"""
    x, _ = minibatch(data, seed)
    torch.manual_seed(seed)
    return bool(input_jacobian(build_model(dna, channels, data.in_channels, data.num_classes), x).abs().sum() > 0)


def score(dna, data, names=tuple(PROXIES), channels: int = 16, seed: int = 0, build=build_model) -> dict:
    """{proxy: value, proxy + '_ms': milliseconds it took, network construction included} for one DNA.

    `build` makes the network of a DNA: a chain (`core.build_model`), or a cell (`cells.build_cell`)."""
    dna, x_y, result = check_dna(dna), minibatch(data, seed), {}
    unknown = [n for n in names if n not in PROXIES]
    if unknown:
        raise ValueError(f"unknown proxy {unknown[0]!r}; choose from: {', '.join(PROXIES)}")
    for name in names:
        t = time.perf_counter()
        torch.manual_seed(seed)  # the seed sets the initial weights: the same network for every proxy
        model = build(dna, channels, data.in_channels, data.num_classes).train()
        result[name] = PROXIES[name](model, *x_y)
        result[name + "_ms"] = 1000 * (time.perf_counter() - t)
    return result


# 3. The table: every proxy for every architecture of a NanoBench, as text next to it.
def build(table: str = "digits", out: Path | None = None, progress: bool = True) -> Path:
    """Score every architecture of a NanoBench's space with every proxy; write proxies.csv into its folder."""
    from .bench import NanoBench, using_ops
    from .data import load_dataset
    from .parallel import one_thread

    bench = NanoBench.load(table)
    recipe = bench.meta["recipe"]
    data = load_dataset(recipe["dataset"])
    path = Path(out or bench.folder / PROXY_FILE)
    ops = recipe["ops"]
    rows = []
    with one_thread(), using_ops({n: OPERATIONS[n] for n in ops}):  # costs per core, like NanoBench's seconds
        dnas = list(itertools.product(range(len(ops)), repeat=recipe["positions"]))
        for i, dna in enumerate(dnas):
            s = score(list(dna), data, channels=recipe["channels"])
            live = is_live(list(dna), data, recipe["channels"])
            rows.append({"dna": dna_key(dna), "live": int(live), **s})
            if progress and (i + 1) % 125 == 0:
                print(f"{table}: {i + 1}/{len(dnas)} architectures scored", file=sys.stderr, flush=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in r.items()} for r in rows)
    return path


def load(table: str = "digits") -> dict:
    """{dna tuple: {'live': bool, proxy: value, proxy + '_ms': ms}} from a table's proxies.csv."""
    from .bench import folder

    path = folder(table) / PROXY_FILE
    if not path.exists():
        raise ValueError(f"no proxy table for {table!r}; build it with `python -m nanonas.proxies build {table}`")
    with open(path) as f:
        return {
            tuple(dna_from_key(r.pop("dna"))): {k: (v == "1") if k == "live" else float(v) for k, v in r.items()}
            for r in csv.DictReader(f)
        }


# 4. What a search uses: a memoised proxy that counts the seconds it cost.
class Proxy:
    """A proxy as a searcher sees it: `proxy(dna)` -> value, memoised; `proxy.seconds` adds up what it cost.

    With `table` (a NanoBench name whose recipe matches the search) the values and their measured milliseconds come
    from its proxies.csv, so a benchmark on the table pays the cost a real search would, without recomputing."""

    def __init__(self, name: str, data=None, channels: int = 16, table: str | None = None, seed: int = 0):
        if name not in PROXIES:
            raise ValueError(f"unknown proxy {name!r}; choose from: {', '.join(PROXIES)}")
        if data is None and table is None:
            raise ValueError("a proxy needs the task's data (or a NanoBench table with its proxies.csv)")
        self.name, self.data, self.channels, self.seed = name, data, channels, seed
        self.values, self.seconds = {}, 0.0
        self.table = load(table) if isinstance(table, str) else table  # a name, or {dna: {name: value, ...}}

    def __call__(self, dna) -> float:
        key = tuple(dna)
        if key not in self.values:
            if self.table is not None:
                row = self.table[key]
                self.values[key], self.seconds = row[self.name], self.seconds + row[self.name + "_ms"] / 1000
            else:
                s = score(list(dna), self.data, (self.name,), self.channels, self.seed)
                self.values[key], self.seconds = s[self.name], self.seconds + s[self.name + "_ms"] / 1000
        return self.values[key]


def for_task(name: str, task) -> Proxy:
    """The proxy `name` for a search's task: from a shipped table's proxies.csv when one was built with this very
    recipe (same dataset, ops, positions, channels; same values as computing them, same cost charged), else live."""
    from .bench import folder, tables

    if hasattr(getattr(task, "bench", None), "proxy"):  # a table with its own proxy values (NB201's)
        return task.bench.proxy(name)
    for table in tables():
        if not (folder(table) / PROXY_FILE).exists():
            continue
        r = json.loads((folder(table) / "meta.json").read_text())["recipe"]
        same = (r["dataset"], r["ops"], r["positions"], r["channels"])
        if task.data is not None and same == (task.data.name, list(OPERATIONS), task.positions, task.channels):
            return Proxy(name, task.data, task.channels, table=table, seed=0)
    return Proxy(name, task.data, task.channels, seed=0)


def rank_correlations(proxy_values, accuracies) -> dict:
    """Spearman's rho and Kendall's tau between a proxy and the true accuracy (-inf ranks last; ties shared)."""
    from scipy.stats import kendalltau, spearmanr

    p = np.nan_to_num(np.asarray(proxy_values, dtype=float), nan=-np.inf, neginf=-1e300, posinf=1e300)
    a = np.asarray(accuracies, dtype=float)
    if len(p) < 3 or np.ptp(p) == 0:
        return {"spearman": float("nan"), "kendall": float("nan")}
    return {"spearman": float(spearmanr(p, a).statistic), "kendall": float(kendalltau(p, a).statistic)}


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m nanonas.proxies", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="score every architecture of a NanoBench table; write its proxies.csv")
    b.add_argument("tables", nargs="+", help="table names, e.g. digits digits_variations")
    args = parser.parse_args(argv)
    for table in args.tables:
        print(build(table))


if __name__ == "__main__":
    main()
