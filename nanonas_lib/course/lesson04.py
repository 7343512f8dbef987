"""Exercises for lesson 04 · DARTS: softmax, the mixed op, the derived architecture, the bilevel step, stopping."""

import random

import torch
import torch.nn.functional as F

from nanonas.core import OPERATIONS, MixedOp, Network, derive

from .question import Question, Raised, Wrong, as_list, expect, is_sequence, reference, show

OPS = list(OPERATIONS)


ASSIGNMENT = "04_darts"
REFERENCE = reference(ASSIGNMENT)  # the solutions, read from solutions/04_darts.ipynb


# -- checks


def _probe_softmax_gradient(answer, alphas):
    """On the learner's side: does the gradient flow through the answer? (A gradient cannot travel as data.)"""
    alphas = alphas.detach().clone().requires_grad_()
    got = answer(alphas)
    if not (torch.is_tensor(got) and got.requires_grad and got.shape == alphas.shape):
        return None
    (got * torch.arange(float(len(alphas)))).sum().backward()
    return alphas.grad


def _check_softmax(answer, seed):
    torch.manual_seed(seed)
    for n in (5, 1, 2, 8):
        alphas = torch.randn(n)
        got = answer(alphas.clone())
        expect(torch.is_tensor(got), f"`softmax` returned `{show(got)}`; return a tensor.")
        expect(
            got.shape == alphas.shape,
            f"`softmax` of {n} alphas returned shape `{tuple(got.shape)}`; expected `({n},)`.",
        )
        expect(
            torch.allclose(got, F.softmax(alphas, dim=0), atol=1e-6),
            f"`softmax({show(alphas)})` returned `{show(got)}`; expected `{show(F.softmax(alphas, dim=0))}`.",
        )
    big = torch.tensor([1000.0, 1000.0, 0.0])
    got = answer(big.clone())
    expect(
        torch.is_tensor(got) and got.shape == big.shape and bool(torch.isfinite(got).all()),
        f"`softmax({big.tolist()})` returned `{show(got)}`: `exp(1000)` overflows "
        "to `inf`. Subtract the largest alpha first — it does not change the result.",
    )
    expect(
        torch.allclose(got, torch.tensor([0.5, 0.5, 0.0]), atol=1e-6),
        f"`softmax({big.tolist()})` returned `{got.tolist()}`, expected `[0.5, 0.5, 0.0]`.",
    )
    alphas = torch.randn(5).requires_grad_()
    want = torch.autograd.grad((F.softmax(alphas, 0) * torch.arange(5.0)).sum(), alphas)[0]  # before the call
    grad = answer.probe(_probe_softmax_gradient, alphas.detach().clone())
    expect(
        grad is not None,
        "your `softmax` cuts the gradient (`.item()`, `.detach()`, `.tolist()` or numpy?): the alphas are learned "
        "through it.",
    )
    expect(
        torch.is_tensor(grad) and grad.shape == want.shape and torch.allclose(grad, want, atol=1e-6),
        "the gradient through your `softmax` differs from torch's; compute it from tensor operations on `alphas`.",
    )


def _softmaxed(got, mixed, x, weights):
    """A hint when the answer applied softmax to weights that were already weights."""
    again = mixed(x, F.softmax(weights, 0))
    if torch.allclose(got, again, atol=1e-5):
        return " It looks as if you applied `softmax` to the weights: they are already weights — use them as given."
    return ""


def _mixed_setup(seed):
    """The same mixed op and input on both sides: built from the seed."""
    torch.manual_seed(seed)
    mixed = MixedOp(4).eval()  # eval: BatchNorm uses running statistics, so every op is a fixed function
    return mixed, torch.randn(2, 4, 6, 6)


def _probe_mixed_forward(answer, seed, weights):
    """On the learner's side: the answer's output for each weight vector, and its gradient for the last one."""
    mixed, x = _mixed_setup(seed)
    outputs = []
    for w in weights:
        got = answer(x, mixed.ops, w)
        outputs.append(got.detach() if torch.is_tensor(got) else show(got, 60))
    last = weights[-1].clone().requires_grad_()
    got = answer(x, mixed.ops, last)
    if not (torch.is_tensor(got) and got.requires_grad):
        return outputs, None
    got.sum().backward()
    return outputs, last.grad


