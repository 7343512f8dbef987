"""Does DARTS collapse toward parameter-free ops on NanoBench's space, and does early stopping help? (lesson 04)

For each seed and architecture learning rate, one first-order DARTS search runs for the longest budget; its weight
optimiser has a constant learning rate, so the state after epoch e is exactly that of an e-epoch search and one run
gives every shorter budget. After each epoch we record the softmax weight on the parameter-free ops (maxpool, skip,
zero), the derived architecture, how many parameter-free ops it holds, and its true NanoBench rank. The remedy is
lesson 04's rule `stop_when_free_weight_rises` (DARTS+'s idea: stop before the drift completes), applied to the
recorded epochs: it looks only at epochs already run, so that is exactly what stopping would have given.

nice -n 10 .venv/bin/python benchmarks/darts_collapse.py --workers 3  # writes benchmarks/results/darts_collapse.json
nice -n 10 .venv/bin/python benchmarks/darts_collapse.py --seeds 2    # a quick look

Each search runs in its own process with one torch thread; the file is rewritten after each, so an interrupted
run resumes where it stopped.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from nanonas import OPERATIONS, Task, load_dataset
from nanonas.bench import NanoBench
from nanonas.core import darts
from nanonas.parallel import LocalWorkers

RESULTS = Path(__file__).resolve().parent / "results" / "darts_collapse.json"
FREE = ("maxpool", "skip", "zero")  # the ops without weights


def stop_when_free_weight_rises(free_weight, patience=3):
    """Lesson 04's rule: the epoch (0-based) where the weight on parameter-free ops began rising for `patience`
    epochs in a row; the last epoch if that never happens."""
    rising = 0
    for epoch in range(1, len(free_weight)):
        rising = rising + 1 if free_weight[epoch] > free_weight[epoch - 1] else 0
        if rising == patience:
            return epoch - patience
    return len(free_weight) - 1


def one_search(seed: int, arch_lr: float, epochs: int, data) -> dict:
    """One DARTS search; per epoch: weight on parameter-free ops (mean over positions) and the derived DNA."""
    ops, free = list(OPERATIONS), [list(OPERATIONS).index(n) for n in FREE]
    trace = {"free_weight": [], "derived": []}

    def on_epoch(epoch, weights, derived, *losses):  # weights: (positions, ops), softmaxed
        trace["free_weight"].append(round(float(weights[:, free].sum(dim=1).mean()), 4))
        trace["derived"].append(derived)

    start = time.perf_counter()
    darts(lambda dna: 0.0, Task(data, seed=seed), epochs=epochs, arch_lr=arch_lr, on_epoch=on_epoch)
    trace["seconds"] = round(time.perf_counter() - start, 1)
    trace["ops"] = ops
    return trace


def job(spec) -> dict:
    seed, arch_lr, epochs = spec
    return {"seed": seed, "arch_lr": arch_lr, "epochs": epochs, **one_search(seed, arch_lr, epochs, load_dataset())}


def summarise(runs: list[dict], bench: NanoBench, budgets, remedy: bool) -> list[dict]:
    """One row per (arch_lr, epochs): medians and ranges over seeds."""
    free = {OPERATIONS_INDEX[n] for n in FREE}
    rows = []
    for arch_lr in sorted({r["arch_lr"] for r in runs}):
        group = [r for r in runs if r["arch_lr"] == arch_lr]
        for epochs in budgets:
            picks, weights = [], []
            for r in group:
                w = r["free_weight"][:epochs]
                e = stop_when_free_weight_rises(w) if remedy else epochs - 1
                picks.append(r["derived"][e])
                weights.append(w[e])
            ranks = [bench.rank(d) for d in picks]
            rows.append(
                {
                    "arch_lr": arch_lr,
                    "epochs": epochs,
                    "remedy": remedy,
                    "seeds": len(group),
                    "free_weight_mean": round(statistics.fmean(weights), 3),
                    "free_ops_mean": round(statistics.fmean(sum(o in free for o in d) for d in picks), 2),
                    "no_conv_runs": sum(all(o in free for o in d) for d in picks),
                    "rank_median": statistics.median(ranks),
                    "rank_best": min(ranks),
                    "rank_worst": max(ranks),
                    "ranks": ranks,
                    "picks": ["-".join(map(str, d)) for d in picks],
                }
            )
    return rows


OPERATIONS_INDEX = {n: i for i, n in enumerate(OPERATIONS)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="run only seeds from this one (to split the work)")
    parser.add_argument("--arch-lrs", type=float, nargs="+", default=[3e-3, 3e-2, 1e-1])
    parser.add_argument("--budgets", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    bench = NanoBench.load("digits")
    done = json.loads(args.out.read_text())["runs"] if args.out.exists() else []  # resumable
    runs = [r for r in done if r["epochs"] >= max(args.budgets)]
    have = {(r["seed"], r["arch_lr"]) for r in runs}
    jobs = [
        (s, lr, max(args.budgets))
        for s in range(args.first_seed, args.seeds)
        for lr in args.arch_lrs
        if (s, lr) not in have
    ]
    pool = LocalWorkers(lambda: None, (), job, args.workers, fork=True)  # one torch thread per worker
    try:
        for run in pool.as_completed(jobs):
            runs.append(run)
            print(f"seed {run['seed']} arch_lr {run['arch_lr']:g}: {run['seconds']} s, final {run['derived'][-1]}")
            save(args, runs, bench)
    finally:
        pool.close()
    save(args, runs, bench)
    for row in json.loads(args.out.read_text())["table"]:
        print({k: v for k, v in row.items() if k not in ("ranks", "picks")})


def save(args, runs, bench):
    runs = [r for r in runs if r["arch_lr"] in args.arch_lrs and r["seed"] < args.seeds]
    budgets = sorted(args.budgets)
    table = summarise(runs, bench, budgets, remedy=False) + summarise(runs, bench, budgets, remedy=True)
    meta = {
        "command": "nice -n 10 .venv/bin/python benchmarks/darts_collapse.py --workers 3",
        "table": "digits",
        "live_architectures": sum("zero" not in r["ops"] for r in bench),
        "torch_threads": 1,
        "task": "Task defaults (channels 16, lr 0.02, batch 128) on digits, seed = the search seed",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "table": table, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
