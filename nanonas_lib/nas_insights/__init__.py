"""nas_insights: views of real searches, drawn against NanoBench's exact ground truth.

    from nas_insights import ArchitectureDNA, SearchLandscape, ParetoAnalyzer, explore_nas_concepts
    ArchitectureDNA().visualize_dna_evolution()      # watch evolution in action
    SearchLandscape().visualize_search_paths()       # see the fitness landscape
    ParetoAnalyzer().simulate_pareto_evolution()     # visualize trade-offs
    explore_nas_concepts()                           # guided tour

Each runs a seeded search on NanoBench (instant lookups) unless you pass one of your own (a SearchResult, the
model nano_nas returns, a saved result's path, or a history), and returns a plotly figure: a notebook shows it;
`.save("view.html")` (or `fig.write_html`) keeps it, opening offline.
"""

from .dna import ArchitectureDNA
from .landscape import SearchLandscape
from .pareto import ParetoAnalyzer
from .tour import explore_nas_concepts

__all__ = ["ArchitectureDNA", "SearchLandscape", "ParetoAnalyzer", "explore_nas_concepts"]
