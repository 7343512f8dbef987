"""Screenshots of the three dashboards and of each tab of the guided tour for the README, taken in JupyterLab in
headless Chromium (1500 px wide).

    .venv/bin/python -m tests.browser.screenshots          # writes docs/images/{search,darts}_dashboard.png,
                                                           # docs/images/pareto_explorer.png and
                                                           # docs/images/tour_{1,2,3}.png (~2 min on 2 cores)
Each dashboard runs headless first (`run()`), so the pictures show a finished search with real data.
"""

import sys
import tempfile
from pathlib import Path

from tests.browser.lab import ARTIFACTS, ROOT, chromium, jupyter_lab, missing, open_and_run, page_errors, write_notebook

IMAGES = ROOT / "docs" / "images"
CELLS = [
    "import torch\ntorch.set_num_threads(1)\n"
    "from nanonas.widgets import DartsDashboard, ParetoExplorer, SearchDashboard",
    "search = SearchDashboard(generations=15, seed=1)\nsearch.run()\nsearch",
    "darts = DartsDashboard(epochs=8)\ndarts.run()\ndarts",
    "explorer = ParetoExplorer()\nexplorer.set_budget(latency_ms=0.2, params=8_000)\nexplorer",
    "from nas_insights import explore_nas_concepts\nexplore_nas_concepts()",
]
TOUR = ["Architecture DNA", "Search landscape", "Pareto trade-offs"]  # the tabs, in order
SHOTS = {  # widget class -> image, and how many plotly figures it holds
    "nanonas-search-dashboard": ("search_dashboard.png", 3),
    "nanonas-darts-dashboard": ("darts_dashboard.png", 2),
    "nanonas-pareto-explorer": ("pareto_explorer.png", 1),
}


def main() -> int:
    if why := missing():
        print(f"cannot take screenshots: {why}", file=sys.stderr)
        return 1
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "lab"
        folder.mkdir()
        write_notebook(folder / "screenshots.ipynb", CELLS)
        log, profile = ARTIFACTS / "jupyter-screenshots.log", Path(tmp) / "profile"
        with jupyter_lab(folder, log) as lab, chromium(profile, width=1500, height=1800) as page:
            page.set_default_timeout(120_000)  # a shared 2-core machine can take a while to settle a widget
            try:
                shoot(page, lab)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "screenshots-failure.png"), full_page=True)
                raise
    return 0


def shoot(page, lab):
    """Run the notebook, then photograph each dashboard and each tab of the tour."""
    open_and_run(page, lab, "screenshots.ipynb")
    for css, (name, figures) in SHOTS.items():
        widget = page.locator(f".{css}")
        widget.wait_for(timeout=180_000)
        widget.scroll_into_view_if_needed()
        page.wait_for_function(  # every figure drawn, with its data
            f"() => [...document.querySelectorAll('.{css} .js-plotly-plot')]"
            f".filter(p => (p.data || []).length).length >= {figures}",
            timeout=240_000,
        )
        page.wait_for_timeout(1000)  # let plotly finish its transitions
        widget.screenshot(path=str(IMAGES / name))
        print(f"wrote {(IMAGES / name).relative_to(ROOT)}")
    tour = page.locator(".nanonas-tour")
    tour.wait_for(timeout=300_000)
    for i, title in enumerate(TOUR, start=1):
        tour.locator(".lm-TabBar-tab", has_text=title).click()
        page.wait_for_function(  # the tab's figure drawn, with its data
            "() => [...document.querySelectorAll('.nanonas-tour .js-plotly-plot')]"
            ".filter(p => p.offsetParent && (p.data || []).length).length >= 1",
            timeout=240_000,
        )
        page.wait_for_timeout(1500)
        tour.scroll_into_view_if_needed()
        tour.screenshot(path=str(IMAGES / f"tour_{i}.png"))
        print(f"wrote docs/images/tour_{i}.png ({title})")
    if errors := page_errors(page):
        raise RuntimeError("the page shows errors:\n" + "\n".join(errors))


if __name__ == "__main__":
    sys.exit(main())
