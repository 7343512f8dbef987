"""Batch grading: `nanonas grade 03_evolution submissions/*.ipynb --out grades.csv`.

The grader does not trust a submission. Its code runs in a sandboxed Python process (sandbox.py, runner.py) that
only defines the answers and answers calls: the checks, the reference solutions and the points stay here, in the
grader's own process, which the submission cannot reach. A check calls the learner's function with inputs it
chooses (random cases drawn from a seed the submission does not see) and gets plain data back (remote.py); the
points come from the assignment's definition, so a task earns at most its points.

What runs is the released assignment (its locked cells restored, as nbgrader does) with the submission's answer
cells, and the cells it added, in their places; at each check cell the grader checks that task. A broken or
hostile submission (syntax error, exception, endless loop, `sys.exit()`, `os._exit()`, huge output, deleted or
renamed cells, memory hog, forged anything) gets 0 on what it breaks, with the reason, and the batch goes on:
the gradebook is always written.
"""

import csv
import hashlib
import json
import os
import re
import secrets
import selectors
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import ASSIGNMENTS, assignment_name, questions, remote
from .question import CORRECT, INCORRECT, MISSING, NOT_ATTEMPTED, Call
from .runner import MESSAGE_LIMIT, frame
from .sandbox import REDUCED, Limits, Sandbox

ERROR, TIMED_OUT = "error", "timed out"
STATUSES = (CORRECT, INCORRECT, NOT_ATTEMPTED, MISSING, ERROR, TIMED_OUT)
PROBE_TIMEOUT = 5  # seconds an interrupted process gets to answer again before it is restarted
START_TIMEOUT = 120  # seconds a fresh process may take to start (importing torch on a busy machine)
FEEDBACK_LIMIT = 1000  # characters of feedback kept per task, and per note
SIZE_LIMIT = 200 * 2**20  # the largest submission file read
TASK_ID = re.compile(r"^q(\d+)_(task|answer|check)$")
# what a terminal or an editor would act on, or hide: control characters (C0, DEL, C1), the bidirectional
# overrides, separators that end a line, and lone surrogates (a file name that is not UTF-8 holds them)
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell starting with one of these


def clean(text) -> str:
    """`text` safe to print and to store: every unsafe character escaped as Python writes it (\\x1b, \\n, \\udc80; a
    byte of a file name that is not UTF-8 as \\xNN), so it shows what is there and acts on nothing."""
    try:
        text = str(text)
    except Exception:  # noqa: BLE001 - a learner's __str__ may do anything
        text = "?"

    def escape(match):
        c = ord(match.group())
        if 0xDC80 <= c <= 0xDCFF:  # os.fsdecode's escape for a byte that is not UTF-8
            return f"\\x{c - 0xDC00:02x}"
        return {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}.get(c) or (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")

    return UNSAFE.sub(escape, text)


def cell(text) -> str:
    """A CSV cell a spreadsheet shows as text: `clean`, and a leading = + - @ (a formula) behind a quote."""
    text = clean(text)
    return "'" + text if text.startswith(FORMULA) else text


def _short(text, limit: int = FEEDBACK_LIMIT) -> str:
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 30] + f"… [{len(text) - limit + 30} characters cut]"


