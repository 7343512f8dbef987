"""What an architecture costs: parameters, multiply-accumulates, CPU latency and peak inference memory."""

import statistics
import time

import torch
from torch import nn


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_macs(model: nn.Module, input_shape) -> int:
    """Multiply-accumulates of one forward pass of one input (convolutions and linear layers)."""
    macs = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            macs.append(output.numel() // output.shape[0] * k)
        elif isinstance(module, nn.Linear):
            macs.append(module.in_features * module.out_features)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        model.eval()(torch.zeros(1, *input_shape))
    finally:
        for h in handles:
            h.remove()
    return int(sum(macs))


@torch.no_grad()
def latency_ms(model: nn.Module, input_shape, batch_size=1, repeats=20, warmup=3, device="cpu") -> float:
    """Median wall time of one forward pass, in milliseconds, after warm-up (on a GPU: until its work is done)."""
    model.eval()
    x = torch.randn(batch_size, *input_shape, device=device)
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else lambda: None  # GPU calls return early
    for _ in range(warmup):
        model(x)
    times = []
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        model(x)
        sync()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


@torch.no_grad()
def peak_memory_mb(model: nn.Module, input_shape, batch_size=256) -> float:
    """Peak inference memory of a batch, in MB: the parameters plus the largest input + output of any layer.

    Measured on the tensors of a real forward pass (hooks on every leaf module): in a chain, a layer's input
    and output are what must be held at once, so this is the working set the forward pass needs at its peak.
    """
    model.eval()
    peak = [0]

    def hook(module, inputs, output):
        held = sum(t.numel() * t.element_size() for t in (*inputs, output) if torch.is_tensor(t))
        peak[0] = max(peak[0], held)

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        model(torch.zeros(batch_size, *input_shape))
    finally:
        for h in handles:
            h.remove()
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    return (params + peak[0]) / 2**20


COSTS = {  # every cost nanonas knows: name -> (model, input shape without the batch) -> value; NanoBench's columns
    "params": lambda model, shape: count_params(model),
    "macs": count_macs,
    "latency_b1_ms": lambda model, shape: latency_ms(model, shape, 1),
    "latency_b256_ms": lambda model, shape: latency_ms(model, shape, 256),
    "peak_memory_mb": lambda model, shape: peak_memory_mb(model, shape, 256),
}
