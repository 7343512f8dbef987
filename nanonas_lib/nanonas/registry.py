"""The strategy registry: the one place that knows which searches exist and which options each takes.

A strategy is a function `(fitness, task, **options)`: its keyword defaults *are* its options. Decorating it with
`@strategy("name")` registers it, and `nano_nas`, the command line, the dashboards and the docs read it from here:

    @strategy("my_search", budget=lambda o: o["evaluations"])
    def my_search(fitness, task, evaluations=50): ...
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Strategy:
    """A registered search: its name, its function, and how many evaluations its options ask for."""

    name: str
    run: Callable  # (fitness, task, **options) -> None; results go into `fitness` (and optionally a dict it returns)
    budget: Callable[[dict], int] | None = None  # options -> evaluations to expect (for progress bars); None: unknown

    @property
    def options(self) -> dict:
        """The options this strategy takes, with their defaults: its keyword parameters after (fitness, task)."""
        params = list(inspect.signature(self.run).parameters.values())[2:]
        return {p.name: p.default for p in params if p.kind is p.POSITIONAL_OR_KEYWORD or p.kind is p.KEYWORD_ONLY}

    @property
    def unit(self) -> str:
        """What its progress counts: epochs when it reports through an `on_epoch` hook, evaluations otherwise."""
        return "epoch" if "on_epoch" in self.options else "eval"

    @property
    def summary(self) -> str:
        """The first line of its docstring."""
        return (inspect.getdoc(self.run) or self.name).splitlines()[0]

    def __call__(self, fitness, task, **options):
        """Run it directly, as a plain function: STRATEGIES['evolution'](fitness, task, generations=5)."""
        return self.run(fitness, task, **options)

    def expected(self, options: dict) -> int | None:
        return None if self.budget is None else int(self.budget({**self.options, **options}))


STRATEGIES: dict[str, Strategy] = {}


def strategy(name: str, budget: Callable[[dict], int] | None = None):
    """Register the decorated function as the search strategy `name`; the function itself is returned unchanged."""

    def register(fn):
        if not name.isidentifier():
            raise ValueError(f"a strategy name must be a Python identifier; got {name!r}")
        STRATEGIES[name] = Strategy(name, fn, budget)
        return fn

    return register


def get(name: str) -> Strategy:
    """The registered strategy `name`, or a ValueError that lists the ones there are."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}")
    return STRATEGIES[name]
