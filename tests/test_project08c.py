"""Project 08c (a cell-based differentiable supernet): the milestones tell wrong answers apart in plain words, any
correct answer passes (an untouched exercise scoring nothing is test_exercises.py's, for every assignment)."""

import itertools
import math
from functools import partial

import pytest

from course import questions
from nanonas.cells import EDGES, is_live
from tests import helpers

ASSIGNMENT = "08c_cell_supernet"


verdict = partial(helpers.verdict, ASSIGNMENT, EDGES=EDGES)  # its checks read the notebook's EDGES


# -- liveness, with one of its steps wrong


def _reached(dna, zero=4, edges=EDGES, need_source=True):
    reached = {0}
    for op, (i, j) in zip(dna, edges):
        if op != zero and (i in reached or not need_source):
            reached.add(j)
    return reached


def _live_by_paths(dna, zero=4):
    """Another way: some path 0 → ... → 3 of the DAG whose every edge is not `zero`."""
    ops = dict(zip(EDGES, dna))
    paths = [[0, *middle, 3] for r in range(3) for middle in itertools.combinations((1, 2), r)]
    return any(all(ops[a, b] != zero for a, b in zip(p, p[1:])) for p in paths)


# -- a cell's forward pass, with one of its steps wrong


def _nodes(x, fns, edges=EDGES, feed_x=False, multiply=False):
    nodes = [x]
    for j in (1, 2, 3):
        arriving = [fn(x if feed_x else nodes[i]) for fn, (i, k) in zip(fns, edges) if k == j]
        nodes.append(math.prod(arriving) if multiply else sum(arriving))
    return nodes


# -- DARTS-PT's choice, with one of its steps wrong


def _pick(acc_without, zero=4, best=min, lowest=True, skip_zero=True):
    chosen = []
    for row in acc_without:
        ops = [k for k in range(len(row)) if k != zero or not skip_zero]
        value = best(row[k] for k in ops)
        ties = [k for k in ops if row[k] == value]
        chosen.append(ties[0] if lowest else ties[-1])
    return chosen


def _set_zero_to_one(acc_without, zero=4):
    for row in acc_without:
        row[zero] = 1.0  # excludes zero, but changes the caller's data
    return _pick(acc_without, zero)


# -- Kendall's tau, with one of its steps wrong


def _counts(a, b):
    pairs = list(itertools.combinations(range(len(a)), 2))
    signs = [(a[i] - a[j]) * (b[i] - b[j]) for i, j in pairs]
    return sum(s > 0 for s in signs), sum(s < 0 for s in signs), len(pairs)


def _tau_a(a, b):
    c, d, n0 = _counts(a, b)
    return (c - d) / n0


def _tau_b(a, b):
    c, d, n0 = _counts(a, b)
    n1 = sum(a[i] == a[j] for i, j in itertools.combinations(range(len(a)), 2))
    n2 = sum(b[i] == b[j] for i, j in itertools.combinations(range(len(b)), 2))
    return (c - d) / math.sqrt((n0 - n1) * (n0 - n2))


def _ranks(v):
    s = sorted(v)
    return [(s.index(x) + 1 + len(s) - s[::-1].index(x)) / 2 for x in v]


def _pearson(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    return cov / math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))


