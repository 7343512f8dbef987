"""Project 07c (hardware-aware search): the milestones tell wrong answers apart in plain words, any correct answer
passes, and the project notebook has the course's shape."""

import json
from functools import partial
from pathlib import Path

import pytest

from course import questions
from course.question import CORRECT
from tests import helpers

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "07c_hardware_aware.ipynb"


verdict = partial(helpers.verdict, "07c_hardware_aware")


def _mean(values):
    values = list(values)
    return sum(values) / len(values)


def _pearson(a, b):
    ma, mb = _mean(a), _mean(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    return cov / (sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b)) ** 0.5


def _ranks_without_ties(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    ranks = [0] * len(v)
    for r, i in enumerate(order, 1):
        ranks[i] = r
    return ranks


def _ranks(v):
    """Average ranks, by hand: equal values share the mean of the ranks they span."""
    s = sorted(v)
    return [(s.index(x) + 1 + len(s) - s[::-1].index(x)) / 2 for x in v]


WRONG = [
    ("predict_latency", lambda t, dna: sum(t["ops"][i] for i in dna), "stem"),
    ("predict_latency", lambda t, dna: t["stem"] + sum({t["ops"][i] for i in dna}) + t["head"], "twice"),
    ("mape", lambda p, m: _mean(abs(x - y) / y for x, y in zip(p, m)), "100 times"),
    ("mape", lambda p, m: 100 * _mean(abs(x - y) / x for x, y in zip(p, m) if x), "measured"),
    ("mape", lambda p, m: 100 * _mean((x - y) / y for x, y in zip(p, m)), "absolute"),
    ("spearman", _pearson, "rank each list first"),
    ("spearman", lambda a, b: -_pearson(_ranks(a), _ranks(b)), "sign is flipped"),
    ("spearman", lambda a, b: _pearson(_ranks_without_ties(a), _ranks_without_ties(b)), "average rank"),
    ("admitted_over_budget", lambda p, m, b: [i for i in range(len(p)) if m[i] <= b < p[i]], "rejects"),
    ("admitted_over_budget", lambda p, m, b: [i for i in range(len(p)) if p[i] < b < m[i]], "(<=)"),
    ("admitted_over_budget", lambda p, m, b: [i for i in range(len(p)) if m[i] > b], "admits"),
    ("admitted_over_budget", lambda p, m, b: len([i for i in range(len(p)) if p[i] <= b < m[i]]), "list of indices"),
]


@pytest.mark.parametrize("name, fn, words", WRONG, ids=helpers.wrong_ids(WRONG))
def test_wrong_answers_are_told_what_is_wrong(name, fn, words):
    helpers.assert_told_what_is_wrong("07c_hardware_aware", name, fn, words)


def test_answers_written_another_way_pass():
    """Numpy, pandas and hand-written loops all pass: the checks test behaviour, not the text."""
    import numpy as np
    import pandas as pd

    assert verdict("predict_latency", lambda t, dna: np.sum([t["stem"], t["head"], *np.take(t["ops"], dna)])).correct
    assert verdict("mape", lambda p, m: float(np.mean(np.abs(np.subtract(p, m)) / m) * 100)).correct
    assert verdict("spearman", lambda a, b: _pearson(_ranks(a), _ranks(b))).correct
    assert verdict("spearman", lambda a, b: float(pd.Series(a).corr(pd.Series(b), method="spearman"))).correct
    assert (
        verdict(
            "admitted_over_budget",
            lambda p, m, b: [int(i) for i in np.flatnonzero((np.array(p) <= b) & (np.array(m) > b))],
        ).status
        == CORRECT
    )


def test_the_milestones_are_worth_six_points_with_hints():
    qs = questions("07c")
    assert [q.points for q in qs] == [1, 1, 2, 2] and all(q.hint_text for q in qs)


def test_every_architecture_is_one_parameter_away():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "SAMPLE = " in code and "# 625" in code, "the full 625 is one parameter away"
