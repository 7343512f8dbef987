"""The teacher's files, read from a JSON gradebook (grades.json, written by `nanonas grade`).

From one gradebook: who each submission belongs to (the file's name, or nbgrader's `submitted/<student>/<assignment>/`
folder), a per-student CSV with every task's points and status, a CSV that Canvas's gradebook import reads, one that
Moodle's "Import grades from CSV" reads, and one feedback file per student (Markdown and HTML). It reads only the JSON
file, so it works on a gradebook written before it existed.

Everything in a gradebook that a submission could have shaped (its file name, the values and messages in feedback)
is hostile: every CSV cell passes through `neutralise` (grading.cell: a spreadsheet would run `=1+1` as a formula),
every HTML text through `html.escape`, every Markdown text through `markdown_text`, and control and text-direction
characters are shown as escapes, never written (grading.clean).
"""

import csv
import html
import json
import re
from pathlib import Path

from .grading import STATUSES, cell, clean

BACKTICKED = re.compile(r"`[^`\n]*`")  # names and values in the grader's feedback: `mutate`, `[4, 4, 4, 4]`


# ---------------------------------------------------------------------------------------------------------------
# Text a submission shaped, made safe for each kind of file


def neutralise(value):
    """A CSV cell a spreadsheet shows as text (grading.cell: `=1+1` becomes `'=1+1`); numbers stay numbers."""
    return value if isinstance(value, (bool, int, float)) or value is None else cell(value)


def write_csv(path, header: list, rows: list[list]) -> Path:
    """A CSV file (UTF-8, every cell neutralised), written whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        for row in [header, *rows]:
            writer.writerow([neutralise(v) for v in row])
    partial.replace(path)
    return path


def markdown_text(text) -> str:
    """Feedback as Markdown that renders as the same words: backticked spans stay code, nothing else is markup."""
    out, at = [], 0
    text = clean(text)  # no newline left: no line of it starts a list or a heading
    for span in BACKTICKED.finditer(text):
        out.append(_markdown_plain(text[at : span.start()]))
        out.append(span.group())  # a code span shows its content literally (no HTML, no markup) in CommonMark
        at = span.end()
    out.append(_markdown_plain(text[at:]))
    return "".join(out)


def _markdown_plain(text: str) -> str:
    text = html.escape(text, quote=False)  # <script> is text, not HTML; & starts no entity
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", text)


def html_text(text) -> str:
    """Feedback as HTML: escaped, with backticked spans as <code>."""
    out, at = [], 0
    text = clean(text)
    for span in BACKTICKED.finditer(text):
        out.append(html.escape(text[at : span.start()]))
        out.append(f"<code>{html.escape(span.group()[1:-1])}</code>")
        at = span.end()
    out.append(html.escape(text[at:]))
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------------
# A gradebook and its students


def load(path) -> dict:
    """A gradebook written by `nanonas grade` (its .json file); ValueError saying what is wrong otherwise."""
    path = Path(path)
    if path.suffix == ".csv" and path.with_suffix(".json").exists():
        path = path.with_suffix(".json")  # the CSV's companion holds everything
    try:
        book = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no gradebook at {path} (pass the .json file that `nanonas grade` wrote)") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{path} is not a readable JSON gradebook ({type(e).__name__})") from None
    ok = isinstance(book, dict) and isinstance(book.get("submissions"), list) and isinstance(book.get("tasks"), list)
    ok = ok and all(isinstance(s, dict) and isinstance(s.get("tasks"), list) for s in book["submissions"])
    ok = ok and all(isinstance(t, dict) and isinstance(t.get("task"), str) for t in book["tasks"])
    ok = ok and all(isinstance(t, dict) for s in book["submissions"] for t in s["tasks"])
    if not ok or not isinstance(book.get("assignment"), str):
        raise ValueError(f"{path} is not a gradebook of `nanonas grade` (it needs assignment, tasks and submissions)")
    book["path"] = str(path)
    return book


def student_name(submission: str, assignment: str) -> str:
    """Whose a submission is: nbgrader's `…/<student>/<assignment>/<file>.ipynb`, else the file's name (no .ipynb)."""
    path = Path(str(submission))
    if path.parent.name == assignment and path.parent.parent.name not in ("", ".", ".."):
        return path.parent.parent.name
    name = path.name[: -len(".ipynb")] if path.name.lower().endswith(".ipynb") else path.name
    return name or "(no name)"


def students(book: dict) -> list[str]:
    """Each submission's student, in the gradebook's order; a name met twice becomes `alice (2)`."""
    names, seen = [], {}
    for s in book["submissions"]:
        name = student_name(s.get("submission", ""), book["assignment"])
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def task_ids(book: dict) -> list[str]:
    return [t["task"] for t in book["tasks"]]


def _by_task(submission: dict) -> dict:
    return {t.get("task"): t for t in submission["tasks"]}


def status_of(task: dict | None) -> str:
    """A task's status as the grader names it (an unknown or absent one reads as `error`)."""
    status = (task or {}).get("status")
    return status if status in STATUSES else "error"


