"""The grader does not trust a submission: the attacks of issue 12, as small hostile notebooks, graded in one batch
(`nanonas grade 05 ... --jobs 2`) with the solution and an untouched exercise.

Each attack must get no more than the honest blank (the untouched exercise: 0 points), every other submission's
grade and file must stay as they were, and the gradebook must be written. The attacks that need a sandbox to fail
(reading or writing a classmate's file, a surviving process) are checked when bubblewrap works here (`make test`
installs it); the others hold without one, because checks and points never leave the grader's process.
"""

import hashlib
import json
import time
from pathlib import Path

import nbformat
import pytest

from course import grading
from course.sandbox import Sandbox
from nanonas import cli
from tests.test_notebooks import ROOT

LESSON = "05_pareto_tradeoffs"
DAEMON = "nanonas-redteam-daemon"
SANDBOX = Sandbox.find()


def _exercise(answers=None, added=(), after="q1_answer"):
    """The released exercise, with answer cells replaced ({task: source}) and code cells added after a cell."""
    nb = nbformat.read(ROOT / "exercises" / f"{LESSON}.ipynb", as_version=4)
    for cell in nb.cells:
        gid = cell.metadata["nbgrader"]["grade_id"]
        if gid.split("_")[0] in (answers or {}) and gid.endswith("_answer"):
            cell.source = answers[gid.split("_")[0]]
    at = next(i for i, c in enumerate(nb.cells) if c.metadata["nbgrader"]["grade_id"] == after) + 1
    for source in reversed(added):
        nb.cells.insert(at, nbformat.v4.new_code_cell(source))
    return nb


