"""How fast is NAS-Bench-201 as a NanoBench? Load time (first: converting the CSVs; then: the compiled cache) and
the time of 1,000 lookups, the issue's targets being <= 1 s and <= 20 ms.

    python benchmarks/nb201_speed.py [--path ../shared/nb201]

Process CPU time and wall time are both printed: on a machine shared with other jobs, CPU time is the fairer one.
The compiled cache goes to a temporary folder, so the first load really converts.
"""

import argparse
import random
import tempfile
import time
from pathlib import Path

from nanonas import nb201
from nanonas.bench import NanoBench

SHARED = Path(__file__).resolve().parents[2] / "shared" / "nb201"


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(SHARED), help="the folder of NB201's tables")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        nb201.CACHE = Path(cache)
        _, wall, cpu = timed(lambda: NanoBench.load("nb201", path=args.path))
        print(f"first load (converting the CSVs): {wall:.2f} s wall, {cpu:.2f} s CPU")
        best = None
        for _ in range(3):  # the best of three
            table, wall, cpu = timed(lambda: NanoBench.load("nb201", path=args.path))
            best = min(best or (wall, cpu), (wall, cpu))
        print(f"load (compiled cache):            {best[0]:.3f} s wall, {best[1]:.3f} s CPU  (target <= 1 s)")
        dnas = random.Random(0).sample([list(r["dna"]) for r in table], 1000)
        for name in ("query", "evaluator"):  # on a fresh load: the first lookup of a cell builds its record
            table = NanoBench.load("nb201", path=args.path)
            lookup = table.query if name == "query" else table.evaluator(seed=0)
            _, first, cpu = timed(lambda: [lookup(d) for d in dnas])
            _, again, _ = timed(lambda: [lookup(d) for d in dnas])
            print(
                f"1,000 lookups ({name}): {1000 * first:.1f} ms wall ({1000 * cpu:.1f} ms CPU), "
                f"{1000 * again:.1f} ms again  (target <= 20 ms)"
            )


if __name__ == "__main__":
    main()
