"""A graded task of an exercise notebook: `q1.check()` for feedback in plain words, `q1.hint()`, `q1.solution()`.

A question knows the name the learner defines (say `tournament`), how many points it is worth, a reference
solution, and a check: a function that calls the learner's code on many inputs and raises `Wrong` with a
sentence that says what went wrong. Checks test behaviour — properties, edge cases, the library's own
implementation — never the text of the answer.
"""

import html
import inspect
import os
import textwrap
from dataclasses import dataclass, replace

import torch

NOT_ATTEMPTED, MISSING, INCORRECT, CORRECT = "not attempted", "missing", "incorrect", "correct"


class Wrong(Exception):
    """The learner's answer misbehaves; the message says how, in a sentence."""


class Raised(Wrong):
    """The learner's code raised an exception; `original` is it (a check may expect one, e.g. a ValueError)."""

    def __init__(self, message, original):
        super().__init__(message)
        self.original = original


class NotAttempted(Exception):
    """The learner's function still raises NotImplementedError."""


def expect(condition, message: str) -> None:
    """Raise `Wrong(message)` unless `condition` holds."""
    if not condition:
        raise Wrong(message)


def show(value, limit: int = 120) -> str:
    """A short repr for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Answer:
    """The learner's function, wrapped: it says which call raised what, and spots 'not attempted yet'."""

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def __call__(self, *args, **kwargs):
        try:
            return self.fn(*args, **kwargs)
        except NotImplementedError as e:
            raise NotAttempted() from e
        except Exception as e:
            shown = ", ".join([show(a, 60) for a in args] + [f"{k}={show(v, 60)}" for k, v in kwargs.items()])
            raise Raised(f"{self.name}({shown}) raised {type(e).__name__}: {e}", e) from e


@dataclass(frozen=True)
class Verdict:
    """What a check concluded: a status, the points earned out of `max_points`, and feedback in words."""

    task: str  # "q3"
    name: str  # the function the learner writes, e.g. "tournament"
    status: str  # correct, incorrect, not attempted, missing (or, from the grader: error, timed out)
    points: float
    max_points: float
    feedback: str

    @property
    def correct(self) -> bool:
        return self.status == CORRECT

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("task", "name", "status", "points", "max_points", "feedback")}


class Feedback:
    """Rich output for a notebook (coloured, with a symbol for colour-blind readers), plain text elsewhere."""

    COLOURS = {CORRECT: "#1b7837", INCORRECT: "#b2182b", NOT_ATTEMPTED: "#4d4d4d", MISSING: "#4d4d4d"}

    def __init__(self, title, text, status=None, code=None):
        self.title, self.text, self.status, self.code = title, text, status, code

    def __repr__(self):
        body = f"{self.title}: {self.text}" if self.text else self.title
        return body + (f"\n\n{self.code}" if self.code else "")

    def _repr_html_(self):
        colour = self.COLOURS.get(self.status, "#2166ac")
        out = f'<p><span style="color:{colour}"><b>{html.escape(self.title)}</b></span>'
        out += f" {html.escape(self.text)}</p>" if self.text else "</p>"
        if self.code:
            out += f"<pre>{html.escape(self.code)}</pre>"
        return out


def display(feedback: Feedback) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display as ipython_display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        ipython_display(feedback)
    else:
        print(repr(feedback))


@dataclass(frozen=True)
class Question:
    """One graded task: the learner defines `name`; `test(answer)` raises `Wrong` when it misbehaves."""

    number: int
    name: str
    title: str
    points: int
    test: object  # callable(answer) -> None, raising Wrong
    hint_text: str
    reference: object  # a function with the same name and signature: the solution shown by .solution()
    namespace: dict | None = None  # where to find the learner's answer (the notebook's globals)

    @property
    def task(self) -> str:
        return f"q{self.number}"

    def bind(self, namespace: dict) -> "Question":
        return replace(self, namespace=namespace)

    def verdict(self) -> Verdict:
        """Run the check and say what it found (never raises for a wrong answer)."""
        found = (self.namespace or {}).get(self.name)
        verdict = lambda status, text: Verdict(
            self.task, self.name, status, self.points if status == CORRECT else 0, self.points, text
        )
        if found is None:
            return verdict(
                MISSING, f"`{self.name}` is not defined: run the cell where you write it (is it named `{self.name}`?)."
            )
        if not callable(found):
            return verdict(INCORRECT, f"`{self.name}` should be a function, but it is {show(found)}.")
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the checks use tiny tensors: one thread is faster, and steady on a shared CPU
        try:
            self.test(Answer(self.name, found))
        except NotAttempted:
            return verdict(
                NOT_ATTEMPTED,
                f"not attempted yet: `{self.name}` still raises NotImplementedError. "
                "Replace `raise NotImplementedError()` with your code.",
            )
        except Wrong as e:
            return verdict(INCORRECT, str(e))
        except RecursionError:
            return verdict(INCORRECT, f"`{self.name}` recursed without end (RecursionError).")
        except Exception as e:  # e.g. what it returned cannot be compared or indexed the way the task asks
            return verdict(
                INCORRECT,
                f"checking what `{self.name}` returned failed with {type(e).__name__}: {e}. "
                "Does it return what the task asks for?",
            )
        finally:
            torch.set_num_threads(threads)
        return verdict(CORRECT, f"`{self.name}` passes every check. {self.points} point{'s' * (self.points != 1)}.")

    def check(self) -> None:
        """Check your answer and say, in words, what is right or wrong."""
        v = self.verdict()
        titles = {CORRECT: "✓ Correct", INCORRECT: "✗ Not yet", NOT_ATTEMPTED: "○ Not attempted", MISSING: "? Missing"}
        display(Feedback(f"{titles[v.status]} (q{self.number}, {self.points} pt)", v.feedback, v.status))
        if os.environ.get("NBGRADER_EXECUTION") and not v.correct:
            raise AssertionError(v.feedback)  # nbgrader's autograde scores a grade cell by whether it raises

    def hint(self) -> None:
        display(Feedback(f"Hint (q{self.number})", self.hint_text, "hint"))

    def solution(self) -> None:
        source = textwrap.dedent(inspect.getsource(self.reference))
        display(Feedback(f"Solution (q{self.number})", "one way to write it:", "solution", source))

    def __repr__(self) -> str:
        return f"q{self.number}: {self.title} ({self.points} pt) — write `{self.name}`; then q{self.number}.check()"


def bind(questions, namespace: dict) -> list[Question]:
    """The lesson's questions, looking up answers in `namespace` (pass the notebook's `globals()`)."""
    return [q.bind(namespace) for q in questions]
