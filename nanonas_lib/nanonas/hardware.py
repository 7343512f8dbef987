"""Hardware-aware NAS: a latency lookup table of the ops, measured on this machine for a device profile.

A lookup table (FBNet, Wu et al., 2019; ProxylessNAS, Cai et al., 2019) times each part of a network once, alone,
and predicts the latency of any architecture as a sum: stem + the ops of its DNA + head. 625 architectures cost
7 measurements instead of 625. Whether the sum is right is a measurement too: `measure_networks` times whole
networks with the same protocol, and `prediction_error` says how far the table is from them (Spearman's rho, and
the mean absolute percentage error).

A profile says how the network will run: how many threads, how many images per forward pass, which device.

    table = build_table("phone-like")           # seconds; no round starts after `max_seconds` (3 rounds at least)
    table.predict([0, 1, 2, 3])                 # ms: stem + conv3x3 + conv5x5 + maxpool + skip + head
    measure_networks([[0, 1, 2, 3]], "phone-like")
"""

import copy
import platform
import random
import statistics
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from .core import OPERATIONS, build_model
from .measure import latency_ms
from .parallel import cores, torch_threads


# 1. Device profiles: how the network will run.
@dataclass(frozen=True)
class Profile:
    name: str
    batch: int  # images per forward pass
    threads: int | None  # torch threads while measuring; None leaves them as they are (a GPU does the work)
    device: str = "cpu"
    about: str = ""


def profiles() -> dict[str, Profile]:
    """The profiles this machine can measure: phone-like, server-like, and cuda when a GPU is present."""
    found = {
        "phone-like": Profile("phone-like", batch=1, threads=1, about="one image at a time, on one core"),
        "server-like": Profile("server-like", batch=256, threads=cores(), about="batches of 256, on every core"),
    }
    if torch.cuda.is_available():
        found["cuda"] = Profile("cuda", batch=256, threads=None, device="cuda", about="batches of 256, on the GPU")
    return found


def get_profile(profile) -> Profile:
    """A Profile from its name (or itself); a ValueError names the profiles this machine has."""
    if isinstance(profile, Profile):
        return profile
    found = profiles()
    if profile not in found:
        why = "no CUDA device on this machine" if profile == "cuda" else f"unknown device profile {profile!r}"
        raise ValueError(f"{why}; choose one of: {', '.join(found)}")
    return found[profile]


@contextmanager
def using(profile):
    """Run with the profile's number of torch threads, then give back the number there was (also after an error)."""
    profile = get_profile(profile)
    with torch_threads(profile.threads):
        yield profile


# 2. Measuring: warm up, then interleave the parts in shuffled rounds; the median over rounds is the latency.
class Head(nn.Module):  # the network's last line as one part: global average pool, then the classifier
    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.linear = linear

    def forward(self, x):  # (B, C, H, W) -> (B, num_classes)
        return self.linear(x.mean(dim=(2, 3)))


def measure(parts: dict, profile, rounds=15, repeats=5, warmup=3, max_seconds=None, seed=0) -> tuple[dict, int]:
    """({name: median ms}, rounds done) for parts {name: (module, input shape without the batch)} under a profile.

    Each part is warmed up (first calls allocate and pick kernels), then timed in rounds that visit the parts in a
    shuffled order, so a burst of load elsewhere hits every part alike rather than one; a round's figure for a part
    is `measure.latency_ms`'s median of `repeats` calls, and the result is the median over rounds. Wall time, not
    CPU time: on several threads or a GPU, the wall clock is what a user waits. After `max_seconds` no new round
    starts (3 rounds at least, so that a median means something).
    """
    profile, rng, start = get_profile(profile), random.Random(seed), time.perf_counter()
    times = {name: [] for name in parts}
    with using(profile):
        parts = {name: (module.to(profile.device).eval(), tuple(shape)) for name, (module, shape) in parts.items()}
        time_one = lambda module, shape, n, w: latency_ms(module, shape, profile.batch, n, w, device=profile.device)
        for module, shape in parts.values():
            time_one(module, shape, 1, warmup)
        for done in range(rounds):
            if max_seconds is not None and done >= 3 and time.perf_counter() - start > max_seconds:
                break
            order = list(parts)
            rng.shuffle(order)  # interleaved: no part is timed only while the machine is busy
            for name in order:
                times[name].append(time_one(*parts[name], repeats, 0))
    return {name: statistics.median(t) for name, t in times.items()}, len(next(iter(times.values()), []))


