"""Timing with a warm-up and the median of repeats, and a description of the machine."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    median: float  # seconds
    runs: tuple[float, ...]


def measure(work: Callable[[], Any], repeats: int, warmup: int = 1) -> Timing:
    """Run `work` `warmup` times untimed (tracing, caches), then `repeats` times timed."""
    for _ in range(warmup):
        work()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    return Timing(statistics.median(runs), tuple(runs))


def machine() -> dict[str, Any]:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return {
        "cores": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "device": f"{len(gpus)} GPU(s)" if gpus else "CPU",
    }
