"""Graded exercises: solutions score full marks, untouched exercises score 0, wrong answers get the right words,
broken submissions are graded without stopping the batch, and exercises/ is generated from solutions/."""

import csv
import importlib
import importlib.util
import json
import random
import shutil
from collections import deque

import nbformat
import pytest
import torch

from course import (
    ASSIGNMENTS,
    CORRECT,
    INCORRECT,
    MISSING,
    NOT_ATTEMPTED,
    bind,
    generate,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    questions,
)
from course.question import CODE_SPAN, Feedback, Question, reference
from nanonas import cli
from tests.helpers import nbgrader_course, needs_nbgrader, verdict
from tests.test_notebooks import ROOT

LESSONS = list(ASSIGNMENTS)


# -- the exercise notebooks are generated from the solutions, and carry nbgrader's metadata


def test_exercises_are_in_sync_with_solutions():
    assert generate.out_of_sync(ROOT) == [], "run `nanonas exercises sync` after editing solutions/"


def test_out_of_sync_is_detected(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    source = ROOT / "solutions" / "03_evolution.ipynb"
    (tmp_path / "solutions" / source.name).write_text(source.read_text())
    assert generate.out_of_sync(tmp_path) == ["exercises/03_evolution.ipynb is missing"]
    assert [p.name for p in generate.sync(tmp_path)] == ["03_evolution.ipynb"]
    assert generate.out_of_sync(tmp_path) == []
    exercise = tmp_path / "exercises" / source.name
    exercise.write_text(exercise.read_text().replace("raise NotImplementedError()", "return 42"))
    assert generate.out_of_sync(tmp_path) == ["exercises/03_evolution.ipynb is out of date"]
    assert cli.main(["exercises", "check", "--root", str(tmp_path)]) == 1
    assert cli.main(["exercises", "sync", "--root", str(tmp_path)]) == 0
    assert cli.main(["exercises", "check", "--root", str(tmp_path)]) == 0


def test_solution_regions_become_nbgraders_stub():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION\n\n\nprint(f(1))"
    stub = "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n\nprint(f(1))"
    assert generate.strip_solutions(source) == stub
    assert generate.strip_solutions("### BEGIN SOLUTION\na = 1\n### END SOLUTION") == (
        "# YOUR CODE HERE\nraise NotImplementedError()"
    )
    for broken in ("### BEGIN SOLUTION\na = 1", "a = 1\n### END SOLUTION", "### BEGIN SOLUTION\n### BEGIN SOLUTION"):
        with pytest.raises(ValueError, match="SOLUTION"):
            generate.strip_solutions(broken)


@pytest.mark.parametrize("lesson", LESSONS)
def test_notebooks_carry_nbgrader_metadata(lesson):
    qs = questions(lesson)
    assert 3 <= len(qs) <= 6 and [q.number for q in qs] == list(range(1, len(qs) + 1))
    solution = nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / f"{lesson}.ipynb", as_version=4)
    metas = [c.metadata["nbgrader"] for c in solution.cells]  # every cell has nbgrader metadata
    assert all(m["schema_version"] == 3 and m["grade_id"] for m in metas)
    assert len({m["grade_id"] for m in metas}) == len(metas), "grade_ids are unique"
    assert "Setup" in solution.cells[1].source and "on a 2-core" in solution.cells[1].source
    for q in qs:
        cells = {m["grade_id"]: (c, m) for c, m in zip(solution.cells, metas)}
        answer, a = cells[f"{q.task}_answer"]
        check, g = cells[f"{q.task}_check"]
        assert a["solution"] and not a["grade"] and not a["locked"]
        assert "### BEGIN SOLUTION" in answer.source and f"def {q.name}(" in answer.source
        assert g["grade"] and g["locked"] and not g["solution"] and g["points"] == q.points
        assert check.source.startswith(f"{q.task}.check()")
    for cell in exercise.cells:
        assert "BEGIN SOLUTION" not in cell.source
        if cell.metadata["nbgrader"]["solution"]:
            assert "# YOUR CODE HERE\n" in cell.source and "raise NotImplementedError()" in cell.source


# -- the checks, run here: the references pass, wrong answers get plain words


