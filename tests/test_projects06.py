"""Projects 06a-c: the milestones tell wrong answers apart in plain words, and the shipped grown table is what the
notebook and benchmarks/projects06.py say it is."""

import importlib.util
import inspect
import json
import math
import re
from pathlib import Path

import pytest

from course import lab
from course.question import CORRECT, INCORRECT
from nanonas.bench import NanoBench
from tests.helpers import assert_told_what_is_wrong, verdict

ROOT = Path(__file__).resolve().parents[1]
GROWN = ROOT / "benchmarks" / "results" / "projects06_grown"


WRONG = [
    ("06a", "receptive_field", lambda layers: 1 + sum(k - 1 for k, d in layers), "dilat"),
    ("06a", "top_k_count", lambda records, op, k: sum(r["dna"].count(op) for r in records[:k]), "val_accuracy"),
    ("06a", "build_hours", lambda n, p, s, sec, w: p**n * s * sec / w / 3600, "n_ops ** positions"),
    ("06b", "marginal", lambda records, position, n_ops: [0.0] * n_ops, "the mean for op"),
    ("06b", "mean_ci", lambda v: (sum(v) / len(v), min(v), max(v)), "1.96"),
    ("06b", "interaction", lambda records, p, q, n: [[0.5] * n for _ in range(n)], "expected"),
    ("06c", "wins_ties_losses", lambda a, b: (len(a), 0, 0), "paired"),
    ("06c", "rank_biserial", lambda a, b: -1.0 if sum(a) > sum(b) else 1.0, "expected"),
    ("06c", "returned_true", lambda noisy, true, budget: max(true[:budget]), "cannot see it"),
    ("06c", "darts_epochs", lambda e, n, s, c: max(0, math.floor(e * n / (2 * s / c))), "derived architecture"),
    ("06c", "darts_epochs", lambda e, n, s, c: max(0, math.floor(e * n / (2 * s / c)) - 1), "not one DARTS epoch"),
    ("06c", "darts_epochs", lambda e, n, s, c: max(0, round((e - 1) * n / (2 * s / c))), "never to the nearest"),
    ("06c", "darts_epochs", lambda e, n, s, c: max(0, math.floor((e - 1) * n / (s / c))), "*twice* per batch"),
    ("06c", "darts_epochs", lambda e, n, s, c: max(0, math.floor((e - 1) * n * 2 * s / c)), "upside down"),
    ("06c", "darts_epochs", lambda e, n, s, c: max(0, math.floor((e - 1) / (2 * s / c))), "`evaluations * epochs`"),
    ("06c", "darts_epochs", lambda e, n, s, c: int((e - 1) * n // (2 * s / c)), "never a negative count"),
    ("06c", "darts_epochs", lambda e, n, s, c: (e - 1) * n / (2 * s / c), "only whole epochs"),
]


@pytest.mark.parametrize("assignment, name, fn, words", WRONG, ids=[f"{w[1]}-{w[3][:20]}" for w in WRONG])
def test_wrong_answers_are_told_what_is_wrong(assignment, name, fn, words):
    assert_told_what_is_wrong(assignment, name, fn, words)


def test_a_sign_flip_and_an_off_by_one_are_named():
    flipped = verdict("06c", "rank_biserial", lambda a, b: -_rank_biserial(a, b))
    assert flipped.status == INCORRECT and "sign is flipped" in flipped.feedback
    population_sd = verdict("06b", "mean_ci", _mean_ci_population)
    assert population_sd.status == INCORRECT and "n - 1" in population_sd.feedback


def test_answers_written_another_way_pass():
    """Any correct answer passes: numpy for the band, a loop with sorting for the effect size."""
    import numpy as np

    def mean_ci(values):
        v = np.asarray(values, dtype=float)
        half = 1.96 * v.std(ddof=1) / np.sqrt(len(v))
        return (float(v.mean()), float(v.mean() - half), float(v.mean() + half))

    assert verdict("06b", "mean_ci", mean_ci).status == CORRECT
    assert verdict("06c", "rank_biserial", _rank_biserial).status == CORRECT
    in_floats = lambda e, n, s, c: max(0.0, (e - 1) * n * c // (2 * s))  # noqa: E731  (49.0 is a whole 49)
    assert verdict("06c", "darts_epochs", in_floats).status == CORRECT


def test_the_darts_budget_milestone_agrees_with_the_benchmark_and_the_notebook():
    """Milestone 4's reference, on the project's own numbers, gives the epochs the shipped DARTS runs trained for."""
    from course.question import reference

    cost = json.loads(DARTS_RESULTS.read_text())["cost"]
    supernet, candidate = cost["supernet_macs"], cost["mean_candidate_macs"]
    darts_epochs = reference("06c_compare_searches").darts_epochs
    assert darts_epochs(50, 10, supernet, candidate) == cost["darts_epochs"] == 49
    assert darts_epochs(1, 10, supernet, candidate) == darts_epochs(0, 10, supernet, candidate) == 0


def _rank_biserial(a, b):
    d = sorted((abs(x - y), x > y) for x, y in zip(a, b) if x != y)
    ranks, i = {}, 0
    while i < len(d):
        j = i
        while j < len(d) and d[j][0] == d[i][0]:
            j += 1
        for k in range(i, j):
            ranks[k] = (i + j + 1) / 2
        i = j
    plus = sum(ranks[k] for k, (_, pos) in enumerate(d) if pos)
    return (2 * plus - sum(ranks.values())) / sum(ranks.values())


def _mean_ci_population(values):
    n, mean = len(values), sum(values) / len(values)
    half = 1.96 * (sum((v - mean) ** 2 for v in values) / n) ** 0.5 / n**0.5
    return (mean, mean - half, mean + half)


def test_the_shipped_grown_table_is_complete_and_built_with_course_labs_ops():
    """The table stores each op's source as it was built: course.lab's ops (which the notebook and the script use) are
    the same code, up to formatting."""
    bench = NanoBench.load(GROWN)
    recipe = bench.meta["recipe"]
    assert bench.meta["complete"] and len(bench) == 49 and bench.meta["runs"] == 49
    assert recipe["ops"] == list(lab.GROWN_OPS) and recipe["positions"] == lab.GROWN_POSITIONS
    assert (recipe["seeds"], recipe["dataset"]) == (list(lab.GROWN_SEEDS), "digits")
    code = lambda text: re.sub(r",?\s*\)", ")", " ".join(text.split()))  # noqa: E731  formatting aside
    for name, make in [("sep_conv3x3", lab.sep_conv), ("dil_conv3x3", lab.dil_conv)]:
        assert code(bench.meta["ops_source"][name]) == code(inspect.getsource(make)), name
    assert "lab.GROWN_OPS" in (ROOT / "notebooks" / "06a_grow_the_space.ipynb").read_text()
    assert "from course.lab import GROWN_OPS" in (ROOT / "benchmarks" / "projects06.py").read_text()


def test_an_architecture_with_skips_is_the_shorter_network():
    """06a reads the digits table's DNAs with `skip` at two positions as 2-position networks: seed 0 agrees."""
    grown, digits = NanoBench.load(GROWN), NanoBench.load("digits")
    same = digits.query([1, 2, 3, 3])["val_accuracies"][0]
    assert grown.query([1, 2])["val_accuracies"][0] == pytest.approx(same, abs=1e-6)


DARTS_RESULTS = ROOT / "benchmarks" / "results" / "darts_headtohead.json"


def _darts_script():
    spec = importlib.util.spec_from_file_location("darts_headtohead", ROOT / "benchmarks" / "darts_headtohead.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_a_darts_epoch_costs_every_op_at_every_position_twice():
    """06c's cost unit against a count made another way: the supernet's MACs are those of the five one-op chains less
    the four extra stems and heads ([zero] * 4 is a stem and a head alone), and the table's mean MACs are the stem and
    head plus the mean op at each position."""
    from nanonas import Task, build_model
    from nanonas.measure import count_macs

    chain = [count_macs(build_model([op] * 4), (1, 8, 8)) for op in range(5)]  # op 4 is zero: stem + head
    supernet = sum(chain) - 4 * chain[4]
    mean_candidate = chain[4] + sum(c - chain[4] for c in chain) / 5
    unit = _darts_script().cost_unit(NanoBench.load("digits"), Task(None))
    assert unit["supernet_macs"] == supernet
    assert unit["mean_candidate_macs"] == pytest.approx(mean_candidate, abs=0.1)
    assert unit["darts_epoch_in_candidate_epochs"] == pytest.approx(2 * supernet / mean_candidate, abs=1e-3)
    spent = unit["darts_epochs"] * 2 * supernet / mean_candidate + 10  # its epochs, then one evaluation of 10 epochs
    assert spent <= 50 * 10 < spent + 2 * supernet / mean_candidate, "the budget of 50 evaluations, not one epoch less"


def test_the_shipped_darts_runs_are_what_the_script_and_notebook_say():
    shipped = json.loads(DARTS_RESULTS.read_text())
    from nanonas import Task

    assert shipped["cost"] == _darts_script().cost_unit(NanoBench.load("digits"), Task(None))
    seeds = {
        d: sorted(r["seed"] for r in shipped["runs"] if r["dataset"] == d) for d in ("digits", "digits_variations")
    }
    assert (
        seeds["digits"] == list(range(len(seeds["digits"])))
        and seeds["digits_variations"] == seeds["digits"][: len(seeds["digits_variations"])]
    ), "seeds 0, 1, 2... on both datasets, paired with the table searches' seeds"
    for r in shipped["runs"]:
        assert r["epochs"] == shipped["cost"]["darts_epochs"] == len(r["derived_per_epoch"])
        assert r["derived"] == r["derived_per_epoch"][-1] and 4 not in r["derived"], "derive() never picks zero"
        assert r["cpu_seconds"] > 0 and len(r["candidate_evaluations"]) == 2
    notebook = (ROOT / "notebooks" / "06c_compare_searches.ipynb").read_text()
    assert "darts_headtohead.json" in notebook and "benchmarks/darts_headtohead.py" in notebook


@pytest.mark.slow
def test_a_short_darts_run_repeats_the_first_epochs_of_a_shipped_one():
    """The shipped runs came from this code, and epoch e of a 49-epoch run is an e-epoch search (the weights' learning
    rate is constant), which 06c's convergence curves rely on. One torch thread (conftest.py), 2 epochs: ~2 CPU s."""
    from nanonas import Task, load_dataset
    from nanonas.core import darts

    shipped = json.loads(DARTS_RESULTS.read_text())
    run = next(r for r in shipped["runs"] if r["dataset"] == "digits" and r["seed"] == 0)
    trace = []
    task = Task(load_dataset("digits"), seed=0)
    darts(lambda dna: 0.0, task, epochs=2, arch_lr=run["arch_lr"], on_epoch=lambda e, w, dna, *_: trace.append(dna))
    assert trace == run["derived_per_epoch"][:2]
