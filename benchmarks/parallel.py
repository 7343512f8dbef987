"""Parallel evaluation: measured on this machine, then simulated past it.

    python benchmarks/parallel.py                 # everything (~10 min on 2 busy cores); writes results/parallel.md
    python benchmarks/parallel.py --part timing   # only evolution 20x10 with workers=1, workers=2, the old default
    python benchmarks/parallel.py --part timing --population-size 8 --generations 3   # a smaller one
    python benchmarks/parallel.py --part overhead # only the per-evaluation overhead of the pool and of local Ray
    python benchmarks/parallel.py --part simulate # only the replay simulation (seconds)

timing: `nano_nas('evolution', population_size=20, generations=10, seed=3)` with real training, run side by side in
one process, one after the other: workers=1 (one process, one thread), workers=2 (the new default on 2 cores: two
processes, one thread each) and the old default (one process, torch's own thread count). Ratios are taken within
the run, since the machine's load changes from minute to minute; the load average is printed before and after.

overhead: a no-op evaluation sent to a worker and back, one at a time (latency) and many at once (throughput), for
the local pool and for a local Ray; plus what it costs to start each.

simulate: replays measured training times (NanoBench's 1,875 one-thread trainings) through the real strategy code
and the real `Pool` window logic on a simulated clock, to predict wall time and worker utilisation of synchronous
evolution (a barrier each generation) and asynchronous regularized evolution (N children in flight) at 8, 32 and
128 workers, for digits and for a CIFAR-10 search. Its assumptions are printed with the numbers.
"""

import argparse
import heapq
import json
import os
import random
import resource
import statistics
import time
from collections import deque
from pathlib import Path

import nanonas
from nanonas import core, parallel
from nanonas.bench import NanoBench
from nanonas.data import load_dataset
from nanonas.strategies.regularized_evolution import regularized_evolution

RESULTS = Path(__file__).parent / "results"
EVOLUTION = {"seed": 3, "progress": False}


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# -- timing ------------------------------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children (the workers, once joined)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def timing(population_size: int, generations: int) -> dict:
    size = {"population_size": population_size, "generations": generations}
    task = core.Task(load_dataset("digits"), seed=EVOLUTION["seed"])

    def old_default():  # what nano_nas did before: train in this process with torch's threads
        with parallel.torch_threads(parallel.cores()):
            return nanonas.nano_nas("evolution", evaluator=lambda dna: core.evaluate(dna, task), **EVOLUTION, **size)

    runs = {
        "workers=1 (one process, one thread)": lambda: nanonas.nano_nas("evolution", workers=1, **EVOLUTION, **size),
        "workers=2 (two processes, one thread each)": lambda: nanonas.nano_nas(
            "evolution", workers=2, **EVOLUTION, **size
        ),
        f"old default (one process, {parallel.cores()} threads)": old_default,
    }
    rows, before = {}, load()
    for name, run in runs.items():
        start, cpu = time.perf_counter(), cpu_seconds()
        result = run().search
        rows[name] = {"wall_s": time.perf_counter() - start, "search_s": result.wall_time, "dna": result.dna}
        rows[name]["cpu_s"] = cpu_seconds() - cpu  # CPU time is what a busy machine cannot distort much
        rows[name]["evaluations"], rows[name]["val_accuracy"] = result.evaluations, result.val_accuracy
        print(name, rows[name], flush=True)
    return {"load_before": before, "load_after": load(), "runs": rows, **size}


# -- overhead ------------------------------------------------------------------------------------------------------


def no_op(dna, task):
    return 0.0


def _ray_no_op(dna):
    return 0.0


