"""The course as a static website: every lesson and project as executed, plus exercises, rubrics and docs (issue 27).

    python -m course.site --out site [--repo https://github.com/OWNER/NAME] [--branch main] [--pages-branch gh-pages]

`make site` runs this. A lesson's page shows the outputs of the executed copy `make test` wrote (conftest.py writes
artifacts/executed/notebooks/NAME.ipynb with the source's SHA-256); a notebook without a complete copy of its current
source is executed here with nbclient, one kernel at a time, and its copy kept for next time. Markdown is rendered with
mistune and code with Pygments (both come with Jupyter), plotly figures are drawn in the page by the plotly.js the
`plotly` package ships (served once, from assets/), and nothing is fetched from the network. docs/site.md says why.
"""

import argparse
import ast
import hashlib
import html
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[2]  # the checkout: nanonas_lib/course/site.py
PLACEHOLDER_REPO = "https://github.com/YOUR-ORG/nanonas"  # the teacher sets SITE_REPO (Makefile) to theirs
PLOTLY_MIME, WIDGET_MIME = "application/vnd.plotly.v1+json", "application/vnd.jupyter.widget-view+json"
PROJECT = re.compile(r"\d\d[a-z]_")  # 06a_grow_the_space: a project; 03_evolution: a lesson
COLAB_MARK = "# Google Colab only"
MATH = 'class="math"'  # how mistune's math plugin marks $...$ and $$...$$ in the HTML it writes
MATHJAX_SVG = "es5/tex-svg.js"  # in MathJax's package folder


# -- settings ------------------------------------------------------------------------------------------------------
@dataclass
class Settings:
    repo: str = PLACEHOLDER_REPO  # the public GitHub repository the "Run it" buttons open
    branch: str = "main"  # its branch with the course (Binder builds it, the local instructions clone it)
    pages_branch: str = "gh-pages"  # the branch the site is published to: Colab opens the site's notebook copies there

    def __post_init__(self):
        match = re.fullmatch(r"https://github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?", self.repo)
        if not match:
            raise ValueError(
                f"SITE_REPO must be a GitHub repository address like {PLACEHOLDER_REPO}; got {self.repo!r}"
            )
        self.owner, self.name = match.groups()
        self.repo = f"https://github.com/{self.owner}/{self.name}"
        for what, branch in (("branch", self.branch), ("pages branch", self.pages_branch)):
            if not re.fullmatch(r"[A-Za-z0-9._/-]+", branch) or ".." in branch:
                raise ValueError(f"the {what} must be a git branch name (letters, digits, . _ / -); got {branch!r}")

    def binder(self, path: str) -> str:
        branch, path = quote(self.branch, safe=""), quote(path, safe="")
        return f"https://mybinder.org/v2/gh/{self.owner}/{self.name}/{branch}?labpath={path}"

    def colab(self, site_path: str) -> str:
        return f"https://colab.research.google.com/github/{self.owner}/{self.name}/blob/{self.pages_branch}/{site_path}"

    def source(self, path: str) -> str:
        return f"{self.repo}/blob/{self.branch}/{path}"


def colab_cell(settings: Settings, folder: str) -> str:
    """The first cell of a notebook copy opened in Colab: it installs the course there, and does nothing elsewhere."""
    return f"""{COLAB_MARK}: fetch the course and install nanonas (about a minute). Anywhere else it does nothing.
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    if not os.path.isdir("/content/nanonas"):
        subprocess.run(["git", "clone", "--depth", "1", "--branch", {settings.branch!r}, {settings.repo + ".git"!r},
                        "/content/nanonas"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "/content/nanonas"], check=True)
    sys.path.insert(0, "/content/nanonas/nanonas_lib")  # importable now, without restarting the runtime
    os.chdir("/content/nanonas/{folder}")  # the notebook's own folder, as in a checkout
"""


# -- the pages -----------------------------------------------------------------------------------------------------
@dataclass
class Page:
    source: str  # repository path: notebooks/03_evolution.ipynb, docs/teaching.md, README.md
    out: str  # site path: notebooks/03_evolution.html
    title: str
    group: str  # the sidebar's section
    kind: str  # home, lesson, exercise, rubric, doc
    headings: list = field(default_factory=list)  # [(id, text)] of its level-2 headings, for the sidebar


def notebook_title(path: Path) -> str:
    """'03 evolution' from 03_evolution.ipynb, or the notebook's first heading when it has one."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            first = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if first:
                return re.sub(r"[*_`]", "", first.group(1)).strip()
    return path.stem.replace("_", " ")


def rubric_index(cells) -> int | None:
    """The index of a project's "Your turn" cell (its open question and the rubric), or None."""
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and "Rubric" in cell.source and re.search(r"(?im)^#+ .*your turn", cell.source):
            return i
    return None


