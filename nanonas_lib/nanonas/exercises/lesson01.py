"""Exercises for lesson 01 · the search space: its size, dead architectures, receptive fields, a new op."""

import itertools
import numbers

import torch
from torch import nn

from ..core import OPERATIONS, decode
from .question import Question, Raised, Wrong, expect, show
from .question import bind as _bind

# -- references: one way to write each answer (q.solution() shows them)


def space_size(n_ops, positions):
    """How many architectures a chain of `positions` positions, each choosing one of `n_ops` ops, contains."""
    return n_ops**positions  # n_ops choices at each position, independently


def is_dead(dna):
    """True when the chain contains `zero`: everything after it sees zeros, so the output ignores the image."""
    return "zero" in decode(dna)


def dead_fraction(n_ops, positions):
    """The share of a chain space (one of the `n_ops` ops is `zero`) whose architectures are dead."""
    alive = ((n_ops - 1) / n_ops) ** positions  # no zero at any position
    return 1 - alive


GROWTH = {"conv3x3": 2, "conv5x5": 4, "maxpool": 2, "skip": 0}  # a k x k window widens the view by k - 1


def receptive_field(dna):
    """The side, in pixels, of the input window one output pixel of the last op depends on (0 if dead)."""
    names = decode(dna)
    if "zero" in names:
        return 0  # the output depends on no pixel at all
    return 3 + sum(GROWTH[name] for name in names)  # the stem's 3x3 conv, then each op in turn


def dilated_conv3x3(C):
    """A 3x3 convolution with dilation 2 (a 5x5 view with holes, 9 weights per channel pair), BatchNorm, ReLU."""
    return nn.Sequential(nn.Conv2d(C, C, 3, padding=2, dilation=2, bias=False), nn.BatchNorm2d(C), nn.ReLU())


# -- checks


def _check_space_size(answer):
    for n_ops, positions in [(5, 4), (6, 4), (5, 1), (1, 6), (3, 7), (10, 6), (2, 20)]:
        got = answer(n_ops, positions)
        want = space_size(n_ops, positions)
        expect(
            isinstance(got, numbers.Integral) and not isinstance(got, bool),
            f"space_size({n_ops}, {positions}) returned {show(got)}; a number of architectures is an int.",
        )
        expect(
            got == want,
            f"space_size({n_ops}, {positions}) returned {got}, but {positions} positions with "
            f"{n_ops} choices each make {want} architectures.",
        )


def _check_is_dead(answer):
    for positions in (4, 1, 6):
        space = (
            itertools.product(range(len(OPERATIONS)), repeat=positions)
            if positions < 6
            else [[0, 1, 2, 3, 3, 4], [4, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1], [0, 1, 2, 3, 2, 1]]
        )
        for dna in space:
            dna = list(dna)
            got, want = answer(list(dna)), is_dead(dna)
            expect(got in (True, False), f"is_dead({dna}) returned {show(got)}; return True or False.")
            if want:
                expect(
                    got,
                    f"is_dead({dna}) returned False, but {' → '.join(decode(dna))} contains zero: "
                    "everything after it sees only zeros, so the output cannot depend on the image.",
                )
            else:
                expect(
                    not got,
                    f"is_dead({dna}) returned True, but {' → '.join(decode(dna))} has no zero: "
                    "every op passes something on.",
                )
    expect(answer((0, 4, 0, 0)) in (True, 1), "is_dead((0, 4, 0, 0)) should work for a tuple too.")


def _check_dead_fraction(answer):
    for n_ops in range(2, 7):
        for positions in range(1, 6):
            zero = n_ops - 1  # which op is zero does not matter; say the last
            dead = sum(zero in dna for dna in itertools.product(range(n_ops), repeat=positions))
            want = dead / n_ops**positions  # counted, not predicted
            got = answer(n_ops, positions)
            expect(
                isinstance(got, numbers.Real),
                f"dead_fraction({n_ops}, {positions}) returned {show(got)}; return a number between 0 and 1.",
            )
            expect(
                abs(got - want) < 1e-9,
                f"dead_fraction({n_ops}, {positions}) returned {got:.4f}, but counting "
                f"every architecture gives {dead} dead of {n_ops**positions} = {want:.4f}.",
            )


