"""The course built on nanonas: the graded checks behind `q1.check()`, the exercise generator, the grader, and `lab`
(what the lessons' notebooks share).

In a notebook:  `from course import bind;  q1, q2, q3, q4, q5 = bind("03_evolution", globals())`.
For a class:    `nanonas grade 03_evolution --out grades.csv -- submissions/*.ipynb`  (docs/teaching.md).
"""

from .assignments import ASSIGNMENTS, assignment_name, bind, questions
from .question import CORRECT, INCORRECT, MISSING, NOT_ATTEMPTED, Question, Verdict

__all__ = [
    "ASSIGNMENTS",
    "assignment_name",
    "bind",
    "questions",
    "Question",
    "Verdict",
    "CORRECT",
    "INCORRECT",
    "MISSING",
    "NOT_ATTEMPTED",
]
