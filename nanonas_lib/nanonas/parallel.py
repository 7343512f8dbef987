"""Evaluate DNAs side by side: worker processes on this machine, or Ray tasks on a cluster; one torch thread each.

Every evaluation trains on one thread, so its score does not depend on how many workers there are or which one ran
it; that is also how NanoBench was built, so a real-training fitness equals the table's entry for that DNA and seed.
`Run` builds a pool for real training (options `workers`, `executor`, `address`) and gives `pool.map` to `Fitness`
as its `map_fn`; table lookups and your own evaluator run in this process, one after another.

    pool = parallel.pool(task, workers=2)                  # or executor="ray", address="auto"
    scores = list(pool.map(pool.evaluate, [[0, 1, 3, 2], [1, 1, 0, 3]]))
    pool.close()                                           # stops every worker, finished or not
"""

import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import replace

import torch

from .core import OPERATIONS, Task, evaluate

EXECUTORS = {  # where workers run, with what the command line's help says of each
    "local": "worker processes on this machine (the default)",
    "ray": "Ray tasks, on a local Ray or a cluster at --address",
}


def cores() -> int:
    """The CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def torch_threads(n: int | None):
    """Run torch on `n` threads for a while (None: as many as now), then on as many as before, after an error too."""
    threads = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def one_thread():
    """Run torch on one thread for a while, as every worker does: `with one_thread(): ...`."""
    return torch_threads(1)


def evaluate_here(dna, task: Task) -> float:
    """The fitness of a DNA, trained in this process on one thread: the same number a worker returns."""
    with one_thread():
        return evaluate(dna, task)


# ---------------------------------------------------------------------------------------------------------------
# What a worker process does: receive the task once, then evaluate DNA after DNA

_WORKER = {}  # in a worker: the task it evaluates with (data included), set once when the worker starts


def _boot(start, args: tuple) -> None:
    """What every worker process does first (local or Ray), then `start(*args)`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the search process: it stops the workers
    torch.set_num_threads(1)  # one core each: workers side by side do not fight over cores
    start(*args)


def _start_worker(task: Task, ops: dict | None = None) -> None:
    if ops is not None:  # a fresh process (Ray, spawn) gets the ops the search uses, added ones included
        OPERATIONS.clear()
        OPERATIONS.update(ops)
    _WORKER["task"] = replace(task, data=task.data.to(task.device))  # a no-op on the CPU; a GPU copy once per worker


def _evaluate_in_worker(dna) -> float:
    return evaluate(dna, _WORKER["task"])


class Pool:
    """Evaluates DNAs on workers: `start` one, `evaluate` collects it; `map` starts DNAs ahead of collecting them."""

    workers: int

    def __init__(self):
        self.running = {}  # {dna tuple: its job} started and not collected yet

    def map(self, evaluate, dnas):
        """Like `map(evaluate, dnas)`, in the same order, with DNAs started on the workers before `evaluate`
        (which ends in `self.evaluate`) collects each one.

        A list is started all at once (a generation's children). An iterator is pulled only `workers` ahead: a
        strategy that proposes DNAs from the results so far keeps exactly `workers` in flight (asynchronous search).
        """
        if self.workers == 1 and not self.remote:
            return map(evaluate, dnas)  # one worker: evaluate here, one after another
        return self._ahead(evaluate, dnas, len(dnas) if isinstance(dnas, list) else self.workers)

    def _ahead(self, evaluate, dnas, ahead: int):
        dnas, started = iter(dnas), deque()

        def pull():  # start the next DNA on a worker, if there is one
            for dna in dnas:
                self.start(dna)
                started.append(dna)
                return

        for _ in range(ahead):
            pull()
        while started:
            yield evaluate(started.popleft())  # in proposal order, whichever finished first
            pull()  # the caller has seen that result: the next DNA may depend on it

    def start(self, dna) -> None:
        if tuple(dna) not in self.running:
            self.running[tuple(dna)] = self._submit(list(dna))

    def evaluate(self, dna) -> float:
        """The fitness of one DNA: collected from the workers if it was started there, else evaluated now."""
        job = self.running.pop(tuple(dna), None)
        return self._collect(list(dna), job) if job is not None else self._evaluate_now(list(dna))

    def close(self) -> None:
        """Stop the workers now, busy or not: no process outlives the search."""


