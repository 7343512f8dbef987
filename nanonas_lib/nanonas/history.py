"""History: every architecture a search evaluated, with its fitness, in order."""


class History(dict):  # {dna: fitness} in the order evaluated; asks the evaluator once per DNA
    def __init__(self, evaluator):
        super().__init__()
        self.evaluator = evaluator

    def __call__(self, dna) -> float:
        if tuple(dna) not in self:
            self[tuple(dna)] = self.evaluator(list(dna))
        return self[tuple(dna)]

    def explore(self, make, tries=100) -> list[int]:
        """Evaluate and return a DNA from make() not seen before (or make()'s last try, looked up)."""
        for _ in range(tries):
            if tuple(dna := make()) not in self:
                break
        self(dna)
        return dna