# 3. The lookup table: one latency per part; an architecture's latency is their sum.
@dataclass
class LatencyTable:
    """Milliseconds of each part of a network under one profile: `predict(dna)` = stem + its ops + head."""

    profile: str
    stem: float
    ops: dict  # op name -> ms, in the order of OPERATIONS when measured (a DNA indexes it)
    head: float
    meta: dict = field(default_factory=dict)  # batch, threads, device, shapes, rounds, machine, date, build seconds

    def predict(self, dna) -> float:
        """Predicted latency of the architecture, in ms: stem + the sum of its ops + head."""
        names = list(self.ops)
        if not all(hasattr(i, "__index__") and not isinstance(i, bool) and 0 <= i < len(names) for i in dna):
            raise ValueError(
                f"a DNA here is a list of op indices in 0..{len(names) - 1} ({', '.join(names)}); got {dna!r}"
            )
        return self.stem + sum(self.ops[names[i]] for i in dna) + self.head

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "LatencyTable":
        return cls(d["profile"], d["stem"], dict(d["ops"]), d["head"], dict(d.get("meta", {})))


def parts(channels=16, input_shape=(1, 8, 8), num_classes=10, seed=0) -> dict:
    """What a lookup table times: {name: (module, input shape)} for the stem, the head and each op ('op:conv3x3')."""
    torch.manual_seed(seed)
    net = build_model([0], channels, input_shape[0], num_classes)  # its stem and head are every network's
    inner = (channels, *input_shape[1:])  # what the ops and the head see: (C, H, W)
    found = {"stem": (net.stem, tuple(input_shape)), "head": (Head(net.head), inner)}
    return found | {f"op:{name}": (make(channels), inner) for name, make in OPERATIONS.items()}


def build_table(
    profile, channels=16, input_shape=(1, 8, 8), num_classes=10, rounds=21, repeats=5, max_seconds=60.0, seed=0
) -> LatencyTable:
    """Measure the stem, every op of OPERATIONS and the head on this machine, under a profile (<= max_seconds)."""
    table, _ = table_and_networks([], profile, channels, input_shape, num_classes, rounds, repeats, max_seconds, seed)
    return table


def measure_networks(
    dnas, profile, channels=16, input_shape=(1, 8, 8), num_classes=10, rounds=7, repeats=3, seed=0, runtime=None
):
    """Measured end-to-end latency (ms) of each DNA's network under a profile, with `measure`'s protocol.

    `runtime`, if given, turns each network into what a runtime would run (e.g. `fuse_conv_bn`) before timing.
    """
    torch.manual_seed(seed)
    runtime = runtime or (lambda model: model)
    nets = {
        i: (runtime(build_model(dna, channels, input_shape[0], num_classes)), input_shape) for i, dna in enumerate(dnas)
    }
    ms, _ = measure(nets, profile, rounds, repeats, seed=seed)
    return [ms[i] for i in range(len(dnas))]


def table_and_networks(
    dnas,
    profile,
    channels=16,
    input_shape=(1, 8, 8),
    num_classes=10,
    rounds=7,
    repeats=3,
    max_seconds=None,
    seed=0,
    runtime=None,
) -> tuple[LatencyTable, list[float]]:
    """A lookup table and the whole networks of `dnas`, timed in the same shuffled rounds.

    Interleaved, the load of the moment hits the parts and the networks alike: the fair way to compute how far the
    table's predictions are from measured latency on a shared machine. `runtime` as in `measure_networks` (the
    table's parts are always timed as they are).
    """
    profile, start, runtime = get_profile(profile), time.perf_counter(), runtime or (lambda model: model)
    todo = parts(channels, input_shape, num_classes, seed)
    torch.manual_seed(seed)
    nets = [runtime(build_model(dna, channels, input_shape[0], num_classes)) for dna in dnas]
    todo |= {i: (net, input_shape) for i, net in enumerate(nets)}
    budget = None if max_seconds is None else max_seconds - (time.perf_counter() - start)
    ms, done = measure(todo, profile, rounds, repeats, max_seconds=budget, seed=seed)
    meta = {**_describe(profile, channels, input_shape), "rounds": done, "repeats": repeats}
    meta["seconds"] = round(time.perf_counter() - start, 2)
    table = LatencyTable(profile.name, ms["stem"], {name: ms[f"op:{name}"] for name in OPERATIONS}, ms["head"], meta)
    return table, [ms[i] for i in range(len(dnas))]