def task_seed(seed: int, task: str) -> int:
    """The seed of one task's random cases, drawn from the submission's secret seed: a probe that must take its
    seed into the sandbox reveals that task's alone."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{task}".encode()).digest()[:6], "big")


# ---------------------------------------------------------------------------------------------------------------
# The plan: which code runs, in which order


@dataclass
class Step:
    kind: str  # setup (a locked cell of the assignment), answer, added (a cell the learner added), grade
    source: str
    cell: int  # the cell's number in the submission (1 = the first), or in the released notebook
    task: str | None = None  # "q3" for answer and grade steps
    after: str | None = None  # for added cells: the grade_id of the cell they follow


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    gid = meta.get("grade_id") if isinstance(meta, dict) else None
    return gid if isinstance(gid, str) else None


def find_master(assignment: str, master=None) -> Path:
    """The released notebook of an assignment: exercises/ASSIGNMENT.ipynb (or the solution it is generated from)."""
    from .generate import find_root

    assignment = assignment_name(assignment)
    if master:
        if not Path(master).exists():
            raise ValueError(f"no assignment notebook at {master}")
        return Path(master)
    root = find_root()
    for folder in ("exercises", "solutions"):
        if (root / folder / f"{assignment}.ipynb").exists():
            return root / folder / f"{assignment}.ipynb"
    raise ValueError(f"cannot find exercises/{assignment}.ipynb under {root}; pass --master PATH")


def plan(assignment: str, master, submission):
    """The steps to run for a submission, and the tasks whose answer cell is missing ({task: reason})."""
    from .generate import exercise_notebook

    master = exercise_notebook(master)  # locked cells as released (a solution notebook works as the master too)
    numbers = {q.task for q in questions(assignment)}
    ids = [_grade_id(c) for c in master.cells]
    found = {TASK_ID.match(i).group(1) for i in ids if i and TASK_ID.match(i)}
    if {f"q{n}" for n in found} != numbers:
        raise ValueError(f"the assignment notebook does not match {assignment}'s tasks ({', '.join(sorted(numbers))})")

    answers, added, anchor, where = {}, {}, None, {}  # answer cells, added code cells by the cell they follow
    for number, cell in enumerate(submission.cells, 1):
        gid = _grade_id(cell)
        if gid in ids and gid not in answers:
            answers[gid], where[gid], anchor = cell, number, gid
        elif cell.get("cell_type") == "code":
            added.setdefault(anchor, []).append((number, cell))

    steps, missing = [], {}
    steps += [Step("added", str(c.get("source", "")), n) for n, c in added.get(None, [])]
    for number, (cell, gid) in enumerate(zip(master.cells, ids), 1):
        match = TASK_ID.match(gid or "")
        task = f"q{match.group(1)}" if match else None
        at = where.get(gid, number)
        if cell.cell_type == "code" and match and match.group(2) == "answer":
            theirs = answers.get(gid)
            if theirs is None:
                missing[task] = (
                    f"the answer cell of {task} ({gid}) is not in the submission: it was deleted, or "
                    "its nbgrader metadata was changed; restore it from the released notebook."
                )
            elif theirs.get("cell_type") != "code":
                missing[task] = f"the answer cell of {task} ({gid}) was turned into a {theirs.get('cell_type')} cell."
            else:
                steps.append(Step("answer", str(theirs.get("source", "")), at, task))
        elif cell.cell_type == "code" and match and match.group(2) == "check":
            if task not in missing:
                steps.append(Step("grade", "", at, task))
        elif cell.cell_type == "code":
            steps.append(Step("setup", cell.source, at))  # locked: the released source, whatever the submission says
        steps += [Step("added", str(c.get("source", "")), n, after=gid) for n, c in added.get(gid, [])]
    return steps, missing


# ---------------------------------------------------------------------------------------------------------------
# The learner's process, seen from the grader


class Stopped(BaseException):
    """The learner's process did not answer in time, or died. (Not an Exception: no check may catch it.)"""

    def __init__(self, reason: str, alive: bool):
        super().__init__(reason)
        self.reason, self.alive = reason, alive


