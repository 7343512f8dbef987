"""Exercises for lesson 03 · evolution: regret, the incumbent, tournaments, and regularized (aging) evolution."""

import random
import statistics
from collections import deque

from nanonas.bench import NanoBench
from nanonas.core import random_dna

from .question import Question, Wrong, as_list, expect, is_sequence, reference, show
from .remote import Lookup, Rng

ASSIGNMENT = "03_evolution"
REFERENCE = reference(ASSIGNMENT)  # the solutions, read from solutions/03_evolution.ipynb


# -- checks


def _table():
    return NanoBench.load()


def _check_regret(answer, seed):
    bench = _table()
    best = bench.best()
    rng = random.Random(seed)
    got = answer(bench, list(best["dna"]))  # a copy: the record's own list stays the table's
    expect(
        abs(got) < 1e-12,
        f"`regret(bench, {best['dna']})` returned `{show(got)}`, but that is the best architecture "
        "of the table: its regret is 0.",
    )
    dnas = [random_dna(rng) for _ in range(40)]
    wants = [REFERENCE.regret(bench, dna) for dna in dnas]  # before the call: the answer gets copies
    for dna, want, got in zip(dnas, wants, answer.each([(bench, list(dna)) for dna in dnas])):
        if abs(got - want) > 1e-9:
            r = bench.query(dna)
            hint = ""
            if abs(got - 100 * want) < 1e-6:
                hint = " It looks like percentage points: return a fraction, like NanoBench's accuracies."
            elif abs(got + want) < 1e-9:
                hint = " The sign is flipped: regret is best minus this one, never negative."
            elif abs(got - (bench.best()["test_accuracy"] - r["test_accuracy"])) < 1e-9:
                hint = " That is test accuracy; a search only sees validation accuracy (`'val_accuracy'`)."
            raise Wrong(
                f"`regret(bench, {dna})` returned `{got:.6f}`, expected `{want:.6f}` (best {best['val_accuracy']:.4f}"
                f" − this one's mean validation accuracy {r['val_accuracy']:.4f}).{hint}"
            )


def _check_best_so_far(answer, seed):
    rng = random.Random(seed)
    cases = [[], [0.5], [0.3, 0.1, 0.4, 0.2], [0.9, 0.1, 0.1], [-1.0, -2.0, -0.5]]
    cases += [[rng.random() for _ in range(rng.randrange(1, 40))] for _ in range(20)]
    calls = [(list(fitnesses),) for fitnesses in cases]
    for before, (fitnesses,), got in zip(cases, calls, answer.each(calls)):
        expect(fitnesses == before, "`best_so_far` changed the list it was given.")
        expect(is_sequence(got), f"`best_so_far({show(before, 60)})` returned `{show(got)}`; return a list.")
        got, want = as_list(got), REFERENCE.best_so_far(before)
        expect(
            len(got) == len(want),
            f"`best_so_far` of {len(before)} fitnesses returned {len(got)} values; return one per evaluation.",
        )
        expect(
            got == want,
            f"`best_so_far({show(before, 60)})` returned `{show(got, 60)}`, expected `{show(want, 60)}`: "
            "after each evaluation, the best fitness seen so far.",
        )


def _distinct_population(n=10, seed=0):
    rng, population = random.Random(seed), []
    while len(population) < n:  # distinct members: each has its own fitness
        dna = random_dna(rng)
        if dna not in population:
            population.append(dna)
    table = {tuple(d): i / n for i, d in enumerate(population)}  # fitness rank = position in the list
    return population, Lookup(table)