def can_fork() -> bool:
    """Can worker processes be forked here (Linux, macOS on request), so that they share what this process built?"""
    return "fork" in multiprocessing.get_all_start_methods()


class LocalWorkers:
    """Processes on this machine that run `fn(job)` once `start(*args)` has run in each, one torch thread each;
    forked (`fork=True`: what a notebook defined goes along) or spawned (`args` must then pickle)."""

    def __init__(self, start, args: tuple, fn, workers: int, fork: bool):
        context = multiprocessing.get_context("fork" if fork else "spawn")
        self.workers, self.fn = workers, fn
        self.executor = ProcessPoolExecutor(workers, context, initializer=_boot, initargs=(start, args))

    def submit(self, job) -> Future:
        return self.executor.submit(self.fn, job)

    def as_completed(self, jobs):
        """fn(job) for each job, in the order they finish; a worker that dies says so in one RuntimeError."""
        try:
            yield from (future.result() for future in as_completed([self.submit(job) for job in jobs]))
        except BrokenProcessPool as e:
            raise RuntimeError("a worker process died (killed, or out of memory?)") from e

    def pids(self) -> list[int]:
        return list(self.executor._processes)

    def close(self) -> None:
        """Stop every worker now, busy or not."""
        processes = list(self.executor._processes.values())  # the executor's own handles: the only way to stop
        for p in processes:  # a worker in the middle of a training at once (Python 3.14 adds terminate_workers)
            p.terminate()
        self.executor.shutdown(wait=True, cancel_futures=True)
        for p in processes:
            p.join()


class LocalPool(Pool):
    """Worker processes on this machine, started on first use; forked where possible (ops added in a notebook go
    along), spawned for a GPU (CUDA cannot be forked) or where fork is missing."""

    remote = False

    def __init__(self, task: Task, workers: int):
        super().__init__()
        self.task, self.workers, self._local = task, workers, None

    def _submit(self, dna):
        if self._local is None:
            fork = can_fork() and not self.task.device.startswith("cuda")
            # forked workers share the parent's data; spawned ones get a CPU copy once and move it to the device
            task = self.task if fork else replace(self.task, data=self.task.data.to("cpu"))
            self._local = LocalWorkers(_start_worker, (task,), _evaluate_in_worker, self.workers, fork)
        return self._local.submit(dna)

    def _collect(self, dna, future) -> float:
        try:
            return future.result()
        except BrokenProcessPool as e:
            in_flight = [dna, *map(list, self.running)]
            raise RuntimeError(f"a worker process died (killed, or out of memory?) while evaluating {in_flight}") from e
        except Exception as e:
            raise RuntimeError(f"evaluating {dna} failed in a worker: {e!r}") from e

    def _evaluate_now(self, dna) -> float:
        return evaluate_here(dna, self.task)

    def pids(self) -> list[int]:
        """The worker processes' ids (none before the first DNA is started or after `close`)."""
        return [] if self._local is None else self._local.pids()

    def close(self) -> None:
        self.running.clear()
        if self._local is not None:
            self._local.close()
            self._local = None


# ---------------------------------------------------------------------------------------------------------------
# Ray: the same, as tasks on a local Ray or a cluster

_RAY_WORKER = {}  # in a Ray worker process: the key of the set-up it ran last


def _ray_call(setup: list, start, fn, job):
    """Run fn(job) in a Ray worker, after start(*setup) has run once in this worker process."""
    import ray

    key = setup[0].hex()  # the set-up travels as one object in Ray's store, fetched once per worker process
    if _RAY_WORKER.get("setup") != key:
        _boot(start, ray.get(setup[0]))
        _RAY_WORKER["setup"] = key
    return fn(job)


