"""nanoNAS in under 200 lines of code: ops -> DNA -> network -> fitness -> random search, evolution, DARTS.

`nano_nas` (run.py) runs any registered strategy: it checks the options, loads the data, picks the evaluator.
"""

import random
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .fitness import Fitness  # {dna: score} in the order evaluated; never evaluates a DNA twice
from .registry import strategy  # @strategy("name") makes a search known to nano_nas, the CLI and the dashboards


# 1. The search space: five operations; each keeps the shape (B, C, H, W) of its input.
def conv(C: int, k: int, C_in: int | None = None) -> nn.Module:
    return nn.Sequential(nn.Conv2d(C_in or C, C, k, padding=k // 2, bias=False), nn.BatchNorm2d(C), nn.ReLU())


class Zero(nn.Module):  # outputs zeros: the op that means "no connection"
    def forward(self, x):
        return x * 0.0


OPERATIONS = {  # name -> constructor(channels); add your own and the space grows
    "conv3x3": lambda C: conv(C, 3),
    "conv5x5": lambda C: conv(C, 5),
    "maxpool": lambda C: nn.MaxPool2d(3, stride=1, padding=1),
    "skip": lambda C: nn.Identity(),
    "zero": lambda C: Zero(),
}


# 2. An architecture is its DNA: a list of op indices, one per position.
def check_dna(dna, positions: int | None = None) -> list[int]:
    """Return the DNA as a list of ints, or raise a ValueError that says what is allowed."""
    n, ok = len(OPERATIONS), isinstance(dna, (list, tuple)) and 0 < len(dna) == (positions or len(dna))
    if not ok or not all(hasattr(i, "__index__") and not isinstance(i, bool) and 0 <= i < n for i in dna):
        size = f"{positions} " if positions else ""
        raise ValueError(f"a DNA is a list of {size}op indices in 0..{n - 1} ({', '.join(OPERATIONS)}); got {dna!r}")
    return [int(i) for i in dna]


def dna_key(dna) -> str:  # [1, 0, 2, 1] -> "1-0-2-1": a DNA in a table's CSV and on the command line
    return "-".join(str(int(i)) for i in dna)


def dna_from_key(key: str) -> list[int]:
    """The DNA a key like '1-0-2-1' writes, or a ValueError that shows the form."""
    parts = key.split("-") if isinstance(key, str) else []
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"a DNA key is op indices joined by '-', like '1-0-2-1'; got {key!r}")
    return [int(p) for p in parts]


def decode(dna) -> list[str]:
    return [list(OPERATIONS)[i] for i in check_dna(dna)]


def random_dna(rng: random.Random, positions: int = 4) -> list[int]:
    return [rng.randrange(len(OPERATIONS)) for _ in range(positions)]


def mutate(dna, rng: random.Random, rate: float = 0.0) -> list[int]:
    """Give one random position another op; each other position also changes with probability `rate`."""
    must = rng.randrange(len(dna))  # this position always changes, so the child is new
    other = lambda op: rng.choice([o for o in range(len(OPERATIONS)) if o != op])
    return [other(op) if i == must or rng.random() < rate else op for i, op in enumerate(dna)]


# 3. The network: stem -> the chosen ops in a chain -> global average pool -> classifier.
class Network(nn.Module):
    def __init__(self, ops, channels=16, in_channels=1, num_classes=10):
        super().__init__()
        self.stem = conv(channels, 3, C_in=in_channels)
        self.positions = nn.ModuleList(ops)  # one op (or, in DARTS, one MixedOp) per position
        self.head = nn.Linear(channels, num_classes)

    def forward(self, x):  # (B, in_channels, H, W) -> (B, num_classes)
        x = self.stem(x)
        for op in self.positions:
            x = op(x)
        return self.head(x.mean(dim=(2, 3)))


def build_model(dna, channels=16, in_channels=1, num_classes=10) -> Network:
    """A freshly initialised network of this DNA; `model.dna` remembers it."""
    model = Network([OPERATIONS[name](channels) for name in decode(dna)], channels, in_channels, num_classes)
    model.dna = check_dna(dna)
    return model


# 4. Fitness: train briefly on the training split, score on the validation split.
@dataclass
class Task:  # what a search runs on: the data, the training recipe of one evaluation, a seed, a device
    data: object  # a nanonas.data.Dataset
    positions: int = 4  # 4 positions x 5 ops = 625 architectures
    channels: int = 16  # wide enough for 99% on digits, small enough for CPU
    epochs: int = 10  # per evaluation: ~0.5 s on a CPU core, enough to rank digits architectures (NanoBench card)
    lr: float = 0.02  # Adam, cosine-decayed to ~0 over the epochs (halves seed-to-seed noise vs a constant 0.01)
    batch_size: int = 128  # 9 steps an epoch on digits: fewer, larger steps are faster on a CPU
    seed: int = 0
    device: str = "cpu"
    build_model: object = build_model  # DNA -> network: a chain of ops; nanonas.cells.build_cell: a cell (a DAG)


def train(dna, task: Task) -> tuple[Network, float]:
    """Train a fresh network of this DNA with the task's recipe; return it and its last-epoch loss."""
    torch.manual_seed(task.seed)  # build the model after seeding: the seed also sets the initial weights
    X, y = task.data.train
    model = task.build_model(dna, task.channels, task.data.in_channels, task.data.num_classes).to(task.device)
    opt = torch.optim.Adam(model.parameters(), lr=task.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=task.epochs)  # lr decays: less seed noise
    order = torch.Generator().manual_seed(task.seed)  # and the order of the batches
    for _ in range(task.epochs):
        losses = []
        for idx in torch.randperm(len(X), generator=order).split(task.batch_size):
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        schedule.step()
    return model, sum(losses) / len(losses)


@torch.no_grad()
def accuracy(model: nn.Module, X, y) -> float:
    model.eval()
    return sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in zip(X.split(1024), y.split(1024))) / len(X)


