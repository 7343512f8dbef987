"""NanoBench: every architecture of a space, trained with nano_nas's own recipe, as a table.

A table is a folder of plain CSV + JSON (no pickle); the shipped ones live in the package, one folder each:
  nanobench/<name>/runs.csv    one row per architecture and training seed
  nanobench/<name>/costs.csv   one row per architecture: parameters, MACs, latency, memory
  nanobench/<name>/meta.json   the recipe (dataset, ops, positions, training), versions, machine, date, build time
`build` (or `nanonas bench build`) makes one for any ops, number of positions, dataset, recipe and seeds;
`NanoBench.load("digits_variations")` or `NanoBench.load("my/folder")` loads one; `verify` retrains samples.
"""

import csv
import inspect
import itertools
import json
import multiprocessing
import platform
import random
import statistics
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import torch

from . import measure
from .cells import EDGES, SPACES
from .core import OPERATIONS, Task, accuracy, check_dna, decode, dna_from_key, dna_key, train
from .data import DATASETS, SPLIT_SEED, VARIATIONS, VARIATIONS_SEED, Dataset, load_dataset
from .parallel import EXECUTORS, LocalWorkers, RayWorkers, can_fork, one_thread, torch_threads
from .pareto import pareto_front
from .version import __version__

TABLES = Path(__file__).parent / "nanobench"  # the tables that ship with nanonas, one folder each
DEFAULT_TABLE = "digits"
RUNS, COSTS, META = "runs.csv", "costs.csv", "meta.json"
RUN_FIELDS = ["dna", "seed", "val_accuracy", "test_accuracy", "train_loss", "train_seconds"]
COST_FIELDS = ["dna", *measure.COSTS]
SEEDS = (0, 1, 2)
OBJECTIVES = ("val_accuracy", "test_accuracy", *measure.COSTS)
RECIPE_KEYS = ("dataset", "space", "positions", "ops", "channels", "epochs", "lr", "batch_size")  # a search must match


def tables(space: str | None = None) -> list[str]:
    """The names of the tables that ship with nanonas (`NanoBench.load(name)` loads one); `space='chain'` or
    `'cell'` keeps those of one space (the chain tables are the ones every lesson searches)."""
    if space is not None and space not in SPACES:
        raise ValueError(f"unknown space {space!r}; choose one of: {', '.join(SPACES)}")
    names = sorted(p.name for p in TABLES.iterdir() if (p / META).exists()) if TABLES.exists() else []
    if space is None:
        return names
    return [n for n in names if _recipe_of(json.loads((TABLES / n / META).read_text()))["space"] == space]


def recipe(task: Task | None = None, ops=None, seeds=SEEDS) -> dict:
    """The training recipe of one evaluation, as NanoBench records it."""
    task = task or Task(data=None)
    return {
        "dataset": task.data.name if task.data is not None else "digits",
        "space": space_of(task),
        "split_seed": SPLIT_SEED,
        "positions": task.positions,
        "ops": list(OPERATIONS if ops is None else ops),
        "channels": task.channels,
        "epochs": task.epochs,
        "optimizer": "Adam, cosine decay per epoch",
        "lr": task.lr,
        "batch_size": task.batch_size,
        "seeds": sorted(seeds),
        "torch_threads": 1,
    }


def space_of(task: Task) -> str:
    """The name of the space a task's networks come from ('chain' or 'cell'), from its `build_model`."""
    for name, make in SPACES.items():
        if task.build_model is make:
            return name
    raise ValueError(f"a NanoBench space builds its networks with one of: {', '.join(SPACES)} ({SPACES})")


def _recipe_of(meta: dict) -> dict:
    """A table's recipe; tables built before cells existed are chains."""
    return {"space": "chain", **meta["recipe"]}


