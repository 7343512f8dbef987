"""Batch grading: `nanonas grade 03_evolution submissions/*.ipynb --out grades.csv`.

Each submission runs in its own process, in a temporary folder holding a copy of the notebook, in a fresh
kernel, with a time limit on every cell. What runs is the released assignment (its locked cells restored, as
nbgrader does) with the submission's answer cells — and its own added cells — in their places; each check cell
is replaced by a call to the library's check of that task, which writes a verdict the submission cannot edit.
A broken submission (syntax error, exception, endless loop, `sys.exit()`, huge output, deleted or renamed cells)
gets 0 on the tasks it breaks, with the reason, and the batch goes on.
"""

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import ASSIGNMENTS, questions
from .question import CORRECT, MISSING

ERROR, TIMED_OUT = "error", "timed out"
KERNEL = "nanonas-grader"
TIMEOUT_ENAME = "CellTimeoutError"
PROBE_TIMEOUT = 5  # seconds an interrupted kernel gets to become responsive again before it is restarted
TASK_ID = re.compile(r"^q(\d+)_(task|answer|check)$")


# ---------------------------------------------------------------------------------------------------------------
# Inside the kernel: the grading cell


class _Discard(io.TextIOBase):
    def write(self, text):  # what the learner's code prints while being checked is not kept
        return len(text)


def report(assignment: str, number: int, namespace: dict, path: str, timeout: float) -> None:
    """Run the library's check of task `number` on the answers in `namespace`; write the verdict to `path`."""
    question = questions(assignment)[number - 1].bind(namespace)
    base = {"task": question.task, "name": question.name, "points": 0, "max_points": question.points}
    try:
        with contextlib.redirect_stdout(_Discard()), contextlib.redirect_stderr(_Discard()):
            verdict = question.verdict().as_dict()
    except KeyboardInterrupt:  # the cell's time limit interrupted the check
        verdict = {
            **base,
            "status": TIMED_OUT,
            "feedback": f"checking `{question.name}` did not finish within "
            f"{timeout:g} s: is there a loop that never ends?",
        }
    except SystemExit:
        verdict = {**base, "status": ERROR, "feedback": f"`{question.name}` called sys.exit() (or exit())."}
    Path(path).write_text(json.dumps(verdict))


# ---------------------------------------------------------------------------------------------------------------
# The plan: which code runs, in which order


@dataclass
class Step:
    kind: str  # setup (a locked cell of the assignment), answer, added (a cell the learner added), grade
    source: str
    task: str | None = None  # "q3" for answer and grade steps
    after: str | None = None  # for added cells: the grade_id of the cell they follow


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def find_master(assignment: str, master=None) -> Path:
    """The released notebook of an assignment: exercises/ASSIGNMENT.ipynb (or the solution it is generated from)."""
    from .generate import find_root

    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; choose one of: {', '.join(ASSIGNMENTS)}")
    if master:
        if not Path(master).exists():
            raise ValueError(f"no assignment notebook at {master}")
        return Path(master)
    root = find_root()
    for folder in ("exercises", "solutions"):
        if (root / folder / f"{assignment}.ipynb").exists():
            return root / folder / f"{assignment}.ipynb"
    raise ValueError(f"cannot find exercises/{assignment}.ipynb under {root}; pass --master PATH")


