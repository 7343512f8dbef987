"""Milestones for the beginner projects 06a–c: grow the space, visualise a table, compare searches fairly.

One module for the three projects (lesson06a/b/c.py pick their part).

Every answer takes plain data (lists of records {"dna": [...], "val_accuracy": ...}, lists of numbers), so the checks
build their cases from the digits NanoBench and from random tables, and compare with the reference solutions.
"""

import math
import random
from fractions import Fraction

from nanonas.bench import NanoBench

from .question import Question, Wrong, expect, is_sequence, show
from .question import close as _close
from .question import is_number as _is_number
from .question import reference as _reference

GROW, VISUALISE, COMPARE = "06a_grow_the_space", "06b_visualise_results", "06c_compare_searches"  # the 3 projects
REFERENCE_A, REFERENCE_B, REFERENCE_C = (_reference(a) for a in (GROW, VISUALISE, COMPARE))  # from solutions/06*


def _digits_records():
    return [{"dna": r["dna"], "val_accuracy": r["val_accuracy"]} for r in NanoBench.load()]


def _random_records(rng, n_ops, positions, n=None, grid=None):
    """A random table over a small space: every DNA (or n of them), accuracies on a grid (ties) or continuous."""
    space = [[(i // n_ops**p) % n_ops for p in range(positions)] for i in range(n_ops**positions)]
    if n is not None:
        space = rng.sample(space, min(n, len(space)))
    score = (lambda: rng.randrange(grid) / grid) if grid else rng.random
    return [{"dna": dna, "val_accuracy": score()} for dna in space]


# -- Part 1: grow the space


def _check_receptive_field(answer, seed):
    rng = random.Random(seed)
    cases = [[], [(3, 1)], [(5, 1)], [(3, 2)], [(1, 1)], [(3, 1), (3, 1)], [(3, 1), (3, 2), (5, 1)]]
    cases += [[(rng.choice([1, 3, 5, 7]), rng.choice([1, 2, 3])) for _ in range(rng.randrange(6))] for _ in range(80)]
    for layers, got in zip(cases, answer.each([(list(c),) for c in cases])):
        want = 1 + sum((k - 1) * d for k, d in layers)
        expect(_is_number(got), f"`receptive_field({layers})` returned `{show(got)}`; return a whole number of pixels.")
        if got == want:
            continue
        hint = (
            " A dilated kernel of size k with dilation d spans (k - 1) * d + 1 pixels."
            if any(d > 1 for _, d in layers)
            else ""
        )
        if not layers:
            hint = " With no layer, each output pixel sees exactly one input pixel."
        raise Wrong(f"`receptive_field({layers})` returned `{got}`, expected `{want}`.{hint}")


def _check_top_k_count(answer, seed):
    rng = random.Random(seed)
    cases = [(_digits_records(), op, k) for op, k in [(0, 10), (1, 10), (2, 10), (3, 25), (4, 10), (0, 1)]]
    for _ in range(40):
        records = _random_records(rng, rng.randrange(2, 6), rng.randrange(1, 4), grid=rng.choice([None, 5]))
        n_ops = 1 + max(max(r["dna"]) for r in records)
        cases.append((records, rng.randrange(n_ops), rng.randrange(1, len(records) + 2)))
    calls = [(list(records), op, k) for records, op, k in cases]
    for (records, op, k), got in zip(cases, answer.each(calls)):
        want = REFERENCE_A.top_k_count(records, op, k)
        expect(_is_number(got), f"`top_k_count(records, op={op}, k={k})` returned `{show(got)}`; return a count.")
        if got == want:
            continue
        extra = " Are you counting architectures (one each), not every position that holds the op?"
        raise Wrong(
            f"`top_k_count(records, op={op}, k={k})` on {len(records)} architectures returned `{got}`, expected "
            f"`{want}`. Sort by `'val_accuracy'`, best first (ties keep the table's order), take `k`, count those "
            f"holding `op`.{extra}"
        )


def _check_build_hours(answer, seed):
    rng = random.Random(seed)
    cases = [(5, 4, 3, 1.0, 1), (7, 2, 2, 1.0, 2), (7, 3, 1, 0.75, 2), (1, 1, 1, 3600.0, 1)]
    cases += [
        (rng.randrange(1, 9), rng.randrange(1, 6), rng.randrange(1, 4), rng.uniform(0.1, 10), rng.randrange(1, 17))
        for _ in range(60)
    ]
    for (n_ops, positions, seeds, seconds, workers), got in zip(cases, answer.each(cases)):
        want = n_ops**positions * seeds * seconds / workers / 3600
        args = f"`build_hours({n_ops}, {positions}, {seeds}, {seconds:.3g}, {workers})`"
        expect(_is_number(got), f"{args} returned `{show(got)}`; return a number of hours.")
        if not _close(got, want, 1e-9):
            hint = (
                " Did you mix up `n_ops ** positions` and `positions ** n_ops`?"
                if _close(got, positions**n_ops * seeds * seconds / workers / 3600)
                else ""
            )
            raise Wrong(f"{args} returned `{got:.6g}`, expected `{want:.6g}` hours.{hint}")


# -- Part 2: visualise


def _check_marginal(answer, seed):
    rng = random.Random(seed)
    cases = [(_digits_records(), p, 5) for p in range(4)]
    for _ in range(40):
        n_ops, positions = rng.randrange(2, 6), rng.randrange(1, 4)
        records = _random_records(rng, n_ops, positions, n=rng.randrange(1, n_ops**positions + 1))
        cases.append((records, rng.randrange(positions), n_ops))
    for (records, position, n_ops), got in zip(cases, answer.each([(list(r), p, n) for r, p, n in cases])):
        want = REFERENCE_B.marginal(records, position, n_ops)
        call = f"`marginal(records, position={position}, n_ops={n_ops})` on {len(records)} architectures"
        expect(is_sequence(got, n_ops), f"{call} returned `{show(got)}`; return a list of `n_ops` means.")
        for op, (g, w) in enumerate(zip(got, want)):
            if w is None:
                expect(
                    g is None,
                    f"{call}: no architecture has op {op} at position {position}, so its entry is `None`; got "
                    f"`{show(g)}`.",
                )
            elif not _close(g, w, 1e-9):
                raise Wrong(
                    f"{call}: the mean for op {op} is `{show(g)}`, expected `{w:.6g}` (over the architectures with "
                    f"op {op} at position {position})."
                )


def _check_mean_ci(answer, seed):
    rng = random.Random(seed)
    cases = [[1.0, 1.0], [0.0, 1.0], [0.9, 0.95, 1.0], [0.5] * 30]
    cases += [[rng.gauss(0.9, 0.05) for _ in range(rng.randrange(2, 60))] for _ in range(60)]
    for values, got in zip(cases, answer.each([(list(v),) for v in cases])):
        want = REFERENCE_B.mean_ci(values)
        call = f"`mean_ci({show(values, 80)})`"
        expect(is_sequence(got, 3), f"{call} returned `{show(got)}`; return `(mean, low, high)`.")
        if all(_close(g, w, 1e-6) for g, w in zip(got, want)):
            continue
        mean = sum(values) / len(values)
        if _close(got[0], mean, 1e-6):
            half = (got[2] - got[1]) / 2 if _is_number(got[1]) and _is_number(got[2]) else None
            pop = 1.96 * math.sqrt(sum((v - mean) ** 2 for v in values) / len(values) / len(values))
            hint = (
                " Use the sample standard deviation (divide by n - 1)."
                if half is not None and _close(half, pop, 1e-6)
                else ""
            )
            raise Wrong(
                f"{call} returned `{show(got)}`, expected `({want[0]:.6g}, {want[1]:.6g}, {want[2]:.6g})`: the band is "
                f"mean ± 1.96 · sd / √n.{hint}"
            )
        raise Wrong(f"{call} returned `{show(got)}`; its mean should be `{mean:.6g}`.")


def _check_interaction(answer, seed):
    rng = random.Random(seed)
    cases = [(_digits_records(), 0, 1, 5), (_digits_records(), 2, 3, 5)]
    for _ in range(30):
        n_ops, positions = rng.randrange(2, 5), rng.randrange(2, 4)
        records = _random_records(rng, n_ops, positions, n=rng.randrange(1, n_ops**positions + 1))
        p, q = rng.sample(range(positions), 2)
        cases.append((records, p, q, n_ops))
    for (records, p, q, n_ops), got in zip(cases, answer.each([(list(r), p, q, n) for r, p, q, n in cases])):
        want = REFERENCE_B.interaction(records, p, q, n_ops)
        call = f"`interaction(records, p={p}, q={q}, n_ops={n_ops})` on {len(records)} architectures"
        ok = is_sequence(got, n_ops) and all(is_sequence(row, n_ops) for row in got)
        expect(
            ok,
            f"{call} returned `{show(got)}`; return `n_ops` rows of `n_ops` means (row: op at `p`, column: op at `q`).",
        )
        for a in range(n_ops):
            for b in range(n_ops):
                g, w = got[a][b], want[a][b]
                if w is None:
                    expect(
                        g is None,
                        f"{call}: no architecture has op {a} at `p` and op {b} at `q`, so `[{a}][{b}]` is `None`; "
                        f"got `{show(g)}`.",
                    )
                elif not _close(g, w, 1e-9):
                    swapped = " (rows are the op at `p`, columns the op at `q`)" if _close(g, want[b][a] or -1) else ""
                    raise Wrong(f"{call}: `[{a}][{b}]` is `{show(g)}`, expected `{w:.6g}`{swapped}.")


# -- Part 3: compare searches


def _check_wins_ties_losses(answer, seed):
    rng = random.Random(seed)
    cases = [([], []), ([1.0], [1.0]), ([2.0], [1.0]), ([0.5, 0.7, 0.9], [0.9, 0.7, 0.5])]
    cases += [
        ([rng.randrange(4) / 4 for _ in range(n)], [rng.randrange(4) / 4 for _ in range(n)])
        for n in (rng.randrange(1, 40) for _ in range(60))
    ]
    for (a, b), got in zip(cases, answer.each([(list(a), list(b)) for a, b in cases])):
        want = (sum(x > y for x, y in zip(a, b)), sum(x == y for x, y in zip(a, b)), sum(x < y for x, y in zip(a, b)))
        expect(
            is_sequence(got, 3),
            f"`wins_ties_losses({a}, {b})` returned `{show(got)}`; return `(wins, ties, losses)`.",
        )
        if tuple(got) != want:
            raise Wrong(
                f"`wins_ties_losses({show(a, 60)}, {show(b, 60)})` returned `{show(got)}`, expected `{want}`: compare "
                "run `i` of `a` with run `i` of `b` (paired)."
            )


def _check_rank_biserial(answer, seed):
    rng = random.Random(seed)
    cases = [
        ([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]),
        ([0.0, 0.0], [1.0, 1.0]),
        ([1.0, 0.0], [0.0, 1.0]),
        ([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]),
    ]
    cases += [
        ([rng.randrange(5) for _ in range(n)], [rng.randrange(5) for _ in range(n)])
        for n in (rng.randrange(2, 40) for _ in range(50))
    ]
    cases += [([rng.gauss(0.3, 1) for _ in range(30)], [rng.gauss(0, 1) for _ in range(30)]) for _ in range(20)]
    cases = [(a, b) for a, b in cases if any(x != y for x, y in zip(a, b))]  # all ties: no effect size defined
    for (a, b), got in zip(cases, answer.each([(list(a), list(b)) for a, b in cases])):
        want = REFERENCE_C.rank_biserial(a, b)
        call = f"`rank_biserial({show(a, 60)}, {show(b, 60)})`"
        expect(_is_number(got), f"{call} returned `{show(got)}`; return a number in [-1, 1].")
        if _close(got, want, 1e-9):
            continue
        hint = ""
        if _close(got, -want, 1e-9):
            hint = " The sign is flipped: positive means `a` tends to be larger than `b`."
        raise Wrong(
            f"{call} returned `{got:.6g}`, expected `{want:.6g}`. Drop zero differences, rank the rest by |difference| "
            "(ties share the average rank), then (sum of positive ranks - sum of negative ranks) / sum of all ranks."
            f"{hint}"
        )


def _check_returned_true(answer, seed):
    rng = random.Random(seed)
    cases = [
        ([0.5], [0.5], 1),
        ([0.9, 0.8], [0.7, 0.95], 2),
        ([0.9, 0.8], [0.7, 0.95], 1),
        ([0.8, 0.9, 0.9], [0.1, 0.2, 0.3], 3),
    ]
    for _ in range(60):
        n = rng.randrange(1, 40)
        true = [rng.random() for _ in range(n)]
        noisy = [t + rng.gauss(0, 0.2) if rng.random() < 0.8 else round(t, 1) for t in true]
        cases.append((noisy, true, rng.randrange(1, n + 1)))
    for (noisy, true, budget), got in zip(cases, answer.each([(list(n), list(t), b) for n, t, b in cases])):
        want = REFERENCE_C.returned_true(noisy, true, budget)
        call = f"`returned_true({show(noisy, 60)}, {show(true, 60)}, budget={budget})`"
        expect(
            _is_number(got),
            f"{call} returned `{show(got)}`; return the true accuracy of the architecture the search returns.",
        )
        if _close(got, want, 0):
            continue
        if _close(got, max(true[:budget]), 0):
            raise Wrong(
                f"{call} returned the best *true* score, `{got}`; the search cannot see it: it returns the one "
                f"whose *noisy* score is highest (`{want}`)."
            )
        raise Wrong(
            f"{call} returned `{got}`, expected `{want}`: among the first `budget` evaluations, take the highest noisy "
            "score (the first one on a tie) and return its true score."
        )


def _darts_epochs_exact(evaluations, epochs, supernet_macs, candidate_macs, budget=None, final=None, per_epoch=None):
    """floor(what is left / a DARTS epoch) in exact fractions, never below 0; the keywords make typical mistakes."""
    budget = evaluations * epochs if budget is None else budget
    final = epochs if final is None else final
    per_epoch = 2 * Fraction(supernet_macs) / Fraction(candidate_macs) if per_epoch is None else per_epoch
    return max(0, math.floor((budget - final) / per_epoch))


def _darts_epochs_mistakes(evaluations, epochs, supernet, candidate):
    """What each typical mistake returns on a case, with the words that name it."""
    exact = lambda **mistake: _darts_epochs_exact(evaluations, epochs, supernet, candidate, **mistake)  # noqa: E731
    per_epoch = 2 * Fraction(supernet) / Fraction(candidate)
    left = (evaluations - 1) * epochs
    return [
        (
            max(0, round(left / per_epoch)),
            "a part of an epoch does not fit: round down, never to the nearest.",
        ),
        (
            exact(final=0),
            "keep one evaluation (`epochs` candidate-epochs) for training the derived architecture at the end.",
        ),
        (
            max(0, exact(final=0) - 1),
            "the final evaluation costs `epochs` candidate-epochs (a candidate trained for `epochs` epochs), not one "
            "DARTS epoch.",
        ),
        (
            exact(per_epoch=per_epoch / 2),
            "a DARTS epoch runs the supernet *twice* per batch (a validation batch for the alphas, a training batch "
            "for the weights), so it costs `2 * supernet_macs / candidate_macs` candidate-epochs.",
        ),
        (
            exact(per_epoch=1 / per_epoch),
            "the ratio is upside down: a DARTS epoch costs `2 * supernet_macs / candidate_macs` candidate-epochs (a "
            "bigger supernet leaves fewer epochs).",
        ),
        (
            exact(budget=evaluations, final=1),
            "the budget counts evaluations; in candidate-epochs it is `evaluations * epochs` (each evaluation trains "
            "a candidate for `epochs` epochs).",
        ),
    ]


def _check_darts_epochs(answer, seed):
    rng = random.Random(seed)
    cases = [
        (50, 10, 2237600, 455020.8),  # the project's numbers: 49
        (50, 10, 5, 1),  # a DARTS epoch is exactly 10 candidate-epochs: 490 / 10 = 49 fit, exactly
        (11, 10, 50, 10),  # exactly 10 fit
        (1, 10, 2237600, 455020.8),  # the budget pays for the final evaluation only
        (0, 10, 2237600, 455020.8),  # not even that
        (20, 4, 30, 10),  # 76 / 6: 12 fit (12.67 would round to 13)
        (150, 10, 2237600, 455020.8),
        (50, 10, 100, 10),  # 490 / 20: 24 fit
    ]
    while len(cases) < 70:
        candidate = round(rng.uniform(1e4, 1e6), 1)
        case = (rng.randrange(0, 200), rng.randrange(1, 21), round(candidate * rng.uniform(1.5, 10)), candidate)
        q = Fraction(case[0] - 1) * case[1] * Fraction(case[3]) / (2 * case[2])
        if abs(q - round(q)) > 1e-6:  # no quotient a hair from a whole number, where float rounding could decide
            cases.append(case)
    answers = list(answer.each(cases))
    wrong = []
    for case, got in zip(cases, answers):
        call = f"`darts_epochs({', '.join(map(str, case))})`"
        expect(_is_number(got), f"{call} returned `{show(got)}`; return a whole number of DARTS epochs.")
        want = _darts_epochs_exact(*case)
        if got != want:
            wrong.append((call, got, want, case))
            expect(
                got == math.floor(got),
                f"{call} returned `{got}`, expected `{want}`: only whole epochs count, so round down.",
            )
    if not wrong:
        return
    call, got, want, _ = wrong[0]
    because = f"{call} returned `{show(got)}`, expected `{want}`"
    negative = [(c, g) for c, g, _, _ in wrong if g < 0]
    if negative:
        c, g = negative[0]
        because = (
            f"{c} returned `{g}`: when the budget cannot even pay for the final evaluation, no DARTS epoch fits: `0`, "
            "never a negative count"
        )
    # a mistake that explains every answer (negative answers aside) is named; otherwise the way to compute it
    models = [_darts_epochs_mistakes(*case) for case in cases]
    for i, (_, words) in enumerate(models[0]):
        if all(g < 0 or g == m[i][0] for g, m in zip(answers, models)):
            raise Wrong(f"{because}: {words}" if not negative else f"{because}. Also, {words}")
    if negative:
        raise Wrong(f"{because}.")
    raise Wrong(
        f"{because}. Work in candidate-epochs: the budget, less the final evaluation, divided by the cost of one "
        "DARTS epoch, rounded down."
    )


PART_A = [
    Question(
        assignment=GROW,
        number=1,
        name="receptive_field",
        title="What a chain of convolutions sees",
        points=1,
        test=_check_receptive_field,
        hint_text=(
            "With no layer, one output pixel sees one input pixel. How wide is a k×k kernel with dilation d? Count "
            "the pixels from its first weight to its last; each layer widens the view by that, less one."
        ),
    ),
    Question(
        assignment=GROW,
        number=2,
        name="top_k_count",
        title="Does an op enter the top k?",
        points=2,
        test=_check_top_k_count,
        hint_text="Python's sort is stable (equal values keep their order), and can sort best first. Take the first "
        "`k`, then count architectures, not positions.",
    ),
    Question(
        assignment=GROW,
        number=3,
        name="build_hours",
        title="What a table costs to build",
        points=1,
        test=_check_build_hours,
        hint_text="Count the training runs first (how many architectures, how many seeds each?), then their "
        "seconds; `workers` runs go side by side; an hour is 3600 s.",
    ),
]
PART_B = [
    Question(
        assignment=VISUALISE,
        number=1,
        name="marginal",
        title="The marginal effect of each op",
        points=2,
        test=_check_marginal,
        hint_text="Group the records by the op they hold at `position`, then average each group. An op that no "
        "record holds there has no mean: `None`.",
    ),
    Question(
        assignment=VISUALISE,
        number=2,
        name="mean_ci",
        title="A confidence band",
        points=2,
        test=_check_mean_ci,
        hint_text="The `statistics` module has a mean and a *sample* standard deviation (the one that divides by "
        "n - 1). The band is symmetric around the mean.",
    ),
    Question(
        assignment=VISUALISE,
        number=3,
        name="interaction",
        title="Which pairs of ops work together",
        points=2,
        test=_check_interaction,
        hint_text="Like `marginal`, with two positions: group the records by the pair of ops at `p` and `q`, and "
        "fill an `n_ops` × `n_ops` grid, `None` where a group is empty.",
    ),
]
PART_C = [
    Question(
        assignment=COMPARE,
        number=1,
        name="wins_ties_losses",
        title="Paired wins, ties and losses",
        points=1,
        test=_check_wins_ties_losses,
        hint_text="Compare pair by pair: `zip` pairs run `i` of one search with run `i` of the other. Three "
        "outcomes, three counts.",
    ),
    Question(
        assignment=COMPARE,
        number=2,
        name="rank_biserial",
        title="An effect size for paired runs",
        points=3,
        test=_check_rank_biserial,
        hint_text="Follow the task's three steps in order: the differences without zeros, the ranks of their sizes "
        "(`scipy.stats.rankdata` averages ties), then split the rank sum by the sign of each difference.",
    ),
    Question(
        assignment=COMPARE,
        number=3,
        name="returned_true",
        title="What a noisy search really returns",
        points=2,
        test=_check_returned_true,
        hint_text="The search sees only `noisy`, and only its first `budget` entries. Find the *position* of its best "
        "noisy score (the first, on a tie), then look up what that architecture is really worth.",
    ),
    Question(
        assignment=COMPARE,
        number=4,
        name="darts_epochs",
        title="DARTS's budget in candidate-epochs",
        points=2,
        test=_check_darts_epochs,
        hint_text="Put everything in one unit, candidate-epochs. What is the whole budget worth, and what is left "
        "once the derived architecture's training is paid for? How many DARTS epochs fit in that, counting whole "
        "ones only? When nothing is left, none fit.",
    ),
]
