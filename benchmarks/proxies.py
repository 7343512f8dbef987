"""How well does each zero-cost proxy rank the architectures of a NanoBench, and what does it cost?

Rank correlations (Spearman's rho, Kendall's tau) of every proxy in nanonas/nanobench/<table>/proxies.csv with
the true mean validation accuracy, over all architectures, over the live ones (output depends on input), and
within the live top 10%. Cost: each proxy timed on a sample of architectures, side by side with real trainings of
the same architectures (NanoBench's recipe, one thread), so the fraction of a training holds on a busy machine too.

    python -m nanonas.proxies build digits        # the tables first (shipped)
    python benchmarks/proxies.py                  # writes benchmarks/results/proxies.{md,json}
"""

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import numpy as np

from nanonas import proxies
from nanonas.bench import NanoBench, tables
from nanonas.core import Task, train
from nanonas.data import load_dataset
from nanonas.parallel import one_thread

RESULTS = Path(__file__).parent / "results"
PUBLISHED = {  # NAS-Bench-201 CIFAR-10, Spearman with final accuracy (Abdelfattah et al., 2021; issue 14)
    "jacob_cov": 0.82,
    "naswot": 0.79,
    "params": 0.75,
    "synflow": 0.73,
    "macs": 0.71,
    "snip": 0.55,
    "grad_norm": None,
}


def correlations(name: str) -> dict:
    """{proxy: {'all': {...}, 'live': {...}, 'live_top10': {...}}} for one table."""
    bench, table = NanoBench.load(name), proxies.load(name)
    rows = [(r["val_accuracy"], table[tuple(r["dna"])]) for r in bench]
    acc = np.array([a for a, _ in rows])
    live = np.array([p["live"] for _, p in rows])
    top = live & (acc >= np.quantile(acc[live], 0.9))
    out = {"architectures": len(rows), "live": int(live.sum()), "live_top10": int(top.sum())}
    for proxy in proxies.PROXIES:
        v = np.array([p[proxy] for _, p in rows])
        out[proxy] = {
            subset: proxies.rank_correlations(v[mask], acc[mask])
            for subset, mask in (("all", np.ones_like(live)), ("live", live), ("live_top10", top))
        }
    return out


def costs(samples: int, seed: int = 0) -> dict:
    """{proxy: {'ms': median per architecture, 'fraction_of_training': ...}} on `samples` digits architectures."""
    data, rng = load_dataset("digits"), random.Random(seed)
    dnas = [[rng.randrange(5) for _ in range(4)] for _ in range(samples)]
    proxy_ms = {p: [] for p in proxies.PROXIES}
    train_ms = []
    for dna in dnas:  # interleaved: the proxies and the training of one architecture see the same machine load
        for p in proxies.PROXIES:
            proxy_ms[p].append(proxies.score(dna, data, (p,))[p + "_ms"])  # once, as a search computes it
        t = time.perf_counter()
        train(dna, Task(data))
        train_ms.append(1000 * (time.perf_counter() - t))
    training = statistics.fmean(train_ms)
    bench, table = NanoBench.load("digits"), proxies.load("digits")
    quiet = 1000 * statistics.fmean(r["train_seconds"] for r in bench)  # NanoBench's trainings, a quieter machine
    out = {}
    for p, v in proxy_ms.items():
        recorded = statistics.fmean(r[p + "_ms"] for r in table.values())  # proxies.csv's own timings
        out[p] = {
            "ms": statistics.fmean(v),
            "side_by_side": statistics.fmean(v) / training,
            "table_over_nanobench": recorded / quiet,
        }
        out[p]["fraction_of_training"] = max(out[p]["side_by_side"], out[p]["table_over_nanobench"])  # conservative
    return {"training_ms": training, "samples": samples, **out}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20, help="architectures timed for the costs")
    parser.add_argument("--keep-costs", action="store_true", help="reuse the costs in results/proxies.json")
    args = parser.parse_args()
    started = time.perf_counter()
    names = [t for t in tables() if (NanoBench.load(t).folder / proxies.PROXY_FILE).exists()]
    names = [t for t in names if NanoBench.load(t).meta.get("complete")]
    result = {"correlations": {t: correlations(t) for t in names}, "cost": {}}
    kept = json.loads((RESULTS / "proxies.json").read_text()) if args.keep_costs else None
    cost = (
        {"training_ms": kept["training_ms"], "samples": kept["samples"], **kept["cost"]}
        if kept
        else costs(args.samples)
    )
    result["samples"] = args.samples = cost.pop("samples")
    result["training_ms"], result["cost"] = cost.pop("training_ms"), {p: cost[p] for p in proxies.PROXIES}
    lines = [
        "Zero-cost proxies on NanoBench: rank correlation with the true mean validation accuracy, computed at "
        f"initialisation on one seeded mini-batch of {proxies.BATCH_SIZE} training images (nanonas/proxies.py).",
        "",
    ]
    for t, c in result["correlations"].items():
        lines += [
            f"### {t}: {c['architectures']} architectures, {c['live']} live, {c['live_top10']} in the live top 10%",
            "",
            "| proxy | Spearman all | Kendall all | Spearman live | Kendall live | Spearman live top 10% "
            "| Kendall live top 10% | published Spearman (NB201 CIFAR-10) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for p in proxies.PROXIES:
            cells = [f"{c[p][s][k]:.2f}" for s in ("all", "live", "live_top10") for k in ("spearman", "kendall")]
            lines.append(f"| {p} | " + " | ".join(cells) + f" | {PUBLISHED[p] if PUBLISHED[p] else '–'} |")
        lines.append("")
    lines += [
        f"### Cost: {args.samples} random digits architectures, each proxy computed once and each trained once, "
        f"interleaved (NanoBench's recipe, one torch thread); one training took {result['training_ms']:.0f} ms",
        "",
        "Two estimates of the fraction of a training: side by side here, and proxies.csv's recorded milliseconds "
        "(measured while building it, on a busy machine) over NanoBench's mean training time (a quieter one). "
        "Searches are charged the larger.",
        "",
        "| proxy | ms per architecture | fraction, side by side | fraction, table / NanoBench | charged "
        "| architectures per training (charged) |",
        "|---|---|---|---|---|---|",
    ]
    for p, c in result["cost"].items():
        cells = [f"{c['ms']:.1f}", f"{c['side_by_side']:.4f}", f"{c['table_over_nanobench']:.4f}"]
        cells += [f"{c['fraction_of_training']:.4f}", f"{1 / c['fraction_of_training']:.0f}"]
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Generated by `python benchmarks/proxies.py --samples {args.samples}{' --keep-costs' * args.keep_costs}` in "
        f"{time.perf_counter() - started:.0f} s (machine shared with other jobs: costs are noisy).",
    ]
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "proxies.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "proxies.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    with one_thread():  # one core per evaluation, as NanoBench was built
        main()
