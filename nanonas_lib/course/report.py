"""The teacher's item analysis: one HTML page from one or more JSON gradebooks (`nanonas report grades/03.json`).

Per assignment: the score distribution, per task the share of the class in each status (correct, incorrect, not
attempted, missing, error, timed out), the commonest feedback messages (grouped: numbers and values set aside), the
slowest submissions, and how well each task discriminates: the upper-lower index D (share correct among the top 27%
of the class by total score minus among the bottom 27%; Kelley 1939) and the point-biserial correlation with the
rest score (the total without that task, so a task is not correlated with itself). Several gradebooks add a
per-student overview. The figures are plotly, with plotly.js embedded once: the page reads offline and loads nothing.
"""

import html
import re
import statistics
from collections import Counter
from pathlib import Path

from .gradebook import BACKTICKED, status_of, students
from .grading import clean

ORDER = ("correct", "incorrect", "not attempted", "missing", "error", "timed out")
COLOURS = {  # one colour per status; the grader's notebook feedback uses the same green and red
    "correct": "#1b7837",
    "incorrect": "#b2182b",
    "not attempted": "#bababa",
    "missing": "#878787",
    "error": "#e08214",
    "timed out": "#542788",
}
UPPER_LOWER = 0.27  # Kelley's share: the top and bottom 27% of the class
SLOWEST = 5  # submissions listed as the slowest
MESSAGES = 4  # commonest feedback messages shown per task
CSP = (  # inline scripts (plotly.js and the figures) only: the page fetches nothing
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)


def _text(value) -> str:
    return html.escape(clean(value))


# ---------------------------------------------------------------------------------------------------------------
# The numbers


def upper_lower(correct: list[bool], totals: list[float]) -> float | None:
    """Share correct in the top 27% by total minus in the bottom 27% (ties kept in gradebook order); None below 4."""
    n = len(totals)
    if n < 4:
        return None
    k = max(1, round(UPPER_LOWER * n))
    ranked = sorted(range(n), key=lambda i: totals[i])
    lower, upper = ranked[:k], ranked[-k:]
    return sum(correct[i] for i in upper) / k - sum(correct[i] for i in lower) / k


def point_biserial(correct: list[bool], rest: list[float]) -> float | None:
    """Pearson's correlation between passing a task (0/1) and the rest score; None when either does not vary."""
    if len(set(correct)) < 2 or len(set(rest)) < 2:
        return None
    return statistics.correlation([float(c) for c in correct], [float(r) for r in rest])


def message_shape(feedback: str) -> str:
    """A feedback message with its values set aside, so the same mistake groups: `[4, 4]` and 1 become `…` and #."""
    shape = BACKTICKED.sub(lambda m: m.group() if re.fullmatch(r"`[A-Za-z_][\w.]*`", m.group()) else "`…`", feedback)
    return re.sub(r"(?<![\w`])-?\d+(\.\d+)?(e-?\d+)?", "#", shape)


