"""A description of the machine the benchmarks ran on, for the report's first line."""

from __future__ import annotations

import os
import platform
from typing import Any


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
