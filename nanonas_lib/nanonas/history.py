"""History: every architecture a search evaluated, with its fitness, in order."""


class History(dict):  # {dna: fitness} in the order evaluated; asks the evaluator once per DNA
    def __init__(self, evaluator):
        super().__init__()
        self.evaluator = evaluator
        self.parents = {}  # {child dna: parent dna} for DNAs made by mutation: the lineage
        self.populations = []  # the population at each generation, for strategies that have one

    def __call__(self, dna) -> float:
        if tuple(dna) not in self:
            self[tuple(dna)] = self.evaluator(list(dna))
        return self[tuple(dna)]

    def explore(self, make, parent=None, tries=100) -> list[int]:
        """Evaluate and return a new DNA from make(), or make(parent) (after `tries` repeats, the last, looked up)."""
        for _ in range(tries):
            if tuple(dna := make() if parent is None else make(parent)) not in self:
                break
        if parent is not None and tuple(dna) not in self:
            self.parents[tuple(dna)] = tuple(parent)
        self(dna)
        return dna

    def log(self, population) -> None:
        """Remember a generation's population (a list of DNAs)."""
        self.populations.append([list(dna) for dna in population])