def _check_mixed_forward(answer, seed):
    mixed, x = _mixed_setup(seed)
    one_hots = [F.one_hot(torch.tensor(i), len(OPS)).float() for i in range(len(OPS))]
    others = [F.softmax(torch.randn(len(OPS)), 0), torch.tensor([0.5, 2.0, -1.0, 0.25, 3.0])]
    last = F.softmax(torch.randn(len(OPS)), 0)
    outputs, grad = answer.probe(_probe_mixed_forward, seed, [*one_hots, *others, last])
    for got, name, one_hot in zip(outputs, OPS, one_hots):
        expect(
            torch.is_tensor(got) and got.shape == x.shape,
            f"`mixed_forward` returned `{got if isinstance(got, str) else show(got, 60)}`; return a tensor shaped "
            f"like `x`, `{tuple(x.shape)}`.",
        )
        if not torch.allclose(got, mixed.ops[OPS.index(name)](x), atol=1e-6):
            hint = _softmaxed(got, mixed, x, one_hot)
            raise Wrong(
                f"with one-hot weights on `{name}`, `mixed_forward` should equal `{name}(x)` exactly; it does not."
                f"{hint}"
            )
    for got, weights in zip(outputs[len(OPS) :], others):
        want = mixed(x, weights)  # the library's MixedOp.forward
        if not (torch.is_tensor(got) and got.shape == want.shape and torch.allclose(got, want, atol=1e-5)):
            hint = _softmaxed(got, mixed, x, weights) if torch.is_tensor(got) and got.shape == want.shape else ""
            raise Wrong(
                f"with weights `{[round(w, 3) for w in weights.tolist()]}`, `mixed_forward` differs from the "
                f"weighted sum of the ops' outputs.{hint}"
            )
    expect(grad is not None, "`mixed_forward` cuts the gradient to the weights: the alphas could not be learned.")
    want = torch.stack([op(x).sum() for op in mixed.ops]).detach()
    expect(
        torch.is_tensor(grad) and grad.shape == want.shape and torch.allclose(grad, want, atol=1e-4),
        "the gradient of `mixed_forward` with respect to the weights should be each op's output (summed); it is not.",
    )


def _check_derive(answer, seed):
    torch.manual_seed(seed)
    zero = OPS.index("zero")
    cases = [torch.randn(4, len(OPS)) for _ in range(20)]
    strong_zero = torch.randn(4, len(OPS))
    strong_zero[:, zero] = 10.0  # zero is the strongest op everywhere
    cases += [strong_zero, torch.randn(6, len(OPS)), torch.randn(1, len(OPS))]
    for alphas in cases:
        before = alphas.clone()
        param = torch.nn.Parameter(alphas.clone())  # as DARTS holds them: a leaf that requires grad
        try:
            got = answer(param)
        except Raised as e:
            raise Wrong(
                f"`derive` raised `{type(e.original).__name__}` on alphas that require grad (as DARTS's do): "
                f"{e.original}. Work on a detached copy: `alphas.detach().clone()`."
            ) from None
        expect(
            torch.equal(param.detach(), before),
            "your `derive` changed the alphas it was given; work on a copy "
            "(`alphas.detach().clone()`), or the search would lose its `zero` column.",
        )
        expect(
            is_sequence(got) and all(type(i) is int for i in got),
            f"`derive` returned `{show(got)}`; a DNA is a plain list of ints (`tensor.tolist()` makes one).",
        )
        got = as_list(got)
        net = Network([MixedOp(2) for _ in range(len(alphas))], channels=2)
        with torch.no_grad():
            for position, row in zip(net.positions, alphas):
                position.alphas.copy_(row)
        want = derive(net)  # the library's derived architecture
        if got != want:
            picked_zero = zero in got
            hint = " It picked `zero`, which would cut the chain: leave `zero` out." if picked_zero else ""
            shown = show([[round(a, 2) for a in r] for r in alphas.tolist()], 90)
            raise Wrong(f"`derive` returned `{got}` for alphas `{shown}`; expected `{want}`.{hint}")


