"""What several test files share: the verdict of one graded question on an answer, checked in this process."""

from course import questions


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
