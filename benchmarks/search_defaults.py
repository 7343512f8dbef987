"""Does the searcher the README recommends win at its defaults? Paired seeds against random search, regularized
evolution and both of Optuna's TPE samplers, on every table, at 25 / 50 / 100 / 200 evaluations.

Definitions are benchmarks/search_efficiency.py's own (imported, not copied): each lookup draws one training seed's
validation accuracy; regret@N is the regret, in percentage points of mean validation accuracy below the optimum,
of the architecture a search RETURNS after N evaluations (the best fitness it saw); "evaluations to top 1%" is the
number of evaluations until a true top-1% architecture has been evaluated (runs go on past the last budget until
it is). Every searcher runs with the same seeds, so seed s of one is paired with seed s of another: the report gives
each mean regret, and for the default against every rival the mean paired difference, wins / ties / losses and
Wilcoxon's signed-rank p (two-sided). A proxy's cost, measured against one training
(benchmarks/results/proxies.json), is reported in evaluations beside it, as in benchmarks/guided_search.py.

Optuna's TPE (pip install -e '.[bench]') sees one categorical choice per position, exactly as search_efficiency.py
runs it, once univariate (Optuna's default) and once `TPESampler(multivariate=True, group=True)`; a repeated DNA is
looked up for free and not counted, up to 5 x 200 trials. (Optuna 5 made the multivariate sampler its default;
the univariate one is asked for with `multivariate=False`.) The univariate sampler runs through
search_efficiency's faster path (the same proposals); before it runs on a table, a short run (50 distinct DNAs) through
both paths must give the same history, or nothing is recorded.

Resumable: every finished run is written to results/search_defaults.json at once; run the command again to go on.

    .venv/bin/python benchmarks/search_defaults.py                    # 50 seeds per searcher and table
    .venv/bin/python benchmarks/search_defaults.py --seeds 10 --tables digits --only defaults TPE
    .venv/bin/python benchmarks/search_defaults.py --report                     # rewrite the .md from the .json
"""

import argparse
import fcntl
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scipy.stats import wilcoxon

sys.path.insert(0, str(Path(__file__).parent))
from guided_search import RESULTS, proxy_fractions, run_guided  # noqa: E402  (same definitions)
from search_efficiency import BUDGETS, run_optuna, run_ours, top_percent  # noqa: E402

from nanonas import nano_nas  # noqa: E402
from nanonas.bench import NanoBench  # noqa: E402
from nanonas.data import load_dataset  # noqa: E402
from nanonas.registry import STRATEGIES  # noqa: E402
from nanonas.strategies.bananas import PAPER  # noqa: E402

DEFAULT = "bananas (defaults)"
TPE = {  # Optuna >= 5 samples multivariate when `multivariate` is left out: univariate is asked for by name
    "TPE (univariate)": {"multivariate": False},
    "TPE (multivariate, group)": {"multivariate": True, "group": True},
}
SEARCHERS = {  # label -> (strategy, options); the options on top of evaluations=the whole space
    DEFAULT: ("bananas", {}),
    "bananas (paper: MLP ensemble, no proxy)": ("bananas", PAPER),
    "bananas (ridge + synflow, the old recommendation)": (
        "bananas",
        {"predictor": "ridge", "proxy": "synflow", "batch": 5, "candidates": 100, "pool": "mutations"},
    ),
    "bananas (ridge + synflow, 2 per step, mutations only)": (
        "bananas",
        {"predictor": "ridge", "proxy": "synflow", "batch": 2, "candidates": 100, "pool": "mutations"},
    ),
    "random": ("random", {}),
    "regularized evolution": ("regularized_evolution", {}),
    **{label: ("tpe", options) for label, options in TPE.items()},
}
OUT = RESULTS / "search_defaults.json"
NB201 = "nb201"
SHARED = str(Path(__file__).resolve().parents[2] / "shared" / "nb201")  # the course's copy, beside the repository


def budgets(table: str) -> tuple:
    return (10, *BUDGETS) if table == NB201 else BUDGETS


