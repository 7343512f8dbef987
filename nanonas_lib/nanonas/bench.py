"""NanoBench: every architecture of the space, trained with nano_nas's own recipe, as a table.

The table ships inside the package (plain CSV + JSON metadata, no pickle):
  data/nanobench_runs.csv     one row per architecture and training seed
  data/nanobench_costs.csv    one row per architecture: parameters, MACs, latency, memory
  data/nanobench_meta.json    the recipe, versions, machine, date and build time
Rebuild it with `nanonas bench build`; check it against fresh training with `nanonas bench verify`.
"""

import csv
import itertools
import json
import multiprocessing
import platform
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .core import OPERATIONS, Task, accuracy, build_model, check_dna, decode, train
from .data import SPLIT_SEED, load_dataset
from .pareto import pareto_front

TABLE_DIR = Path(__file__).parent / "data"
RUNS, COSTS, META = "nanobench_runs.csv", "nanobench_costs.csv", "nanobench_meta.json"
RUN_FIELDS = ["dna", "seed", "val_accuracy", "test_accuracy", "train_loss", "train_seconds"]
COST_FIELDS = ["dna", "params", "macs", "latency_b1_ms", "latency_b256_ms", "peak_memory_mb"]
SEEDS = (0, 1, 2)
OBJECTIVES = ("val_accuracy", "test_accuracy", "params", "macs", "latency_b1_ms", "latency_b256_ms", "peak_memory_mb")


def dna_key(dna) -> str:
    return "-".join(map(str, dna))


def recipe(task: Task | None = None) -> dict:
    """The training recipe of one evaluation, as NanoBench records it."""
    task = task or Task(data=None)
    return {
        "dataset": "digits", "split_seed": SPLIT_SEED, "positions": task.positions, "ops": list(OPERATIONS),
        "channels": task.channels, "epochs": task.epochs, "optimizer": "Adam, cosine decay per epoch", "lr": task.lr,
        "batch_size": task.batch_size, "seeds": list(SEEDS), "torch_threads": 1,
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Building the table


def _init_worker():
    torch.set_num_threads(1)  # one core per worker: workers run side by side without fighting


def _train_one(job) -> dict:
    dna, seed = job
    task = replace(Task(load_dataset("digits")), seed=seed)
    t = time.perf_counter()
    model, loss = train(dna, task)
    seconds = time.perf_counter() - t
    return {
        "dna": dna_key(dna), "seed": seed, "val_accuracy": accuracy(model, *task.data.valid),
        "test_accuracy": accuracy(model, *task.data.test), "train_loss": loss, "train_seconds": seconds,
    }  # fmt: skip


def _measure_one(dna) -> dict:
    from .measure import count_macs, count_params, latency_ms, peak_memory_mb

    model, shape = build_model(dna), (1, 8, 8)
    return {
        "dna": dna_key(dna), "params": count_params(model), "macs": count_macs(model, shape),
        "latency_b1_ms": latency_ms(model, shape, 1), "latency_b256_ms": latency_ms(model, shape, 256),
        "peak_memory_mb": peak_memory_mb(model, shape, 256),
    }  # fmt: skip


def _read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _appender(path: Path, fields):
    new = not path.exists()
    f = path.open("a", newline="")
    writer = csv.DictWriter(f, fieldnames=fields)
    if new:
        writer.writeheader()
    return f, writer


def _fmt(row: dict) -> dict:
    return {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}


def build(out_dir=None, workers: int = 1, seeds=SEEDS, limit: int | None = None, progress: bool = True) -> Path:
    """Train every architecture for every seed, then measure its costs; resumable, rows written as they finish.

    An interrupted build loses at most the architectures in flight; running it again continues where it stopped.
    `limit` stops after that many new training runs (for tests and for building in pieces).
    """
    from tqdm.auto import tqdm

    out = Path(out_dir) if out_dir else TABLE_DIR
    out.mkdir(parents=True, exist_ok=True)
    if workers < 1:
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    positions = Task.positions
    space = [list(d) for d in itertools.product(range(len(OPERATIONS)), repeat=positions)]
    started = time.perf_counter()

    done = {(r["dna"], int(r["seed"])) for r in _read_rows(out / RUNS)}
    jobs = [(d, s) for d in space for s in seeds if (dna_key(d), s) not in done][:limit]
    f, writer = _appender(out / RUNS, RUN_FIELDS)
    bar = tqdm(total=len(jobs), desc="NanoBench: training", unit="run", disable=not progress)
    try:
        if workers == 1:
            _init_worker()
            results = map(_train_one, jobs)
        else:
            pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker)
            results = pool.imap_unordered(_train_one, jobs)
        for row in results:
            writer.writerow(_fmt(row))
            f.flush()  # each row is on disk as soon as it is trained
            bar.update(1)
    finally:
        f.close()
        bar.close()
        if workers > 1:
            pool.terminate()

    trained = {r["dna"] for r in _read_rows(out / RUNS)}
    measured = {r["dna"] for r in _read_rows(out / COSTS)}
    todo = [d for d in space if dna_key(d) in trained and dna_key(d) not in measured]
    f, writer = _appender(out / COSTS, COST_FIELDS)
    _init_worker()  # latency is measured on one core, with no training running beside it
    try:
        for d in tqdm(todo, desc="NanoBench: measuring", unit="arch", disable=not progress):
            writer.writerow(_fmt(_measure_one(d)))
            f.flush()
    finally:
        f.close()

    meta_path = out / META
    previous = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    runs = _read_rows(out / RUNS)
    meta = {
        "recipe": recipe(),
        "architectures": len({r["dna"] for r in runs}),
        "runs": len(runs),
        "complete": len(runs) == len(space) * len(seeds) and len(_read_rows(out / COSTS)) == len(space),
        "nanonas_version": _version(),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, {multiprocessing.cpu_count()} cores",
        "build_date": time.strftime("%Y-%m-%d"),
        "build_workers": workers if jobs else previous.get("build_workers", workers),  # of the training runs
        "build_wall_seconds": round(previous.get("build_wall_seconds", 0) + time.perf_counter() - started, 1),
        "train_seconds_total": round(sum(float(r["train_seconds"]) for r in runs), 1),
    }
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return out