def plan(root: Path) -> list[Page]:
    """Every page of the site, in reading order: home, lessons, projects, exercises, rubrics, docs."""
    import nbformat

    pages = [Page("README.md", "index.html", "nanoNAS", "Course", "home")]
    numbered = sorted((root / "notebooks").glob("[0-9][0-9]*.ipynb"))
    first_project = next((p.name[:2] for p in numbered if PROJECT.match(p.name)), "99")
    for path in numbered:  # lessons, then projects, then what follows them (09's capstone)
        group = "Projects" if PROJECT.match(path.name) else "Lessons" if path.name < first_project else "Capstone"
        pages.append(
            Page(f"notebooks/{path.name}", f"notebooks/{path.stem}.html", notebook_title(path), group, "lesson")
        )
    for path in sorted((root / "exercises").glob("[0-9][0-9]*.ipynb")):  # never solutions/
        pages.append(
            Page(f"exercises/{path.name}", f"exercises/{path.stem}.html", notebook_title(path), "Exercises", "exercise")
        )
    for path in numbered:
        if rubric_index(nbformat.read(path, as_version=4).cells) is not None:
            title = "Rubric · " + notebook_title(path).replace("Project: ", "")
            pages.append(Page(f"notebooks/{path.name}", f"rubrics/{path.stem}.html", title, "Rubrics", "rubric"))
    for path in sorted((root / "docs").glob("*.md")):
        first = re.search(r"^#\s+(.+)$", path.read_text(), re.M)
        title = first.group(1).strip() if first else path.stem
        pages.append(Page(f"docs/{path.name}", f"docs/{path.stem}.html", title, "Docs", "doc"))
    return pages


# -- executed notebooks --------------------------------------------------------------------------------------------
def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def executed(source: Path, store: Path, execute: bool = True, timeout: int = 1200):
    """The notebook with the outputs of a run of its current source: the copy `make test` left in `store`, or a fresh
    execution (kept in `store`). Refuses when there is none and `execute` is False."""
    import nbformat

    copy = store / "notebooks" / source.name
    if copy.exists():
        nb = nbformat.read(copy, as_version=4)
        stamp = nb.metadata.get("nanonas_executed", {})
        if stamp.get("complete") and stamp.get("source_sha256") == sha256(source):
            return nb
    if not execute:
        raise RuntimeError(
            f"no executed copy of {source.name}'s current source in {copy.parent}: run `make test` or `make site`"
        )
    from nbclient import NotebookClient

    print(f"executing {source.name} (no fresh copy from make test) ...", flush=True)
    digest = sha256(source)
    nb = nbformat.read(source, as_version=4)
    os.environ["OMP_NUM_THREADS"] = "1"  # the kernel inherits it: one torch thread, as under make test
    freeze = nbformat.v4.new_code_cell(f"print({FREEZE})")  # after the last cell: the widgets' final state
    nb.cells.append(freeze)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}
    )
    try:
        client.execute()
    except Exception as e:  # a cell raised: say which notebook, keep the message short and without colour codes
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(e))
        raise RuntimeError(f"{source.name} failed while building the site: {message[-1500:]}") from None
    nb.cells.pop()
    printed = "".join(o.get("text", "") for o in freeze.outputs if o.get("name") == "stdout").strip()
    try:  # its last line (a thread the notebook left running may print before it)
        snapshots = json.loads(printed.splitlines()[-1])
    except (IndexError, ValueError):
        print(f"note: {source.name}'s kernel gave no state of its widgets: its page shows a line where each was")
        snapshots = {}
    nb.metadata[SNAPSHOTS] = displayed_only(nb, snapshots)
    nb.metadata["nanonas_executed"] = {"source_sha256": digest, "complete": True, "by": "nbclient"}
    copy.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, copy)
    return nb


# -- widgets' final state -----------------------------------------------------------------------------------------
# A widget is drawn by JupyterLab from a model that lives in the kernel; a page has no kernel. So when a notebook has
# run, its kernel is asked once more for the final state of every widget it holds (`freeze_widgets`, a few lines of
# plain data each), and the executed copy keeps the displayed ones in its metadata; the page draws that snapshot.
# The widget state a notebook can save (metadata "widgets") would not do: a plotly FigureWidget sends its changes as
# deltas, so its saved model is the empty figure it started as, and nbval collects no widget state at all.
SNAPSHOTS = "nanonas_widgets"  # the executed copy's metadata: {model id: the widget's final state}
FREEZE = "__import__('course.site', fromlist=['freeze_widgets']).freeze_widgets()"  # what the kernel evaluates