def _check_tournament(answer, base):
    population, fitness = _distinct_population(seed=base)
    ordered = sorted(population, key=fitness)  # worst first
    calls = lambda seeds, k: [([list(d) for d in population], fitness, Rng(seed), k) for seed in seeds]
    for k in (3, 2, 5):
        seeds, winners = range(base, base + 300), []
        for seed, (given, *_), got in zip(seeds, calls(seeds, k), answer.each(calls(seeds, k))):
            expect(given == population, f"`tournament` changed the population (`k={k}`, seed {seed}).")
            got = as_list(got)
            expect(
                got in population,
                f"`tournament` returned `{show(got)}` for `k={k}`, seed {seed}: return a member of the population.",
            )
            place = ordered.index(got)
            expect(
                place >= k - 1,
                f"`tournament` returned the {'worst' if place == 0 else f'#{place + 1} worst'} "
                f"member for `k={k}`, seed {seed}; the winner is the best of {k} different members, so it can never "
                f"be one of the {k - 1} worst.",
            )
            winners.append(got)
        for seed, got, again in zip(seeds, winners, answer.each(calls(seeds, k))):
            expect(
                as_list(again) == got,
                f"`tournament` picked `{got}`, then `{show(again)}` for the same seed {seed}: draw the contestants "
                "from `rng`.",
            )
        expect(
            len({tuple(w) for w in winners}) > 1,
            f"with `k={k}` your `tournament` always returned the same member: sample `k` "
            "contestants at random first, then keep the best of them.",
        )
    seeds = range(base, base + 50)
    for seed, got in zip(seeds, answer.each(calls(seeds, len(population)))):
        expect(
            as_list(got) == ordered[-1],
            f"with `k` = the whole population (seed {seed}) `tournament` returned `{show(got)}`, not the best member.",
        )
    picked = {tuple(got) for got in answer.each(calls(range(base, base + 300), 1))}
    expect(
        len(picked) == len(population),
        f"with `k=1` a tournament is a uniform pick, but yours picked only "
        f"{len(picked)} of the {len(population)} members over 300 seeds.",
    )


# Members pairwise at least 3 mutations apart: a child one mutation away names its parent unambiguously.
SPREAD = [[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3], [4, 4, 4, 4], [0, 1, 2, 3]]


def _check_aging_step(answer, base):
    for sample_size in (3, 2, len(SPREAD)):
        seeds, calls = range(base, base + 150), []
        for seed in seeds:
            order = random.Random(seed).sample(range(len(SPREAD)), len(SPREAD))
            table = {tuple(d): order[i] for i, d in enumerate(SPREAD)}  # a different fitness order each seed
            calls.append(
                (deque(list(d) for d in SPREAD), Lookup(table, default=-1, strict=False), Rng(seed), sample_size)
            )
        for seed, (population, fitness, *_), child in zip(seeds, calls, answer.each(calls)):
            expect(is_sequence(child), f"`aging_step` returned `{show(child)}` (seed {seed}); return the child DNA.")
            child, after = as_list(child), [list(d) for d in population]
            expect(
                len(after) == len(SPREAD),
                f"after one `aging_step` the population has {len(after)} members instead "
                f"of {len(SPREAD)}: add one child and remove one member.",
            )
            expect(
                after[-1] == child,
                f"after `aging_step` (seed {seed}) the child `{child}` is not the newest member "
                "(the right end of the deque): `population.append(child)`.",
            )
            worst = min(SPREAD, key=fitness)
            if after[:-1] != SPREAD[1:]:
                if after[:-1] == [d for d in SPREAD if d != worst]:
                    raise Wrong(
                        f"`aging_step` removed the worst member `{worst}` (seed {seed}); regularized evolution "
                        "removes the oldest, `population[0]`, whatever its fitness."
                    )
                raise Wrong(
                    f"`aging_step` (seed {seed}) should remove exactly the oldest member `{SPREAD[0]}` (the left "
                    f"end: `population.popleft()`); the population became `{after}`."
                )
            parents = [d for d in SPREAD if sum(a != b for a, b in zip(d, child)) == 1]
            expect(
                len(parents) == 1,
                f"`aging_step`'s child `{child}` (seed {seed}) is not one mutation away from a "
                "member of the population: the child is `mutate(parent, rng)`.",
            )
            rank = sorted(SPREAD, key=fitness).index(parents[0])  # 0 = worst
            expect(
                rank >= sample_size - 1,
                f"`aging_step` mutated the #{rank + 1} worst member (`sample_size={sample_size}`, "
                f"seed {seed}); the parent is the best of {sample_size} sampled members, so it can "
                f"never be one of the {sample_size - 1} worst.",
            )
            if sample_size == len(SPREAD):
                expect(
                    rank == len(SPREAD) - 1,
                    f"with `sample_size` = the whole population, the parent must be the "
                    f"best member; `aging_step` mutated the #{len(SPREAD) - rank} best (seed {seed}).",
                )
    ranks, table = set(), {tuple(d): i for i, d in enumerate(SPREAD)}
    calls = [
        (deque(list(d) for d in SPREAD), Lookup(table, default=-1, strict=False), Rng(base + s), 2) for s in range(100)
    ]
    for child in answer.each(calls):
        ranks.update(table[tuple(d)] for d in SPREAD if sum(a != b for a, b in zip(d, child)) == 1)
    expect(
        len(ranks) > 1,
        "with `sample_size=2` your `aging_step` always mutated the same member: sample members at "
        "random first, then take the best of the sample.",
    )