def one_run(bench: NanoBench, name: str, data, label: str, seed: int, top: set, fractions: dict) -> dict:
    """One seeded run of a searcher: its regret at every budget, when it first met the top 1%, its proxy's cost.
    On NB201 (noise-free lookups of validation accuracy) the regret is in test accuracy, as NB201's Table 5 reports,
    runs stop at 200 evaluations, and proxy costs are unknown (the tables carry no times)."""
    strategy, options = SEARCHERS[label]
    scored, proxy, nb201 = [0], "", name == NB201
    if strategy == "tpe":
        history = run_optuna(bench, seed, max(BUDGETS), **options)
    elif nb201:
        result = nano_nas(strategy, evaluator=bench, seed=seed, progress=False, **options, evaluations=max(BUDGETS))
        history = [(tuple(h["dna"]), h["fitness"]) for h in result.search.history]
        if {**STRATEGIES[strategy].options, **options}.get("proxy"):
            scored = [math.nan]  # a proxy's computations cost something the tables do not say; no proxy costs 0
    elif "proxy" in STRATEGIES[strategy].options:
        options = {**options, "evaluations": len(bench)}
        proxy = options.get("proxy", STRATEGIES[strategy].options["proxy"])
        history, scored = run_guided(bench, data, strategy, options, seed, top)
    else:
        history = run_ours(bench, strategy, {**options, "evaluations": len(bench)}, seed, top)
    metric = "test_accuracy" if nb201 else "val_accuracy"
    best, returned = bench.best()[metric], {}
    for budget in budgets(name):
        pick = max(history[:budget], key=lambda h: h[1])[0]  # what the search returns: the best it saw
        returned[str(budget)] = 100 * bench.query(list(pick))[metric]
    regret = {b: 100 * best - accuracy for b, accuracy in returned.items()}
    first = next((i + 1 for i, (dna, _) in enumerate(history) if dna in top), None)
    proxy_cost = math.ceil(scored[-1] * fractions[proxy]) if proxy else scored[-1]
    run = {"regret": regret, "evaluations_to_top1%": first, "proxy_cost_in_evaluations": proxy_cost}
    return {**run, "test_accuracy": returned} if nb201 else run


