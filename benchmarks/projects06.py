"""Project 06a (beginner): the grown space's NanoBench that notebooks/06a_grow_the_space.ipynb loads.

    python benchmarks/projects06.py build   # course.lab.GROWN_OPS: core.py's 5 + sep_conv3x3, dil_conv3x3; 2 positions

Writes benchmarks/results/projects06_grown/ (a NanoBench folder: `NanoBench.load(that folder)`), resumable. Training
is seeded, so the runs repeat to the 6 digits the table stores; the build time does not (it is the machine's).
Project 06c needs no shipped results: its 540 searches are NanoBench lookups and run in the notebook in seconds.
"""

import argparse
import time
from pathlib import Path

from course.lab import GROWN_OPS, GROWN_POSITIONS, GROWN_SEEDS  # the space, defined once for notebook and script
from nanonas.bench import build

RESULTS = Path(__file__).parent / "results"
GROWN = RESULTS / "projects06_grown"


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
