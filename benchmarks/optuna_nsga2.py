"""Our NSGA-II against Optuna's NSGAIISampler on the NanoBench tables: hypervolume at equal evaluation counts.

Both searchers look up the same table the same way: accuracy is one training seed's validation accuracy per lookup
(as noisy as training, `bench.evaluator(seed)`), latency is the table's batch-1 latency, accuracy is maximised and
latency minimised; population 20; 200 distinct evaluations (a third of the 625 architectures). A DNA asked for
again is looked up for free and not counted (a Fitness memoises), so the two are compared after the same number of
*distinct* architectures. Optuna's sampler does not avoid repeats; the trials it needed are reported. Ours proposes
only unseen DNAs, but its children are one mutation from a parent: once the population sits on the front and every
neighbour has been seen, a generation adds few new DNAs, so it runs up to 60 generations to reach 200 (how many
distinct DNAs it reaches in 60 generations is reported too).

Score: the hypervolume of everything evaluated so far (the archive), in the true objectives (mean validation
accuracy over the table's seeds, latency), divided by the exact front's hypervolume, after every 20 evaluations.
Reference point: 10% accuracy (chance) and the slowest latency of the table. Random search at the same counts is
the floor, and the share of the exact front that the archive holds at the end says what the curves mean.

    .venv/bin/pip install -e '.[bench]'                  # Optuna: a benchmark-only extra
    .venv/bin/python benchmarks/optuna_nsga2.py            # 30 seeds per table: writes results/optuna_nsga2.md/.json
    .venv/bin/python benchmarks/optuna_nsga2.py --seeds 5  # quicker

notebooks/07a_multi_objective.ipynb reads results/optuna_nsga2.json; it does not need Optuna.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from scipy.stats import mannwhitneyu

from nanonas import nano_nas
from nanonas.bench import NanoBench
from nanonas.fitness import Fitness
from nanonas.pareto import TIE, hypervolume_2d, pareto_front

RESULTS = Path(__file__).parent / "results"
TABLES = ("digits_variations", "digits")
POPULATION, BUDGET = 20, 200  # 200 distinct evaluations of 625 architectures: 10 generations' worth
GENERATIONS = 60  # ours stops finding new DNAs near 220-300 distinct evaluations (see the docstring)
STEP = POPULATION  # the archive is scored after every generation's worth of evaluations


def objectives(bench: NanoBench) -> dict:
    """{dna tuple: (mean validation accuracy, -latency)}: the true objectives, both maximised."""
    return {tuple(r["dna"]): (r["val_accuracy"], -r["latency_b1_ms"]) for r in bench}


def reference(bench: NanoBench) -> tuple:
    """Chance accuracy and the slowest latency of the table: every live architecture dominates it."""
    return (0.10, -max(r["latency_b1_ms"] for r in bench))


def archive_curve(order, bench: NanoBench, step: int = STEP, budget: int = BUDGET) -> list[float]:
    """Hypervolume / exact hypervolume of the first k evaluated DNAs, for k = step, 2 step, ..., budget."""
    points, ref = objectives(bench), reference(bench)
    exact = hypervolume_2d(list(points.values()), ref)
    return [hypervolume_2d([points[tuple(d)] for d in order[:k]], ref) / exact for k in range(step, budget + 1, step)]


def front_found(order, bench: NanoBench) -> float:
    """Share of the exact front (accuracy vs latency) that the evaluated DNAs reach: equal within TIE, or better."""
    points = objectives(bench)
    values = list(points.values())
    exact = [values[i] for i in pareto_front(values)]
    seen = [points[tuple(d)] for d in order]
    return sum(any(all(x >= y - TIE for x, y in zip(q, p)) for q in seen) for p in exact) / len(exact)


def run_ours(bench: NanoBench, seed: int) -> tuple[list, int]:
    """The first BUDGET DNAs our NSGA-II evaluated, in order (through nano_nas, looking up the table), and how many
    distinct DNAs it evaluated in all GENERATIONS."""
    search = nano_nas(
        "nsga2",
        dataset=bench.meta["recipe"]["dataset"],
        evaluator=bench,
        objectives=("val_accuracy", "latency_b1_ms"),
        population_size=POPULATION,
        generations=GENERATIONS,
        seed=seed,
        progress=False,
    ).search
    return [h["dna"] for h in search.history][:BUDGET], search.evaluations


def run_random(bench: NanoBench, seed: int) -> list:
    search = nano_nas(
        "random",
        dataset=bench.meta["recipe"]["dataset"],
        evaluator=bench,
        evaluations=BUDGET,
        seed=seed,
        progress=False,
    ).search
    return [h["dna"] for h in search.history][:BUDGET]


def run_optuna(bench: NanoBench, seed: int) -> tuple[list, int]:
    """Optuna's NSGAIISampler on the same lookups: one categorical choice per position. Returns (DNAs, trials)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.NSGAIISampler(population_size=POPULATION, seed=seed)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    fitness, names, trials = Fitness(bench.evaluator(seed)), bench.meta["recipe"]["ops"], 0
    while len(fitness) < BUDGET and trials < 20 * BUDGET:
        trial = study.ask()
        dna = [names.index(trial.suggest_categorical(f"position_{i}", names)) for i in range(bench.positions)]
        study.tell(trial, [fitness(dna), bench.query(dna)["latency_b1_ms"]])  # a repeat: the same values, free
        trials += 1
    return [list(d) for d in fitness][:BUDGET], trials


