"""How long grading a class takes: 30 submissions of one assignment with `nanonas grade --jobs 2`.

    .venv/bin/python benchmarks/grading.py            # 30 submissions of 03_evolution, --jobs 2
    .venv/bin/python benchmarks/grading.py --assignment 05 --students 10 --jobs 1

The class: a third hand in the solution, a third the untouched exercise, a third half of it (q1-q3 solved). It
writes benchmarks/results/grading.md with the wall time, the per-submission times, the machine's cores and its
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default="03_evolution")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=str(RESULTS), help="the results page (markdown)")
    args = parser.parse_args(argv)
    from course import assignment_name

    lesson = assignment_name(args.assignment)
    kinds = [
        ("solution", nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4)),
        ("exercise", nbformat.read(ROOT / "exercises" / f"{lesson}.ipynb", as_version=4)),
        ("half", _half_solved(lesson)),
    ]
    with tempfile.TemporaryDirectory(prefix="nanonas-bench-grading-") as tmp:
        folder = Path(tmp)
        paths = []
        for i in range(args.students):
            kind, nb = kinds[i % len(kinds)]
            paths.append(folder / f"student{i:02d}_{kind}.ipynb")
            nbformat.write(nb, paths[-1])
        load_before = os.getloadavg()
        started = time.monotonic()
        command = [sys.executable, "-m", "nanonas", "grade", lesson, *map(str, paths), "--out", str(folder / "g.csv")]
        command += ["--jobs", str(args.jobs)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        wall = time.monotonic() - started
        load_after = os.getloadavg()
        if done.returncode != 0:
            print(done.stdout, done.stderr, file=sys.stderr)
            return 1
        book = json.loads((folder / "g.json").read_text())
    seconds = [s["seconds"] for s in book["submissions"]]
    points = {}
    for s in book["submissions"]:
        points.setdefault(Path(s["submission"]).stem.split("_", 1)[1], set()).add(s["points"])
    lines = [
        "# Grading a class",
        "",
        f"`{' '.join(['python benchmarks/grading.py', '--assignment', lesson, '--students', str(args.students)])}"
        f" --jobs {args.jobs}`, measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"- {args.students} submissions of `{lesson}` (solution, untouched exercise and half-solved, a third each)",
        f"- sandbox: {book['sandbox']} ({book['isolation']})",
        f"- **wall time: {wall:.0f} s** for the whole batch with `--jobs {args.jobs}` "
        f"({wall / args.students:.1f} s per submission)",
        f"- per submission: median {statistics.median(seconds):.1f} s, slowest {max(seconds):.1f} s",
        f"- points by kind: {', '.join(f'{k} {sorted(v)}' for k, v in sorted(points.items()))}",
        f"- machine: {os.cpu_count()} cores; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
        + (" (busy: other jobs shared the cores)" if load_before[0] > 1.0 else ""),
        "",
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
