"""Evaluating in parallel (nanonas.parallel): the same search for any number of workers, the same number as NanoBench,
stoppable, failures that name the DNA, no process left behind; Ray as an executor; CUDA when there is one."""

import os
import signal
import subprocess
import sys

import pytest
import torch

import nanonas
from nanonas import parallel
from nanonas.bench import NanoBench, build
from nanonas.run import Run
from tests.conftest import toy_fitness

TINY = {"train_epochs": 1, "progress": False}  # real training, as short as it gets


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting for its parent to collect it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def run_tracking_workers(strategy, options, stop_after=None):
    """Run a search; return the Run and the worker pids seen while it ran. `stop_after` n evaluations: Stop."""
    run, seen = Run(strategy, options), []
    evaluate = run.fitness.evaluator

    def watched(dna):  # wraps the evaluator the way the SearchDashboard does
        seen.extend(p for p in run.pool.pids() if p not in seen)
        if stop_after is not None and len(run.fitness) == stop_after:
            raise KeyboardInterrupt  # what the dashboard's Stop raises
        return evaluate(dna)

    run.fitness.evaluator = watched
    return run.search(), seen


def test_the_same_seed_finds_the_same_dna_with_one_worker_or_two():
    options = {"population_size": 4, "generations": 2, "seed": 5, **TINY}
    one = nanonas.nano_nas("evolution", workers=1, **options).search
    two = nanonas.nano_nas("evolution", workers=2, **options).search
    assert two.options["workers"] == 2 and one.options["workers"] == 1
    assert one.history == two.history  # the same DNAs in the same order with the same fitness, bit for bit
    assert one.dna == two.dna and one.extra["populations"] == two.extra["populations"]
    assert one.test_accuracy == two.test_accuracy


def test_a_real_training_fitness_is_nanobench_s_number_for_that_dna_and_seed(tmp_path):
    # A table built on this machine (bit-exact numbers depend on the CPU: the shipped table came from another one)
    space = {"positions": 1, "epochs": 2, "seeds": (0, 1), "workers": 2, "progress": False}
    bench = NanoBench.load(build(tmp_path, **space))
    for seed in (0, 1):
        options = {"evaluations": 5, "positions": 1, "train_epochs": 2, "seed": seed, "workers": 2, "progress": False}
        result = nanonas.nano_nas("random", **options).search
        for h in [*result.history, {"dna": result.dna, "fitness": result.test_accuracy, "split": "test"}]:
            record = bench.query(h["dna"])
            table = record[f"{h.get('split', 'val')}_accuracies"][record["seeds"].index(seed)]
            assert float(f"{h['fitness']:.6g}") == table  # the table keeps 6 significant digits: the count exactly


def test_the_progress_bar_counts_finished_evaluations():
    run = Run("random", {"evaluations": 3, "workers": 2, "train_epochs": 1})
    run.search()
    assert run.bar.n == len(run.fitness) == 3


def test_stop_keeps_what_was_found_and_ends_every_worker():
    run, pids = run_tracking_workers("random", {"evaluations": 8, "workers": 2, **TINY}, stop_after=3)
    assert run.interrupted and len(run.fitness) == 3
    assert len(pids) == 2 and not any(map(alive, pids))  # the two still training were stopped, not awaited
    assert run.finish().search.evaluations == 3


def test_no_worker_outlives_a_search_that_finished():
    run, pids = run_tracking_workers("evolution", {"population_size": 4, "generations": 1, "workers": 2, **TINY})
    assert not run.interrupted and len(run.fitness) == 6
    assert len(pids) == 2 and not any(map(alive, pids)) and run.pool.pids() == []


CTRL_C = """
import json, signal, sys, time
from nanonas.run import Run
signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as in a terminal, even if our parent ignores it
run = Run("random", {"evaluations": 50, "workers": 2, "train_epochs": 1, "progress": False})
evaluate = run.fitness.evaluator
def first_then_tell(dna):
    if len(run.fitness) == 1:  # one result is kept: tell the test who the workers are, and wait for its Ctrl-C
        print(json.dumps(run.pool.pids()), flush=True)
        time.sleep(120)  # (a search this small could finish before the signal arrives: no race with the clock)
    return evaluate(dna)
run.fitness.evaluator = first_then_tell
result = run.search().finish().search
print(json.dumps({"interrupted": result.interrupted, "evaluations": result.evaluations}), flush=True)
"""