class Kernel:
    """One sandboxed runner process, driven through its stdin and stdout, each read and write with a deadline."""

    def __init__(self, sandbox: Sandbox, notebook: bytes, deadline: float, hidden=()):
        notebook_fd = os.memfd_create("submission") if sandbox.isolated else None
        if notebook_fd is not None:
            os.write(notebook_fd, notebook)
            os.lseek(notebook_fd, 0, os.SEEK_SET)
        inner = [sys.executable, "-m", "course.runner"]
        self.group, self.process, self.lookups = None, None, []
        try:
            self.group, launch = sandbox.launch(inner, notebook_fd, hidden)
            with launch:
                self.process = subprocess.Popen(
                    launch.argv,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    pass_fds=launch.fds,
                    start_new_session=True,  # one process group: killed as a whole
                    env=launch.env,
                    cwd="/" if sandbox.isolated else self._private_folder(),
                )
        except OSError as e:
            if self.group is not None:
                self.group.remove()
            raise Stopped(f"could not be started ({e.strerror or e})", alive=False) from None
        finally:
            if notebook_fd is not None:
                os.close(notebook_fd)
        self.stdin, self.stdout = self.process.stdin.fileno(), self.process.stdout.fileno()
        os.set_blocking(self.stdin, False)  # a writer that waits for a reader that never reads would hang
        self.reading, self.writing = selectors.DefaultSelector(), selectors.DefaultSelector()
        self.reading.register(self.stdout, selectors.EVENT_READ)
        self.writing.register(self.stdin, selectors.EVENT_WRITE)
        self.buffer, self.ids = b"", 0
        self.request({"op": "hello"}, deadline, started=True)

    def _private_folder(self) -> str:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="nanonas-work-")
        return self._tmp.name

    def _read(self, deadline: float):
        """The next message, or None when the deadline passes; raises Stopped when the process has gone, or sent
        what no runner sends."""
        while True:
            if len(self.buffer) >= 4:
                size = int.from_bytes(self.buffer[:4], "big")
                if size > MESSAGE_LIMIT:
                    raise Stopped("sent the grader a reply larger than it accepts", alive=False)
                if len(self.buffer) >= 4 + size:
                    data, self.buffer = self.buffer[4 : 4 + size], self.buffer[4 + size :]
                    return parse(data)
            left = deadline - time.monotonic()
            if left <= 0 or not self.reading.select(timeout=left):
                return None
            chunk = os.read(self.stdout, 1 << 20)
            if not chunk:
                raise Stopped(GONE, alive=False)
            self.buffer += chunk

    def _send(self, message: dict, deadline: float) -> None:
        """Write a message whole by `deadline`; raises Stopped when the process does not read it in time."""
        data = memoryview(frame(message))
        while data:
            left = deadline - time.monotonic()
            if left <= 0 or not self.writing.select(timeout=left):
                raise Stopped("stopped reading what the grader sent it", alive=False)
            try:
                written = os.write(self.stdin, data)
            except BlockingIOError:
                continue
            except OSError:
                raise Stopped(GONE, alive=False) from None
            data = data[written:]

    def _answer_lookup(self, message: dict, deadline: float) -> None:
        """The learner's side asks an entry of a Lookup whose table stayed here: the call is recorded here."""
        index, number = message.get("lookup"), message.get("seq")
        if type(index) is not int or not 0 <= index < len(self.lookups):
            raise Stopped("asked the grader for a table it was not given", alive=False)
        try:
            key = remote.decode(message.get("key"), allowance=remote.Allowance(10_000, deadline), reply=True)
            key = tuple(key) if type(key) in (list, tuple) else key
            reply = {"op": "looked", "seq": number, "value": remote.encode(self.lookups[index](key))}
        except (KeyError, TypeError, remote.BadData):  # not in a strict table, or not a key at all
            reply = {"op": "looked", "seq": number, "error": "KeyError"}
        self._send(reply, deadline)

    def request(self, message: dict, deadline: float, started: bool = False, lookups=(), limit=None) -> dict:
        """Send a request and wait for its reply until `deadline`; after that, interrupt it and raise Stopped.

        Each evaluation of a counted Lookup answered here moves the deadline `LOOKUP_GRACE` later, up to `limit` (the
        submission's budget): the exchanges are the grader's way of counting, not the learner's slowness."""
        self.ids += 1
        self.lookups = list(lookups)
        if not started:
            self._send({**message, "id": self.ids}, deadline)
        while True:
            reply = self._read(deadline)
            if reply is None:
                break
            if started and reply.get("status") == "ready":
                return reply
            if reply.get("op") == "lookup":
                self._answer_lookup(reply, deadline)
                deadline = min(limit or deadline, deadline + LOOKUP_GRACE)
            elif reply.get("id") == self.ids:
                return reply
        if started:
            raise Stopped("did not start in time", alive=False)
        late = time.monotonic() + PROBE_TIMEOUT
        self._send({"op": "interrupt"}, late)  # KeyboardInterrupt in the learner's code
        while True:
            reply = self._read(late)
            if reply is None:
                raise Stopped("kept running when interrupted", alive=False)
            if reply.get("op") == "lookup":
                self._answer_lookup(reply, late)
            elif reply.get("id") == self.ids:
                raise Stopped("was interrupted", alive=True)

    def close(self) -> None:
        """Kill the process and everything it started (its process group; the sandbox's PID namespace; its
        cgroup)."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, 9)
            except OSError:
                pass
            self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.reading.close()
            self.writing.close()
        if self.group is not None:
            self.group.remove()
        if hasattr(self, "_tmp"):
            self._tmp.cleanup()


GONE = "stopped the Python process (os._exit(), a crash, or a resource limit)"
LOOKUP_GRACE = 0.01  # seconds of a check's time limit per evaluation the grader answers (milliseconds each when busy)
KEYS = 64  # keys of one JSON object, at most: the runner's messages have a handful


def _object(pairs):
    if len(pairs) > KEYS:
        raise ValueError("an object with too many keys")
    return dict(pairs)


def parse(data: bytes) -> dict:
    """A message of the learner's process; Stopped when it is not one (not JSON, not an object, too many keys)."""
    try:
        message = json.loads(data, object_pairs_hook=_object)
    except (ValueError, RecursionError):
        message = None
    if type(message) is not dict:
        raise Stopped("sent the grader a message that is not one it reads", alive=False)
    return message