def evaluate(dna, task: Task) -> float:
    """The fitness of a DNA: validation accuracy after a short training."""
    return accuracy(train(dna, task)[0], *task.data.valid)


# 5. Random search: sample DNAs uniformly, keep the best.
@strategy("random", budget=lambda o: o["evaluations"])
def random_search(fitness: Fitness, task: Task, evaluations=100):
    """Random search: sample distinct DNAs uniformly; the best one evaluated wins."""
    rng = random.Random(task.seed)
    n = min(evaluations, len(OPERATIONS) ** task.positions)
    fitness.many([fitness.new(lambda: random_dna(rng, task.positions)) for _ in range(n)])


# 6. Evolution: tournament selection + mutation; each generation the children replace the worse half.
@strategy("evolution", budget=lambda o: o["population_size"] + o["generations"] * (o["population_size"] // 2))
def evolution(fitness: Fitness, task: Task, population_size=20, generations=10, tournament_size=3, mutation_rate=0.0):
    """Evolution: tournament selection and mutation; each generation the children replace the worse half."""
    rng = random.Random(task.seed)
    population = [fitness.new(lambda: random_dna(rng, task.positions)) for _ in range(population_size)]
    fitness.many(population)
    for _ in range(generations):
        fitness.log(population)  # one generation's gene pool, kept for the insights
        survivors = sorted(population, key=fitness, reverse=True)[: population_size - population_size // 2]
        winner = lambda: max(rng.sample(population, min(tournament_size, len(population))), key=fitness)
        mutant = lambda parent: mutate(parent, rng, mutation_rate)
        children = [fitness.new(mutant, winner()) for _ in range(population_size // 2)]
        fitness.many(children)  # the children train together (side by side when there are workers)
        population = survivors + children  # fitness is looked up, never re-trained
    fitness.log(population)


# 7. DARTS: relax the choice into a softmax over all ops, learn weights and alphas by gradient.
class MixedOp(nn.Module):  # all ops at once, weighted by softmax(alphas): one position of DARTS's supernet
    def __init__(self, C):
        super().__init__()
        self.ops = nn.ModuleList(make(C) for make in OPERATIONS.values())
        self.alphas = nn.Parameter(1e-3 * torch.randn(len(self.ops)))  # the architecture's parameters

    def forward(self, x, weights=None):
        weights = F.softmax(self.alphas, dim=-1) if weights is None else weights
        return sum(w * op(x) for w, op in zip(weights, self.ops))  # the whole relaxation, in one expression


def discretise(alphas: torch.Tensor) -> list[int]:
    """(positions, ops) alphas -> a DNA: each position's argmax, never 'zero' (it would cut the chain or the edge)."""
    alphas = alphas.detach().clone()
    if "zero" in OPERATIONS:  # a space without 'zero' has nothing to leave out
        alphas[:, list(OPERATIONS).index("zero")] = -float("inf")
    return alphas.argmax(dim=-1).tolist()


def derive(net: Network) -> list[int]:
    """The derived architecture: each position's (a cell's: each edge's) argmax over its alphas, never 'zero'."""
    return discretise(torch.stack([p for name, p in net.named_parameters() if name.endswith("alphas")]))


def supernet(task: Task) -> Network:
    """The chain's supernet: a MixedOp at every position, so one network holds every architecture."""
    mixed = [MixedOp(task.channels) for _ in range(task.positions)]
    return Network(mixed, task.channels, task.data.in_channels, task.data.num_classes)


SUPERNETS = {build_model: supernet}  # a space's build_model -> its supernet, for DARTS (cells.py adds the cell's)


def optimizers(net: nn.Module, lr: float, arch_lr: float) -> tuple:
    """DARTS's two optimisers: Adam on the weights, and Adam on the alphas with the paper's betas and decay."""
    alphas = [p for name, p in net.named_parameters() if name.endswith("alphas")]
    weights = [p for name, p in net.named_parameters() if not name.endswith("alphas")]
    return torch.optim.Adam(weights, lr=lr), torch.optim.Adam(alphas, arch_lr, betas=(0.5, 0.999), weight_decay=1e-3)


def bilevel_step(net, w_opt, a_opt, train_batch, valid_batch) -> tuple[float, float]:
    """One first-order DARTS step: alphas on the validation loss, then weights on the training loss."""
    (Xt, yt), (Xv, yv) = train_batch, valid_batch
    a_opt.zero_grad()  # first the alphas: w*(alpha) is approximated by the weights as they are now (first order)
    valid_loss = F.cross_entropy(net(Xv), yv)
    valid_loss.backward()
    a_opt.step()
    w_opt.zero_grad()  # then the weights, on the training batch, with the alphas just updated
    train_loss = F.cross_entropy(net(Xt), yt)
    train_loss.backward()
    w_opt.step()
    return train_loss.item(), valid_loss.item()


def darts_epoch(net, w_opt, a_opt, task: Task) -> tuple[float, float]:
    """One pass over the training split in bilevel steps, each with as many random validation images; returns the
    mean (training loss of the weight steps, validation loss of the alpha steps)."""
    (Xt, yt), (Xv, yv) = task.data.train, task.data.valid
    net.train()  # BatchNorm on batch statistics, even if a hook scored the supernet in eval mode
    losses = []
    for idx in torch.randperm(len(Xt)).split(task.batch_size):  # seeded where the supernet was built
        v = torch.randint(len(Xv), (len(idx),))
        losses.append(bilevel_step(net, w_opt, a_opt, (Xt[idx], yt[idx]), (Xv[v], yv[v])))
    return sum(t for t, _ in losses) / len(losses), sum(v for _, v in losses) / len(losses)


@strategy("darts", budget=lambda o: o["epochs"])
def darts(fitness: Fitness, task: Task, epochs=50, arch_lr=3e-3, on_epoch=None):
    """DARTS (Liu et al., 2019), first order: learn the weights and the alphas of a supernet by gradient descent.

    on_epoch(epoch, softmax(alphas) (positions, ops), derived DNA, training loss, validation loss) runs after each
    epoch: a dashboard draws there, and stops the search by raising."""
    if task.build_model not in SUPERNETS:
        raise ValueError("DARTS needs the supernet of this space: add its build_model -> supernet to core.SUPERNETS")
    torch.manual_seed(task.seed)  # the seed sets the weights, the alphas and the order of the batches
    net = SUPERNETS[task.build_model](task).to(task.device)
    w_opt, a_opt = optimizers(net, task.lr, arch_lr)
    alphas = [p for name, p in net.named_parameters() if name.endswith("alphas")]  # one per position (or edge)
    for epoch in range(epochs):
        train_loss, valid_loss = darts_epoch(net, w_opt, a_opt, task)
        if on_epoch:
            weights = F.softmax(torch.stack(alphas).detach(), dim=-1).cpu()  # (positions, ops)
            on_epoch(epoch, weights, derive(net), train_loss, valid_loss)
    fitness(derive(net))  # score the derived architecture with the task's evaluator
