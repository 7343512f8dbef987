"""The torchvision path of load_dataset, without a network: a tiny MNIST (and Fashion-MNIST) written by the test in
torchvision's on-disk format, `train_size`, and what a failed download says."""

import urllib.error
import urllib.request
from collections import Counter

import numpy as np
import pytest
import torch

from nanonas.data import _load, _split_indices, load_dataset

TRAIN, TEST, SIDE = 200, 30, 6  # 20 training images per class, 6x6 pixels: enough to check every split


def write_idx(path, array: np.ndarray) -> None:
    """An IDX file as MNIST ships it (uncompressed): 0, 0, type 0x08 (unsigned byte), the rank, big-endian sizes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root, folder="MNIST"):
    """A tiny MNIST-format dataset under root/folder/raw; returns its (train images, train labels, test ...)."""
    rng = np.random.default_rng(0)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    arrays = {}
    for prefix, n in (("train", TRAIN), ("t10k", TEST)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 256, (n, SIDE, SIDE))
        images[:, 0, 0] = labels * 25  # pixel (0, 0) carries the label, so the test can follow every image
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = (images, labels)
    return arrays


@pytest.fixture(autouse=True)
def fresh_cache():
    _load.cache_clear()  # a folder of the same name in another test is another dataset
    yield
    _load.cache_clear()


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_a_dataset_in_torchvisions_format_loads_into_the_three_splits(tmp_path, name, folder):
    arrays = write_mnist(tmp_path, folder)
    data = load_dataset(name, root=tmp_path)
    assert (data.name, data.num_classes, data.in_channels, data.image_size) == (name, 10, 1, SIDE)
    assert (len(data.train[1]), len(data.valid[1]), len(data.test[1])) == (180, 20, TEST)  # 90% / 10% / the test set
    assert Counter(data.valid[1].tolist()) == {c: 2 for c in range(10)}  # stratified
    # the oracle: pixels / 255, the seeded 90/10 split, every split scaled with the training split's mean and sd
    images, labels = arrays["train"]
    X = (images / 255.0).astype(np.float32)[:, None]
    train, valid, _ = _split_indices(labels, (0.9, 0.1, 0.0))
    mean, std = X[train].mean(), X[train].std(ddof=1)
    test_images, test_labels = arrays["t10k"]
    want = {
        "train": ((X[train] - mean) / std, labels[train]),
        "valid": ((X[valid] - mean) / std, labels[valid]),
        "test": (((test_images / 255.0)[:, None] - mean) / std, test_labels),  # the official test set, in order
    }
    for split, (images_want, labels_want) in want.items():
        got_images, got_labels = getattr(data, split)
        assert got_images.dtype == torch.float32 and got_labels.dtype == torch.long
        assert np.allclose(got_images.numpy(), images_want, atol=1e-5), split
        assert got_labels.tolist() == labels_want.tolist(), split
    assert (data.train[0][:, 0, 0, 0] * std + mean).mul(255 / 25).round().long().equal(data.train[1])  # its labels


def test_train_size_keeps_a_stratified_seeded_sample_and_the_rest_whole(tmp_path):
    write_mnist(tmp_path)
    full = load_dataset("mnist", root=tmp_path)
    small = load_dataset("mnist", root=tmp_path, train_size=50)
    assert len(small.train[1]) == 50 and Counter(small.train[1].tolist()) == {c: 5 for c in range(10)}
    assert small.valid[0].equal(full.valid[0]) and small.test[0].equal(full.test[0])  # same images, same scaling
    rows = {tuple(x.flatten().tolist()) for x in full.train[0]}
    assert all(tuple(x.flatten().tolist()) in rows for x in small.train[0])  # a subset, not new images
    again = load_dataset("mnist", root=tmp_path, train_size=50)
    assert again.train[0].equal(small.train[0])  # seeded: the same sample every time
    odd = load_dataset("mnist", root=tmp_path, train_size=13)
    assert len(odd.train[1]) == 13 and max(Counter(odd.train[1].tolist()).values()) == 2
    assert load_dataset("mnist", root=tmp_path, train_size=180) is full
    for bad in (0, 181, 2.5, True, "50"):
        with pytest.raises(ValueError, match="train_size must be a whole number of training images from 1 to 180"):
            load_dataset("mnist", root=tmp_path, train_size=bad)


def test_train_size_on_an_embedded_dataset_leaves_the_full_one_as_it_was():
    full = load_dataset("digits")
    before = full.train[0].clone()
    small = load_dataset("digits", train_size=100)
    assert len(small.train[1]) == 100 and Counter(small.train[1].tolist()) == {c: 10 for c in range(10)}
    assert load_dataset("digits").train[0].equal(before) and small.valid[0] is full.valid[0]


def test_a_missing_dataset_says_how_to_fetch_it(tmp_path):
    with pytest.raises(ValueError, match="is not in .*pass download=True"):
        load_dataset("mnist", root=tmp_path)  # no MNIST folder: said without asking torchvision
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)  # a folder without the files: torchvision finds nothing
    with pytest.raises(ValueError, match="is not in .*pass download=True") as caught:
        load_dataset("mnist", root=tmp_path)
    assert isinstance(caught.value.__cause__, RuntimeError)


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_a_failed_download_says_it_failed_and_why(tmp_path, monkeypatch, name):
    """Offline (simulated: every URL refuses), download=True must not say 'pass download=True'."""

    def offline(*args, **kwargs):
        raise urllib.error.URLError(OSError(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(ValueError) as caught:
        load_dataset(name, root=tmp_path, download=True)
    message = str(caught.value)
    assert f"downloading {name!r} into {tmp_path} failed" in message and "Name or service not known" in message
    assert "pass download=True" not in message and "dataset='digits'" in message
    assert isinstance(caught.value.__cause__, (RuntimeError, OSError))  # torchvision's own error stays attached


def test_an_mnist_subset_trains_like_digits(tmp_path):
    """The loaded tensors are what training expects: a network trains on them and scores the test split."""
    from nanonas.core import Task, evaluate

    write_mnist(tmp_path)
    data = load_dataset("mnist", root=tmp_path, train_size=40)
    torch.manual_seed(0)
    score = evaluate([0, 3, 3, 3], Task(data=data, epochs=1, seed=0))
    assert 0.0 <= score <= 1.0