class RemoteAnswer(Call):
    """The learner's function, in the sandboxed process: called with plain data until the check's deadline."""

    counts_calls = True  # a Lookup's table stays in the grader, which answers (and counts) each evaluation

    def __init__(self, kernel: Kernel, name: str, deadline: float, limit: float | None = None):
        self.kernel, self.name, self.deadline, self.limit = kernel, name, deadline, limit

    def send(self, request: dict, lookups=None) -> dict:
        reply = self.kernel.request(
            {"op": "call", "request": request}, self.deadline, lookups=lookups or (), limit=self.limit
        )
        if reply.get("status") == "interrupted":
            raise Stopped("was interrupted", alive=True)
        return reply.get("reply") if reply.get("status") == "ok" else {"raised": reply.get("evalue", "failed")}


# ---------------------------------------------------------------------------------------------------------------
# One submission


def _links(path: Path) -> str | None:
    """The first component of `path` (as given, made absolute from the working folder) that is a symbolic link."""
    whole = Path(os.getcwd()) / path if not path.is_absolute() else path  # getcwd() holds no link
    start = 0 if path.is_absolute() else len(Path(os.getcwd()).parts)
    for i in range(max(start, 1), len(whole.parts) + 1):
        part = Path(*whole.parts[:i])
        try:
            if stat.S_ISLNK(os.lstat(part).st_mode):
                return str(part)
        except OSError:
            return None  # missing: said below
    return None


