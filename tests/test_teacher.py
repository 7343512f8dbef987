"""The teacher's side (course/gradebook.py, course/report.py): names, CSVs a spreadsheet and a platform import,
feedback files that hold one student's data and nothing a browser or a spreadsheet would run, the item analysis
against its definitions, and the whole round trip on a small made-up class with hostile members."""

import csv
import html.parser
import importlib.util
import json
import statistics
import subprocess

import mistune
import pytest

from course import gradebook, grading, report
from nanonas import cli
from tests.helpers import nbgrader_course, needs_nbgrader
from tests.test_notebooks import ROOT

HOSTILE_NAMES = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", '<img src=x onerror="alert(1)">', "x\u202egnp"]
HOSTILE_NAMES.append("bad\udcff")  # a file name that is not UTF-8, as os.fsdecode gives it


def _spec(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _book(rows, assignment="02_architecture_dna") -> dict:
    """A gradebook as `nanonas grade` writes it: rows are (submission, [status per task], [feedback per task])."""
    tasks = [
        {"task": "q1", "name": "encode", "title": "Encode", "max_points": 1},
        {"task": "q2", "name": "mutate", "title": "Mutate", "max_points": 2},
        {"task": "q3", "name": "crossover", "title": "Crossover", "max_points": 2},
    ]
    subs = []
    for i, (path, statuses, feedbacks) in enumerate(rows):
        done = []
        for t, status, said in zip(tasks, statuses, feedbacks):
            points = t["max_points"] if status == "correct" else 0
            done.append({**t, "status": status, "points": points, "feedback": said})
        points = sum(t["points"] for t in done)
        subs.append({"submission": path, "points": points, "max_points": 5, "tasks": done, "notes": [], "seconds": i})
    return {"assignment": assignment, "tasks": tasks, "max_points": 5, "submissions": subs, "graded_at": "now"}


def _class(n=12) -> dict:
    """n submissions whose statuses vary with the student's strength, each with a feedback naming its owner."""
    rows = []
    for i in range(n):
        statuses = ["correct" if (i + k) % (k + 2) else st for k, st in enumerate(["incorrect", "timed out", "error"])]
        rows.append((f"collected/student{i:02d}.ipynb", statuses, [f"secret-{i:02d}-q{k}" for k in range(1, 4)]))
    return _book(rows)


# -- names, and CSV cells a spreadsheet would run


@pytest.mark.parametrize(
    "path, name",
    [
        ("collected/alice.ipynb", "alice"),
        ("alice.IPYNB", "alice"),
        ("submitted/bob/02_architecture_dna/02_architecture_dna.ipynb", "bob"),
        ("/abs/autograded/carol/02_architecture_dna/anything.ipynb", "carol"),
        ("other/02_architecture_dna.ipynb", "02_architecture_dna"),  # no student folder above: the file's name
        ("collected/=1+1.ipynb", "=1+1"),
        ("collected/.ipynb", "(no name)"),
    ],
)
def test_the_student_is_the_file_or_nbgraders_folder(path, name):
    assert gradebook.student_name(path, "02_architecture_dna") == name


def test_a_name_met_twice_is_told_apart():
    book = _book([(p, ["correct"] * 3, [""] * 3) for p in ("a/alice.ipynb", "b/alice.ipynb", "bob.ipynb")])
    assert gradebook.students(book) == ["alice", "alice (2)", "bob"]


def test_no_csv_cell_starts_a_formula(tmp_path):
    book = _book([(f"c/{n}.ipynb", ["correct", "incorrect", "error"], ["=1"] * 3) for n in HOSTILE_NAMES])
    made = gradebook.write_exports(book, tmp_path / "02")
    assert [p.name for p in made] == ["02.students.csv", "02.canvas.csv", "02.moodle.csv"]
    for path in made:
        cells = [c for row in csv.reader(path.open(newline="", encoding="utf-8")) for c in row]
        for cell in cells:
            assert not cell.startswith(grading.FORMULA), (path.name, cell)
        for name in HOSTILE_NAMES:  # each name is still there, readable: an apostrophe before, controls shown
            assert any(c.lstrip("'") == grading.clean(name) for c in cells), (path.name, name)
    assert gradebook.neutralise(-1) == -1 and gradebook.neutralise("x\x1b[2J") == "x\\x1b[2J"


def test_the_csvs_have_the_documented_columns(tmp_path):
    stem = tmp_path / "02"
    gradebook.write_exports(_class(3), stem)
    read = lambda kind: list(csv.reader((tmp_path / f"02.{kind}.csv").open(newline="", encoding="utf-8")))
    students = read("students")
    assert students[0] == ["student", "submission", "q1", "q2", "q3", "total", "max_points"] + [
        f"q{k} status" for k in (1, 2, 3)
    ] + ["seconds"]
    assert students[1][:2] == ["student00", "collected/student00.ipynb"]
    canvas = read("canvas")
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "02_architecture_dna"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "5"]
    assert canvas[2][0] == canvas[2][3] == "student00"
    assert read("moodle")[0] == ["Username", "02_architecture_dna", "Feedback"]
    points = {row[0]: float(row[5]) for row in students[1:]}
    assert {row[0]: float(row[1]) for row in read("moodle")[1:]} == points  # the same totals in every file


