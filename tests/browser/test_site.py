"""The course's website (`make site`) in Debian's Chromium: every page loads without a console error, every plotly
figure draws, one answers a hover, the dashboards show their final state, the formulas are typeset, the search finds
a page, every internal link and anchor resolves, pages fit a 390 px phone without sideways scrolling, and none is
heavier than 5 MB.

    make site && make test-site       # NANONAS_SITE=site .venv/bin/python -m pytest tests/browser/test_site.py

Without NANONAS_SITE (as in `make test`, which runs before the site is built) these tests skip. Screenshots of every
page at 1280 px, and of a few at 390 px, go to artifacts/browser/site/ (~1-2 min on 2 cores).
"""

import gzip
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from course.site import broken_links
from tests.browser.lab import ARTIFACTS, chromium, missing

SITE = Path(os.environ["NANONAS_SITE"]).resolve() if os.environ.get("NANONAS_SITE") else None
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(missing() is not None, reason=str(missing())),
    pytest.mark.skipif(SITE is None, reason="the website's checks run after `make site`, in `make test-site`"),
]
SHOTS = ARTIFACTS / "site"
LIMIT = 5_000_000  # bytes a page may weigh
PHONE_SHOTS = ("index.html", "notebooks/04_darts.html", "notebooks/05_pareto_tradeoffs.html", "rubrics/")
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
MARKS = ".trace, .point, .hm, .heatmaplayer image, path.js-line"  # what plotly draws data as
FIGURES_DRAWN = f"""() => [...document.querySelectorAll('.plotly-figure')].map(div => {{
    const svg = div.querySelector('svg.main-svg'), box = svg && svg.getBoundingClientRect();
    return {{id: div.id, drawn: !!svg && box.width > 0 && box.height > 0,
            marks: div.querySelectorAll('{MARKS}').length}};
}})"""


def pages() -> list[Path]:
    return sorted(SITE.rglob("*.html")) if SITE else []


def test_the_site_exists_with_every_notebook():
    assert (SITE / "index.html").exists(), f"no site in {SITE}: run `make site`"
    root = Path(__file__).resolve().parents[2]
    for name in sorted(p.stem for p in (root / "notebooks").glob("[0-9][0-9]*.ipynb")):
        assert (SITE / "notebooks" / f"{name}.html").exists(), f"{name} has no page"
    assert not (SITE / "solutions").exists() and not list(SITE.rglob("*solution*")), "solutions are never published"


def test_every_internal_link_and_anchor_resolves():
    broken = broken_links(SITE)
    assert not broken, "links that lead nowhere:\n" + "\n".join(broken[:40])


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.files = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        url = attrs.get("src") if tag in ("script", "img") else attrs.get("href") if tag == "link" else None
        if url and not urlsplit(url).scheme:
            self.files.append(url)


@pytest.mark.parametrize("compressed", [False, True], ids=["page alone", "first visit gzipped"])
def test_no_page_is_heavier_than_5_mb(compressed):
    """A page alone (its HTML with its inline figures and images) weighs at most 5 MB; so does a first visit to it with
    every file it loads (plotly.js, 4.8 MB, is one of them) as a static host sends them, gzipped."""
    weights = {}
    for path in pages():
        if compressed:
            scan = _Resources()
            scan.feed(path.read_text())
            files = [path] + [(path.parent / urlsplit(u).path).resolve() for u in scan.files]
            weights[path] = sum(len(gzip.compress(f.read_bytes(), 6)) for f in files)
        else:
            weights[path] = path.stat().st_size
    heaviest = max(weights, key=weights.get)
    print(
        f"heaviest ({'gzipped, with its files' if compressed else 'alone'}): {heaviest.relative_to(SITE)} "
        f"{weights[heaviest] / 1e6:.2f} MB"
    )
    assert weights[heaviest] <= LIMIT, f"{heaviest.relative_to(SITE)} weighs {weights[heaviest] / 1e6:.1f} MB"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile"), width=1280, height=900) as page:
        page.set_default_timeout(60_000)
        yield page


