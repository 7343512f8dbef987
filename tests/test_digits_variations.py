"""digits_variations: drawn deterministically, split by source digit, sized as promised; digits unchanged."""

import hashlib

import numpy as np
import pytest
import torch

import nanonas
from nanonas.bench import NanoBench, tables
from nanonas.data import VARIATIONS, _split_indices, digits_variations, load_dataset


def digest(dataset) -> str:
    h = hashlib.sha256()
    for split in ("train", "valid", "test"):
        for t in getattr(dataset, split):
            h.update(t.numpy().tobytes())
    return h.hexdigest()


def test_digits_is_bit_identical_to_the_one_nanobench_was_built_on():
    assert digest(load_dataset("digits")) == "3954edc4d0852e6b07673f23e733a14200e12bba3ed21a9e810bd253f0a0f807"


def test_digits_variations_is_the_same_every_time():
    assert digest(load_dataset("digits_variations")) == digest(digits_variations())


def test_sizes_keep_the_cost_and_make_one_validation_image_small():
    digits, variations = load_dataset("digits"), load_dataset("digits_variations")
    assert variations.train[0].shape == digits.train[0].shape  # same training set size: same cost per evaluation
    assert len(variations.valid[0]) == VARIATIONS["variants"] * len(digits.valid[0])
    assert len(variations.test[0]) == VARIATIONS["variants"] * len(digits.test[0])
    assert 100 / len(variations.valid[0]) <= 0.1  # one validation image, in percentage points
    for split in ("train", "valid", "test"):  # the labels follow the source digits of digits' own split
        ours, theirs = getattr(variations, split)[1], getattr(digits, split)[1]
        assert torch.equal(ours, theirs.repeat(len(ours) // len(theirs)))


def test_no_source_digit_appears_in_two_splits():
    from sklearn.datasets import load_digits

    train, valid, test = (set(idx.tolist()) for idx in _split_indices(load_digits().target))
    assert not (train & valid or train & test or valid & test)
    assert len(train | valid | test) == 1797


def test_the_variants_of_a_digit_differ():
    X = load_dataset("digits_variations").valid[0]
    n = len(X) // VARIATIONS["variants"]
    assert not torch.equal(X[:n], X[n : 2 * n])  # variant 1 and variant 2 of every held-out digit
    assert np.isclose(float(load_dataset("digits_variations").train[0].mean()), 0, atol=1e-5)  # standardised


def test_every_place_that_takes_a_dataset_takes_it():
    with pytest.raises(ValueError, match="digits_variations"):
        load_dataset("digit_variations")
    model = nanonas.nano_nas("random", dataset="digits_variations", evaluations=1, train_epochs=1, progress=False)
    assert model.search.options["dataset"] == "digits_variations" and 0 <= model.search.val_accuracy <= 1


def complete(name: str) -> bool:
    return name in tables() and NanoBench.load(name).meta["complete"]


@pytest.mark.skipif(not complete("digits_variations"), reason="the digits_variations table is still being built")
def test_a_search_on_digits_variations_looks_up_its_own_table():
    bench = NanoBench.load("digits_variations")
    model = nanonas.nano_nas("random", dataset="digits_variations", evaluator="bench", evaluations=20, progress=False)
    assert model.search.val_accuracy in bench.query(model.dna)["val_accuracies"]
    assert nanonas.nano_nas("random", evaluations=2, progress=False).search.options["dataset"] == "digits"