def freeze_widgets() -> str:
    """In a kernel: the final state of every widget that is no other widget's child, as JSON {model id: tree}.

    A tree node is one of {"box": "row" or "column", "children": [...], "titles": [...]}, {"figure": plotly figure},
    {"html": markup}, {"text": text}, {"control": label, "value": text}, {"progress": value, "min", "max", "label"},
    {"outputs": [notebook outputs]}; hidden widgets and buttons are left out."""
    import sys

    if "ipywidgets" not in sys.modules:
        return "{}"
    import ipywidgets as W
    from ipywidgets.widgets.widget import _instances  # every open widget by model id (Widget.widgets is deprecated)

    def tree(w):
        if getattr(getattr(w, "layout", None), "display", None) == "none" or isinstance(w, W.Button):
            return None
        if hasattr(w, "to_plotly_json"):  # plotly's FigureWidget: the whole figure as it is now
            import plotly.io

            return {"figure": json.loads(plotly.io.to_json(w, validate=False))}
        if isinstance(w, W.Box):
            children = [t for t in map(tree, w.children) if t is not None]
            kind = "row" if isinstance(w, W.HBox) else "column"  # tabs and accordions: their panels one below another
            return {"box": kind, "children": children, "titles": list(getattr(w, "titles", ()))}
        if isinstance(w, (W.HTML, W.HTMLMath)):
            return {"html": w.value}
        if isinstance(w, W.Label):
            return {"text": w.value}
        if isinstance(w, (W.IntProgress, W.FloatProgress)):
            return {"progress": w.value, "min": w.min, "max": w.max, "label": w.description}
        if isinstance(w, W.Output):
            return {"outputs": [dict(o) for o in w.outputs]}
        if hasattr(w, "value"):  # a slider, a dropdown, a text box, a checkbox: its label and what it shows
            shown = w.label if hasattr(w, "options") and hasattr(w, "label") else w.value  # a dropdown's label
            return {"control": getattr(w, "description", ""), "value": str(shown)}
        return {"text": type(w).__name__}

    widgets = {i: w for i, w in list(_instances.items()) if isinstance(w, W.DOMWidget)}
    children = {id(c) for w in widgets.values() if isinstance(w, W.Box) for c in w.children}
    return json.dumps({i: tree(w) for i, w in widgets.items() if id(w) not in children}, default=str)


def kernel_snapshots(client, timeout: float = 120) -> dict:
    """`freeze_widgets()` evaluated in a running kernel through its blocking client (nbval's, after the last cell)."""
    msg_id = client.execute("", silent=True, store_history=False, user_expressions={"frozen": FREEZE})
    reply = client.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=timeout)
    frozen = reply["content"].get("user_expressions", {}).get("frozen", {})
    if frozen.get("status") != "ok":
        raise RuntimeError(f"the kernel could not freeze its widgets: {frozen.get('ename')}: {frozen.get('evalue')}")
    return json.loads(ast.literal_eval(frozen["data"]["text/plain"]))  # the JSON string's repr, as IPython shows it


def displayed_only(nb, snapshots: dict) -> dict:
    """The snapshots of the widgets the notebook's outputs display (a widget never displayed is left out)."""
    shown = {
        o.data[WIDGET_MIME].get("model_id")
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if WIDGET_MIME in o.get("data", {})
    }
    return {i: t for i, t in snapshots.items() if i in shown and t is not None}


def snapshot_html(node, links, figures: list) -> str:
    """A widget's frozen state as static HTML: figures drawn by plotly.js like any other, controls as what they show."""
    if node is None:
        return ""
    if "figure" in node:
        return figure_html(node["figure"], figures)
    if "box" in node:
        if len(node["children"]) == 1 and not node["titles"]:  # a frame around one widget (live.keep_drawn's): it
            return snapshot_html(node["children"][0], links, figures)  # lays out as the widget would in the row
        parts = [snapshot_html(c, links, figures) for c in node["children"]]
        if node["titles"]:  # tabs, accordion: every panel at once, under its title
            parts = [f"<h4>{html.escape(t or '')}</h4>{p}" for t, p in zip(node["titles"] + [""] * len(parts), parts)]
        return f'<div class="w-{node["box"]}">{"".join(parts)}</div>'
    if "html" in node:
        markup = node["html"]
        return f'<div class="w-html">{markup if "<script" not in markup else html.escape(markup)}</div>'
    if "text" in node:
        return f'<span class="w-text">{html.escape(node["text"])}</span>'
    if "progress" in node:
        value, low, high = node["progress"], node["min"], node["max"]
        label = f'<span class="w-text">{html.escape(node["label"])}</span>' if node["label"] else ""
        return f'{label}<progress value="{value - low}" max="{high - low}"></progress>'
    if "control" in node:
        return f'<span class="w-control">{html.escape(node["control"])} <b>{html.escape(node["value"])}</b></span>'
    if "outputs" in node:
        return "".join(output_html(o, links, figures) for o in node["outputs"])
    return ""


# -- rendering -----------------------------------------------------------------------------------------------------
def slug(text: str, seen: dict) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", text)).strip().lower()
    base = re.sub(r"[^\w\- ]", "", plain).replace(" ", "-")
    n = seen.get(base, 0)
    seen[base] = n + 1
    return base if n == 0 else f"{base}-{n}"


