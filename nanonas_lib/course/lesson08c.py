"""Milestones of project 08c (a cell-based differentiable supernet): when a cell computes anything, what it computes,
DARTS-PT's choice of op, the collapse curve, and how well a supernet ranks the cells.

Every answer takes plain data: a cell's DNA is 6 op indices in the order of `nanonas.cells.EDGES`; accuracies and
scores are lists of numbers. A cell's edge functions cannot travel as data, so a probe builds them on the learner's
side from a plain description (`_Edge`). The oracles are the library's `cells.is_live`, a forward pass written here,
and scipy's `kendalltau`; the cases are random, with ties and edge cases.
"""

import math
import random

from nanonas.cells import EDGES, NODES, is_live
from nanonas.core import OPERATIONS

from .question import Question, Wrong, as_list, expect, is_sequence, show
from .question import close as _close
from .question import is_number as _is_number
from .remote import Opaque

SUPERNET = "08c_cell_supernet"
OPS = list(OPERATIONS)
ZERO = OPS.index("zero")
LEXICAL = sorted(EDGES)  # (0,1), (0,2), (0,3), (1,2), (1,3), (2,3): the edges in the wrong order


def _all_close(got, want, tol=1e-9):
    return is_sequence(got, len(want)) and all(_close(g, w, tol) for g, w in zip(got, want))


def _diagnose(mistakes, cases, answers, index, same=lambda a, b: a == b):
    """What to say about a wrong answer: the typical mistake that gives every answer the learner gave, else the one
    that gives the answer to case `index`, else nothing. `mistakes` holds (function of a case's arguments, words)."""
    everywhere = [say for fn, say in mistakes if all(same(g, fn(*c)) for c, g in zip(cases, answers))]
    here = [say for fn, say in mistakes if same(answers[index], fn(*cases[index]))]
    return (everywhere or here or [""])[0]


# -- 1. Liveness


def _reached(dna, zero, edges=EDGES, need_source=True):
    """The nodes a non-zero path from node 0 reaches (edges in order of their target node)."""
    reached = {0}
    for op, (i, j) in zip(dna, edges):
        if op != zero and (i in reached or not need_source):
            reached.add(j)
    return reached


def _live(dna, zero):
    """The oracle: the library's `is_live`, on the DNA with `zero` renamed to the library's 'zero' index."""
    return is_live([ZERO if op == zero else (ZERO + 1) % len(OPS) for op in dna])


def _live_path(dna, zero):
    """A path from node 0 to the output that avoids `zero`, as text ('0→1→3'), or None."""

    def walk(node):
        if node == NODES - 1:
            return [node]
        for op, (i, j) in zip(dna, EDGES):
            if i == node and op != zero and (rest := walk(j)):
                return [node, *rest]
        return None

    path = walk(0)
    return "→".join(map(str, path)) if path else None


LIVENESS_MISTAKES = [  # (what a typical wrong answer returns, what to say)
    (
        lambda dna, zero: _live(dna, ZERO),
        " It answers as if `zero` were always 4: use the `zero` argument.",
    ),
    (
        lambda dna, zero: dna[EDGES.index((0, NODES - 1))] != zero,
        " Only the direct edge 0→3 is checked: a cell is also live through node 1 or node 2 (0→1→3, 0→2→3, 0→1→2→3).",
    ),
    (
        lambda dna, zero: any(op != zero for op in dna),
        " A non-`zero` edge helps only when it lies on a path from node 0 to node 3: follow the paths.",
    ),
    (
        lambda dna, zero: NODES - 1 in _reached(dna, zero, need_source=False),
        " An edge (i, j) carries something only when node i is itself reached: a node fed only by `zero` edges "
        "outputs zeros, and so do its edges.",
    ),
    (
        lambda dna, zero: NODES - 1 in _reached(dna, zero, edges=LEXICAL),
        " The DNA lists the edges in the order of `EDGES`: (0,1), (0,2), (1,2), (0,3), (1,3), (2,3).",
    ),
    (
        lambda dna, zero: _reached(dna, zero) == set(range(NODES)),
        " The cell is live when its *output*, node 3, is reached; nodes 1 and 2 may be cut off.",
    ),
    (
        lambda dna, zero: all(op != zero for op, (i, j) in zip(dna, EDGES) if j == NODES - 1),
        " One path that avoids `zero` is enough; the other edges into node 3 may be `zero`.",
    ),
]