def _containers(value, kind):
    """`value` with every list and tuple in it (nested too) turned into `kind`; other values as they are."""
    if type(value) in (list, tuple):
        return kind(_containers(v, kind) for v in value)
    return value


def _written_with(fn, kind):
    return lambda *args, **kwargs: _containers(fn(*args, **kwargs), kind)


@pytest.mark.parametrize("kind", [tuple, list])
@pytest.mark.parametrize("lesson", LESSONS)
def test_lists_and_tuples_are_interchangeable_in_answers(lesson, kind):
    """One rule in every check: a tuple passes wherever a list does (a DNA, a list of DNAs or of indices), and a list
    wherever a tuple does (a pair, a triple). Each reference, its every list and tuple turned into `kind`, passes."""
    solved = reference(lesson)._load()
    answers = {q.name: _written_with(solved[q.name], kind) for q in questions(lesson)}
    verdicts = [q.verdict() for q in bind(lesson, answers)]
    assert [v.status for v in verdicts] == [CORRECT] * len(verdicts), [v.feedback for v in verdicts]


def test_feedback_sets_backticked_spans_as_code_and_escapes_the_rest():
    text = (
        "`best_under(bench, 0.1)` returned `['a<b', \"x&y\"]`, the *true* best; return `None` <script> or "
        "`n_ops ** k`, (k - 1) * d + 1 pixels (one ` left)."
    )
    shown = Feedback("✗ Not yet (q4, 2 pt)", text, INCORRECT)._repr_html_()
    assert "<code>best_under(bench, 0.1)</code>" in shown and "<code>None</code>" in shown
    assert "<code>['a&lt;b', \"x&amp;y\"]</code>" in shown, shown
    assert "<em>true</em>" in shown and "<code>n_ops ** k</code>" in shown and "(k - 1) * d + 1" in shown
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "(one ` left)" in shown
    assert repr(Feedback("✗ Not yet", text, INCORRECT)).endswith(text), "plain text keeps the backticks"
    hint = Feedback("Hint (q3)", questions("03")[2].hint_text, "hint")._repr_html_()
    assert "<code>rng</code>" in hint and "`" not in hint, "hints are rendered the same way"


def test_not_attempted_missing_and_wrong_are_told_apart():
    def stub(dna, rng):
        raise NotImplementedError()

    q = lesson02.QUESTIONS[1]
    assert q.bind({"mutate": stub}).verdict().status == NOT_ATTEMPTED
    assert "not attempted yet" in q.bind({"mutate": stub}).verdict().feedback
    missing = q.bind({}).verdict()
    assert missing.status == MISSING and "`mutate` is not defined" in missing.feedback
    assert q.bind({"mutate": 3}).verdict().status == INCORRECT
    wrong = q.bind({"mutate": lambda dna, rng: list(dna)}).verdict()
    assert wrong.status == INCORRECT and wrong.points == 0 and "returned the same DNA" in wrong.feedback


def test_check_prints_feedback_and_raises_only_for_nbgrader(capsys, monkeypatch):
    q = lesson05.QUESTIONS[0].bind({"dominates": lambda a, b: all(x >= y for x, y in zip(a, b))})
    q.check()  # wrong, but a learner gets words, not a traceback
    out = capsys.readouterr().out
    assert "Not yet" in out and "never dominates an equal one" in out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="never dominates an equal one"):
        q.check()
    lesson05.QUESTIONS[0].bind({"dominates": lesson05.REFERENCE.dominates}).check()  # correct: no exception
    q.hint()
    q.solution()
    assert "def dominates(a, b):" in capsys.readouterr().out


def test_a_solution_is_shown_without_what_its_notebook_s_setup_prints(tmp_path, monkeypatch, capsys):
    nb = nbformat.v4.new_notebook()
    setup = nbformat.v4.new_code_cell("print('edges by DNA position: ...')\nSCALE = 2")
    answer = nbformat.v4.new_code_cell("def double(x):\n    return SCALE * x")
    setup.metadata["nbgrader"], answer.metadata["nbgrader"] = {"grade_id": "setup"}, {"grade_id": "q1_answer"}
    nb.cells = [setup, answer]
    nbformat.write(nb, tmp_path / "99_probe.ipynb")
    monkeypatch.setenv("NANONAS_SOLUTIONS", str(tmp_path))
    probe = reference("99_probe")
    assert probe.double(3) == 6 and probe.source("q1") == "def double(x):\n    return SCALE * x"
    assert "edges by DNA position" not in capsys.readouterr().out


