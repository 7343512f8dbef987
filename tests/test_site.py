"""The website's build (course/site.py) without a browser: no solution reaches it, every internal link resolves, the Run
it addresses are well formed, the Colab cell acts only in Colab, an executed copy is used only for the source it ran,
and the conftest.py hook writes that copy with the outputs nbval saw; both it and the build's own execution keep each
displayed widget's final state, which the page draws. tests/browser/test_site.py checks a built site in Chromium. A
build from the committed sources (no outputs) takes ~10 s.
"""

import html
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest

from course import site

ROOT = Path(__file__).resolve().parents[1]
REPO = "https://github.com/example-school/nanonas"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    pages = site.build(out, site.Settings(REPO, "main", "gh-pages"), outputs=False)
    return out, pages


def page_text(path: Path) -> str:
    """What a reader sees of a page or a notebook copy: tags stripped, entities decoded."""
    text = path.read_text()
    if path.suffix == ".ipynb":
        return "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def solution_lines(path: Path) -> list[str]:
    """The distinctive lines between ### BEGIN SOLUTION and ### END SOLUTION in a solution notebook."""
    lines, inside = [], False
    for cell in nbformat.read(path, as_version=4).cells:
        for line in cell.source.splitlines():
            if "BEGIN SOLUTION" in line:
                inside = True
            elif "END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) > 30:
                lines.append(line.strip())
    return lines


def test_no_solution_reaches_the_site(built):
    """No line of a solution region is on a page unless the page's own source has it (a lesson may teach the same
    code: lesson 02 writes the mutation exercise 02 asks for)."""
    out, pages = built
    published = [(out / p.out, ROOT / p.source) for p in pages]
    published += [(copy, ROOT / copy.relative_to(out)) for copy in out.rglob("*.ipynb")]
    leaked = [(s.name, line) for s in sorted((ROOT / "solutions").glob("*.ipynb")) for line in solution_lines(s)]
    assert len(leaked) > 20, "the solution regions were not found: has the marker changed?"
    found = []
    for page, source in published:
        shown, own = page_text(page), page_text(source) if source.suffix == ".ipynb" else source.read_text()
        found += [(page.name, line) for _, line in leaked if line in shown and line not in own]
    assert found == []
    assert not list(out.rglob("solutions")), "solutions are never published"
    task = nbformat.read(ROOT / "exercises" / "03_evolution.ipynb", as_version=4).cells[2].source.splitlines()[0]
    shown = page_text(out / "exercises" / "03_evolution.html")
    assert task.lstrip("# ").strip() in shown, "an exercise's task is on its page (the check above can find text)"


def test_every_page_is_there_and_every_internal_link_resolves(built):
    out, pages = built
    kinds = {k: sum(p.kind == k for p in pages) for k in ("lesson", "exercise", "rubric", "doc")}
    assert kinds["lesson"] == len(list((ROOT / "notebooks").glob("[0-9][0-9]*.ipynb")))
    assert kinds["exercise"] == len(list((ROOT / "exercises").glob("*.ipynb")))
    assert kinds["rubric"] == len(list((ROOT / "notebooks").glob("0[6-9]*_*.ipynb")))
    assert kinds["doc"] == len(list((ROOT / "docs").glob("*.md")))
    assert site.broken_links(out) == []
    rubric = (out / "rubrics" / "07a_multi_objective.html").read_text()
    assert "Rubric (10 points)" in rubric and "../notebooks/07a_multi_objective.html#rubric" in rubric


def test_the_link_checker_finds_a_missing_page_and_a_missing_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<h2 id="here">x</h2><a href="b.html#there">b</a><a href="c.html">c</a>')
    (tmp_path / "b.html").write_text('<a href="a.html#here">a</a><a href="https://example.org/x">out</a>')
    assert site.broken_links(tmp_path) == ["a.html: b.html#there (no such anchor)", "a.html: c.html (no such file)"]


def test_run_it_addresses_are_well_formed(built):
    out, pages = built
    for page in [p for p in pages if p.kind in ("lesson", "exercise")]:
        text = (out / page.out).read_text()
        binder = html.unescape(re.search(r'href="(https://mybinder\.org/[^"]+)"', text).group(1))
        colab = re.search(r'href="(https://colab\.research\.google\.com/[^"]+)"', text).group(1)
        parts = urlsplit(binder)
        assert parts.path == "/v2/gh/example-school/nanonas/main", binder
        assert parse_qs(parts.query) == {"labpath": [page.source]} and (ROOT / page.source).exists()
        assert colab == f"https://colab.research.google.com/github/example-school/nanonas/blob/gh-pages/{page.source}"
        assert (out / page.source).exists(), "Colab opens the site's copy, published on the pages branch"
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111, "repo2docker runs binder/postBuild"
    assert "pip install --no-cache-dir -e ." in (ROOT / "binder" / "postBuild").read_text()


