"""A graded task of an exercise notebook: `q1.check()` for feedback in plain words, `q1.hint()`, `q1.solution()`.

A question knows the name the learner defines (say `tournament`), how many points it is worth, and a check: a
function that calls the learner's code on many inputs and raises `Wrong` with a sentence that says what went
wrong. Checks test behaviour — properties, edge cases, the library's own implementation, the reference solution
(read from the solution notebook) — never the text of the answer. A check calls the learner's function through a
`Call`, with plain data both ways (remote.py): in this process for `q1.check()`, in a sandboxed one when grading.
"""

import contextlib
import html
import inspect
import io
import math
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from nanonas.parallel import one_thread

from . import remote

NOT_ATTEMPTED, MISSING, INCORRECT, CORRECT = "not attempted", "missing", "incorrect", "correct"
DECODE_SECONDS = 5  # to rebuild one reply of the learner's side, when grading (a few milliseconds when honest)


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


# The one rule for containers, in every check: where a task asks for a list, a tuple is accepted, and where it asks
# for a tuple (a pair, a triple), a list is accepted. A DNA is any sequence of ints, a list of DNAs any sequence of
# them. Checks compare contents, never the container's type (no task is about that); elements keep their types.
SEQUENCES = (list, tuple)


def as_list(value):
    """`value` as a list when it is a list or a tuple (the container does not matter); anything else unchanged, so
    that comparing it with a list fails."""
    return list(value) if type(value) in SEQUENCES else value


def is_number(value) -> bool:
    """An int or a float, not a bool (to Python `True` is an int; it is never a number these tasks ask for)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def close(a, b, tol=1e-9) -> bool:
    """Whether `a` is a number within `tol` of `b` (relative or absolute, whichever is looser)."""
    return is_number(a) and math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def is_sequence(value, length: int | None = None) -> bool:
    """Whether `value` is a list or a tuple (of `length` items, when given)."""
    return type(value) in SEQUENCES and (length is None or len(value) == length)


class Missing(Exception):
    """The learner's function is not defined (any more)."""


class Answer:
    """The learner's function, wrapped on the learner's side: it says which call raised what, and spots 'not
    attempted yet'."""

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def __call__(self, *args, **kwargs):
        try:
            return self.fn(*args, **kwargs)
        except NotImplementedError as e:
            raise NotAttempted() from e
        except Exception as e:
            shown = ", ".join([show(a, 60) for a in args] + [f"{k}={show(v, 60)}" for k, v in kwargs.items()])
            raise Raised(f"{self.name}({shown}) raised {type(e).__name__}: {remote._text(e)}", e) from e


class Call:
    """How a check calls the learner's function: arguments go as plain data, the result comes back as plain data
    (remote.py), so a check never holds one of the learner's objects. `send` carries a request to the learner's
    side: in this process for `q1.check()` (LocalAnswer), to the sandboxed kernel when grading (grading.py)."""

    name: str
    deadline: float | None = None  # time.monotonic() by which a reply must be read (when grading)
    counts_calls = False  # when grading: a Lookup's table stays here, every evaluation is asked of this side

    def send(self, request: dict, lookups: list | None = None) -> dict:
        """Carry `request` to the learner's side; `lookups` are the Lookups it may ask entries of (when grading)."""
        raise NotImplementedError

    def describe(self) -> dict:
        return self.send({"describe": self.name})

    def _encode(self, value, memo, lookups):
        return remote.encode(value, memo, lookups if self.counts_calls else None)

    def __call__(self, *args, **kwargs):
        return self._call(None, args, kwargs)

    def probe(self, probe, *args, **kwargs):
        """Run the lesson's kernel-side probe `probe` (a `_probe_*` function) on the answer; plain data back. The
        probe's module travels as source, from this side: the learner's side cannot replace it."""
        return self._call(
            f"{probe.__module__}:{probe.__name__}", args, kwargs, inspect.getsource(sys.modules[probe.__module__])
        )

    def each(self, calls, **kwargs):
        """Call the answer once per tuple of arguments in `calls`, all in one exchange; yield the results in order,
        raising where the calls one by one would have raised. Mutable arguments are updated as each result comes."""
        calls, memo, lookups = [tuple(c) for c in calls], {}, []
        request = {"name": self.name, "batch": [[self._encode(a, memo, lookups) for a in args] for args in calls]}
        request["kwargs"] = {k: self._encode(v, memo, lookups) for k, v in kwargs.items()}
        reply = self.send(request, lookups)
        replies = reply.get("batch") if type(reply) is dict else None
        if type(replies) is not list:
            yield self._reply(reply, ())  # an error that concerns every call (not defined, not a function)
            return
        for args, one in zip(calls, replies):
            yield self._reply(one, args)
        if len(replies) < len(calls):
            raise Wrong(f"`{self.name}` stopped answering the check's calls.")

    def _call(self, probe, args, kwargs, source=None):
        lookups = []
        request = {"name": self.name, "probe": probe, "args": [self._encode(a, None, lookups) for a in args]}
        request["kwargs"] = {k: self._encode(v, None, lookups) for k, v in kwargs.items()}
        if source is not None:
            request["probe_source"] = source
        return self._reply(self.send(request, lookups), args)

    def _reply(self, reply, args):
        if type(reply) is not dict or reply.get("defined") is False:
            raise Missing()
        if reply.get("callable") is False:
            raise Wrong(f"`{self.name}` should be a function, but it is {show(reply.get('shown'))}.")
        if reply.get("not_attempted"):
            raise NotAttempted()
        if "raised" in reply:
            original = remote.rebuild_error(reply.get("error"), reply.get("message", ""))
            raise Raised(remote._text(reply["raised"], 600), original)
        if "value" not in reply:
            raise Wrong(f"`{self.name}` did not answer the check's call.")
        # reading a reply gets its own few seconds (the check's deadline may have moved while it ran)
        allowance = remote.Allowance(deadline=None if self.deadline is None else time.monotonic() + DECODE_SECONDS)
        try:
            value = remote.decode(reply.get("value"), allowance=allowance, reply=True)
            after = reply.get("after")
            for arg, data in zip(args, after if type(after) is list else []):
                remote.write_back(arg, data, allowance, counted=self.counts_calls)
        except (remote.BadData, RecursionError):
            raise Wrong(f"`{self.name}` returned something that is not plain data the check can read.") from None
        return value