def _check_receptive_field(answer):
    expect(
        answer([1, 1, 1, 1]) == 19,
        f"receptive_field([1, 1, 1, 1]) returned {show(answer([1, 1, 1, 1]))}: four "
        "conv5x5 after the stem's 3×3 conv see 3 + 4·4 = 19 pixels.",
    )
    off = set()
    for dna in itertools.product(range(len(OPERATIONS)), repeat=4):
        got, want = answer(list(dna)), receptive_field(list(dna))
        if want == 0:
            expect(
                got == 0,
                f"receptive_field({list(dna)}) returned {show(got)}, but {' → '.join(decode(dna))} "
                "contains zero: its output depends on no pixel, so its receptive field is 0.",
            )
            continue
        expect(isinstance(got, numbers.Integral), f"receptive_field({list(dna)}) returned {show(got)}; return an int.")
        off.add(got - want)
        if got != want:
            stem = " Did you count the stem's 3×3 convolution?" if got - want in (-2, -3) else ""
            raise Wrong(
                f"receptive_field({list(dna)}) returned {got}, but {' → '.join(decode(dna))} sees {want} pixels.{stem}"
            )
    for dna in ([0, 2, 3, 1, 1, 0], [3]):  # any number of positions
        expect(
            answer(dna) == receptive_field(dna),
            f"receptive_field({dna}) returned {show(answer(dna))}, expected "
            f"{receptive_field(dna)}: it should work for any number of positions.",
        )


def _support(op, C):
    """Which input pixels the centre output pixel depends on (offsets from the centre), measured by gradients."""
    x = torch.randn(16, C, 9, 9, requires_grad=True)
    op(x)[:, :, 4, 4].sum().backward()
    where = (x.grad.abs().sum(dim=(0, 1)) > 0).nonzero().tolist()
    return sorted((r - 4, c - 4) for r, c in where)


def _check_dilated_conv3x3(answer):
    torch.manual_seed(0)
    for C in (1, 4, 16):
        op = answer(C)
        expect(isinstance(op, nn.Module), f"dilated_conv3x3({C}) returned {show(op)}; return an nn.Module (a layer).")
        op.eval()  # BatchNorm uses its running statistics: each image is computed on its own
        for shape in [(2, C, 8, 8), (1, C, 5, 7)]:
            try:
                y = op(torch.randn(*shape))
            except Exception as e:
                raise Raised(
                    f"your op with C={C} failed on an input of shape {shape}: {type(e).__name__}: {e}", e
                ) from e
            expect(
                tuple(y.shape) == shape,
                f"dilated_conv3x3({C}) turned an input of shape {shape} into "
                f"{tuple(y.shape)}; every op must keep the shape (pad by 2 with dilation 2).",
            )
            expect(
                bool((y >= 0).all()),
                f"dilated_conv3x3({C}) returns negative values; end with a ReLU, like the "
                "library's convolutions (conv → BatchNorm → ReLU).",
            )
        weights = sum(p.numel() for p in op.parameters())
        allowed = {9 * C * C + 2 * C, 9 * C * C + 3 * C}  # conv (with or without bias) + BatchNorm's scale and shift
        expect(
            weights in allowed,
            f"dilated_conv3x3({C}) has {weights} parameters; one 3×3 convolution from C to C "
            f"channels plus BatchNorm has 9·C² + 2·C = {9 * C * C + 2 * C} (C={C}).",
        )
    want = [(r, c) for r in (-2, 0, 2) for c in (-2, 0, 2)]
    got = _support(answer(4).eval(), 4)
    expect(
        got == want,
        f"one output pixel of your op depends on the input pixels at offsets {got[:12]}"
        f"{'...' if len(got) > 12 else ''}; a 3×3 conv with dilation 2 sees the 9 pixels at offsets -2, 0 and +2 "
        "in each direction.",
    )


QUESTIONS = [
    Question(
        1,
        "space_size",
        "The size of a search space",
        1,
        _check_space_size,
        "Each position chooses independently among n_ops ops: multiply the choices.",
        space_size,
    ),
    Question(
        2,
        "is_dead",
        "Dead architectures",
        1,
        _check_is_dead,
        "A chain is dead as soon as one position holds `zero`. `decode(dna)` gives the op names.",
        is_dead,
    ),
    Question(
        3,
        "dead_fraction",
        "How much of the space is dead",
        1,
        _check_dead_fraction,
        "Count the live ones instead: each position must avoid zero, which it does with probability "
        "(n_ops - 1) / n_ops.",
        dead_fraction,
    ),
    Question(
        4,
        "receptive_field",
        "What a network sees",
        2,
        _check_receptive_field,
        "Start from the stem's 3×3 window (3 pixels). A k×k op with stride 1 widens it by k - 1; skip adds "
        "nothing; a chain with zero sees nothing (0).",
        receptive_field,
    ),
    Question(
        5,
        "dilated_conv3x3",
        "Add your own op",
        3,
        _check_dilated_conv3x3,
        "nn.Conv2d takes `dilation=2`; with a 3×3 kernel it then spans 5 pixels, so `padding=2` keeps the "
        "size. Follow it with nn.BatchNorm2d(C) and nn.ReLU() in an nn.Sequential, like core.conv.",
        dilated_conv3x3,
    ),
]


def bind(namespace: dict) -> list[Question]:
    """This lesson's questions, checking the answers defined in `namespace` (pass `globals()`)."""
    return _bind(QUESTIONS, namespace)