@pytest.mark.parametrize(
    "repo, branch",
    [("http://github.com/a/b", "main"), ("https://gitlab.com/a/b", "main"), (REPO, "main; rm -rf /"), (REPO, "a..b")],
)
def test_a_bad_setting_is_refused_with_what_is_allowed(repo, branch):
    with pytest.raises(ValueError, match="must be"):
        site.Settings(repo, branch)


def test_the_command_says_so_for_a_bad_repository(tmp_path, capsys):
    assert site.main(["--out", str(tmp_path / "s"), "--repo", "nanonas"]) == 2
    assert "SITE_REPO must be a GitHub repository address" in capsys.readouterr().err


def run_colab_cell(code: str, in_colab: bool):
    """Run the cell with subprocess.run, os.chdir and sys.path recorded instead of acting; return what it did."""
    calls, moves = [], []
    with pytest.MonkeyPatch.context() as m:
        m.setattr(subprocess, "run", lambda argv, **kw: calls.append(argv))
        m.setattr(os, "chdir", moves.append)
        m.setattr(os.path, "isdir", lambda path: False)  # a fresh Colab runtime: no checkout yet
        m.setattr(sys, "path", list(sys.path))
        if in_colab:
            m.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
        else:
            m.delitem(sys.modules, "google.colab", raising=False)
        before = list(sys.path)
        exec(compile(code, "colab-cell", "exec"), {})
        added = [p for p in sys.path if p not in before]
    return calls, moves, added


def test_the_colab_cell_acts_only_in_colab(built):
    out, _ = built
    for copy in ("notebooks/03_evolution.ipynb", "exercises/03_evolution.ipynb"):
        cells = nbformat.read(out / copy, as_version=4).cells
        source = nbformat.read(ROOT / copy, as_version=4).cells
        assert [c.source for c in cells[1:]] == [c.source for c in source], "the copy is the source, one cell added"
        code = cells[0].source
        assert run_colab_cell(code, in_colab=False) == ([], [], []), "outside Colab it does nothing"
        calls, moves, added = run_colab_cell(code, in_colab=True)
        assert calls[-1] == [sys.executable, "-m", "pip", "install", "-q", "-e", "/content/nanonas"]
        assert calls[0] == ["git", "clone", "--depth", "1", "--branch", "main", f"{REPO}.git", "/content/nanonas"]
        assert moves == [f"/content/nanonas/{copy.split('/')[0]}"] and added == ["/content/nanonas/nanonas_lib"]


def test_an_executed_copy_is_used_only_for_the_source_it_ran(tmp_path):
    source = ROOT / "notebooks" / "00_welcome.ipynb"
    nb = nbformat.read(source, as_version=4)
    figure = {"data": [{"type": "scatter", "x": [1, 2], "y": [3, 4]}], "layout": {"title": {"text": "</script>"}}}
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("display_data", data={site.PLOTLY_MIME: figure, "text/plain": "Figure"})]
    stamp = {"source_sha256": site.sha256(source), "complete": True, "by": "nbval"}
    nb.metadata["nanonas_executed"] = stamp
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / source.name)
    got = site.executed(source, tmp_path, execute=False)
    figures = []
    page = site.Page(f"notebooks/{source.name}", "notebooks/00_welcome.html", "00", "Lessons", "lesson")
    body = site.notebook_html(got, page, site.Links(page.source, page.out, {}, site.Settings()), figures)
    payload = re.search(r'<script type="application/json">(.*?)</script>', body, re.S).group(1)
    assert json.loads(payload) == figure and figures == [figure], "the page draws the figure the notebook computed"
    for change in ({"source_sha256": "0" * 64}, {"complete": False}):
        nb.metadata["nanonas_executed"] = {**stamp, **change}
        nbformat.write(nb, tmp_path / "notebooks" / source.name)
        with pytest.raises(RuntimeError, match="no executed copy of 00_welcome.ipynb's current source"):
            site.executed(source, tmp_path, execute=False)


def test_a_progress_bar_shows_its_last_state():
    assert site.stream_text("  0%|\r 50%|\r100%| done\nnext") == "100%| done\nnext"


WIDGET_CELLS = [  # a figure widget displayed empty, then drawn into by a later cell: its final state is that later one
    "import ipywidgets as W, plotly.graph_objects as go\nfigure = go.FigureWidget()\n"
    "W.VBox([W.IntSlider(value=4, description='epochs'), figure])",
    "figure.add_scatter(x=[1, 2, 3], y=[3, 1, 2], name='late')\nfigure.layout.title = 'final'",
]


