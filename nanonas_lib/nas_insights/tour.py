"""explore_nas_concepts: a guided tour of the three insights, as tabs in a notebook or an HTML report elsewhere."""

import html
from pathlib import Path

from ._common import load_bench
from .dna import ArchitectureDNA
from .landscape import SearchLandscape
from .pareto import ParetoAnalyzer


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where widgets can show), False in a terminal, a script or a test."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def chapters(bench=None, seed: int = 0) -> list[tuple[str, str, object]]:
    """The tour's stops: (title, two or three sentences, figure), each drawn from a real search on NanoBench."""
    bench = load_bench(bench)
    dna, landscape = ArchitectureDNA(bench=bench, seed=seed), SearchLandscape(bench=bench, seed=seed)
    pareto = ParetoAnalyzer(bench=bench, seed=seed)
    return [
        (
            "Architecture DNA",
            "Evolution keeps a population of DNAs and breeds from the fittest, so each position's gene pool narrows "
            "onto the ops that win. Diversity (how many positions two members differ in) falls as it does: fast "
            "convergence exploits what works, too fast stops exploring. The lineage shows the mutations that built "
            "the best DNA.",
            dna.visualize_dna_evolution(),
        ),
        (
            "Search landscape",
            "Every architecture of the space, trained and placed so that one mutation is one step along a row or "
            "a column; the paths are where each search's best-so-far went. " + landscape.explain(),
            landscape.visualize_search_paths(),
        ),
        (
            "Pareto trade-offs",
            "Accuracy is not the only goal: a phone cares about latency. NSGA-II keeps the architectures no other "
            "one beats on both at once; its fronts move towards the exact front, computed from all of NanoBench, "
            "and the hypervolume measures how much of it they cover.",
            pareto.simulate_pareto_evolution(),
        ),
    ]


def explore_nas_concepts(path=None, *, bench=None, seed: int = 0):
    """A guided tour of evolution's gene pool, the search landscape and Pareto trade-offs, from real searches.

    In a notebook (with no `path`) it returns tabs (an `ipywidgets.Tab`), each a figure and a few sentences.
    Elsewhere, or given `path`, it writes a self-contained HTML report (plotly.js embedded once: opens offline),
    prints where, and returns its path (default: nas_insights_tour.html in the working directory).
    """
    if path is not None and Path(path).suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the tour is an HTML report: give a path ending in .html; got {str(path)!r}")
    stops = chapters(bench, seed)
    if path is None and in_notebook():
        import ipywidgets as widgets
        import plotly.graph_objects as go

        # a figure in a hidden tab cannot measure its container and would fall back to plotly's 700 px, where the
        # subplot titles collide: give each the width it was laid out for (as wide as the dashboards)
        pages = [
            widgets.VBox([widgets.HTML(f"<p>{html.escape(text)}</p>"), go.FigureWidget(fig.update_layout(width=980))])
            for _, text, fig in stops
        ]
        return widgets.Tab(children=pages, titles=[title for title, _, _ in stops]).add_class("nanonas-tour")
    path = Path(path or "nas_insights_tour.html")
    sections, toc = [], []
    for i, (title, text, fig) in enumerate(stops):
        anchor = title.lower().replace(" ", "-")
        toc.append(f'<li><a href="#{anchor}">{html.escape(title)}</a></li>')
        figure = fig.to_html(full_html=False, include_plotlyjs=i == 0)  # plotly.js once, inline: works offline
        sections.append(
            f'<section id="{anchor}"><h2>{html.escape(title)}</h2><p>{html.escape(text)}</p>{figure}</section>'
        )
    path.write_text(
        "<!doctype html>\n<html><head><meta charset='utf-8'><title>nanoNAS insights: a guided tour</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:1300px;margin:auto;padding:1em}"
        "p{max-width:75ch;line-height:1.5}</style></head><body>"
        "<h1>nanoNAS insights: a guided tour</h1><p>Every figure is a search that really ran, scored against "
        f"NanoBench, the exhaustively trained table of all architectures (seed {seed}).</p><ol>{''.join(toc)}</ol>"
        f"{''.join(sections)}</body></html>\n",
        encoding="utf-8",
    )
    print(f"wrote the nanoNAS tour to {path.resolve()}; open it in a browser")
    return path