@contextmanager
def using_ops(ops: dict):
    """Build, decode and train with these ops for a while: OPERATIONS holds them, then its old contents again."""
    if list(ops.items()) == list(OPERATIONS.items()):
        yield
        return
    saved = dict(OPERATIONS)
    OPERATIONS.clear()
    OPERATIONS.update(ops)  # in place: build_model, check_dna and decode read this very dict
    try:
        yield
    finally:
        OPERATIONS.clear()
        OPERATIONS.update(saved)


def _resolve_ops(ops) -> dict:
    """None -> today's OPERATIONS; a list of names -> those of OPERATIONS; a dict -> its own constructors."""
    if ops is None:
        ops = dict(OPERATIONS)
    elif isinstance(ops, (list, tuple)) and all(isinstance(n, str) and n in OPERATIONS for n in ops):
        ops = {n: OPERATIONS[n] for n in ops}
    elif isinstance(ops, dict) and all(isinstance(n, str) and callable(f) for n, f in ops.items()):
        ops = dict(ops)
    else:
        raise ValueError(
            f"ops must be a list of names from OPERATIONS ({', '.join(OPERATIONS)}) or a dict name -> "
            f"constructor(channels); got {ops!r}"
        )
    if not ops or (isinstance(ops, dict) and len(set(ops)) != len(ops)):
        raise ValueError("ops must name at least one operation")
    return ops


def _source(make) -> str:
    """How an op is built, for the table's metadata: its source line when Python can find it."""
    try:
        return " ".join(inspect.getsource(make).split())[:300]
    except (OSError, TypeError):
        return repr(make)


# ---------------------------------------------------------------------------------------------------------------
# Building a table

_WORKER = {}  # what a worker process trains with: the ops, the recipe, the data


def _init_worker(ops, spec: dict, data) -> None:
    _WORKER.update(ops=ops if ops is not None else {n: OPERATIONS[n] for n in spec["ops"]}, spec=spec, data=data)


def _task(spec: dict, data, seed: int) -> Task:
    make = SPACES[spec.get("space", "chain")]
    return Task(
        data, spec["positions"], spec["channels"], spec["epochs"], spec["lr"], spec["batch_size"], seed, "cpu", make
    )


def _train_one(job) -> dict:
    dna, seed = job
    task = _task(_WORKER["spec"], _WORKER["data"] or load_dataset(_WORKER["spec"]["dataset"]), seed)
    with using_ops(_WORKER["ops"]):
        t = time.perf_counter()
        model, loss = train(dna, task)
        seconds = time.perf_counter() - t
        return {
            "dna": dna_key(dna),
            "seed": seed,
            "val_accuracy": accuracy(model, *task.data.valid),
            "test_accuracy": accuracy(model, *task.data.test),
            "train_loss": loss,
            "train_seconds": seconds,
        }


def measure_costs(dna, channels: int, data: Dataset, space: str = "chain") -> dict:
    model, shape = SPACES[space](dna, channels, data.in_channels, data.num_classes), tuple(data.train[0].shape[1:])
    return {"dna": dna_key(dna), **{name: cost(model, shape) for name, cost in measure.COSTS.items()}}


def _read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _complete_rows(path: Path, fields) -> list[dict]:
    """The rows of a table file, without a last line cut short when a build was killed mid-write."""

    def whole(row):
        try:
            return all(row.get(k) not in (None, "") for k in fields) and [float(row[k]) for k in fields[1:]]
        except ValueError:
            return False

    rows = _read_rows(path)
    good = [r for r in rows if whole(r)]
    if len(good) != len(rows):  # rewrite the file with the whole rows only
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(good)
    return good


def _appender(path: Path, fields):
    new = not path.exists()
    f = path.open("a", newline="")
    writer = csv.DictWriter(f, fieldnames=fields)
    if new:
        writer.writeheader()
    return f, writer


def _fmt(row: dict) -> dict:
    return {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}


def _describe(data: Dataset) -> dict:
    info = {
        "name": data.name,
        "input_shape": list(data.train[0].shape[1:]),
        "classes": data.num_classes,
        **{k: len(getattr(data, k)[0]) for k in ("train", "valid", "test")},
    }
    if data.name == "digits_variations":
        info["variations"] = {"seed": VARIATIONS_SEED, **VARIATIONS}
    return info