class LocalAnswer(Call):
    """The learner's function in this very process (a learner's `q1.check()`), called through the same plain data
    as when grading, so both give the same verdict."""

    def __init__(self, name, namespace):
        self.name, self.namespace = name, namespace

    def send(self, request, lookups=None):
        if "describe" in request:
            return remote.describe(self.namespace, request["describe"])
        return remote.serve(request, self.namespace)


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


CODE_SPAN = re.compile(r"`([^`\n]+)`")
EMPHASIS = re.compile(r"\*(\S(?:[^*\n]*?\S)?)\*")  # *word*, but not the * of "a * b"


def html_text(text: str) -> str:
    """Feedback text as HTML: escaped, with `backticked` spans (names, calls, values) set as code and *stars* as
    emphasis, as Markdown would."""
    parts = CODE_SPAN.split(text)  # text, code, text, code, ..., text
    return "".join(
        f"<code>{html.escape(part, quote=False)}</code>"
        if i % 2
        else EMPHASIS.sub(r"<em>\1</em>", html.escape(part, quote=False))
        for i, part in enumerate(parts)
    )


class Feedback:
    """Rich output for a notebook (coloured, with a symbol for colour-blind readers), plain text elsewhere.

    Messages mark code with backticks, as Markdown does: `mutate(dna, rng)`. In a notebook those spans are set as
    code; as plain text (the grader's gradebook, a terminal) the backticks stay, and read the same way.
    """

    COLOURS = {CORRECT: "#1b7837", INCORRECT: "#b2182b", NOT_ATTEMPTED: "#4d4d4d", MISSING: "#4d4d4d"}

    def __init__(self, title, text, status=None, code=None):
        self.title, self.text, self.status, self.code = title, text, status, code

    def __repr__(self):
        body = f"{self.title}: {self.text}" if self.text else self.title
        return body + (f"\n\n{self.code}" if self.code else "")

    def _repr_html_(self):
        colour = self.COLOURS.get(self.status, "#2166ac")
        out = f'<p><span style="color:{colour}"><b>{html.escape(self.title)}</b></span>'
        out += f" {html_text(self.text)}</p>" if self.text else "</p>"
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


class References:
    """The reference solutions of an assignment, read from its solution notebook: their single source.

    Loaded when a check first needs them, by running the notebook's setup and answer cells. They are not part of
    the library, so a learner's code cannot import them (and a sandboxed kernel cannot read solutions/).
    """

    def __init__(self, assignment: str):
        self.assignment, self._namespace, self._sources, self._lock = assignment, None, {}, threading.Lock()

    def _load(self) -> dict:
        with self._lock:
            if self._namespace is None:
                import nbformat

                from .generate import ANSWER, find_root, solution_source

                folder = os.environ.get("NANONAS_SOLUTIONS") or find_root() / "solutions"
                path = Path(folder) / f"{self.assignment}.ipynb"
                if not path.exists():
                    raise RuntimeError(
                        f"the reference solutions are not available here ({path} not found): run from the course "
                        "folder, or set NANONAS_SOLUTIONS to the folder holding the solution notebooks"
                    )
                namespace = {"__name__": f"solutions.{self.assignment}"}
                with contextlib.redirect_stdout(io.StringIO()):  # what the setup prints is not the answer's
                    for cell in nbformat.read(path, as_version=4).cells:
                        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id", "")
                        if cell.cell_type == "code" and not gid.endswith("_check"):
                            source = solution_source(cell.source)
                            exec(compile(source, f"{path.name}:{gid}", "exec"), namespace)
                            if ANSWER.match(gid):
                                self._sources[gid.split("_")[0]] = source
                self._namespace = namespace
        return self._namespace

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        namespace = self._load()
        if name not in namespace:
            raise AttributeError(f"solutions/{self.assignment}.ipynb defines no {name!r}")
        return namespace[name]

    def source(self, task: str) -> str:
        """The answer cell of `task` ("q3") in the solution notebook."""
        self._load()
        return self._sources[task]


