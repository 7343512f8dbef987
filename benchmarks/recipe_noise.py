"""Why NanoBench's recipe decays its learning rate: seed-to-seed noise of candidate recipes, measured.

    python benchmarks/recipe_noise.py     # ~1 minute; writes benchmarks/results/recipe_noise.md

Six architectures (conv-heavy, mixed, pooling-heavy) are trained with three seeds under each recipe; the
figure is the mean over architectures of the standard deviation of validation accuracy across seeds.
"""

import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from nanonas import Task, accuracy, build_model, load_dataset, train
from nanonas.parallel import one_thread

ARCHS = ([0, 0, 0, 0], [1, 0, 3, 2], [2, 0, 2, 0], [0, 1, 3, 3], [3, 0, 3, 3], [1, 1, 2, 2])
OUT = Path(__file__).parent / "results" / "recipe_noise.md"


def train_constant_lr(dna, task: Task):
    """nanonas.train without the cosine decay: the recipe we did not choose."""
    torch.manual_seed(task.seed)
    X, y = task.data.train
    model = build_model(dna, task.channels, task.data.in_channels, task.data.num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=task.lr)
    order = torch.Generator().manual_seed(task.seed)
    for _ in range(task.epochs):
        for idx in torch.randperm(len(X), generator=order).split(task.batch_size):
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def main():
    data = load_dataset("digits")
    recipes = {
        "constant lr 0.01": (train_constant_lr, {"lr": 0.01}),
        "constant lr 0.02": (train_constant_lr, {"lr": 0.02}),
        "cosine from 0.02 (chosen)": (lambda d, t: train(d, t)[0], {}),
    }
    lines = [
        "| recipe (10 epochs, Adam, batch 128) | mean seed std (pp) | mean val accuracy | seconds |",
        "|---|---|---|---|",
    ]
    for name, (fit, change) in recipes.items():
        start, stds, means = time.perf_counter(), [], []
        for dna in ARCHS:
            accs = [accuracy(fit(dna, replace(Task(data), seed=s, **change)), *data.valid) for s in range(3)]
            stds.append(statistics.pstdev(accs))
            means.append(statistics.fmean(accs))
        lines.append(
            f"| {name} | {100 * statistics.fmean(stds):.2f} | {statistics.fmean(means):.2%} | "
            f"{time.perf_counter() - start:.0f} |"
        )
    text = "\n".join(lines) + "\n"
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    with one_thread():  # one core per evaluation, as NanoBench was built
        main()
