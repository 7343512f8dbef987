"""Generate exercises/ from solutions/: the solutions are the single source.

Each `### BEGIN SOLUTION` … `### END SOLUTION` region of a code cell becomes nbgrader's stub, at the region's
indentation:

    # YOUR CODE HERE
    raise NotImplementedError()

and every output is cleared. Run `nanonas exercises sync` (or `python -m course.generate`) after
editing a solution notebook; `nanonas exercises check` fails when exercises/ is out of date. The same two commands
keep the task table of docs/exercises.md (every assignment's questions and points) in step with the course's modules.
"""

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
ANSWER = re.compile(r"^q\d+_answer$")  # the grade_id of an answer cell
GENERATED = "generated from solutions/ by `nanonas exercises sync`: edit the solution notebook, not this one"
DOC = Path("docs") / "exercises.md"  # holds the task table between these two lines
TABLE_BEGIN = "<!-- tasks: generated from the course's questions by `nanonas exercises sync`; do not edit -->"
TABLE_END = "<!-- /tasks -->"


def strip_solutions(source: str, where: str = "a cell") -> str:
    """Replace each solution region of a cell's source with the stub."""
    out, inside = [], False
    for number, line in enumerate(source.split("\n"), 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{where}, line {number}: {BEGIN} inside another solution region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + s for s in STUB]
        elif marker == END:
            if not inside:
                raise ValueError(f"{where}, line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def solution_source(source: str) -> str:
    """A cell's source with the solution markers taken out: the solution as the learner may write it."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in (BEGIN, END))


def exercise_notebook(solution: nbformat.NotebookNode, name: str = "a notebook") -> nbformat.NotebookNode:
    """The exercise version of a solution notebook: solution regions stubbed, outputs cleared."""
    nb = copy.deepcopy(solution)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.source = strip_solutions(cell.source, f"{name}, cell {i}")
        cell.outputs, cell.execution_count = [], None
    nb.metadata["nanonas"] = {"exercise": GENERATED}
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"  # as nbformat.write writes a file


def find_root(start=None) -> Path:
    """The course folder: the nearest folder holding solutions/ (from `start` or the current one), else the repo."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "solutions").is_dir():
            return folder
    return Path(__file__).resolve().parents[2]  # nanonas_lib/course/generate.py -> the repository


def expected(root=None) -> dict[Path, str]:
    """{exercise path: the text it should have}, one per solution notebook."""
    root = Path(root) if root else find_root()
    out = {}
    for path in sorted((root / "solutions").glob("*.ipynb")):
        solution = nbformat.read(path, as_version=4)
        out[root / "exercises" / path.name] = render(exercise_notebook(solution, f"solutions/{path.name}"))
    return out


def tasks_table() -> str:
    """The markdown table of every assignment's tasks and points, read from the course's questions."""
    from .assignments import ASSIGNMENTS, questions

    rows = ["| assignment | tasks (points) | total |", "|---|---|---|"]
    for assignment in ASSIGNMENTS:
        found = questions(assignment)
        tasks = "; ".join(f"`{q.name}`: {q.title} ({q.points})" for q in found)
        rows.append(f"| `{assignment}` | {tasks} | {sum(q.points for q in found)} |")
    return "\n".join(rows)


def _doc_with_table(text: str) -> str:
    """The doc's text with the task table between its markers replaced by the generated one."""
    before, found, rest = text.partition(TABLE_BEGIN)
    _, end, after = rest.partition(TABLE_END)
    if not (found and end):
        raise ValueError(f"{DOC} lost its task table's markers: {TABLE_BEGIN} ... {TABLE_END}")
    return f"{before}{TABLE_BEGIN}\n{tasks_table()}\n{TABLE_END}{after}"


def out_of_sync(root=None) -> list[str]:
    """What differs between exercises/ and what solutions/ generates (empty when in sync)."""
    root = Path(root) if root else find_root()
    want = expected(root)
    problems = [f"exercises/{p.name} is missing" for p in want if not p.exists()]
    problems += [
        f"exercises/{p.name} is out of date" for p, text in want.items() if p.exists() and p.read_text() != text
    ]
    problems += [
        f"exercises/{p.name} has no solution notebook"
        for p in sorted((root / "exercises").glob("*.ipynb"))
        if p not in want
    ]
    doc = root / DOC
    if doc.exists() and doc.read_text() != _doc_with_table(doc.read_text()):
        problems.append(f"{DOC}'s task table is out of date")
    return problems


def sync(root=None) -> list[Path]:
    """Write exercises/ from solutions/; return the files that changed."""
    changed = []
    for path, text in expected(root).items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(path)
    doc = (Path(root) if root else find_root()) / DOC
    if doc.exists() and doc.read_text() != _doc_with_table(doc.read_text()):
        doc.write_text(_doc_with_table(doc.read_text()))
        changed.append(doc)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="nanonas exercises", description="Generate exercises/ from solutions/.")
    parser.add_argument("action", choices=["sync", "check"], help="sync: write exercises/; check: fail if out of date")
    parser.add_argument("--root", help="the course folder holding solutions/ and exercises/ (default: found)")
    return run(parser.parse_args(argv))


def run(args) -> int:
    root = Path(args.root) if args.root else find_root()
    if args.action == "check":
        problems = out_of_sync(root)
        for p in problems:
            print(p)
        if problems:
            print("run `nanonas exercises sync` to regenerate exercises/ from solutions/", file=sys.stderr)
        return 1 if problems else 0
    changed = sync(root)
    for path in changed:
        print(f"wrote {path.relative_to(root)}")
    print(f"exercises/ is in sync with solutions/ ({len(changed)} file{'s' * (len(changed) != 1)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
