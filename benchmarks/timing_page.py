"""The results page of a benchmark that times the grader here: what ran and when, its figures, and how busy the
machine was (benchmarks/grading.py and benchmarks/class_roundtrip.py write theirs with it)."""

import os
import time
from pathlib import Path


def write_page(out, title: str, command: str, body: list[str], load_before: tuple, load_after: tuple) -> str:
    """Write `out` (markdown) and return it: the title, the command and when it ran, the `body` lines, then the
    machine's cores and its load average before and after the run (a busy machine makes every figure slower)."""
    busy = " (busy: other jobs shared the cores)" if load_before[0] > 1.0 else ""
    lines = [
        f"# {title}",
        "",
        f"`{command}`, measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        *body,
        f"- machine: {os.cpu_count()} cores; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after{busy}",
        "",
    ]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text("\n".join(lines))
    return "\n".join(lines)
