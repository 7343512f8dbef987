"""Exercises for lesson 02 · architecture DNA: encode, mutate, crossover, neighbourhoods, local optima."""

import copy
import itertools
import random

from nanonas.core import OPERATIONS, check_dna, decode

from .question import Question, Raised, Wrong, as_list, expect, is_sequence, reference, show
from .remote import Rng

OPS = list(OPERATIONS)


ASSIGNMENT = "02_architecture_dna"
REFERENCE = reference(ASSIGNMENT)  # the solutions, read from solutions/02_architecture_dna.ipynb


# -- checks


def _random_parents(n=300, seed=0):
    rng = random.Random(seed)
    parents = [[0, 0, 0, 0], [4, 4, 4, 4], [2], [0, 1, 2, 3, 4, 0]]
    return parents + [[rng.randrange(len(OPS)) for _ in range(rng.choice([4, 4, 4, 6]))] for _ in range(n)]


def _check_encode(answer, seed):
    dnas = list(itertools.product(range(len(OPS)), repeat=4))
    for dna, got in zip(dnas, answer.each([(list(decode(dna)),) for dna in dnas])):
        names = decode(dna)
        expect(is_sequence(got), f"`encode({names})` returned `{show(got)}`; a DNA is a plain list of ints.")
        expect(
            as_list(got) == list(dna),
            f"`encode({names})` returned `{show(got)}`, but the DNA of that chain is `{list(dna)}`: "
            "each name's index in `list(OPERATIONS)`.",
        )
    expect(
        as_list(answer(["skip"])) == [3] and as_list(answer(["zero"] * 6)) == [4] * 6,
        "`encode` should work for any number of positions: `encode(['skip'])` is `[3]`.",
    )
    try:
        got = answer(["conv3x3", "conv7x7"])
    except Raised as e:
        expect(
            isinstance(e.original, ValueError),
            f"`encode(['conv3x3', 'conv7x7'])` raised "
            f"`{type(e.original).__name__}`; an unknown op name should raise a `ValueError`.",
        )
    else:
        raise Wrong(
            f"`encode(['conv3x3', 'conv7x7'])` returned `{show(got)}`; an unknown op name should raise a "
            "`ValueError` (there is no `conv7x7`)."
        )


def _check_mutate(answer, base):
    originals = _random_parents(seed=base)
    seeds = range(base, base + len(originals))
    calls = [(list(parent), Rng(seed)) for seed, parent in zip(seeds, originals)]
    children = []
    for seed, before, (parent, _), child in zip(seeds, originals, calls, answer.each(calls)):
        expect(
            parent == before,
            f"your `mutate` changed the parent `{before}` in place (seed {seed}); copy it first.",
        )
        expect(is_sequence(child), f"your `mutate` returned `{show(child)}` for seed {seed}; return a list.")
        child = as_list(child)
        children.append(child)
        try:
            check_dna(child, len(parent))
        except ValueError:
            raise Wrong(
                f"your `mutate` returned `{show(child)}` for parent `{parent}` and seed {seed}: not a valid DNA "
                f"({len(parent)} op indices in 0..{len(OPS) - 1})."
            ) from None
        expect(
            child != parent,
            f"your `mutate` returned the same DNA `{child}` as its parent, for seed {seed}: the new op must differ "
            "from the old one.",
        )
        changed = sum(a != b for a, b in zip(child, parent))
        expect(
            changed == 1,
            f"your `mutate` changed {changed} positions of `{parent}` (seed {seed}, child `{child}`); "
            "a point mutation changes exactly one.",
        )
    again = [(list(parent), Rng(seed)) for seed, parent in zip(seeds, originals)]
    for seed, child, repeated in zip(seeds, children, answer.each(again)):
        expect(
            as_list(repeated) == child,
            f"your `mutate` gave `{child}`, then `{show(repeated)}` for the same seed {seed}: draw every random "
            "choice from `rng`, not from the `random` module, so a search can be repeated.",
        )
    parent = [0, 1, 3, 2]
    seen = {tuple(child) for child in answer.each([(list(parent), Rng(base + s)) for s in range(500)])}
    expect(
        len(seen) == 16,
        f"over 500 seeds your `mutate` reached only {len(seen)} of the 16 neighbours of "
        f"`{parent}`: every position, and every other op, should be possible.",
    )


def _check_crossover(answer, base):
    for a, b in [([0, 0, 0, 0], [3, 3, 2, 2]), ([0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 1]), ([1, 2], [3, 4])]:
        cuts, seeds, children = set(), range(base, base + 200), []
        calls = [(list(a), list(b), Rng(seed)) for seed in seeds]
        for seed, (a1, b1, _), child in zip(seeds, calls, answer.each(calls)):
            expect(a1 == a and b1 == b, f"your `crossover` changed a parent in place (seed {seed}).")
            expect(
                is_sequence(child, len(a)),
                f"`crossover({a}, {b})` returned `{show(child)}` for seed {seed}; return a list as long as the "
                "parents.",
            )
            child = as_list(child)
            children.append(child)
            cut = next((c for c in range(1, len(a)) if child == a[:c] + b[c:]), None)
            expect(
                cut is not None,
                f"`crossover({a}, {b})` returned `{child}` for seed {seed}: a one-point crossover "
                "takes the first positions from `a` and the rest from `b`, with at least one position from each.",
            )
            cuts.add(cut)
        for seed, child, again in zip(seeds, children, answer.each([(list(a), list(b), Rng(s)) for s in seeds])):
            expect(
                as_list(again) == child,
                f"`crossover` gave `{child}`, then `{show(again)}` for the same seed {seed}: draw the cut from `rng`.",
            )
        missing = sorted(set(range(1, len(a))) - cuts)
        expect(
            not missing,
            f"over 200 seeds, `crossover({a}, {b})` never cut after position(s) {missing}; every cut "
            f"from 1 to {len(a) - 1} should be possible.",
        )