def top_cells(bench: NanoBench, name: str) -> set:
    """The true top 1% by validation accuracy, ties in (search_efficiency.top_percent, without a rank per cell)."""
    if name != NB201:
        return top_percent(bench)
    val = {tuple(r["dna"]): r["val_accuracy"] for r in bench}
    cut = sorted(val.values(), reverse=True)[len(val) // 100 - 1]
    return {dna for dna, v in val.items() if v >= cut}


def table(name: str, nb201_path: str) -> NanoBench:
    return NanoBench.load(name, path=nb201_path) if name == NB201 else NanoBench.load(name)


def load() -> dict:
    return json.loads(OUT.read_text()) if OUT.exists() else {}


def record(table: str, label: str, seed: int, run: dict) -> dict:
    """Add one run to the results file, under a lock (several processes may fill it side by side); all results."""
    with open(Path(tempfile.gettempdir()) / "search_defaults.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = load()
        results.setdefault(table, {}).setdefault(label, {})[str(seed)] = run
        OUT.with_suffix(".tmp").write_text(json.dumps(results, indent=0) + "\n")
        OUT.with_suffix(".tmp").replace(OUT)
    return results


def check_fast_tpe(bench: NanoBench, name: str, seed: int = 0) -> None:
    """The faster univariate TPE must evaluate what Optuna's own code does, in the same order (50 distinct DNAs)."""
    fast, optuna = (run_optuna(bench, seed, 50, fast=fast) for fast in (True, False))
    if fast != optuna:
        raise SystemExit(f"{name}: the fast univariate TPE differs from Optuna's own; run with fast=False")


def run(tables: list, seeds: int, only, nb201_path: str) -> dict:
    results, fractions = load(), proxy_fractions()
    for name in tables:
        bench = table(name, nb201_path)
        data = None if name == NB201 else load_dataset(bench.meta["recipe"]["dataset"])
        top = top_cells(bench, name)
        for label in SEARCHERS:
            if only and not any(word in label for word in only):
                continue
            done, t = results.get(name, {}).get(label, {}), time.perf_counter()
            todo = [s for s in range(seeds) if str(s) not in done]
            if todo and SEARCHERS[label] == ("tpe", TPE["TPE (univariate)"]):
                check_fast_tpe(bench, name)
            for seed in todo:
                results = record(name, label, seed, one_run(bench, name, data, label, seed, top, fractions))
            if todo:
                print(
                    f"{name}, {label}: {len(todo)} runs, {(time.perf_counter() - t) / len(todo):.2f} s each", flush=True
                )
    return results


def paired(a: list, b: list) -> tuple:
    """Mean difference a - b (negative: a is better), wins, ties and losses of a, Wilcoxon's two-sided p."""
    d = [x - y for x, y in zip(a, b)]
    wins, ties = sum(x < -1e-9 for x in d), sum(abs(x) <= 1e-9 for x in d)
    p = wilcoxon(a, b).pvalue if wins + (len(d) - wins - ties) else 1.0
    return statistics.fmean(d), wins, ties, len(d) - wins - ties, p


def verdict(label: str, seeds: int, by_budget: dict) -> str:
    """Where the defaults' paired mean regret is below a rival's, where they lose more seeds than they win."""
    listed = lambda budgets: ", ".join(map(str, budgets)) or "none"
    lower = [b for b, (d, *_) in by_budget.items() if d < 0]
    text = f"- Against {label}, over {seeds} paired seeds, the defaults' mean regret is lower at "
    text += f"every budget ({listed(lower)})" if len(lower) == len(by_budget) else f"{listed(lower)} evaluations only"
    lost = [b for b, (_, wins, _, losses, _) in by_budget.items() if losses > wins]
    text += f"; they lose more seeds than they win at {listed(lost)}" if lost else ""
    clear = [b for b, (d, *_, p) in by_budget.items() if d < 0 and p < 0.05]
    return text + f"; lower with Wilcoxon p < 0.05 at: {listed(clear)}."


def mean(runs: list, key: str, budget: int) -> str:
    return f"{statistics.fmean(r[key][str(budget)] for r in runs):.2f}"


def report(results: dict) -> list[str]:
    lines = []
    for name, rows in results.items():
        labels, bs = [label for label in SEARCHERS if label in rows], budgets(name)
        accuracy = [f"test accuracy @{b}" for b in (50, 100)] if name == NB201 else []
        head = ["searcher", "seeds", *(f"regret@{b}" for b in bs), *accuracy, "median evals to top 1%", "proxy cost"]
        lines += [f"### {name}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for label in labels:
            runs = list(rows[label].values())
            firsts = [r["evaluations_to_top1%"] or math.inf for r in runs]
            cells = [label, str(len(runs)), *(mean(runs, "regret", b) for b in bs)]
            cells += [mean(runs, "test_accuracy", b) for b in (50, 100)] if accuracy else []
            cells += [f"{statistics.median(firsts):g}"]
            cells += [f"{statistics.fmean(r['proxy_cost_in_evaluations'] for r in runs):.1f}"]
            lines.append("| " + " | ".join(cells) + " |")
        head = ["the defaults against", "paired seeds", *(f"@{b}: mean difference (W/T/L, p)" for b in bs)]
        lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        verdicts = []
        for label in labels:
            if label == DEFAULT or DEFAULT not in rows:
                continue
            seeds = [s for s in rows[DEFAULT] if s in rows[label]]
            ours, theirs = [rows[DEFAULT][s] for s in seeds], [rows[label][s] for s in seeds]
            regrets = lambda runs, b: [r["regret"][str(b)] for r in runs]
            by_budget = {b: paired(regrets(ours, b), regrets(theirs, b)) for b in bs}
            cells = [f"{d:+.2f} ({w}/{t}/{lo}, p = {p:.2g})" for d, w, t, lo, p in by_budget.values()]
            lines.append("| " + " | ".join([label, str(len(seeds)), *cells]) + " |")
            verdicts += [verdict(label, len(seeds), by_budget)] if label in TPE else []
        lines += ["", *verdicts, ""]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--tables", nargs="+", default=None, help="default: digits, digits_variations and nb201")
    parser.add_argument("--only", nargs="+", default=None, help="run only the searchers whose label has one word")
    parser.add_argument("--nb201", default=os.environ.get("NANONAS_NB201", SHARED), help="NB201's tables")
    parser.add_argument("--report", action="store_true", help="run nothing: rewrite the .md from the .json")
    args = parser.parse_args()
    tables = args.tables or ["digits", "digits_variations", *([NB201] if Path(args.nb201).is_dir() else [])]
    if args.tables is None and NB201 not in tables:
        print(f"NB201 skipped: its tables are not in {args.nb201} (--nb201 PATH, or $NANONAS_NB201)")
    if not args.report:
        run(tables, args.seeds, args.only, args.nb201)
    results = load()
    defaults = {k: v for k, v in STRATEGIES["bananas"].options.items()}
    text = [
        "Does the recommended searcher win at its defaults? Regret in percentage points (lower is better) of the "
        "returned architecture's mean validation accuracy on the chain tables, of its CIFAR-10 test accuracy on NB201 "
        "(to 94.37; selected by validation); paired seeds; a difference is the defaults minus the rival, with the "
        "defaults' wins / ties / losses and Wilcoxon's two-sided p. Proxy cost: the proxy's computations, in "
        "evaluations (nan on NB201: its tables carry no times).",
        f"`bananas` defaults: {defaults}.",
        "",
        *report(results),
        "Generated by `python benchmarks/search_defaults.py` (resumable: `--seeds N` runs seeds 0 to N - 1 where "
        "missing; the seeds column says how many each row has).",
    ]
    print("\n".join(text))
    (RESULTS / "search_defaults.md").write_text("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
