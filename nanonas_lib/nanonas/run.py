"""`nano_nas` and what it does around a strategy: check the options, load the data, pick the evaluator, show
progress, keep the result. The strategies themselves live in core.py and strategies/; this file knows none by name.
"""

import math
import time

import torch

from . import measure, parallel, registry, strategies  # noqa: F401  (importing strategies registers the ones beyond core)
from .cells import EDGES, SPACES
from .core import OPERATIONS, Task, accuracy, decode, train
from .data import DATASETS, load_dataset
from .fitness import Fitness
from .registry import Strategy
from .result import SearchResult

COMMON = {  # options every strategy takes, with their defaults
    "seed": 0,
    "dataset": "digits",
    "download": False,  # opt in to downloading a torchvision dataset
    "train_size": None,  # keep this many training images (a stratified sample: MNIST or CIFAR-10 on a CPU); None: all
    "device": None,  # 'cpu', 'cuda', or None for automatic
    "evaluator": "train",  # 'train' (real training), 'bench' (NanoBench lookups), or a callable dna -> fitness
    "train_epochs": Task.epochs,  # the training budget of one evaluation
    "channels": Task.channels,
    "positions": Task.positions,  # a chain's; a cell has one op per edge (cells.EDGES: 6)
    "space": "chain",  # 'chain' (ops in a row) or 'cell' (a 4-node graph, nanonas.cells): cells.SPACES
    "progress": True,
    "workers": None,  # real training: DNAs trained side by side, one process and one thread each; None: one per core
    "executor": "local",  # where the workers run: 'local' (processes here) or 'ray' (a local Ray, or a cluster)
    "address": None,  # executor='ray' only: None starts a local Ray; 'auto' or 'ray://host:10001' joins a cluster
}
MINIMUM = {"population_size": 2}  # parents and children need two at least; every other count needs one


def check_option(name: str, value, default):
    """Return the value if it has the kind its default has, else raise a ValueError that says what is allowed."""
    if default is None or callable(default):  # a hook, e.g. DARTS's on_epoch
        if value is not None and not callable(value):
            raise ValueError(f"{name} must be a function or None; got {value!r}")
    elif isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False; got {value!r}")
    elif isinstance(default, int):
        least = MINIMUM.get(name, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            kind = "a positive integer" if least == 1 else f"an integer of at least {least}"
            raise ValueError(f"{name} must be {kind}; got {value!r}")
    elif isinstance(default, float):
        most = 1 if name.endswith("rate") else math.inf  # a rate is a probability
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= most:
            kind = "a number in [0, 1]" if most == 1 else "a non-negative number"
            raise ValueError(f"{name} must be {kind}; got {value!r}")
        value = float(value)
    elif isinstance(default, tuple):
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ValueError(f"{name} must be a list or tuple, like {default!r}; got {value!r}")
        value = tuple(value)
    return value


def check_options(strategy: Strategy, options: dict) -> tuple[dict, dict]:
    """Split options into (common, strategy-specific), defaults filled in; raise ValueError on bad input."""
    own = strategy.options
    unknown = sorted(set(options) - set(COMMON) - set(own))
    if unknown:
        allowed = ", ".join([*own, *COMMON])
        raise ValueError(f"{strategy.name} does not take {', '.join(unknown)}; it takes: {allowed}")
    common = {k: options.get(k, v) for k, v in COMMON.items()}
    if len(OPERATIONS) < 2:  # one op, one architecture: nothing to search (and no other op to mutate to)
        raise ValueError(f"a search needs at least 2 ops in OPERATIONS; it holds {list(OPERATIONS)}")
    own = {k: check_option(k, options.get(k, v), v) for k, v in own.items()}
    for name in ("train_epochs", "channels", "positions", "download", "progress"):
        check_option(name, common[name], COMMON[name])
    for name in ("workers", "train_size"):  # None, or a count
        if common[name] is not None:
            check_option(name, common[name], 1)
    if common["executor"] not in parallel.EXECUTORS:
        raise ValueError(f"unknown executor {common['executor']!r}; choose one of: {', '.join(parallel.EXECUTORS)}")
    address, executor = common["address"], common["executor"]
    if address is not None and (executor != "ray" or not isinstance(address, str)):
        got = f"{address!r} with executor={executor!r}"
        raise ValueError(f"address is a Ray address ('auto' or 'ray://host:10001') for executor='ray'; got {got}")
    if common["space"] not in SPACES:
        raise ValueError(f"unknown space {common['space']!r}; choose one of: {', '.join(SPACES)}")
    if common["space"] == "cell" and "positions" in options and common["positions"] != len(EDGES):
        raise ValueError(
            f"a cell has {len(EDGES)} edges, so its DNA has {len(EDGES)} positions; got {common['positions']}"
        )
    if common["dataset"] not in DATASETS:
        raise ValueError(f"unknown dataset {common['dataset']!r}; choose one of: {', '.join(DATASETS)}")
    if not isinstance(common["seed"], int) or isinstance(common["seed"], bool):
        raise ValueError(f"seed must be an integer; got {common['seed']!r}")
    return common, own


def resolve_device(device) -> str:
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"unknown device {device!r}; choose 'cpu', 'cuda' or None (automatic)")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} is not available on this machine; use device='cpu' or None")
    return str(device)