def test_a_canvas_roster_fills_canvas_ids(tmp_path):
    roster = tmp_path / "export.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (77)\n"
        "    Points Possible,,,,,10\n"
        '"Zero, Student",1001,S-0,student00,A,5\n'
        '"One, Student",1002,S-1,student01,B,7\n',
        encoding="utf-8",
    )
    header, rows = gradebook.canvas_rows(_class(3), gradebook.read_canvas_roster(roster))
    assert rows[1][:5] == ["Zero, Student", "1001", "S-0", "student00", "A"]
    assert rows[2][:5] == ["One, Student", "1002", "S-1", "student01", "B"]
    assert rows[3][:5] == ["student02", "", "", "student02", ""]  # not on the roster: name and login only
    (tmp_path / "bad.csv").write_text("name,score\nx,1\n")
    with pytest.raises(ValueError, match="not a Canvas gradebook export"):
        gradebook.read_canvas_roster(tmp_path / "bad.csv")


# -- feedback files: one student's data, escaped


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        assert not any(a.startswith("on") for a, _ in attrs), attrs

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


EVIL = "<script>alert(1)</script> `<b>x</b>` *bold* [link](javascript:alert(1)) | \x1b[2J \u202e & &amp;"


def test_feedback_holds_only_its_students_data(tmp_path):
    book = _class(6)
    made = gradebook.write_feedback([book], tmp_path)
    assert sorted(p.name for p in made) == sorted(f"student{i:02d}.{s}" for i in range(6) for s in ("md", "html"))
    for i in range(6):
        for suffix in ("md", "html"):
            text = (tmp_path / f"student{i:02d}.{suffix}").read_text()
            assert all(f"secret-{i:02d}-q{k}" in text for k in (1, 2, 3)) and "Encode" in text
            assert all(f"{t['points']:g} / {t['max_points']:g}" in text for t in book["submissions"][i]["tasks"])
            assert not [j for j in range(6) if j != i and f"secret-{j:02d}" in text]
            assert not [j for j in range(6) if j != i and f"student{j:02d}" in text]


def test_several_gradebooks_give_one_feedback_file_per_student(tmp_path):
    other = {**_class(3), "assignment": "03_evolution"}
    gradebook.write_feedback([_class(2), other], tmp_path)
    names = [f"student{i:02d}.{suffix}" for i in range(3) for suffix in ("html", "md")]
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    both = (tmp_path / "student01.md").read_text()
    assert "## 02\\_architecture\\_dna: " in both and "## 03\\_evolution: " in both
    assert "02\\_architecture" not in (tmp_path / "student02.md").read_text()  # graded in 03 only


def test_feedback_is_escaped_in_markdown_and_html(tmp_path):
    book = _book([(f"c/{HOSTILE_NAMES[6]}.ipynb", ["incorrect"] * 3, [EVIL] * 3)])
    book["submissions"][0]["notes"] = [EVIL]
    gradebook.write_feedback([book], tmp_path)
    (page,) = tmp_path.glob("*.html")
    (markdown,) = tmp_path.glob("*.md")
    assert page.stem == "img_src_x_onerror_alert_1_" and "\x1b" not in page.read_text()
    allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "table", "tr", "th", "td", "code", "p"}
    parsed = _parse(page.read_text())
    assert parsed.tags <= allowed | {"b", "ul", "li"}, parsed.tags
    shown = "".join(parsed.text)
    assert grading.clean(EVIL).replace("`", "") in shown  # the same words, backticks as <code>
    rendered = _parse(mistune.html(markdown.read_text()))  # a Markdown renderer: no tag the feedback wrote
    assert rendered.tags <= {"h1", "h2", "p", "strong", "ul", "li", "code", "table", "thead", "tbody", "tr", "th", "td"}
    assert grading.clean(EVIL).replace("`", "") in "".join(rendered.text).replace("\n", " ")


