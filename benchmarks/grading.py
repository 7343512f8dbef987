"""How long grading a class takes: 30 submissions of one assignment with `nanonas grade --jobs 2`.

    .venv/bin/python benchmarks/grading.py            # 30 submissions of 03_evolution, --jobs 2
    .venv/bin/python benchmarks/grading.py --assignment 05 --students 10 --jobs 1
    .venv/bin/python benchmarks/grading.py --hostile  # 25 honest + 5 hostile (issue 24: one per class of attack)

The class: a third hand in the solution, a third the untouched exercise, a third half of it (q1-q3 solved). With
--hostile, five of them are replaced by attacks, one per class of issue 24: a runner that stops reading and is then
sent a 200 kB cell (and raises an error carrying a lone surrogate), 64 busy processes for the whole budget, forged
answers (a replaced probe server and a forged evaluation log), a file named like an option with escape codes in it,
and 20,000 cells sharing an id. Each honest submission must get exactly the grade (every task's status and points)
it gets when graded alone, which the benchmark checks by grading one of each kind alone first.

It writes benchmarks/results/grading.md with the wall time, the per-submission times, the machine's cores and its
load average before and after (a busy machine makes every figure slower).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.append(str(Path(__file__).parent))  # when imported rather than run as a script
from timing_page import write_page  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "grading.md"


def _half_solved(lesson: str) -> nbformat.NotebookNode:
    exercise = nbformat.read(ROOT / "exercises" / f"{lesson}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells}
    for cell in exercise.cells:
        gid = cell.metadata["nbgrader"]["grade_id"]
        if gid in ("q1_answer", "q2_answer", "q3_answer"):
            cell.source = answers[gid]
    return exercise


HOSTILE = {  # name -> (cells added after the setup cell, extra edit); see the docstring
    "stops_reading": [
        "raise ValueError('\\ud800')",
        "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)",
        "x = 1  # " + "#" * 200_000,
    ],
    "busy": [
        "import os, time\nfor _ in range(64):\n    if os.fork() == 0:\n        os.setsid()\n"
        "        while True:\n            pass\ntime.sleep(10**6)"
    ],
    "forged": [
        "import course.remote as r\n_serve = r.serve\n"
        "r.serve = lambda request, ns, memo=None: {'value': [0, 0, 0, 0], 'after': []}\n"
    ],
}


def _hostile(lesson: str, name: str) -> nbformat.NotebookNode:
    exercise = nbformat.read(ROOT / "exercises" / f"{lesson}.ipynb", as_version=4)
    if name == "duplicate_ids":  # written as JSON by _write: nbformat would correct the ids (and warn 20,000 times)
        exercise.cells += [
            {"cell_type": "code", "id": "same", "metadata": {}, "source": "pass", "outputs": []}
        ] * 20_000
        return exercise
    at = 1 + next(i for i, c in enumerate(exercise.cells) if c.metadata["nbgrader"]["grade_id"] == "setup")
    for source in reversed(HOSTILE[name]):
        exercise.cells.insert(at, nbformat.v4.new_code_cell(source))
    return exercise


def _write(nb, path: Path) -> None:
    path.write_text(json.dumps(nb))  # as is: no validation, no correction


def _grade(lesson, paths, out, jobs):
    command = [sys.executable, "-m", "nanonas", "grade", lesson, "--out", str(out), "--jobs", str(jobs), "--"]
    done = subprocess.run([*command, *map(str, paths)], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        raise SystemExit(1)
    return json.loads(Path(out).with_suffix(".json").read_text()), done


def _graded(submission: dict) -> list:
    return [(t["task"], t["status"], t["points"]) for t in submission["tasks"]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default="03_evolution")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--hostile", action="store_true", help="replace 5 submissions by attacks (issue 24)")
    parser.add_argument("--out", default=str(RESULTS), help="the results page (markdown)")
    args = parser.parse_args(argv)
    from course import assignment_name

    lesson = assignment_name(args.assignment)
    kinds = [
        ("solution", nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4)),
        ("exercise", nbformat.read(ROOT / "exercises" / f"{lesson}.ipynb", as_version=4)),
        ("half", _half_solved(lesson)),
    ]
    hostile = ["stops_reading", "busy", "forged", "\x1b]0;owned\x07--out=victim", "duplicate_ids"]
    with tempfile.TemporaryDirectory(prefix="nanonas-bench-grading-") as tmp:
        folder = Path(tmp)
        paths, kinds_of = [], {}
        for i in range(args.students):
            kind, nb = kinds[i % len(kinds)]
            if args.hostile and i < len(hostile):
                name = hostile[i]
                kind, nb = "hostile", _hostile(lesson, name if name in HOSTILE or name == "duplicate_ids" else "busy")
                if name not in HOSTILE and name != "duplicate_ids":  # a hostile name, an honest (blank) content
                    kind, nb = "exercise", kinds[1][1]
                paths.append(folder / f"{name}.ipynb")
            else:
                paths.append(folder / f"student{i:02d}_{kind}.ipynb")
            kinds_of[paths[-1].name] = kind
            _write(nb, paths[-1])
        alone = {}
        if args.hostile:  # one of each honest kind, graded alone: what every honest submission must get
            for kind, nb in kinds:
                _write(nb, folder / f"alone_{kind}.ipynb")
                book, _ = _grade(lesson, [folder / f"alone_{kind}.ipynb"], folder / f"alone_{kind}.csv", 1)
                alone[kind] = _graded(book["submissions"][0])
        load_before = os.getloadavg()
        started = time.monotonic()
        book, _ = _grade(lesson, paths, folder / "g.csv", args.jobs)
        wall = time.monotonic() - started
        load_after = os.getloadavg()
        gradebook_rows = len((folder / "g.csv").read_text().splitlines()) - 1
    seconds = [s["seconds"] for s in book["submissions"]]
    points = {}
    for s, path in zip(book["submissions"], paths):
        points.setdefault(kinds_of[path.name], set()).add(s["points"])
    differ = [
        s["submission"]
        for s, path in zip(book["submissions"], paths)
        if kinds_of[path.name] in alone and _graded(s) != alone[kinds_of[path.name]]
    ]
    command = f"python benchmarks/grading.py --assignment {lesson} --students {args.students} --jobs {args.jobs}"
    body = [
        f"- {args.students} submissions of `{lesson}` (solution, untouched exercise and half-solved, a third each)",
        f"- sandbox: {book['sandbox']} ({book['isolation']})",
        f"- **wall time: {wall:.0f} s** for the whole batch with `--jobs {args.jobs}` "
        f"({wall / args.students:.1f} s per submission)",
        f"- per submission: median {statistics.median(seconds):.1f} s, slowest {max(seconds):.1f} s",
        f"- points by kind: {', '.join(f'{k} {sorted(v)}' for k, v in sorted(points.items()))}",
        *(
            [
                f"- hostile: 5 of the {args.students} (one per class of issue 24); honest submissions graded "
                f"differently from alone: {len(differ)} {differ or ''}; gradebook rows: {gradebook_rows} of "
                f"{args.students}; wall time against `--jobs` × budget ({args.jobs} × 300 s): "
                f"{'within' if wall <= args.jobs * 300 else 'OVER'}",
            ]
            if args.hostile
            else []
        ),
    ]
    command += " --hostile" if args.hostile else ""
    print(write_page(args.out, "Grading a class", command, body, load_before, load_after))
    return 1 if args.hostile and (differ or gradebook_rows != args.students) else 0


if __name__ == "__main__":
    sys.exit(main())
