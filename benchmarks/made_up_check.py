"""How sure is project 08b's check of learning? The mean Kendall's tau that predictors reach on the made-up tables of
`course.lesson08b` (16 per check: 8 draws of op effects, each with its mirror image), over many draws of the check's
secret seed, against its bar (`MADE_UP_THRESHOLD`).

Rows: the solution's predictor (dead or not + op counts, a ridge); the library's own predictors on the one-hot
(what bananas uses) and on features that say what `zero` does; a ridge on dead or not + #params, which learns one
weight along a direction fixed in advance, and one that learns only which op is best (both clear the shipped
tables' bar); a fixed rule (zero last, then #params), which ignores the training scores. Beside them, each one's tau
on the shipped tables (the check's first half: the bar `THRESHOLD` on both).

    python benchmarks/made_up_check.py               # seeds 0-999 (0-29 for the MLP and boosting rows): ~15 min
    python benchmarks/made_up_check.py --seeds 100   # a quicker look; both write benchmarks/results/made_up_check.md
    python benchmarks/made_up_check.py --only tree   # recompute one row, keep the file's others
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
from timing_page import write_page

from course import lesson08b
from nanonas import predictors
from nanonas.bench import NanoBench
from nanonas.parallel import one_thread

RESULTS = Path(__file__).parent / "results"
PARAMS = {tuple(r["dna"]): r["params"] for r in NanoBench.load("digits")}


def _library(name):
    def fit_predict(train, scores, test):
        return predictors.predictions(name, train, scores, test, n_ops=5).mean(axis=0).tolist()

    return fit_predict


def _dead(dnas):
    return (np.asarray(dnas) == 4).any(axis=1, keepdims=True)


def _on(features, name):
    def fit_predict(train, scores, test):
        model = predictors.make(name).fit(features(train), np.asarray(scores))
        return model.predict(features(test)).tolist()

    return fit_predict


def _dead_one_hot(dnas):  # dead or not; a live chain's one-hot (a dead one's is all zeros)
    return np.hstack([_dead(dnas), predictors.one_hot(dnas, 5) * ~_dead(dnas)])


def _dead_counts(dnas):  # dead or not; a live chain's count of each op (the solution's features)
    D = np.asarray(dnas)
    return np.hstack([_dead(D), np.stack([(D == op).sum(axis=1) for op in range(4)], axis=1) * ~_dead(D)])


def _one_weight(train, scores, test):
    features = lambda dnas: np.array([[4 in d, (4 not in d) * PARAMS[tuple(d)]] for d in dnas], float)  # noqa: E731
    return predictors.Ridge().fit(features(train), np.asarray(scores)).predict(features(test)).tolist()


def _tree_one_hot(train, scores, test):  # an honest learner that does not say what `zero` does
    from sklearn.tree import DecisionTreeRegressor

    model = DecisionTreeRegressor(random_state=0).fit(predictors.one_hot(train, 5), scores)
    return model.predict(predictors.one_hot(test, 5)).tolist()


def _best_op_only(train, scores, test):  # learns two bits: which op's count goes best with the live chains' scores
    live = [(d, s) for d, s in zip(train, scores) if 4 not in d]
    best = max(range(4), key=lambda op: np.corrcoef([d.count(op) for d, _ in live], [s for _, s in live])[0, 1])
    return [(4 not in d) * (1 + d.count(best)) for d in test]


PREDICTORS = {
    "solution (dead or not + op counts, ridge)": lesson08b.REFERENCE.fit_predict,
    "library ridge, one-hot": _library("ridge"),
    "library MLP ensemble, one-hot": _library("mlp_ensemble"),
    "library gradient boosting, one-hot": _library("gbm"),
    "ridge, dead or not + one-hot": _on(_dead_one_hot, "ridge"),
    "MLP ensemble, dead or not + op counts": _on(_dead_counts, "mlp_ensemble"),
    "gradient boosting, dead or not + op counts": _on(_dead_counts, "gbm"),
    "decision tree (scikit-learn), one-hot": _tree_one_hot,
    "one learned weight (dead or not + #params, ridge)": _one_weight,
    "two learned bits (which op is best; zero last, then its count)": _best_op_only,
    "fixed rule (zero last, then #params)": lambda train, scores, test: [
        (4 not in d) * (1 + PARAMS[tuple(d)]) for d in test
    ],
}

SLOW = {name for name in PREDICTORS if "MLP" in name or "boosting" in name}  # seconds per check, not milliseconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--slow-seeds", type=int, default=30, help="seeds for the predictors that train a network")
    parser.add_argument("--out", default=str(RESULTS / "made_up_check.md"))
    parser.add_argument("--only", help="recompute the rows whose name holds this text; keep the file's other rows")
    args = parser.parse_args()
    bar = lesson08b.MADE_UP_THRESHOLD
    lines = [
        f"Each seed draws {2 * lesson08b.MADE_UP} made-up tables (`course.lesson08b.made_up_tables`); a predictor "
        f"passes with a mean Kendall's τ ≥ {bar} over their live test chains.",
        "",
        f"| predictor | shipped tables' τ (bar {lesson08b.THRESHOLD}) | made-up: mean τ | lowest | 1st percentile "
        "| highest | seeds passing | seconds per check |",
        "|---|---|---|---|---|---|---|---|",
    ]
    kept = {}  # with --only: the rows already in the file, by predictor
    if args.only and Path(args.out).exists():
        for line in Path(args.out).read_text().splitlines():
            name = line.split(" | ")[0].removeprefix("| ")
            if name in PREDICTORS:
                kept[name] = line
    load_before = os.getloadavg()
    with one_thread():
        for name, fit_predict in PREDICTORS.items():
            if args.only and args.only not in name:
                if name in kept:
                    lines.append(kept[name])
                continue
            taus, start = [], time.perf_counter()
            seeds = min(args.seeds, args.slow_seeds) if name in SLOW else args.seeds
            if seeds < 1:
                continue
            for seed in range(seeds):
                tables = list(lesson08b.made_up_tables(seed))
                got = [fit_predict(train, scores, test) for train, scores, test, _, _ in tables]
                taus.append(lesson08b.made_up_tau(tables, got))
            taus, seconds = np.asarray(taus), (time.perf_counter() - start) / seeds
            shipped = [
                lesson08b.tau(fit_predict(*draw[:3]), draw[3]) for draw in map(lesson08b.held_out, lesson08b.TABLES)
            ]
            passing = int((taus >= bar).sum())
            cells = [name, " / ".join(f"{t:.3f}" for t in shipped)]
            cells += [f"{v:.3f}" for v in (taus.mean(), taus.min(), np.percentile(taus, 1), taus.max())]
            lines.append("| " + " | ".join([*cells, f"{passing} of {seeds}", f"{seconds:.2f}"]) + " |")
            print(lines[-1], flush=True)
    lines += [
        "",
        "A fixed rule ranks each table and its mirror image in opposite orders: its mean is 0 exactly, at every seed.",
        "Seconds per check: the 16 fits and the drawing of the tables, one thread.",
    ]
    command = f"python benchmarks/made_up_check.py --seeds {args.seeds} --slow-seeds {args.slow_seeds}"
    if args.only:
        command += f" --only {args.only!r}"
        lines.append(
            f"Only the rows naming {args.only!r} were computed by this run; the others come from an earlier one."
        )
    title = "Project 08b: the check of learning, over draws of its seed"
    write_page(args.out, title, command, lines, load_before, os.getloadavg())


if __name__ == "__main__":
    main()
