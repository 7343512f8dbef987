"""Milestones of project 08b, a neural predictor: encode a DNA, predict the accuracy of unseen architectures from a
few trained ones (graded on Kendall's tau on a held-out set), and pick what a predictor-guided search trains next.

Every answer takes and returns plain data (lists of DNAs, lists of numbers). The predictor's check trains the
learner's `fit_predict` twice over:
- on one fixed draw of 50 architectures per shipped table, labelled as a search sees them (one training seed's
  accuracy), scored on the other 575 against the true mean accuracy: what the project is about. When grading, the
  sandbox cannot read the shipped tables (`hidden`); an answer can still carry them in its own source (they ship with
  nanonas), and a fixed rule that knows what `zero` does gets near the bar without looking at the training scores;
- on made-up tables drawn from the check's seed (secret when grading): the same 625 chains, `zero` at chance, the
  others scored by op effects drawn at random, each table beside its mirror image. No answer fixed in advance can
  know them: one that ignores the training scores ranks each table and its mirror in opposite orders, τ 0 on
  average, exactly; a predictor must learn from the 50 scores which ops are worth more.
"""

import itertools
import math
import random
from functools import cache

import numpy as np
from scipy.stats import kendalltau

from nanonas.bench import TABLES as SHIPPED
from nanonas.bench import NanoBench

from .question import Question, Wrong, as_list, expect, is_sequence, show
from .question import is_number as _is_number
from .question import reference as _reference
from .remote import Opaque

PREDICTOR = "08b_neural_predictor"
REFERENCE = _reference(PREDICTOR)  # from solutions/08b_neural_predictor.ipynb
TRAIN_SIZE = 50  # the fixed N of the graded predictor
THRESHOLD = 0.65  # Kendall's tau to reach on the held-out architectures of each table (the reference: 0.70+)
TABLES = ("digits", "digits_variations")
MADE_UP = 8  # pairs of made-up tables (a table and its mirror image) per check
MADE_UP_THRESHOLD = 0.6  # mean Kendall's tau to reach on their chains without `zero` (the reference: about 0.85)
ZERO, POSITIONS, CHANCE = 4, 4, 0.1  # NanoBench's chains: 4 positions of 5 ops, op 4 is `zero`; 10 classes


def _numpy_hint(got):
    return " (a numpy array? return `array.tolist()`)" if isinstance(got, Opaque) and "numpy" in repr(got) else ""


