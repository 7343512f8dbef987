"""Project 09 (NAS-Bench-201): the milestones' checks (the oracles agree with the tables' own conversions, typical
wrong answers are told what is wrong, answers written another way pass, the untouched exercise is not attempted) and
the checks' independence from the tables."""

import json
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import pearsonr, rankdata, spearmanr

from course import lesson09, questions
from course.question import CORRECT
from nanonas import nb201
from nanonas.cells import EDGES
from tests import helpers

ROOT = Path(__file__).resolve().parents[1]
verdict = partial(helpers.verdict, "09_nas_bench_201")


def test_the_string_oracle_is_the_librarys_and_round_trips():
    rng = np.random.default_rng(0)
    for dna in rng.integers(0, 5, size=(200, 6)).tolist():
        assert lesson09._string(dna) == nb201.to_string(dna) and nb201.from_string(lesson09._string(dna)) == dna


def test_the_halving_oracle_on_a_case_done_by_hand():
    # promoted by 12 epochs: cells 0 and 1 (0.6, 0.5); of those, cell 1 is best at 200; cell 3 (0.9) never trained
    assert lesson09._halving([0.6, 0.5, 0.4, 0.3], [0.1, 0.2, 0.3, 0.9], 2) == (1, 4 * 0.06 + 2)
    assert lesson09._halving([0.5, 0.5], [0.7, 0.7], 5) == (0, 2 * 0.06 + 2), "ties: the first; at most n trained"