WRONG = [
    ("cell_is_live", lambda dna, zero=4: dna[3] != zero, "direct edge"),
    ("cell_is_live", lambda dna, zero=4: any(op != zero for op in dna), "follow the paths"),
    ("cell_is_live", lambda dna, zero=4: 3 in _reached(dna, zero, need_source=False), "node i is itself reached"),
    ("cell_is_live", lambda dna, zero=4: 3 in _reached(dna, zero, edges=sorted(EDGES)), "order of `EDGES`"),
    ("cell_is_live", lambda dna, zero=4: _reached(dna, zero) == {0, 1, 2, 3}, "may be cut off"),
    ("cell_is_live", lambda dna, zero=4: all(dna[e] != zero for e in (3, 4, 5)), "One path"),
    ("cell_is_live", lambda dna, zero=4: 3 in _reached(dna, 4), "use the `zero` argument"),
    ("cell_is_live", lambda dna, zero=4: int(3 in _reached(dna, zero)), "True or False"),
    ("cell_forward", lambda x, fns: _nodes(x, fns)[2], "That is node 2"),
    ("cell_forward", lambda x, fns: _nodes(x, fns, feed_x=True)[3], "*source node* i"),
    ("cell_forward", lambda x, fns: _nodes(x, fns, multiply=True)[3], "it does not multiply"),
    ("cell_forward", lambda x, fns: _nodes(x, fns, edges=sorted(EDGES))[3], "op of `EDGES[e]`"),
    ("cell_forward", lambda x, fns: sum(_nodes(x, fns)), "sum of all four nodes"),
    ("cell_forward", lambda x, fns: _nodes(x, fns), "return one number"),
    ("perturbation_choice", lambda a, zero=4: _pick(a, zero, best=max), "*least*"),
    ("perturbation_choice", lambda a, zero=4: _pick(a, zero, skip_zero=False), "`zero` is never chosen"),
    ("perturbation_choice", lambda a, zero=4: _pick(a, zero, best=max, skip_zero=False), "never `zero`"),
    ("perturbation_choice", lambda a, zero=4: _pick(a, zero, lowest=False), "lowest op index"),
    ("perturbation_choice", lambda a, zero=4: _pick(a, 4), "use the `zero` argument"),
    ("perturbation_choice", lambda a, zero=4: [row[k] for row, k in zip(a, _pick(a, zero))], "op *indices*"),
    ("perturbation_choice", lambda a, zero=4: _pick(a, zero)[0] if a else 0, "*per edge*"),
    ("perturbation_choice", _set_zero_to_one, "in place"),
    ("parameter_free_share", lambda d, free=(2, 3, 4): [sum(op in free for op in c) for c in d], "counts"),
    ("parameter_free_share", lambda d, free=(2, 3, 4): [100 * sum(op in free for op in c) / 6 for c in d], "percent"),
    ("parameter_free_share", lambda d, free=(2, 3, 4): [sum(op in free for op in c) / 6 for c in d], "len(dna)"),
    ("parameter_free_share", lambda d, free=(2, 3, 4): [len(set(c) & set(free)) / len(c) for c in d], "distinct"),
    ("parameter_free_share", lambda d, free=(2, 3, 4): [sum(op not in free for op in c) / len(c) for c in d], "*with*"),
    ("parameter_free_share", lambda d, free=(2, 3, 4): [sum(op > 1 for op in c) / len(c) for c in d], "the argument"),
    ("parameter_free_share", lambda d, free=(2, 3, 4): sum(op in free for c in d for op in c) / 6, "single number"),
    ("parameter_free_share", lambda d, free=(2, 3, 4): [sum(op in free for op in c) / 6 for c in d[1:]], "shares."),
    ("rank_agreement", _tau_a, "tau-a"),
    ("rank_agreement", lambda a, b: _pearson(_ranks(a), _ranks(b)), "Spearman"),
    ("rank_agreement", _pearson, "Pearson"),
    ("rank_agreement", lambda a, b: -_tau_b(a, b), "sign is flipped"),
    ("rank_agreement", lambda a, b: (_tau_b(a, b), 0.05), "only the statistic"),
    ("rank_agreement", lambda a, b: __import__("scipy.stats").stats.kendalltau(a, b), "`.statistic`"),
]


@pytest.mark.parametrize("name, fn, words", WRONG, ids=helpers.wrong_ids(WRONG))
def test_wrong_answers_are_told_what_is_wrong(name, fn, words):
    helpers.assert_told_what_is_wrong(ASSIGNMENT, name, fn, words, EDGES=EDGES)


def test_answers_written_another_way_pass():
    """Paths enumerated, recursion, numpy, scipy and hand-written loops all pass: the checks test behaviour."""
    import numpy as np
    from scipy.stats import kendalltau

    assert verdict("cell_is_live", lambda dna, zero=4: _live_by_paths(dna, zero)).correct
    assert verdict("cell_is_live", lambda dna, zero=4: bool(np.any([is_live([4 if o == zero else 0 for o in dna])])))

    def recursive(x, fns):
        node = lambda j: x if j == 0 else sum(f(node(i)) for f, (i, k) in zip(fns, EDGES) if k == j)
        return node(3)

    assert verdict("cell_forward", recursive).correct
    masked = lambda a, zero=4: [int(np.argmin(np.where(np.arange(len(r)) == zero, np.inf, r))) for r in a]
    assert verdict("perturbation_choice", masked).correct
    share = lambda d, free=(2, 3, 4): [float(np.isin(c, list(free)).mean()) for c in d]
    assert verdict("parameter_free_share", share).correct
    assert verdict("rank_agreement", _tau_b).correct
    assert verdict("rank_agreement", lambda a, b: kendalltau(a, b)[0]).correct  # a numpy float


def test_the_milestones_are_worth_eight_points_with_hints():
    qs = questions("08c")
    assert [q.points for q in qs] == [2, 2, 2, 1, 1] and all(q.hint_text for q in qs)
    assert not any("def " in q.hint_text or "return " in q.hint_text for q in qs), "hints nudge, they give no code"