def plan(assignment: str, master, submission, control: Path, timeout: float):
    """The steps to run for a submission, and the tasks whose answer cell is missing ({task: reason})."""
    from .generate import exercise_notebook

    master = exercise_notebook(master)  # locked cells as released (a solution notebook works as the master too)
    numbers = {q.task for q in questions(assignment)}
    ids = [_grade_id(c) for c in master.cells]
    found = {TASK_ID.match(i).group(1) for i in ids if i and TASK_ID.match(i)}
    if {f"q{n}" for n in found} != numbers:
        raise ValueError(f"the assignment notebook does not match {assignment}'s tasks ({', '.join(sorted(numbers))})")

    answers, added, anchor = {}, {}, None  # the learner's answer cells, and added code cells by the cell they follow
    for cell in submission.cells:
        gid = _grade_id(cell)
        if gid in ids and gid not in answers:
            answers[gid] = cell
            anchor = gid
        elif cell.get("cell_type") == "code":
            added.setdefault(anchor, []).append(cell)

    steps, missing = [], {}
    steps += [Step("added", c.source, after=None) for c in added.get(None, [])]
    for cell, gid in zip(master.cells, ids):
        match = TASK_ID.match(gid or "")
        task = f"q{match.group(1)}" if match else None
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
                steps.append(Step("answer", theirs.source, task))
        elif cell.cell_type == "code" and match and match.group(2) == "check":
            if task not in missing:
                path = control / f"{task}.json"
                call = f"{assignment!r}, {match.group(1)}, globals(), {str(path)!r}, {timeout!r}"
                source = f"from nanonas.exercises.grading import report as _nanonas_report\n_nanonas_report({call})"
                steps.append(Step("grade", source, task))
        elif cell.cell_type == "code":
            steps.append(Step("setup", cell.source))  # locked: the released source, whatever the submission says
        steps += [Step("added", c.source, after=gid) for c in added.get(gid, [])]
    return steps, missing


# ---------------------------------------------------------------------------------------------------------------
# The worker: one submission, one process


def _kernel_spec(control: Path) -> None:
    """A kernel spec for this very Python, so the kernel runs where nanonas is installed."""
    folder = control / "jupyter" / "kernels" / KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
        "--HistoryManager.hist_file=:memory:",
    ]
    spec = {"argv": argv, "display_name": "nanonas grader", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(control / "jupyter"), os.environ.get("JUPYTER_PATH")])
    )
    os.environ["IPYTHONDIR"] = str(control / "ipython")  # leave the user's IPython profile alone
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one core per submission: fair, and jobs run side by side
        os.environ[name] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")


