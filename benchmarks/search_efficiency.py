"""Which search finds better networks, for the same number of evaluations? Many seeded runs on each NanoBench.

For every strategy and every shipped table, RUNS runs with different seeds search the table (each lookup draws one
training seed's validation accuracy, so the noise of real training is in the picture). Reported, headline first:
- regret@N: the mean regret of the architecture the search RETURNS after N = 25/50/100/200 evaluations (the one
  with the best fitness it saw), in percentage points of mean validation accuracy below the global optimum;
- the median number of evaluations until the search has evaluated an architecture of the true top 1%
  (runs continue past 200 evaluations until they do, so the median is measured, not censored);
- secondary: the share of runs that evaluated the global optimum within N, and that returned it at N. Under
  training noise several architectures tie with the optimum, so this is partly a lottery (see the cards).

Outside reference: Optuna's TPE sampler (pip install 'nanonas[bench]'), on the same tables and the same lookups,
up to 200 distinct evaluations. It is skipped with a note when Optuna is not installed.

    python benchmarks/search_efficiency.py            # 100 runs per strategy and table, writes benchmarks/results/
    python benchmarks/search_efficiency.py --runs 20  # quicker
"""

import argparse
import contextlib
import json
import math
import statistics
import time
from pathlib import Path
from unittest import mock

import numpy as np

from nanonas import Fitness, Task
from nanonas.bench import NanoBench
from nanonas.registry import STRATEGIES

BUDGETS = (25, 50, 100, 200)
TABLES = NanoBench.tables("chain")  # the shipped chain tables: digits, digits_variations
RESULTS = Path(__file__).parent / "results"


def searchers(space: int) -> dict:
    """name -> (strategy, options); each may run past 200 evaluations, until it meets the true top 1%."""
    return {
        "random": ("random", {"evaluations": space}),
        "simple evolution": ("evolution", {"population_size": 20, "generations": 60}),
        "regularized evolution": ("regularized_evolution", {"evaluations": space}),
    }


def top_percent(bench: NanoBench, percent: float = 1.0) -> set:
    """The true top `percent` of the space: the architectures ranked within it by mean validation accuracy, ties in."""
    k = max(1, math.floor(len(bench) * percent / 100))
    return {tuple(r["dna"]) for r in bench if bench.rank(r["dna"]) <= k}


def run_ours(bench: NanoBench, strategy: str, options: dict, seed: int, top: set) -> list:
    """The DNAs a search evaluated, in order, with the fitness it saw; it stops once it has all the figures need."""

    class Enough(Exception):
        pass

    evaluate = bench.evaluator(seed)

    def fitness(dna):
        if len(history) >= max(BUDGETS) and top & history.keys():
            raise Enough  # every budget is covered and a top-1% architecture is in
        return evaluate(dna)

    history = Fitness(fitness)
    try:
        STRATEGIES[strategy].run(history, Task(data=None, positions=bench.positions, seed=seed), **options)
    except Enough:
        pass
    return list(history.items())


@contextlib.contextmanager
def _once_per_trial(sampler):
    """Optuna's univariate TPE, the same proposals computed faster. It proposes each position alone, and every
    position of one trial splits the same finished trials into good and bad and reads their parameters: done once
    per trial here, not once per position (search_defaults checks that the proposals are Optuna's own, exactly)."""
    from optuna.samplers._tpe import sampler as tpe

    split_trials, last = tpe._split_trials, {}

    def split(study, trials, n_below):  # finished trials never change: the same count is the same trials
        key = (study, n_below, len(trials), trials[-1].number if trials else None)
        if last.get("key") != key:
            last.update(key=key, split=split_trials(study, trials, n_below), params={})
        return last["split"]

    def internal_repr(trials, search_space, study):  # one position at a time: its choice per trial, as Optuna's
        [(name, distribution)] = search_space.items()
        # the trials stay in the cache, so no other list takes their id
        rows = last["params"].setdefault(id(trials), (trials, [t.params for t in trials]))[1]
        return {name: np.asarray([distribution.to_internal_repr(p[name]) for p in rows if name in p])}

    sampler._get_internal_repr = internal_repr
    with mock.patch.object(tpe, "_split_trials", split):
        yield


