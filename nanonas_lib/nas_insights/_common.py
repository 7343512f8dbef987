"""What every insight shares: the palette (nanonas.palette), NanoBench, searches in any form, saving figures."""

import importlib.util
import textwrap
from pathlib import Path

from nanonas import OPERATIONS, SearchResult, check_dna, decode, nano_nas
from nanonas.bench import NanoBench
from nanonas.palette import CONTINUOUS, op_color, short, strategy_color  # noqa: F401  (one palette, shared)


def load_bench(bench=None):
    """NanoBench: the shipped table (None), one built into a folder (a path), or a benchmark object as it is."""
    if bench is None:
        return NanoBench.load()
    if isinstance(bench, (str, Path)):
        return NanoBench.load(bench)
    if all(hasattr(bench, name) for name in ("query", "best", "pareto_front", "__iter__", "__len__")):
        return bench
    raise ValueError(
        f"bench must be None (the shipped NanoBench), a folder holding a NanoBench table, or a NanoBench object; "
        f"got {type(bench).__name__}"
    )


def table_ops(bench) -> list[str]:
    """The names of a table's ops, in the order its DNAs count them: its recipe's (else today's OPERATIONS)."""
    recipe = (getattr(bench, "meta", None) or {}).get("recipe", {})
    return list(recipe.get("ops") or OPERATIONS)


def check_space(bench) -> int:
    """The number of positions of `bench`, after checking that it holds every architecture of its space."""
    positions, n = getattr(bench, "positions", 4), len(table_ops(bench))
    if len(bench) != n**positions:
        raise ValueError(
            f"this NanoBench holds {len(bench)} of the {n**positions} architectures; the insights "
            f"compare against the whole space: finish it with `nanonas bench build`"
        )
    return positions


def as_history(history, name: str = "history") -> SearchResult:
    """A plain history [{"dna": [...], "fitness": float}, ...] as a SearchResult (no populations, no lineage)."""
    if not isinstance(history, (list, tuple)) or not history:
        raise ValueError(f"a {name} is a non-empty list of {{'dna': [...], 'fitness': float}}; got {history!r:.80}")
    clean = []
    for i, h in enumerate(history):
        if not isinstance(h, dict) or "dna" not in h or not isinstance(h.get("fitness"), (int, float)):
            raise ValueError(f"entry {i} of the {name} is not {{'dna': [...], 'fitness': float}}; got {h!r:.80}")
        clean.append({"dna": check_dna(h["dna"]), "fitness": float(h["fitness"])})
    best = max(clean, key=lambda h: h["fitness"])  # the first of equals, as nano_nas picks
    return SearchResult(name, best["dna"], decode(best["dna"]), best["fitness"], None, clean, 0.0, 0.0, 0, {})


def as_result(search) -> SearchResult:
    """Any form a search comes in, as a SearchResult: a SearchResult, a model from nano_nas (its `.search`),
    a path to a saved result (`result.save(path)`), a result's dict, or a history list."""
    if isinstance(search, SearchResult):
        return search
    if isinstance(getattr(search, "search", None), SearchResult):
        return search.search
    if isinstance(search, (str, Path)):
        return SearchResult.load(search)
    if isinstance(search, dict) and "history" in search:
        try:
            return SearchResult(**search)
        except TypeError as e:
            raise ValueError(f"this dict is not a saved nanonas search result ({e})") from e
    if isinstance(search, (list, tuple)):
        return as_history(search)
    raise ValueError(
        "a search is a SearchResult, a model returned by nano_nas, a path to a saved result, or a history "
        f"[{{'dna': [...], 'fitness': float}}, ...]; got {type(search).__name__}"
    )


def run_search(strategy: str, bench, seed: int = 0, **options) -> SearchResult:
    """Run a real search with NanoBench as its evaluator (lookups: instant; DARTS still trains its supernet)."""
    return nano_nas(strategy, seed=seed, evaluator=bench, progress=False, **options).search


def subtitle(title: str, sub: str, width: int = 110) -> dict:
    """A layout title with smaller lines under it: what to look for, then what the data says.

    Plotly never wraps a title, so the smaller lines are broken at most `width` characters: a figure in a
    notebook at a laptop's width (about 800 px) shows all of it instead of clipping it."""
    lines = textwrap.wrap(sub, width)
    small = "".join(f"<br><span style='font-size:12px'>{line}</span>" for line in lines)  # under the title
    return {"text": title + small, "x": 0.01, "xanchor": "left", "yref": "container", "y": 0.99, "yanchor": "top"}


IMAGE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".webp")


def save_figure(fig, path) -> Path:
    """Write a figure: .html works everywhere (plotly.js embedded: opens offline); images need kaleido."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".html":
        fig.write_html(path, include_plotlyjs=True)
        return path
    if suffix not in IMAGE_SUFFIXES:
        raise ValueError(f"cannot save {path.name}: use .html, or an image type ({', '.join(IMAGE_SUFFIXES)})")
    if importlib.util.find_spec("kaleido") is None:
        raise RuntimeError(
            f"saving {path.name} as an image needs kaleido and a Chromium: `pip install kaleido`, then "
            f"`plotly_get_chrome`; or save as .html, which needs nothing more"
        )
    try:
        fig.write_image(path)
    except Exception as e:  # kaleido without a Chromium, or a broken one
        raise RuntimeError(
            f"kaleido could not write {path.name} ({e}); it needs a Chromium: run `plotly_get_chrome`, "
            f"or save as .html instead"
        ) from e
    return path
