"""Exercises for lesson 04 · DARTS: softmax, the mixed op, discretisation, the bilevel step, early stopping."""

import random

import torch
import torch.nn.functional as F

from ..core import OPERATIONS, MixedOp, Network, genotype
from .question import Question, Raised, Wrong, expect, show
from .question import bind as _bind

OPS = list(OPERATIONS)
FREE = {OPS.index(name) for name in ("maxpool", "skip", "zero")}  # the parameter-free ops


# -- references


def softmax(alphas):
    """exp(alphas) normalised to sum to 1; subtracting the max first keeps exp from overflowing."""
    e = torch.exp(alphas - alphas.max())
    return e / e.sum()


def mixed_forward(x, ops, weights):
    """DARTS's continuous relaxation: every op's output, weighted and summed."""
    return sum(w * op(x) for w, op in zip(weights, ops))


def discretise(alphas):
    """Each position's strongest op (argmax over its alphas), never `zero`: a DNA, as a list of ints."""
    alphas = alphas.detach().clone()  # (positions, ops); a copy, so the caller's alphas stay as they are
    alphas[:, OPS.index("zero")] = -float("inf")
    return alphas.argmax(dim=1).tolist()


def bilevel_step(net, w_opt, a_opt, train_batch, valid_batch):
    """One first-order DARTS step: the alphas descend the validation loss, then the weights the training loss."""
    (Xt, yt), (Xv, yv) = train_batch, valid_batch
    a_opt.zero_grad()
    F.cross_entropy(net(Xv), yv).backward()
    a_opt.step()
    w_opt.zero_grad()
    F.cross_entropy(net(Xt), yt).backward()
    w_opt.step()


def early_stop(genotypes, limit=2):
    """DARTS+'s rule: at the first epoch whose genotype has `limit` or more parameter-free ops, keep the epoch
    before (or epoch 0); if that never happens, the last. Returns (epoch, genotype)."""
    for epoch, dna in enumerate(genotypes):
        if sum(op in FREE for op in dna) >= limit:
            keep = max(epoch - 1, 0)
            return keep, genotypes[keep]
    return len(genotypes) - 1, genotypes[-1]


# -- checks


def _check_softmax(answer):
    torch.manual_seed(0)
    for n in (5, 1, 2, 8):
        alphas = torch.randn(n)
        got = answer(alphas.clone())
        expect(torch.is_tensor(got), f"softmax returned {show(got)}; return a tensor.")
        expect(got.shape == alphas.shape, f"softmax of {n} alphas returned shape {tuple(got.shape)}; expected ({n},).")
        expect(
            torch.allclose(got, F.softmax(alphas, dim=0), atol=1e-6),
            f"softmax({show(alphas)}) returned {show(got)}; expected {show(F.softmax(alphas, dim=0))}.",
        )
    big = torch.tensor([1000.0, 1000.0, 0.0])
    got = answer(big.clone())
    expect(
        bool(torch.isfinite(got).all()),
        f"softmax({big.tolist()}) returned {got.tolist()}: exp(1000) overflows "
        "to inf. Subtract the largest alpha first — it does not change the result.",
    )
    expect(
        torch.allclose(got, torch.tensor([0.5, 0.5, 0.0]), atol=1e-6),
        f"softmax({big.tolist()}) returned {got.tolist()}, expected [0.5, 0.5, 0.0].",
    )
    alphas = torch.randn(5, requires_grad=True)
    got = answer(alphas)
    expect(
        got.requires_grad,
        "your softmax cuts the gradient (.item(), .detach(), .tolist() or numpy?): the alphas are learned through it.",
    )
    (got * torch.arange(5.0)).sum().backward()
    want = torch.autograd.grad((F.softmax(alphas, 0) * torch.arange(5.0)).sum(), alphas)[0]
    expect(
        torch.allclose(alphas.grad, want, atol=1e-6),
        "the gradient through your softmax differs from torch's; compute it from tensor operations on alphas.",
    )


def _softmaxed(got, mixed, x, weights):
    """A hint when the answer applied softmax to weights that were already weights."""
    again = mixed(x, F.softmax(weights, 0))
    if torch.allclose(got, again, atol=1e-5):
        return " It looks as if you applied softmax to the weights: they are already weights — use them as given."
    return ""


def _check_mixed_forward(answer):
    torch.manual_seed(0)
    mixed = MixedOp(4).eval()  # eval: BatchNorm uses running statistics, so every op is a fixed function
    x = torch.randn(2, 4, 6, 6)
    for i, name in enumerate(OPS):
        one_hot = F.one_hot(torch.tensor(i), len(OPS)).float()
        got = answer(x, mixed.ops, one_hot)
        expect(
            torch.is_tensor(got) and got.shape == x.shape,
            f"mixed_forward returned {show(got, 60)}; return a tensor shaped like x, {tuple(x.shape)}.",
        )
        if not torch.allclose(got, mixed.ops[i](x), atol=1e-6):
            hint = _softmaxed(got, mixed, x, one_hot)
            raise Wrong(
                f"with one-hot weights on {name}, mixed_forward should equal {name}(x) exactly; it does not.{hint}"
            )
    for weights in (F.softmax(torch.randn(len(OPS)), 0), torch.tensor([0.5, 2.0, -1.0, 0.25, 3.0])):
        got = answer(x, mixed.ops, weights)
        want = mixed(x, weights)  # the library's MixedOp.forward
        if not torch.allclose(got, want, atol=1e-5):
            hint = _softmaxed(got, mixed, x, weights)
            raise Wrong(
                f"with weights {[round(w, 3) for w in weights.tolist()]}, mixed_forward differs from the "
                f"weighted sum of the ops' outputs (largest difference {(got - want).abs().max():.3g}).{hint}"
            )
    weights = F.softmax(torch.randn(len(OPS)), 0).requires_grad_()
    got = answer(x, mixed.ops, weights)
    expect(got.requires_grad, "mixed_forward cuts the gradient to the weights: the alphas could not be learned.")
    got.sum().backward()
    want = torch.stack([op(x).sum() for op in mixed.ops]).detach()
    expect(
        torch.allclose(weights.grad, want, atol=1e-4),
        "the gradient of mixed_forward with respect to the weights should be each op's output; it is not.",
    )