def _mutate_same_for_seed_3(dna, rng):
    child = list(dna)
    i = rng.randrange(len(child))
    child[i] = rng.randrange(5)  # may draw the same op again
    return child


NEIGHBOURS = lambda dna: lesson02.REFERENCE.neighbours(dna)  # noqa: E731

WRONG = [  # (assignment, question number, answer, words the feedback must contain)
    ("02", 2, _mutate_same_for_seed_3, "your `mutate` returned the same DNA"),
    ("02", 2, lambda dna, rng: [random.randrange(5) if i == 0 else x for i, x in enumerate(dna)], "seed"),
    (
        "02",
        1,
        lambda names: [["conv3x3", "conv5x5", "maxpool", "skip", "zero"].index(n) for n in names[:4]],
        "any number of positions",
    ),
    ("02", 3, lambda a, b, rng: a[:2] + b[2:], "never cut"),
    (
        "02",
        5,
        lambda fitness: [d for d in fitness if all(fitness[tuple(n)] < fitness[d] for n in NEIGHBOURS(list(d)))],
        "only equal",
    ),
    ("03", 1, lambda bench, dna: 100 * lesson03.REFERENCE.regret(bench, dna), "percentage points"),
    (
        "03",
        3,
        lambda pop, fitness, rng, k=3: max((rng.choice(pop) for _ in range(k)), key=fitness),
        "can never be one of the",
    ),
    ("03", 3, lambda pop, fitness, rng, k=3: max(pop, key=fitness), "always returned the same member"),
    ("04", 1, lambda a: torch.exp(a) / torch.exp(a).sum(), "overflows"),
    ("04", 2, lambda x, ops, w: sum(wi * op(x) for wi, op in zip(torch.softmax(w, 0), ops)), "softmax"),
    ("04", 3, lambda alphas: alphas.argmax(dim=1).tolist(), "picked `zero`"),
    ("04", 3, lambda alphas: lesson04.REFERENCE.derive(alphas.detach()), None),  # correct: detach is fine
    ("04", 3, lambda alphas: alphas.clamp_(max=9).argmax(1).tolist(), "in-place operation"),  # torch's words
    (
        "04",
        4,
        lambda net, w_opt, a_opt, t, v: lesson04.REFERENCE.bilevel_step(net, w_opt, a_opt, v, t),
        "swap them",
    ),
    ("04", 4, lesson04._weights_first, "before the alphas"),
    ("04", 4, lesson04._no_zero_grad, "zero_grad"),
    ("05", 1, lambda a, b: all(x >= y for x, y in zip(a, b)), "never dominates an equal one"),
    ("05", 2, lambda pts: sorted(range(len(pts)), key=lambda i: pts[i])[-1:], "misses index"),
    (
        "05",
        3,
        lambda pts, ref: sum((x - ref[0]) * (y - ref[1]) for x, y in pts if x > ref[0] and y > ref[1]),
        "counted twice",
    ),
    (
        "05",
        4,
        lambda bench, budget: lesson05.REFERENCE.best_under(bench, budget - 1e-12),
        "equal to the budget fits",
    ),
]


@pytest.mark.parametrize("lesson, number, answer, words", WRONG)
def test_wrong_answers_get_plain_words(lesson, number, answer, words):
    v = verdict(lesson, number, answer)
    if words is None:
        assert v.status == CORRECT, v.feedback
    else:
        assert v.status == INCORRECT and v.points == 0
        assert words in v.feedback, v.feedback
        assert CODE_SPAN.search(v.feedback), f"names and values are marked as code: {v.feedback}"


def test_aging_step_that_drops_the_worst_is_told_so():
    def drop_worst(population, fitness, rng, sample_size=3):
        child = lesson03.REFERENCE.aging_step(deque(population), fitness, rng, sample_size)
        worst = min(population, key=fitness)
        population.remove(worst)
        population.append(child)
        return child

    v = verdict("03", 4, drop_worst)
    assert v.status == INCORRECT and "removes the oldest" in v.feedback


