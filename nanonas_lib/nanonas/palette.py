"""The course's colours, defined once: every figure, widget and insight takes them from here when it is drawn.

Okabe & Ito (2008): eight colours that stay distinct under every common colour-vision deficiency. Op colours are
derived from the *current* `OPERATIONS` each time a figure is drawn, so an op added in a lesson gets a colour.
"""

from .core import OPERATIONS

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
EXTRA = ["#999933", "#882255", "#44AA99", "#AA4499", "#117733", "#332288"]  # Paul Tol's: for a 7th op and beyond
GREY, LIGHT_GREY, BLACK, WHITE = "#999999", "#BBBBBB", "#000000", "#FFFFFF"
CONTINUOUS = "Viridis"  # perceptually uniform and colour-blind safe, for every continuous scale
STATE_COLORS = {"running": OKABE_ITO[0], "finished": OKABE_ITO[2], "stopped": OKABE_ITO[1], "error": OKABE_ITO[5]}
SHORT = {"conv3x3": "c3", "conv5x5": "c5", "maxpool": "mp", "skip": "sk", "zero": "0"}  # tick labels on grids


def colors(n: int) -> list[str]:
    """n distinct colours: Okabe & Ito's first, then Tol's, then round again."""
    # Okabe & Ito's yellow is a fill colour: as a line or a marker on white it is too pale to read, so it comes late;
    # black last: it reads as "text", not as a category
    every = OKABE_ITO[:6] + EXTRA + OKABE_ITO[6:]
    return [every[i % len(every)] for i in range(n)]


def op_colors() -> dict[str, str]:
    """{op name: colour} for the ops of the space as it is now."""
    return dict(zip(OPERATIONS, colors(len(OPERATIONS))))


def op_color(op: str) -> str:
    return op_colors()[op] if op in OPERATIONS else GREY


def strategy_color(name: str, i: int = 0) -> str:
    """One colour per registered strategy, in the order they were registered (else the i-th colour)."""
    from .registry import STRATEGIES

    names = list(STRATEGIES)
    return colors(len(names))[names.index(name)] if name in names else colors(i + 1)[i]


def short(op: str) -> str:
    """A two-letter label for grids: c3, c5, mp, sk, 0; an added op gets its first letters."""
    return SHORT.get(op, op[:3])