def assert_final_widget_state(copy):
    """An executed copy of WIDGET_CELLS keeps the widget as the last cell left it, and its page draws exactly that."""
    shown = copy.cells[0].outputs[0].data[site.WIDGET_MIME]["model_id"]
    assert list(copy.metadata[site.SNAPSHOTS]) == [shown], "one snapshot: the widget the notebook displayed"
    slider, figure = copy.metadata[site.SNAPSHOTS][shown]["children"]
    assert slider == {"control": "epochs", "value": "4"}
    trace = {k: figure["figure"]["data"][0][k] for k in ("type", "x", "y", "name")}
    assert trace == {"type": "scatter", "x": [1, 2, 3], "y": [3, 1, 2], "name": "late"}, figure
    assert figure["figure"]["layout"]["title"]["text"] == "final"
    page = site.Page("notebooks/widgets.ipynb", "notebooks/widgets.html", "w", "Lessons", "lesson")
    drawn = []
    body = site.notebook_html(copy, page, site.Links(page.source, page.out, {}, site.Settings()), drawn)
    assert drawn == [figure["figure"]] and "final state" in body and "epochs <b>4</b>" in body


def test_a_notebook_the_build_executes_keeps_its_widgets_final_state(tmp_path):
    """site.executed runs a notebook without a fresh copy with nbclient, and asks the kernel for its widgets too."""
    source = tmp_path / "widgets.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in WIDGET_CELLS]), source)
    copy = site.executed(source, tmp_path / "store")
    assert len(copy.cells) == len(WIDGET_CELLS), "the cell that asked the kernel is not kept"
    assert_final_widget_state(copy)


def test_the_test_run_writes_each_notebook_with_its_outputs(tmp_path):
    """conftest.py's hook: nbval runs a notebook in a notebooks/ folder; its copy holds what each cell printed, and the
    final state of its widgets."""
    folder = ROOT / "artifacts" / f"site-probe-{os.getpid()}" / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        probe = folder / "probe.ipynb"
        cells = ["print(6 * 7)", "1 + 1", "x = 3"]
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), probe)
        widgets = folder / "widgets.ipynb"
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in WIDGET_CELLS]), widgets)
        broken = folder / "broken.ipynb"  # a run with an error writes nothing (it would replace a good copy)
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), broken)
        env = {**os.environ, "NANONAS_EXECUTED_DIR": str(tmp_path), "OMP_NUM_THREADS": "1"}
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env"]
        done = subprocess.run(
            [*argv, str(probe), str(widgets), str(broken)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert "1 failed, 5 passed" in done.stdout, done.stdout[-2000:]
        assert not (tmp_path / "notebooks" / "broken.ipynb").exists()
        copy = nbformat.read(tmp_path / "notebooks" / "probe.ipynb", as_version=4)
        assert copy.metadata["nanonas_executed"] == {
            "source_sha256": site.sha256(probe),
            "complete": True,
            "by": "nbval",
        }
        outputs = [c.outputs for c in copy.cells]
        assert outputs[0][0].text == "42\n" and outputs[1][0].data["text/plain"] == "2" and outputs[2] == []

        assert_final_widget_state(nbformat.read(tmp_path / "notebooks" / "widgets.ipynb", as_version=4))
    finally:
        for path in sorted(folder.parent.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        folder.parent.rmdir()


def test_a_widget_says_it_is_live_only_where_a_reader_would_want_to_use_it():
    progress = {"progress": 3, "min": 0, "max": 10, "label": "searching"}
    dashboard = {
        "box": "column",
        "titles": [],
        "children": [{"box": "row", "titles": [], "children": [{"control": "seed", "value": "1"}]}, progress],
    }
    plain, live = site.widget_html({}, progress, None, []), site.widget_html({}, dashboard, None, [])
    assert "<progress" in plain and "live widget" not in plain  # a progress bar is done: nothing to use
    assert "live widget" in live and "seed <b>1</b>" in live  # a control nested two boxes deep still counts


def test_a_frame_around_one_widget_lays_out_as_the_widget():
    """The dashboards put each figure in a frame of its own (nanonas.widgets.live.keep_drawn): on a page, the figures
    of a row sit in the row as figures (a frame would be a column that does not shrink: the page scrolled sideways)."""
    figure = {"figure": {"data": [{"type": "scatter", "x": [1], "y": [2]}], "layout": {}}}
    framed = {"box": "column", "titles": [], "children": [figure]}
    row = {"box": "row", "titles": [], "children": [framed, framed]}
    page = site.widget_html({}, row, None, [])
    assert page.count("plotly-figure") == 2 and "w-column" not in page and "w-row" in page
    tab = {"box": "column", "titles": ["one"], "children": [figure]}  # a tab of one panel keeps its title
    assert "<h4>one</h4>" in site.widget_html({}, tab, None, [])