def test_the_checks_need_no_tables(monkeypatch):
    """The grader's sandbox cannot read NAS-Bench-201: a check that loaded it would fail there (and tell the answer
    what it is graded on)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a milestone check loaded NAS-Bench-201")

    monkeypatch.setattr(nb201, "load", refuse)
    monkeypatch.setattr(nb201, "columns", refuse)
    for q in questions("09_nas_bench_201"):
        assert verdict(q.name, ORACLE[q.name]).status == CORRECT


def _string_by_node(dna):
    into = {j: [] for j in (1, 2, 3)}
    for op, (i, j) in zip(dna, EDGES):
        into[j].append(f"{nb201.NAMES[op]}~{i}")
    return "+".join(f"|{'|'.join(v)}|" for v in into.values())


def _halving_numpy(low, high, full):
    promoted = np.argsort(-np.asarray(low), kind="stable")[:full]
    return int(promoted[np.argmax(np.asarray(high)[promoted] - 1e-9 * promoted)]), len(low) * 0.06 + len(promoted)


def _budget_numpy(accuracy, latency, budget):
    ms = np.array([np.nan if x is None else x for x in latency])
    fits = ms <= budget  # NaN compares False: unmeasured cells never fit
    return int(np.argmax(np.where(fits, accuracy, -np.inf))) if fits.any() else None


ORACLE = {"nb201_string": lesson09._string, "successive_halving": lesson09._halving}
ORACLE["best_under_budget"] = lesson09._best_under_budget
ORACLE["spearman_within_top"] = lesson09._spearman_within_top


def _rho_by_hand(scores, accuracy, top):
    keep = np.argsort(-np.asarray(accuracy), kind="stable")[:top]
    return float(np.corrcoef(rankdata(np.asarray(scores)[keep]), rankdata(np.asarray(accuracy)[keep]))[0, 1])


ANOTHER_WAY = {
    "nb201_string": _string_by_node,
    "successive_halving": _halving_numpy,
    "best_under_budget": _budget_numpy,
    "spearman_within_top": _rho_by_hand,
}


@pytest.mark.parametrize("name", ANOTHER_WAY)
def test_answers_written_another_way_pass(name):
    assert verdict(name, ANOTHER_WAY[name]).status == CORRECT
    assert verdict(name, ORACLE[name]).correct, "the check's own oracle passes it"


def _halving(low, high, full, promote_low=False, by_low=False, everyone=False, cost=None, first_promoted=False):
    order = sorted(range(len(low)), key=lambda i: low[i], reverse=not promote_low)
    promoted = list(range(len(low))) if everyone else order[:full]
    pick = max(promoted, key=lambda i: (low[i] if by_low else high[i], -i))
    if first_promoted:
        pick = max(promoted, key=lambda i: high[i])  # max keeps the first of equals in promotion order
    n, k = len(low), len(promoted)
    return pick, {None: n * 0.06 + k, "flat": n + k, "cheap only": n * 0.06, "reuse": n * 0.06 + k * 0.94}.get(
        cost, n * 0.06 + full
    )


def _budget(accuracy, latency, budget, strict=False, unmeasured=False, fastest=False, last=False):
    fits = [
        i
        for i, ms in enumerate(latency)
        if (ms is None and unmeasured) or (ms is not None and (ms < budget if strict else ms <= budget))
    ]
    if not fits:
        return None
    if fastest:
        return min(fits, key=lambda i: latency[i] if latency[i] is not None else 0)
    return max(fits, key=lambda i: (accuracy[i], i if last else -i))


def _rho(scores, accuracy, top, by="accuracy", kind="spearman"):
    key = scores if by == "scores" else accuracy
    sign = 1 if by == "worst" else -1
    keep = sorted(range(len(key)), key=lambda i: sign * key[i])[: len(key) if by == "all" else top]
    x, y = [scores[i] for i in keep], [accuracy[i] for i in keep]
    if kind == "pearson":
        return float(pearsonr(x, y).statistic)
    if kind == "ordinal":  # ranks without averaging ties
        return float(np.corrcoef(np.argsort(np.argsort(x)), np.argsort(np.argsort(y)))[0, 1])
    return float(spearmanr(x, y).statistic)


WRONG = [
    ("nb201_string", lambda dna: lesson09._string(dna, names=list(nb201.OPS)), "NAS-Bench-201 spells them"),
    ("nb201_string", lambda dna: lesson09._string(dna, shift=1), "node numbers from 0"),
    ("nb201_string", lambda dna: lesson09._string(dna, by_target=False), "the inputs *of* node"),
    (
        "nb201_string",
        lambda dna: nb201.to_string([dna[nb201.NASLIB_EDGES.index(e)] for e in EDGES]),
        "`cells.EDGES[i]`",
    ),
    ("nb201_string", lambda dna: nb201.to_string(dna).replace("+", ""), "join the three nodes with `+`"),
    ("nb201_string", lambda dna: nb201.to_string(dna).strip("|").replace("|+|", "+"), "`|op~source|op~source|`"),
    ("nb201_string", lambda dna: dna, "return the string"),
    ("successive_halving", partial(_halving, by_low=True), "the best at 12 epochs"),
    ("successive_halving", partial(_halving, everyone=True), "every cell trained in full"),
    (
        "successive_halving",
        lambda lo, hi, k: (max(range(len(hi)), key=lambda i: (hi[i], -i)), _halving(lo, hi, k)[1]),
        "not promoted",
    ),
    ("successive_halving", partial(_halving, promote_low=True), "*highest* 12-epoch"),
    (  # a tie at 200 epochs broken by the order of promotion, not by index
        "successive_halving",
        lambda lo, hi, k: (_halving(lo, hi, k, first_promoted=True)[0], _halving(lo, hi, k)[1]),
        "lowest index",
    ),
    ("successive_halving", lambda *a: _halving(*a)[0], "return a pair"),
    ("successive_halving", partial(_halving, cost="flat"), "costs 12/200"),
    ("successive_halving", partial(_halving, cost="cheap only"), "Add the full trainings"),
    ("successive_halving", partial(_halving, cost="reuse"), "a separate, shorter run"),
    ("successive_halving", partial(_halving, cost="full"), "at most"),
    ("best_under_budget", partial(_budget, strict=True), "exactly at the budget"),
    (
        "best_under_budget",
        lambda a, ms, b: max((i for i in range(len(a)) if ms[i] <= b), key=lambda i: a[i], default=None),
        "did not measure the cell",
    ),
    ("best_under_budget", partial(_budget, unmeasured=True), "not measured"),
    ("best_under_budget", partial(_budget, fastest=True), "the fastest cell"),
    ("best_under_budget", partial(_budget, last=True), "A tie in accuracy"),
    ("best_under_budget", lambda a, ms, b: _budget(a, ms, b) if _budget(a, ms, b) is not None else -1, "return None"),
    ("best_under_budget", lambda a, ms, b: int(np.argmax(a)), "over the budget"),
    ("spearman_within_top", partial(_rho, by="all"), "over every cell"),
    ("spearman_within_top", partial(_rho, by="scores"), "by score"),
    ("spearman_within_top", partial(_rho, by="worst"), "least accurate"),
    ("spearman_within_top", partial(_rho, kind="pearson"), "Pearson's r of the values"),
    ("spearman_within_top", partial(_rho, kind="ordinal"), "average of their ranks"),
    ("spearman_within_top", lambda *a: str(_rho(*a)), "as a number"),
]


@pytest.mark.parametrize("name, fn, words", WRONG, ids=helpers.wrong_ids(WRONG))
def test_wrong_answers_are_told_what_is_wrong(name, fn, words):
    helpers.assert_told_what_is_wrong("09_nas_bench_201", name, fn, words)


def test_not_attempted_is_not_wrong():
    helpers.assert_not_attempted("09_nas_bench_201")


def test_the_notebook_has_the_projects_open_part():
    cells = json.loads((ROOT / "notebooks" / "09_nas_bench_201.ipynb").read_text())["cells"]
    text = ["".join(c["source"]) for c in cells]
    turn = next(t for t in text if "Your turn" in t)
    assert "Rubric (10 points)" in turn and "exercises/09_nas_bench_201.ipynb" in text[-1]
