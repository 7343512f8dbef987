"""SearchResult: what a search found, how it got there, and how to save it as JSON."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .core import check_dna, decode


@dataclass
class SearchResult:
    """The best DNA of a search, its scores, and every (dna, fitness) evaluated on the way."""

    strategy: str
    dna: list  # the best DNA: a list of op indices
    ops: list  # the same DNA as op names
    val_accuracy: float  # the fitness the search selected on
    test_accuracy: float | None  # measured once, for the final pick only (None for a custom evaluator)
    history: list  # [{"dna": [...], "fitness": float}, ...] in the order evaluated
    wall_time: float  # seconds the search took on this machine
    search_cost: float  # seconds of training the search paid for (simulated on NanoBench)
    seed: int
    options: dict  # every option the search ran with, defaults included
    interrupted: bool = False  # True when Ctrl-C stopped the search early: it kept what it found
    extra: dict = field(default_factory=dict)  # strategy specific, e.g. DARTS's alphas per epoch

    @property
    def evaluations(self) -> int:
        return len(self.history)

    def best_so_far(self) -> list[float]:
        """The best fitness seen after each evaluation."""
        best, out = float("-inf"), []
        for h in self.history:
            best = max(best, h["fitness"])
            out.append(best)
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def load(cls, path) -> "SearchResult":
        try:
            d = json.loads(Path(path).read_text())
            extra = d.get("extra") or {}
            if "genotypes" in extra and "derived" not in extra:  # saved before 0.2: DARTS's derived DNAs per epoch
                extra["derived"] = extra.pop("genotypes")
            result = cls(**d)
        except (OSError, json.JSONDecodeError, TypeError) as e:
            raise ValueError(f"{path} is not a saved nanonas search result ({e})") from e
        check_dna(result.dna)
        return result

    def __repr__(self) -> str:
        test = "n/a" if self.test_accuracy is None else f"{self.test_accuracy:.2%}"
        stop = ", interrupted" if self.interrupted else ""
        return (
            f"SearchResult({self.strategy}: dna={self.dna} {decode(self.dna)}, val={self.val_accuracy:.2%}, "
            f"test={test}, {self.evaluations} evaluations in {self.wall_time:.1f}s{stop})"
        )