def test_receptive_field_reference_matches_gradients():
    """The reference of lesson 01's q4 against an oracle: which input pixels one output pixel really depends on."""
    from nanonas import build_model

    receptive_field = reference("01_search_space").receptive_field

    for dna in ([0, 1, 3, 2], [1, 1, 1, 1], [3, 3, 3, 3], [2, 0, 3, 1], [0, 4, 0, 0]):
        model = build_model(dna).eval()
        x = torch.randn(4, 1, 31, 31, requires_grad=True)
        y = model.stem(x)
        for op in model.positions:
            y = op(y)
        y[:, :, 15, 15].sum().backward()
        rows = (x.grad.abs().sum(dim=(0, 1, 3)) > 0).nonzero()
        side = 0 if len(rows) == 0 else int(rows.max() - rows.min() + 1)
        assert side == receptive_field(dna), dna


# -- the grader: real notebooks, each in its own kernel and process


def _notebook(lesson, solved=(), answers=None, edit=None):
    """An exercise notebook with some tasks solved (the solution's cell) and some answers written in."""
    nb = nbformat.read(ROOT / "exercises" / f"{lesson}.ipynb", as_version=4)
    solution = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4).cells
    }
    for cell in nb.cells:
        gid = cell.metadata["nbgrader"]["grade_id"]
        task = gid.split("_")[0]
        if gid.endswith("_answer") and task in solved:
            cell.source = solution[gid]
        if gid.endswith("_answer") and task in (answers or {}):
            cell.source = answers[task]
    if edit:
        edit(nb)
    return nb


def _cell(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


PARTIAL = {  # a plausible half-right submission of 03_evolution
    "q1": "def regret(bench, dna):\n    return 100 * (bench.best()['val_accuracy'] - bench.query(dna)['val_accuracy'])",
    "q3": "def tournament(population, fitness, rng, k=3):\n"
    "    return max((rng.choice(population) for _ in range(k)), key=fitness)",
    "q4": "def aging_step(population, fitness, rng, sample_size=3):\n"
    "    parent = max(rng.sample(list(population), sample_size), key=fitness)\n"
    "    child = mutate(parent, rng)\n"
    "    population.remove(min(population, key=fitness))\n"
    "    population.append(child)\n"
    "    return child",
}


def _broken(nb):
    """Five ways to break a notebook, one per task (q1 stays correct), plus a cell that prints 10 MB."""
    nb.cells[_cell(nb, "q2_answer")].source = "def best_so_far(fitnesses)\n    return fitnesses"  # syntax error
    nb.cells[
        _cell(nb, "q3_answer")
    ].source = "def tournament(population, fitness, rng, k=3):\n    while True:\n        pass"
    # editing a check cell cannot raise a score: it is restored from the released notebook
    nb.cells[
        _cell(nb, "q3_check")
    ].source = "def tournament(population, fitness, rng, k=3):\n    return max(population, key=fitness)"  # noqa: E501
    del nb.cells[_cell(nb, "q4_answer")]  # deleted
    nb.cells[_cell(nb, "q5_answer")].source = "import sys\nsys.exit()\n" + nb.cells[_cell(nb, "q5_answer")].source
    spam = nbformat.v4.new_code_cell("for i in range(100_000):\n    print('spam ' * 20)")
    nb.cells.insert(_cell(nb, "q1_check") + 1, spam)


def _kernel_killers(nb):
    """A cell that kills the kernel (q1), and a loop that swallows the interrupt (q3): both need a restart."""
    nb.cells[_cell(nb, "q1_answer")].source = "import os\nos._exit(1)"
    nb.cells[_cell(nb, "q3_answer")].source = (
        "import time\n\ndef tournament(population, fitness, rng, k=3):\n    while True:\n        try:\n"
        "            time.sleep(0.05)\n        except KeyboardInterrupt:\n            pass"
    )
    nb.cells[_cell(nb, "q2_answer")].metadata["nbgrader"]["grade_id"] = "my_answer"  # renamed: counts as deleted


def _run_in_process(path):
    """Execute a notebook's code cells in a fresh namespace (no kernel), then ask every check for its verdict."""
    nb = nbformat.read(path, as_version=4)
    namespace = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, f"{path.name}:{cell.id}", "exec"), namespace)
    lesson = path.stem
    return [q.bind(namespace).verdict() for q in questions(lesson)]


