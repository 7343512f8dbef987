"""Live widgets for JupyterLab: drive a search with controls and watch it as it runs.

from nanonas.widgets import SearchDashboard, DartsDashboard, ParetoExplorer
SearchDashboard()            # in a cell: pick a strategy, press Start
SearchDashboard().run()      # headless (nbval, scripts): the same search, blocking, no clicks
"""

from .darts_dashboard import DartsDashboard
from .live import LiveSearch, StopSearch
from .pareto_explorer import ParetoExplorer
from .search_dashboard import DartsEpoch, SearchDashboard

__all__ = ["SearchDashboard", "DartsDashboard", "ParetoExplorer", "LiveSearch", "StopSearch", "DartsEpoch"]