SAMPLED = 1500  # liveness cases before the exhaustive sweep: hand-made, then random


def _liveness_cases(rng):
    cases = [  # the statement's examples, then the edge cases, then every cell
        ([4, 4, 4, 0, 4, 4], 4),
        ([4, 0, 4, 4, 0, 4], 4),
        ([4] * 6, 4),
        ([3] * 6, 4),
        ([0, 4, 4, 4, 0, 4], 4),
        ([4, 2, 4, 4, 4, 1], 4),
        ([1, 4, 3, 4, 4, 0], 4),
        ([4, 4, 0, 4, 0, 0], 4),
        ([0, 0, 4, 4, 4, 4], 4),
        ([0, 1, 2, 3, 0, 1], 0),
    ]
    for _ in range(SAMPLED - len(cases)):  # another op is 'zero', and other numbers of ops
        n_ops = rng.randrange(2, 8)
        zero = rng.randrange(n_ops)
        cases.append(([rng.choice([zero, zero, rng.randrange(n_ops)]) for _ in EDGES], zero))
    cases += [([(c // len(OPS) ** e) % len(OPS) for e in range(len(EDGES))], ZERO) for c in range(len(OPS) ** 6)]
    return cases


def _check_cell_is_live(answer, seed):
    cases = _liveness_cases(random.Random(seed))
    got = list(answer.each([(list(dna), zero) for dna, zero in cases]))
    for (dna, zero), g in zip(cases, got):
        expect(type(g) is bool, f"`cell_is_live({dna}, zero={zero})` returned `{show(g)}`; return True or False.")
    want = [_live(dna, zero) for dna, zero in cases]
    if got == want:
        return
    wrong = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
    (dna, zero), g = cases[wrong], got[wrong]
    path = _live_path(dna, zero)
    why = f"the path {path} avoids `zero`" if path else "every path from node 0 to node 3 crosses a `zero` edge"
    # the mistakes are told apart on the hand-made and random cases (and this one): quicker than on all of them
    told = (
        (cases[:SAMPLED], got[:SAMPLED], wrong)
        if wrong < SAMPLED
        else (cases[:SAMPLED] + [cases[wrong]], got[:SAMPLED] + [g], SAMPLED)
    )
    hint = _diagnose(LIVENESS_MISTAKES, *told)
    raise Wrong(f"`cell_is_live({dna}, zero={zero})` returned {g}, expected {not g}: {why}.{hint}")


# -- 2. A cell's forward pass, on numbers


class _Edge:
    """An edge's op on numbers, made on the learner's side from plain data: ('scale', 2.0) is `lambda v: 2.0 * v`."""

    def __init__(self, kind, c=0.0):
        self.kind, self.c = kind, c

    def __call__(self, v):
        if self.kind == "zero":
            return 0.0
        if self.kind == "skip":
            return v
        if self.kind == "scale":
            return self.c * v
        if self.kind == "shift":
            return v + self.c
        return v * v  # square

    def __repr__(self):
        return {
            "zero": "lambda v: 0.0",
            "skip": "lambda v: v",
            "scale": f"lambda v: {self.c:g} * v",
            "shift": f"lambda v: v + {self.c:g}",
            "square": "lambda v: v * v",
        }[self.kind]


def _probe_cell_forward(answer, cases):
    """On the learner's side: the answer's output for each (x, edge descriptions); functions cannot travel."""
    return [answer(x, [_Edge(*spec) for spec in specs]) for x, specs in cases]


def _nodes(x, fns, edges=EDGES, feed_x=False, multiply=False):
    """Every node's value, with one of a forward pass's steps changed (for the typical wrong answers)."""
    nodes = [x]
    for j in range(1, NODES):
        arriving = [fn(x if feed_x else nodes[i]) for fn, (i, k) in zip(fns, edges) if k == j]
        nodes.append(math.prod(arriving) if multiply else sum(arriving))
    return nodes


FORWARD_MISTAKES = [
    (lambda x, fns: _nodes(x, fns)[2], " That is node 2: the cell's output is node 3, the last node."),
    (lambda x, fns: _nodes(x, fns)[1], " That is node 1: the cell's output is node 3, the last node."),
    (
        lambda x, fns: _nodes(x, fns, feed_x=True)[3],
        " Every edge was given `x`: an edge (i, j) takes the value of its *source node* i (node 0 is `x`).",
    ),
    (
        lambda x, fns: _nodes(x, fns, multiply=True)[3],
        " A node *sums* what its incoming edges bring; it does not multiply them.",
    ),
    (
        lambda x, fns: _nodes(x, fns, edges=LEXICAL)[3],
        " `edge_fns[e]` is the op of `EDGES[e]`, in that order: (0,1), (0,2), (1,2), (0,3), (1,3), (2,3).",
    ),
    (lambda x, fns: sum(_nodes(x, fns)), " That is the sum of all four nodes: return node 3 alone."),
    (lambda x, fns: sum(_nodes(x, fns)[1:]), " That is the sum of nodes 1 to 3: return node 3 alone."),
]


def _forward_cases(rng):
    two, zero, skip = ("scale", 2.0), ("zero",), ("skip",)
    cases = [
        (1.0, [two] * 6),  # the statement's example: 18
        (3.0, [zero] * 6),
        (1.5, [zero, zero, zero, skip, zero, zero]),
        (2.0, [skip, zero, skip, zero, zero, ("square",)]),
        (0.0, [("shift", 1.0)] * 6),
        (-1.0, [("scale", 3.0), skip, ("square",), zero, ("shift", 0.5), two]),
    ]
    kinds = ["zero", "skip", "scale", "shift", "square"]
    for _ in range(60):
        specs = []
        for _ in EDGES:
            kind = rng.choice(kinds)
            c = rng.choice([-2.0, -1.0, -0.5, 0.5, 2.0, 3.0]) if kind in ("scale", "shift") else 0.0
            specs.append((kind, c))
        cases.append((rng.choice([-2.0, -1.5, -1.0, 0.5, 1.0, 1.25, 2.0, 3.0]), specs))
    return cases


def _check_cell_forward(answer, seed):
    cases = _forward_cases(random.Random(seed))
    got = answer.probe(_probe_cell_forward, [(x, [list(s) for s in specs]) for x, specs in cases])
    expect(is_sequence(got, len(cases)), "`cell_forward` did not answer every case.")
    fns = [[_Edge(*spec) for spec in specs] for _, specs in cases]
    for (x, _), edge_fns, g in zip(cases, fns, got):
        call = f"`cell_forward({x!r}, {show(edge_fns, 200)})`"
        if is_sequence(g):
            raise Wrong(f"{call} returned `{show(g)}`: return one number, the value of node 3 (the cell's output).")
        expect(_is_number(g), f"{call} returned `{show(g)}`; return a number, the value of node 3.")
        nodes = _nodes(x, edge_fns)
        if _close(g, nodes[3]):
            continue
        calls = [(y, f) for (y, _), f in zip(cases, fns)]
        hint = _diagnose(FORWARD_MISTAKES, calls, got, calls.index((x, edge_fns)), _close)
        raise Wrong(
            f"{call} returned {g:g}, expected {nodes[3]:g} (nodes 1, 2, 3 are {nodes[1]:g}, {nodes[2]:g}, "
            f"{nodes[3]:g}).{hint}"
        )


# -- 3. DARTS-PT's choice


def _choose(acc_without, zero, best=min, lowest=True):
    """Per edge, the op with the smallest (or largest) value, never `zero`; ties: the lowest (or highest) index."""
    rows = []
    for row in acc_without:
        ops = [k for k in range(len(row)) if k != zero]
        value = best(row[k] for k in ops)
        ties = [k for k in ops if row[k] == value]
        rows.append(ties[0] if lowest else ties[-1])
    return rows


def _with_zero(acc_without, best):
    """Per edge, the op with the smallest (or largest) value, `zero` included; ties: the lowest index."""
    return [row.index(best(row)) for row in acc_without]


PERTURBATION_MISTAKES = [
    (
        lambda a, zero: _choose(a, ZERO),
        " It answers as if `zero` were always 4: use the `zero` argument.",
    ),
    (
        lambda a, zero: _choose(a, zero, best=max),
        " That keeps the op whose removal lowers accuracy *least*, the one the supernet needs least (the largest "
        "value): keep the one whose removal hurts most, the smallest value.",
    ),
    (
        lambda a, zero: _with_zero(a, max),
        " That is the largest value, the op the supernet needs least, and it may be `zero`: keep the smallest "
        "value, never `zero`.",
    ),
    (
        lambda a, zero: _with_zero(a, min),
        " `zero` is never chosen (it would remove the edge): take the smallest value among the other ops.",
    ),
    (lambda a, zero: _choose(a, zero, lowest=False), " On a tie, keep the lowest op index."),
    (
        lambda a, zero: [row[k] for row, k in zip(a, _choose(a, zero))],
        " Those are the accuracies: return the op *indices*.",
    ),
]


def _perturbation_cases(rng):
    cases = [
        ([[0.61, 0.80, 0.79, 0.80, 0.20], [0.70, 0.70, 0.75, 0.55, 0.10]], 4),  # the statement's example: [0, 3]
        ([[0.5, 0.5, 0.5, 0.5, 0.5]], 4),
        ([[0.5, 0.5, 0.5, 0.5, 0.5]], 0),
        ([[0.9, 0.3]], 1),
        ([[0.9, 0.3]], 0),
        ([[0.3, 0.3, 0.1, 0.3, 0.9]] * 3, 2),
        ([[0.3, 0.5, 0.4, 0.2, 0.9], [0.6, 0.5, 0.4, 0.3, 0.7]], 4),
    ]
    for _ in range(80):
        n_ops, n_edges = rng.randrange(2, 8), rng.randrange(1, 9)
        zero = ZERO if n_ops == len(OPS) and rng.random() < 0.5 else rng.randrange(n_ops)
        grid = rng.random() < 0.5  # values on a coarse grid: ties
        rows = []
        for _ in range(n_edges):
            row = [round(rng.uniform(0.1, 0.9), 1 if grid else 4) for _ in range(n_ops)]
            if rng.random() < 0.5:
                row[zero] = round(min(row) - 0.05, 2)  # removing zero "hurts most": it must still not be chosen
            rows.append(row)
        cases.append((rows, zero))
    return cases


def _check_perturbation_choice(answer, seed):
    cases = _perturbation_cases(random.Random(seed))
    calls = [([list(row) for row in rows], zero) for rows, zero in cases]
    answers = []
    for (rows, zero), (sent, _), got in zip(cases, calls, answer.each(calls)):
        call = f"`perturbation_choice({show(rows, 200)}, zero={zero})`"
        expect(
            sent == rows,
            f"{call} changed `acc_without` in place: leave the caller's accuracies as they were (work on a copy).",
        )
        if _is_number(got):
            raise Wrong(f"{call} returned {got:g}: return one op index *per edge*, a list as long as `acc_without`.")
        expect(
            is_sequence(got, len(rows)) and all(_is_number(k) for k in got),
            f"{call} returned `{show(got)}`; return a list of op indices, one per edge.",
        )
        answers.append(as_list(got))
    for i, ((rows, zero), got) in enumerate(zip(cases, answers)):
        want = _choose(rows, zero)
        if got == want:
            continue
        hint = _diagnose(PERTURBATION_MISTAKES, cases, answers, i)
        raise Wrong(
            f"`perturbation_choice({show(rows, 200)}, zero={zero})` returned `{show(got)}`, expected `{want}`: on "
            f"each edge, the op (not `zero`) whose removal leaves the lowest accuracy.{hint}"
        )


# -- 4. The collapse curve


def _share(cell, free):
    return sum(op in free for op in cell) / len(cell)


SHARE_MISTAKES = [
    (
        lambda d, free: [float(sum(op in free for op in c)) for c in d],
        " Those are counts: divide by the number of edges.",
    ),
    (lambda d, free: [100 * _share(c, free) for c in d], " Those are percentages: a share is a fraction, from 0 to 1."),
    (lambda d, free: [1 - _share(c, free) for c in d], " That is the share of edges *with* parameters."),
    (
        lambda d, free: [len(set(c) & set(free)) / len(c) for c in d],
        " Count edges, not distinct ops: two `skip` edges are two parameter-free edges.",
    ),
    (lambda d, free: [_share(c, (2, 3, 4)) for c in d], " It uses (2, 3, 4) whatever `free` is: use the argument."),
    (
        lambda d, free: [sum(op in free for op in c) / 6 for c in d],
        " Divide by each cell's own number of edges, `len(dna)`: the check also sends DNAs of other lengths.",
    ),
]


def _share_cases(rng):
    cases = [
        ([[0, 1, 3, 0, 2, 1], [3, 3, 0, 3, 2, 3]], (2, 3, 4)),  # the statement's example: [1/3, 5/6]
        ([], (2, 3, 4)),
        ([[3, 3, 3, 3, 3, 3]], (2, 3, 4)),
        ([[0, 1, 0, 1, 0, 1]], (2, 3, 4)),
        ([[3, 3, 2, 2, 3, 0]] * 3, (2, 3, 4)),
        ([[0, 2, 2, 3, 1, 3]], ()),
        ([[0, 2, 2, 3, 1, 3], [1, 1, 1, 0, 0, 0]], [3]),
    ]
    for _ in range(60):
        length = 6 if rng.random() < 0.8 else rng.randrange(1, 9)
        free = tuple(sorted(rng.sample(range(len(OPS)), rng.randrange(0, 4)))) if rng.random() < 0.4 else (2, 3, 4)
        epochs = [[rng.randrange(len(OPS)) for _ in range(length)] for _ in range(rng.randrange(1, 31))]
        cases.append((epochs, free if rng.random() < 0.7 else list(free)))
    return cases


def _check_parameter_free_share(answer, seed):
    cases = _share_cases(random.Random(seed))
    answers = []
    calls = [([list(c) for c in d], type(free)(free)) for d, free in cases]  # copies: `free` may be a list
    for (derived, free), got in zip(cases, answer.each(calls)):
        call = f"`parameter_free_share({show(derived, 120)}, free={free})`"
        if _is_number(got):
            want = [round(_share(c, free), 4) for c in derived]
            raise Wrong(
                f"{call} returned the single number {got:g}: return one share per epoch, a list as long as "
                f"`derived_per_epoch` (the collapse *curve*), here `{show(want)}`."
            )
        expect(
            is_sequence(got) and all(_is_number(s) for s in got),
            f"{call} returned `{show(got)}`; return a list of shares, one per derived cell.",
        )
        answers.append(as_list(got))
    for i, ((derived, free), got) in enumerate(zip(cases, answers)):
        want = [_share(c, free) for c in derived]
        if _all_close(got, want):
            continue
        hint = "" if len(got) == len(want) else f" There are {len(want)} derived cells, so {len(want)} shares."
        hint = hint or _diagnose(SHARE_MISTAKES, cases, answers, i, _all_close)
        raise Wrong(
            f"`parameter_free_share({show(derived, 120)}, free={free})` returned `{show(got)}`, expected "
            f"`{show([round(w, 4) for w in want])}`: for each cell, the edges whose op is in `free`, as a share of its "
            f"edges.{hint}"
        )


# -- 5. Kendall's tau-b


def _pairs(a, b):
    """(concordant, discordant, tied in a only or both, tied in b) pair counts."""
    c = d = ta = tb = 0
    for i in range(len(a)):
        for j in range(i):
            s = (a[i] - a[j]) * (b[i] - b[j])
            c, d = c + (s > 0), d + (s < 0)
            ta, tb = ta + (a[i] == a[j]), tb + (b[i] == b[j])
    return c, d, ta, tb


def _tau_a(a, b):
    c, d, _, _ = _pairs(a, b)
    return (c - d) / (len(a) * (len(a) - 1) / 2)


def _ties_as_concordant(a, b):
    c, d, _, _ = _pairs(a, b)
    return (len(a) * (len(a) - 1) / 2 - 2 * d) / (len(a) * (len(a) - 1) / 2)


def _score_lists(rng, n, ties):
    if ties:
        return [rng.choice([0.5, 0.6, 0.7, 0.8]) for _ in range(n)]
    return [round(rng.uniform(0.1, 1.0), 4) for _ in range(n)]


def _scipy(statistic, a, b):
    """scipy.stats' `statistic` ('kendalltau', 'spearmanr', 'pearsonr') of a and b, imported when first needed: an
    untouched exercise is told so before scipy loads (seconds, on a busy machine)."""
    import scipy.stats

    return float(getattr(scipy.stats, statistic)(a, b).statistic)


def _check_rank_agreement(answer, seed):
    rng = random.Random(seed)
    cases = [
        ([1, 2, 3], [1, 3, 2]),  # the statement's examples: 1/3 and 0.816
        ([1, 1, 2], [1, 2, 3]),
        ([1, 2, 3, 4], [4, 3, 2, 1]),
        ([0.5, 0.5, 0.7, 0.7], [0.1, 0.2, 0.2, 0.3]),
        ([0.2, 0.9], [0.3, 0.1]),
    ]
    for _ in range(60):
        n = rng.randrange(3, 40)
        cases.append((_score_lists(rng, n, rng.random() < 0.5), _score_lists(rng, n, rng.random() < 0.5)))
    cases = [(a, b) for a, b in cases if len(set(a)) > 1 and len(set(b)) > 1]  # a constant list has no ranking
    mistakes = [
        (
            _tau_a,
            " With ties, tau-b divides by sqrt((n0 - n1)(n0 - n2)), leaving out each list's tied pairs, not by "
            "all n(n-1)/2 pairs (that is tau-a).",
        ),
        (_ties_as_concordant, " A pair tied in either list is neither concordant nor discordant."),
        (lambda a, b: _scipy("spearmanr", a, b), " That is Spearman's rho; Kendall's tau counts pairs."),
        (lambda a, b: _scipy("pearsonr", a, b), " That is Pearson's correlation of the values."),
        (lambda a, b: -_scipy("kendalltau", a, b), " The sign is flipped."),
    ]
    answers = []
    for (a, b), got in zip(cases, answer.each([(list(a), list(b)) for a, b in cases])):
        call = f"`rank_agreement({show(a, 60)}, {show(b, 60)})`"
        if is_sequence(got, 2) and _close(got[0], _scipy("kendalltau", a, b), 1e-6):
            raise Wrong(f"{call} returned `{show(got)}`: return only the statistic, tau, as one number.")
        if isinstance(got, Opaque) and "Result" in got.type_name:
            raise Wrong(f"{call} returned scipy's result object: return its `.statistic`, one number.")
        expect(_is_number(got), f"{call} returned `{show(got)}`; return a number in [-1, 1].")
        answers.append(got)
    for i, ((a, b), got) in enumerate(zip(cases, answers)):
        want = _scipy("kendalltau", a, b)
        if _close(got, want, 1e-6):
            continue
        hint = _diagnose(mistakes, cases, answers, i, lambda x, y: _close(x, y, 1e-6))
        raise Wrong(
            f"`rank_agreement({show(a, 60)}, {show(b, 60)})` returned {got:.6g}, expected Kendall's tau-b "
            f"{want:.6g}.{hint}"
        )


QUESTIONS = [
    Question(
        assignment=SUPERNET,
        number=1,
        name="cell_is_live",
        title="Does the cell compute anything?",
        points=2,
        test=_check_cell_is_live,
        hint_text="Walk the edges in the order of `EDGES` (each edge's source node comes before its target) and keep "
        "the set of nodes reached from node 0: a target is reached when some edge into it is not `zero` *and* starts "
        "at a node already reached. Is node 3 in the set at the end?",
    ),
    Question(
        assignment=SUPERNET,
        number=2,
        name="cell_forward",
        title="A cell's forward pass, on numbers",
        points=2,
        test=_check_cell_forward,
        hint_text="Keep a list of node values that starts with `x`. For node j = 1, 2, 3 in turn, go over the edges "
        "(i, j) that end at j: each gives `edge_fns[e]` of node i's value; node j is their sum. The last node is "
        "the answer.",
    ),
    Question(
        assignment=SUPERNET,
        number=3,
        name="perturbation_choice",
        title="DARTS-PT's choice of op",
        points=2,
        test=_check_perturbation_choice,
        hint_text="An op the supernet needs is one whose removal costs accuracy: on each edge, look for the *lowest* "
        "accuracy-without, skipping the op `zero`. `min` over the op indices, with a key, keeps the first of equal "
        "values.",
    ),
    Question(
        assignment=SUPERNET,
        number=4,
        name="parameter_free_share",
        title="The collapse curve",
        points=1,
        test=_check_parameter_free_share,
        hint_text="One number per derived cell: how many of its edges hold an op in `free`, divided by how many "
        "edges it has.",
    ),
    Question(
        assignment=SUPERNET,
        number=5,
        name="rank_agreement",
        title="Kendall's tau-b between supernet and stand-alone accuracy",
        points=1,
        test=_check_rank_agreement,
        hint_text="Over every pair of cells: concordant when both lists order them the same way, discordant when "
        "opposite, neither when tied in a list. tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)), with n0 all pairs and "
        "n1, n2 the pairs tied in each list (scipy.stats.kendalltau computes it).",
    ),
]