def read_submission(path) -> bytes:
    """The submission's bytes; ValueError saying why when it is missing, a link or under one, not a file, or
    unreadable."""
    path = Path(path)
    if str(path).startswith("-"):
        raise ValueError(f"starts with '-': name it ./{clean(path)} (a name like an option is not graded)")
    link = _links(path)
    if link is not None:
        what = "is a symbolic link" if link == str(Path(os.getcwd()) / path) or link == str(path) else "is under one"
        raise ValueError(
            f"{what} ({clean(link)}): not graded (copy the notebook itself, not a link to it or to its folder)"
        )
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise ValueError(f"no such file: {clean(path)}") from None
    except OSError as e:
        raise ValueError(f"cannot be read: {e.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("is not a regular file")
    if info.st_size > SIZE_LIMIT:
        raise ValueError(f"is too large ({info.st_size / 2**20:.0f} MB; the limit is {SIZE_LIMIT // 2**20} MB)")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ValueError("is not a regular file")
            return f.read(SIZE_LIMIT + 1)
    except OSError as e:
        raise ValueError(f"cannot be read: {e.strerror}") from None


def read_notebook(data: bytes):
    """(the notebook, notes about it) from a submission's bytes; ValueError when it is not a notebook.

    Read as JSON, not through nbformat's validation, which warns once per problem on the grader's terminal (20,000
    duplicate cell ids were 40,000 lines): problems are counted into one note instead."""
    import nbformat

    try:
        raw = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError) as e:
        raise ValueError(f"is not a readable notebook (not JSON: {_short(e, 200)})") from None
    if type(raw) is not dict or type(raw.get("cells")) is not list or raw.get("nbformat") != 4:
        raise ValueError("is not a readable notebook (not a version 4 notebook with a list of cells)")
    cells, ids, notes = [], set(), []
    duplicates = 0
    for c in raw["cells"]:
        if type(c) is not dict:
            continue
        source = c.get("source", "")
        source = "".join(str(s) for s in source) if type(source) is list else str(source)
        metadata = c.get("metadata") if type(c.get("metadata")) is dict else {}
        cells.append(nbformat.NotebookNode(cell_type=str(c.get("cell_type", "")), source=source, metadata=metadata))
        if type(c.get("id")) is str:
            duplicates += c["id"] in ids
            ids.add(c["id"])
    if duplicates:
        notes.append(f"{duplicates} cell(s) share an id with an earlier cell (ignored: cells are matched by grade_id)")
    return nbformat.NotebookNode(cells=cells), notes


def _verdict(q, status, feedback):
    return {"task": q.task, "name": q.name, "status": status, "points": 0, "max_points": q.points, "feedback": feedback}


def hidden_data(assignment: str) -> list[str]:
    """The shipped data an assignment's checks grade on: its sandbox sees these folders empty."""
    return sorted({str(path) for q in questions(assignment) for path in q.hidden})


def _names(paths) -> str:
    return ", ".join(f"{Path(p).parent.name}/{Path(p).name}" for p in paths)  # nanonas/nanobench: no folder of yours