# -- the item analysis, against its definitions


def test_discrimination_matches_its_definition():
    # 11 submissions: k = round(0.27 * 11) = 3; the top three by total pass, the bottom three fail but one
    totals = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    correct = [True, False, False, True, False, True, False, True, True, True, True]
    assert report.upper_lower(correct, totals) == pytest.approx(1 - 1 / 3)
    assert report.upper_lower(correct[:3], totals[:3]) is None  # too few to split
    rest = [t - c for t, c in zip(totals, correct)]
    assert report.point_biserial(correct, rest) == pytest.approx(
        statistics.correlation(list(map(float, correct)), rest)
    )
    assert report.point_biserial([True] * 3, [1, 2, 3]) is None  # everyone passed: nothing to correlate


def test_item_analysis_counts_every_status_and_groups_messages():
    book = _class(12)
    book["submissions"][0]["tasks"][0].update(status="incorrect", feedback="`mutate` returned `[4, 4]` for seed 1")
    book["submissions"][1]["tasks"][0].update(status="incorrect", feedback="`mutate` returned `[0, 2]` for seed 17")
    rows = report.item_analysis(book)
    for row in rows:
        assert sum(row["counts"].values()) == 12
    statuses = [s["tasks"][1]["status"] for s in book["submissions"]]
    assert rows[1]["counts"]["timed out"] == statuses.count("timed out") > 0
    assert (2, "`mutate` returned `…` for seed #") in [m[:2] for m in rows[0]["messages"]]


def test_the_report_page_reads_offline_and_escapes_names(tmp_path):
    book = _book([(f"c/{n}.ipynb", ["correct", "incorrect", "timed out"], [EVIL] * 3) for n in HOSTILE_NAMES])
    other = {**_class(4), "assignment": "03_evolution"}
    path = report.write_report([book, other], tmp_path / "report.html")
    page = path.read_text()
    assert page.count("<script") == 1 + 3 * 2 + 1  # plotly.js once; three figures a section; the overview
    assert "<script src" not in page and "<link" not in page and "Content-Security-Policy" in page
    assert "<img" not in page and "<script>alert" not in page and "\x1b" not in page
    assert "Every student" in page and page.count("Commonest feedback") == 2


# -- the command line, and the whole round trip


def test_nanonas_report_writes_the_files_and_refuses_bad_input(tmp_path, capsys):
    (tmp_path / "02.json").write_text(json.dumps(_class(5)))
    assert cli.main(["report", str(tmp_path / "02.json"), "--feedback", str(tmp_path / "fb")]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["02.canvas.csv", "02.json", "02.moodle.csv", "02.report.html", "02.students.csv", "fb"]
    assert len(list((tmp_path / "fb").iterdir())) == 10
    (tmp_path / "bad.json").write_text('{"assignment": "x"}')
    (tmp_path / "odd.json").write_text('{"assignment": "x", "tasks": [1], "submissions": []}')
    (tmp_path / "zip.json").write_bytes(b"PK\x03\x04\xff")
    for bad, said in [
        ("missing.json", "no gradebook at"),
        ("bad.json", "is not a gradebook of `nanonas grade`"),
        ("odd.json", "is not a gradebook of `nanonas grade`"),
        ("zip.json", "is not a readable JSON gradebook"),
    ]:
        with pytest.raises(SystemExit):
            cli.main(["report", str(tmp_path / bad)])
        assert said in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a feedback folder that is a file
        cli.main(["report", str(tmp_path / "02.json"), "--feedback", str(tmp_path / "02.json")])
    assert "cannot write" in capsys.readouterr().err
    for flags, said in [  # a notebook a shell expanded is never taken for the page, the folder or the roster
        (["grade", "02", "--report", "a.ipynb", "b.ipynb"], "--report: takes a .html or .htm file, not 'a.ipynb'"),
        (["grade", "02", "--feedback", "a.ipynb", "b.ipynb"], "--feedback: cannot be a notebook (.ipynb)"),
        (["report", "g.json", "--roster", "a.ipynb"], "--roster: takes a .csv file"),
        (["report", "g.json", "--out", "a.ipynb"], "--out: takes a .html or .htm file"),
    ]:
        with pytest.raises(SystemExit):
            cli.main(flags)
        assert said in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["report", str(tmp_path / "02.json"), "--nbgrader", "a.ipynb"])
    assert "takes a database URL" in capsys.readouterr().err


