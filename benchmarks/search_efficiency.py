"""How fast does each search strategy find the true optimum? Many seeded runs on NanoBench.

For every strategy, RUNS runs with different seeds search the table (each lookup draws one training seed's
validation accuracy, so real training noise is in the picture). Reported per budget of 25/50/100/200
evaluations: the mean regret (the global optimum's mean validation accuracy minus that of the architecture
the search would return, in percentage points) and the share of runs that had evaluated the global optimum;
and the median number of evaluations until the optimum was first evaluated (runs continue up to the whole
space, so random search's median is measured, not censored).

Outside reference: Optuna's TPE sampler (pip install 'nanonas[bench]'), on the same table and the same
lookups. It is skipped with a note when Optuna is not installed.

    python benchmarks/search_efficiency.py            # 100 runs per strategy, writes benchmarks/results/
    python benchmarks/search_efficiency.py --runs 20  # quicker
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from nanonas import OPERATIONS, History, Task
from nanonas.bench import NanoBench
from nanonas.core import STRATEGIES

BUDGETS = (25, 50, 100, 200)
SPACE = len(OPERATIONS) ** 4
RESULTS = Path(__file__).parent / "results"

SEARCHERS = {  # name -> (strategy, options); each runs until the whole space is evaluated or its loop ends
    "random": ("random", {"evaluations": SPACE}),
    "simple evolution": ("evolution", {"population_size": 20, "generations": 60}),
    "regularized evolution": ("regularized_evolution", {"evaluations": SPACE}),
}


def run_ours(bench: NanoBench, strategy: str, options: dict, seed: int, stop_at) -> list:
    """The DNAs a search evaluated, in order, with the fitness it saw; stops once `stop_at` was evaluated."""

    class Found(Exception):
        pass

    evaluate = bench.evaluator(seed)

    def fitness(dna):
        if len(history) >= max(BUDGETS) and stop_at in history:
            raise Found  # nothing after this point is needed: the optimum is in and every budget is covered
        return evaluate(dna)

    history = History(fitness)
    try:
        STRATEGIES[strategy](history, Task(data=None, seed=seed), **options)
    except Found:
        pass
    return list(history.items())


def run_optuna(bench: NanoBench, seed: int, budget: int) -> list:
    """Optuna's TPE on the same table: four categorical choices; a repeated DNA is looked up, not re-counted."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    evaluate, history = bench.evaluator(seed), History(None)
    history.evaluator = evaluate
    names = list(OPERATIONS)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    trials = 0
    while len(history) < budget and trials < 5 * budget:
        trial = study.ask()
        dna = [names.index(trial.suggest_categorical(f"position_{i}", names)) for i in range(4)]
        study.tell(trial, history(dna))
        trials += 1
    return list(history.items())


def summarise(bench: NanoBench, runs: list) -> dict:
    best = bench.best()
    optimum, top = tuple(best["dna"]), best["val_accuracy"]
    row = {}
    for budget in BUDGETS:
        regrets, found = [], 0
        for history in runs:
            seen = history[:budget]
            pick = max(seen, key=lambda h: h[1])[0]  # what the search would return at this budget
            regrets.append(100 * (top - bench.query(list(pick))["val_accuracy"]))
            found += any(dna == optimum for dna, _ in seen)
        row[f"regret@{budget}"] = statistics.fmean(regrets)
        row[f"found@{budget}"] = found / len(runs)
    firsts = [next((i + 1 for i, (dna, _) in enumerate(h) if dna == optimum), float("inf")) for h in runs]
    row["median_evals_to_optimum"] = statistics.median(firsts)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--no-optuna", action="store_true")
    args = parser.parse_args()

    bench = NanoBench.load()
    optimum = tuple(bench.best()["dna"])
    rows, started = {}, time.perf_counter()
    for name, (strategy, options) in SEARCHERS.items():
        t = time.perf_counter()
        runs = [run_ours(bench, strategy, options, seed, optimum) for seed in range(args.runs)]
        rows[name] = {**summarise(bench, runs), "seconds_per_run": (time.perf_counter() - t) / args.runs}
        print(f"{name}: done in {time.perf_counter() - t:.1f} s")
    note = ""
    if not args.no_optuna:
        try:
            import optuna  # noqa: F401
        except ImportError:
            note = "Optuna is not installed (pip install 'nanonas[bench]'): its row is missing."
        else:
            t = time.perf_counter()
            runs = [run_optuna(bench, seed, max(BUDGETS)) for seed in range(args.runs)]
            rows["Optuna TPE (outside reference)"] = {
                **summarise(bench, runs),
                "seconds_per_run": (time.perf_counter() - t) / args.runs,
            }
            note = f"Optuna {optuna.__version__} TPE ran up to {max(BUDGETS)} distinct evaluations per run."
            print(f"optuna: done in {time.perf_counter() - t:.1f} s")

    header = ["strategy", *(f"regret@{b} (pp)" for b in BUDGETS), *(f"found@{b}" for b in BUDGETS)]
    header += ["median evals to optimum", "s per run"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, r in rows.items():
        cells = [name, *(f"{r[f'regret@{b}']:.2f}" for b in BUDGETS), *(f"{r[f'found@{b}']:.0%}" for b in BUDGETS)]
        med = r["median_evals_to_optimum"]
        cells += ["> 200 (not reached)" if med == float("inf") else f"{med:.0f}", f"{r['seconds_per_run']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    best = bench.best()
    text = "\n".join(
        [
            f"Search efficiency on NanoBench: {args.runs} seeded runs per strategy; the global optimum is "
            f"{best['dna']} ({' → '.join(best['ops'])}, mean validation accuracy {best['val_accuracy']:.2%}).",
            "Regret in percentage points of mean validation accuracy; found@N = share of runs that evaluated the "
            "optimum within N evaluations.",
            "",
            *lines,
            "",
            note,
            f"Generated by `python benchmarks/search_efficiency.py --runs {args.runs}` in "
            f"{time.perf_counter() - started:.0f} s.",
        ]
    )
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "search_efficiency.md").write_text(text + "\n")
    (RESULTS / "search_efficiency.json").write_text(json.dumps(rows, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
