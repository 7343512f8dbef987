"""Project 07a (multi-objective NAS): the milestones tell wrong answers apart in plain words, the committed Optuna
comparison is what benchmarks/optuna_nsga2.py computes, and the notebook has the course's project shape."""

import importlib.util
import json
import statistics
from functools import partial
from pathlib import Path

import pytest

from course.question import CORRECT
from nanonas.bench import NanoBench
from nanonas.pareto import dominates, hypervolume_2d
from tests import helpers

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "07a_multi_objective.ipynb"
RESULT = ROOT / "benchmarks" / "results" / "optuna_nsga2.json"


verdict = partial(helpers.verdict, "07a")


def _ends(points, step):
    ends = list(range(step, len(points) + 1, step))
    return ends + [len(points)] if points and (not ends or ends[-1] != len(points)) else ends


def _pick(records, budget, margin, cost="latency_b1_ms", accuracy_order=True, strict=False):
    fits = [r for r in records if (r[cost] < budget if strict else r[cost] <= budget)]
    if not fits:
        return None
    best = max(r["val_accuracy"] for r in fits)
    close = [r for r in fits if r["val_accuracy"] >= best - margin]
    key = (lambda r: (r[cost], -r["val_accuracy"])) if accuracy_order else (lambda r: r[cost])
    return min(close, key=key)["dna"]


WRONG = [
    ("coverage", lambda a, b: sum(any(dominates(p, q, tie=0) for p in a) for q in b) / len(b), "not only strict"),
    ("coverage", lambda a, b: sum(any(all(x >= y for x, y in zip(p, q)) for p in a) for q in b), "not a count"),
    (
        "hypervolume_curve",
        lambda pts, ref, step: [hypervolume_2d(pts[max(0, k - step) : k], ref) for k in _ends(pts, step)],
        "everything evaluated so far",
    ),
    (
        "hypervolume_curve",
        lambda pts, ref, step: [hypervolume_2d(pts[:k], ref) for k in range(step, len(pts) + 1, step)],
        "not a multiple of step",
    ),
    (
        "hypervolume_curve",
        lambda pts, ref, step: [hypervolume_2d(pts[: k - 1], ref) for k in _ends(pts, step)],
        "Off by one",
    ),
    ("pick_for_budget", lambda rec, b, m, cost="latency_b1_ms": _pick(rec, b, 0.0, cost), "within the margin"),
    ("pick_for_budget", lambda rec, b, m, cost="latency_b1_ms": _pick(rec, b, m, cost, strict=True), "equal to"),
    (
        "pick_for_budget",
        lambda rec, b, m, cost="latency_b1_ms": _pick(rec, b, m, cost, accuracy_order=False),
        "on equal cost",
    ),
]


@pytest.mark.parametrize("name, fn, words", WRONG, ids=helpers.wrong_ids(WRONG))
def test_wrong_answers_are_told_what_is_wrong(name, fn, words):
    helpers.assert_told_what_is_wrong("07a", name, fn, words)


def test_answers_written_another_way_pass():
    """Numpy for the pick, a set-free loop for coverage, an incremental archive for the curve: all correct."""
    import numpy as np

    def coverage(a, b):
        covered = 0
        for q in b:
            for p in a:
                if min(x - y for x, y in zip(p, q)) >= 0:
                    covered += 1
                    break
        return covered / len(b)

    def hypervolume_curve(points, reference, step):
        out, archive = [], []
        for i, p in enumerate(points, 1):
            archive.append(p)
            if i % step == 0 or i == len(points):
                out.append(hypervolume_2d(archive, reference))
        return out

    def pick_for_budget(records, budget, margin, cost="latency_b1_ms"):
        acc, c = np.array([r["val_accuracy"] for r in records]), np.array([r[cost] for r in records])
        ok = np.flatnonzero(c <= budget)
        if not len(ok):
            return None
        close = [i for i in ok if acc[i] >= acc[ok].max() - margin]
        return records[min(close, key=lambda i: (c[i], -acc[i], i))]["dna"]

    for name, fn in [
        ("coverage", coverage),
        ("hypervolume_curve", hypervolume_curve),
        ("pick_for_budget", pick_for_budget),
    ]:
        assert verdict(name, fn).status == CORRECT, name


def _script():
    spec = importlib.util.spec_from_file_location("optuna_nsga2", ROOT / "benchmarks" / "optuna_nsga2.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)  # imports nanonas only: Optuna is imported where it runs
    return script


def test_the_committed_optuna_comparison_is_what_the_script_computes():
    """Our NSGA-II's curves in the file are reproduced now (seeds 0 and 1); every curve is a ratio that never falls
    (an archive only grows) and every searcher got exactly the budget of distinct evaluations."""
    script, committed = _script(), json.loads(RESULT.read_text())
    assert set(committed["tables"]) == set(script.TABLES) and committed["budget"] == script.BUDGET
    for name, table in committed["tables"].items():
        assert table["evaluations"] == list(range(script.STEP, script.BUDGET + 1, script.STEP))
        for label in ("ours", "optuna", "random"):
            curves = table["curves"][label]
            assert len(curves) == committed["seeds"] >= 20, (name, label)
            assert all(0 < c[0] and all(a <= b + 1e-12 for a, b in zip(c, c[1:])) and c[-1] <= 1 for c in curves)
        assert all(t >= script.BUDGET for t in table["optuna_trials"])
        bench = NanoBench.load(name)
        for seed in (0, 1):
            order, _ = script.run_ours(bench, seed)
            assert script.archive_curve(order, bench) == pytest.approx(table["curves"]["ours"][seed], abs=1e-12)
    text = (ROOT / "benchmarks" / "results" / "optuna_nsga2.md").read_text()
    end = committed["tables"]["digits_variations"]["curves"]
    assert f"ours {statistics.median(c[-1] for c in end['ours']):.4f}, Optuna" in text, "md and json disagree"


def test_archive_curve_and_front_found_on_a_known_order():
    """The whole table, evaluated in any order, ends at the exact hypervolume and the whole exact front."""
    script, bench = _script(), NanoBench.load("digits")
    everything = [r["dna"] for r in bench]
    curve = script.archive_curve(everything, bench, step=125, budget=625)
    assert curve[-1] == pytest.approx(1.0) and len(curve) == 5
    assert script.front_found(everything, bench) == 1.0
    assert script.front_found([[4, 4, 4, 4]], bench) == 0.0  # all zero: on no front


def test_optuna_stays_in_its_benchmark_and_one_switch_trains_for_real():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    text = ["".join(c["source"]) for c in cells]
    code = "\n".join(t for c, t in zip(cells, text) if c["cell_type"] == "code")
    assert "FULL_RUN = False" in text[1], "the default run looks up the table; one switch trains for real"
    assert "import optuna" not in code and "benchmarks/optuna_nsga2.py" in "\n".join(text), "optuna: file only"