def test_ctrl_c_stops_the_workers_and_keeps_what_was_found():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-c", CTRL_C], stdout=subprocess.PIPE, text=True, env=env)
    pids = eval(process.stdout.readline())  # the first result is in
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=300)  # a hang fails here
    result = eval(out.strip().splitlines()[-1].replace("true", "True").replace("false", "False"))
    assert process.returncode == 0 and result["interrupted"] and 1 <= result["evaluations"] < 50
    assert len(pids) == 2 and not any(map(alive, pids))


def broken_evaluate(dna, task):
    if dna == [1, 1, 1, 1]:
        raise ArithmeticError("this DNA always fails")
    if dna == [2, 2, 2, 2]:
        os._exit(3)  # a worker that dies (killed, out of memory, a crash in C)
    return 0.5


@pytest.mark.parametrize("bad, says", [([1, 1, 1, 1], "failed in a worker: ArithmeticError"), ([2, 2, 2, 2], "died")])
def test_a_failing_worker_names_the_dna_and_nothing_hangs(monkeypatch, bad, says):
    monkeypatch.setattr(parallel, "evaluate", broken_evaluate)  # forked workers inherit it
    run, pids = Run("random", {"evaluations": 4, "workers": 2, **TINY}), []
    run.fitness.evaluator = lambda dna, evaluate=run.fitness.evaluator: pids.extend(run.pool.pids()) or evaluate(dna)
    with pytest.raises(RuntimeError) as error:
        run.fitness.many([[0, 0, 0, 0], bad, [3, 3, 3, 3], [0, 1, 2, 3]])
    assert says in str(error.value) and str(bad) in str(error.value)
    run.pool.close()
    assert pids and not any(map(alive, pids))


def square_or_die(n):
    if n < 0:
        os._exit(3)  # a worker that dies
    return n * n, torch.get_num_threads()


def test_local_workers_run_every_job_on_one_thread_and_say_when_one_dies():
    workers = parallel.LocalWorkers(lambda: None, (), square_or_die, 2, fork=True)
    try:
        assert sorted(workers.as_completed(range(6))) == [(n * n, 1) for n in range(6)]
        pids = workers.pids()
        with pytest.raises(RuntimeError, match="a worker process died"):
            list(workers.as_completed([1, -1, 2]))
    finally:
        workers.close()
    assert len(pids) == 2 and not any(map(alive, pids))


class InOrder(parallel.Pool):
    """A pool without processes: `start` records what is in flight, `evaluate` scores it with a toy fitness."""

    remote = True  # go through the in-flight window even for one worker

    def __init__(self, workers):
        super().__init__()
        self.workers, self.fitness, self.most_in_flight = workers, toy_fitness(), 0

    def _submit(self, dna):
        self.most_in_flight = max(self.most_in_flight, len(self.running) + 1)
        return dna

    def _collect(self, dna, job):
        return self.fitness(dna)


def regularized_evolution(pool, seed):
    from nanonas.core import Task
    from nanonas.strategies.regularized_evolution import regularized_evolution

    fitness = nanonas.Fitness(pool.evaluate, pool.map)
    regularized_evolution(fitness, Task(None, seed=seed), population_size=8, sample_size=3, evaluations=60)
    return list(fitness.items()), fitness.populations


def test_asynchronous_regularized_evolution_keeps_n_children_in_flight():
    sequential = nanonas.Fitness(toy_fitness())
    from nanonas.core import Task
    from nanonas.strategies.regularized_evolution import regularized_evolution as re

    re(sequential, Task(None, seed=1), population_size=8, sample_size=3, evaluations=60)
    assert regularized_evolution(InOrder(1), seed=1)[0] == list(sequential.items())  # one worker: the classic one
    four = InOrder(4)
    history, populations = regularized_evolution(four, seed=1)
    assert len(history) == 60 and four.most_in_flight == 8  # the first population at once, then 4 children at a time
    assert (history, populations) == regularized_evolution(InOrder(4), seed=1)  # reproducible for a given N
    assert history != list(sequential.items())  # but another search than with one worker