def run_submission(assignment, master_nb, data: bytes, sandbox: Sandbox, timeout: float, budget: float, seed: int):
    """Grade the notebook `data`; returns {"tasks": [...], "notes": [...]}. Raises ValueError for a non-notebook."""

    qs = {q.task: q for q in questions(assignment)}
    submission, notes = read_notebook(data)
    steps, missing = plan(assignment, master_nb, submission)
    del submission
    end = time.monotonic() + budget
    results, verdicts, removed = {}, {}, {}
    hidden = hidden_data(assignment)
    while True:
        fatal = None
        try:
            kernel = Kernel(sandbox, data, min(end, time.monotonic() + START_TIMEOUT), hidden)
        except Stopped as e:
            notes.append(f"the sandboxed Python process {e.reason}")
            for q in qs.values():
                verdicts.setdefault(q.task, _verdict(q, ERROR, f"not graded: the Python process {e.reason}"))
            break
        try:
            for i, step in enumerate(steps):
                if i in removed or (step.kind == "grade" and step.task in verdicts):
                    continue
                if time.monotonic() >= end:
                    results[i] = ("not run", f"was not run: the submission used up its time ({budget:g} s in all)")
                    continue
                deadline = min(end, time.monotonic() + timeout)
                limit = f"time limit ({timeout:g} s) reached in cell {step.cell}"
                if time.monotonic() + timeout > end:
                    limit = f"time limit ({budget:g} s for the whole submission) reached in cell {step.cell}"
                if step.kind == "grade":
                    q = qs[step.task]
                    try:
                        answer = RemoteAnswer(kernel, q.name, deadline, limit=end)
                        v = q.verdict(answer, task_seed(seed, q.task)).as_dict()
                    except Stopped as e:
                        alive = e.alive
                        if e.reason.startswith("was interrupted"):
                            v = _verdict(q, TIMED_OUT, f"checking `{q.name}`: {limit}")
                        elif e.reason.startswith("kept running"):
                            v = _verdict(
                                q, TIMED_OUT, f"checking `{q.name}`: {limit}; it kept running when interrupted"
                            )
                        else:
                            v = _verdict(q, ERROR, f"checking `{q.name}`: the answer {e.reason}")
                        if not alive:
                            fatal = (i, v["feedback"] + " (restarted without it)")
                    verdicts[step.task] = v
                    results[i] = ("ok", "")
                else:
                    try:
                        reply = kernel.request({"op": "run", "source": step.source}, deadline)
                    except Stopped as e:
                        detail = limit if "interrupt" in e.reason else e.reason
                        results[i] = (TIMED_OUT if "interrupt" in e.reason else ERROR, detail)
                        if not e.alive:
                            fatal = (i, f"{detail}" + (" and it kept running" if "kept" in e.reason else ""))
                    else:
                        status, ename = reply.get("status"), str(reply.get("ename", ""))
                        if status == "ok":
                            results[i] = ("ok", "")
                        elif status == "interrupted":
                            results[i] = (TIMED_OUT, limit)
                        elif ename == "SystemExit":
                            results[i] = (ERROR, "called sys.exit()")
                        else:
                            said = f"raised {ename}: {_short(reply.get('evalue', ''), 300)}".rstrip(": ")
                            results[i] = (ERROR, said)
                if fatal:
                    break
        finally:
            kernel.close()
        if fatal is None:
            break
        index, reason = fatal
        removed[index] = reason  # run again in a fresh process, without the step that broke it
        restarted = "" if "restarted" in reason else " (restarted without it)"
        results[index] = (results.get(index, (ERROR, ""))[0], reason + restarted)

    answer_notes = {s.task: results[i] for i, s in enumerate(steps) if s.kind == "answer" and i in results}
    answer_notes = {task: note for task, note in answer_notes.items() if note[0] != "ok"}
    tasks = []
    for task, q in qs.items():
        if task in missing:
            tasks.append(_verdict(q, MISSING, missing[task]))
            continue
        v = verdicts.get(task) or _verdict(q, ERROR, "not checked: the submission used up its time")
        note = answer_notes.get(task)
        if note and v["status"] != CORRECT:
            v["feedback"] = f"the answer cell {note[1]}; " + v["feedback"]
            if v["status"] == MISSING:  # not defined because its cell broke: say so in the status too
                v["status"] = TIMED_OUT if note[0] == TIMED_OUT else ERROR
        tasks.append(v)
    for i, s in enumerate(steps):
        status, detail = results.get(i, ("ok", ""))
        if status != "ok" and s.kind in ("setup", "added"):
            where = "a setup cell" if s.kind == "setup" else f"a cell you added (cell {s.cell})"
            notes.append(f"{where} {detail}")
    if hidden and any(status == ERROR for status, _ in results.values()):
        notes.append(
            f"while grading, the shipped data the checks grade on is not readable ({_names(hidden)} is empty): "
            "code that reads it (a NanoBench table) fails here, though it runs in your notebook"
        )
    return {"tasks": tasks, "notes": notes}