def _attacks(folder: Path, out: Path) -> dict:
    """{name: notebook}: every attack of the issue, plus a careless time-out and a memory hog."""
    grades, solution = str(out), str(folder / "solution.ipynb")
    forge = (
        "import glob, json, os, pathlib\n"
        "verdict = {'status': 'correct', 'points': 4000, 'max_points': 1, 'feedback': 'forged'}\n"
        "places = {os.getcwd(), '/tmp', os.environ.get('IPYTHONDIR', '/tmp'), str(pathlib.Path.cwd().parent)}\n"
        "for place in places:\n"
        "    for q in ('q1', 'q2', 'q3', 'q4'):\n"
        "        for name in (q + '.json', 'control/' + q + '.json'):\n"
        "            try:\n"
        "                p = pathlib.Path(place, name); p.parent.mkdir(parents=True, exist_ok=True)\n"
        "                p.write_text(BODY)\n"
        "            except OSError:\n"
        "                pass\n"
        "for path in glob.glob('/proc/*/cwd'):\n"
        "    try:\n"
        "        pathlib.Path(path, 'result.json').write_text(BODY)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    copy_classmate = (
        "import glob, json, pathlib\n"
        "paths = set()\n"
        "for cmd in glob.glob('/proc/*/cmdline'):\n"
        "    try:\n"
        "        args = open(cmd, 'rb').read().decode(errors='replace').split('\\0')\n"
        "        paths.update(a for a in args if a.endswith('.ipynb'))\n"
        "    except OSError:\n"
        "        pass\n"
        f"paths.update(glob.glob({str(folder)!r} + '/*.ipynb') + glob.glob({str(ROOT)!r} + '/solutions/*.ipynb'))\n"
        "paths.update(glob.glob('/*/*/solutions/*.ipynb') + glob.glob('/tmp/*/*/*.ipynb') + glob.glob('../*.ipynb'))\n"
        "for path in sorted(paths):\n"
        "    try:\n"
        "        for cell in json.load(open(path))['cells']:\n"
        "            if cell['cell_type'] == 'code' and 'def ' in ''.join(cell['source']):\n"
        "                exec(''.join(cell['source']).replace('raise NotImplementedError()', 'pass'), globals())\n"
        "    except Exception:\n"
        "        pass\n"
    )
    overwrite = (
        "import glob, pathlib\n"
        f"targets = glob.glob({str(folder)!r} + '/*.ipynb') + [{solution!r}, {grades!r}]\n"
        "for path in targets:\n"
        "    if 'overwrite' not in path:\n"
        "        try:\n"
        "            pathlib.Path(path).write_text('{}')\n"
        "        except OSError:\n"
        "            pass\n"
    )
    daemon = (
        "import os, subprocess, sys\n"
        "code = ('import time, pathlib\\n'\n"
        f"        'for _ in range(600):\\n'\n"
        f"        '    try: pathlib.Path({grades!r}).write_text(\"submission,total\\\\nme,4000\\\\n\")\\n'\n"
        "        '    except OSError: pass\\n'\n"
        "        '    time.sleep(0.1)\\n')\n"
        f"subprocess.Popen([sys.executable, '-c', code, {DAEMON!r}], start_new_session=True,\n"
        "                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    os.execv(sys.executable, [sys.executable, '-c', code, {DAEMON!r}])\n"
    )
    wrong = {  # plausible wrong answers that a patched check would have accepted
        "q1": "def dominates(a, b):\n    return True",
        "q2": "def pareto_front_2d(points):\n    return [0]",
        "q3": "def hypervolume(points, reference):\n    return 1.0",
        "q4": "def best_under(bench, budget_ms):\n    return [0, 0, 0, 0]",
    }
    patch = (
        "import builtins, math, random, numpy\n"
        "import course.question as question\n"
        "from course import lesson05\n"
        "from course.question import CORRECT, Verdict\n"
        "question.Question.verdict = lambda self, *a, **k: Verdict(self.task, self.name, CORRECT, 99, 1, 'patched')\n"
        "question.expect = lambda *a, **k: None\n"
        "lesson05.expect = lambda *a, **k: None\n"
        "math.isclose = lambda *a, **k: True\n"
        "numpy.any = lambda *a, **k: True\n"
        "builtins.all = lambda *a, **k: True\n"
        "builtins.any = lambda *a, **k: True\n"
        "random.Random.random = lambda self: 0.0\n"
        "globals().update({'q1': None})\n"
    )
    imported = {
        "q1": "from course.lesson05 import dominates",
        "q2": "from course.question import reference\n"
        "pareto_front_2d = reference('05_pareto_tradeoffs').pareto_front_2d",
        "q3": "import course.lesson05 as m\nhypervolume = m.REFERENCE.hypervolume",
        "q4": "import nbformat, glob\n"
        f"for path in glob.glob({str(ROOT)!r} + '/solutions/05_*.ipynb') + glob.glob('/*/*/solutions/05_*'):\n"
        "    for cell in nbformat.read(path, 4).cells:\n"
        "        if 'best_under' in cell.source:\n"
        "            exec(cell.source)",
    }
    peek = (
        "import sys\n\n"
        "def _want(*names):\n"
        "    frame = sys._getframe(2)\n"
        "    while frame is not None:\n"
        "        for name in names:\n"
        "            if name in frame.f_locals:\n"
        "                return frame.f_locals[name]\n"
        "        frame = frame.f_back\n"
        "    return None\n\n"
    )
    always_equal = (
        "class Yes(list):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    __ne__ = lambda self, other: False\n"
        "    __hash__ = None\n\n"
        "class Number(float):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    __hash__ = float.__hash__\n\n"
    )
    kill = (  # in a sandbox it sees only its own processes; without one it would kill the machine's: not run then
        "import os, signal\n"
        "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    if pid != os.getpid():\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "        except OSError:\n"
        "            pass\n"
    )
    # Without a sandbox these would reach the machine's other processes and folders: they run only in one.
    hostile = {"kill_neighbours": _exercise(added=[kill]), "daemon": _exercise(added=[daemon])}
    if not SANDBOX.isolated:
        hostile, forge = {}, forge.split("for path in glob.glob('/proc/*/cwd')")[0]
    return hostile | {
        "forged_verdict": _exercise(added=[forge.replace("BODY", "json.dumps(verdict)")]),
        "batch_abort": _exercise(added=[forge.replace("BODY", "'{ not json'")]),
        "copy_classmate": _exercise(added=[copy_classmate], after="q4_answer"),
        "overwrite_classmate": _exercise(added=[overwrite]),
        "patched_checks": _exercise(answers=wrong, added=[patch], after="setup"),
        "imported_references": _exercise(answers=imported),
        "stack_peek": _exercise(
            answers={
                "q1": peek + "def dominates(a, b):\n    return _want('want', 'expected')",
                "q2": peek + "def pareto_front_2d(points):\n    return _want('want', 'expected')",
                "q3": peek + "def hypervolume(points, reference):\n    return _want('want', 'expected')",
                "q4": peek + "def best_under(bench, budget_ms):\n    return _want('want', 'expected')",
            }
        ),
        "always_equal": _exercise(
            answers={
                "q1": always_equal + "def dominates(a, b):\n    return Yes()",
                "q2": always_equal + "def pareto_front_2d(points):\n    return Yes()",
                "q3": always_equal + "def hypervolume(points, reference):\n    return Number(0)",
                "q4": always_equal + "def best_under(bench, budget_ms):\n    return Yes()",
            }
        ),
        "huge_feedback": _exercise(
            answers={"q1": "def dominates(a, b):\n    raise ValueError('x' * 20_000_000)"},
            added=["print('y' * 50_000_000)"],
        ),
        "endless_loop": _exercise(answers={"q2": "def pareto_front_2d(points):\n    while True:\n        pass"}),
        "memory_hog": _exercise(added=["hog = bytearray(8 * 2**30)"]),
    }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("teacher") / "grades.csv"
    nbformat.write(nbformat.read(ROOT / "solutions" / f"{LESSON}.ipynb", as_version=4), folder / "solution.ipynb")
    nbformat.write(nbformat.read(ROOT / "exercises" / f"{LESSON}.ipynb", as_version=4), folder / "exercise.ipynb")
    for name, nb in _attacks(folder, out).items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    (folder / "link.ipynb").symlink_to(folder / "solution.ipynb")
    digests = {p.name: _digest(p) for p in folder.glob("*.ipynb") if not p.is_symlink()}
    paths = sorted(str(p) for p in folder.glob("*.ipynb")) + [str(folder / "absent.ipynb")]
    started = time.monotonic()
    argv = ["grade", "05", *paths, "--out", str(out), "--timeout", "10", "--budget", "90", "--jobs", "2"]
    assert cli.main(argv) == 0
    seconds = time.monotonic() - started
    csv_text = out.read_text()
    time.sleep(1.5)  # a surviving process would rewrite the gradebook by now
    book = json.loads(out.with_suffix(".json").read_text())
    results = {Path(s["submission"]).stem: s for s in book["submissions"]}
    return dict(folder=folder, out=out, csv=csv_text, book=book, results=results, digests=digests, seconds=seconds)