class MeasuredCosts(dict):
    """An architecture's costs (measure.COSTS), each measured here on first use: {'params': ..., 'macs': ...}."""

    NAMES = tuple(measure.COSTS)

    def __init__(self, model, input_shape):
        super().__init__()
        self.model, self.input_shape = model, input_shape

    def __missing__(self, name):
        self[name] = measure.COSTS[name](self.model, self.input_shape)  # an unknown name: a KeyError, as in a dict
        return self[name]


class Run:
    """One search in progress: its task, its evaluator wrapped in a Fitness, a progress bar, a clock.

    Real training runs on a pool of workers (parallel.py) whose `map` the Fitness uses; `map_fn` replaces it.
    """

    def __init__(self, strategy: str, options: dict, map_fn=None):
        self.strategy = registry.get(strategy)
        common, self.strategy_options = check_options(self.strategy, options)
        self.options, self.interrupted = {**common, **self.strategy_options}, False
        self.options.pop("on_epoch", None)  # a hook, not a setting: it is not saved with the result
        device = resolve_device(common["device"])
        data = load_dataset(common["dataset"], download=common["download"], train_size=common["train_size"]).to(device)
        if common["space"] == "cell":
            common["positions"] = self.options["positions"] = len(EDGES)
        self.task = Task(data, common["positions"], common["channels"], common["train_epochs"], seed=common["seed"])
        self.task.build_model = SPACES[common["space"]]
        self.task.device = self.options["device"] = device
        self.pool = None  # real training: the workers; lookups and your own evaluator run here
        self.ops = None  # a table with ops of its own (NB201's): the search runs with them in OPERATIONS
        self.bench, self.kind = self._evaluator(common["evaluator"])
        if self.bench is not None:
            self._on_table(self.bench, "positions" in options)
        self.options["evaluator"] = self.kind
        self.bar = self._progress(common["progress"])
        self.extra = {}
        if self.strategy.unit == "epoch":  # it reports through on_epoch: record what each epoch ended with
            self.extra = {"alphas": [], "derived": [], "train_loss": [], "valid_loss": []}
            self.strategy_options["on_epoch"] = self._on_epoch(self.strategy_options.get("on_epoch"))
        self.fitness = Fitness(self._counted(self.evaluate), map_fn or (self.pool.map if self.pool else map))
        self.fitness.costs, self.fitness.cost_names = self._costs()
        self.started = time.perf_counter()

    def _evaluator(self, evaluator):
        """Set self.evaluate (dna -> fitness); return (the NanoBench it looks up, or None) and its kind."""
        if isinstance(evaluator, str) and evaluator == "train":  # on workers, one thread each, like NanoBench
            o = self.options
            self.pool = parallel.pool(self.task, o["workers"], o["executor"], o["address"])
            self.evaluate = self.pool.evaluate
            if o["executor"] == "local":
                o["workers"] = self.pool.workers  # how many there were, for the result
            return None, "train"
        if self.options["train_size"] is not None:  # a table was trained on the whole set; your evaluator has its own
            raise ValueError("train_size is for real training (evaluator='train'); this evaluator does not train here")
        if isinstance(evaluator, str) and evaluator == "bench":
            from .bench import NanoBench

            name = self.task.data.name
            evaluator = NanoBench.load() if name == "digits" else NanoBench.load(name)
        if any(c.__name__ == "NanoBench" for c in type(evaluator).__mro__):  # a table (or NB201's): one seed's
            self.evaluate = evaluator.evaluator(seed=self.task.seed)  # accuracy per lookup, seeded by the search
            return evaluator, "bench"
        if hasattr(evaluator, "bench") and callable(evaluator):  # a table's own evaluator, e.g. bench.evaluator(3)
            self.evaluate = evaluator
            return evaluator.bench, "bench"
        if callable(evaluator):
            self.evaluate = lambda dna: float(evaluator(dna))
            return None, "custom"
        raise ValueError(f"unknown evaluator {evaluator!r}; choose 'train', 'bench', or a function dna -> fitness")

    def _on_table(self, bench, positions_given: bool) -> None:
        """Check that the search runs on the table's space; a table with its own ops (NB201) sets the space."""
        if getattr(bench, "constructors", None) is not None:
            self.ops, self.task.build_model = bench.constructors, SPACES[bench.meta["recipe"]["space"]]
            if not positions_given:
                self.task.positions = self.options["positions"] = bench.positions
            self.task.bench = bench  # proxies.for_task reads the table's own proxy values
        if self.strategy.unit == "epoch" and not getattr(bench, "trainable", True):
            raise ValueError(
                f"{self.strategy.name} trains on the data, and {bench!r} has none here: use a strategy "
                "that evaluates architectures (random, evolution, regularized_evolution, ...)"
            )
        bench.check_task(self.task)

    def _costs(self):
        """What an architecture costs: NanoBench's columns when the search looks up a table, else measured here."""
        if self.bench is not None:
            names = getattr(self.bench, "cost_names", tuple(measure.COSTS))
            return getattr(self.bench, "costs", self.bench.query), names
        data, cache = self.task.data, {}
        shape = (data.in_channels, data.image_size, data.image_size)

        def costs(dna):
            if tuple(dna) not in cache:
                model = self.task.build_model(dna, self.task.channels, data.in_channels, data.num_classes)
                cache[tuple(dna)] = MeasuredCosts(model, shape)
            return cache[tuple(dna)]

        return costs, MeasuredCosts.NAMES

    def _progress(self, show: bool):
        if not show:
            return None
        from tqdm.auto import tqdm  # a widget in notebooks, a text bar in terminals

        total = self.strategy.expected(self.strategy_options)
        if total is not None and self.strategy.unit == "eval":
            total = min(total, len(OPERATIONS) ** self.task.positions)
        return tqdm(total=total, desc=self.strategy.name, unit=self.strategy.unit, leave=True)

    def _counted(self, evaluate):
        def counted(dna):
            fitness = evaluate(dna)
            if self.bar is not None and self.strategy.unit == "eval":
                best = max([fitness, *self.fitness.values()])
                self.bar.set_postfix(best=f"{best:.2%}", refresh=False)
                self.bar.update(1)
            return fitness

        return counted

    def _on_epoch(self, user_callback):
        def on_epoch(epoch, weights, dna, train_loss, valid_loss):
            self.extra["alphas"].append(weights.tolist())
            self.extra["derived"].append(list(dna))
            self.extra["train_loss"].append(train_loss)
            self.extra["valid_loss"].append(valid_loss)
            if self.bar is not None:
                self.bar.set_postfix(arch="-".join(decode(dna)), refresh=False)
                self.bar.update(1)
            if user_callback:
                user_callback(epoch, weights, dna, train_loss, valid_loss)

        return on_epoch

    def search(self) -> "Run":
        """Run the strategy; Ctrl-C (or a hook raising KeyboardInterrupt) stops it and keeps what it found."""
        from .bench import using_ops

        try:
            with using_ops(self.ops or OPERATIONS):
                self.extra.update(self.strategy.run(self.fitness, self.task, **self.strategy_options) or {})
        except KeyboardInterrupt:
            self.interrupted = True  # keep the best-so-far and the history
        finally:
            if self.pool is not None:
                self.pool.close()  # every worker stops here, busy or not
        return self

    def search_cost(self, wall: float) -> float:
        """Seconds of compute the search paid for: its wall time, plus what table lookups would cost to train."""
        return wall + getattr(self.evaluate, "cost", 0.0)  # NanoBench adds the training seconds it saved

    def finish(self) -> torch.nn.Module:
        """The result object, and a freshly initialised model of the best DNA carrying it."""
        wall = time.perf_counter() - self.started
        if self.bar is not None:
            self.bar.close()
        if not self.fitness:
            raise KeyboardInterrupt("the search was interrupted before it evaluated any architecture")
        best, fitness = max(self.fitness.items(), key=lambda h: h[1])  # the first of equals
        best = list(best)
        if self.bench is not None:
            test = self.bench.query(best)["test_accuracy"]
        elif self.kind == "train":
            with parallel.one_thread():  # trained as the workers train it: the number NanoBench has
                test = accuracy(train(best, self.task)[0], *self.task.data.test)  # once, for the final pick
        else:
            test = None
        if self.fitness.populations:
            self.extra["populations"] = self.fitness.populations
        if self.fitness.parents:
            self.extra["parents"] = [[list(c), list(p)] for c, p in self.fitness.parents.items()]
        from .bench import using_ops

        torch.manual_seed(self.task.seed)
        data = self.task.data
        with using_ops(self.ops or OPERATIONS):
            names = decode(best)
            model = self.task.build_model(best, self.task.channels, data.in_channels, data.num_classes)
        result = SearchResult(
            strategy=self.strategy.name,
            dna=best,
            ops=names,
            val_accuracy=fitness,
            test_accuracy=test,
            history=[{"dna": list(d), "fitness": f} for d, f in self.fitness.items()],
            wall_time=wall,
            search_cost=self.search_cost(wall),
            seed=self.task.seed,
            options=dict(self.options),
            interrupted=self.interrupted,
            extra=self.extra,
        )
        model.search = result
        return model


def nano_nas(strategy="evolution", **options) -> torch.nn.Module:
    """Search with a registered strategy; return a freshly initialised network of the best DNA (`.dna`, `.search`).

    Strategies: `nanonas.STRATEGIES` (random, evolution, regularized_evolution, darts, nsga2, ...); each one's
    options are its keyword defaults: `nanonas.STRATEGIES['evolution'].options`.
    """
    return Run(strategy, options).search().finish()
