"""Datasets as tensors split into train / validation / test, ready for a search."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10")
SPLIT_SEED = 0  # the train/validation/test split never changes: NanoBench depends on it
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


def _split(X: np.ndarray, y: np.ndarray, fractions=(0.6, 0.2, 0.2)):
    """A stratified, seeded split into train / valid / test (fractions of each class)."""
    rng = np.random.default_rng(SPLIT_SEED)
    parts = ([], [], [])
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        a = round(fractions[0] * len(idx))
        b = a + round(fractions[1] * len(idx))
        for part, chunk in zip(parts, (idx[:a], idx[a:b], idx[b:])):
            part.append(chunk)
    out = []
    for part in parts:
        idx = np.sort(np.concatenate(part))
        out.append((torch.as_tensor(X[idx], dtype=torch.float32), torch.as_tensor(y[idx], dtype=torch.long)))
    return out


def _standardise(train, *others):
    """Scale every split with the training split's mean and standard deviation per channel."""
    mean = train[0].mean(dim=(0, 2, 3), keepdim=True)
    std = train[0].std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return [((X - mean) / std, y) for X, y in (train, *others)]


def _digits() -> Dataset:
    from sklearn.datasets import load_digits  # ships with scikit-learn: no network

    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8)
    train, valid, test = _standardise(*_split(X, d.target))
    return Dataset("digits", train, valid, test, 10)


_TORCHVISION = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}


def _torchvision(name: str, root: Path, download: bool) -> Dataset:
    import torchvision

    cls = getattr(torchvision.datasets, _TORCHVISION[name])
    try:
        train_set = cls(str(root), train=True, download=download)
        test_set = cls(str(root), train=False, download=download)
    except RuntimeError as e:  # torchvision's "Dataset not found"
        raise ValueError(
            f"dataset {name!r} is not in {root}; pass download=True (Python) or --download (CLI) "
            f"to fetch it once, or use dataset='digits', which needs no network"
        ) from e
    except OSError as e:  # offline, DNS failure, refused connection
        raise ValueError(f"could not download {name!r} ({e}); check the network or use dataset='digits'") from e

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


def load_dataset(name: str = "digits", *, download: bool = False, root=None) -> Dataset:
    """Load a dataset by name: 'digits' (embedded, offline) or a torchvision one on request."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return _load(name, Path(root) if root else DEFAULT_ROOT, bool(download))


@lru_cache(maxsize=4)
def _load(name: str, root: Path, download: bool) -> Dataset:
    return _digits() if name == "digits" else _torchvision(name, root, download)