def _darts_setup(seed=0):
    torch.manual_seed(seed)
    net = Network([MixedOp(4) for _ in range(2)], channels=4)
    gen = torch.Generator().manual_seed(seed)
    batches = [(torch.randn(8, 1, 8, 8, generator=gen), torch.randint(10, (8,), generator=gen)) for _ in range(4)]
    return net, batches


def _optimizers(net):
    alphas = [p for name, p in net.named_parameters() if name.endswith("alphas")]
    weights = [p for name, p in net.named_parameters() if not name.endswith("alphas")]
    return torch.optim.SGD(weights, lr=0.1), torch.optim.SGD(alphas, lr=1.0)  # plain SGD: every step is visible


def _run(step, seed=0):
    """Two calls of `step` on a fresh copy of the same supernet; returns (alphas, weights) afterwards."""
    net, (t1, v1, t2, v2) = _darts_setup(seed)
    w_opt, a_opt = _optimizers(net)
    step(net, w_opt, a_opt, t1, v1)
    step(net, w_opt, a_opt, t2, v2)
    alphas = torch.cat([p.detach().flatten() for n, p in net.named_parameters() if n.endswith("alphas")])
    weights = torch.cat([p.detach().flatten() for n, p in net.named_parameters() if not n.endswith("alphas")])
    return alphas, weights


def _swapped(net, w_opt, a_opt, train_batch, valid_batch):
    REFERENCE.bilevel_step(net, w_opt, a_opt, valid_batch, train_batch)


def _weights_first(net, w_opt, a_opt, train_batch, valid_batch):
    (Xt, yt), (Xv, yv) = train_batch, valid_batch
    w_opt.zero_grad()
    F.cross_entropy(net(Xt), yt).backward()
    w_opt.step()
    a_opt.zero_grad()
    F.cross_entropy(net(Xv), yv).backward()
    a_opt.step()


def _no_zero_grad(net, w_opt, a_opt, train_batch, valid_batch):
    (Xt, yt), (Xv, yv) = train_batch, valid_batch
    F.cross_entropy(net(Xv), yv).backward()
    a_opt.step()
    F.cross_entropy(net(Xt), yt).backward()
    w_opt.step()


MISTAKES = {
    _swapped: "the alphas (`a_opt`) were trained on the training batch and the weights (`w_opt`) on the validation "
    "batch; swap them: DARTS fits the weights to the training data and chooses the architecture on held-out "
    "validation data.",
    _weights_first: "you stepped the weights (`w_opt`) before the alphas (`a_opt`); the first-order step moves the "
    "alphas first (with the current weights), then the weights, as `core.darts` does.",
    _no_zero_grad: "gradients leak from one step into the next: call `a_opt.zero_grad()` and `w_opt.zero_grad()` "
    "before each `backward()`.",
}


def _probe_bilevel_step(answer, seed):
    """On the learner's side: two steps on a fresh supernet; the alphas and weights afterwards."""
    return _run(answer, seed)


def _check_bilevel_step(answer, seed):
    seed = seed % 1000
    alphas, weights = answer.probe(_probe_bilevel_step, seed)
    want_alphas, want_weights = _run(REFERENCE.bilevel_step, seed)
    start_alphas, start_weights = _run(lambda *args: None, seed)
    expect(
        torch.is_tensor(alphas) and alphas.shape == want_alphas.shape and weights.shape == want_weights.shape,
        "after your `bilevel_step` the supernet's parameters could not be read back.",
    )
    if torch.allclose(alphas, want_alphas, atol=1e-6) and torch.allclose(weights, want_weights, atol=1e-6):
        return
    expect(
        not torch.equal(alphas, start_alphas),
        "after your `bilevel_step` the alphas have not moved: step `a_opt` on the validation loss.",
    )
    expect(
        not torch.equal(weights, start_weights),
        "after your `bilevel_step` the weights have not moved: step `w_opt` on the training loss.",
    )
    for mistake, message in MISTAKES.items():
        a, w = _run(mistake, seed)
        if torch.allclose(alphas, a, atol=1e-6) and torch.allclose(weights, w, atol=1e-6):
            raise Wrong(message)
    right = (
        "the alphas are right but the weights are not"
        if torch.allclose(alphas, want_alphas, atol=1e-6)
        else (
            "the weights are right but the alphas are not"
            if torch.allclose(weights, want_weights, atol=1e-6)
            else "neither the alphas nor the weights match"
        )
    )
    raise Wrong(
        f"after two steps, {right} one first-order DARTS step: alphas on the validation loss (`a_opt`), then "
        "weights on the training loss (`w_opt`), zeroing gradients before each `backward()`."
    )


