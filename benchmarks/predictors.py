"""How many trained architectures does a performance predictor need to rank the rest better than a free proxy?

For every complete NanoBench with a proxy table: draw N = 10, 25, 50, 100, 200 architectures (DRAWS draws each),
label them as a search would see them (one training seed's validation accuracy, the seed drawn too), fit each
predictor, and measure Kendall's tau between its predictions and the true mean validation accuracy on every
architecture NOT drawn (all of them, and the live ones). Features: the DNA one-hot, or one-hot + all proxies.
Flat baselines, needing no training at all: #params and the best single proxy, on the whole space.

    python benchmarks/predictors.py              # writes benchmarks/results/predictors.{md,json}
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from nanonas import predictors, proxies
from nanonas.bench import NanoBench, tables
from nanonas.parallel import one_thread

RESULTS = Path(__file__).parent / "results"
SIZES = (10, 25, 50, 100, 200)
FEATURES = {"one-hot": (), "one-hot + proxies": tuple(proxies.PROXIES)}


def table_report(name: str, draws: int) -> dict:
    bench, table = NanoBench.load(name), proxies.load(name)
    records = list(bench)
    dnas = [r["dna"] for r in records]
    truth = np.array([r["val_accuracy"] for r in records])
    live = np.array([table[tuple(d)]["live"] for d in dnas])
    rows = [table[tuple(d)] for d in dnas]
    n_ops = len(bench.meta["recipe"]["ops"])
    X = {label: predictors.features(dnas, n_ops, rows, names) for label, names in FEATURES.items()}
    result = {"flat": {}, "tau": {}}
    for p in proxies.PROXIES:
        v = [r[p] for r in rows]
        result["flat"][p] = {
            "all": proxies.rank_correlations(v, truth)["kendall"],
            "live": proxies.rank_correlations(np.array(v)[live], truth[live])["kendall"],
        }
    for label in FEATURES:
        for model in predictors.PREDICTORS:
            key = f"{model} ({label})"
            result["tau"][key] = {}
            t = time.perf_counter()
            for n in SIZES:
                taus, live_taus = [], []
                for draw in range(draws):
                    rng = np.random.default_rng(1000 * n + draw)
                    idx = rng.permutation(len(dnas))
                    train, test = idx[:n], idx[n:]
                    y = np.array([rng.choice(records[i]["val_accuracies"]) for i in train])  # one seed, as seen
                    pred = predictors.make(model, draw).fit(X[label][train], y).predict(X[label][test])
                    taus.append(predictors.kendall_tau(pred, truth[test]))
                    keep = live[test]
                    live_taus.append(predictors.kendall_tau(pred[keep], truth[test][keep]))
                result["tau"][key][n] = {
                    "all": statistics.fmean(taus),
                    "all_std": statistics.pstdev(taus),
                    "live": statistics.fmean(live_taus),
                }
            print(f"{name}, {key}: {time.perf_counter() - t:.0f} s", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--tables", nargs="+", default=None, help="default: every complete table with proxies")
    args = parser.parse_args()
    started = time.perf_counter()
    names = args.tables or [
        t
        for t in tables()
        if NanoBench.load(t).meta.get("complete") and (NanoBench.load(t).folder / "proxies.csv").exists()
    ]
    results = {t: table_report(t, args.draws) for t in names}
    write(results, args.draws, time.perf_counter() - started)


def write(results: dict, draws: int, seconds: float) -> None:
    """The results file (markdown for people, JSON for plots)."""
    lines = [
        f"Performance predictors on NanoBench: Kendall tau on the unseen architectures against the true mean "
        f"validation accuracy, after training on N architectures labelled with one seed's accuracy (mean over "
        f"{draws} draws; in brackets: over the unseen live architectures only).",
        "",
    ]
    for t, r in results.items():
        best = max((p for p in r["flat"] if p not in ("params", "macs")), key=lambda p: r["flat"][p]["all"])
        lines += [f"### {t}", "", "| predictor (features) | " + " | ".join(f"N = {n}" for n in SIZES) + " |"]
        lines.append("|---|" + "---|" * len(SIZES))
        for key, by_n in r["tau"].items():
            cells = [f"{by_n[n]['all']:.2f} ({by_n[n]['live']:.2f})" for n in SIZES]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
        for p in ("params", best):
            flat = f"{r['flat'][p]['all']:.2f} ({r['flat'][p]['live']:.2f})"
            label = "#params (no training)" if p == "params" else f"best single proxy: {p} (no training)"
            lines.append(f"| {label} | " + " | ".join([flat] * len(SIZES)) + " |")
        lines.append("")
    lines.append(
        f"Generated by `python benchmarks/predictors.py --draws {draws} --tables {' '.join(results)}` in "
        f"{seconds:.0f} s."
    )
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "predictors.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "predictors.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    with one_thread():  # one core per evaluation, as NanoBench was built
        main()