@pytest.mark.parametrize("lesson", LESSONS)
def test_solutions_score_full_marks(lesson):
    """The whole solution notebook, run here: every cell runs (so nbval need not run solutions/ again) and every
    answer, which is the reference the checks compare with, gets its question's points."""
    verdicts = _run_in_process(ROOT / "solutions" / f"{lesson}.ipynb")
    assert [v.status for v in verdicts] == [CORRECT] * len(verdicts), [v.feedback for v in verdicts]
    assert [v.points for v in verdicts] == [q.points for q in questions(lesson)]
    module = importlib.import_module(f"course.{ASSIGNMENTS[lesson]}")
    assert not hasattr(module, module.QUESTIONS[0].name), "the references live in solutions/ only"


@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_exercises_score_zero_on_every_task(lesson):
    verdicts = _run_in_process(ROOT / "exercises" / f"{lesson}.ipynb")
    assert [v.status for v in verdicts] == [NOT_ATTEMPTED] * len(verdicts), [v.feedback for v in verdicts]
    assert sum(v.points for v in verdicts) == 0


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade two batches through the command line, as a teacher would; {submission file name: result}."""
    folder = tmp_path_factory.mktemp("submissions")
    good = [ROOT / "solutions" / "03_evolution.ipynb", ROOT / "exercises" / "03_evolution.ipynb"]
    for source, name in zip(good, ("solution", "exercise")):
        nbformat.write(nbformat.read(source, as_version=4), folder / f"{name}.ipynb")
    for name, nb in [
        ("partial", _notebook("03_evolution", solved=("q2",), answers=PARTIAL)),
        ("broken", _notebook("03_evolution", solved=("q1", "q5"), edit=_broken)),
        ("killers", _notebook("03_evolution", solved=("q2",), edit=_kernel_killers)),
    ]:
        nbformat.write(nb, folder / f"{name}.ipynb")
    (folder / "garbage.ipynb").write_text("{ this is not a notebook")

    results = {}
    for names, timeout, out in [
        (["solution", "exercise"], "60", "good.csv"),
        (["partial", "broken", "killers", "garbage"], "8", "bad.csv"),
    ]:
        paths = [str(folder / f"{n}.ipynb") for n in names]
        argv = ["grade", "03_evolution", *paths, "--out", str(folder / out), "--timeout", timeout, "--jobs", "2"]
        assert cli.main(argv) == 0
        for s in json.loads((folder / out).with_suffix(".json").read_text())["submissions"]:
            results[s["submission"].rsplit("/", 1)[-1]] = s
        results[out] = (folder / out).read_text()
    return results


def _tasks(result):
    return {t["task"]: t for t in result["tasks"]}


def test_the_grader_gives_full_marks_to_the_solution_and_zero_to_the_exercise(graded):
    solution, exercise = graded["solution.ipynb"], graded["exercise.ipynb"]
    assert solution["points"] == solution["max_points"] == 10
    assert all(t["status"] == CORRECT for t in solution["tasks"]), solution
    assert exercise["points"] == 0
    assert [t["status"] for t in exercise["tasks"]] == [NOT_ATTEMPTED] * 5, exercise
    assert "not attempted yet" in exercise["tasks"][0]["feedback"]


def test_partial_submission_gets_partial_marks_with_reasons(graded):
    tasks = _tasks(graded["partial.ipynb"])
    assert graded["partial.ipynb"]["points"] == 1
    assert tasks["q2"]["status"] == CORRECT and tasks["q2"]["points"] == 1
    assert tasks["q1"]["status"] == INCORRECT and "percentage points" in tasks["q1"]["feedback"]
    assert tasks["q3"]["status"] == INCORRECT and "can never be one of the" in tasks["q3"]["feedback"]
    assert tasks["q4"]["status"] == INCORRECT and "removes the oldest" in tasks["q4"]["feedback"]
    assert tasks["q5"]["status"] == NOT_ATTEMPTED


def test_broken_submission_loses_only_the_broken_tasks(graded):
    result = graded["broken.ipynb"]
    tasks = _tasks(result)
    assert tasks["q1"]["status"] == CORRECT and result["points"] == 1
    assert "SyntaxError" in tasks["q2"]["feedback"] and tasks["q2"]["points"] == 0
    assert tasks["q3"]["status"] == "timed out" and "time limit (8 s) reached in cell" in tasks["q3"]["feedback"]
    assert tasks["q4"]["status"] == MISSING and "deleted" in tasks["q4"]["feedback"]
    assert "sys.exit()" in tasks["q5"]["feedback"] and tasks["q5"]["points"] == 0
    assert result["seconds"] < 120, "an endless loop is stopped by the per-cell timeout"


def test_kernel_killers_are_survived(graded):
    result = graded["killers.ipynb"]
    tasks = _tasks(result)
    assert "stopped the Python process" in tasks["q1"]["feedback"] and tasks["q1"]["points"] == 0
    assert tasks["q2"]["status"] == MISSING and "metadata was changed" in tasks["q2"]["feedback"]
    assert tasks["q3"]["status"] == "timed out" and "kept running when interrupted" in tasks["q3"]["feedback"]
    assert tasks["q4"]["status"] == tasks["q5"]["status"] == NOT_ATTEMPTED
    assert result["points"] == 0


def test_unreadable_submission_and_the_csv(graded):
    result = graded["garbage.ipynb"]
    assert result["points"] == 0 and all("not a readable notebook" in t["feedback"] for t in result["tasks"])
    rows = graded["bad.csv"].splitlines()
    assert rows[0] == "submission,q1,q2,q3,q4,q5,total,max_points"
    assert any(r.endswith("partial.ipynb,0,1,0,0,0,1,10") for r in rows), rows


def test_an_assignment_can_be_named_by_a_unique_prefix(capsys):
    from course import assignment_name

    assert assignment_name("03") == assignment_name("03_evo") == "03_evolution"
    assert [q.name for q in questions("05")] == ["dominates", "pareto_front_2d", "hypervolume", "best_under"]
    with pytest.raises(ValueError, match="ambiguous assignment '0' .* 01_search_space, 02_architecture_dna"):
        assignment_name("0")
    with pytest.raises(SystemExit):
        cli.main(["grade", "0", "x.ipynb"])
    assert "ambiguous assignment '0'" in capsys.readouterr().err


def test_unknown_assignment_is_an_error(capsys):
    with pytest.raises(SystemExit):
        cli.main(["grade", "03_evolve", "x.ipynb"])
    assert "unknown assignment '03_evolve'; choose one of: 01_search_space" in capsys.readouterr().err


def test_questions_have_points_and_hints():
    for lesson in LESSONS:
        for q in questions(lesson):
            assert isinstance(q, Question) and q.points >= 1 and q.hint_text
            assert callable(getattr(reference(lesson), q.name)) and f"def {q.name}(" in reference(lesson).source(q.task)


# -- nbgrader, when it is installed: the same notebooks, graded by nbgrader's own autograder


@needs_nbgrader
def test_nbgrader_generates_the_exercise_and_autogrades_like_us(tmp_path):
    course, nbgrader = nbgrader_course(tmp_path, "03_evolution")
    release = nbformat.read(course / "release" / "03_evolution" / "03_evolution.ipynb", as_version=4)
    ours = nbformat.read(ROOT / "exercises" / "03_evolution.ipynb", as_version=4)
    assert [c.source for c in release.cells] == [c.source for c in ours.cells]
    for student, notebook in [("alice", ROOT / "solutions"), ("bob", ROOT / "exercises")]:
        (course / "submitted" / student / "03_evolution").mkdir(parents=True)
        shutil.copy(notebook / "03_evolution.ipynb", course / "submitted" / student / "03_evolution")
    nbgrader("autograde", "03_evolution", "--create")
    nbgrader("export")
    scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader((course / "grades.csv").open())}
    assert scores == {"alice": 10.0, "bob": 0.0}
