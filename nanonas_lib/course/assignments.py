"""Which graded assignments exist, and their questions: one entry per assignment in ASSIGNMENTS."""

import importlib

from .question import Question

ASSIGNMENTS = {  # assignment (the lesson's notebook name) -> module with its QUESTIONS (course's own, or a dotted path)
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
    "09_nas_bench_201": "lesson09",
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
    module = ASSIGNMENTS[assignment_name(assignment)]
    return importlib.import_module(module if "." in module else f"course.{module}").QUESTIONS


def bind(assignment: str, namespace: dict) -> list[Question]:
    """An assignment's questions, checking the answers defined in `namespace` (pass the notebook's `globals()`)."""
    return [q.bind(namespace) for q in questions(assignment)]
