"""nanoNAS: neural architecture search you can read, run on a laptop CPU, and score against the truth."""

from .core import (
    OPERATIONS,
    MixedOp,
    Network,
    Task,
    accuracy,
    build_model,
    check_dna,
    darts,
    decode,
    derive,
    evaluate,
    evolution,
    mutate,
    random_dna,
    random_search,
    train,
)
from .data import DATASETS, Dataset, load_dataset
from .fitness import Fitness, History
from .registry import STRATEGIES, Strategy, strategy
from .result import SearchResult
from .run import nano_nas
from .strategies.nsga2 import nsga2
from .strategies.regularized_evolution import regularized_evolution
from .version import __version__

genotype = derive  # the name before 0.2


__all__ = [
    "OPERATIONS",
    "STRATEGIES",
    "DATASETS",
    "Dataset",
    "Fitness",
    "History",
    "MixedOp",
    "Network",
    "SearchResult",
    "Strategy",
    "Task",
    "accuracy",
    "build_model",
    "check_dna",
    "darts",
    "decode",
    "derive",
    "evaluate",
    "evolution",
    "genotype",
    "load_dataset",
    "mutate",
    "nano_nas",
    "nsga2",
    "random_dna",
    "random_search",
    "regularized_evolution",
    "strategy",
    "train",
    "__version__",
]
