"""What one op costs on this CPU, at batch 1 and batch 256, measured so that a busy machine cannot fake it (lesson 01).

Each op (16 channels, 8x8 input, one torch thread) is warmed up, then timed in rounds that interleave the ops in a
shuffled order, so a burst of load elsewhere hits every op alike rather than one. Each sample is the mean of a few
calls, timed as the CPU time of the measuring thread (see `sample`); we report the median over rounds and its
25th-75th percentile spread, per batch size. Dividing by the batch size gives the cost per image, which explains
why an op can be cheap at batch 1 and dear at batch 256.

nice -n 10 .venv/bin/python benchmarks/op_latency.py     # writes benchmarks/results/op_latency.json (~1 minute)
"""

import argparse
import json
import platform
import random
import time
from pathlib import Path

import numpy as np
import torch

from nanonas import OPERATIONS
from nanonas.parallel import one_thread

RESULTS = Path(__file__).resolve().parent / "results" / "op_latency.json"
BATCHES = (1, 4, 16, 64, 256)


@torch.no_grad()
def sample(op, x, calls: int) -> tuple[float, float]:
    """Mean (CPU time of this thread, wall time) of `calls` forward passes, in milliseconds.

    With one torch thread, the thread's CPU time is the latency the op would have on a quiet core: time spent
    waiting while other programs run is not counted, so a busy machine does not inflate it. Wall time is kept too.
    """
    cpu, wall = time.thread_time(), time.perf_counter()
    for _ in range(calls):
        op(x)
    return 1000 * (time.thread_time() - cpu) / calls, 1000 * (time.perf_counter() - wall) / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    ops = {name: make(16).eval() for name, make in OPERATIONS.items()}
    inputs = {b: torch.randn(b, 16, 8, 8) for b in BATCHES}
    calls = {b: max(2, 256 // b) for b in BATCHES}  # enough calls per sample to rise above the timer's resolution
    for b in BATCHES:  # warm-up: first calls allocate, pick kernels, fill caches
        for op in ops.values():
            sample(op, inputs[b], 20)
    times = {(name, b): [] for name in ops for b in BATCHES}
    walls = {(name, b): [] for name in ops for b in BATCHES}
    for _ in range(args.rounds):
        jobs = [(name, b) for name in ops for b in BATCHES]
        rng.shuffle(jobs)  # interleaved: no op is measured only while the machine is busy
        for name, b in jobs:
            cpu, wall = sample(ops[name], inputs[b], calls[b])
            times[name, b].append(cpu)
            walls[name, b].append(wall)
    rows = []
    for name in ops:
        for b in BATCHES:
            t = np.array(times[name, b])
            rows.append(
                {
                    "op": name,
                    "batch": b,
                    "median_ms": round(float(np.median(t)), 5),
                    "q25_ms": round(float(np.percentile(t, 25)), 5),
                    "q75_ms": round(float(np.percentile(t, 75)), 5),
                    "wall_median_ms": round(float(np.median(walls[name, b])), 5),
                }
            )
    meta = {
        "command": "nice -n 10 .venv/bin/python benchmarks/op_latency.py",
        "rounds": args.rounds,
        "calls_per_sample": {str(b): calls[b] for b in BATCHES},
        "clock": "thread CPU time (time.thread_time); wall_median_ms: wall clock",
        "channels": 16,
        "input": [16, 8, 8],
        "torch_threads": 1,
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    for r in rows:
        print(r)


if __name__ == "__main__":
    with one_thread():  # one core per evaluation, as NanoBench was built
        main()
