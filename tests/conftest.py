import pytest

from nanonas.parallel import one_thread

pytest_plugins = ["pytester"]  # tests/test_claims.py runs nbval on a probe notebook


@pytest.fixture(autouse=True)
def _one_thread():
    """Tests share two cores with whatever else runs; one thread keeps timings and results steady."""
    with one_thread():
        yield


def toy_fitness(target=(0, 1, 2, 3)):
    """A deterministic fitness with one optimum: how many positions match `target` (ties broken by op sum)."""
    calls = []

    def fitness(dna):
        calls.append(list(dna))
        return sum(a == b for a, b in zip(dna, target)) + 0.01 * sum(dna) / len(dna)

    fitness.calls = calls
    return fitness