def item_analysis(book: dict) -> list[dict]:
    """Per task: counts by status, share correct, D, point-biserial, and the commonest feedback shapes."""
    subs = book["submissions"]
    totals = [float(s.get("points", 0)) for s in subs]
    rows = []
    for task in book["tasks"]:
        mine = [next((t for t in s["tasks"] if t.get("task") == task["task"]), None) for s in subs]
        statuses = [status_of(t) for t in mine]
        correct = [st == "correct" for st in statuses]
        rest = [total - float((t or {}).get("points", 0)) for total, t in zip(totals, mine)]
        shapes = Counter()
        example = {}
        for t, st in zip(mine, statuses):
            if st != "correct" and t and t.get("feedback"):
                shape = message_shape(str(t["feedback"]))
                shapes[shape] += 1
                example.setdefault(shape, str(t["feedback"]))
        rows.append(
            {
                **task,
                "counts": Counter(statuses),
                "share_correct": sum(correct) / len(subs) if subs else 0.0,
                "D": upper_lower(correct, totals),
                "r_pb": point_biserial(correct, rest),
                "messages": [(n, shape, example[shape]) for shape, n in shapes.most_common(MESSAGES)],
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------------------------
# The figures


def _figure(fig, div_id: str) -> str:
    """A plotly figure as a div and the script that draws it (its JSON made safe inside <script>)."""
    data = fig.to_json().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (
        f'<div id="{div_id}" class="figure"></div><script>(function(){{var f={data};'
        f'Plotly.newPlot("{div_id}",f.data,f.layout,{{displaylogo:false,responsive:true}});}})();</script>'
    )


def _layout(fig, title: str, height: int = 340):
    fig.update_layout(
        title=title, height=height, template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), font=dict(size=13)
    )
    return fig


def score_figure(book: dict, div_id: str) -> str:
    import plotly.graph_objects as go

    totals = Counter(float(s.get("points", 0)) for s in book["submissions"])
    xs = sorted(set(totals) | {0.0, float(book.get("max_points", 0))})
    fig = go.Figure(go.Bar(x=xs, y=[totals.get(x, 0) for x in xs], marker_color="#2166ac"))
    fig.update_xaxes(title="points", dtick=1)
    fig.update_yaxes(title="submissions", dtick=1 if max(totals.values(), default=1) < 12 else None)
    return _figure(_layout(fig, "Score distribution"), div_id)


def status_figure(rows: list[dict], n: int, div_id: str) -> str:
    import plotly.graph_objects as go

    labels = [_text(f"{r['task']} {r.get('name', '')}") for r in rows]
    fig = go.Figure()
    for status in ORDER:
        shares = [r["counts"].get(status, 0) / max(n, 1) for r in rows]
        if any(shares):
            fig.add_bar(y=labels, x=shares, name=status, orientation="h", marker_color=COLOURS[status])
    fig.update_layout(barmode="stack", legend=dict(orientation="h", y=-0.2, traceorder="normal"))
    fig.update_xaxes(title="share of the class", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return _figure(_layout(fig, "Each task: how the class did", height=120 + 45 * len(rows)), div_id)


def discrimination_figure(rows: list[dict], div_id: str) -> str:
    import plotly.graph_objects as go

    points = {}  # tasks at the same place share one marker and one label: "q4, q5"
    for r in rows:
        if r["D"] is not None:
            points.setdefault((round(r["share_correct"], 4), round(r["D"], 4)), []).append(_text(r["task"]))
    fig = go.Figure(
        go.Scatter(
            x=[x for x, _ in points],
            y=[y for _, y in points],
            text=[", ".join(tasks) for tasks in points.values()],
            mode="markers+text",
            textposition="top center",
            marker=dict(size=11, color="#2166ac"),
        )
    )
    fig.add_hline(y=0.3, line_dash="dot", line_color="#1b7837", annotation_text="discriminates well (D ≥ 0.3)")
    fig.add_hline(y=0.0, line_color="#999")
    fig.update_xaxes(title="share of the class correct (easy →)", tickformat=".0%", range=[-0.05, 1.05])
    fig.update_yaxes(title="upper-lower index D", range=[-1.1, 1.25])  # room for the labels above D = 1
    return _figure(_layout(fig, "Which tasks separate strong from weak submissions"), div_id)


def overview_figure(names: list[str], books: list[dict], table: dict, div_id: str) -> str:
    import plotly.graph_objects as go

    z = [[table[name].get(b["assignment"], (None, None))[0] for b in books] for name in names]
    z = [[None if p is None else p / max(b.get("max_points", 1), 1) for p, b in zip(row, books)] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[_text(b["assignment"]) for b in books],
            y=[_text(n) for n in names],
            colorscale="RdYlGn",
            zmin=0,
            zmax=1,
            colorbar=dict(title="share of points", tickformat=".0%"),
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _figure(_layout(fig, "Every student, every assignment", height=160 + 18 * len(names)), div_id)


# ---------------------------------------------------------------------------------------------------------------
# The page


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1200px;margin:1.5em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;"
    "text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "code{background:#f3f3f3;padding:0 .2em;word-break:break-all}.figure{width:100%}.muted{color:#666}"
    ".warn{background:#fff4e5;border-left:4px solid #e08214;padding:.5em 1em}"
)


def _number(x, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _assignment_section(book: dict, k: int) -> str:
    from .gradebook import html_text

    subs, rows, names = book["submissions"], item_analysis(book), students(book)
    totals = [float(s.get("points", 0)) for s in subs]
    top = float(book.get("max_points", 0))
    out = [f'<h2 id="a{k}">{_text(book["assignment"])}</h2>']
    out.append(
        f'<p class="muted">{len(subs)} submissions, graded {_text(book.get("graded_at", "?"))}, sandbox '
        f"{_text(book.get('sandbox', '?'))}; from {_text(book.get('path', ''))}</p>"
    )
    if book.get("isolation") not in (None, "full"):
        out.append(f'<p class="warn">{_text(book["isolation"])}</p>')
    if totals:
        full, zero = sum(t == top for t in totals), sum(t == 0 for t in totals)
        out.append(
            f"<p>Mean <b>{statistics.mean(totals):.1f}</b> / {top:g}, median {statistics.median(totals):g}, "
            f"range {min(totals):g}–{max(totals):g}; {full} with full marks, {zero} with none.</p>"
        )
    out.append(score_figure(book, f"score{k}"))
    out.append(status_figure(rows, len(subs), f"status{k}"))

    head = "".join(f"<th>{s}</th>" for s in ORDER)
    out.append(f"<table><tr><th>task</th><th>points</th>{head}<th>D</th><th>r<sub>pb</sub> (rest)</th></tr>")
    for r in rows:
        shares = "".join(f'<td class="n">{r["counts"].get(s, 0) / max(len(subs), 1):.0%}</td>' for s in ORDER)
        out.append(
            f"<tr><td>{_text(r['task'])} <code>{_text(r.get('name', ''))}</code> {_text(r.get('title', ''))}</td>"
            f'<td class="n">{r.get("max_points", 0):g}</td>{shares}'
            f'<td class="n">{_number(r["D"])}</td><td class="n">{_number(r["r_pb"])}</td></tr>'
        )
    out.append("</table>")
    out.append(
        '<p class="muted">D: share correct among the top 27% of submissions by total minus among the bottom 27%. '
        "≥ 0.3 discriminates well, below 0.2 poorly; a negative D (weak submissions pass it more often than strong "
        "ones) asks for a look at the task or its check. r<sub>pb</sub>: correlation between passing the task and "
        "the total without it. Both are noisy below about 20 submissions.</p>"
    )
    out.append(discrimination_figure(rows, f"discrimination{k}"))

    out.append("<h3>Commonest feedback, per task</h3>")
    for r in rows:
        if not r["messages"]:
            continue
        out.append(f"<p><b>{_text(r['task'])}</b> <code>{_text(r.get('name', ''))}</code></p><table>")
        out.append("<tr><th>submissions</th><th>message (one example)</th></tr>")
        for n, _, example in r["messages"]:
            out.append(f'<tr><td class="n">{n}</td><td>{html_text(example)}</td></tr>')
        out.append("</table>")

    out.append("<h3>Slowest submissions</h3><table><tr><th>student</th><th>seconds</th><th>points</th>")
    out.append("<th>timed out or broke</th></tr>")
    slowest = sorted(zip(names, subs), key=lambda p: -float(p[1].get("seconds") or 0))[:SLOWEST]
    for name, s in slowest:
        broke = [f"{t.get('task')} {status_of(t)}" for t in s["tasks"] if status_of(t) in ("timed out", "error")]
        out.append(
            f'<tr><td>{_text(name)}</td><td class="n">{float(s.get("seconds") or 0):.1f}</td>'
            f'<td class="n">{s.get("points", 0):g}</td><td>{_text(", ".join(broke)) or "—"}</td></tr>'
        )
    out.append("</table>")
    return "\n".join(out)


def _overview(books: list[dict]) -> str:
    names, table = [], {}
    for book in books:
        for name, s in zip(students(book), book["submissions"]):
            if name not in table:
                names.append(name)
                table[name] = {}
            table[name][book["assignment"]] = (float(s.get("points", 0)), float(s.get("max_points", 0)))
    head = "".join(f"<th>{_text(b['assignment'])}</th>" for b in books)
    rows = []
    for name in names:
        cells = [table[name].get(b["assignment"]) for b in books]
        shown = "".join(f'<td class="n">{"—" if c is None else f"{c[0]:g} / {c[1]:g}"}</td>' for c in cells)
        total = sum(c[0] for c in cells if c)
        rows.append(f'<tr><td>{_text(name)}</td>{shown}<td class="n"><b>{total:g}</b></td></tr>')
    most = sum(float(b.get("max_points", 0)) for b in books)
    return "\n".join(
        [
            '<h2 id="overview">Every student</h2>',
            overview_figure(names, books, table, "overview"),
            f"<table><tr><th>student</th>{head}<th>total / {most:g}</th></tr>",
            *rows,
            "</table>",
        ]
    )


def report_html(books: list[dict]) -> str:
    """The whole page: an overview when there are several gradebooks, then each assignment's analysis."""
    from plotly.offline import get_plotlyjs

    title = "Item analysis: " + ", ".join(b["assignment"] for b in books)  # each section's heading: its assignment
    sections = [_overview(books)] if len(books) > 1 else []
    sections += [_assignment_section(b, k) for k, b in enumerate(books)]
    return "\n".join(
        [
            '<!doctype html><html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            f"<title>{_text(title)}</title><style>{STYLE}</style>",
            f"<script>{get_plotlyjs()}</script></head><body>",
            f"<h1>{_text(title)}</h1>",
            *sections,
            "</body></html>\n",
        ]
    )


def write_report(books: list[dict], path) -> Path:
    """The item analysis page at `path`, written whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(report_html(books), encoding="utf-8")
    partial.replace(path)
    return path


def run(gradebooks, report=None, feedback=None, roster=None, nbgrader=None) -> list[Path]:
    """The teacher's files from JSON gradebooks: each one's CSVs next to it, the report page, the feedback files.

    `report`: the page's path (True: next to the first gradebook, STEM.report.html). `feedback`: a folder.
    `roster`: a gradebook exported from Canvas, whose IDs go into the Canvas CSV. `nbgrader`: the database URL of
    nbgrader's gradebook, which receives every task's points (gradebook.to_nbgrader).
    """
    from .gradebook import load, read_canvas_roster, to_nbgrader, write_exports, write_feedback

    books = [load(p) for p in gradebooks]
    people = read_canvas_roster(roster) if roster else None
    made = []
    try:
        for book in books:
            made += write_exports(book, Path(book["path"]).with_suffix(""), people)
        if report:
            first = Path(books[0]["path"])
            default = first.with_suffix(".report.html") if len(books) == 1 else first.with_name("report.html")
            made.append(write_report(books, default if report is True else report))
        if feedback:
            made += write_feedback(books, feedback)
    except OSError as e:  # a folder that is a file, a read-only place: say which, no traceback
        raise ValueError(f"cannot write {e.filename or e}: {e.strerror or type(e).__name__}") from None
    for book in books if nbgrader else []:
        print(f"nbgrader: {to_nbgrader(book, nbgrader)} grades of {book['assignment']} written to {nbgrader}")
    return made