def grade_submission(
    assignment: str,
    submission,
    timeout: float = 30,
    master=None,
    sandbox: Sandbox | None = None,
    budget: float = 300,
    data: bytes | None = None,
) -> dict:
    """Grade one submission; never raises: any failure is this submission's zero, with the reason."""
    import nbformat

    assignment = assignment_name(assignment)
    sandbox = sandbox or Sandbox.find()
    qs = questions(assignment)
    started = time.monotonic()
    name = clean(os.fsdecode(submission) if isinstance(submission, (str, bytes, os.PathLike)) else submission)
    result = {"submission": name, "points": 0, "max_points": sum(q.points for q in qs), "notes": []}
    try:
        if data is None:
            data = read_submission(submission)
        master_nb = nbformat.read(find_master(assignment, master), as_version=4)
        # the random cases: the submission never sees this seed (each task's cases come from a hash of it)
        result["seed"] = seed = secrets.randbits(48)
        outcome = run_submission(assignment, master_nb, data, sandbox, timeout, budget, seed)
    except ValueError as e:
        reason = f"the submission {e}"
        outcome = {"tasks": [_verdict(q, ERROR, reason) for q in qs], "notes": [reason]}
    except (Exception, Stopped) as e:  # noqa: BLE001 - a failure of the grader itself: this submission's only
        reason = f"grading this submission failed ({type(e).__name__}: {_short(e, 300)}); please report it"
        outcome = {"tasks": [_verdict(q, ERROR, reason) for q in qs], "notes": [reason]}
    by_task = {t.get("task"): t for t in outcome["tasks"]}
    result["tasks"] = []
    for q in qs:  # the points come from the assignment's definition, never from anything the submission sent
        t = by_task.get(q.task) or _verdict(q, ERROR, "not graded")
        status = t.get("status") if t.get("status") in STATUSES else ERROR
        points = q.points if status == CORRECT else 0
        feedback = _short(t.get("feedback", ""))
        result["tasks"].append({**_verdict(q, status, feedback), "points": points})
    result["notes"] = [_short(n) for n in outcome.get("notes", [])][:20]
    result["notes"] += sandbox.notices
    hidden = [q.task for q in qs if q.hidden]
    if hidden and not sandbox.isolated:
        result["notes"].append(
            f"WARNING: without a sandbox, the shipped data that {', '.join(hidden)} is graded on was readable by the "
            "submission: an answer could have looked its expected values up (read the code of a full mark)."
        )
    result["points"] = sum(t["points"] for t in result["tasks"])
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


# ---------------------------------------------------------------------------------------------------------------
# The batch