def run_optuna(bench: NanoBench, seed: int, budget: int, multivariate=False, fast=True, **sampler) -> list:
    """Optuna's TPE on the same table: one categorical choice per position; a repeated DNA is told to the study
    again but not re-counted, up to 5 x budget trials. Univariate unless told (the recorded rows were; Optuna 5 made
    multivariate its default); fast: univariate TPE through _once_per_trial (the same proposals)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    history = Fitness(bench.evaluator(seed))
    names = bench.meta["recipe"]["ops"]
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=multivariate, **sampler)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    trials = 0
    with _once_per_trial(sampler) if fast and not multivariate else contextlib.nullcontext():
        while len(history) < budget and trials < 5 * budget:
            trial = study.ask()
            dna = [names.index(trial.suggest_categorical(f"position_{i}", names)) for i in range(bench.positions)]
            study.tell(trial, history(dna))
            trials += 1
    return list(history.items())


def summarise(bench: NanoBench, runs: list, top: set) -> dict:
    best = bench.best()
    optimum, truth = tuple(best["dna"]), best["val_accuracy"]
    row = {}
    for budget in BUDGETS:
        regrets, evaluated, returned = [], 0, 0
        for history in runs:
            seen = history[:budget]
            pick = max(seen, key=lambda h: h[1])[0]  # what the search returns at this budget: the best it saw
            regrets.append(100 * (truth - bench.query(list(pick))["val_accuracy"]))
            evaluated += any(dna == optimum for dna, _ in seen)
            returned += pick == optimum
        row[f"regret@{budget}"] = statistics.fmean(regrets)
        row[f"optimum_evaluated@{budget}"] = evaluated / len(runs)
        row[f"optimum_returned@{budget}"] = returned / len(runs)
    firsts = [next((i + 1 for i, (dna, _) in enumerate(h) if dna in top), math.inf) for h in runs]
    row["median_evals_to_top1%"] = statistics.median(firsts)
    return row


def table_report(name: str, runs_per: int, optuna: bool) -> tuple[dict, list[str], str]:
    bench = NanoBench.load(name)
    top = top_percent(bench)
    rows = {}
    for label, (strategy, options) in searchers(len(bench)).items():
        t = time.perf_counter()
        runs = [run_ours(bench, strategy, options, seed, top) for seed in range(runs_per)]
        rows[label] = {**summarise(bench, runs, top), "seconds_per_run": (time.perf_counter() - t) / runs_per}
        print(f"{name}, {label}: done in {time.perf_counter() - t:.1f} s", flush=True)
    note = ""
    if optuna:
        try:
            import optuna as _optuna
        except ImportError:
            note = "Optuna is not installed (pip install 'nanonas[bench]'): its row is missing."
        else:
            t = time.perf_counter()
            runs = [run_optuna(bench, seed, max(BUDGETS)) for seed in range(runs_per)]
            rows["Optuna TPE (outside reference)"] = {
                **summarise(bench, runs, top),
                "seconds_per_run": (time.perf_counter() - t) / runs_per,
            }
            note = f"Optuna {_optuna.__version__} TPE ran up to {max(BUDGETS)} distinct evaluations per run."
            print(f"{name}, optuna: done in {time.perf_counter() - t:.1f} s", flush=True)

    head = ["strategy", *(f"regret@{b} (pp)" for b in BUDGETS), "median evals to a top-1% arch"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, r in rows.items():
        med = r["median_evals_to_top1%"]
        cells = [label, *(f"{r[f'regret@{b}']:.2f}" for b in BUDGETS)]
        cells.append(f"> {max(BUDGETS)} (not reached)" if med == math.inf else f"{med:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    head = ["strategy", *(f"evaluated@{b}" for b in BUDGETS), *(f"returned@{b}" for b in BUDGETS), "s per run"]
    lines += ["", "Secondary: the global optimum itself, evaluated and returned:", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, r in rows.items():
        cells = [label, *(f"{r[f'optimum_evaluated@{b}']:.0%}" for b in BUDGETS)]
        cells += [*(f"{r[f'optimum_returned@{b}']:.0%}" for b in BUDGETS), f"{r['seconds_per_run']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    best = bench.best()
    title = (
        f"### {name}: global optimum {best['dna']} ({' → '.join(best['ops'])}, mean validation accuracy "
        f"{best['val_accuracy']:.2%}); top 1% = the architectures ranked 1 to {max(1, len(bench) // 100)} "
        f"({len(top)} with ties, ≥ {min(bench.query(list(d))['val_accuracy'] for d in top):.2%})"
    )
    return rows, [title, "", *lines, "", note], note


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--no-optuna", action="store_true")
    parser.add_argument("--tables", nargs="+", default=list(TABLES))
    args = parser.parse_args()

    started, results, text = time.perf_counter(), {}, []
    for name in args.tables:
        results[name], lines, _ = table_report(name, args.runs, not args.no_optuna)
        text += [*lines, ""]
    text = [
        f"Search efficiency on NanoBench: {args.runs} seeded runs per strategy and table. Regret in percentage "
        "points of mean validation accuracy, of the architecture the search returns (its best fitness seen) after "
        "N evaluations; lower is better.",
        "",
        *text,
        f"Generated by `python benchmarks/search_efficiency.py --runs {args.runs}` in "
        f"{time.perf_counter() - started:.0f} s.",
    ]
    print("\n".join(text))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "search_efficiency.md").write_text("\n".join(text) + "\n")
    (RESULTS / "search_efficiency.json").write_text(json.dumps(results, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