def _hidden(truth: dict, seed: int) -> dict:
    """The table with each position's ops relabelled by a permutation drawn from `seed`: the same landscape for a
    search (random DNAs and mutations do not care which op is which), but one no file in the sandbox holds, so
    its best DNA can only be found by evaluating."""
    rng, n_ops = random.Random(seed), 1 + max(max(dna) for dna in truth)
    relabel = [rng.sample(range(n_ops), n_ops) for _ in range(len(next(iter(truth))))]
    return {tuple(p[op] for p, op in zip(relabel, dna)): value for dna, value in truth.items()}


def _check_aging_evolution(answer, base, seeds=200, budget=100):
    bench = _table()
    # noise-free fitness: the mean over three trainings, under a secret relabelling of the ops
    truth = _hidden({tuple(r["dna"]): r["val_accuracy"] for r in bench}, base)
    lookup, best = (lambda dna: truth[tuple(dna)]), max(truth.values())
    regret = lambda dna: best - lookup(dna)
    theirs, ours, baseline = [], [], []
    # each Lookup records its calls; counted: when grading, the grader answers (and counts) every evaluation
    runs = [(Lookup(truth, counted=True), Rng(seed)) for seed in range(base, base + seeds)]
    options = dict(population_size=10, sample_size=3, evaluations=budget)
    for seed, (fitness, _), got in zip(range(base, base + seeds), runs, answer.each(runs, **options)):
        calls = fitness.calls
        expect(
            len(calls) == budget,
            f"`aging_evolution(..., evaluations={budget})` called `fitness` {len(calls)} times "
            f"(seed {seed}); a search gets exactly its budget of evaluations.",
        )
        expect(is_sequence(got), f"`aging_evolution` returned `{show(got)}`; return the best DNA, a list.")
        got = as_list(got)
        expect(
            tuple(got) in {tuple(d) for d in calls} and lookup(got) == max(map(lookup, calls)),
            f"`aging_evolution` returned `{got}` (seed {seed}), which is not the fittest DNA it evaluated.",
        )
        theirs.append(regret(got))
        ours.append(regret(REFERENCE.aging_evolution(lookup, random.Random(seed), 10, 3, budget)))
        rng = random.Random(seed)
        baseline.append(regret(max((random_dna(rng) for _ in range(budget)), key=lookup)))
    mine, good, bad = (100 * statistics.fmean(r) for r in (theirs, ours, baseline))
    expect(
        mine < (good + bad) / 2,
        f"over {seeds} seeds of {budget} evaluations, your `aging_evolution`'s mean regret "
        f"is {mine:.3f} points; random search gets {bad:.3f} and a correct aging evolution about {good:.3f}. Is "
        "the parent the best of its sample, the child a mutation of it, and the oldest member removed?",
    )


QUESTIONS = [
    Question(
        assignment=ASSIGNMENT,
        number=1,
        name="regret",
        title="Regret against the true optimum",
        points=1,
        test=_check_regret,
        hint_text=(
            "NanoBench gives you the best record (`bench.best()`) and the record of any DNA (`bench.query(dna)`). "
            "Which of their fields does a search see, and which way round must the difference go?"
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=2,
        name="best_so_far",
        title="The incumbent after each evaluation",
        points=1,
        test=_check_best_so_far,
        hint_text=(
            "Walk through the list once, remembering the best value so far. What should that be before anything "
            "was evaluated, so that the first fitness always replaces it?"
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=3,
        name="tournament",
        title="Tournament selection",
        points=2,
        test=_check_tournament,
        hint_text=(
            "`rng` is a `random.Random`: one of its methods draws k *different* items from a list (see the `random` "
            "module's docs). Then `max` accepts a `key=` function."
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=4,
        name="aging_step",
        title="One cycle of regularized evolution",
        points=3,
        test=_check_aging_step,
        hint_text=(
            "Four steps, in the order the lesson's `regularized_evolution` takes them. A `deque` has methods for "
            "both of its ends: which end holds the oldest member?"
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=5,
        name="aging_evolution",
        title="Regularized evolution, whole",
        points=3,
        test=_check_aging_evolution,
        hint_text=(
            "Count your calls to `fitness`: the first `population_size` go to random DNAs, every later one to a "
            "child. By the end, the best DNA may have aged out of the population: where will you remember it?"
        ),
    ),
]