def summary(curves: list) -> list[tuple]:
    """(mean, sd) at each evaluation count, over seeds."""
    return [(statistics.fmean(c), statistics.stdev(c) if len(c) > 1 else 0.0) for c in zip(*curves)]


def table_report(name: str, seeds: int) -> tuple[dict, list[str]]:
    import optuna

    bench = NanoBench.load(name)
    runs, seconds, counts = {}, {}, {"ours": [], "optuna": []}
    for label, run in (("ours", run_ours), ("optuna", run_optuna), ("random", run_random)):
        t, orders = time.perf_counter(), []
        for seed in range(seeds):
            out = run(bench, seed)
            if label in counts:
                out, count = out
                counts[label].append(count)
            orders.append(out)
        seconds[label] = (time.perf_counter() - t) / seeds
        short = [o for o in orders if len(o) < BUDGET]
        assert not short, f"{label} evaluated fewer than {BUDGET} distinct DNAs in {len(short)} runs"
        runs[label] = orders
        print(f"{name}, {label}: {seconds[label]:.2f} s per run", flush=True)
    curves = {label: [archive_curve(o, bench) for o in orders] for label, orders in runs.items()}
    found = {label: [front_found(o, bench) for o in orders] for label, orders in runs.items()}
    evaluations = list(range(STEP, BUDGET + 1, STEP))
    result = {
        "evaluations": evaluations,
        "curves": curves,
        "front_found": found,
        "exact_front_size": len(bench.pareto_front(("val_accuracy",), ("latency_b1_ms",))),
        "optuna_trials": counts["optuna"],
        "ours_distinct_in_all_generations": counts["ours"],
        "seconds_per_run": seconds,
        "reference": list(reference(bench)),
    }
    means = {label: summary(c) for label, c in curves.items()}
    lines = [
        f"### {name}: exact front of {result['exact_front_size']} architectures (accuracy vs latency at batch 1)",
        "",
        "| evaluations | ours: NSGA-II | Optuna NSGAIISampler | random search |",
        "|---|---|---|---|",
    ]
    for i, k in enumerate(evaluations):
        lines.append(f"| {k} | " + " | ".join(f"{means[lb][i][0]:.4f} ± {means[lb][i][1]:.4f}" for lb in curves) + " |")
    end = {label: [c[-1] for c in cs] for label, cs in curves.items()}
    trials, ours = counts["optuna"], counts["ours"]
    at = lambda k, *labels: [[c[evaluations.index(k)] for c in curves[label]] for label in labels]
    better = sum(a > b for a, b in zip(end["ours"], end["optuna"]))
    same = sum(a == b for a, b in zip(end["ours"], end["optuna"]))
    lines += [
        "",
        f"At {BUDGET} evaluations: median hypervolume ratio ours {statistics.median(end['ours']):.4f}, Optuna "
        f"{statistics.median(end['optuna']):.4f}, random {statistics.median(end['random']):.4f}; ours above Optuna in "
        f"{better} of {seeds} seeds (equal in {same}; not a paired comparison: each searcher draws its own noise). "
        "Mann-Whitney U, two-sided, ours vs Optuna: "
        + ", ".join(f"p = {mannwhitneyu(*at(k, 'ours', 'optuna')).pvalue:.3g} at {k}" for k in (100, BUDGET))
        + "; ours vs random: "
        + ", ".join(f"p = {mannwhitneyu(*at(k, 'ours', 'random')).pvalue:.3g} at {k}" for k in (100, BUDGET))
        + ".",
        "Share of the exact front in the archive at the end (mean): "
        + ", ".join(f"{label} {statistics.fmean(f):.0%}" for label, f in found.items())
        + ".",
        f"Optuna {optuna.__version__} needed {statistics.fmean(trials):.0f} trials on average "
        f"({min(trials)} to {max(trials)}) for {BUDGET} distinct architectures (the rest were repeats, free here). "
        f"Ours, left to run {GENERATIONS} generations, evaluated {min(ours)} to {max(ours)} distinct architectures "
        f"(median {statistics.median(ours):.0f}): after that its children are all seen already.",
        "Seconds per run: " + ", ".join(f"{label} {s:.2f}" for label, s in seconds.items()) + ".",
    ]
    return result, lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--tables", nargs="+", default=list(TABLES))
    args = parser.parse_args()
    import optuna  # fails here, with its own message, when the bench extra is missing

    started, results, text = time.perf_counter(), {}, []
    for name in args.tables:
        results[name], lines = table_report(name, args.seeds)
        text += [*lines, ""]
    text = [
        f"Our NSGA-II vs Optuna's NSGAIISampler on NanoBench, {args.seeds} seeds each: hypervolume of everything "
        f"evaluated so far / the exact front's hypervolume (mean ± sd over seeds), at equal counts of distinct "
        f"evaluations. Both: population {POPULATION}, {BUDGET} distinct evaluations, accuracy (one training seed's "
        "per lookup) vs latency at batch 1; ours mutates one position per child, Optuna's default adds uniform "
        "crossover.",
        "",
        *text,
        f"Generated by `.venv/bin/python benchmarks/optuna_nsga2.py --seeds {args.seeds}` in "
        f"{time.perf_counter() - started:.0f} s.",
    ]
    print("\n".join(text))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "optuna_nsga2.md").write_text("\n".join(text) + "\n")
    payload = {"seeds": args.seeds, "population": POPULATION, "budget": BUDGET, "tables": results}
    payload["optuna_version"] = optuna.__version__
    (RESULTS / "optuna_nsga2.json").write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