def _version() -> str:
    from . import __version__

    return __version__


# ---------------------------------------------------------------------------------------------------------------
# Querying the table


class NanoBench:
    """The exhaustively trained table: query any DNA, find the exact optimum, the ranks and the Pareto front."""

    def __init__(self, records: dict, meta: dict):
        self.meta = meta
        self._records = records  # {dna tuple: record dict}
        self._order = sorted(records, key=lambda k: (-records[k]["val_accuracy"], k))  # best first
        self._rank = {}
        for i, k in enumerate(self._order):  # equal accuracy -> equal rank
            prev = self._order[i - 1] if i else None
            same = prev is not None and records[prev]["val_accuracy"] == records[k]["val_accuracy"]
            self._rank[k] = self._rank[prev] if same else i + 1

    @classmethod
    def load(cls, path=None) -> "NanoBench":
        """Load the shipped table (or one built into `path`)."""
        folder = Path(path) if path else TABLE_DIR
        hint = "rebuild it with `nanonas bench build`"
        try:
            meta = json.loads((folder / META).read_text())
            runs, costs = _read_rows(folder / RUNS), {r["dna"]: r for r in _read_rows(folder / COSTS)}
            if not runs:
                raise ValueError("no training runs")
            by_dna = {}
            for r in runs:
                by_dna.setdefault(r["dna"], []).append(r)
            records = {}
            for key, rows in by_dna.items():
                dna = tuple(int(i) for i in key.split("-"))
                rows.sort(key=lambda r: int(r["seed"]))
                per_seed = {k: [float(r[k]) for r in rows] for k in RUN_FIELDS[2:]}
                cost = costs.get(key, {})
                records[dna] = {
                    "dna": list(dna),
                    "ops": [meta["recipe"]["ops"][i] for i in dna],
                    "val_accuracy": statistics.fmean(per_seed["val_accuracy"]),
                    "test_accuracy": statistics.fmean(per_seed["test_accuracy"]),
                    "val_accuracy_std": statistics.pstdev(per_seed["val_accuracy"]),
                    "train_loss": statistics.fmean(per_seed["train_loss"]),
                    "train_seconds": statistics.fmean(per_seed["train_seconds"]),
                    "seeds": [int(r["seed"]) for r in rows],
                    "val_accuracies": per_seed["val_accuracy"],
                    "test_accuracies": per_seed["test_accuracy"],
                    "train_seconds_per_seed": per_seed["train_seconds"],
                    **{k: float(cost[k]) if k in cost else None for k in COST_FIELDS[1:]},
                }
        except FileNotFoundError as e:
            raise ValueError(f"NanoBench table not found ({e.filename}); {hint}") from e
        except (KeyError, ValueError, IndexError, json.JSONDecodeError) as e:
            raise ValueError(f"NanoBench table in {folder} is corrupted ({e}); {hint}") from e
        return cls(records, meta)

    # -- the basics
    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self):
        """Every record, best first (by mean validation accuracy)."""
        return (dict(self._records[k]) for k in self._order)

    def __contains__(self, dna) -> bool:
        return tuple(dna) in self._records

    def __repr__(self) -> str:
        m = self.meta
        return f"NanoBench({len(self)} architectures, {m['runs']} training runs, recipe={m['recipe']['epochs']} epochs)"

    @property
    def positions(self) -> int:
        return self.meta["recipe"]["positions"]

    def _get(self, dna) -> dict:
        try:
            return self._records[tuple(check_dna(dna, self.positions))]
        except KeyError:
            raise ValueError(f"{dna!r} is not in this NanoBench table (was it built completely?)") from None

    def query(self, dna) -> dict:
        """Everything known about one architecture: mean and per-seed scores, training cost, costs to run it."""
        return dict(self._get(dna))

    def best(self, metric: str = "val_accuracy") -> dict:
        """The global optimum by mean validation accuracy (or by another metric to maximise)."""
        if metric == "val_accuracy":
            return dict(self._records[self._order[0]])
        return dict(max(self._records.values(), key=lambda r: r[metric]))

    def top(self, n: int = 10) -> list[dict]:
        return [dict(self._records[k]) for k in self._order[:n]]

    def rank(self, dna) -> int:
        """1 for the best architecture; equal accuracy, equal rank."""
        self._get(dna)
        return self._rank[tuple(dna)]

    def percentile(self, dna) -> float:
        """Share of the space (in %) that this architecture beats or equals."""
        acc = self._get(dna)["val_accuracy"]
        return 100 * sum(r["val_accuracy"] <= acc for r in self._records.values()) / len(self)

    def regret(self, dna, metric: str = "test_accuracy") -> float:
        """How far below the global optimum (chosen by validation) this architecture lands, on `metric`."""
        return self.best()[metric] - self._get(dna)[metric]

    def array(self, metric: str) -> np.ndarray:
        return np.array([r[metric] for r in self], dtype=float)

    # -- many objectives
    def pareto_front(self, maximize=("val_accuracy",), minimize=("latency_b1_ms",)) -> list[dict]:
        """The exact Pareto front: every architecture no other one beats on all objectives at once."""
        for m in (*maximize, *minimize):
            if m not in OBJECTIVES:
                raise ValueError(f"unknown objective {m!r}; choose from: {', '.join(OBJECTIVES)}")
        records = list(self)
        points = np.array([[r[m] for m in maximize] + [-r[m] for m in minimize] for r in records], dtype=float)
        return [records[i] for i in pareto_front(points)]

    # -- searching on the table
    def evaluator(self, seed: int = 0) -> "BenchEvaluator":
        return BenchEvaluator(self, seed)

    def check_task(self, task: Task) -> None:
        """Raise a ValueError unless `task` trains architectures the way this table was built."""
        r, ours = self.meta["recipe"], recipe(task)
        differ = [k for k in ("positions", "ops", "channels", "epochs", "lr", "batch_size") if r[k] != ours[k]]
        if task.data is not None and task.data.name != r["dataset"]:
            differ.insert(0, "dataset")
        if differ:
            raise ValueError(
                f"NanoBench was built with {', '.join(f'{k}={r[k]!r}' for k in differ)}; this search differs in "
                f"{', '.join(differ)}. Use evaluator='train' for real training, or rebuild the table."
            )