def _copy_costs(source, spec: dict, data: Dataset) -> dict:
    """Cost rows of another table whose networks are the same as this one's (same ops, positions, channels, input)."""
    theirs = NanoBench.load(source)
    r, d = _recipe_of(theirs.meta), theirs.meta.get("data", {})
    same = all(r[k] == spec[k] for k in ("space", "positions", "ops", "channels"))
    same = same and d.get("input_shape") == _describe(data)["input_shape"] and d.get("classes") == data.num_classes
    if not same:
        raise ValueError(f"costs_from={source!r}: that table's networks differ from this one's; measure instead")
    return {r["dna"]: r for r in _read_rows(theirs.folder / COSTS)}


def _workers(workers: int, ops: dict, spec: dict, data) -> LocalWorkers:
    """Worker processes (parallel.py's), one torch thread each; forked where the platform can (ops written in a
    notebook travel), else spawned with what a fresh process can rebuild: OPERATIONS' own ops, offline data by name."""
    if can_fork():
        return LocalWorkers(_init_worker, (ops, spec, data), _train_one, workers, fork=True)
    unknown = [n for n, f in ops.items() if OPERATIONS.get(n) is not f]
    if unknown:
        raise ValueError(f"ops {unknown} are not in OPERATIONS; on this platform build them with workers=1")
    by_name = data.name in DATASETS and DATASETS[data.name].offline
    return LocalWorkers(_init_worker, (None, spec, None if by_name else data), _train_one, workers, fork=False)


