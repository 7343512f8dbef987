"""Do proxies and predictors make search cheaper? Guided searches against Optuna's TPE on every shipped NanoBench.

The definitions are benchmarks/search_efficiency.py's own (imported, not copied): each lookup draws one training
seed's validation accuracy; regret@N is the mean regret (percentage points of mean validation accuracy below the
optimum) of the architecture a search RETURNS after N evaluations (its best fitness seen); the median number of
evaluations until a true top-1% architecture is evaluated (runs continue past 200 until they find one).

A guided search also pays for its zero-cost proxies. Each proxy computation costs a measured fraction of one
training (benchmarks/results/proxies.json, timed side by side with real trainings on this machine); the second
table counts them where they were spent: an evaluation's index is the trainings plus the proxies' cost before it.

    python benchmarks/guided_search.py               # 100 runs per searcher and table (needs proxies.csv tables)
    python benchmarks/guided_search.py --runs 10 --tables digits
    python benchmarks/guided_search.py --only "progressive (ridge)" --no-optuna --merge  # recompute rows, keep others
"""

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from search_efficiency import BUDGETS, run_optuna, run_ours, summarise, top_percent  # noqa: E402  (same definitions)

from nanonas import Fitness, Task, proxies  # noqa: E402
from nanonas.bench import NanoBench, tables  # noqa: E402
from nanonas.data import load_dataset  # noqa: E402
from nanonas.registry import STRATEGIES  # noqa: E402

RESULTS = Path(__file__).parent / "results"
RUNS_UNTIL = max(BUDGETS)


def searchers(space: int) -> dict:
    """label -> (strategy, options). Baselines first, then ours; every one may run past 200 evaluations."""
    return {
        "random": ("random", {"evaluations": space}),
        "regularized evolution": ("regularized_evolution", {"evaluations": space}),
        "proxy_evolution (synflow, screen 100)": ("proxy_evolution", {"evaluations": space}),
        "proxy_evolution (synflow, screen 200, population 5)": (
            "proxy_evolution",
            {"evaluations": space, "screen": 200, "population_size": 5, "sample_size": 3},
        ),
        "progressive (ridge)": ("progressive", {"evaluations": space}),
        "progressive (ridge + synflow)": ("progressive", {"evaluations": space, "proxy": "synflow"}),
        "bananas (ridge + synflow)": ("bananas", {"evaluations": space, "predictor": "ridge", "proxy": "synflow"}),
    }


def run_guided(bench: NanoBench, data, strategy: str, options: dict, seed: int, top: set) -> tuple[list, list]:
    """Like search_efficiency.run_ours, with the task's data (proxies need it). Returns the history and, for each
    evaluation, how many architectures the search's proxy had scored by then."""

    class Enough(Exception):
        pass

    evaluate, made, scored = bench.evaluator(seed), [], []
    for_task = proxies.for_task

    def watched(*args, **kwargs):  # remember the search's proxy, to read its count at every evaluation
        made.append(for_task(*args, **kwargs))
        return made[-1]

    def fitness(dna):
        if len(history) >= RUNS_UNTIL and top & history.keys():
            raise Enough  # every budget is covered and a top-1% architecture is in
        scored.append(sum(len(p.values) for p in made))
        return evaluate(dna)

    history = Fitness(fitness)
    task = Task(data=data, positions=bench.positions, seed=seed)
    proxies.for_task = watched
    try:
        STRATEGIES[strategy].run(history, task, **options)
    except Enough:
        pass
    finally:
        proxies.for_task = for_task
    return list(history.items()), scored


def charged(history: list, scored: list, fraction: float) -> list:
    """The history with the proxy cost, in evaluations, inserted where it was spent: placeholder entries nobody
    returns, so that an evaluation's index counts the trainings and the proxies before it."""
    out, placeholders = [], 0
    for entry, n in zip(history, scored):
        more = math.ceil(n * fraction) - placeholders
        out += [(None, -math.inf)] * more
        placeholders += more
        out.append(entry)
    return out


def summarise_charged(bench: NanoBench, runs: list, top: set) -> dict:
    """search_efficiency.summarise, where a budget spent entirely on proxies returns nothing (regret of random)."""
    budget_ok = [h for h in runs if all(any(d is not None for d, _ in h[:b]) for b in BUDGETS)]
    if len(budget_ok) < len(runs):
        return {"note": f"{len(runs) - len(budget_ok)} runs spent a whole budget on proxies"}
    return summarise(bench, runs, top)


def proxy_fractions() -> dict:
    path = RESULTS / "proxies.json"
    if not path.exists():
        raise SystemExit("run benchmarks/proxies.py first: it measures what a proxy costs against one training")
    return {name: r["fraction_of_training"] for name, r in json.loads(path.read_text())["cost"].items()}