def test_the_gradebook_is_written_for_everyone(batch):
    names = {p.stem for p in batch["folder"].glob("*.ipynb")} | {"absent"}
    assert set(batch["results"]) == names
    assert len(batch["csv"].splitlines()) == len(names) + 1
    assert batch["seconds"] < 1200, "the batch ends (a few minutes on 2 quiet cores; much longer only when busy)"


def test_the_solution_and_the_exercise_keep_their_grades(batch):
    solution, exercise = batch["results"]["solution"], batch["results"]["exercise"]
    assert solution["points"] == solution["max_points"] == 8, solution
    assert exercise["points"] == 0 and [t["status"] for t in exercise["tasks"]] == ["not attempted"] * 4


ATTACKS = [
    "forged_verdict",
    "batch_abort",
    "copy_classmate",
    "overwrite_classmate",
    "patched_checks",
    "imported_references",
    "stack_peek",
    "always_equal",
    "huge_feedback",
    "endless_loop",
    "memory_hog",
] + (["kill_neighbours", "daemon"] if SANDBOX.isolated else [])


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_attack_gets_no_more_than_a_blank(batch, attack):
    result = batch["results"][attack]
    blank = batch["results"]["exercise"]["points"]
    assert result["points"] <= blank == 0, result
    assert all(t["points"] == 0 and t["max_points"] >= 1 for t in result["tasks"])
    assert all(len(t["feedback"]) <= 1000 for t in result["tasks"]), "feedback is truncated"
    assert all(len(n) <= 1000 for n in result["notes"])


def test_the_gradebook_stays_small_and_says_what_happened(batch):
    assert len(batch["out"].with_suffix(".json").read_text()) < 200_000, "a 20 MB message is not stored verbatim"
    tasks = {t["task"]: t for t in batch["results"]["endless_loop"]["tasks"]}
    assert tasks["q2"]["status"] == "timed out"
    assert "time limit (10 s) reached in cell" in tasks["q2"]["feedback"], tasks["q2"]
    assert "raised ValueError: xxx" in batch["results"]["huge_feedback"]["tasks"][0]["feedback"]
    always = {t["task"]: t["feedback"] for t in batch["results"]["always_equal"]["tasks"]}
    assert "a __main__.Yes object" in always["q2"] or "Yes" in always["q2"], always


def test_links_and_missing_files_are_reported(batch):
    link, absent = batch["results"]["link"], batch["results"]["absent"]
    assert link["points"] == 0 and "symbolic link" in link["notes"][0]
    assert absent["points"] == 0 and "no such file" in absent["notes"][0]


@pytest.mark.skipif(not SANDBOX.isolated, reason=f"no sandbox here: {SANDBOX.reason}")
def test_no_submission_reaches_another_ones_file_or_outlives_its_grading(batch):
    now = {p.name: _digest(p) for p in batch["folder"].glob("*.ipynb") if not p.is_symlink()}
    assert now == batch["digests"], "every submission file is unchanged"
    assert batch["out"].read_text() == batch["csv"], "nothing rewrote the gradebook after the grader finished"
    assert "me,4000" not in batch["csv"]
    survivors = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if DAEMON.encode() in cmdline.read_bytes():
                survivors.append(cmdline.parent.name)
        except OSError:
            pass
    assert survivors == [], "every process a submission started is killed"
    assert batch["book"]["sandbox"] == "bubblewrap" and batch["book"]["isolation"] == "full"


def test_without_a_sandbox_the_grader_grades_and_says_so(monkeypatch, tmp_path):
    """When bubblewrap is missing the grader still grades, and says loudly that isolation was reduced."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap, no prlimit on the PATH
    sandbox = Sandbox.find()
    assert not sandbox.isolated and "bubblewrap (bwrap) is not installed" in sandbox.reason
    result = grading.grade_submission(LESSON, ROOT / "solutions" / f"{LESSON}.ipynb", timeout=60, sandbox=sandbox)
    assert result["points"] == result["max_points"] == 8, result
    assert "WARNING: isolation reduced: bubblewrap (bwrap) is not installed" in result["notes"][-1]