def build(
    out=None,
    *,
    dataset="digits",
    space: str = "chain",
    ops=None,
    positions: int | None = None,
    channels: int = Task.channels,
    epochs: int = Task.epochs,
    lr: float = Task.lr,
    batch_size: int = Task.batch_size,
    seeds=SEEDS,
    workers: int = 1,
    executor: str = "local",
    address=None,
    limit: int | None = None,
    architectures=None,
    costs_from=None,
    progress: bool = True,
) -> Path:
    """Train every architecture of a space for every seed, then measure its costs, into the folder `out`.

    The space is `ops` (default: today's OPERATIONS, with any op you added; or a list of their names; or a dict
    name -> constructor(channels)) at `positions` positions (default 4) of a chain, or on the 6 edges of a cell
    (`space='cell'`, nanonas.cells: 15,625 cells, so train a sample with `architectures=`); the recipe is
    nano_nas's unless you change it.
    Resumable: rows are written as they finish, and building again into the same folder continues where it
    stopped (or adds seeds). `limit` stops after that many new training runs, `architectures` (a list of DNAs)
    trains only those for now: two ways to build in pieces, the most useful first.
    `costs_from` copies costs from a table of the same networks instead of measuring them again.
    `executor='ray'` trains on Ray tasks instead of local processes (a local Ray, or the cluster at `address`).
    Default `out`: the package's table for `dataset`.
    """
    from tqdm.auto import tqdm

    ops = _resolve_ops(ops)
    if space not in SPACES:
        raise ValueError(f"unknown space {space!r}; choose one of: {', '.join(SPACES)}")
    positions = positions or (len(EDGES) if space == "cell" else Task.positions)
    if space == "cell" and positions != len(EDGES):
        raise ValueError(f"a cell has {len(EDGES)} edges, so its DNA has {len(EDGES)} positions; got {positions}")
    sizes = {"positions": positions, "channels": channels, "epochs": epochs, "batch_size": batch_size}
    for name, value in {**sizes, "workers": workers}.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of: {', '.join(EXECUTORS)}")
    seeds = sorted({int(s) for s in seeds})
    if not seeds:
        raise ValueError("seeds must name at least one training seed")
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    out = Path(out) if out else TABLES / (data.name if space == "chain" else f"{data.name}_{space}s")
    task = Task(data, positions, channels, epochs, lr, batch_size, build_model=SPACES[space])
    previous = json.loads((out / META).read_text()) if (out / META).exists() else {}
    spec = recipe(task, ops, sorted(set(seeds) | set(previous.get("recipe", {}).get("seeds", []))))
    if previous:
        was_recipe = _recipe_of(previous)
        differ = [k for k in RECIPE_KEYS if was_recipe[k] != spec[k]]
        if differ:
            was = ", ".join(f"{k}={was_recipe[k]!r}" for k in differ)
            raise ValueError(f"{out} holds a table built with {was}; build this one into another folder (out=...)")
    out.mkdir(parents=True, exist_ok=True)
    space_dnas = [list(d) for d in itertools.product(range(len(ops)), repeat=positions)]
    if architectures is None and space != "chain":  # a sample of a big space: what was asked for before, or say so
        if not previous.get("sample"):
            raise ValueError(
                f"a {space} space has {len(space_dnas):,} architectures: give architectures= (a sample, e.g. "
                f"cells.stratified_sample(45); on the command line --sample 45)"
            )
        architectures = [dna_from_key(key) for key in previous["sample"]]
    wanted = space_dnas if architectures is None else [list(d) for d in architectures]
    if any(len(d) != positions or not all(isinstance(i, int) and 0 <= i < len(ops) for i in d) for d in wanted):
        raise ValueError(f"architectures must be DNAs of {positions} op indices in 0..{len(ops) - 1}")
    # what the table is to hold: a chain, its whole space; a cell, every sample asked for so far
    planned = [*previous.get("sample", []), *map(dna_key, wanted)] if space != "chain" else map(dna_key, space_dnas)
    planned = list(dict.fromkeys(planned))
    started = time.perf_counter()

    def write_meta(workers_used):
        runs, costs = _read_rows(out / RUNS), _read_rows(out / COSTS)
        meta = {
            "recipe": spec,
            "data": _describe(data),
            "ops_source": {n: _source(f) for n, f in ops.items()},
            "architectures": len({r["dna"] for r in runs}),
            "runs": len(runs),
            "complete": _complete(planned, runs, costs, spec["seeds"]),
            "nanonas_version": __version__,
            "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, {multiprocessing.cpu_count()} cores",
            "build_date": time.strftime("%Y-%m-%d"),
            "build_workers": workers_used,  # of the training runs
            "build_wall_seconds": round(previous.get("build_wall_seconds", 0) + time.perf_counter() - started, 1),
            "train_seconds_total": round(sum(float(r["train_seconds"]) for r in runs), 1),
            "costs": previous.get("costs", "measured on one core, nothing else training"),
        }
        if space != "chain":  # a sample of the space: which architectures it holds, in the order they were asked for
            meta["sample"] = planned
        if costs_from is not None:
            meta["costs"] = f"copied from the table {costs_from!r}: the same networks on the same input shape"
        (out / META).write_text(json.dumps(meta, indent=1) + "\n")

    done = {(r["dna"], int(r["seed"])) for r in _complete_rows(out / RUNS, RUN_FIELDS)}
    # seed by seed: a table stopped half-way still covers the whole space, with fewer seeds
    jobs = [(d, s) for s in seeds for d in wanted if (dna_key(d), s) not in done][:limit]
    used = workers if jobs else previous.get("build_workers", workers)
    if jobs or not previous:
        write_meta(used)  # the recipe is on disk before the first row
    f, writer = _appender(out / RUNS, RUN_FIELDS)
    bar = tqdm(total=len(jobs), desc="NanoBench: training", unit="run", disable=not progress)
    pool, here = None, ExitStack()  # workers, or this process on one thread as a worker trains
    try:
        if executor == "ray":  # Ray tasks, one CPU each; the ops, recipe and data reach each worker once
            pool = RayWorkers(_init_worker, (ops, spec, data), _train_one, workers, address)
        elif workers > 1 and len(jobs) > 1:
            pool = _workers(workers, ops, spec, data)
        else:
            here.enter_context(one_thread())
            _init_worker(ops, spec, data)
        results = map(_train_one, jobs) if pool is None else pool.as_completed(jobs)
        last = time.perf_counter()
        for row in results:
            writer.writerow(_fmt(row))
            f.flush()  # each row is on disk as soon as it is trained
            bar.update(1)
            if time.perf_counter() - last > 60:  # the metadata keeps up, so a killed build still counts its time
                write_meta(used)
                last = time.perf_counter()
    finally:
        f.close()
        bar.close()
        here.close()
        if pool is not None:
            pool.close()

    trained = {r["dna"] for r in _read_rows(out / RUNS)}
    measured = {r["dna"] for r in _complete_rows(out / COSTS, COST_FIELDS)}
    todo = [d for d in planned if d in trained and d not in measured]  # planned: DNA keys, in the order asked
    todo = [dna_from_key(d) for d in todo]
    copied = _copy_costs(costs_from, spec, data) if costs_from is not None and todo else {}
    f, writer = _appender(out / COSTS, COST_FIELDS)
    try:  # latency is measured on one core, with no training running beside it
        with one_thread(), using_ops(ops):
            for d in tqdm(todo, desc="NanoBench: measuring", unit="arch", disable=not progress):
                row = copied.get(dna_key(d)) or _fmt(measure_costs(d, channels, data, space))
                writer.writerow({k: row[k] for k in COST_FIELDS})
                f.flush()
    finally:
        f.close()
    if jobs or todo or not previous:  # a finished table keeps its date, machine and versions
        write_meta(used)
    return out