def _check_neighbours(answer, seed):
    for dna in ([0, 1, 3, 2], [4, 4, 4, 4], [2], [0, 1, 2, 3, 4, 0]):
        before = list(dna)
        got = answer(dna)
        expect(dna == before, f"`neighbours({before})` changed its argument in place.")
        expect(is_sequence(got), f"`neighbours({dna})` returned `{show(got)}`; return a list of DNAs.")
        got_set = {tuple(n) for n in got}
        want = {tuple(n) for n in REFERENCE.neighbours(dna)}
        expect(
            tuple(dna) not in got_set, f"`neighbours({dna})` contains `{dna}` itself; a neighbour is one mutation away."
        )
        expect(len(got) == len(got_set), f"`neighbours({dna})` lists some DNAs more than once.")
        wrong = sorted(got_set - want)
        if wrong:
            raise Wrong(f"`neighbours({dna})` contains `{list(wrong[0])}`, which is not one mutation away.")
        if got_set != want:
            raise Wrong(
                f"`neighbours({dna})` returned {len(got_set)} DNAs, but there are {len(dna)} positions × "
                f"{len(OPS) - 1} other ops = {len(want)}; e.g. `{list(sorted(want - got_set)[0])}` is missing."
            )


def _check_local_optima(answer, seed):
    rng = random.Random(seed)
    spaces = []
    space2 = list(itertools.product(range(len(OPS)), repeat=2))
    spaces.append(("distinct random fitness over 2 positions", {d: rng.random() for d in space2}))
    spaces.append(("fitness with ties over 2 positions", {d: rng.randrange(3) for d in space2}))
    space3 = list(itertools.product(range(len(OPS)), repeat=3))
    spaces.append(("a smooth landscape over 3 positions", {d: -sum((a - 2) ** 2 for a in d) for d in space3}))
    try:
        from nanonas.bench import NanoBench

        bench = NanoBench.load()
        spaces.append(("NanoBench's mean validation accuracy", {tuple(r["dna"]): r["val_accuracy"] for r in bench}))
    except ValueError:  # no table shipped: the synthetic landscapes still check the answer
        pass
    for label, fitness in spaces:
        got = answer(copy.deepcopy(fitness))
        expect(is_sequence(got), f"`local_optima` returned `{show(got)}`; return a list of DNAs.")
        got_set = {tuple(d) for d in got}
        want = set(REFERENCE.local_optima(fitness))
        extra, missing = sorted(got_set - want), sorted(want - got_set)
        if extra:
            d = extra[0]
            better = max(REFERENCE.neighbours(list(d)), key=lambda n: fitness[tuple(n)])
            raise Wrong(
                f"on {label}, your `local_optima` includes `{list(d)}` (fitness {fitness[d]:.4g}), but its "
                f"neighbour `{better}` is fitter ({fitness[tuple(better)]:.4g})."
            )
        if missing:
            d = missing[0]
            tie = (
                " Neighbours that are only equal, not fitter, do not stop a DNA being a local optimum."
                if any(fitness[tuple(n)] == fitness[d] for n in REFERENCE.neighbours(list(d)))
                else ""
            )
            raise Wrong(
                f"on {label}, your `local_optima` misses `{list(d)}` (fitness {fitness[d]:.4g}): none of its "
                f"neighbours is fitter.{tie}"
            )


QUESTIONS = [
    Question(
        assignment=ASSIGNMENT,
        number=1,
        name="encode",
        title="Encode an architecture",
        points=1,
        test=_check_encode,
        hint_text=(
            "`decode` looks each index up in `list(OPERATIONS)`; you need the reverse look-up. Which method of a "
            "list finds where a value sits, and what does it do with a value that is not there?"
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=2,
        name="mutate",
        title="A mutation that always makes something new",
        points=2,
        test=_check_mutate,
        hint_text=(
            "Two random choices, both drawn from `rng`: which position, and which new op. How can you make sure the "
            "new op is never the one already there? (The lesson's five-line mutation is one way.)"
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=3,
        name="crossover",
        title="One-point crossover",
        points=2,
        test=_check_crossover,
        hint_text=(
            "Draw a cut position from `rng`: which values may it take if each parent must give at least one "
            "position? Slices like `a[:cut]` do the rest."
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=4,
        name="neighbours",
        title="A DNA's neighbourhood",
        points=2,
        test=_check_neighbours,
        hint_text=(
            "A neighbour differs at exactly one position, by one other op. How many positions, and how many other "
            "ops at each? Build every neighbour from a copy, so that `dna` itself stays unchanged."
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=5,
        name="local_optima",
        title="Count the peaks of a landscape",
        points=3,
        test=_check_local_optima,
        hint_text=(
            "Your `neighbours` from task 4 does half the work. Two details: the dict's keys are tuples, and a "
            "neighbour that is only *equal* does not stop a DNA from being a peak."
        ),
    ),
]