def grade(
    assignment: str,
    submissions,
    timeout: float = 30,
    jobs: int = 1,
    master=None,
    progress=None,
    budget: float = 300,
    limits: Limits | None = None,
    out=None,
) -> dict:
    """Grade every submission of an assignment; return the gradebook (a dict: see write_gradebook).

    Every submission is read before any code runs, so none can change a classmate's file before it is read.
    With `out`, the gradebook is rewritten after each submission, so it exists whatever happens to the batch.
    """
    assignment = assignment_name(assignment)
    master = find_master(assignment, master)
    qs = questions(assignment)
    limits = limits or Limits(cpu_s=int(budget) + 60)
    sandbox = Sandbox.find(limits)
    paths = [os.fsdecode(s) for s in submissions]
    if len(set(paths)) < len(paths):
        paths = list(dict.fromkeys(paths))  # a file named twice is graded once
    contents = {}
    for path in paths:
        try:
            contents[path] = read_submission(path)
        except ValueError as e:
            contents[path] = e
        except Exception as e:  # noqa: BLE001 - never the batch's end
            contents[path] = ValueError(f"cannot be read ({type(e).__name__})")
    book = {
        "assignment": assignment,
        "tasks": [{"task": q.task, "name": q.name, "title": q.title, "max_points": q.points} for q in qs],
        "max_points": sum(q.points for q in qs),
        "timeout_s": timeout,
        "budget_s": budget,
        "sandbox": sandbox.kind,
        "isolation": "full" if sandbox.isolated else REDUCED.format(reason=sandbox.reason),
        "limits": sandbox.controls.kind,  # cgroup2, cgroup1, systemd: for the submission as a whole; none: per process
        "notices": sandbox.notices,
        "graded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "submissions": [],
    }
    lock, done = threading.Lock(), {}

    def zero(path, reason):
        return {
            "submission": clean(path),
            "points": 0,
            "max_points": book["max_points"],
            "tasks": [_verdict(q, ERROR, reason) for q in qs],
            "notes": [reason],
            "seconds": 0.0,
        }

    def one(path):  # whatever happens here is this submission's, never the batch's
        data = contents[path]
        try:
            if isinstance(data, ValueError):
                result = zero(path, f"the submission {data}")
            else:
                result = grade_submission(assignment, path, timeout, master, sandbox, budget, data)
        except (Exception, Stopped) as e:  # noqa: BLE001
            result = zero(path, f"grading this submission failed ({type(e).__name__}); please report it")
        with lock:
            done[path] = result
            book["submissions"] = [done[p] for p in paths if p in done]
            if out:
                try:
                    write_gradebook(book, out)
                except OSError as e:  # the final write says it again, loudly
                    print(f"could not write the gradebook yet: {clean(e)}", file=sys.stderr, flush=True)
        if progress:
            try:
                progress(result)
            except Exception:  # noqa: BLE001 - a closed terminal must not stop the grading
                pass
        return result

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        results = list(pool.map(one, paths))
    book["submissions"] = results
    return book


def write_gradebook(book: dict, out) -> tuple[Path, Path]:
    """grades.csv (one row per submission: points per task, total) and grades.json (everything, with feedback)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tasks = [t["task"] for t in book["tasks"]]
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", *tasks, "total", "max_points"])
        for s in book["submissions"]:
            points = {t["task"]: t["points"] for t in s["tasks"]}
            writer.writerow([cell(s["submission"]), *[points.get(t, 0) for t in tasks], s["points"], s["max_points"]])
    partial.replace(out)
    json_path = out.with_suffix(".json")
    partial = json_path.with_name(json_path.name + ".partial")
    # ASCII: any string is written (a lone surrogate too), as a JSON escape
    partial.write_text(json.dumps(book, indent=1, ensure_ascii=True) + "\n", encoding="ascii")
    partial.replace(json_path)
    return out, json_path


def summary(result: dict) -> str:
    """One line per submission: its score and what lost points."""
    lost = [f"{t['task']} {t['status']}" for t in result["tasks"] if t["points"] < t["max_points"]]
    return (
        f"{clean(result['submission'])}: {result['points']:g}/{result['max_points']:g}"
        + (f"  ({', '.join(lost)})" if lost else "")
        + f"  [{result['seconds']:.1f} s]"
    )


def main(args) -> int:
    """`nanonas grade`: see cli.py for the arguments."""
    limits = Limits(memory_mb=args.memory, cpu_s=int(args.budget) + 60)
    sandbox = Sandbox.find(limits)
    for notice in sandbox.notices:
        print(notice, file=sys.stderr, flush=True)
    book = grade(
        args.assignment,
        args.submissions,
        args.timeout,
        args.jobs,
        args.master,
        progress=lambda r: print(summary(r), flush=True),
        budget=args.budget,
        limits=limits,
        out=args.out,
    )
    csv_path, json_path = write_gradebook(book, args.out)
    for notice in sandbox.notices:
        print(notice, file=sys.stderr, flush=True)
    print(f"gradebook: {clean(csv_path)} (points) and {clean(json_path)} (with feedback per task)")
    return 0


__all__ = ["ASSIGNMENTS", "grade", "grade_submission", "write_gradebook", "summary", "main"]
