"""Many objectives at once: dominance, Pareto fronts, hypervolume, and NSGA-II's ranking (Deb et al., 2002).

NSGA-II itself is a strategy (strategies/nsga2.py): `nano_nas('nsga2', objectives=('val_accuracy', 'params'))`.

Every objective here is *maximised*; to minimise latency, maximise its negative. A point dominates another
when it is at least as good on every objective and strictly better on one.

Ties are ties: two values closer than `TIE` count as equal. NanoBench stores each seed's accuracy rounded to 6
decimals, so two networks with the same number of correct images can get means up to 1e-6 apart; one image is
worth far more (1 / 359 / 3 = 9e-4 on digits' validation set, 2e-4 on digits_variations'). Without this, the
"exact" front keeps a slower twin whose accuracy is higher by rounding alone. The same tie holds on every
objective: 1e-5 ms of latency (10 ns) or 1e-5 MB of memory is below what a measurement can tell apart.
"""

import numpy as np

TIE = 1e-5  # differences smaller than this are rounding, not accuracy: well below one image of any table's split


def dominates(a, b, tie: float = TIE) -> bool:
    """True when `a` is at least as good as `b` everywhere and strictly better somewhere (all maximised); values
    closer than `tie` are equal."""
    return all(x >= y - tie for x, y in zip(a, b)) and any(x > y + tie for x, y in zip(a, b))


def pareto_front(points, tie: float = TIE) -> list[int]:
    """Indices of the points that no other point dominates, in their original order (values closer than `tie`
    are equal)."""
    pts = np.asarray(points, dtype=float)
    return [i for i, p in enumerate(pts) if not np.any(np.all(pts >= p - tie, axis=1) & np.any(pts > p + tie, axis=1))]


def non_dominated_sort(points, tie: float = TIE) -> list[list[int]]:
    """NSGA-II's ranking: front 0 is the Pareto front, front 1 the front once front 0 is removed, and so on."""
    remaining, fronts = list(range(len(points))), []
    while remaining:
        front = [remaining[i] for i in pareto_front([points[j] for j in remaining], tie)]
        fronts.append(front)
        remaining = [i for i in remaining if i not in set(front)]
    return fronts


def crowding_distance(points, front: list[int]) -> dict[int, float]:
    """How much room each point of a front has around it (its neighbours' spread, summed over objectives)."""
    distance = {i: 0.0 for i in front}
    for m in range(len(points[front[0]])):
        order = sorted(front, key=lambda i: points[i][m])
        lo, hi = points[order[0]][m], points[order[-1]][m]
        distance[order[0]] = distance[order[-1]] = float("inf")  # the extremes are always kept
        if hi == lo:
            continue
        for prev, cur, nxt in zip(order, order[1:], order[2:]):
            distance[cur] += (points[nxt][m] - points[prev][m]) / (hi - lo)
    return distance


def hypervolume_2d(points, reference) -> float:
    """Area dominated by `points` and bounded below by `reference` (both objectives maximised)."""
    pts = [tuple(p) for p in points if p[0] > reference[0] and p[1] > reference[1]]
    front = sorted({pts[i] for i in pareto_front(pts)}, key=lambda p: -p[0]) if pts else []
    area, y = 0.0, reference[1]
    for x, top in front:  # sweep from the best first objective down, adding each new strip
        if top > y:
            area += (x - reference[0]) * (top - y)
            y = top
    return area


def hypervolume(points, reference) -> float:
    """Volume dominated by `points` and bounded below by `reference`, for any number of objectives (all maximised).

    Sliced along the last objective (HSO, While et al., 2006): between two consecutive levels of it, the slab's
    volume is its thickness times the hypervolume, one objective fewer, of the points that reach the upper level.
    """
    pts = [tuple(p) for p in points if all(x > r for x, r in zip(p, reference))]
    if not pts:
        return 0.0
    pts = [pts[i] for i in pareto_front(pts)]  # a dominated point adds nothing: fewer points, fewer slices
    if len(reference) <= 2:
        return hypervolume_2d(pts, reference) if len(reference) == 2 else max(p[0] for p in pts) - reference[0]
    levels = sorted({p[-1] for p in pts}, reverse=True)
    return sum(
        (top - below) * hypervolume([p[:-1] for p in pts if p[-1] >= top], reference[:-1])
        for top, below in zip(levels, levels[1:] + [reference[-1]])
    )
