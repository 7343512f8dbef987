"""A class in one command: a made-up class of 02_architecture_dna, graded, analysed and given its feedback.

    .venv/bin/python benchmarks/class_roundtrip.py                 # 30 students, --jobs 2
    .venv/bin/python benchmarks/class_roundtrip.py --students 8 --keep /tmp/class

The class is generated from the solution notebook: honest students (a skill drawn per student; each task solved,
got wrong in a typical way, or left blank), two who hand in the untouched exercise, and hostile ones (a file named
`=1+1.ipynb`, a name that is HTML, a name with a right-to-left override, an endless loop, 30 MB of output,
`os._exit()`, an error message carrying a script, a file that is not a notebook). The round trip: release (the
exercise copied to each student) -> collect (half the class into a plain folder, half into nbgrader's
`submitted/<student>/<assignment>/` layout) -> `nanonas grade --jobs 2 --report --feedback` (one command: the
gradebook, the CSVs for a spreadsheet, Canvas and Moodle, the item analysis page, one feedback file per student).
It writes benchmarks/results/class_roundtrip.md: the wall time of each step and the machine's load.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.append(str(Path(__file__).parent))  # when imported (tests/test_teacher.py) rather than run
from timing_page import write_page  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "class_roundtrip.md"
ASSIGNMENT = "02_architecture_dna"
NAMES = (
    "ada alan barbara claude edsger frances grace hedy ivan john katherine leslie margaret niklaus ole radia "
    "shafi tim tony ursula vint whitfield yoshua zuse anita donald joan ken lynn mary robin sophie".split()
)

# Typical mistakes, per task: the body that replaces the solution's (between BEGIN and END SOLUTION)
MISTAKES = {
    "q1": [
        "return [OPS.index(name) + 1 for name in names]",  # off by one
        "return [OPS.index(name) if name in OPS else 0 for name in names]",  # an unknown name silently 0
    ],
    "q2": [
        "child = list(dna)\nchild[rng.randrange(len(child))] = rng.randrange(len(OPS))\nreturn child",  # may not change
        "dna[rng.randrange(len(dna))] = (dna[0] + 1) % len(OPS)\nreturn dna",  # changes the parent
    ],
    "q3": [
        "cut = rng.randrange(len(a))\nreturn list(a[:cut]) + list(b[cut:])",  # cut 0: nothing from a
        "cut = rng.randrange(1, len(a))\nreturn list(b[:cut]) + list(a[cut:])",  # parents swapped
    ],
    "q4": [
        "return [list(dna[:i]) + [op] + list(dna[i + 1 :]) for i in range(len(dna)) for op in range(len(OPS))]",
        "return [[op] + list(dna[1:]) for op in range(len(OPS)) if op != dna[0]]",  # the first position only
    ],
    "q5": [
        "return [max(fitness, key=fitness.get)]",  # the global optimum only
        "return [list(d) for d, f in fitness.items() if all(fitness[tuple(n)] <= f for n in neighbours(list(d)))]",
    ],
}
DIFFICULTY = {"q1": 0.0, "q2": 0.15, "q3": 0.25, "q4": 0.35, "q5": 0.5}  # honest students solve q1 most often
HOSTILE = {  # role: (file name, {task: answer body}, {task: code run after the answer cell's function})
    "formula": ("=1+1", {}, {}),
    "html": ('<img src=x onerror="alert(1)">', {}, {}),
    "bidi": ("mallory\u202egnp.ipynb", {}, {}),
    "script": ("eve", {"q1": "raise ValueError(\"<script>alert('x')</script> =HYPERLINK(1)\")"}, {}),
    "loop": ("loopy", {"q3": "while True:\n    pass"}, {}),  # an endless loop: the check times out
    "output": ("chatty", {}, {"q2": 'print("x" * 30_000_000)'}),  # 30 MB printed
    "exit": ("quitter", {}, {"q4": "import os\n\nos._exit(3)"}),
    "garbage": ("garbage", None, {}),  # not a notebook at all
}


def _with_bodies(solution: nbformat.NotebookNode, bodies: dict, after: dict | None = None) -> nbformat.NotebookNode:
    """The solution notebook with some tasks' solution regions replaced (None: the exercise's stub), code after."""
    nb = nbformat.from_dict(solution)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        task = gid.removesuffix("_answer")
        if gid.endswith("_answer") and task in bodies:
            head, rest = cell.source.split("### BEGIN SOLUTION", 1)
            tail = rest.split("### END SOLUTION", 1)[1]
            indent = head.rsplit("\n", 1)[-1]
            body = bodies[task] or "raise NotImplementedError()"
            cell.source = head.rstrip(" ") + "\n".join(indent + line for line in body.split("\n")) + tail
            cell.source = cell.source.replace(f"{indent}\n", "\n")
        if gid.endswith("_answer") and task in (after or {}):
            cell.source += "\n\n" + after[task]
    return nb


def make_class(folder, students: int = 30, seed: int = 0, hostile=tuple(HOSTILE)) -> dict:
    """Release, work and collect a made-up class under `folder`; returns {student: (path, role)}.

    Hostile students come first (as many as asked), then two blank ones, then honest ones. Half of the
    honest and blank students are collected in nbgrader's layout, the rest (and every hostile one) in a plain folder.
    """
    folder, rng = Path(folder), random.Random(seed)
    solution = nbformat.read(ROOT / "solutions" / f"{ASSIGNMENT}.ipynb", as_version=4)
    exercise = ROOT / "exercises" / f"{ASSIGNMENT}.ipynb"
    roles = [*hostile][:students]
    roles += ["blank"] * min(2, students - len(roles))
    roles += ["honest"] * (students - len(roles))
    plain, submitted = folder / "collected", folder / "submitted"
    plain.mkdir(parents=True, exist_ok=True)
    made = {}
    for i, role in enumerate(roles):
        if role in HOSTILE:
            name, bodies, after = HOSTILE[role]
        else:
            name = NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else str(i))
        release = folder / "release" / name.replace("/", "_")  # release: each student gets the exercise
        release.mkdir(parents=True, exist_ok=True)
        shutil.copy(exercise, release / exercise.name)
        if role == "blank":
            nb = nbformat.read(release / exercise.name, as_version=4)
        elif role == "honest":
            skill = rng.random()
            bodies = {}
            for task, hard in DIFFICULTY.items():
                draw = rng.random()
                if draw > skill * 1.3 - hard:  # not solved: a typical mistake, or left blank
                    bodies[task] = rng.choice(MISTAKES[task]) if rng.random() < 0.75 else None
            nb = _with_bodies(solution, bodies)
        elif bodies is not None:
            nb = _with_bodies(solution, bodies, after)
        if role not in HOSTILE and i % 2:  # collect: nbgrader's layout for half the honest and blank students
            path = submitted / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        else:
            path = plain / (name if name.endswith(".ipynb") else f"{name}.ipynb")
        path.parent.mkdir(parents=True, exist_ok=True)
        if role == "garbage":
            path.write_bytes(b"\x00\xffnot a notebook {")
        else:
            nbformat.write(nb, path)
        made[name.removesuffix(".ipynb")] = (path, role)
    return made


def grade_command(folder, made: dict, jobs: int = 2, timeout: float = 30, python=sys.executable) -> list[str]:
    """`nanonas grade` over the collected class, writing the gradebook, the report page and the feedback files."""
    folder = Path(folder)
    command = [python, "-m", "nanonas", "grade", ASSIGNMENT, *[str(p) for p, _ in made.values()]]
    command += ["--out", str(folder / "grades" / "02.csv"), "--jobs", str(jobs), "--timeout", str(timeout)]
    return command + ["--report", "--feedback", str(folder / "feedback")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30, help="seconds each cell may run (nanonas grade's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", metavar="DIR", help="build the class here and keep it (default: a temporary folder)")
    parser.add_argument("--out", default=str(RESULTS), help="the results page (markdown)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="nanonas-class-") as tmp:
        folder = Path(args.keep or tmp)
        load_before = os.getloadavg()
        started = time.monotonic()
        made = make_class(folder, args.students, args.seed)
        made_s = time.monotonic() - started
        started = time.monotonic()
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        command = grade_command(folder, made, args.jobs, args.timeout)
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        graded_s = time.monotonic() - started
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
            return 1
        started = time.monotonic()
        again = [sys.executable, "-m", "nanonas", "report", str(folder / "grades" / "02.json")]
        subprocess.run(again + ["--feedback", str(folder / "feedback")], check=True, capture_output=True, env=env)
        report_s = time.monotonic() - started
        load_after = os.getloadavg()
        book = json.loads((folder / "grades" / "02.json").read_text())
        files = sorted(p.name for p in (folder / "grades").iterdir())
        feedback = len(list((folder / "feedback").glob("*.html")))
        page_mb = (folder / "grades" / "02.report.html").stat().st_size / 2**20
    seconds = [s["seconds"] for s in book["submissions"]]
    points = [s["points"] for s in book["submissions"]]
    roles = [role for _, role in made.values()]
    body = [
        f"- {args.students} made-up submissions of `{ASSIGNMENT}`: {sum(r in HOSTILE for r in roles)} hostile, "
        f"{roles.count('blank')} blank, the rest honest "
        "with typical mistakes; half the honest ones collected in nbgrader's `submitted/` layout",
        f"- release and collect: {made_s:.1f} s",
        f"- **`nanonas grade --jobs {args.jobs} --report --feedback`: {graded_s:.0f} s** for the whole class "
        f"(per submission: median {sorted(seconds)[len(seconds) // 2]:.1f} s, slowest {max(seconds):.1f} s)",
        f"- `nanonas report` again on the gradebook (CSVs, page, feedback): {report_s:.1f} s; the page "
        f"{page_mb:.1f} MB (plotly.js embedded)",
        f"- written: {', '.join(files)}; {feedback} feedback pages (and as many Markdown files)",
        f"- points: mean {sum(points) / len(points):.1f} of {book['max_points']}, sandbox {book['sandbox']}",
    ]
    command = f"python benchmarks/class_roundtrip.py --students {args.students} --jobs {args.jobs} "
    command += f"--timeout {args.timeout:g}"
    print(write_page(args.out, "A class in one command", command, body, load_before, load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
