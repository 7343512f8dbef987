"""Fitness as a searcher sees it: ask for a DNA's score, and each DNA is evaluated once, in order, with its lineage."""

from collections import deque


class Fitness(dict):
    """{dna: score} in the order evaluated; calling it evaluates a DNA only the first time it is asked."""

    def __init__(self, evaluator, map_fn=map):
        super().__init__()
        self.evaluator = evaluator  # dna (a list) -> score: real training, a NanoBench lookup, or your function
        self.map_fn = map_fn  # (evaluator, dnas) -> scores in order: `map`, or a pool's `map` (workers side by side)
        self.parents = {}  # {child dna: parent dna} for DNAs made by mutation: the lineage
        self.populations = []  # the population at each generation, for strategies that have one
        self.pending = set()  # DNAs proposed by `new` and not evaluated yet
        self.costs = lambda dna: {}  # dna -> {cost name: value}; nano_nas gives NanoBench's columns or measures them
        self.cost_names = ()  # the costs `costs` knows, e.g. ('params', 'macs', 'latency_b1_ms')

    def __call__(self, dna) -> float:
        if tuple(dna) not in self:
            self[tuple(dna)] = self.evaluator(list(dna))
        return self[tuple(dna)]

    def many(self, dnas) -> list[float]:
        """The scores of several DNAs; those not seen yet are evaluated together (side by side with workers)."""
        todo = list(dict.fromkeys(tuple(d) for d in dnas if tuple(d) not in self))
        for dna, score in zip(todo, self.map_fn(self.evaluator, [list(d) for d in todo])):
            self[dna] = score  # kept as each arrives, in proposal order: an interrupted batch keeps what finished
            self.pending.discard(dna)
        return [self[tuple(d)] for d in dnas]

    def stream(self, proposals):
        """Evaluate the new DNAs an iterator proposes, yielding each one once its score is in (in proposal order).

        The iterator is asked for its next DNA only after a result comes back: one at a time without workers; with
        N workers, N DNAs are in flight and each new one is proposed knowing every result collected so far.
        """
        order = deque()

        def proposed():
            for dna in proposals:
                order.append(tuple(dna))
                yield list(dna)

        for score in self.map_fn(self.evaluator, proposed()):
            dna = order.popleft()
            self[dna] = score
            self.pending.discard(dna)
            yield list(dna)

    def new(self, make, parent=None, tries=100) -> list[int]:
        """A DNA from make() (or make(parent)) that was neither evaluated nor proposed before; not evaluated yet.

        After `tries` repeats it gives up and returns the last one, which then costs only a look-up.
        """
        for _ in range(tries):
            dna = make() if parent is None else make(parent)
            if tuple(dna) not in self and tuple(dna) not in self.pending:
                break
        if tuple(dna) not in self and tuple(dna) not in self.pending:
            if parent is not None:
                self.parents[tuple(dna)] = tuple(parent)
            self.pending.add(tuple(dna))
        return dna

    def explore(self, make, parent=None, tries=100) -> list[int]:
        """A new DNA from make() or make(parent), evaluated: `new` followed by a call."""
        dna = self.new(make, parent, tries)
        self.many([dna])
        return dna

    def log(self, population) -> None:
        """Remember a generation's population (a list of DNAs)."""
        self.populations.append([list(dna) for dna in population])


History = Fitness  # the name before 0.2