def _client_class():
    from nbclient import NotebookClient

    class Client(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            if msg["msg_type"] == "error":  # only errors matter to the grade: huge outputs are dropped as they come
                return super().output(outs, msg, display_id, cell_index)
            return None

    return Client


def _run_once(steps, removed, work: Path, control: Path, timeout: float):
    """Run the steps in one fresh kernel; return ({index: (status, detail)}, fatal (index, reason) or None)."""
    import nbformat
    from nbclient.exceptions import DeadKernelError

    cells = [nbformat.v4.new_code_cell("pass" if i in removed else s.source) for i, s in enumerate(steps)]
    probe = nbformat.v4.new_code_cell("pass")  # after a timeout: is the kernel listening again?
    replies, results, current = {}, {}, [None]
    client = _client_class()(
        nbformat.v4.new_notebook(cells=[*cells, probe]),
        timeout=timeout,
        kernel_name=KERNEL,
        allow_errors=True,
        interrupt_on_timeout=True,
        resources={"metadata": {"path": str(work)}},
        record_timing=False,
        iopub_timeout=1,  # errors are read from the execute reply, so lagging output need not be waited for
        shutdown_kernel="immediate",  # nothing to save, and a kernel stuck in a loop would not stop politely
        error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": f"no reply within {timeout:g} s", "traceback": []},
        on_cell_executed=lambda cell, cell_index, execute_reply: replies.__setitem__(cell_index, execute_reply),
    )
    try:
        with client.setup_kernel():
            pid = getattr(client.km.provisioner, "pid", None)
            if pid:
                (control / "kernel.pid").write_text(str(pid))
            for i, cell in enumerate(cells):
                if i in removed:
                    continue
                current[0] = i
                client.execute_cell(cell, i)
                content = replies.get(i, {}).get("content", {})
                if content.get("status") != "error":
                    results[i] = ("ok", "")
                elif content.get("ename") == TIMEOUT_ENAME:
                    results[i] = (TIMED_OUT, f"did not finish within {timeout:g} s and was interrupted")
                    client.timeout, _ = PROBE_TIMEOUT, replies.pop(len(cells), None)
                    client.execute_cell(probe, len(cells))
                    client.timeout = timeout
                    if replies.get(len(cells), {}).get("content", {}).get("ename") == TIMEOUT_ENAME:
                        stuck = f"did not finish within {timeout:g} s and kept running when interrupted"
                        return results, (i, stuck + " (restarted without it)")
                else:
                    ename, evalue = content.get("ename"), content.get("evalue")
                    said = "called sys.exit()" if ename == "SystemExit" else f"raised {ename}: {evalue}".rstrip(": ")
                    results[i] = (ERROR, said)
    except DeadKernelError:
        return results, (current[0], "stopped the Python kernel (os._exit() or a crash; restarted without it)")
    return results, None


def run_submission(assignment: str, master_path, submission_path, control: Path, timeout: float) -> dict:
    """Grade one submission here (in the worker process); return its result."""
    import nbformat

    control, work = Path(control), Path(submission_path).parent
    qs = questions(assignment)
    blank = {q.task: {"task": q.task, "name": q.name, "points": 0, "max_points": q.points} for q in qs}
    try:
        submission = nbformat.read(submission_path, as_version=4)
    except Exception as e:  # not JSON, not a notebook, unreadable
        reason = f"the submission is not a readable notebook ({type(e).__name__}: {str(e)[:200]})"
        return {"tasks": [{**b, "status": ERROR, "feedback": reason} for b in blank.values()], "notes": [reason]}
    steps, missing = plan(assignment, nbformat.read(master_path, as_version=4), submission, control, timeout)

    _kernel_spec(control)
    budget = timeout * (2 * len(steps) + 4)  # enough for every step to time out once, and a restart or two
    started, removed, results = time.monotonic(), {}, {}
    while True:
        for f in control.glob("q*.json"):
            f.unlink()
        results, fatal = _run_once(steps, removed, work, control, timeout)
        if fatal is None:
            break
        index, reason = fatal
        removed[index] = reason  # run again in a fresh kernel, without the step that broke it
        if time.monotonic() - started > budget:
            break

    def outcome(i):
        if i in removed:
            return TIMED_OUT if "finish" in removed[i] else ERROR, removed[i]
        return results.get(i, ("not run", "was not run: the submission used up its time"))

    answer_notes = {s.task: outcome(i) for i, s in enumerate(steps) if s.kind == "answer" and outcome(i)[0] != "ok"}
    tasks = []
    for q in qs:
        b, grade_step = (
            blank[q.task],
            next((i for i, s in enumerate(steps) if s.kind == "grade" and s.task == q.task), None),
        )
        answer_status = answer_notes.get(q.task)
        prefix = f"the answer cell {answer_status[1]}; " if answer_status else ""
        verdict_file = control / f"{q.task}.json"
        if q.task in missing:
            tasks.append({**b, "status": MISSING, "feedback": missing[q.task]})
        elif verdict_file.exists():
            v = json.loads(verdict_file.read_text())
            if v["status"] != CORRECT and prefix:
                v["feedback"] = prefix + v["feedback"]
                if v["status"] == MISSING:  # not defined because its cell broke: say so in the status too
                    v["status"] = TIMED_OUT if answer_status[0] == TIMED_OUT else ERROR
            tasks.append(v)
        else:
            status, detail = outcome(grade_step)
            what = f"checking `{q.name}` {detail}"
            tasks.append({**b, "status": TIMED_OUT if "finish" in detail else ERROR, "feedback": prefix + what})
    notes = []
    for i, s in enumerate(steps):
        status, detail = outcome(i)
        if status != "ok" and s.kind in ("setup", "added"):
            where = "a setup cell" if s.kind == "setup" else f"a cell you added (after {s.after or 'the start'})"
            notes.append(f"{where} {detail}")
    return {"tasks": tasks, "notes": notes}


def _worker(argv) -> int:
    assignment, master, submission, control, timeout = argv
    result = run_submission(assignment, master, submission, Path(control), float(timeout))
    (Path(control) / "result.json").write_text(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------------------------------------------
# The batch: one worker process per submission


def _kill_kernel(control: Path) -> None:
    """Stop the kernel of a worker that had to be killed (it runs in its own session)."""
    try:
        pid = int((control / "kernel.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and b"ipykernel" not in cmdline.read_bytes():
            return  # the pid now belongs to something else
        os.killpg(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass


def grade_submission(assignment: str, submission, timeout: float = 30, master=None) -> dict:
    """Grade one submission in its own process and temporary folder; never raises for a broken submission."""
    master = find_master(assignment, master)
    qs = questions(assignment)
    started = time.monotonic()
    result = {"submission": str(submission), "points": 0, "max_points": sum(q.points for q in qs)}
    with tempfile.TemporaryDirectory(prefix="nanonas-grade-") as tmp:
        work, control = Path(tmp) / "work", Path(tmp) / "control"
        work.mkdir()
        control.mkdir()
        copy = work / "submission.ipynb"
        try:
            shutil.copyfile(submission, copy)
        except OSError as e:
            copy.write_text("")
            result["notes"] = [f"could not read the submission: {e}"]
        limit = timeout * (2 * (3 * len(qs) + 1) + 4) + 60  # the worker's own budget, and time to start
        cmd = [
            sys.executable,
            "-m",
            "nanonas.exercises.grading",
            "--worker",
            assignment,
            str(Path(master).resolve()),
            str(copy),
            str(control),
            str(timeout),
        ]
        with open(control / "worker.log", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=work, stdout=log, stderr=log, start_new_session=True)
            try:
                proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            finally:
                _kill_kernel(control)
        if (control / "result.json").exists():
            outcome = json.loads((control / "result.json").read_text())
        else:  # the worker died or ran out of time: keep the verdicts it had written
            tail = (control / "worker.log").read_bytes()[-600:].decode(errors="replace").strip().splitlines()
            why = f"grading stopped ({tail[-1] if tail else 'no output'})"
            tasks = []
            for q in qs:
                f = control / f"{q.task}.json"
                default = {
                    "task": q.task,
                    "name": q.name,
                    "status": ERROR,
                    "points": 0,
                    "max_points": q.points,
                    "feedback": why,
                }
                tasks.append(json.loads(f.read_text()) if f.exists() else default)
            outcome = {"tasks": tasks, "notes": [why]}
    result["tasks"] = outcome["tasks"]
    result["notes"] = result.get("notes", []) + outcome["notes"]
    result["points"] = sum(t["points"] for t in result["tasks"])
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def grade(assignment: str, submissions, timeout: float = 30, jobs: int = 1, master=None, progress=None) -> dict:
    """Grade every submission of an assignment; return the gradebook (a dict: see write_gradebook)."""
    master = find_master(assignment, master)
    qs = questions(assignment)

    def one(path):
        result = grade_submission(assignment, path, timeout, master)
        if progress:
            progress(result)
        return result

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        results = list(pool.map(one, [str(s) for s in submissions]))
    return {
        "assignment": assignment,
        "tasks": [{"task": q.task, "name": q.name, "title": q.title, "max_points": q.points} for q in qs],
        "max_points": sum(q.points for q in qs),
        "timeout_s": timeout,
        "graded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "submissions": results,
    }


def write_gradebook(book: dict, out) -> tuple[Path, Path]:
    """grades.csv (one row per submission: points per task, total) and grades.json (everything, with feedback)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tasks = [t["task"] for t in book["tasks"]]
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", *tasks, "total", "max_points"])
        for s in book["submissions"]:
            points = {t["task"]: t["points"] for t in s["tasks"]}
            writer.writerow([s["submission"], *[points.get(t, 0) for t in tasks], s["points"], s["max_points"]])
    json_path = out.with_suffix(".json")
    json_path.write_text(json.dumps(book, indent=1, ensure_ascii=False) + "\n")
    return out, json_path


def summary(result: dict) -> str:
    """One line per submission: its score and what lost points."""
    lost = [f"{t['task']} {t['status']}" for t in result["tasks"] if t["points"] < t["max_points"]]
    return (
        f"{result['submission']}: {result['points']:g}/{result['max_points']:g}"
        + (f"  ({', '.join(lost)})" if lost else "")
        + f"  [{result['seconds']:.1f} s]"
    )


def main(args) -> int:
    """`nanonas grade`: see cli.py for the arguments."""
    book = grade(
        args.assignment,
        args.submissions,
        args.timeout,
        args.jobs,
        args.master,
        progress=lambda r: print(summary(r), flush=True),
    )
    csv_path, json_path = write_gradebook(book, args.out)
    print(f"gradebook: {csv_path} (points) and {json_path} (with feedback per task)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        sys.exit(_worker(sys.argv[2:]))
    sys.exit("usage: nanonas grade ASSIGNMENT SUBMISSION.ipynb... --out grades.csv")
