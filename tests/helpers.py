"""What several test files share: the verdict of one graded question on an answer, checked in this process, the
two checks every graded project's test file makes with it (a wrong answer is told what is wrong; the untouched
exercise is not attempted), and an nbgrader course made from one of our solution notebooks."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import questions
from course.question import INCORRECT, NOT_ATTEMPTED

ROOT = Path(__file__).resolve().parents[1]


def verdict(assignment: str, question: str | int, answer, **namespace):
    """The verdict of an assignment's question (its name, or its number from 1) on `answer`; `namespace` holds what
    else the check reads from the learner's notebook (e.g. `EDGES`, or a helper an answer calls)."""
    found = questions(assignment)
    if isinstance(question, int):
        q = found[question - 1]
    else:
        q = next((q for q in found if q.name == question), None)
        if q is None:
            raise KeyError(f"{assignment} has no question {question!r}; it has: {', '.join(q.name for q in found)}")
    return q.bind({**namespace, q.name: answer}).verdict()


def wrong_ids(wrong: list[tuple]) -> list[str]:
    """Test ids for a list of (question, wrong answer, ...) rows: the question and the row's index."""
    return [f"{row[0]}-{i}" for i, row in enumerate(wrong)]


def assert_told_what_is_wrong(assignment: str, question: str, answer, words: str, **namespace):
    """A wrong answer scores 0 and its feedback says what is wrong: it holds `words`."""
    v = verdict(assignment, question, answer, **namespace)
    assert v.status == INCORRECT and v.points == 0 and words in v.feedback, v.feedback


def assert_not_attempted(assignment: str, **namespace):
    """The untouched exercise (every answer raises NotImplementedError) is not attempted, not wrong, on every task."""

    def stub(*args):
        raise NotImplementedError()

    statuses = {q.name: verdict(assignment, q.name, stub, **namespace).status for q in questions(assignment)}
    assert set(statuses.values()) == {NOT_ATTEMPTED}, statuses


needs_nbgrader = pytest.mark.skipif(
    importlib.util.find_spec("nbgrader") is None or shutil.which("alembic") is None,
    reason="nbgrader is not installed (optional: pip install nbgrader)",
)


def nbgrader_course(folder: Path, assignment: str):
    """An nbgrader course in `folder`/course whose source is our solution of `assignment`, released by nbgrader's
    `generate_assignment`: returns the course folder and `nbgrader(*args)`, which runs nbgrader there."""
    course = folder / "course"
    (course / "source" / assignment).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / f"{assignment}.ipynb", course / "source" / assignment)
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n")

    def nbgrader(*args):
        return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, check=True, capture_output=True)

    nbgrader("generate_assignment", assignment)
    return course, nbgrader
