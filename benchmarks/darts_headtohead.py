"""Project 06c: DARTS in the head-to-head, at the budget of the table-based searches' 50 evaluations.

    nice -n 10 .venv/bin/python benchmarks/darts_headtohead.py            # 30 seeds x digits, digits_variations
    nice -n 10 .venv/bin/python benchmarks/darts_headtohead.py --seeds 3  # a quick look

The table-based searches of notebooks/06c_compare_searches.ipynb get 50 evaluations; one evaluation is a training of
Task.epochs (10) epochs of one candidate. DARTS cannot look its search up in a table: it trains its supernet for
real, here, and only its derived architecture is scored by the table (its true regret).

The common unit is the **candidate-epoch**: the training compute (multiply-accumulates, MACs) of one epoch of the
average architecture of the space (the mean over the 625 DNAs of NanoBench's `macs` column). A DARTS epoch runs two
forward/backward passes of the supernet per batch (one on a validation batch for the alphas, one on a training batch
for the weights), and the supernet runs every op at every position, so one DARTS epoch costs
2 x MACs(supernet) / mean MACs(candidate) candidate-epochs. The budget is 50 x 10 = 500 candidate-epochs; DARTS
also needs one evaluation (10 epochs) of its derived architecture, so it gets floor((500 - 10) / that ratio)
epochs. MACs do not depend on the machine or its load. As a check, each run also times, in single-thread CPU
seconds (`time.process_time`, one torch thread), its whole DARTS search and two evaluations of random candidates
made right after it under the same load: the results file holds both, and the notebook states the ratio.

One process, one torch thread; the results file (benchmarks/results/darts_headtohead.json) is rewritten after each
run, so an interrupted run resumes where it stopped. The weight optimiser's learning rate is constant, so the
derived architecture after epoch e is that of an e-epoch search: each run records it at every epoch.
"""

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import torch

from nanonas import Task, load_dataset
from nanonas.bench import NanoBench
from nanonas.core import MixedOp, Network, darts, evaluate, random_dna
from nanonas.measure import count_macs
from nanonas.parallel import one_thread

RESULTS = Path(__file__).resolve().parent / "results" / "darts_headtohead.json"
DATASETS = NanoBench.tables("chain")  # the shipped chain tables: digits, digits_variations
EVALUATIONS = 50  # the table-based searches' budget in notebooks/06c_compare_searches.ipynb
ARCH_LR = 3e-3  # core.darts's default: DARTS as the library ships it


def cost_unit(table: NanoBench, task: Task) -> dict:
    """The cost of a DARTS epoch and of one evaluation, in candidate-epochs (training MACs)."""
    torch.manual_seed(0)
    supernet = Network([MixedOp(task.channels) for _ in range(task.positions)], task.channels)
    supernet_macs = count_macs(supernet, (1, 8, 8))
    candidate_macs = statistics.fmean(r["macs"] for r in table)  # the space's average architecture
    darts_epoch = 2 * supernet_macs / candidate_macs  # two forward/backward passes of the supernet per batch
    budget = EVALUATIONS * task.epochs  # candidate-epochs
    epochs = int((budget - task.epochs) // darts_epoch)  # leave one evaluation for the derived architecture
    return {
        "supernet_macs": supernet_macs,
        "mean_candidate_macs": round(candidate_macs, 1),
        "darts_epoch_in_candidate_epochs": round(darts_epoch, 3),
        "evaluation_in_candidate_epochs": task.epochs,
        "budget_in_candidate_epochs": budget,
        "darts_epochs": epochs,
        "darts_cost_in_candidate_epochs": round(epochs * darts_epoch + task.epochs, 1),
    }


def one_run(dataset: str, seed: int, epochs: int, table: NanoBench) -> dict:
    """One DARTS search on real data; the derived DNA after each epoch; CPU seconds of it and of 2 evaluations."""
    data = load_dataset(dataset)
    trace = []
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    darts(
        lambda dna: table.query(dna)["val_accuracy"],  # only the derived architecture is scored, by the table
        Task(data, seed=seed),
        epochs=epochs,
        arch_lr=ARCH_LR,
        on_epoch=lambda epoch, weights, derived, *losses: trace.append(derived),
    )
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
    rng, candidates = random.Random(1000 + seed), []  # two random evaluations, timed under the same load
    for _ in range(2):
        dna = random_dna(rng)
        started = time.process_time()
        evaluate(dna, Task(data, seed=seed))
        candidates.append({"dna": dna, "cpu_seconds": round(time.process_time() - started, 3)})
    return {
        "dataset": dataset,
        "seed": seed,
        "epochs": epochs,
        "arch_lr": ARCH_LR,
        "derived": trace[-1],
        "derived_per_epoch": trace,
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "candidate_evaluations": candidates,
    }


def main(seeds: int) -> None:
    tables = {name: NanoBench.load(name) for name in DATASETS}
    unit = cost_unit(tables["digits"], Task(None))
    done = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    if done.get("cost") not in (None, unit):
        raise ValueError(f"{RESULTS} was made with another cost unit: {done['cost']}; delete it to start again")
    runs = [r for r in done["runs"] if r["epochs"] == unit["darts_epochs"] and r["arch_lr"] == ARCH_LR]
    have = {(r["dataset"], r["seed"]) for r in runs}
    print(f"cost unit: {unit}")
    for seed in range(seeds):  # both datasets at each seed, so an interrupted run stays balanced
        for dataset in DATASETS:
            if (dataset, seed) in have:
                continue
            run = one_run(dataset, seed, unit["darts_epochs"], tables[dataset])
            runs.append(run)
            runs.sort(key=lambda r: (r["dataset"], r["seed"]))
            meta = {
                "torch_threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "command": __doc__.split("\n")[2].strip(),
            }
            RESULTS.write_text(json.dumps({"meta": meta, "cost": unit, "runs": runs}, indent=1) + "\n")
            regret = (
                max(r["val_accuracy"] for r in tables[dataset]) - tables[dataset].query(run["derived"])["val_accuracy"]
            )
            print(
                f"{dataset} seed {seed}: derived {run['derived']}, regret {100 * regret:.2f} pp, "
                f"{run['cpu_seconds']:.0f} CPU s ({run['wall_seconds']:.0f} s wall)",
                flush=True,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=30)
    with one_thread():  # one core per evaluation, as NanoBench was built
        main(parser.parse_args().seeds)
