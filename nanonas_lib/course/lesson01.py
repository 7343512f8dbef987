"""Exercises for lesson 01 · the search space: its size, dead architectures, receptive fields, a new op."""

import itertools
import numbers

import torch
from torch import nn

from nanonas.core import OPERATIONS, decode

from .question import Question, Wrong, expect, reference, show

ASSIGNMENT = "01_search_space"
REFERENCE = reference(ASSIGNMENT)  # the solutions, read from solutions/01_search_space.ipynb


# -- checks


def _check_space_size(answer, seed):
    for n_ops, positions in [(5, 4), (6, 4), (5, 1), (1, 6), (3, 7), (10, 6), (2, 20)]:
        got = answer(n_ops, positions)
        want = REFERENCE.space_size(n_ops, positions)
        expect(
            isinstance(got, numbers.Integral) and not isinstance(got, bool),
            f"`space_size({n_ops}, {positions})` returned `{show(got)}`; a number of architectures is an `int`.",
        )
        expect(
            got == want,
            f"`space_size({n_ops}, {positions})` returned `{got}`, but {positions} positions with "
            f"{n_ops} choices each make {want} architectures.",
        )


def _check_is_dead(answer, seed):
    for positions in (4, 1, 6):
        space = (
            itertools.product(range(len(OPERATIONS)), repeat=positions)
            if positions < 6
            else [[0, 1, 2, 3, 3, 4], [4, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1], [0, 1, 2, 3, 2, 1]]
        )
        dnas = [list(dna) for dna in space]
        for dna, got in zip(dnas, answer.each([(list(dna),) for dna in dnas])):
            want = REFERENCE.is_dead(dna)
            expect(got in (True, False), f"`is_dead({dna})` returned `{show(got)}`; return `True` or `False`.")
            if want:
                expect(
                    got,
                    f"`is_dead({dna})` returned `False`, but {' → '.join(decode(dna))} contains `zero`: "
                    "everything after it sees only zeros, so the output cannot depend on the image.",
                )
            else:
                expect(
                    not got,
                    f"`is_dead({dna})` returned `True`, but {' → '.join(decode(dna))} has no `zero`: "
                    "every op passes something on.",
                )
    expect(answer((0, 4, 0, 0)) in (True, 1), "`is_dead((0, 4, 0, 0))` should work for a tuple too.")


def _check_dead_fraction(answer, seed):
    for n_ops in range(2, 7):
        for positions in range(1, 6):
            zero = n_ops - 1  # which op is zero does not matter; say the last
            dead = sum(zero in dna for dna in itertools.product(range(n_ops), repeat=positions))
            want = dead / n_ops**positions  # counted, not predicted
            got = answer(n_ops, positions)
            expect(
                isinstance(got, numbers.Real),
                f"`dead_fraction({n_ops}, {positions})` returned `{show(got)}`; return a number between 0 and 1.",
            )
            expect(
                abs(got - want) < 1e-9,
                f"`dead_fraction({n_ops}, {positions})` returned `{got:.4f}`, but counting "
                f"every architecture gives {dead} dead of {n_ops**positions} = {want:.4f}.",
            )


def _check_receptive_field(answer, seed):
    got = answer([1, 1, 1, 1])
    expect(
        got == 19,
        f"`receptive_field([1, 1, 1, 1])` returned `{show(got)}`: four "
        "`conv5x5` after the stem's 3×3 conv see 3 + 4·4 = 19 pixels.",
    )
    off, dnas = set(), list(itertools.product(range(len(OPERATIONS)), repeat=4))
    for dna, got in zip(dnas, answer.each([(list(dna),) for dna in dnas])):
        want = REFERENCE.receptive_field(list(dna))
        if want == 0:
            expect(
                got == 0,
                f"`receptive_field({list(dna)})` returned `{show(got)}`, but {' → '.join(decode(dna))} "
                "contains `zero`: its output depends on no pixel, so its receptive field is 0.",
            )
            continue
        expect(
            isinstance(got, numbers.Integral),
            f"`receptive_field({list(dna)})` returned `{show(got)}`; return an `int`.",
        )
        off.add(got - want)
        if got != want:
            stem = " Did you count the stem's 3×3 convolution?" if got - want in (-2, -3) else ""
            raise Wrong(
                f"`receptive_field({list(dna)})` returned `{got}`, but {' → '.join(decode(dna))} sees {want} pixels."
                f"{stem}"
            )
    for dna in ([0, 2, 3, 1, 1, 0], [3]):  # any number of positions
        want = REFERENCE.receptive_field(list(dna))  # before the call: the answer gets a copy
        got = answer(list(dna))
        expect(
            got == want,
            f"`receptive_field({dna})` returned `{show(got)}`, expected `{want}`: it should work for any number of "
            "positions.",
        )


SHAPES = [(2, 8, 8), (1, 5, 7)]  # (batch, height, width) of the inputs the op is tried on
NUDGE = 3.0  # added to one input pixel (all channels) to see whether the centre output pixel depends on it


def _probe_dilated_conv3x3(answer, inputs, base):
    """On the learner's side: run the op on the grader's inputs (drawn from a seed it never sees) and send back
    what came out. `inputs`: {C: [x, ...]}, one per SHAPES; `base`: a batch of 4-channel 9×9 images, run once
    as it is and once with each pixel nudged, so the grader can see which pixels the centre output depends on."""
    layers = []
    for C, xs in inputs:
        op = answer(C)
        if not isinstance(op, nn.Module):
            return {"not_a_module": show(op)}
        op.eval()  # BatchNorm uses its running statistics: each image is computed on its own
        outputs = []
        for x in xs:
            try:
                with torch.no_grad():
                    outputs.append(op(x))
            except Exception as e:
                shape = tuple(x.shape)
                return {
                    "failed": f"your op with `C={C}` failed on an input of shape `{shape}`: {type(e).__name__}: {e}"
                }
        layers.append([C, outputs, sum(p.numel() for p in op.parameters())])
    nudged = [base]
    for r in range(9):
        for c in range(9):
            x = base.clone()
            x[:, :, r, c] += NUDGE
            nudged.append(x)
    with torch.no_grad():
        centre = answer(4).eval()(torch.cat(nudged))[:, :, 4, 4]
    return {"layers": layers, "centre": centre}


