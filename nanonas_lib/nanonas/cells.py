"""A cell search space: a small graph whose every edge chooses an op (NAS-Bench-201's cell, with nanoNAS's ops).

Real DARTS searches a *cell*, not a chain. Node 0 is the cell's input; every later node sums one op applied to each
earlier node; the last node is the cell's output. With 4 nodes there are 6 edges, so a cell's DNA is 6 op indices in
the order of EDGES (5**6 = 15,625 cells), and everything that works on a list of op indices (random search,
evolution, the predictors, the NanoBench builder) works on cells too. On an edge, 'zero' removes the edge: in a cell
that is a real choice, and the cell stays live while some path from its input to its output avoids 'zero'.

    model = build_cell([0, 3, 1, 4, 3, 0])                      # stem -> cell -> global average pool -> classifier
    task = Task(data, positions=6, build_model=build_cell)      # train, evaluate and search on cells

The rest of the file is the differentiable side, on the same cell: a supernet with a MixedOp on every edge, DARTS on
it (with two remedies for its collapse: DARTS-'s auxiliary skip and DARTS-PT's perturbation-based selection), and
one-shot weight sharing (a supernet trained on uniformly sampled paths, then asked how good each cell is).
"""

import random
from contextlib import contextmanager

import torch
import torch.nn as nn
import torch.nn.functional as F

from .core import (
    OPERATIONS,
    SUPERNETS,
    MixedOp,
    Network,
    Task,
    accuracy,
    build_model,
    check_dna,
    darts_epoch,
    decode,
    derive,  # the derived cell: each edge's argmax over its alphas, never 'zero' (as DARTS derives cells)
    optimizers,
)

NODES = 4
EDGES = [(i, j) for j in range(1, NODES) for i in range(j)]  # (from node, to node): 0-1, 0-2, 1-2, 0-3, 1-3, 2-3
CELLS = 1  # cells in a network, one after the other; on 8x8 digits one cell (up to 3 ops deep) is enough to rank


# 1. A cell, and a network of cells.
class Cell(nn.Module):
    """One cell: `edges[e]` carries node EDGES[e][0] to node EDGES[e][1]; each node sums what arrives at it."""

    def __init__(self, edges):
        super().__init__()
        self.edges = nn.ModuleList(edges)  # one op per edge; in a supernet, one MixedOp per edge
        self.path = None  # in a supernet: one op index per edge to run instead of the mixture (one-shot)
        self.aux_skip = 0.0  # DARTS-'s auxiliary skip: beta * input added on every edge (0: none)

    def forward(self, x):  # (B, C, H, W) -> (B, C, H, W)
        nodes = [x]
        for j in range(1, NODES):
            nodes.append(sum(self.edge(e, nodes[i]) for e, (i, k) in enumerate(EDGES) if k == j))
        return nodes[-1]

    def edge(self, e, x):
        op = self.edges[e] if self.path is None else self.edges[e].ops[self.path[e]]
        return op(x) + self.aux_skip * x if self.aux_skip else op(x)


def build_cell(dna, channels=16, in_channels=1, num_classes=10) -> Network:
    """A freshly initialised network of this cell: stem -> cell -> global average pool -> classifier."""
    dna = check_dna(dna, len(EDGES))
    cells = [Cell([OPERATIONS[name](channels) for name in decode(dna)]) for _ in range(CELLS)]
    model = Network(cells, channels, in_channels, num_classes)
    model.dna = dna
    return model


def is_live(dna) -> bool:
    """Does some path from the cell's input (node 0) to its output avoid 'zero'? If not, the output is all zeros."""
    zero = list(OPERATIONS).index("zero") if "zero" in OPERATIONS else None
    reached = {0}
    for e, (i, j) in enumerate(EDGES):  # EDGES go in order of their target node: a source is settled before use
        if i in reached and dna[e] != zero:
            reached.add(j)
    return NODES - 1 in reached


def conv_edges(dna) -> int:
    """How many edges of the cell are convolutions (any op whose name starts with 'conv')."""
    names = list(OPERATIONS)
    return sum(names[i].startswith("conv") for i in dna)