def _check_discretise(answer):
    torch.manual_seed(0)
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
                f"discretise raised {type(e.original).__name__} on alphas that require grad (as DARTS's do): "
                f"{e.original}. Work on a detached copy: alphas.detach().clone()."
            ) from None
        expect(
            torch.equal(param.detach(), before),
            "your discretise changed the alphas it was given; work on a copy "
            "(alphas.detach().clone()), or the search would lose its zero column.",
        )
        expect(
            isinstance(got, list) and all(type(i) is int for i in got),
            f"discretise returned {show(got)}; a DNA is a plain list of ints (tensor.tolist() makes one).",
        )
        net = Network([MixedOp(2) for _ in range(len(alphas))], channels=2)
        with torch.no_grad():
            for cell, row in zip(net.cells, alphas):
                cell.alphas.copy_(row)
        want = genotype(net)  # the library's discretisation
        if got != want:
            picked_zero = zero in got
            hint = " It picked zero, which would cut the chain: leave zero out." if picked_zero else ""
            raise Wrong(
                f"discretise returned {got} for alphas {show([[round(a, 2) for a in r] for r in alphas.tolist()], 90)}"
                f"; expected {want}.{hint}"
            )


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
    bilevel_step(net, w_opt, a_opt, valid_batch, train_batch)


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
    _swapped: "the alphas were trained on the training batch and the weights on the validation batch; swap them: "
    "DARTS fits the weights to the training data and chooses the architecture on held-out validation data.",
    _weights_first: "you stepped the weights before the alphas; the first-order step moves the alphas first (with "
    "the current weights), then the weights, as core.darts does.",
    _no_zero_grad: "gradients leak from one step into the next: call a_opt.zero_grad() and w_opt.zero_grad() before "
    "each backward().",
}


def _check_bilevel_step(answer):
    alphas, weights = _run(answer)
    want_alphas, want_weights = _run(bilevel_step)
    start_alphas, start_weights = _run(lambda *args: None)
    if torch.allclose(alphas, want_alphas, atol=1e-6) and torch.allclose(weights, want_weights, atol=1e-6):
        return
    expect(
        not torch.equal(alphas, start_alphas),
        "after your bilevel_step the alphas have not moved: step a_opt on the validation loss.",
    )
    expect(
        not torch.equal(weights, start_weights),
        "after your bilevel_step the weights have not moved: step w_opt on the training loss.",
    )
    for mistake, message in MISTAKES.items():
        a, w = _run(mistake)
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
        f"after two steps, {right} one first-order DARTS step: alphas on the validation loss (a_opt), then "
        "weights on the training loss (w_opt), zeroing gradients before each backward."
    )


def _check_early_stop(answer):
    rng = random.Random(0)
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
    for genotypes, limit in cases:
        before = [list(g) for g in genotypes]
        got = answer(genotypes, limit)
        expect(genotypes == before, "early_stop changed the genotypes it was given.")
        want = early_stop(before, limit)
        expect(
            isinstance(got, tuple) and len(got) == 2,
            f"early_stop returned {show(got)}; return a pair (epoch, genotype).",
        )
        expect(
            list(got) == [want[0], want[1]],
            f"early_stop({before}, limit={limit}) returned {show(got)}, expected "
            f"{want}: stop at the first epoch whose genotype has {limit} or more parameter-free ops (maxpool, "
            "skip, zero) and keep the epoch before it.",
        )


QUESTIONS = [
    Question(
        1,
        "softmax",
        "Softmax, stable",
        1,
        _check_softmax,
        "softmax(a) = exp(a) / exp(a).sum(); subtracting a.max() from every alpha first changes nothing but keeps "
        "exp finite.",
        softmax,
    ),
    Question(
        2,
        "mixed_forward",
        "The mixed op",
        2,
        _check_mixed_forward,
        "One expression: sum(w * op(x) for w, op in zip(weights, ops)).",
        mixed_forward,
    ),
    Question(
        3,
        "discretise",
        "Discretise without zero",
        2,
        _check_discretise,
        "Copy the alphas (alphas.detach().clone()), set the zero column to -inf, take argmax(dim=1), then .tolist().",
        discretise,
    ),
    Question(
        4,
        "bilevel_step",
        "One first-order bilevel step",
        3,
        _check_bilevel_step,
        "Two blocks of zero_grad → loss → backward → step: first a_opt with the validation batch, then w_opt "
        "with the training batch. F.cross_entropy(net(X), y) is the loss.",
        bilevel_step,
    ),
    Question(
        5,
        "early_stop",
        "Stop before the collapse",
        2,
        _check_early_stop,
        "Loop with enumerate; count the ops of each genotype that are in {maxpool, skip, zero}; at the first "
        "epoch that reaches the limit return the epoch before (but never below 0).",
        early_stop,
    ),
]


def bind(namespace: dict) -> list[Question]:
    """This lesson's questions, checking the answers defined in `namespace` (pass `globals()`)."""
    return _bind(QUESTIONS, namespace)