def _support(centre, batch):
    """The offsets (from the centre) of the input pixels whose nudge changed the centre output pixel."""
    centre = centre.reshape(82, batch, -1)
    changed = (centre[1:] - centre[0]).abs().amax(dim=(1, 2)) > 1e-6  # NaN is never a change: the support is wrong
    return sorted((i // 9 - 4, i % 9 - 4) for i in changed.nonzero().flatten().tolist())


def _check_dilated_conv3x3(answer, seed):
    # the inputs come from the grader's seed: what comes back must be computed from them, by the op
    generator = torch.Generator().manual_seed(seed)
    inputs = [(C, [torch.randn(b, C, h, w, generator=generator) for b, h, w in SHAPES]) for C in (1, 4, 16)]
    base = torch.randn(8, 4, 9, 9, generator=generator)
    # the probe gets copies: what the learner's side does to its arguments never reaches the expected shapes
    got = answer.probe(_probe_dilated_conv3x3, [(C, [x.clone() for x in xs]) for C, xs in inputs], base.clone())
    expect(type(got) is dict, f"`dilated_conv3x3` could not be described (`{show(got)}`).")
    if "not_a_module" in got:
        raise Wrong(f"`dilated_conv3x3` returned `{got['not_a_module']}`; return an `nn.Module` (a layer).")
    if "failed" in got:
        raise Wrong(str(got["failed"])[:300])
    layers = got.get("layers")
    expect(type(layers) is list and len(layers) == 3, "`dilated_conv3x3` was not tried on every channel count.")
    for (C, xs), (_, outputs, weights) in zip(inputs, layers):
        for x, y in zip(xs, outputs):
            b, _, h, w = x.shape
            expect(
                torch.is_tensor(y) and list(y.shape) == [b, C, h, w],
                f"`dilated_conv3x3({C})` turned an input of shape `{(b, C, h, w)}` into "
                f"`{tuple(y.shape) if torch.is_tensor(y) else show(y)}`; every op must keep the shape (how much "
                "padding does a kernel that spans 5 pixels need?).",
            )
            expect(
                bool((y >= 0).all()),
                f"`dilated_conv3x3({C})` returns negative values; end with a ReLU, like the "
                "library's convolutions (conv → BatchNorm → ReLU).",
            )
        allowed = {9 * C * C + 2 * C, 9 * C * C + 3 * C}  # conv (with or without bias) + BatchNorm's scale and shift
        expect(
            weights in allowed,
            f"`dilated_conv3x3({C})` has {weights} parameters; one 3×3 convolution from C to C "
            f"channels plus BatchNorm has 9·C² + 2·C = {9 * C * C + 2 * C} (`C={C}`).",
        )
    centre = got.get("centre")
    expect(
        torch.is_tensor(centre) and list(centre.shape) == [82 * len(base), 4],
        "`dilated_conv3x3(4)` did not keep the shape of a batch of 9×9 images.",
    )
    want = [(r, c) for r in (-2, 0, 2) for c in (-2, 0, 2)]
    support = _support(centre, len(base))
    expect(
        support == want,
        f"one output pixel of your op depends on the input pixels at offsets `{show(support[:12])}`"
        f"{'...' if len(support) > 12 else ''}; a 3×3 conv with dilation 2 sees the 9 pixels at offsets -2, 0 and +2 "
        "in each direction.",
    )


QUESTIONS = [
    Question(
        assignment=ASSIGNMENT,
        number=1,
        name="space_size",
        title="The size of a search space",
        points=1,
        test=_check_space_size,
        hint_text=(
            "Count small cases by hand: how many architectures has 1 position? 2 positions (for each choice at the "
            "first, how many at the second)? Then spot the pattern."
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=2,
        name="is_dead",
        title="Dead architectures",
        points=1,
        test=_check_is_dead,
        hint_text=(
            "Which index does `zero` have in `list(OPERATIONS)`? (`decode(dna)` gives the names.) Then ask whether the "
            "DNA holds it anywhere."
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=3,
        name="dead_fraction",
        title="How much of the space is dead",
        points=1,
        test=_check_dead_fraction,
        hint_text=(
            "The live architectures are easier to count: if no position may hold `zero`, how many choices does each "
            "position have? Compare that count with your `space_size`."
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=4,
        name="receptive_field",
        title="What a network sees",
        points=2,
        test=_check_receptive_field,
        hint_text=(
            "Work one DNA out by hand first, say `[1, 3, 3, 3]`: what does the stem see, and what does each op add? "
            "Then turn it into a loop with a small table (op name → pixels added), and decide `zero` before the loop."
        ),
    ),
    Question(
        assignment=ASSIGNMENT,
        number=5,
        name="dilated_conv3x3",
        title="Add your own op",
        points=3,
        test=_check_dilated_conv3x3,
        hint_text=(
            "Start from the library's own convolution op (`print(inspect.getsource(nanonas.core.conv))`) and change "
            "what makes it dilated: `nn.Conv2d` has a `dilation` argument. The kernel then spans 5 pixels: which "
            "`padding` keeps an 8×8 input 8×8?"
        ),
    ),
]
