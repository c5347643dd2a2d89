"""Devices: one CPU, one GPU (mixed precision, XLA) or several GPUs (MirroredStrategy)."""

from __future__ import annotations

from typing import Any

from pipeline.core.model_params import AcceleratorParams


def distribution_strategy(params: AcceleratorParams) -> tuple[Any, str]:
    """(tf.distribute strategy, a line describing the device set-up) for the visible devices.

    `auto` mixed precision is on for GPUs with tensor cores (compute capability >= 7.0),
    where float16 matmuls are several times faster; it never helps on CPU.
    """
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    capable = [
        gpu
        for gpu in gpus
        if tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        >= (7, 0)
    ]
    mixed = params.mixed_precision == "on" or (params.mixed_precision == "auto" and capable)
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    if len(gpus) > 1:
        strategy: Any = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    device = f"{len(gpus)} GPU(s)" if gpus else "CPU"
    described = f"{device}, mixed precision {'on' if mixed else 'off'}, XLA {params.jit_compile}"
    return strategy, described
