"""Devices: one CPU, one GPU (mixed precision, XLA), or every device of the machine at once.

Several devices train one model with `MirroredStrategy`: each step every device (replica)
takes its own share of the batch, and the gradients are summed before one update of the
weights every replica holds. A task's `batch_size` is the batch of one device; a step takes
`global_batch(batch_size)` = batch_size x replicas examples, which Keras' `fit` splits
across the replicas of the dataset it is given (built, like the model, inside the
strategy's scope).

Learning rate: unchanged with the number of devices. The linear scaling rule (learning
rate x replicas, Goyal et al. 2017) is derived for SGD; every task here trains with Adam,
whose step size does not grow with the gradient's magnitude, and the few devices of one
machine (2-8) leave a tuned rate in its working range. Scaling out further is a new
setting to tune, not a rule to apply.

Several machines: `TF_CONFIG` naming a cluster (as TFJob, Vertex AI or Ray Train set it)
gives `MultiWorkerMirroredStrategy` over every worker (see `multiworker.py`).

`PIPELINE_CPU_DEVICES=N` splits the CPU into N logical devices (on a machine without GPUs)
so that the several-device path runs, and is tested, where there is no GPU.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.core.model_params import AcceleratorParams
from pipeline.core.multiworker import TF_CONFIG_ENV, worker_role

CPU_DEVICES_ENV = "PIPELINE_CPU_DEVICES"


def distribution_strategy(params: AcceleratorParams) -> tuple[Any, str]:
    """(tf.distribute strategy, a line describing the device set-up) for the visible devices.

    `auto` mixed precision is on for GPUs with tensor cores (compute capability >= 7.0),
    where float16 matmuls are several times faster; it never helps on CPU. One device keeps
    TensorFlow's default strategy: nothing is mirrored, nothing is slower.
    """
    import keras
    import tensorflow as tf

    role = worker_role()
    if role is not None and cpu_devices_wanted() > 1:
        raise PipelineError(
            f"{CPU_DEVICES_ENV} splits one machine's CPU, {TF_CONFIG_ENV} names a cluster of "
            "machines: unset one of them"
        )
    # the cluster's strategy must exist before TensorFlow starts its runtime
    cluster = tf.distribute.MultiWorkerMirroredStrategy() if role is not None else None
    gpus = tf.config.list_physical_devices("GPU")
    capable = [
        gpu
        for gpu in gpus
        if tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        >= (7, 0)
    ]
    mixed = params.mixed_precision == "on" or (params.mixed_precision == "auto" and capable)
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    cpus = 1 if gpus else _cpu_devices(cpu_devices_wanted())
    strategy: Any
    if cluster is not None and role is not None:
        strategy = cluster
        device = (
            f"{role.describe()}, {cluster.num_replicas_in_sync} replicas "
            "(MultiWorkerMirroredStrategy)"
        )
    elif len(gpus) > 1:
        strategy = tf.distribute.MirroredStrategy()
        device = f"{len(gpus)} GPUs (MirroredStrategy)"
    elif cpus > 1:
        strategy = tf.distribute.MirroredStrategy([f"/cpu:{index}" for index in range(cpus)])
        device = f"{cpus} logical CPU devices (MirroredStrategy)"
    else:
        strategy = tf.distribute.get_strategy()
        device = "1 GPU" if gpus else "CPU"
    described = f"{device}, mixed precision {'on' if mixed else 'off'}, XLA {params.jit_compile}"
    return strategy, described


def global_batch(per_device: int) -> int:
    """The examples of one step over every replica of the strategy in scope (1 outside one)."""
    import tensorflow as tf

    return per_device * int(tf.distribute.get_strategy().num_replicas_in_sync)


def cpu_devices_wanted() -> int:
    """How many logical CPU devices `PIPELINE_CPU_DEVICES` asks for (1 when unset)."""
    value = os.environ.get(CPU_DEVICES_ENV, "").strip() or "1"
    if not value.isdigit() or int(value) < 1:
        raise PipelineError(
            f"{CPU_DEVICES_ENV}={value!r} is not a number of devices: set a whole number >= 1 "
            "or unset it"
        )
    return int(value)


def _cpu_devices(wanted: int) -> int:
    """Split the CPU into `wanted` logical devices; how many there are.

    TensorFlow fixes its devices when its runtime starts: a split asked for later is
    refused, and so is one that disagrees with the devices already made.
    """
    import tensorflow as tf

    if wanted == 1:
        return 1
    (cpu,) = tf.config.list_physical_devices("CPU")
    # once the runtime has started this is refused: its devices are kept if they are the ones
    with contextlib.suppress(RuntimeError):
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(wanted)]
        )
    have = len(tf.config.list_logical_devices("CPU"))
    if have != wanted:
        raise PipelineError(
            f"{CPU_DEVICES_ENV}={wanted} but TensorFlow already runs with {have} CPU "
            "device(s): set it before the process first uses TensorFlow"
        )
    return have