def _describe(profile: Profile, channels, input_shape) -> dict:
    return {
        "batch": profile.batch,
        "threads": profile.threads if profile.threads is not None else torch.get_num_threads(),
        "device": torch.cuda.get_device_name() if profile.device == "cuda" else platform.processor() or "cpu",
        "channels": channels,
        "input_shape": list(input_shape),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def fuse_conv_bn(model: nn.Module) -> nn.Module:
    """A copy of a network for inference with each BatchNorm folded into the convolution before it, as inference
    runtimes do: the same outputs (in eval mode), one pass over the tensor fewer per convolution."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model = copy.deepcopy(model).eval()
    for block in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        layers = list(block)
        for i in range(len(layers) - 1):
            if isinstance(layers[i], nn.Conv2d) and isinstance(layers[i + 1], nn.BatchNorm2d):
                block[i], block[i + 1] = fuse_conv_bn_eval(layers[i], layers[i + 1]), nn.Identity()
    return model


# 4. How good is a prediction? Rank (what a search needs) and size (what a latency budget needs).
def prediction_error(predicted, measured) -> dict:
    """{'spearman': rank correlation (ties share their mean rank), 'mape': mean absolute % error vs measured}."""
    from scipy.stats import spearmanr

    p, m = np.asarray(predicted, dtype=float), np.asarray(measured, dtype=float)
    return {"spearman": float(spearmanr(p, m).statistic), "mape": float(100 * np.mean(np.abs(p - m) / m))}


def calibrated(cost, measured) -> list[float]:
    """A cost that is not in ms (MACs, parameters) as ms: the least-squares line through the measured latencies.

    The line has seen the answers, so its error is the best any linear reading of that cost can do: a flattering
    baseline for the lookup table to beat.
    """
    a, b = np.polyfit(np.asarray(cost, dtype=float), np.asarray(measured, dtype=float), 1)
    return [float(a * c + b) for c in cost]


# 5. A search under a latency budget: the most accurate architecture the table says is fast enough.
def _predict_records(table: LatencyTable, records) -> list[float]:
    """The table's prediction for each record; a ValueError when a record's ops are not what its DNA means here (a
    table of another space indexes other ops: a prediction by index would be silently wrong)."""
    names = list(table.ops)
    for r in records:
        if "ops" in r and list(r["ops"]) != [names[i] if 0 <= i < len(names) else None for i in r["dna"]]:
            raise ValueError(
                f"record {r['dna']} has ops {list(r['ops'])}, but in this lookup table its DNA means "
                f"other ops: the table times {', '.join(names)}; build one for the records' space"
            )
    return [table.predict(r["dna"]) for r in records]


def best_under(table: LatencyTable, records, budget_ms: float, metric="val_accuracy") -> dict | None:
    """The record (e.g. of a NanoBench) with the best `metric` whose predicted latency is <= budget_ms; on a tie the
    faster, then the first; None when nothing fits."""
    records = list(records)
    predicted = _predict_records(table, records)
    fits = [(r[metric], -p, -i, r) for i, (r, p) in enumerate(zip(records, predicted))]
    fits = [f for f in fits if -f[1] <= budget_ms]
    return max(fits, key=lambda f: f[:3])[3] if fits else None


def latency_budget(table: LatencyTable, records, share=0.25) -> float:
    """The predicted latency under which `share` of the live architectures (no 'zero') fit: a budget that means the
    same on every device ("the fastest quarter"), whatever its milliseconds."""
    live = _predict_records(table, [r for r in records if "zero" not in r["ops"]])
    return float(np.quantile(live, share))
