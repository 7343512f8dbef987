"""The SearchDashboard in a real browser: JupyterLab and headless Chromium; Start draws the search, Stop stops it.

Runs in ~30-60 s on 2 cores (starting JupyterLab, Chromium and a kernel that imports torch is most of it).
`pytest -m browser` runs just these; the screenshot of the last run is in artifacts/browser/.
"""

import re
import time

import pytest

from tests.browser.lab import ARTIFACTS, chromium, jupyter_lab, missing, open_and_run, page_errors, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.skipif(missing() is not None, reason=str(missing()))]

CELLS = [
    "import torch\ntorch.set_num_threads(1)  # the tests share two cores\nfrom nanonas.widgets import SearchDashboard",
    "dashboard = SearchDashboard(generations=100, pace=0.3)  # 247 new architectures: 75 s unless stopped\ndashboard",
]
BEST_SO_FAR_POINTS = """() => {
    for (const plot of document.querySelectorAll('.js-plotly-plot'))
        for (const trace of plot.data || [])
            if (trace.name === 'best so far' && trace.x) return trace.x.length;
    return 0;
}"""

TRACES = "() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => (plot.data || []).length)"


@pytest.fixture
def lab(tmp_path):
    folder = tmp_path / "lab"
    folder.mkdir()
    write_notebook(folder / "dashboard.ipynb", CELLS)
    with jupyter_lab(folder, ARTIFACTS / "jupyter.log") as lab:
        yield lab


@pytest.fixture
def page(tmp_path):
    with chromium(tmp_path / "chromium-profile") as page:
        yield page


def evaluations(page) -> int:
    found = re.search(r"(\d+) evaluations?", page.inner_text(".nanonas-status"))
    return int(found.group(1)) if found else 0


def test_start_draws_and_stop_stops_in_jupyterlab(lab, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        open_and_run(page, lab, "dashboard.ipynb")
        page.wait_for_selector(".nanonas-start:not([disabled])", timeout=120_000)  # torch + NanoBench imported
        assert "ready" in page.inner_text(".nanonas-status")

        page.click(".nanonas-start")
        page.wait_for_function(f"({BEST_SO_FAR_POINTS})() > 3", timeout=60_000)
        assert "running" in page.inner_text(".nanonas-status")

        page.click(".nanonas-stop")
        asked = time.monotonic()
        page.wait_for_function(
            "() => document.querySelector('.nanonas-status').innerText.includes('stopped')", timeout=10_000
        )
        print(f"Stop took {time.monotonic() - asked:.2f} s to show in the browser")
        stopped_at = evaluations(page)
        time.sleep(2)  # the search thread would have made ~6 more lookups by now
        assert evaluations(page) == stopped_at > 0
        assert page.evaluate(BEST_SO_FAR_POINTS) == stopped_at < 1000
        assert page.is_enabled(".nanonas-start") and not page.is_enabled(".nanonas-stop")
        assert page_errors(page) == []
        assert page.evaluate(TRACES) == [3, 1, 5]  # no figure lost to plotly's empty default (live.keep_drawn)
        page.screenshot(path=str(ARTIFACTS / "search_dashboard_page.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
        raise
