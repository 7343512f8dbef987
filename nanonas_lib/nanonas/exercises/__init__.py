"""Graded exercises for lessons 01–05: the checks behind `q1.check()`, the exercise generator and the grader.

In a notebook:  `from nanonas.exercises import lesson03;  q1, q2, q3, q4, q5 = lesson03.bind(globals())`.
For a class:    `nanonas grade 03_evolution submissions/*.ipynb --out grades.csv`  (see docs/exercises.md).
"""

import importlib

from .question import CORRECT, INCORRECT, MISSING, NOT_ATTEMPTED, Question, Verdict

ASSIGNMENTS = {  # assignment (the lesson's notebook name) -> module with its questions
    "01_search_space": "lesson01",
    "02_architecture_dna": "lesson02",
    "03_evolution": "lesson03",
    "04_darts": "lesson04",
    "05_pareto_tradeoffs": "lesson05",
}


def questions(assignment: str) -> list[Question]:
    """The questions of an assignment, e.g. questions('03_evolution')."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; choose one of: {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f".{ASSIGNMENTS[assignment]}", __name__).QUESTIONS


__all__ = ["ASSIGNMENTS", "questions", "Question", "Verdict", "CORRECT", "INCORRECT", "MISSING", "NOT_ATTEMPTED"]