def table_report(name: str, runs_per: int, fractions: dict, only=None, optuna=True) -> tuple[dict, list[str]]:
    bench = NanoBench.load(name)
    data = load_dataset(bench.meta["recipe"]["dataset"])
    top, rows = top_percent(bench), {}
    for label, (strategy, options) in searchers(len(bench)).items():
        if only is not None and not any(word in label for word in only):
            continue
        t = time.perf_counter()
        runs, ledgers = [], []
        for seed in range(runs_per):
            if "proxy" in STRATEGIES[strategy].options:
                history, scored = run_guided(bench, data, strategy, options, seed, top)
            else:  # a baseline: exactly search_efficiency's run
                history = run_ours(bench, strategy, options, seed, top)
                scored = [0] * len(history)
            runs.append(history)
            ledgers.append(scored)
        proxy = options.get("proxy", STRATEGIES[strategy].options.get("proxy", ""))
        row = summarise(bench, runs, top)
        if proxy:
            f = fractions[proxy]
            row["proxy_evaluations_mean"] = statistics.fmean(math.ceil(s[-1] * f) for s in ledgers)
            row["charged"] = summarise_charged(bench, [charged(h, s, f) for h, s in zip(runs, ledgers)], top)
        rows[label] = {**row, "seconds_per_run": (time.perf_counter() - t) / runs_per}
        print(f"{name}, {label}: {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    if not optuna:
        return rows, report_lines(name, bench, top, rows)
    t = time.perf_counter()
    runs = [run_optuna(bench, seed, RUNS_UNTIL) for seed in range(runs_per)]
    rows["Optuna TPE (outside reference)"] = {**summarise(bench, runs, top), "seconds_per_run": 0.0}
    rows["Optuna TPE (outside reference)"]["seconds_per_run"] = (time.perf_counter() - t) / runs_per
    return rows, report_lines(name, bench, top, rows)


def fmt_row(label: str, r: dict) -> str:
    med = r["median_evals_to_top1%"]
    cells = [label, *(f"{r[f'regret@{b}']:.2f}" for b in BUDGETS)]
    cells.append("> 200" if med == math.inf else f"{med:.0f}")
    return "| " + " | ".join(cells) + " |"


def report_lines(name: str, bench: NanoBench, top: set, rows: dict) -> list[str]:
    head = ["searcher", *(f"regret@{b} (pp)" for b in BUDGETS), "median evals to a top-1% arch"]
    table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    table += [fmt_row(label, r) for label, r in rows.items()]
    lines = [f"### {name} ({len(top)} architectures in the true top 1%)", "", "Evaluations = trainings only:", ""]
    lines += [
        *table,
        "",
        "Proxy cost charged, converted into evaluations (mean cost of a whole run in the second column):",
        "",
    ]
    head = ["searcher", "proxy cost (evaluations)", *(f"regret@{b} (pp)" for b in BUDGETS), "median evals"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, r in rows.items():
        if "charged" not in r:
            continue
        c = r["charged"]
        if "note" in c:
            lines.append(f"| {label} | {r['proxy_evaluations_mean']:.1f} | {c['note']} |")
            continue
        med = c["median_evals_to_top1%"]
        cells = [label, f"{r['proxy_evaluations_mean']:.1f}", *(f"{c[f'regret@{b}']:.2f}" for b in BUDGETS)]
        cells.append("> 200" if med == math.inf else f"{med:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--tables", nargs="+", default=None, help="default: every shipped table that is complete")
    parser.add_argument("--only", nargs="+", default=None, help="run only the searchers whose label has a word")
    parser.add_argument("--no-optuna", action="store_true")
    parser.add_argument("--out", default="guided_search", help="results file name, without extension")
    parser.add_argument("--merge", action="store_true", help="replace these rows in the results file, keep the others")
    args = parser.parse_args()
    names = args.tables or [t for t in tables() if NanoBench.load(t).meta.get("complete")]
    fractions, started, results, text = proxy_fractions(), time.perf_counter(), {}, []
    for name in names:
        results[name], lines = table_report(name, args.runs, fractions, args.only, not args.no_optuna)
        text += [*lines, ""]
    text = [
        f"Guided searches on NanoBench: {args.runs} seeded runs per searcher and table, definitions and baselines "
        "from benchmarks/search_efficiency.py. Regret in percentage points of mean validation accuracy; lower is "
        "better. Proxy costs from benchmarks/results/proxies.json: "
        + ", ".join(f"{k} = {v:.3f} of a training" for k, v in fractions.items()),
        "",
        *text,
        f"Generated by `python benchmarks/guided_search.py --runs {args.runs} --tables {' '.join(names)}` in "
        f"{time.perf_counter() - started:.0f} s.",
    ]
    if args.merge:  # the file's other rows and tables stay, in the file's order; its generated line gets a note
        old = json.loads((RESULTS / f"{args.out}.json").read_text())
        new = {t: {label: results.get(t, {}).get(label, row) for label, row in rows.items()} for t, rows in old.items()}
        results = {t: new.get(t, {}) | rows for t, rows in results.items()} | new
        command = " ".join(f'"{a}"' if " " in a else a for a in sys.argv[1:])
        generated = (RESULTS / f"{args.out}.md").read_text().split("\nGenerated by ", 1)[1].strip()
        text = [text[0], ""]
        for name, rows in results.items():
            bench = NanoBench.load(name)
            text += [*report_lines(name, bench, top_percent(bench), rows), ""]
        text.append(
            f"Generated by {generated} Since then, with `python benchmarks/guided_search.py {command}`, the rows it "
            f"names recomputed ({time.perf_counter() - started:.0f} s) and merged."
        )
    print("\n".join(text))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.md").write_text("\n".join(text) + "\n")
    (RESULTS / f"{args.out}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