class BenchEvaluator:
    """Fitness from the table: one seed's validation accuracy per lookup, drawn reproducibly.

    `cost` adds up the training seconds real evaluation would have taken; `evaluations` counts lookups.
    """

    def __init__(self, bench: NanoBench, seed: int = 0):
        self.bench, self.rng = bench, random.Random(seed)
        self.cost, self.evaluations = 0.0, 0

    def __call__(self, dna) -> float:
        record = self.bench._get(dna)
        i = self.rng.randrange(len(record["val_accuracies"]))  # the noise of real training stays in the picture
        self.cost += record["train_seconds_per_seed"][i]
        self.evaluations += 1
        return record["val_accuracies"][i]


def verify(samples: int = 5, seed: int = 0, bench: NanoBench | None = None, progress: bool = True) -> list[dict]:
    """Retrain `samples` architectures with the recorded recipe and seeds; report how far each lands from the table."""
    from tqdm.auto import tqdm

    bench = bench or NanoBench.load()
    rng = random.Random(seed)
    keys = rng.sample(sorted(bench._records), min(samples, len(bench)))
    torch.set_num_threads(bench.meta["recipe"].get("torch_threads", 1))
    data, report = load_dataset("digits"), []
    for key in tqdm(keys, desc="NanoBench: verifying", disable=not progress):
        record = bench.query(key)
        for s, recorded in zip(record["seeds"], record["val_accuracies"]):
            model, _ = train(list(key), replace(Task(data), seed=s))
            fresh = accuracy(model, *data.valid)
            report.append({"dna": list(key), "ops": decode(key), "seed": s, "table": recorded, "fresh": fresh,
                           "difference": fresh - recorded})  # fmt: skip
    return report