class Links:
    """Rewrites a link written in a repository file to where it leads on the site (or to the repository)."""

    def __init__(self, source: str, out: str, targets: dict, settings: Settings):
        self.source, self.out, self.targets, self.settings = source, out, targets, settings

    def __call__(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith("#") or not parts.path:
            return url
        target = os.path.normpath(os.path.join(os.path.dirname(self.source), parts.path)).replace(os.sep, "/")
        anchor = f"#{parts.fragment}" if parts.fragment else ""
        if target.startswith("../"):
            return url
        if target in self.targets:
            return os.path.relpath(self.targets[target], os.path.dirname(self.out) or ".").replace(os.sep, "/") + anchor
        return self.settings.source(target) + anchor  # code, benchmarks' results, solutions: the repository's file


def markdown(text: str, links: Links, page: Page | None = None, seen: dict | None = None) -> str:
    import mistune

    seen = {} if seen is None else seen

    class Renderer(mistune.HTMLRenderer):
        def heading(self, text, level, **attrs):
            anchor = slug(text, seen)
            if page is not None and level == 2:
                page.headings.append((anchor, html.unescape(re.sub(r"<[^>]+>", "", text))))
            return (
                f'<h{level} id="{anchor}">{text}<a class="anchor" href="#{anchor}" aria-label="link">#</a></h{level}>\n'
            )

        def link(self, text, url, title=None):
            return super().link(text, links(url), title)

        def image(self, text, url, title=None):
            return super().image(text, links(url), title)

    render = mistune.create_markdown(renderer=Renderer(escape=False), plugins=["table", "strikethrough", "math"])
    return render(text)


def code_html(source: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return highlight(source, PythonLexer(), HtmlFormatter(nowrap=True))


def stream_text(text: str) -> str:
    """What a terminal would show: each line's text after its last carriage return (progress bars redraw so)."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def output_html(output, links: Links, figures: list, snapshots: dict | None = None) -> str:
    """One output as HTML; a widget as its final state from `snapshots` ({model id: tree}) where the run kept it."""
    from nbconvert.filters.ansi import ansi2html

    kind = output.get("output_type")
    if kind == "stream":
        return f'<pre class="out {output.get("name", "stdout")}">{ansi2html(stream_text(output.get("text", "")))}</pre>'
    if kind == "error":
        return f'<pre class="out error">{ansi2html(chr(10).join(output.get("traceback", [])))}</pre>'
    snapshots = snapshots or {}
    data = output.get("data", {})
    if PLOTLY_MIME in data:
        return figure_html(data[PLOTLY_MIME], figures)
    if WIDGET_MIME in data:
        return widget_html(data, snapshots.get(data[WIDGET_MIME].get("model_id")), links, figures)
    page_html = data.get("text/html")
    if page_html is not None and "<script" not in "".join(page_html):  # plotly's loader, require.js: not here
        return f'<div class="out html">{"".join(page_html)}</div>'
    if "image/svg+xml" in data:
        return f'<div class="out image">{"".join(data["image/svg+xml"])}</div>'
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            return f'<div class="out image"><img alt="output" src="data:{mime};base64,{data[mime]}"></div>'
    if "text/markdown" in data:
        return f'<div class="out markdown">{markdown("".join(data["text/markdown"]), links)}</div>'
    if "text/plain" in data:
        return f'<pre class="out">{ansi2html("".join(data["text/plain"]))}</pre>'
    return ""


def figure_html(figure: dict, figures: list) -> str:
    """A plotly figure as its JSON beside an empty div; site.js draws it there with the site's plotly.js."""
    figures.append(figure)
    payload = json.dumps(figure, separators=(",", ":")).replace("</", "<\\/")
    div = f'<div class="plotly-figure" id="figure-{len(figures)}"></div>'
    return f'{div}<script type="application/json">{payload}</script>'


def _holds(node, kinds) -> bool:
    """Whether a widget's frozen tree has a node of one of `kinds` ("figure", "control", ...) anywhere in it."""
    return any(kind in node for kind in kinds) or any(_holds(c, kinds) for c in node.get("children", ()))


def widget_html(data, snapshot, links, figures: list) -> str:
    """A widget: its final state when the run kept it, under one line saying that the real one is live in JupyterLab
    (a progress bar needs no such line); without a snapshot, that line and the widget's image fallback if any."""
    line = (
        '<p class="widget-line">A live widget in JupyterLab: here, its final state when the notebook ran. '
        "Open the notebook with a <em>Run it</em> button above to use it.</p>"
    )
    if snapshot is not None:
        body = snapshot_html(snapshot, links, figures)
        interactive = _holds(snapshot, ("figure", "control"))
        return f'<div class="widget-snapshot">{line if interactive else ""}{body}</div>'
    fallback = ""
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            fallback = f'<img alt="the widget when the notebook ran" src="data:{mime};base64,{data[mime]}">'
    return (
        f'<div class="widget-note">{fallback}<p>A live widget was here: it runs in JupyterLab, not on a '
        "static page. Open this notebook with a <em>Run it</em> button above.</p></div>"
    )


def notebook_html(nb, page: Page, links: Links, figures: list) -> str:
    """A notebook's cells, in order: markdown rendered, code highlighted, outputs below it."""
    seen, parts, snapshots = {}, [], nb.metadata.get(SNAPSHOTS, {})
    rubric = rubric_index(nb.cells) if page.kind == "lesson" else None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            anchor = ' id="rubric"' if i == rubric else ""
            parts.append(f'<section class="cell markdown"{anchor}>{markdown(cell.source, links, page, seen)}</section>')
        elif cell.cell_type == "code":
            outputs = "".join(output_html(o, links, figures, snapshots) for o in cell.get("outputs", []))
            count = cell.get("execution_count")
            prompt = f"[{count}]" if count else "[ ]"
            parts.append(
                f'<section class="cell code"><div class="input"><span class="prompt">{prompt}</span>'
                f"<pre><code>{code_html(cell.source)}</code></pre></div>"
                + (f'<div class="outputs">{outputs}</div>' if outputs else "")
                + "</section>"
            )
    return "\n".join(parts)


def readme_html(text: str, links: Links, page: Page, pages: list[Page]) -> str:
    """The README with its course table linked: each notebook's name to its page, each exercise to its page."""
    by_number = {Path(p.source).stem.split("_")[0]: p for p in pages if p.kind == "lesson"}

    def link_row(line: str) -> str:
        cells = line.split("|")
        number = re.match(r"\s*(\d\d[a-z]?) ", cells[1]) if len(cells) > 2 else None
        if number and number.group(1) in by_number:
            cells[1] = f" [{cells[1].strip()}]({by_number[number.group(1)].source}) "
        return re.sub(r"`(exercises/[\w.]+\.ipynb)`", r"[`\1`](\1)", "|".join(cells))

    lines, in_course = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            in_course = line.strip() == "## The course"
        lines.append(link_row(line) if in_course and line.startswith("|") else line)
    return markdown("\n".join(lines), links, page)


# -- the page frame ------------------------------------------------------------------------------------------------
def relative(target: str, page: Page) -> str:
    return os.path.relpath(target, os.path.dirname(page.out) or ".").replace(os.sep, "/")


def sidebar(pages: list[Page], page: Page) -> str:
    groups: dict = {}
    for p in pages:
        groups.setdefault(p.group, []).append(p)
    out = []
    for group, members in groups.items():
        items = []
        for p in members:
            current = ' class="current" aria-current="page"' if p is page else ""
            sub = ""
            if p is page and p.headings:
                sub = "<ul>" + "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in p.headings) + "</ul>"
            items.append(f'<li><a href="{relative(p.out, page)}"{current}>{html.escape(p.title)}</a>{sub}</li>')
        out.append(f"<h2>{group}</h2><ul>{''.join(items)}</ul>")
    return "".join(out)


def run_it(page: Page, settings: Settings) -> str:
    """The "Run it" bar of a notebook page: a local checkout, Binder, Colab and the notebook file itself."""
    source = page.source
    copy = relative(source, page)  # the site's copy of the notebook, with the Colab cell first
    clone = f"git clone {settings.repo}.git && cd {settings.name} && make lab"
    return (
        '<div class="run-it"><span>Run it:</span>'
        f'<a class="button binder" href="{html.escape(settings.binder(source))}">Binder</a>'
        f'<a class="button colab" href="{html.escape(settings.colab(source))}">Colab</a>'
        f'<a class="button download" href="{copy}" download>.ipynb</a>'
        "<details><summary>JupyterLab on your computer</summary>"
        f"<pre><code>{html.escape(clone)}</code></pre><p>then open <code>{html.escape(source)}</code> "
        "(Python 3.10+; the first run installs PyTorch and takes a few minutes).</p></details></div>"
    )


def frame(page: Page, body: str, pages: list[Page], settings: Settings, has_figures: bool, note: str = "") -> str:
    i = pages.index(page)
    prev = pages[i - 1] if i > 0 else None
    nxt = pages[i + 1] if i + 1 < len(pages) else None
    pager = (
        '<nav class="pager">'
        + (
            f'<a class="prev" href="{relative(prev.out, page)}">← {html.escape(prev.title)}</a>'
            if prev
            else "<span></span>"
        )
        + (f'<a class="next" href="{relative(nxt.out, page)}">{html.escape(nxt.title)} →</a>' if nxt else "")
        + "</nav>"
    )
    assets = relative("assets", page)
    plotly = f'<script src="{assets}/plotly.min.js"></script>' if has_figures else ""
    if MATH in body:  # MathJax typesets the formulas mistune marked, and nothing else on the page
        plotly += (
            "<script>window.MathJax = {startup: {elements: ['.math']}, svg: {fontCache: 'global'}};</script>"
            f'<script src="{assets}/mathjax/tex-svg.js"></script>'
        )
    runner = run_it(page, settings) if page.kind in ("lesson", "exercise") else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(page.title)} · nanoNAS</title>
<link rel="stylesheet" href="{assets}/site.css">
</head><body>
<header class="top"><a class="brand" href="{relative("index.html", page)}">nanoNAS</a>
<input class="search" type="search" placeholder="Search the course" aria-label="Search the course"
 data-index="{assets}/search.js" data-root="{relative(".", page)}">
<div class="results" hidden></div></header>
<div class="layout">
<details class="contents"><summary>Contents</summary><nav>{sidebar(pages, page)}</nav></details>
<main>{runner}{note}{body}{pager}</main>
</div>
{plotly}<script src="{assets}/site.js"></script>
</body></html>
"""


# -- the build -----------------------------------------------------------------------------------------------------
def build(
    out: Path,
    settings: Settings | None = None,
    root: Path = ROOT,
    store: Path | None = None,
    execute: bool = True,
    outputs: bool = True,
) -> list[Page]:
    """Write the site into `out` (built beside it, then put in its place). `outputs=False` renders the sources as
    committed (no outputs): the fast structural tests use it; the site itself is always built with outputs."""
    import nbformat
    import plotly

    settings = settings or Settings()
    store = store or root / "artifacts" / "executed"
    pages = plan(root)
    targets = {p.source: p.out for p in pages if p.kind != "rubric"}
    targets.update({f"docs/images/{f.name}": f"docs/images/{f.name}" for f in (root / "docs" / "images").glob("*")})
    final, out = out, out.with_name(out.name + ".partial")  # the last good site stays until this one is whole
    if out.exists():
        shutil.rmtree(out)
    (out / "assets").mkdir(parents=True)
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve the files as they are
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", out / "assets" / "plotly.min.js")
    (out / "assets" / "mathjax").mkdir()
    for name in (MATHJAX_SVG, "LICENSE"):  # MathJax 3's one-file build with SVG output: no fonts, nothing to fetch
        shutil.copy(mathjax_folder() / name, out / "assets" / "mathjax" / Path(name).name)
    shutil.copytree(root / "docs" / "images", out / "docs" / "images")
    (out / "assets" / "site.css").write_text(CSS + pygments_css())
    (out / "assets" / "site.js").write_text(JS)
    index, failed = [], []
    for page in pages:
        links = Links(page.source, page.out, targets, settings)
        figures, note = [], ""
        path = root / page.source
        if page.kind == "home":
            body = readme_html(path.read_text(), links, page, pages)
        elif page.kind == "doc":
            body = markdown(path.read_text(), links, page)
        elif page.kind == "rubric":
            cells = nbformat.read(path, as_version=4).cells
            lesson = relative(f"notebooks/{path.stem}.html", page)
            body = (
                f"<h1>{html.escape(page.title)}</h1>"
                f'<p class="note">The open part of project <a href="{lesson}#rubric">{path.stem}</a>, '
                "as the project states it, with the rubric a teacher grades it by (10 points).</p>"
                + markdown(cells[rubric_index(cells)].source, links, page)
            )
        else:
            if page.kind == "lesson" and outputs:
                try:
                    nb = executed(path, store, execute)
                except RuntimeError as e:  # go on: every notebook that fails is named at the end, the site not swapped
                    failed.append(str(e))
                    continue
                note = '<p class="note">Every output below is what this notebook computed when the site was built.</p>'
            else:
                nb = nbformat.read(path, as_version=4)
                if page.kind == "exercise":
                    note = (
                        '<p class="note">The tasks as a learner gets them: run the notebook to write your answers and '
                        "check them (<code>q1.check()</code>).</p>"
                    )
            body = notebook_html(nb, page, links, figures)
            copy = nbformat.read(path, as_version=4)  # what Colab and the download get: the source, Colab cell first
            folder = Path(page.source).parent.as_posix()
            cell = nbformat.v4.new_code_cell(colab_cell(settings, folder))
            if copy.nbformat_minor >= 5:
                cell["id"] = "colab-install"  # a fixed id: the same source builds the same file
            else:
                cell.pop("id", None)
            copy.cells.insert(0, cell)
            (out / page.source).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(copy, out / page.source)
        target = out / page.out
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(frame(page, body, pages, settings, bool(figures), note))
        text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<script.*?</script>", " ", body)))
        index.append({"t": page.title, "u": page.out, "x": re.sub(r"\s+", " ", text)[:20000]})
    (out / "assets" / "search.js").write_text("window.SEARCH_INDEX = " + json.dumps(index) + ";\n")
    if failed:
        raise RuntimeError(f"{len(failed)} notebook(s) have no page; {out} holds the rest\n" + "\n".join(failed))
    if final.exists():
        shutil.rmtree(final)
    out.rename(final)
    if settings.repo == PLACEHOLDER_REPO:
        print(f"note: SITE_REPO is the placeholder {PLACEHOLDER_REPO}: set it to your repository for Binder and Colab")
    return pages


def mathjax_folder() -> Path:
    """MathJax 3 as the django-static-mathjax package ships it (the `test` extra installs it; docs/site.md says why)."""
    from importlib.util import find_spec

    spec = find_spec("mathjax")
    folder = Path(spec.origin).parent / "static" / "mathjax" if spec and spec.origin else None
    if folder is None or not (folder / MATHJAX_SVG).exists():
        raise RuntimeError(
            "no MathJax for the pages' formulas: install the test extra (pip install -e '.[test]'), which brings "
            "django-static-mathjax"
        )
    return folder


def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="friendly").get_style_defs("pre code")


# -- the link checker ----------------------------------------------------------------------------------------------
class _Scan(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) and not (tag == "input"):
                self.links.append(attrs[name])


def broken_links(site: Path) -> list[str]:
    """Every internal link or anchor in the site's pages that leads nowhere, as 'page: link (why)'."""
    scans = {}
    for path in site.rglob("*.html"):
        scan = _Scan()
        scan.feed(path.read_text())
        scans[path.resolve()] = scan
    broken = []
    for path, scan in scans.items():
        for link in scan.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "data", "mailto") or parts.netloc:
                continue
            target = (path.parent / parts.path).resolve() if parts.path else path
            where = f"{path.relative_to(site.resolve())}: {link}"
            if not target.exists():
                broken.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in scans[target].ids:
                broken.append(f"{where} (no such anchor)")
    return broken


CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --accent: #0b6bcb; --bg-code: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
a { color: var(--accent); }
header.top { position: sticky; top: 0; z-index: 10; display: flex; gap: 1rem; align-items: center;
  padding: .5rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; color: var(--ink); }
.search { flex: 1; max-width: 22rem; padding: .35rem .6rem; border: 1px solid var(--line); border-radius: 6px; }
.results { position: absolute; top: 100%; right: 1rem; width: min(32rem, calc(100vw - 2rem)); max-height: 70vh;
  overflow: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem;
  box-shadow: 0 6px 18px rgba(0,0,0,.12); }
.results a { display: block; padding: .3rem; }
.results small { display: block; color: var(--muted); }
.layout { display: grid; grid-template-columns: 17rem minmax(0, 1fr); gap: 2rem; max-width: 86rem; margin: 0 auto;
  padding: 0 1rem; }
.contents { position: sticky; top: 3.5rem; align-self: start; max-height: calc(100vh - 4rem); overflow: auto;
  font-size: .9rem; padding: 1rem 0; }
.contents summary { font-weight: 600; cursor: pointer; }
.contents h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
  margin: 1rem 0 .3rem; }
.contents ul { list-style: none; margin: 0; padding-left: .2rem; }
.contents ul ul { padding-left: .9rem; border-left: 2px solid var(--line); margin: .2rem 0 .4rem; }
.contents a { text-decoration: none; display: block; padding: .1rem 0; }
.contents a.current { font-weight: 700; color: var(--ink); }
main { min-width: 0; padding: 1rem 0 3rem; }
h1, h2, h3 { line-height: 1.25; }
.anchor { margin-left: .4rem; text-decoration: none; color: var(--line); font-size: .8em; }
h1:hover .anchor, h2:hover .anchor, h3:hover .anchor { color: var(--muted); }
table { border-collapse: collapse; display: block; overflow-x: auto; margin: 1rem 0; font-size: .92rem; }
th, td { border: 1px solid var(--line); padding: .3rem .6rem; vertical-align: top; }
th { background: var(--bg-code); }
pre { background: var(--bg-code); padding: .7rem .9rem; overflow-x: auto; border-radius: 6px; font-size: .85rem;
  line-height: 1.45; margin: .4rem 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
img { max-width: 100%; height: auto; }
.cell { margin: .8rem 0; }
.cell.code .input { display: flex; gap: .5rem; align-items: flex-start; }
.cell.code .input pre { flex: 1; min-width: 0; border-left: 3px solid #9ec5f4; }
.prompt { color: var(--muted); font: .75rem ui-monospace, monospace; padding-top: .8rem; min-width: 2.6rem;
  text-align: right; }
.outputs { margin-left: 3.1rem; }
pre.out { background: #fff; border: 1px solid var(--line); }
pre.out.stderr { background: #fff5f5; }
pre.out.error { background: #ffecec; }
.out.html { overflow-x: auto; }
.plotly-figure { width: 100%; min-height: 300px; }
.widget-note { border: 1px dashed var(--muted); border-radius: 6px; padding: .3rem .8rem; color: var(--muted);
  font-size: .9rem; }
.note { color: var(--muted); font-size: .9rem; border-left: 3px solid var(--line); padding-left: .7rem; }
div.math { overflow-x: auto; }
.widget-snapshot { border-left: 3px solid var(--line); padding-left: .7rem; margin: .4rem 0; }
.widget-line { color: var(--muted); font-size: .9rem; margin: .2rem 0 .5rem; }
.w-column { display: flex; flex-direction: column; gap: .3rem; }
.w-row { display: flex; flex-wrap: wrap; gap: .3rem 1rem; align-items: center; }
.w-row > .plotly-figure { flex: 1 1 20rem; min-width: 0; width: auto; }
.w-control { font-size: .9rem; }
.w-html { min-width: 0; overflow-wrap: anywhere; }  /* tqdm's counts are joined by figure spaces, which never break */
.run-it { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; padding: .6rem 0;
  border-bottom: 1px solid var(--line); }
.run-it .button { padding: .25rem .7rem; border: 1px solid var(--accent); border-radius: 6px; text-decoration: none;
  font-size: .9rem; }
.run-it details { flex-basis: 100%; min-width: 0; font-size: .9rem; }
main p, main li, main td, main th, main h1, main h2, main h3 { overflow-wrap: anywhere; }
.pager { display: flex; justify-content: space-between; gap: 1rem; margin-top: 3rem; padding-top: 1rem;
  border-top: 1px solid var(--line); }
.pager .next { margin-left: auto; text-align: right; }
@media (max-width: 900px) {
  .layout { display: block; }
  .contents { position: static; max-height: none; padding: .5rem 0; border-bottom: 1px solid var(--line); }
  .outputs { margin-left: 0; }
  .prompt { display: none; }
  body { font-size: 15px; }
}
"""

JS = """
// Open the contents on wide screens; draw each plotly figure from the JSON the notebook produced; search on demand.
(function () {
  var contents = document.querySelector('.contents');
  if (contents && window.matchMedia('(min-width: 901px)').matches) contents.open = true;
  document.querySelectorAll('.plotly-figure').forEach(function (div) {
    var figure = JSON.parse(div.nextElementSibling.textContent);
    var layout = figure.layout || {};
    delete layout.width;  // the page's width decides; the notebook's height stays
    layout.autosize = true;
    Plotly.newPlot(div, figure.data || [], layout, {responsive: true, displaylogo: false});
  });
  var box = document.querySelector('.search'), results = document.querySelector('.results');
  if (!box) return;
  function show() {
    var q = box.value.trim().toLowerCase();
    if (q.length < 2 || !window.SEARCH_INDEX) { results.hidden = true; return; }
    var hits = window.SEARCH_INDEX.filter(function (p) {
      return p.t.toLowerCase().indexOf(q) >= 0 || p.x.toLowerCase().indexOf(q) >= 0;
    }).slice(0, 12);
    results.textContent = '';
    hits.forEach(function (p) {
      var a = document.createElement('a'), i = p.x.toLowerCase().indexOf(q), s = document.createElement('small');
      a.href = box.dataset.root + '/' + p.u;
      a.textContent = p.t;
      s.textContent = i >= 0 ? '… ' + p.x.slice(Math.max(0, i - 60), i + 90) + ' …' : '';
      a.appendChild(s);
      results.appendChild(a);
    });
    if (!hits.length) results.textContent = 'Nothing found.';
    results.hidden = false;
  }
  box.addEventListener('focus', function () {
    if (window.SEARCH_INDEX || document.getElementById('search-index')) return;
    var script = document.createElement('script');
    script.id = 'search-index';
    script.src = box.dataset.index;
    script.onload = show;
    document.head.appendChild(script);
  });
  box.addEventListener('input', show);
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') results.hidden = true; });
})();
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.site", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="the site's folder (emptied first)")
    parser.add_argument("--repo", default=PLACEHOLDER_REPO, help="the course's public GitHub repository")
    parser.add_argument("--branch", default="main", help="its branch with the course")
    parser.add_argument("--pages-branch", default="gh-pages", help="the branch the site is published to")
    parser.add_argument("--executed", type=Path, default=ROOT / "artifacts" / "executed", help="executed copies")
    parser.add_argument("--no-execute", action="store_true", help="refuse instead of executing a notebook")
    args = parser.parse_args(argv)
    try:
        settings = Settings(args.repo, args.branch, args.pages_branch)
        pages = build(args.out, settings, store=args.executed, execute=not args.no_execute)
    except (ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    broken = broken_links(args.out)
    for line in broken:
        print(f"broken link: {line}", file=sys.stderr)
    print(f"{len(pages)} pages in {args.out}/ (open {args.out}/index.html)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