class RayWorkers:
    """Ray tasks that run `fn(job)` once `start(*args)` has run in their process; one CPU (or a GPU share) each.

    `address=None` starts a local Ray with `workers` CPUs (all cores by default) and shuts it down on `close`;
    'auto' or 'ray://host:10001' joins a running cluster, whose nodes need nanonas installed. A Ray that is
    already running (`ray.init` done by you) is used as it is and left running.
    """

    def __init__(self, start, args: tuple, fn, workers: int | None = None, address=None, gpus: float = 0):
        try:
            import ray
        except ImportError:
            raise ValueError("executor='ray' needs Ray: pip install 'nanonas[ray]'") from None
        self.ray, self.ours = ray, not ray.is_initialized()
        if self.ours:
            _start_ray(ray, address, num_cpus=workers if address is None else None)
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.setup = [ray.put(args)]  # a list, so that Ray hands the reference to _ray_call unfetched
        self.start, self.fn = start, fn
        self.call = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=0)(_ray_call)
        self.jobs = set()

    def submit(self, job):
        ref = self.call.remote(self.setup, self.start, self.fn, job)
        self.jobs.add(ref)
        return ref

    def get(self, ref):
        try:
            return self.ray.get(ref)
        finally:
            self.jobs.discard(ref)

    def as_completed(self, jobs):
        """fn(job) for each job, in the order they finish, at most `workers` running at a time."""
        jobs, running = iter(jobs), []
        while True:
            running += [self.submit(job) for job in _take(jobs, self.workers - len(running))]
            if not running:
                return
            (done,), running = self.ray.wait(running, num_returns=1)
            yield self.get(done)

    def close(self) -> None:
        for ref in list(self.jobs):  # stop what is still running
            self.ray.cancel(ref, force=True)
        self.jobs.clear()
        if self.ours and self.ray.is_initialized():
            self.ray.shutdown()  # our local Ray and its worker processes end here; a cluster is only left


def _start_ray(ray, address, num_cpus, tries: int = 2) -> None:
    """ray.init, tried again once when a local Ray misses its start-up deadline (Ray waits a fixed 30 s for its
    raylet, which a machine busy with other jobs can miss); then one clear error instead of Ray's traceback."""
    for attempt in range(1, tries + 1):
        try:
            ray.init(address=address, num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
            return
        except Exception as e:  # Ray raises a bare Exception for a start-up time-out
            ray.shutdown()  # whatever half started goes, so the next try (or the caller) starts clean
            if attempt == tries:
                where = "a local Ray" if address is None else f"Ray at {address!r}"
                raise RuntimeError(
                    f"{where} did not start ({e}); {tries} tries. On a busy machine retry later or use "
                    "executor='local'; for a cluster, check that `ray status` works on this machine."
                ) from e


def _take(iterator, n: int) -> list:
    return [x for _, x in zip(range(max(n, 0)), iterator)]


class RayPool(Pool):
    """Evaluates DNAs as Ray tasks; the task (with its data) reaches each worker process once."""

    remote = True

    def __init__(self, task: Task, workers: int | None = None, address=None):
        super().__init__()
        self.task, self._workers, self.address, self._ray = task, workers, address, None

    @property
    def workers(self) -> int:  # Ray's CPU count when not given; known once Ray is up
        return self._workers or self._connect().workers

    def _connect(self) -> RayWorkers:
        if self._ray is None:
            task = replace(self.task, data=self.task.data.to("cpu"))  # into Ray's object store once
            gpus = 1 / max(1, self._workers or 1) if task.device.startswith("cuda") else 0  # workers share one GPU
            setup = (task, dict(OPERATIONS))  # Ray pickles ops by value: ops added in a notebook go along
            self._ray = RayWorkers(_start_worker, setup, _evaluate_in_worker, self._workers, self.address, gpus)
        return self._ray

    def _submit(self, dna):
        return self._connect().submit(dna)

    def _collect(self, dna, ref) -> float:
        from ray.exceptions import RayError

        try:
            return self._ray.get(ref)
        except RayError as e:
            raise RuntimeError(f"evaluating {dna} failed on Ray: {e}") from e

    def _evaluate_now(self, dna) -> float:
        return self._collect(dna, self._submit(dna))

    def close(self) -> None:
        self.running.clear()
        if self._ray is not None:
            self._ray.close()
            self._ray = None


def pool(task: Task, workers: int | None = None, executor: str = "local", address=None) -> Pool:
    """A pool that evaluates DNAs with `task`'s recipe: `workers` processes here (default: one per core; one on a
    GPU, which they would share), or Ray tasks (`executor='ray'`, on a cluster at `address`)."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of: {', '.join(EXECUTORS)}")
    if executor == "ray":
        return RayPool(task, workers, address)
    if address is not None:
        raise ValueError("address is for executor='ray'; a local pool runs on this machine")
    return LocalPool(task, workers or (1 if task.device.startswith("cuda") else cores()))