def _check_early_stop(answer, seed):
    rng = random.Random(seed)
    live = [0, 1]  # conv3x3, conv5x5: the ops with weights
    cases = [
        ([[0, 1, 0, 1], [0, 1, 0, 3], [0, 3, 3, 1], [2, 3, 3, 3]], 2),  # two free ops first at epoch 2 -> keep 1
        ([[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0]], 2),  # never -> the last
        ([[3, 3, 0, 0], [0, 0, 0, 0]], 2),  # already at epoch 0 -> epoch 0
        ([[0, 0, 0, 0], [0, 2, 0, 0], [0, 2, 0, 0]], 1),  # limit 1: first free op at epoch 1 -> keep 0
        ([[0, 3, 2, 0], [3, 3, 2, 0], [3, 3, 3, 3]], 3),  # limit 3
        ([[1, 1, 1, 1], [1, 4, 1, 2]], 2),  # zero counts as parameter-free
    ]
    for _ in range(30):
        cases.append(
            ([[rng.choice(live + [rng.randrange(5)]) for _ in range(4)] for _ in range(8)], rng.choice([1, 2, 3]))
        )
    for derived, limit in cases:
        before = [list(g) for g in derived]
        got = answer(derived, limit)
        expect(derived == before, "`early_stop` changed the list of derived DNAs it was given.")
        want = REFERENCE.early_stop(before, limit)
        expect(is_sequence(got, 2), f"`early_stop` returned `{show(got)}`; return a pair `(epoch, dna)`.")
        expect(
            [got[0], as_list(got[1])] == [want[0], as_list(want[1])],
            f"`early_stop({before}, limit={limit})` returned `{show(got)}`, expected "
            f"`{want}`: stop at the first epoch whose derived DNA has {limit} or more parameter-free ops (`maxpool`, "
            "`skip`, `zero`) and keep the epoch before it.",
        )


QUESTIONS = [
    Question(
        assignment=ASSIGNMENT,
        number=1,
        name="softmax",
        title="Softmax, stable",
        points=1,
        test=_check_softmax,
        hint_text=(
            "Start from the definition: exp of each alpha, divided by their sum. Why does `[1000., 1000., 0.]` "
            "overflow, and what could you subtract from every alpha without changing the result?"
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=2,
        name="mixed_forward",
        title="The mixed op",
        points=2,
        test=_check_mixed_forward,
        hint_text=(
            "Run every op on `x`, scale each output by its own weight, and add the results up; `zip` pairs each op "
            "with its weight. (Lesson 04 shows the library's version.)"
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=3,
        name="derive",
        title="Discretise without zero",
        points=2,
        test=_check_derive,
        hint_text=(
            "Work on a copy that tracks no gradient (`detach`, `clone`). How can you make `zero`'s column lose every "
            "comparison? `argmax` takes a `dim`, and `.tolist()` gives plain ints."
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=4,
        name="bilevel_step",
        title="One first-order bilevel step",
        points=3,
        test=_check_bilevel_step,
        hint_text=(
            "Each half is an ordinary PyTorch training step for one optimizer. Which optimizer goes first, and on "
            "which batch? (The task says.) And what must happen to old gradients before each `backward()`?"
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=5,
        name="early_stop",
        title="Stop before the collapse",
        points=2,
        test=_check_early_stop,
        hint_text=(
            "Which op indices are parameter-free (`list(OPERATIONS)`)? Walk the epochs in order and count them in "
            "each DNA. Mind the two edge cases: the very first epoch already reaches the limit, or no epoch ever does."
        ),
    ),
]
