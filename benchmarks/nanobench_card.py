"""NanoBench's card: what the table holds and how far its ranking can be trusted, computed from the table.

python benchmarks/nanobench_card.py      # prints the card and writes docs/nanobench_card.md
"""

import itertools
import statistics
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from nanonas.bench import NanoBench

OUT = Path(__file__).resolve().parents[1] / "docs" / "nanobench_card.md"
RECIPE_NOISE = Path(__file__).parent / "results" / "recipe_noise.md"


def histogram(values, lo=0.0, hi=1.0, bins=20, width=50) -> list[str]:
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    top = max(counts)
    return [
        f"{edges[i]:6.1%} – {edges[i + 1]:6.1%} | {'█' * round(width * c / top):<{width}} {c}"
        for i, c in enumerate(counts)
        if c or edges[i] >= min(values) - (hi - lo) / bins
    ]


def seed_agreement(records) -> float:
    """Mean Kendall tau between the rankings that each pair of training seeds gives these architectures."""
    per_seed = np.array([r["val_accuracies"] for r in records])  # (architectures, seeds)
    taus = [kendalltau(per_seed[:, a], per_seed[:, b]).statistic for a, b in itertools.combinations(range(3), 2)]
    return float(np.mean(taus))


def top10_separation(bench: NanoBench) -> tuple[int, int]:
    """How many of the 45 pairs in the top 10 differ by more than two standard errors of their difference."""
    top = bench.top(10)
    separated = 0
    for a, b in itertools.combinations(top, 2):
        se = np.sqrt(np.var(a["val_accuracies"], ddof=1) / 3 + np.var(b["val_accuracies"], ddof=1) / 3)
        separated += abs(a["val_accuracy"] - b["val_accuracy"]) > 2 * max(se, 1e-12)
    return separated, 45


def main():
    bench = NanoBench.load()
    meta, records = bench.meta, list(bench)
    live = [r for r in records if "zero" not in r["ops"]]
    dead = len(records) - len(live)
    tenth = live[: max(2, len(live) // 10)]
    sep, pairs = top10_separation(bench)
    noise = statistics.fmean(r["val_accuracy_std"] for r in live)
    rec = meta["recipe"]
    lines = [
        "# NanoBench card",
        "",
        f"Every one of the {len(records)} architectures of nanoNAS's space ({rec['positions']} positions × "
        f"{len(rec['ops'])} ops: {', '.join(rec['ops'])}) trained {len(rec['seeds'])} times (seeds "
        f"{rec['seeds']}) with the recipe `nano_nas` uses to evaluate a candidate: {rec['epochs']} epochs, "
        f"{rec['optimizer']}, lr {rec['lr']}, batch {rec['batch_size']}, {rec['channels']} channels, on "
        f"scikit-learn's digits (train/validation/test split seed {rec['split_seed']}).",
        "",
        f"Built on {meta['build_date']} with nanonas {meta['nanonas_version']}, torch {meta['torch_version']}, "
        f"Python {meta['python_version']}, on {meta['machine']}: {meta['build_wall_seconds'] / 60:.1f} minutes of "
        f"wall time with {meta['build_workers']} worker(s) ({meta['train_seconds_total'] / 60:.1f} minutes of "
        f"training in total, {meta['runs']} runs).",
        "",
        "## Accuracy over the whole space (mean validation accuracy over seeds)",
        "",
        "```",
        *histogram([r["val_accuracy"] for r in records]),
        "```",
        "",
        f"- **Dead architectures:** {dead} of {len(records)} ({dead / len(records):.1%}) contain `zero`, which "
        f"cuts the chain: their output no longer depends on the input and they score "
        f"{max(r['val_accuracy'] for r in records if 'zero' in r['ops']):.1%} at best (chance is about 10%).",
        f"- **Live architectures:** {len(live)}; median {statistics.median(r['val_accuracy'] for r in live):.1%}, "
        f"worst {live[-1]['val_accuracy']:.1%} ({' → '.join(live[-1]['ops'])}).",
        "",
        "## The global optimum and the top 10",
        "",
        "| rank | DNA | ops | val (mean ± std) | test (mean) | params | latency b=1 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in bench.top(10):
        lines.append(
            f"| {bench.rank(r['dna'])} | {r['dna']} | {' → '.join(r['ops'])} | {r['val_accuracy']:.2%} ± "
            f"{r['val_accuracy_std']:.2%} | {r['test_accuracy']:.2%} | {r['params']:.0f} | {r['latency_b1_ms']:.3f} |"
        )
    lines += [
        "",
        "## How far the ranking can be trusted",
        "",
        f"- Seed-to-seed rank agreement (mean Kendall τ over the 3 pairs of seeds): **{seed_agreement(live):.2f}** "
        f"over the {len(live)} live architectures, **{seed_agreement(tenth):.2f}** within their top 10% "
        f"({len(tenth)} architectures).",
        f"- Mean seed-to-seed standard deviation of a live architecture's validation accuracy: {noise:.2%} "
        f"(one validation image is {1 / 359:.2%}).",
        f"- Top-10 separation: {sep} of the {pairs} pairs in the top 10 differ by more than two standard errors "
        "of their difference. The top of this space is a plateau: the table names one global optimum (the best "
        "mean), but several architectures are statistically tied with it.",
        "",
        "## Why this recipe",
        "",
        "Each evaluation inside a search uses exactly this recipe, so it must be cheap (about half a second on "
        "one CPU core) and still rank architectures. The learning rate decays along a cosine because that "
        "halved the seed-to-seed noise of a constant rate at no extra cost; `benchmarks/recipe_noise.py` "
        "measures the comparison:",
        "",
        *(RECIPE_NOISE.read_text().splitlines() if RECIPE_NOISE.exists() else ["(not measured yet)"]),
        "",
        "Regenerate this card with `python benchmarks/nanobench_card.py`; rebuild the table with "
        "`nanonas bench build --workers 2` and check it with `nanonas bench verify --samples 5`.",
    ]
    text = "\n".join(lines) + "\n"
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
