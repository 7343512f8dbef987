"""How fast NanoBench answers: loading the table, 1,000 queries, and a 200-evaluation search on it.

python benchmarks/bench_speed.py     # targets: load <= 100 ms, 1,000 queries <= 10 ms, search well under 1 s
"""

import itertools
import statistics
import time

from nanonas import nano_nas
from nanonas.bench import NanoBench


def best_of(fn, repeats=5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main():
    load = best_of(NanoBench.load)
    bench = NanoBench.load()
    dnas = [list(d) for d in itertools.product(range(5), repeat=4)]
    queries = best_of(lambda: [bench.query(dnas[i % 625]) for i in range(1000)])
    nano_nas("regularized_evolution", evaluations=200, evaluator=bench, progress=False)  # warm-up
    search = best_of(lambda: nano_nas("regularized_evolution", evaluations=200, evaluator=bench, progress=False))
    search_loading = best_of(
        lambda: nano_nas("evolution", population_size=20, generations=18, evaluator="bench", progress=False)
    )
    rows = {
        "NanoBench.load()": load,
        "1,000 bench.query calls": queries,
        "200-evaluation regularized evolution on a loaded table": search,
        "200-evaluation evolution, evaluator='bench' (loads the table)": search_loading,
    }
    print("| what | best (ms) | median (ms) |\n|---|---|---|")
    for name, (best, median) in rows.items():
        print(f"| {name} | {1000 * best:.1f} | {1000 * median:.1f} |")


if __name__ == "__main__":
    main()
