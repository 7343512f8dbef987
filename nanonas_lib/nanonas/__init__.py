"""nanoNAS: neural architecture search you can read, run on a laptop CPU, and score against the truth."""

from .core import (
    OPERATIONS,
    STRATEGIES,
    History,
    MixedOp,
    Network,
    Task,
    accuracy,
    build_model,
    check_dna,
    darts,
    decode,
    evaluate,
    evolution,
    genotype,
    mutate,
    nano_nas,
    random_dna,
    random_search,
    train,
)
from .data import DATASETS, Dataset, load_dataset
from .regularized_evolution import regularized_evolution  # registers the strategy
from .result import SearchResult

__version__ = "0.1.0"

__all__ = [
    "OPERATIONS", "STRATEGIES", "History", "MixedOp", "Network", "genotype", "Task", "accuracy", "build_model",
    "check_dna", "darts", "decode", "evaluate", "evolution", "mutate", "nano_nas", "random_dna", "random_search",
    "regularized_evolution", "train", "DATASETS", "Dataset", "load_dataset", "SearchResult", "__version__",
]  # fmt: skip