def _complete(planned, runs, costs, seeds) -> bool:
    """Has every planned architecture been trained with every seed, and measured?"""
    done = {(r["dna"], int(r["seed"])) for r in runs}
    measured = {r["dna"] for r in costs}
    return all((d, s) in done for d in planned for s in seeds) and all(d in measured for d in planned)


# ---------------------------------------------------------------------------------------------------------------
# Querying the table


def folder(table) -> Path:
    """A shipped table's name ('digits', 'digits_variations') or the folder of a built one."""
    if table is None:
        table = DEFAULT_TABLE
    if isinstance(table, str) and (TABLES / table / META).exists():
        return TABLES / table
    folder = Path(table)
    if isinstance(table, str) and not folder.exists() and len(folder.parts) == 1:
        raise ValueError(
            f"no NanoBench table named {table!r}; the shipped ones are: {', '.join(tables())}. Pass the folder "
            f"of one you built, or build one with `nanonas bench build --dataset {table} --out DIR`"
        )
    return folder


class NanoBench:
    """The exhaustively trained table: query any DNA, find the exact optimum, the ranks and the Pareto front."""

    def __init__(self, records: dict, meta: dict, folder: Path | None = None):
        self.meta, self.folder = meta, folder
        self._records = records  # {dna tuple: record dict}
        self._order = sorted(records, key=lambda k: (-records[k]["val_accuracy"], k))  # best first
        self._rank = {}
        for i, k in enumerate(self._order):  # equal accuracy -> equal rank
            prev = self._order[i - 1] if i else None
            same = prev is not None and records[prev]["val_accuracy"] == records[k]["val_accuracy"]
            self._rank[k] = self._rank[prev] if same else i + 1

    tables = staticmethod(tables)  # NanoBench.tables("chain"): the shipped tables' names

    @classmethod
    def load(cls, table=None, **nb201) -> "NanoBench":
        """Load a shipped table by name (default 'digits'; see `tables()`) or one built into a folder; 'nb201':
        NAS-Bench-201's published tables (nb201.py; options path=, download=, mirror=)."""
        if table == "nb201":
            from .nb201 import load

            return load(**nb201)
        if nb201:
            raise ValueError(f"{', '.join(nb201)}: options of NanoBench.load('nb201') only")
        where = folder(table)
        hint = "rebuild it with `nanonas bench build`"
        try:
            meta = json.loads((where / META).read_text())
            runs, costs = _read_rows(where / RUNS), {r["dna"]: r for r in _read_rows(where / COSTS)}
            if not runs:
                raise ValueError("no training runs")
            by_dna = {}
            for r in runs:
                by_dna.setdefault(r["dna"], []).append(r)
            records = {}
            for key, rows in by_dna.items():
                dna = tuple(dna_from_key(key))
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
            raise ValueError(f"NanoBench table in {where} is corrupted ({e}); {hint}") from e
        return cls(records, meta, where)

    # -- the basics
    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self):
        """Every record, best first (by mean validation accuracy)."""
        return (dict(self._records[k]) for k in self._order)

    def __contains__(self, dna) -> bool:
        return tuple(dna) in self._records

    def __repr__(self) -> str:
        m, r = self.meta, self.meta["recipe"]
        return (
            f"NanoBench({r['dataset']!r}, {len(self)} architectures, {m['runs']} training runs, {r['epochs']} epochs)"
        )

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
    def evaluator(self, seed: int = 0, mean: bool = False) -> "BenchEvaluator":
        """Fitness from this table: one seed's accuracy per lookup (as noisy as training), or the mean of all seeds."""
        return BenchEvaluator(self, seed, mean)

    def check_task(self, task: Task) -> None:
        """Raise a ValueError unless `task` trains architectures the way this table was built."""
        r, ours = _recipe_of(self.meta), recipe(task)
        differ = [k for k in RECIPE_KEYS if r[k] != ours[k] and (k != "dataset" or task.data is not None)]
        if differ:
            raise ValueError(
                f"NanoBench was built with {', '.join(f'{k}={r[k]!r}' for k in differ)}; this search differs in "
                f"{', '.join(differ)}. Use evaluator='train' for real training, or rebuild the table."
            )