def test_an_old_gradebook_without_times_or_statuses_still_reports(tmp_path):
    book = _class(4)
    for s in book["submissions"]:
        del s["seconds"]
        s["tasks"][0].pop("status")
    (tmp_path / "old.json").write_text(json.dumps(book))
    made = report.run([tmp_path / "old.json"], report=True, feedback=tmp_path / "fb")
    assert "error" in (tmp_path / "old.students.csv").read_text() and len(made) == 4 + 8


@pytest.fixture(scope="module")
def roundtrip(tmp_path_factory):
    """Four submissions of 02 (three hostile, one blank in nbgrader's layout), graded in one command."""
    folder = tmp_path_factory.mktemp("class")
    bench = _spec("class_roundtrip")
    made = bench.make_class(folder, students=4, hostile=("formula", "script", "loop"))
    command = bench.grade_command(folder, made, jobs=2, timeout=15)  # 15 s: honest checks finish on a busy machine
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return folder, made


def test_the_round_trip_writes_every_file(roundtrip):
    folder, made = roundtrip
    grades = sorted(p.name for p in (folder / "grades").iterdir())
    assert grades == ["02.canvas.csv", "02.csv", "02.json", "02.moodle.csv", "02.report.html", "02.students.csv"]
    book = gradebook.load(folder / "grades" / "02.json")
    assert gradebook.students(book) == list(made)  # names from the files and from nbgrader's folder
    by = dict(zip(gradebook.students(book), book["submissions"]))
    loop = by["loopy"]["tasks"][2]
    assert loop["status"] == "timed out" and "time limit (15 s)" in loop["feedback"]
    assert by["=1+1"]["points"] == 10
    (blank,) = [name for name, (path, role) in made.items() if role == "blank"]
    assert by[blank]["points"] == 0 and "/submitted/" in by[blank]["submission"]  # nbgrader's layout
    assert "<script>" in by["eve"]["tasks"][0]["feedback"]  # the hostile message reached the gradebook...
    eve = (folder / "feedback" / "eve.html").read_text()
    assert "&lt;script&gt;" in eve and "<script" not in eve  # ...and its feedback page as text
    assert len(list((folder / "feedback").glob("*.html"))) == 4


# -- the report page in Chromium


@pytest.mark.browser
def test_the_report_page_renders_in_chromium(tmp_path):
    from tests.browser.lab import chromium, missing

    if missing():
        pytest.skip(missing())
    book = _book([(f"c/{n}.ipynb", ["correct", "incorrect", "timed out"], [EVIL] * 3) for n in HOSTILE_NAMES])
    book["submissions"] += _class(24)["submissions"]
    path = report.write_report([book], tmp_path / "report.html")
    problems = []
    with chromium(tmp_path / "profile", width=1280, height=900) as page:
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=30_000)
        bars = page.evaluate("document.querySelectorAll('.js-plotly-plot .bars .point').length")
        out = ROOT / "artifacts" / "teacher"
        out.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out / "report_test.png"), full_page=True)
    assert bars > 0 and not problems, problems


# -- nbgrader, when it is installed: our points in its gradebook, read back by its own export


@needs_nbgrader
def test_our_points_land_in_nbgraders_gradebook(tmp_path):
    course, nbgrader = nbgrader_course(tmp_path, "02_architecture_dna")
    points = (1, 2, 2, 2, 3)
    tasks = [{"task": f"q{k}", "name": "f", "title": "t", "max_points": p} for k, p in enumerate(points, 1)]
    statuses = {"alice": ["correct"] * 5, "bob": ["correct", "incorrect", "timed out", "correct", "not attempted"]}
    book = {"assignment": "02_architecture_dna", "tasks": tasks, "max_points": 10, "submissions": []}
    for name, marks in statuses.items():
        done = [
            {**t, "status": st, "points": t["max_points"] * (st == "correct"), "feedback": f"{name} {st}"}
            for t, st in zip(tasks, marks)
        ]
        path = f"submitted/{name}/02_architecture_dna/02_architecture_dna.ipynb"
        book["submissions"].append({"submission": path, "points": sum(t["points"] for t in done), "tasks": done})
    (tmp_path / "02.json").write_text(json.dumps(book))
    url = f"sqlite:///{course / 'gradebook.db'}"
    assert cli.main(["report", str(tmp_path / "02.json"), "--nbgrader", url]) == 0
    nbgrader("export")
    scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader((course / "grades.csv").open())}
    assert scores == {"alice": 10.0, "bob": 3.0}
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        comment = gb.find_comment("q3_answer", "02_architecture_dna", "02_architecture_dna", "bob")
        assert comment.comment == "timed out: bob timed out"
