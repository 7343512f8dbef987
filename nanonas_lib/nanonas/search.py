"""The plumbing behind `nano_nas`: check options, load data, pick an evaluator, show progress, keep the result."""

import inspect
import time

import torch

from . import core
from .core import History, Task, accuracy, build_model, decode, train
from .data import DATASETS, load_dataset
from .result import SearchResult

COMMON = {  # options every strategy takes, with their defaults
    "seed": 0,
    "dataset": "digits",
    "download": False,  # opt in to downloading a torchvision dataset
    "device": None,  # 'cpu', 'cuda', or None for automatic
    "evaluator": "train",  # 'train' (real training), 'bench' (NanoBench lookups), or a callable dna -> fitness
    "train_epochs": Task.epochs,  # the training budget of one evaluation
    "channels": Task.channels,
    "positions": Task.positions,
    "progress": True,
}
POSITIVE_INTS = {"population_size", "generations", "tournament_size", "sample_size", "evaluations", "epochs"}
POSITIVE_INTS |= {"train_epochs", "channels", "positions"}


def strategy_defaults(strategy: str) -> dict:
    """The options a strategy takes beyond the common ones, with their defaults."""
    if strategy not in core.STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of: {', '.join(core.STRATEGIES)}")
    params = list(inspect.signature(core.STRATEGIES[strategy]).parameters.values())[2:]  # after fitness, task
    return {p.name: p.default for p in params}


def resolve_device(device) -> str:
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"unknown device {device!r}; choose 'cpu', 'cuda' or None (automatic)")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} is not available on this machine; use device='cpu' or None")
    return str(device)


def check_options(strategy: str, options: dict) -> tuple[dict, dict]:
    """Split options into (common, strategy-specific), defaults filled in; raise ValueError on bad input."""
    own = strategy_defaults(strategy)
    unknown = sorted(set(options) - set(COMMON) - set(own))
    if unknown:
        allowed = ", ".join([*own, *COMMON])
        raise ValueError(f"{strategy} does not take {', '.join(unknown)}; it takes: {allowed}")
    common = {k: options.get(k, v) for k, v in COMMON.items()}
    own = {k: options.get(k, v) for k, v in own.items()}
    for name, value in {**common, **own}.items():
        if name in POSITIVE_INTS and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if own.get("population_size", 2) < 2:
        raise ValueError("population_size must be at least 2 (parents and children)")
    rate = own.get("mutation_rate")
    if rate is not None and not (isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0 <= rate <= 1):
        raise ValueError(f"mutation_rate must be a number in [0, 1]; got {rate!r}")
    if common["dataset"] not in DATASETS:
        raise ValueError(f"unknown dataset {common['dataset']!r}; choose one of: {', '.join(DATASETS)}")
    if not isinstance(common["seed"], int) or isinstance(common["seed"], bool):
        raise ValueError(f"seed must be an integer; got {common['seed']!r}")
    return common, own


def expected_evaluations(strategy: str, own: dict, positions: int) -> int:
    space = len(core.OPERATIONS) ** positions
    if strategy == "evolution":
        return min(space, own["population_size"] + own["generations"] * (own["population_size"] // 2))
    if strategy == "darts":
        return own["epochs"]  # the bar counts epochs
    return min(space, own["evaluations"])


class Run:
    """One search in progress: its task, its evaluator wrapped in a History, a progress bar, a clock."""

    def __init__(self, strategy: str, options: dict):
        common, self.strategy_options = check_options(strategy, options)
        self.strategy, self.options, self.interrupted = strategy, {**common, **self.strategy_options}, False
        device = resolve_device(common["device"])
        data = load_dataset(common["dataset"], download=common["download"]).to(device)
        self.task = Task(data, common["positions"], common["channels"], common["train_epochs"], seed=common["seed"])
        self.task.device = device
        self.options["device"] = device
        self.bench, self.kind = self._evaluator(common["evaluator"])
        self.options["evaluator"] = self.kind
        self.bar = self._progress(
            common["progress"], expected_evaluations(strategy, self.strategy_options, self.task.positions)
        )
        self.extra = {}
        if strategy == "darts":
            self.extra = {"alphas": [], "genotypes": []}
            self.strategy_options["on_epoch"] = self._on_epoch(self.strategy_options.get("on_epoch"))
            self.options.pop("on_epoch", None)
        self.fitness = History(self._counted(self.evaluate))
        self.started = time.perf_counter()

    def _evaluator(self, evaluator):
        if callable(evaluator):
            self.evaluate = lambda dna: float(evaluator(dna))
            return None, "custom"
        if evaluator == "train":
            self.evaluate = lambda dna: core.evaluate(dna, self.task)
            return None, "train"
        if evaluator == "bench" or type(evaluator).__name__ == "NanoBench":
            from .bench import NanoBench

            bench = NanoBench.load() if evaluator == "bench" else evaluator
            bench.check_task(self.task)
            self.evaluate = bench.evaluator(seed=self.task.seed)
            return bench, "bench"
        raise ValueError(f"unknown evaluator {evaluator!r}; choose 'train', 'bench', or a function dna -> fitness")

    def _progress(self, show: bool, total: int):
        if not show:
            return None
        from tqdm.auto import tqdm  # a widget in notebooks, a text bar in terminals

        unit = "epoch" if self.strategy == "darts" else "eval"
        return tqdm(total=total, desc=self.strategy, unit=unit, leave=True)

    def _counted(self, evaluate):
        def counted(dna):
            fitness = evaluate(dna)
            if self.bar is not None and self.strategy != "darts":
                best = max([fitness, *self.fitness.values()])
                self.bar.set_postfix(best=f"{best:.2%}", refresh=False)
                self.bar.update(1)
            return fitness

        return counted

    def _on_epoch(self, user_callback):
        def on_epoch(epoch, weights, genotype):
            self.extra["alphas"].append(weights.tolist())
            self.extra["genotypes"].append(genotype)
            if self.bar is not None:
                self.bar.set_postfix(arch="-".join(decode(genotype)), refresh=False)
                self.bar.update(1)
            if user_callback:
                user_callback(epoch, weights, genotype)

        return on_epoch

    def search_cost(self, wall: float) -> float:
        """Seconds of compute the search paid for: its wall time, plus what table lookups would cost to train."""
        return wall + getattr(self.evaluate, "cost", 0.0)  # NanoBench adds the training seconds it saved

    def finish(self):
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
            test = accuracy(train(best, self.task)[0], *self.task.data.test)  # once, for the final pick
        else:
            test = None
        if self.fitness.populations:
            self.extra["populations"] = self.fitness.populations
        if self.fitness.parents:
            self.extra["parents"] = [[list(c), list(p)] for c, p in self.fitness.parents.items()]
        result = SearchResult(
            self.strategy, best, decode(best), fitness, test,
            [{"dna": list(d), "fitness": f} for d, f in self.fitness.items()],
            wall, self.search_cost(wall), self.task.seed, dict(self.options), self.interrupted, self.extra,
        )  # fmt: skip
        torch.manual_seed(self.task.seed)
        data = self.task.data
        model = build_model(best, self.task.channels, data.in_channels, data.num_classes)
        model.search = result
        return model