def overhead(n: int = 200) -> dict:
    task = core.Task(load_dataset("digits"))
    dnas = [[i % 5, i // 5 % 5, i // 25 % 5, i // 125 % 5] for i in range(n)]
    out = {}

    real = parallel.evaluate
    parallel.evaluate = no_op  # forked workers inherit the no-op
    try:
        pool = parallel.LocalPool(task, 2)
        start = time.perf_counter()
        pool.start(dnas[0])
        pool.evaluate(dnas[0])
        out["local pool: start 2 workers + first evaluation (ms)"] = 1e3 * (time.perf_counter() - start)
        start = time.perf_counter()
        for dna in dnas:
            pool.start(dna)
            pool.evaluate(dna)
        out["local pool: one evaluation there and back (ms)"] = 1e3 * (time.perf_counter() - start) / n
        start = time.perf_counter()
        list(pool.map(pool.evaluate, dnas))
        out["local pool: per evaluation, many in flight (ms)"] = 1e3 * (time.perf_counter() - start) / n
        pool.close()
    finally:
        parallel.evaluate = real

    try:
        import ray  # noqa: F401
    except ImportError:
        print("Ray is not installed: pip install 'nanonas[ray]'")
        return out
    start = time.perf_counter()
    try:
        workers = parallel.RayWorkers(parallel._start_worker, (task, None), _ray_no_op, workers=2)
    except Exception as e:  # Ray gives its raylet 30 s to start; a machine busy enough misses that
        print(f"local Ray did not start: {e}")
        return out
    out["local Ray: ray.init(num_cpus=2) (ms)"] = 1e3 * (time.perf_counter() - start)
    start = time.perf_counter()
    workers.get(workers.submit(dnas[0]))
    out["local Ray: first task (a worker starts, the data arrives) (ms)"] = 1e3 * (time.perf_counter() - start)
    for dna in dnas[:20]:  # both workers warm
        workers.get(workers.submit(dna))
    start = time.perf_counter()
    for dna in dnas:
        workers.get(workers.submit(dna))
    out["local Ray: one evaluation there and back (ms)"] = 1e3 * (time.perf_counter() - start) / n
    start = time.perf_counter()
    list(workers.as_completed(dnas))
    out["local Ray: per evaluation, many in flight (ms)"] = 1e3 * (time.perf_counter() - start) / n
    workers.close()
    return out


# -- simulation -------------------------------------------------------------------------------------------------


class SimulatedPool(parallel.Pool):
    """The real `Pool.map` window on a simulated clock: `start` queues a training on the worker free first,
    `evaluate` advances the clock to when that training ends. FIFO, as ProcessPoolExecutor and Ray hand out work."""

    remote = True

    def __init__(self, workers: int, seconds, score, overhead_s: float):
        super().__init__()
        self.workers, self.seconds, self.score, self.overhead = workers, seconds, score, overhead_s
        self.free = [0.0] * workers  # when each worker is next free (a heap)
        self.now = self.busy = 0.0

    def _submit(self, dna):
        begins = max(self.now, heapq.heappop(self.free))
        ends = begins + self.seconds(dna) + self.overhead
        heapq.heappush(self.free, ends)
        self.busy += ends - begins
        return ends

    def _collect(self, dna, ends):
        self.now = max(self.now, ends)
        return self.score(dna)

    def _evaluate_now(self, dna):
        return self._collect(dna, self._submit(dna))


IDEAL = "regularized evolution, results as they finish (not in nanonas)"


def as_completed_evolution(pool: SimulatedPool, task, population_size: int, evaluations: int, sample_size=10):
    """Real et al.'s asynchronous variant as they ran it: each child joins when *it* finishes, and the freed worker
    at once trains a child of the population as it is then. Not reproducible (it follows the clock), so nanonas
    collects in proposal order instead; this bounds what that costs."""
    rng, fitness, population, running = random.Random(task.seed), {}, deque(), []  # running: (ends, n, dna)

    def launch(dna):
        heapq.heappush(running, (pool._submit(dna), len(fitness) + len(running), dna))

    for _ in range(population_size):
        launch(core.random_dna(rng, task.positions))
    while running:
        pool.now, _, dna = heapq.heappop(running)  # the next training to finish
        fitness[tuple(dna)] = pool.score(dna)
        population.append(dna)
        if len(population) > population_size:
            population.popleft()
        if len(fitness) + len(running) < evaluations and len(fitness) >= min(population_size, sample_size):
            parent = max(rng.sample(list(population), min(sample_size, len(population))), key=pool.score)
            child = core.mutate(parent, rng)
            for _ in range(100):
                if tuple(child) not in fitness and all(tuple(child) != tuple(r[2]) for r in running):
                    break
                child = core.mutate(parent, rng)
            launch(child)
    return fitness


def simulate(overhead_s: float, positions: int = 8, rounds: int = 10, seeds=range(3)) -> dict:
    """Wall time and utilisation of synchronous evolution vs asynchronous regularized evolution, replayed."""
    bench, half = NanoBench.load(), 4
    records = {tuple(r["dna"]): r for r in bench}
    # CIFAR-10's cost of a training relative to digits': MACs per image x training images. The stem's conv sees 3
    # channels at 32x32 (48x its digits MACs), every later layer 32x32 instead of 8x8 (16x); heads and BN ignored.
    stem = 1 * 16 * 9 * 8 * 8  # the digits stem conv's MACs per image
    macs = {d: (16 * (r["macs"] - stem) + 48 * stem) / r["macs"] * 50_000 / 1078 for d, r in records.items()}

    def seconds_of(dataset):
        def seconds(dna):  # two digits architectures in a chain: the mean of their measured one-thread trainings
            parts = [tuple(dna[:half]), tuple(dna[half:])]
            run = sum(dna) % 3  # which seed's training time: one of the three measured
            times = [
                records[p]["train_seconds_per_seed"][run] * (macs[p] if dataset == "cifar10" else 1) for p in parts
            ]
            return sum(times) / 2

        return seconds

    def score(dna):
        return sum(records[p]["val_accuracy"] for p in (tuple(dna[:half]), tuple(dna[half:]))) / 2

    rows = []
    for dataset in ("digits", "cifar10"):
        seconds = seconds_of(dataset)
        for workers in (8, 32, 128):
            population = 2 * workers  # evolution: `workers` children each generation, so no worker idles by design
            evaluations = population + rounds * workers
            for name in ("evolution (synchronous)", "regularized evolution (asynchronous)", IDEAL):
                walls, utils, serial = [], [], []
                for seed in seeds:
                    pool = SimulatedPool(workers, seconds, score, overhead_s)
                    fitness = nanonas.Fitness(pool.evaluate, pool.map)
                    task = core.Task(None, positions=positions, seed=seed)
                    if name.startswith("evolution"):
                        core.evolution(fitness, task, population_size=population, generations=rounds)
                    elif name == IDEAL:
                        fitness = as_completed_evolution(pool, task, population, evaluations)
                    else:
                        regularized_evolution(fitness, task, population_size=population, evaluations=evaluations)
                    walls.append(pool.now)
                    utils.append(pool.busy / (workers * pool.now))
                    serial.append(sum(seconds(list(d)) for d in fitness))
                rows.append(
                    {
                        "dataset": dataset,
                        "workers": workers,
                        "search": name,
                        "evaluations": evaluations,
                        "wall_h": statistics.fmean(walls) / 3600,
                        "speedup": statistics.fmean(s / w for s, w in zip(serial, walls)),
                        "utilisation": statistics.fmean(utils),
                    }
                )
                print(rows[-1], flush=True)
    return {"overhead_s": overhead_s, "rows": rows}


ASSUMPTIONS = """\
Assumptions. Each evaluation's training time is replayed from NanoBench's 1,875 measured one-thread trainings
(digits, 10 epochs): the simulated space chains two digits architectures (8 positions; fitness = the mean of their
table accuracies, time = the mean of their measured times for one of the three seeds), so a search meets slow and
fast architectures as it would. CIFAR-10 scales each time by MACs per image (stem 48x, later layers 16x at 32x32)
times training images (50,000 / 1,078): the same recipe, about 9 minutes a training on one core; data loading,
augmentation and larger networks are ignored. Workers never fail and all run at the same speed; work goes to the
first free worker in the order started (as ProcessPoolExecutor and Ray hand it out); every evaluation pays the
per-evaluation overhead above. Evolution has a population of 2N and N children a generation (no idle worker by
design), 10 generations; regularized evolution the same population and budget. The strategies and the `Pool`
window are nanonas's own code, on a simulated clock; the third row of each group is Real et al.'s fully
asynchronous variant (each child joins when it finishes), which nanonas does not run because its result follows
the clock. Speed-up: the sum of all training times over the simulated wall time. Mean of 3 seeds."""


def markdown(results: dict) -> str:
    lines = ["# Parallel evaluation (benchmarks/parallel.py)", ""]
    if "timing" in results:
        t = results["timing"]
        runs = t["runs"]
        base = next(iter(runs.values()))["search_s"]
        size = f"{t['population_size']}x{t['generations']}"
        lines += [f"## evolution {size}, seed 3, real training ({t['load_before']} before, {t['load_after']} after)"]
        lines += ["", "| run | search wall (s) | vs workers=1 | CPU (s) | found DNA | val accuracy |"]
        lines += ["|---|---|---|---|---|---|"]
        for name, r in runs.items():
            row = f"| {name} | {r['search_s']:.1f} | {base / r['search_s']:.2f}x | {r['cpu_s']:.1f} | {r['dna']} | "
            lines.append(row + f"{r['val_accuracy']:.2%} |")
        lines.append("")
    if "overhead" in results:
        lines += ["## overhead of a no-op evaluation", "", "| what | ms |", "|---|---|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in results["overhead"].items()]
        lines.append("")
    if "simulate" in results:
        s = results["simulate"]
        lines += [
            f"## replay simulation (per-evaluation overhead {1e3 * s['overhead_s']:.1f} ms, {s['overhead_from']})",
            "",
            "| data | workers | search | evaluations | wall | speed-up vs 1 worker | utilisation |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in s["rows"]:
            wall = f"{r['wall_h']:.1f} h" if r["wall_h"] >= 1 else f"{3600 * r['wall_h']:.0f} s"
            lines.append(
                f"| {r['dataset']} | {r['workers']} | {r['search']} | {r['evaluations']} | {wall} | "
                f"{r['speedup']:.1f}x | {r['utilisation']:.0%} |"
            )
        lines += ["", ASSUMPTIONS, ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["all", "timing", "overhead", "simulate", "report"], default="all")
    parser.add_argument("--population-size", type=int, default=20, help="timing: evolution's population (20)")
    parser.add_argument("--generations", type=int, default=10, help="timing: evolution's generations (10)")
    args = parser.parse_args()
    path, new = RESULTS / "parallel.json", {}
    read = lambda: json.loads(path.read_text()) if path.exists() else {}
    if args.part in ("all", "timing"):
        new["timing"] = timing(args.population_size, args.generations)
    if args.part in ("all", "overhead"):
        new["overhead"] = overhead()
    if args.part in ("all", "simulate"):
        measured = {**read(), **new}.get("overhead", {})
        ray_ms = measured.get("local Ray: one evaluation there and back (ms)")
        new["simulate"] = simulate(overhead_s=(ray_ms or 5.0) / 1e3)
        new["simulate"]["overhead_from"] = "local Ray, measured" if ray_ms else "assumed: Ray not measured yet"
    results = {**read(), **new}  # the parts not run this time are kept from earlier runs
    path.write_text(json.dumps(results, indent=1) + "\n")
    (RESULTS / "parallel.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