def test_every_page_loads_cleanly_and_every_figure_draws(browser):
    """Every page at 1280 px: no console error, no uncaught exception, each plotly figure an SVG with marks in it; then
    the same page at 390 px must not scroll sideways."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    SHOTS.mkdir(parents=True, exist_ok=True)
    problems, figures = [], 0
    errors: list[str] = []
    browser.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    browser.on("pageerror", lambda e: errors.append(f"exception: {e}"))
    for path in pages():
        name = str(path.relative_to(SITE))
        errors.clear()
        browser.set_viewport_size({"width": 1280, "height": 900})
        browser.goto(path.as_uri(), wait_until="load")
        drawn = browser.evaluate(FIGURES_DRAWN)
        figures += len(drawn)
        problems += [f"{name}: {e}" for e in errors]
        problems += [f"{name}: figure {d['id']} is not drawn ({d})" for d in drawn if not d["drawn"] or not d["marks"]]
        browser.screenshot(path=str(SHOTS / (re.sub(r"\W", "_", name) + "-1280.png")))
        browser.set_viewport_size({"width": 390, "height": 844})
        try:  # plotly's responsive redraw takes a moment on a busy machine
            browser.wait_for_function(FITS, timeout=10_000)
        except PlaywrightTimeout:
            overflow = browser.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            problems.append(f"{name}: scrolls sideways by {overflow} px at 390 px")
        if name.startswith(PHONE_SHOTS):
            browser.reload(wait_until="load")  # as a phone opens it: the contents folded
            browser.screenshot(path=str(SHOTS / (re.sub(r"\W", "_", name) + "-390.png")), full_page=False)
    print(f"{len(pages())} pages, {figures} plotly figures")
    assert figures > 0, "no plotly figure on any page: were the notebooks executed?"
    assert not problems, "\n".join(problems[:40])


def test_a_figure_answers_a_hover(browser):
    """Move the mouse over the first figure of lesson 05 until plotly shows a hover label."""
    browser.set_viewport_size({"width": 1280, "height": 900})
    browser.goto((SITE / "notebooks" / "05_pareto_tradeoffs.html").as_uri(), wait_until="load")
    plot = browser.locator(".plotly-figure .nsewdrag").first
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    for fx in [i / 24 for i in range(1, 24)]:
        for fy in [i / 12 for i in range(1, 12)]:
            browser.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            if browser.locator(".plotly-figure .hoverlayer .hovertext").count():
                text = browser.locator(".plotly-figure .hoverlayer .hovertext").first.text_content()
                assert text.strip(), "an empty hover label"
                return
    pytest.fail("no hover label anywhere over the first figure of lesson 05")


def test_the_search_finds_a_lesson(browser):
    browser.set_viewport_size({"width": 1280, "height": 900})
    browser.goto((SITE / "index.html").as_uri(), wait_until="load")
    browser.fill(".search", "bilevel")
    browser.wait_for_selector(".results a")
    hits = browser.locator(".results a").all_inner_texts()
    assert any("DARTS" in h for h in hits), hits
    browser.locator(".results a").first.click()
    browser.wait_for_load_state("load")
    assert "bilevel" in browser.inner_text("main").lower()


SNAPSHOT = """() => ({
    line: (document.querySelector('.widget-snapshot .widget-line') || {}).textContent || '',
    text: [...document.querySelectorAll('.widget-snapshot .w-html, .widget-snapshot .w-control')]
        .map(e => e.textContent),
    figures: [...document.querySelectorAll('.widget-snapshot .plotly-figure')].map(div => ({
        drawn: div.querySelectorAll('MARKS').length > 0,
        traces: (div.data || []).map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])})),
    })),
})""".replace("MARKS", MARKS)


def snapshot_on(browser, page: str) -> dict:
    browser.set_viewport_size({"width": 1280, "height": 900})
    browser.goto((SITE / "notebooks" / page).as_uri(), wait_until="load")
    shown = browser.evaluate(SNAPSHOT)
    assert "live widget" in shown["line"] and "JupyterLab" in shown["line"], "the line saying the widget is live"
    assert shown["figures"] and all(f["drawn"] for f in shown["figures"]), f"{page}: the dashboard's figures not drawn"
    return shown


def test_the_search_dashboard_shows_its_final_search(browser):
    """Lesson 03's dashboard as the notebook left it: the figure plotly drew holds every evaluation of the search the
    status line counts, and its best-so-far line is the running maximum of those evaluations."""
    shown = snapshot_on(browser, "03_evolution.html")
    status = next(t for t in shown["text"] if re.search(r"\d+ evaluations", t))
    count = int(re.search(r"(\d+) evaluations", status).group(1))
    assert status.startswith("finished") and count > 0, status
    each, best = (
        next(t for t in shown["figures"][0]["traces"] if t["name"] == n) for n in ("each evaluation", "best so far")
    )
    assert len(each["y"]) == count and each["x"] == list(range(1, count + 1))
    assert best["y"] == [max(each["y"][: i + 1]) for i in range(count)]


def test_the_pareto_explorer_shows_its_final_budget(browser):
    """Lesson 05's explorer as the notebook left it: the latency slider's value splits the drawn points, and as many are
    within budget as its pick says."""
    shown = snapshot_on(browser, "05_pareto_tradeoffs.html")
    budget = float(next(t for t in shown["text"] if t.startswith("latency budget")).split()[-1])
    traces = {t["name"]: t for t in shown["figures"][0]["traces"]}
    inside, over = traces["within budget"]["x"], traces["over the latency budget"]["x"]
    assert inside and over and max(inside) <= budget < min(over), (budget, max(inside), min(over))
    pick = next(t for t in shown["text"] if t.startswith("Best under"))
    assert f"({len(inside)} of " in pick, pick


def test_the_formulas_are_typeset(browser):
    """Lesson 04's LaTeX is drawn by the site's own MathJax (assets/mathjax/): every formula an SVG, no source left."""
    browser.set_viewport_size({"width": 1280, "height": 900})
    browser.goto((SITE / "notebooks" / "04_darts.html").as_uri(), wait_until="load")
    browser.wait_for_function("() => document.querySelectorAll('.math mjx-container svg').length > 0")
    math = browser.evaluate("""() => [...document.querySelectorAll('.math')].map(e => ({
        typeset: !!e.querySelector('mjx-container svg'), width: e.getBoundingClientRect().width}))""")
    assert math and all(m["typeset"] and m["width"] > 0 for m in math), math
    prose = browser.evaluate("() => [...document.querySelectorAll('.cell.markdown')].map(e => e.innerText).join(' ')")
    assert "\\(" not in prose and "$" not in prose and "\\min" not in prose, "LaTeX source left on the page"
