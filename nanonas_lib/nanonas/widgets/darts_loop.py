"""DARTS one epoch at a time, with its losses: the same steps as `core.darts`, opened up for the dashboards.

`core.darts` reports only the alphas and the derived DNA; a dashboard also wants the training and validation
losses and a chance to stop between two steps. The loop below is `core.darts` line for line (same seeding, same
order of random draws, same optimisers), so with the same task it learns the same alphas (tests check it).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..core import MixedOp, Network, Task, genotype


@dataclass
class DartsEpoch:
    """What one epoch of DARTS ended with."""

    epoch: int  # 0-based
    weights: torch.Tensor  # (positions, ops): softmax(alphas), each row sums to 1
    dna: list  # the architecture discretisation would pick now (argmax per position, never 'zero')
    train_loss: float  # mean loss of the weight steps (training batches)
    valid_loss: float  # mean loss of the alpha steps (validation batches)


def darts_epochs(
    task: Task, epochs: int = 50, arch_lr: float = 3e-3, after_step: Callable[[], None] | None = None
) -> Iterator[DartsEpoch]:
    """Run `core.darts`'s bilevel search, yielding a `DartsEpoch` after each epoch; `after_step()` runs after every
    batch (a dashboard raises there to stop)."""
    torch.manual_seed(task.seed)
    (Xt, yt), (Xv, yv) = task.data.train, task.data.valid
    cells = [MixedOp(task.channels) for _ in range(task.positions)]
    net = Network(cells, task.channels, task.data.in_channels, task.data.num_classes).to(task.device)
    alphas = [p for name, p in net.named_parameters() if name.endswith("alphas")]
    w_opt = torch.optim.Adam([p for name, p in net.named_parameters() if not name.endswith("alphas")], lr=task.lr)
    a_opt = torch.optim.Adam(alphas, lr=arch_lr, betas=(0.5, 0.999), weight_decay=1e-3)
    for epoch in range(epochs):
        train_losses, valid_losses = [], []
        for idx in torch.randperm(len(Xt)).split(task.batch_size):
            # first-order bilevel step: alphas descend the validation loss, then weights the training loss
            v = torch.randint(len(Xv), (len(idx),))
            a_opt.zero_grad()
            valid_loss = F.cross_entropy(net(Xv[v]), yv[v])
            valid_loss.backward()
            a_opt.step()
            w_opt.zero_grad()
            train_loss = F.cross_entropy(net(Xt[idx]), yt[idx])
            train_loss.backward()
            w_opt.step()
            train_losses.append(train_loss.item())
            valid_losses.append(valid_loss.item())
            if after_step:
                after_step()
        weights = F.softmax(torch.stack(alphas).detach(), dim=-1).cpu()  # (positions, ops)
        mean = lambda xs: sum(xs) / len(xs)
        yield DartsEpoch(epoch, weights, genotype(net), mean(train_losses), mean(valid_losses))