def test_bad_parallel_options_say_what_is_allowed():
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        nanonas.nano_nas(workers=0)
    with pytest.raises(ValueError, match="unknown executor 'dask'; choose one of: local, ray"):
        nanonas.nano_nas(executor="dask")
    with pytest.raises(ValueError, match="address is a Ray address"):
        nanonas.nano_nas(address="auto")


def test_lookups_and_your_own_evaluator_stay_in_this_process():
    for evaluator in ("bench", toy_fitness()):
        run = Run("random", {"evaluations": 3, "evaluator": evaluator, "workers": 2, "progress": False})
        assert run.pool is None and run.fitness.map_fn is map


# -- Ray: a local Ray with two CPUs, started and shut down by the search itself


@pytest.mark.slow
def test_a_search_on_ray_is_the_search_on_local_workers():
    ray = pytest.importorskip("ray")
    options = {"population_size": 4, "generations": 1, "seed": 2, **TINY}
    on_ray = nanonas.nano_nas("evolution", workers=2, executor="ray", **options).search
    assert not ray.is_initialized()  # the search started its local Ray and shut it down
    assert on_ray.history == nanonas.nano_nas("evolution", workers=2, **options).search.history


@pytest.mark.slow
def test_a_small_table_builds_on_ray_with_the_numbers_of_a_local_build(tmp_path):
    ray = pytest.importorskip("ray")
    space = {"positions": 1, "epochs": 1, "seeds": (0,), "workers": 2, "progress": False}
    on_ray = NanoBench.load(build(tmp_path / "ray", executor="ray", **space))
    assert not ray.is_initialized()
    local = NanoBench.load(build(tmp_path / "local", **space))
    assert len(on_ray) == 5 and on_ray.meta["complete"]
    assert [r["val_accuracies"] for r in on_ray] == [r["val_accuracies"] for r in local]


# -- GPU


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_workers_share_the_gpu():
    options = {"evaluations": 4, "seed": 1, "device": "cuda", **TINY}
    run, pids = run_tracking_workers("random", {"workers": 2, **options})
    assert len(run.fitness) == 4 and all(0 <= f <= 1 for f in run.fitness.values())
    assert len(pids) == 2 and not any(map(alive, pids))  # spawned workers (CUDA cannot be forked), all gone
    one = Run("random", {"workers": 1, **options}).search()
    assert list(one.fitness) == list(run.fitness)  # the same DNAs; scores on a GPU may differ in the last bits


def test_ray_is_imported_only_when_asked_for(monkeypatch):
    search = "import sys, nanonas; nanonas.nano_nas('random', evaluations=2, workers=2, train_epochs=1, progress=False)"
    subprocess.run([sys.executable, "-c", search + "; assert 'ray' not in sys.modules"], check=True)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ValueError, match=r"pip install 'nanonas\[ray\]'"):
        parallel.RayWorkers(print, (), print)


class _SlowRay:
    """Stands in for the ray module: its init misses the start-up deadline `misses` times, as on a busy machine."""

    def __init__(self, misses):
        self.misses, self.inits, self.shutdowns = misses, 0, 0

    def init(self, **kwargs):
        self.inits += 1
        if self.inits <= self.misses:
            raise Exception("The current node timed out during startup.")

    def shutdown(self):
        self.shutdowns += 1


def test_a_local_ray_that_misses_its_start_is_started_once_more():
    ray = _SlowRay(misses=1)
    parallel._start_ray(ray, None, num_cpus=2)
    assert (ray.inits, ray.shutdowns) == (2, 1)


def test_a_ray_that_never_starts_is_one_clear_error():
    ray = _SlowRay(misses=5)
    with pytest.raises(RuntimeError, match=r"a local Ray did not start .*timed out.*2 tries.*executor='local'"):
        parallel._start_ray(ray, None, num_cpus=2)
    assert ray.inits == 2 and ray.shutdowns == 2
