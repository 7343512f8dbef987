"""Project 06a (beginner): the grown space's NanoBench that notebooks/06a_grow_the_space.ipynb loads.

    python benchmarks/projects06.py build   # 7 ops (core.py's 5 + sep_conv3x3, dil_conv3x3) x 2 positions x 1 seed

Writes benchmarks/results/projects06_grown/ (a NanoBench folder: `NanoBench.load(that folder)`), resumable. Training
is seeded, so the runs repeat to the 6 digits the table stores; the build time does not (it is the machine's).
Project 06c needs no shipped results: its 540 searches are NanoBench lookups and run in the notebook in seconds.
"""

import argparse
import time
from pathlib import Path

import torch.nn as nn

from nanonas import OPERATIONS
from nanonas.bench import build

RESULTS = Path(__file__).parent / "results"
GROWN = RESULTS / "projects06_grown"


def sep_conv(C: int) -> nn.Module:
    """Depthwise-separable 3x3: one 3x3 filter per channel, then a 1x1 that mixes channels (MobileNet, DARTS)."""
    return nn.Sequential(
        nn.Conv2d(C, C, 3, padding=1, groups=C, bias=False),
        nn.Conv2d(C, C, 1, bias=False),
        nn.BatchNorm2d(C),
        nn.ReLU(),
    )


def dil_conv(C: int) -> nn.Module:
    """Dilated 3x3 (dilation 2): nine weights spread over a 5x5 window (DARTS's dil_conv_3x3, without the split)."""
    return nn.Sequential(nn.Conv2d(C, C, 3, padding=2, dilation=2, bias=False), nn.BatchNorm2d(C), nn.ReLU())


GROWN_OPS = {**{name: OPERATIONS[name] for name in ("conv3x3", "conv5x5", "maxpool", "skip", "zero")}}
GROWN_OPS.update(sep_conv3x3=sep_conv, dil_conv3x3=dil_conv)
GROWN_POSITIONS, GROWN_SEEDS = 2, (0,)


def build_grown(workers: int = 2) -> Path:
    started = time.perf_counter()
    build(GROWN, ops=GROWN_OPS, positions=GROWN_POSITIONS, seeds=GROWN_SEEDS, workers=workers)
    print(f"built {GROWN} in {time.perf_counter() - started:.0f} s (wall, this run)")
    return GROWN


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["build"])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.what == "build":
        build_grown(args.workers)
