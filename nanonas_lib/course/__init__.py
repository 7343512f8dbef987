"""Graded exercises for lessons 01–05: the checks behind `q1.check()`, the exercise generator and the grader.

In a notebook:  `from course import bind;  q1, q2, q3, q4, q5 = bind("03_evolution", globals())`.
For a class:    `nanonas grade 03_evolution submissions/*.ipynb --out grades.csv`  (docs/teaching.md).
"""

import importlib

from .question import CORRECT, INCORRECT, MISSING, NOT_ATTEMPTED, Question, Verdict

ASSIGNMENTS = {  # assignment (the lesson's notebook name) -> module with its questions
    "01_search_space": "lesson01",
    "02_architecture_dna": "lesson02",
    "03_evolution": "lesson03",
    "04_darts": "lesson04",
    "05_pareto_tradeoffs": "lesson05",
    "06a_grow_the_space": "lesson06a",
    "06b_visualise_results": "lesson06b",
    "06c_compare_searches": "lesson06c",
    "07b_transfer": "lesson07b",
    "07a_multi_objective": "lesson07a",
    "07c_hardware_aware": "lesson07c",
    "08a_progressive": "lesson08a",
    "08b_neural_predictor": "lesson08b",
    "08c_cell_supernet": "lesson08c",
}


def assignment_name(name: str) -> str:
    """The assignment a name or a unique prefix of one means: '03' -> '03_evolution'."""
    matches = [a for a in ASSIGNMENTS if a.startswith(str(name))] if name else []
    if str(name) in ASSIGNMENTS:
        return str(name)
    if len(matches) == 1:
        return matches[0]
    what = (
        f"ambiguous assignment {name!r} (it starts {', '.join(matches)})" if matches else f"unknown assignment {name!r}"
    )
    raise ValueError(f"{what}; choose one of: {', '.join(ASSIGNMENTS)} (or a unique start of one, like 03)")


def questions(assignment: str) -> list[Question]:
    """The questions of an assignment, e.g. questions('03_evolution') (or questions('03'))."""
    return importlib.import_module(f".{ASSIGNMENTS[assignment_name(assignment)]}", __name__).QUESTIONS


def bind(assignment: str, namespace: dict) -> list[Question]:
    """An assignment's questions, checking the answers defined in `namespace` (pass the notebook's `globals()`)."""
    return [q.bind(namespace) for q in questions(assignment)]


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