# ---------------------------------------------------------------------------------------------------------------
# The CSVs


def students_rows(book: dict) -> tuple[list, list[list]]:
    """One row per submission: student, file, every task's points, total, maximum, every task's status, seconds."""
    tasks = task_ids(book)
    header = ["student", "submission", *tasks, "total", "max_points", *[f"{t} status" for t in tasks], "seconds"]
    rows = []
    for name, s in zip(students(book), book["submissions"]):
        by = _by_task(s)
        points = [by.get(t, {}).get("points", 0) for t in tasks]
        statuses = [status_of(by.get(t)) for t in tasks]
        rows.append([name, s.get("submission", ""), *points, s.get("points", 0), s.get("max_points", 0), *statuses])
        rows[-1].append(s.get("seconds", ""))
    return header, rows


CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]  # before the assignments' columns


def canvas_rows(book: dict, roster: dict | None = None) -> tuple[list, list[list]]:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then one column per assignment.

    A "Points Possible" row follows the header (as in Canvas's own export). Without a roster the student's name (from
    the file or folder) goes in Student and SIS Login ID; with one (`read_canvas_roster`), the matching row's values.
    """
    header = [*CANVAS_COLUMNS, book["assignment"]]
    rows = [["Points Possible", "", "", "", "", book.get("max_points", "")]]
    for name, s in zip(students(book), book["submissions"]):
        known = (roster or {}).get(name)
        people = known or {"Student": name, "SIS Login ID": name}
        rows.append([*[people.get(c, "") for c in CANVAS_COLUMNS], s.get("points", 0)])
    return header, rows


def read_canvas_roster(path) -> dict:
    """{name: Canvas's identifying columns} from a gradebook exported from Canvas, keyed by SIS Login ID, ID and name.

    Our student names (file or folder names) are usually the login: a row is found by its SIS Login ID, its SIS User
    ID, its Canvas ID or its Student name, in that order.
    """
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"cannot read the Canvas roster {path} ({type(e).__name__})") from None
    if not rows or any(c not in rows[0] for c in ("Student", "ID")):
        raise ValueError(f"{path} is not a Canvas gradebook export (it needs the columns {', '.join(CANVAS_COLUMNS)})")
    roster = {}
    for key in ("Student", "ID", "SIS User ID", "SIS Login ID"):  # the last one wins: logins first
        for row in rows:
            if (row.get(key) or "").strip() and "Points Possible" not in (row.get("Student") or ""):
                roster[row[key].strip()] = {c: row.get(c, "") for c in CANVAS_COLUMNS}
    return roster


MOODLE_COLUMNS = ["Username", "Grade", "Feedback"]  # matched to a user field, a grade item, its feedback on import


def moodle_rows(book: dict) -> tuple[list, list[list]]:
    """Moodle's "Import grades from CSV": a user identifier, the grade, and a one-line feedback per student."""
    rows = []
    for name, s in zip(students(book), book["submissions"]):
        lost = [f"{t.get('task')} {status_of(t)}" for t in s["tasks"] if t.get("points", 0) < t.get("max_points", 0)]
        said = f"{s.get('points', 0):g}/{s.get('max_points', 0):g}" + (f" (lost: {', '.join(lost)})" if lost else "")
        rows.append([name, s.get("points", 0), said])
    return [MOODLE_COLUMNS[0], f"{book['assignment']}", MOODLE_COLUMNS[2]], rows


def write_exports(book: dict, stem, roster: dict | None = None) -> list[Path]:
    """STEM.students.csv, STEM.canvas.csv and STEM.moodle.csv next to the gradebook (STEM: grades/03 for 03.json)."""
    stem = Path(stem)
    made = []
    for kind, rows in (("students", students_rows(book)), ("canvas", canvas_rows(book, roster))):
        made.append(write_csv(stem.with_name(f"{stem.name}.{kind}.csv"), *rows))
    made.append(write_csv(stem.with_name(f"{stem.name}.moodle.csv"), *moodle_rows(book)))
    return made


# ---------------------------------------------------------------------------------------------------------------
# Feedback files: one per student, only their own data


def file_name(name: str) -> str:
    """A student's name as a file name: letters, digits, . - _ only, not hidden, not option-like."""
    safe = re.sub(r"[^\w.-]+", "_", clean(name), flags=re.UNICODE).lstrip(".-_")[:80]
    return safe or "student"


def _sections(books: list[dict]) -> dict[str, list[tuple[dict, dict]]]:
    """{student: [(book, submission), ...]} over every gradebook, in order."""
    mine = {}
    for book in books:
        for name, s in zip(students(book), book["submissions"]):
            mine.setdefault(name, []).append((book, s))
    return mine


def feedback_markdown(name: str, graded: list[tuple[dict, dict]]) -> str:
    lines = [f"# Feedback for {markdown_text(name)}", ""]
    for book, s in graded:
        titles = {t["task"]: t.get("title", "") for t in book["tasks"]}
        lines += [f"## {markdown_text(book['assignment'])}: {s.get('points', 0):g} / {s.get('max_points', 0):g}", ""]
        lines += ["| task | points | status | feedback |", "|---|---|---|---|"]
        for t in s["tasks"]:
            task = markdown_text(f"{t.get('task')} {titles.get(t.get('task'), '')}".strip())
            said = markdown_text(t.get("feedback", ""))
            lines.append(f"| {task} | {t.get('points', 0):g} / {t.get('max_points', 0):g} | {status_of(t)} | {said} |")
        notes = s.get("notes") or []
        lines += ["", *(["**Notes:**", ""] if notes else []), *[f"- {markdown_text(n)}" for n in notes], ""]
    return "\n".join(lines)


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.4em;text-align:left;"
    "vertical-align:top}code{background:#f3f3f3;padding:0 .2em;word-break:break-all}"
    ".correct{color:#1b7837}.incorrect,.error,.timed-out{color:#b2182b}.not-attempted,.missing{color:#555}"
)
CSP = "default-src 'none'; style-src 'unsafe-inline'"  # the feedback page runs no script and loads nothing


def feedback_html(name: str, graded: list[tuple[dict, dict]]) -> str:
    parts = [
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Feedback for {html.escape(clean(name))}</title><style>{STYLE}</style></head><body>",
        f"<h1>Feedback for {html.escape(clean(name))}</h1>",
    ]
    for book, s in graded:
        titles = {t["task"]: t.get("title", "") for t in book["tasks"]}
        parts.append(
            f"<h2>{html.escape(clean(book['assignment']))}: {s.get('points', 0):g} / {s.get('max_points', 0):g}</h2>"
        )
        parts.append("<table><tr><th>task</th><th>points</th><th>status</th><th>feedback</th></tr>")
        for t in s["tasks"]:
            status = status_of(t)
            task = html.escape(clean(f"{t.get('task')} {titles.get(t.get('task'), '')}".strip()))
            parts.append(
                f"<tr><td>{task}</td><td>{t.get('points', 0):g} / {t.get('max_points', 0):g}</td>"
                f'<td class="{status.replace(" ", "-")}">{status}</td><td>{html_text(t.get("feedback", ""))}</td></tr>'
            )
        parts.append("</table>")
        notes = s.get("notes") or []
        if notes:
            parts.append("<p><b>Notes:</b></p><ul>" + "".join(f"<li>{html_text(n)}</li>" for n in notes) + "</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_feedback(books: list[dict], folder) -> list[Path]:
    """FOLDER/<student>.md and .html for every student of the gradebooks: their tasks, points, feedback and notes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    made, used = [], set()
    for name, graded in _sections(books).items():
        stem = base = file_name(name)
        n = 1
        while stem.lower() in used:  # two names that read the same as files: alice_ and alice?
            n += 1
            stem = f"{base}-{n}"
        used.add(stem.lower())
        for suffix, text in ((".md", feedback_markdown(name, graded)), (".html", feedback_html(name, graded))):
            path = folder / f"{stem}{suffix}"
            partial = path.with_name(path.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
            made.append(path)
    return made


# ---------------------------------------------------------------------------------------------------------------
# nbgrader: our points into its gradebook


def to_nbgrader(book: dict, db_url: str) -> int:
    """Write the gradebook's points into nbgrader's gradebook (e.g. sqlite:///course/gradebook.db); returns the count.

    Each task's points become the manual score of its check cell (`q3_check`) and its feedback the comment on its
    answer cell (`q3_answer`), so `nbgrader export` and nbgrader's formgrader show the grader's sandboxed result.
    The assignment must be in nbgrader's database (`nbgrader generate_assignment` puts it there); a student or a
    submission it does not know yet is added.
    """
    if "://" not in str(db_url):
        raise ValueError(f"--nbgrader takes a database URL like sqlite:////path/to/course/gradebook.db, not {db_url!r}")
    try:
        from nbgrader.api import Gradebook, MissingEntry
    except ImportError:
        raise ValueError("writing into nbgrader's gradebook needs nbgrader: pip install nbgrader") from None

    assignment, written = book["assignment"], 0
    with Gradebook(db_url) as gb:
        try:
            notebooks = [nb.name for nb in gb.find_assignment(assignment).notebooks]
        except MissingEntry:
            said = f"nbgrader's gradebook has no assignment {assignment!r}"
            raise ValueError(said + " (nbgrader generate_assignment adds it)") from None
        if assignment not in notebooks:
            raise ValueError(f"nbgrader's assignment {assignment!r} has no notebook {assignment}.ipynb")
        for name, s in zip(students(book), book["submissions"]):
            gb.update_or_create_student(name)
            try:
                gb.find_submission(assignment, name)
            except MissingEntry:
                gb.add_submission(assignment, name)
            for t in s["tasks"]:
                grade = gb.find_grade(f"{t['task']}_check", assignment, assignment, name)
                grade.manual_score = float(t.get("points", 0))
                comment = gb.find_comment(f"{t['task']}_answer", assignment, assignment, name)
                comment.manual_comment = f"{status_of(t)}: {clean(t.get('feedback', ''))}"
                written += 1
            gb.db.commit()
    return written