@dataclass(frozen=True, kw_only=True)
class Question:
    """One graded task: the learner defines `name`; `test(answer, seed)` raises `Wrong` when it misbehaves.

    `answer` is a `Call`: the check calls it like the learner's function, with plain data, and gets plain data
    back. `seed` varies the random cases (the grader draws it; `q1.check()` uses 0).
    """

    assignment: str  # "03_evolution": its solution notebook holds the reference solution
    number: int
    name: str
    title: str
    points: int
    test: object  # callable(answer, seed) -> None, raising Wrong
    hint_text: str
    namespace: dict | None = None  # where to find the learner's answer (the notebook's globals)
    # the shipped data the check grades on (folders of the packages): when grading, the submission's sandbox sees
    # them empty, so that an answer cannot look the expected values up
    hidden: tuple = ()

    @property
    def task(self) -> str:
        return f"q{self.number}"

    def bind(self, namespace: dict) -> "Question":
        return replace(self, namespace=namespace)

    def verdict(self, answer: Call | None = None, seed: int = 0) -> Verdict:
        """Run the check and say what it found (never raises for a wrong answer)."""
        answer = answer or LocalAnswer(self.name, self.namespace or {})
        verdict = lambda status, text: Verdict(
            self.task, self.name, status, self.points if status == CORRECT else 0, self.points, text
        )
        missing = f"`{self.name}` is not defined: run the cell where you write it (is it named `{self.name}`?)."
        found = answer.describe()
        if type(found) is not dict or not found.get("defined"):
            return verdict(MISSING, missing)
        if not found.get("callable"):
            return verdict(INCORRECT, f"`{self.name}` should be a function, but it is {show(found.get('shown'))}.")
        try:
            with one_thread():  # the checks use tiny tensors: one thread is faster, and steady on a shared CPU
                self.test(answer, seed)
        except NotAttempted:
            return verdict(
                NOT_ATTEMPTED,
                f"not attempted yet: `{self.name}` still raises `NotImplementedError`. "
                "Replace `raise NotImplementedError()` with your code.",
            )
        except Missing:
            return verdict(MISSING, missing)
        except Wrong as e:
            return verdict(INCORRECT, str(e))
        except RecursionError:
            return verdict(INCORRECT, f"`{self.name}` recursed without end (RecursionError).")
        except Exception as e:  # e.g. what it returned cannot be compared or indexed the way the task asks
            return verdict(
                INCORRECT,
                f"checking what `{self.name}` returned failed with {type(e).__name__}: {remote._text(e)}. "
                "Does it return what the task asks for?",
            )
        return verdict(CORRECT, f"`{self.name}` passes every check. {self.points} point{'s' * (self.points != 1)}.")

    def check(self) -> None:
        """Check your answer and say, in words, what is right or wrong."""
        if os.environ.get("NANONAS_GRADING"):
            return  # in the grader's sandbox: the grader checks every task itself, from outside
        v = self.verdict()
        titles = {CORRECT: "✓ Correct", INCORRECT: "✗ Not yet", NOT_ATTEMPTED: "○ Not attempted", MISSING: "? Missing"}
        display(Feedback(f"{titles[v.status]} (q{self.number}, {self.points} pt)", v.feedback, v.status))
        if os.environ.get("NBGRADER_EXECUTION") and not v.correct:
            raise AssertionError(v.feedback)  # nbgrader's autograde scores a grade cell by whether it raises

    def hint(self) -> None:
        display(Feedback(f"Hint (q{self.number})", self.hint_text, "hint"))

    def solution(self) -> None:
        source = reference(self.assignment).source(self.task)
        display(Feedback(f"Solution (q{self.number})", "one way to write it:", "solution", source))

    def __repr__(self) -> str:
        return f"q{self.number}: {self.title} ({self.points} pt) — write `{self.name}`; then q{self.number}.check()"


_REFERENCES: dict[str, References] = {}


def reference(assignment: str) -> References:
    """The reference solutions of an assignment (one loader per assignment, shared by its checks)."""
    return _REFERENCES.setdefault(assignment, References(assignment))
