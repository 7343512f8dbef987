"""Strategies beyond the core three, one per file; importing this package registers each of them.

To add one: write `strategies/my_search.py` with an `@strategy("my_search")` function, and import it below.
"""

from . import bananas, nsga2, progressive, proxy_evolution, regularized_evolution  # noqa: F401  (each registers one)
