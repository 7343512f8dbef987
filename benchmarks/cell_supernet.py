"""DARTS and one-shot weight sharing on the cell space, scored against the stand-alone table of sampled cells.

The ground truth is the table `digits_variations_cells` (nanonas/nanobench/): a stratified sample of live cells
(`cells.stratified_sample(45)`: 45 per number of convolution edges, 0 to 6), each trained stand-alone with nano_nas's
recipe on 2 seeds, plus every cell the searches below derived (trained the same way, after them). Parts, each
resumable (a finished run is kept in its results file and skipped):

  darts     DARTS on the cell, first order, for each seed: plain (argmax of the alphas, as DARTS derives cells) and
            DARTS- (an auxiliary skip on every edge, decaying 1 -> 0); for the plain run, DARTS-PT's
            perturbation-based selection at checkpoints. Every epoch's alphas and derived cell are kept.
            -> results/cell_darts.json
  oneshot   a supernet trained on uniformly sampled paths, per seed; then every sampled cell scored with the shared
            weights, with BatchNorm's statistics as trained and re-estimated for the cell. -> results/cell_oneshot.json
  proxies   the zero-cost proxies of every sampled cell. -> results/cell_proxies.json
  derived   train every derived cell stand-alone into the table (2 seeds, 2 workers), so its true standing is known.
  report    the figures: results/cell_supernet.md

    nice .venv/bin/python benchmarks/cell_supernet.py darts --seeds 0 1 2 3 4        # ~25 min on one core
    nice .venv/bin/python benchmarks/cell_supernet.py oneshot --seeds 0 1 2          # ~5 min on one core
    nice .venv/bin/python benchmarks/cell_supernet.py proxies                        # ~1 min
    nice .venv/bin/python benchmarks/cell_supernet.py derived                        # ~3 min on 2 cores
    .venv/bin/python benchmarks/cell_supernet.py report
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau, spearmanr

from nanonas import bench, cells, proxies
from nanonas.bench import NanoBench
from nanonas.core import OPERATIONS, Task
from nanonas.data import load_dataset
from nanonas.parallel import one_thread

RESULTS = Path(__file__).resolve().parent / "results"
TABLE = "digits_variations_cells"
DATASET = "digits_variations"
PER_STRATUM = 45  # the table's stratified sample: cells.stratified_sample(PER_STRATUM)
EPOCHS = 40  # DARTS epochs: lesson 04 saw the chain's collapse between epochs 10 and 40
ARCH_LR = 0.03  # the alphas' learning rate: lesson 04's middle setting (3e-3 barely moved them in 40 epochs)
CHECKPOINTS = (10, 20, 30, 40)  # epochs after which DARTS-PT selects (it costs 24 supernet passes over validation)
ONE_SHOT_EPOCHS = 100  # each batch trains one path: 100 epochs give each op on each edge ~180 steps
PARAMETER_FREE = ("skip", "maxpool", "zero")


def task(seed: int) -> Task:
    return Task(load_dataset(DATASET), positions=len(cells.EDGES), seed=seed, build_model=cells.build_cell)


def load(name: str) -> dict:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else {}


def save(name: str, results: dict) -> None:
    (RESULTS / name).write_text(json.dumps(results, indent=1) + "\n")


def run_darts(seeds) -> None:
    results = load("cell_darts.json")
    results["meta"] = {"epochs": EPOCHS, "arch_lr": ARCH_LR, "checkpoints": list(CHECKPOINTS), "dataset": DATASET}
    for seed in seeds:
        for variant in ("darts", "darts-"):
            key = f"{variant}/{seed}"
            if key in results:
                continue
            start, t, selected = time.perf_counter(), task(seed), {}
            net = cells.supernet(t)

            def on_epoch(epoch, *_, t=t, net=net, selected=selected, variant=variant):
                if variant == "darts" and epoch + 1 in CHECKPOINTS:
                    selected[epoch + 1] = cells.perturbation_select(net, t.data)

            darts_minus = variant == "darts-"
            history = cells.darts(t, epochs=EPOCHS, arch_lr=ARCH_LR, aux_skip=darts_minus, on_epoch=on_epoch, net=net)
            results[key] = {
                "seconds": round(time.perf_counter() - start, 1),
                "alphas": [a.tolist() for a in history["alphas"]],
                "derived": history["derived"],
                "train_loss": history["train_loss"],
                "valid_loss": history["valid_loss"],
                "perturbation": {str(e): dna for e, dna in selected.items()},
            }
            save("cell_darts.json", results)
            print(key, results[key]["seconds"], "s; derived", history["derived"][-1], "PT", selected)


def run_oneshot(seeds) -> None:
    results = load("cell_oneshot.json")
    results["meta"] = {"epochs": ONE_SHOT_EPOCHS, "dataset": DATASET, "per_stratum": PER_STRATUM}
    sample = cells.stratified_sample(PER_STRATUM)
    for seed in seeds:
        if str(seed) in results:
            continue
        t = task(seed)
        start = time.perf_counter()
        net = cells.train_one_shot(t, epochs=ONE_SHOT_EPOCHS)
        trained = time.perf_counter() - start
        plain = [cells.supernet_accuracy(net, dna, t.data) for dna in sample]
        recalibrated = [cells.supernet_accuracy(net, dna, t.data, recalibrate=True) for dna in sample]
        results[str(seed)] = {
            "train_seconds": round(trained, 1),
            "score_seconds": round(time.perf_counter() - start - trained, 1),
            "dnas": sample,
            "plain": plain,
            "recalibrated": recalibrated,
        }
        save("cell_oneshot.json", results)
        print("one-shot seed", seed, results[str(seed)]["train_seconds"], "s")


def run_proxies() -> None:
    data, sample = load_dataset(DATASET), cells.stratified_sample(PER_STRATUM)
    names = list(proxies.PROXIES)
    rows = [{"dna": dna, **proxies.score(dna, data, names, build=cells.build_cell)} for dna in sample]
    save("cell_proxies.json", {"meta": {"dataset": DATASET, "proxies": names}, "rows": rows})


def derived_cells() -> list[list[int]]:
    """Every cell a DARTS run derived (each epoch's argmax) or selected by perturbation, once each."""
    runs = {k: v for k, v in load("cell_darts.json").items() if k != "meta"}
    found = [d for r in runs.values() for d in [*r["derived"], *r["perturbation"].values()]]
    return [list(d) for d in dict.fromkeys(map(tuple, found))]


def run_derived(workers: int) -> None:
    folder = bench.TABLES / TABLE
    recipe = NanoBench.load(TABLE).meta["recipe"]
    bench.build(
        folder, dataset=DATASET, space="cell", seeds=recipe["seeds"], architectures=derived_cells(), workers=workers
    )


def figures() -> dict:
    """Everything the report and project 08c quote, computed from the table and the results files."""
    table = NanoBench.load(TABLE)
    sample = cells.stratified_sample(PER_STRATUM)
    truth = [table.query(d)["val_accuracy"] for d in sample]
    out = {"sample": len(sample), "seeds": table.meta["recipe"]["seeds"]}
    seed_a = [table.query(d)["val_accuracies"][0] for d in sample]
    seed_b = [table.query(d)["val_accuracies"][1] for d in sample]
    out["tau_between_seeds"] = float(kendalltau(seed_a, seed_b).statistic)
    ranked = sorted(truth, reverse=True)
    out["best"], out["median"] = ranked[0], statistics.median(truth)

    def standing(dna) -> dict:
        acc = table.query(dna)["val_accuracy"]
        return {"dna": dna, "val_accuracy": acc, "beats": sum(a < acc for a in truth) / len(truth)}

    darts = load("cell_darts.json")
    if darts:
        names, meta = list(OPERATIONS), darts["meta"]
        free = [names.index(n) for n in PARAMETER_FREE if n in names]
        share = lambda dna: sum(i in free for i in dna) / len(dna)
        runs = {k: v for k, v in darts.items() if k != "meta"}
        out["darts"] = {}
        for variant in ("darts", "darts-"):
            mine = [v for k, v in runs.items() if k.split("/")[0] == variant]
            if not mine:
                continue
            out["darts"][variant] = {
                "seeds": len(mine),
                "free_share_per_epoch": [
                    statistics.fmean(share(r["derived"][e]) for r in mine) for e in range(meta["epochs"])
                ],
                "free_weight_per_epoch": [
                    statistics.fmean(float(np.asarray(r["alphas"][e])[:, free].sum(1).mean()) for r in mine)
                    for e in range(meta["epochs"])
                ],
                "final": [standing(r["derived"][-1]) for r in mine if r["derived"][-1] in table],
                "seconds": statistics.fmean(r["seconds"] for r in mine),
            }
            if variant == "darts":
                for e in meta["checkpoints"]:
                    out["darts"][f"darts-pt@{e}"] = {
                        "final": [
                            standing(r["perturbation"][str(e)]) for r in mine if r["perturbation"][str(e)] in table
                        ],
                        "free_share": statistics.fmean(share(r["perturbation"][str(e)]) for r in mine),
                    }
                    out["darts"][f"darts@{e}"] = {
                        "final": [standing(r["derived"][e - 1]) for r in mine if r["derived"][e - 1] in table],
                        "free_share": statistics.fmean(share(r["derived"][e - 1]) for r in mine),
                    }
    oneshot = {k: v for k, v in load("cell_oneshot.json").items() if k != "meta"}
    if oneshot:
        out["oneshot"] = {}
        for seed, r in oneshot.items():
            assert r["dnas"] == sample, "the one-shot results were computed on another sample"
            out["oneshot"][seed] = {
                mode: {
                    "kendall": float(kendalltau(r[mode], truth).statistic),
                    "spearman": float(spearmanr(r[mode], truth).statistic),
                }
                for mode in ("plain", "recalibrated")
            }
    rows = load("cell_proxies.json").get("rows", [])
    if rows:
        assert [r["dna"] for r in rows] == sample
        out["proxies"] = {
            name: {
                "kendall": float(kendalltau([r[name] for r in rows], truth).statistic),
                "spearman": float(spearmanr([r[name] for r in rows], truth).statistic),
            }
            for name in proxies.PROXIES
        }
    return out


def report() -> None:
    f = figures()
    lines = [
        "# DARTS and one-shot weight sharing on the cell space (benchmarks/cell_supernet.py)",
        "",
        f"Ground truth: the table `{TABLE}`, {f['sample']} sampled live cells trained stand-alone on seeds",
        f"{f['seeds']}",
        f"(best mean validation accuracy {100 * f['best']:.2f}%, median {100 * f['median']:.2f}%; Kendall tau between",
        f"the two seeds over the sample {f['tau_between_seeds']:.3f}).",
        "",
    ]
    if "oneshot" in f:
        lines += ["## One-shot: supernet accuracy vs stand-alone accuracy over the sample", ""]
        lines += ["| seed | Kendall tau | Spearman | Kendall tau, BN recalibrated | Spearman, BN recalibrated |"]
        lines += ["|---|---|---|---|---|"]
        for seed, r in f["oneshot"].items():
            p, q = r["plain"], r["recalibrated"]
            lines.append(
                f"| {seed} | {p['kendall']:.3f} | {p['spearman']:.3f} | {q['kendall']:.3f} | {q['spearman']:.3f} |"
            )
        lines.append("")
    if "darts" in f:
        lines += ["## DARTS: where the derived cells stand in the sample", ""]
        lines += [
            "| selection | seeds | share of parameter-free edges | median share of the sample beaten |",
            "|---|---|---|---|",
        ]
        for name, r in f["darts"].items():
            finals = r["final"]
            free = r.get("free_share", r.get("free_share_per_epoch", [float("nan")])[-1])
            beaten = statistics.median(x["beats"] for x in finals) if finals else float("nan")
            lines.append(f"| {name} | {len(finals)} | {free:.2f} | {100 * beaten:.0f}% |")
        lines.append("")
    if "proxies" in f:
        lines += [
            "## Zero-cost proxies vs stand-alone accuracy over the sample",
            "",
            "| proxy | Kendall tau | Spearman |",
        ]
        lines += ["|---|---|---|"] + [
            f"| {n} | {r['kendall']:.3f} | {r['spearman']:.3f} |" for n, r in f["proxies"].items()
        ]
    (RESULTS / "cell_supernet.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["darts", "oneshot", "proxies", "derived", "report"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    {
        "darts": lambda: run_darts(args.seeds),
        "oneshot": lambda: run_oneshot(args.seeds),
        "proxies": run_proxies,
        "derived": lambda: run_derived(args.workers),
        "report": report,
    }[args.part]()


if __name__ == "__main__":
    with one_thread():  # one core per evaluation, as NanoBench was built
        main()