def _one_hot(dnas, n_ops):
    return [[int(dna[i // n_ops] == i % n_ops) for i in range(len(dna) * n_ops)] for dna in dnas]


def _check_one_hot(answer, seed):
    rng = random.Random(seed)
    cases = [([[0, 1, 3, 2]], 5), ([[4, 4, 4, 4], [0, 0, 0, 0]], 5), ([[1]], 2), ([[0, 2], [2, 0], [1, 1]], 3)]
    for _ in range(40):
        n_ops, positions = rng.randrange(2, 7), rng.randrange(1, 6)
        cases.append(([[rng.randrange(n_ops) for _ in range(positions)] for _ in range(rng.randrange(1, 8))], n_ops))
    for (dnas, n_ops), got in zip(cases, answer.each([([list(d) for d in dnas], n_ops) for dnas, n_ops in cases])):
        call = f"`one_hot({show(dnas, 60)}, n_ops={n_ops})`"
        want = _one_hot(dnas, n_ops)
        rows = [as_list(r) for r in got] if is_sequence(got) and all(is_sequence(r) for r in got) else None
        expect(
            rows is not None, f"{call} returned `{show(got)}`: return a list of rows, one per DNA{_numpy_hint(got)}."
        )
        if rows == want:
            continue
        width = len(dnas[0]) * n_ops
        hint = ""
        if len(rows) != len(dnas):
            hint = f" One row per DNA: {len(dnas)} here."
        elif any(len(r) != width for r in rows):
            hint = f" A row has positions × n_ops = {width} columns."
        elif rows == [[int(d[i % len(d)] == i // len(d)) for i in range(width)] for d in dnas]:
            hint = " The columns are op-major; put position first: column `position * n_ops + op`."
        raise Wrong(f"{call} returned `{show(rows)}`, expected `{show(want)}`.{hint}")


@cache
def held_out(table: str):
    """The graded draw of one table: (train DNAs, their scores as a search sees them, test DNAs, test truths,
    test #params). Fixed: the same for everyone, every time."""
    records = list(NanoBench.load(table))
    rng = np.random.default_rng(2026)
    order = rng.permutation(len(records))
    train, test = [records[i] for i in order[:TRAIN_SIZE]], [records[i] for i in order[TRAIN_SIZE:]]
    scores = [r["val_accuracies"][int(rng.integers(len(r["val_accuracies"])))] for r in train]  # one training seed
    return (
        [r["dna"] for r in train],
        scores,
        [r["dna"] for r in test],
        [r["val_accuracy"] for r in test],
        [r["params"] for r in test],
    )


def tau(predicted, truth) -> float:
    return float(kendalltau(predicted, truth).statistic)


def made_up_tables(seed: int):
    """`MADE_UP` pairs of made-up tables over NanoBench's 625 chains, from `seed` (an int >= 0): yields (train DNAs,
    their scores, test DNAs, the test's true scores, which test DNAs are live). A chain with `zero` scores chance; a
    live chain's score grows with z = the sum over its positions of its op's effect (four evenly spaced effects,
    dealt to the ops in a random order and jittered, plus smaller ones drawn per position and per pair of
    neighbours), mapped into 0.55 .. 0.99 like the tables' accuracies. Each pair shares one draw of 50 training
    chains and the effects, with z and -z: the second table ranks the live chains in reverse."""
    dnas = np.array(list(itertools.product(range(ZERO + 1), repeat=POSITIONS)))
    live = (dnas != ZERO).all(axis=1)
    for k in range(MADE_UP):
        # the effects from a generator of their own: what the answer sees (the draw, the noise) comes from another
        effects, draws = np.random.default_rng([seed, k, 0]), np.random.default_rng([seed, k, 1])
        op = effects.permutation(np.linspace(-1.5, 1.5, ZERO)) + effects.normal(0, 0.2, ZERO)  # the ops' order
        position, pair = effects.normal(0, 0.3, (POSITIONS, ZERO)), effects.normal(0, 0.2, (ZERO,) * 2)
        d = dnas[live]
        z = op[d].sum(axis=1) + position[np.arange(POSITIONS), d].sum(axis=1) + pair[d[:, :-1], d[:, 1:]].sum(axis=1)
        z = (z - z.mean()) / z.std()
        order = draws.permutation(len(dnas))
        train, test = order[:TRAIN_SIZE], order[TRAIN_SIZE:]
        for sign in (1, -1):
            truth = np.full(len(dnas), CHANCE)
            truth[live] = 0.55 + 0.44 / (1 + np.exp(-1.5 * sign * z))
            noise = np.where(live[train], 0.015, 0.001) * draws.standard_normal(TRAIN_SIZE)  # one training run's luck
            yield (
                dnas[train].tolist(),
                np.round(truth[train] + noise, 6).tolist(),
                dnas[test].tolist(),
                truth[test].tolist(),
                live[test].tolist(),
            )


def _predictions(got, call, n) -> list[float]:
    """`got` as floats, or `Wrong` saying what a list of predictions must be."""
    ok = is_sequence(got) and all(_is_number(x) for x in got)
    expect(ok, f"{call} returned `{show(got)}`: return a list of numbers, one per test DNA{_numpy_hint(got)}.")
    expect(len(got) == n, f"{call} returned {len(got)} predictions; return one per test DNA ({n}).")
    try:
        got = [float(x) for x in got]
    except OverflowError:
        raise Wrong(f"{call} returned an int too large for a float: return floats.") from None
    expect(all(math.isfinite(x) for x in got), f"{call} returned a prediction that is not finite (nan or inf).")
    return got


def _check_on_tables(answer):
    """The project's measure: τ on the 575 held-out chains of each shipped table, above #params and the bar."""
    draws = [held_out(table) for table in TABLES]
    calls = [(list(map(list, train)), list(scores), list(map(list, test))) for train, scores, test, _, _ in draws]
    for table, (train, _, test, truth, params), got in zip(TABLES, draws, answer.each(calls)):
        call = f"`fit_predict(train_dnas, train_scores, test_dnas)` on {table} ({len(train)} trained, {len(test)} new)"
        got = _predictions(got, call, len(test))
        expect(len(set(got)) > 1, f"{call} predicted the same value for every DNA: a ranking needs them to differ.")
        ours, baseline = tau(got, truth), tau(params, truth)
        said = f"{call}: Kendall's τ between your predictions and the true accuracies is {ours:.3f}"
        if ours < 0:
            raise Wrong(f"{said}, below 0: higher predictions should mean higher accuracy.")
        if ours <= baseline:
            raise Wrong(
                f"{said}, not above the #params baseline's {baseline:.3f} (a bigger network is better). Your "
                "predictor needs to know more than the one-hot alone tells it from 50 examples."
            )
        if ours < THRESHOLD:
            raise Wrong(
                f"{said}: above #params ({baseline:.3f}), but below {THRESHOLD}. Which architectures are certainly "
                "bad, whatever else they contain? And does *where* an op sits matter as much as *how many* of it?"
            )


def made_up_tau(tables, predictions) -> float:
    """The mean Kendall's τ-b of `predictions` (one list per table of `made_up_tables`) over each table's live test
    chains; predictions that are all equal there count as τ 0."""
    taus = []
    for (_, _, _, truth, live), got in zip(tables, predictions, strict=True):
        ranked = [(p, t) for p, t, alive in zip(got, truth, live) if alive]
        taus.append(tau(*zip(*ranked)) if len({p for p, _ in ranked}) > 1 else 0.0)
    return sum(taus) / len(taus)


def _check_on_made_up(answer, seed):
    """Learning: the mean τ over the made-up tables' live test chains."""
    tables = list(made_up_tables(seed))  # truths and the live mask stay here; the calls get copies
    calls = [([list(d) for d in train], list(scores), [list(d) for d in test]) for train, scores, test, _, _ in tables]
    predictions = []
    for k, ((_, _, test, _, _), got) in enumerate(zip(tables, answer.each(calls)), start=1):
        predictions.append(_predictions(got, f"`fit_predict` on made-up table {k} of {len(tables)}", len(test)))
    mean = made_up_tau(tables, predictions)
    expect(
        mean >= MADE_UP_THRESHOLD,
        f"On {len(tables)} made-up tables of the same 625 chains (`zero` at chance, the other chains scored by op "
        f"effects drawn at random for this check, each table beside its mirror image), your predictions rank the "
        f"chains without `zero` at a mean Kendall's τ of {mean:.2f}; {MADE_UP_THRESHOLD} is needed (the reference "
        "gets about 0.85). A predictor must learn from `train_scores` which ops are worth more: a rule fixed in "
        "advance ranks a table and its mirror in opposite orders, 0 on average. If yours does learn, it ranks the "
        "chains without `zero` poorly among themselves: give it features from which a linear fit can tell what "
        "each op is worth there (how many of each op a live chain holds, say).",
    )


def _check_fit_predict(answer, seed):
    _check_on_tables(answer)
    _check_on_made_up(answer, seed)


def _check_pick_to_train(answer, seed):
    rng = random.Random(seed)
    cases = [([[0, 1], [1, 1], [0, 0]], [0.5, 0.9, 0.5], [], 2), ([[0, 1]], [0.3], [[0, 1]], 1)]
    for _ in range(50):
        n_ops, positions = rng.randrange(2, 5), rng.randrange(1, 4)
        draw = lambda: [rng.randrange(n_ops) for _ in range(positions)]  # noqa: E731
        candidates = [draw() for _ in range(rng.randrange(1, 20))]  # random draws: repeats happen
        grid = rng.choice([None, 3, 10])
        score = {tuple(c): (rng.randrange(grid) / grid if grid else rng.random()) for c in candidates}
        trained = [draw() for _ in range(rng.randrange(0, 8))]
        cases.append((candidates, [score[tuple(c)] for c in candidates], trained, rng.randrange(1, 8)))
    calls = [([list(c) for c in cs], list(p), [list(t) for t in ts], k) for cs, p, ts, k in cases]
    for (candidates, predicted, trained, k), got in zip(cases, answer.each(calls)):
        if len(candidates) <= 4:  # small enough to show whole: the learner can redo it by hand
            shown = [list(c) for c in candidates], [float(f"{v:.6g}") for v in predicted], [list(t) for t in trained]
            call = f"`pick_to_train({shown[0]}, {shown[1]}, trained={shown[2]}, k={k})`"
        else:
            call = f"`pick_to_train(candidates, predicted, trained, k={k})` with {len(candidates)} candidates"
        want = REFERENCE.pick_to_train(candidates, predicted, trained, k)
        expect(
            is_sequence(got) and all(is_sequence(d) for d in got),
            f"{call} returned `{show(got)}`; return a list of DNAs.",
        )
        got = [as_list(d) for d in got]
        if got == want:
            continue
        score = {tuple(c): p for c, p in zip(candidates, predicted)}
        hint = ""
        old = next((d for d in got if d in trained), None)
        twice = next((d for i, d in enumerate(got) if d in got[:i]), None)
        if old is not None:
            hint = f" `{old}` is already trained: train something new."
        elif twice is not None:
            hint = f" `{twice}` is in it twice: the candidates are random draws and can repeat; train each DNA once."
        elif any(tuple(d) not in score for d in got):
            hint = " Return candidates only."
        elif len(got) != len(want):
            hint = f" Return k DNAs, or every new candidate when there are fewer than k ({len(want)} here)."
        elif sorted(score[tuple(d)] for d in got) == sorted(score[tuple(w)] for w in want):
            hint = (
                " Same predictions, other DNAs or order: best predicted first, and on a tie the candidate listed first."
            )
        elif sum(score[tuple(d)] for d in got) < sum(score[tuple(w)] for w in want) and got == sorted(
            got, key=lambda d: score[tuple(d)]
        ):
            hint = " Those have the *lowest* predictions: train the highest."
        raise Wrong(f"{call} returned `{show(got)}`, expected `{show(want)}`.{hint}")


QUESTIONS = [
    Question(
        assignment=PREDICTOR,
        number=1,
        name="one_hot",
        title="A DNA as features: the one-hot encoding",
        points=2,
        test=_check_one_hot,
        hint_text="Each row starts as all zeros, one column per (position, op) pair, and gets exactly one 1 per "
        "position. Which column belongs to position 2 and op 1 when there are 5 ops?",
    ),
    Question(
        assignment=PREDICTOR,
        number=2,
        name="fit_predict",
        title="A predictor that beats #params from 50 trained architectures",
        points=4,
        test=_check_fit_predict,
        hidden=(SHIPPED,),  # the check grades on these tables: when grading, the sandbox sees their folder empty
        hint_text="With 50 examples and 20 one-hot columns, a model learns little about each column. Add a few "
        "features that say what you already know about these chains (lesson 01: what does `zero` do to the "
        "output?), keep the model simple (a ridge regression, or a small MLP with a fixed seed), and measure τ on a "
        "draw of your own before you check, in a cell of its own: the grader hides the tables it grades on, so an "
        "answer that reads them fails there. What you know goes in as features whose weights the model fits from "
        "`train_scores`: the check also trains it on made-up tables where each op's worth is drawn at random.",
    ),
    Question(
        assignment=PREDICTOR,
        number=3,
        name="pick_to_train",
        title="The step of a predictor-guided search",
        points=2,
        test=_check_pick_to_train,
        hint_text="Sort the candidates' indices by their prediction (a stable sort keeps ties in order), then walk "
        "down the list keeping a set of what is trained or already picked.",
    ),
]
