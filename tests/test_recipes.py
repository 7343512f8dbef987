"""docs/architecture.md's newcomer recipes, each done here the way the doc says, touching only the files it lists.

A strategy: tests/test_registry.py registers a toy hill climber. A dataset: tests/test_data_registry.py registers
one entry and finds it in load_dataset, nano_nas, the command line and NanoBench. Here: an op, a graded assignment.
"""

import torch.nn as nn

import nanonas
from course import ASSIGNMENTS, CORRECT, INCORRECT, NOT_ATTEMPTED, Question, assignment_name, bind, generate
from course.question import expect
from nanonas import OPERATIONS
from nanonas.bench import using_ops
from nanonas.core import build_model
from nanonas.palette import op_colors

# -- an op: one entry in OPERATIONS grows the space that every search, model and figure uses


def test_a_toy_op_grows_the_space():
    grown = {**OPERATIONS, "avgpool": lambda C: nn.AvgPool2d(3, stride=1, padding=1)}
    with using_ops(grown):  # OPERATIONS holds the 6 ops inside the block (what `OPERATIONS["avgpool"] = ...` does)
        model = build_model([5, 0, 5, 1])
        assert isinstance(model.positions[0], nn.AvgPool2d) and len(op_colors()) == 6
        fitness = lambda dna: sum(op == 5 for op in dna)  # noqa: E731  a search that wants the new op everywhere
        found = nanonas.nano_nas("regularized_evolution", evaluator=fitness, evaluations=200, seed=0, progress=False)
        assert found.dna == [5, 5, 5, 5]  # mutation draws from all 6 ops: it finds the only DNA of four avgpools
    assert list(OPERATIONS) == ["conv3x3", "conv5x5", "maxpool", "skip", "zero"]  # and the space is back


# -- a graded assignment: a module with QUESTIONS, one entry in ASSIGNMENTS


def _check_double(answer, seed):
    for x in (0, 1, -3, 7 + seed):
        got = answer(x)
        expect(got == 2 * x, f"`double({x})` returned `{got!r}`; twice {x} is {2 * x}.")


QUESTIONS = [  # what a lesson module holds (course/lessonNN.py); this one is registered below, by its dotted path
    Question(
        assignment="99_toy",
        number=1,
        name="double",
        title="Twice a number",
        points=1,
        test=_check_double,
        hint_text="Multiply.",
    )
]


def test_a_toy_assignment_is_found_by_bind_and_listed_in_the_docs(monkeypatch):
    monkeypatch.setitem(ASSIGNMENTS, "99_toy", "tests.test_recipes")
    assert assignment_name("99") == "99_toy"

    def not_yet(x):
        raise NotImplementedError()  # the exercise's stub

    (q,) = bind("99", {"double": lambda x: 2 * x})
    assert q.verdict().status == CORRECT and q.verdict().points == 1
    (q,) = bind("99", {"double": lambda x: x + x + 1})
    assert q.verdict().status == INCORRECT and "twice 0 is 0" in q.verdict().feedback
    assert bind("99", {"double": not_yet})[0].verdict().status == NOT_ATTEMPTED
    assert "| `99_toy` | `double`: Twice a number (1) | 1 |" in generate.tasks_table()


def test_the_docs_task_table_is_generated_and_checked(tmp_path):
    """docs/exercises.md's table is the course's questions: a hand edit is out of sync, and sync writes it back."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    (tmp_path / generate.DOC).parent.mkdir()
    doc = tmp_path / generate.DOC
    doc.write_text(f"# Exercises\n\n{generate.TABLE_BEGIN}\n| stale |\n{generate.TABLE_END}\n\nMore text.\n")
    assert generate.out_of_sync(tmp_path) == ["docs/exercises.md's task table is out of date"]
    assert generate.sync(tmp_path) == [doc]
    assert generate.out_of_sync(tmp_path) == [] and doc.read_text().endswith(f"{generate.TABLE_END}\n\nMore text.\n")
    assert "| `03_evolution` | `regret`: Regret against the true optimum (1);" in doc.read_text()