def stratified_sample(per_stratum=45, seed=0) -> list[list[int]]:
    """Live cells drawn at random, `per_stratum` with each number of convolution edges (0 to 6, or all when fewer).

    Uniform draws would be mostly cells with 2 or 3 convolutions (4,860 and 4,320 of the 15,625); equal strata put
    the conv-heavy cells, where the best ones are, in the sample too, and the conv-free ones at the bottom.
    """
    rng = random.Random(seed)
    space = [
        [(c // len(OPERATIONS) ** e) % len(OPERATIONS) for e in range(len(EDGES))]
        for c in range(len(OPERATIONS) ** len(EDGES))
    ]
    strata = {}
    for dna in space:
        if is_live(dna):
            strata.setdefault(conv_edges(dna), []).append(dna)
    return [dna for k in sorted(strata) for dna in rng.sample(strata[k], min(per_stratum, len(strata[k])))]


# 2. The supernet: a MixedOp on every edge, so one network holds every cell.
def supernet(task: Task) -> Network:
    """Every op on every edge, weighted by softmax(alphas) (DARTS), or one sampled path at a time (one-shot)."""
    torch.manual_seed(task.seed)  # the seed sets the weights and the alphas
    cells = [Cell([MixedOp(task.channels) for _ in EDGES]) for _ in range(CELLS)]
    for cell in cells[1:]:  # every cell shares the first cell's alphas: one architecture, repeated
        for mine, first in zip(cell.edges, cells[0].edges):
            mine.alphas = first.alphas
    return Network(cells, task.channels, task.data.in_channels, task.data.num_classes).to(task.device)


SUPERNETS[build_cell] = supernet  # core.darts (nano_nas('darts', space='cell'), the dashboards) searches cells too
SPACES = {"chain": build_model, "cell": build_cell}  # how a DNA becomes a network: ops in a row, or a cell


def alphas_of(net: Network) -> torch.Tensor:
    """The architecture weights, softmax per edge: (edges, ops)."""
    return F.softmax(torch.stack([mixed.alphas.detach() for mixed in net.positions[0].edges]), dim=-1).cpu()


@contextmanager
def on_path(net: Network, dna):
    """Run the supernet as one cell: each edge runs only the op of `dna` (the shared weights of that op)."""
    for cell in net.positions:
        cell.path = list(dna)
    try:
        yield net
    finally:
        for cell in net.positions:
            cell.path = None


# 3. DARTS on the cell, first order (core's bilevel step and epoch), with two remedies for its collapse.
def darts(task: Task, epochs=30, arch_lr=3e-3, aux_skip=False, on_epoch=None, net=None) -> dict:
    """DARTS on the cell: {'net': the supernet, 'alphas': softmaxed alphas after each epoch (epochs, edges, ops),
    'derived': the derived cell after each epoch, 'train_loss' and 'valid_loss' per epoch}.

    on_epoch(epoch, softmax(alphas) (edges, ops), derived cell, training loss, validation loss): core.darts's hook,
    so what draws or stops a chain's DARTS does a cell's too. `net`: the supernet to search (default: a fresh
    `supernet(task)`), for a hook that looks into it between epochs.
    aux_skip: DARTS- (Chu et al., 2021): every edge also adds beta * its input, beta decaying linearly from 1 to 0,
    so a skip connection's advantage is given for free and the alphas need not pay it to 'skip'.
    """
    net = supernet(task) if net is None else net
    w_opt, a_opt = optimizers(net, task.lr, arch_lr)
    history = {"net": net, "alphas": [], "derived": [], "train_loss": [], "valid_loss": []}
    for epoch in range(epochs):
        beta = 1 - epoch / max(epochs - 1, 1) if aux_skip else 0.0  # 1 at the first epoch, 0 at the last
        for cell in net.positions:
            cell.aux_skip = beta
        train_loss, valid_loss = darts_epoch(net, w_opt, a_opt, task)
        history["alphas"].append(alphas_of(net))
        history["derived"].append(derive(net))
        history["train_loss"].append(train_loss)
        history["valid_loss"].append(valid_loss)
        if on_epoch:
            on_epoch(epoch, history["alphas"][-1], history["derived"][-1], train_loss, valid_loss)
    for cell in net.positions:
        cell.aux_skip = 0.0
    return history


@torch.no_grad()
def perturbation_select(net: Network, data) -> list[int]:
    """DARTS-PT's selection (Wang et al., 2021): on each edge, the op whose removal lowers the supernet's validation
    accuracy most, instead of the largest alpha (never 'zero'). The paper fine-tunes the supernet after each edge is
    decided; this one-pass version does not."""
    X, y = data.valid
    chosen = []
    for mixed in net.positions[0].edges:
        saved, without = mixed.alphas.detach().clone(), []
        for k, name in enumerate(OPERATIONS):
            mixed.alphas.data[k] = -float("inf")  # softmax gives op k no weight: the supernet without it
            without.append(2.0 if name == "zero" else accuracy(net, X, y))
            mixed.alphas.data.copy_(saved)
        chosen.append(min(range(len(without)), key=without.__getitem__))
    return chosen


# 4. One-shot weight sharing: train the supernet on uniformly sampled paths, then score any cell with its weights.
def train_one_shot(task: Task, epochs=30) -> Network:
    """A supernet whose every batch trains one cell drawn uniformly (one op per edge): the shared weights of
    random-sampling one-shot NAS (Li and Talwalkar, 2019; Guo et al., 2020). The alphas are not used."""
    net = supernet(task)
    rng = random.Random(task.seed)
    X, y = task.data.train
    weights = [p for name, p in net.named_parameters() if not name.endswith("alphas")]
    opt = torch.optim.Adam(weights, lr=task.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    for _ in range(epochs):
        for idx in torch.randperm(len(X)).split(task.batch_size):
            with on_path(net.train(), [rng.randrange(len(OPERATIONS)) for _ in EDGES]):
                loss = F.cross_entropy(net(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        schedule.step()
    return net


@torch.no_grad()
def supernet_accuracy(net: Network, dna, data, recalibrate=False, batches=8, batch_size=256) -> float:
    """A cell's validation accuracy inside the supernet, with the shared weights (no training of its own).

    BatchNorm's running statistics were averaged over every path that used each op; `recalibrate` re-estimates
    them for this cell alone, on `batches` training batches, before scoring (the supernet is left as it was).
    """
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone(), m.momentum) for m in norms]
    try:
        with on_path(net, check_dna(dna, len(EDGES))):
            if recalibrate:
                for m in norms:
                    m.reset_running_stats()
                    m.momentum = None  # a plain average over the batches that follow
                net.train()
                for xb in data.train[0][: batches * batch_size].split(batch_size):
                    net(xb)
            return accuracy(net, *data.valid)
    finally:
        for m, (mean, var, count, momentum) in zip(norms, saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(count)
            m.momentum = momentum