class BenchEvaluator:
    """Fitness from the table: one seed's validation accuracy per lookup, drawn reproducibly (or, with `mean=True`,
    the mean over the table's seeds: a noise-free fitness, for lessons that compare with the exact answer).

    `cost` adds up the training seconds real evaluation would have taken; `evaluations` counts lookups.
    """

    def __init__(self, bench: NanoBench, seed: int = 0, mean: bool = False):
        self.bench, self.rng, self.mean = bench, random.Random(seed), mean
        self.cost, self.evaluations = 0.0, 0

    def __call__(self, dna) -> float:
        record = self.bench._get(dna)
        self.evaluations += 1
        if self.mean:
            self.cost += sum(record["train_seconds_per_seed"])  # every seed's training
            return record["val_accuracy"]
        i = self.rng.randrange(len(record["val_accuracies"]))  # the noise of real training stays in the picture
        self.cost += record["train_seconds_per_seed"][i]
        return record["val_accuracies"][i]


def verify(samples: int = 5, seed: int = 0, bench: NanoBench | None = None, progress: bool = True) -> list[dict]:
    """Retrain `samples` architectures with the recorded recipe and seeds; report how far each lands from the table."""
    from tqdm.auto import tqdm

    bench = bench or NanoBench.load()
    r = bench.meta["recipe"]
    missing = [n for n in r["ops"] if n not in OPERATIONS]
    if missing:
        raise ValueError(f"this table was built with ops that OPERATIONS lacks: {', '.join(missing)}; add them first")
    keys = random.Random(seed).sample(sorted(bench._records), min(samples, len(bench)))
    data, report = load_dataset(r["dataset"]), []
    with torch_threads(r.get("torch_threads", 1)), using_ops({n: OPERATIONS[n] for n in r["ops"]}):
        for key in tqdm(keys, desc="NanoBench: verifying", disable=not progress):
            record = bench.query(key)
            for s, recorded in zip(record["seeds"], record["val_accuracies"]):
                model, _ = train(list(key), _task(r, data, s))
                fresh = accuracy(model, *data.valid)
                report.append(
                    {
                        "dna": list(key),
                        "ops": decode(key),
                        "seed": s,
                        "table": recorded,
                        "fresh": fresh,
                        "difference": fresh - recorded,
                    }
                )
    return report
