"""Training across machines: the cluster `TF_CONFIG` names, and the loop Keras' `fit` cannot run.

Kubeflow's TFJob, Vertex AI and Ray Train start one process per machine with `TF_CONFIG`
naming the cluster and the process' place in it; `MultiWorkerMirroredStrategy` then keeps one
copy of the weights per worker and sums the gradients of every worker's share of each batch.

Keras 3 `fit` fails under that strategy (keras-team/keras#20585): the step function reduces
each scalar metric with `strategy.reduce("MEAN", value, axis=0)`, which a 0-d value cannot
take. `distributed_fit` runs the model's own `train_step` and `test_step` through
`strategy.run` and reduces with `axis=None`, and calls the same Keras callbacks `fit` would,
so the epoch log, backups and resume, early stopping and the NaN stop behave as under `fit`.

Every worker must run the same collective operations in the same order, or they wait for each
other forever: whatever decides how far training goes (the epoch to resume from, phase 1
being done) is the chief's, handed to the others by `chief_value`, and a resumed chief hands
its weights over with `sync_from_chief`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import PipelineError

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

TF_CONFIG_ENV = "TF_CONFIG"


@dataclass(frozen=True)
class WorkerRole:
    """This process' place in a `TF_CONFIG` cluster."""

    task_type: str  # "chief" or "worker"
    index: int
    workers: int  # processes that train: the chief and the workers
    has_chief: bool  # the cluster lists a "chief" task

    @property
    def is_chief(self) -> bool:
        """The chief logs to MLflow and writes the stage's outputs; the others write nothing.

        Without a "chief" entry, worker 0 is the chief (TensorFlow's own rule).
        """
        if self.has_chief:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.index == 0

    def describe(self) -> str:
        return f"{self.task_type} {self.index} of {self.workers} workers"


def worker_role() -> WorkerRole | None:
    """The role `TF_CONFIG` gives this process; None when it names no cluster of several."""
    raw = os.environ.get(TF_CONFIG_ENV, "").strip()
    if not raw:
        return None
    fix = f"set {TF_CONFIG_ENV} as TensorFlow documents it, or unset it to train on this machine"
    try:
        config = json.loads(raw)
        cluster, task = config.get("cluster") or {}, config.get("task") or {}
        task_type, index = str(task["type"]), int(task["index"])
        workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise PipelineError(
            f"{TF_CONFIG_ENV} is not a cluster description ({error}): {fix}"
        ) from None
    if task_type not in ("chief", "worker") or index >= len(cluster.get(task_type, [])):
        raise PipelineError(
            f"{TF_CONFIG_ENV} names task {task_type} {index}, which its cluster does not "
            f"list as a chief or worker: {fix}"
        )
    has_chief = bool(cluster.get("chief"))
    return WorkerRole(task_type, index, workers, has_chief) if workers > 1 else None


def is_multi_worker(strategy: Any) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        strategy.extended._in_multi_worker_mode()
    )


def chief_value(value: int) -> int:
    """`value` as the chief has it, on every worker (unchanged off a cluster)."""
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    if not is_multi_worker(strategy):
        return value
    (chief,) = _from_replica_zero(strategy, [tf.constant(float(value))])
    return round(float(chief))


def sync_from_chief(model: keras.Model) -> None:
    """Every worker takes the chief's weights (after the chief alone resumed from a backup)."""
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    if not is_multi_worker(strategy):
        return
    values = _from_replica_zero(strategy, [tf.convert_to_tensor(w.value) for w in model.weights])
    for weight, value in zip(model.weights, values, strict=True):
        weight.assign(value)


def _from_replica_zero(strategy: Any, values: list[tf.Tensor]) -> list[tf.Tensor]:
    """The values of the first replica (the chief's first device), by a sum where only it adds."""
    import tensorflow as tf

    def pick(values: list[tf.Tensor]) -> list[tf.Tensor]:
        context = tf.distribute.get_replica_context()
        first = tf.equal(context.replica_id_in_sync_group, 0)
        kept = [tf.where(first, value, tf.zeros_like(value)) for value in values]
        return context.all_reduce("SUM", kept)

    summed = strategy.run(tf.function(pick), args=(values,))
    return [strategy.experimental_local_results(value)[0] for value in summed]


def distributed_fit(
    model: keras.Model,
    train: tf.data.Dataset,
    val: tf.data.Dataset,
    *,
    epochs: int,
    initial_epoch: int,
    callbacks: list,
) -> None:
    """What `model.fit(train, validation_data=val, ...)` does, on a multi-worker strategy.

    `train` and `val` yield global batches (`global_batch`); each worker reads its share.
    """
    import keras
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    options = tf.data.Options()
    # Each worker reads the pipeline and keeps its share of every batch: the task datasets
    # are not split in files a worker could own.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    train_batches = strategy.experimental_distribute_dataset(train.with_options(options))
    val_batches = strategy.experimental_distribute_dataset(val.with_options(options))
    train_step, test_step = _on_every_replica(model.train_step), _on_every_replica(model.test_step)

    hooks = keras.callbacks.CallbackList(callbacks, model=model)
    model.stop_training = False
    hooks.on_train_begin()  # BackupAndRestore sets model._initial_epoch on a resumed chief
    start = chief_value(getattr(model, "_initial_epoch", None) or initial_epoch)
    end = chief_value(epochs)
    sync_from_chief(model)
    for epoch in range(start, end):
        model.reset_metrics()
        hooks.on_epoch_begin(epoch)
        for step, batch in enumerate(train_batches):
            hooks.on_train_batch_begin(step)
            hooks.on_train_batch_end(step, _floats(train_step(batch)))
            if model.stop_training:  # the NaN stop: the loss is reduced, so every worker stops
                break
        logs = _floats(model.get_metrics_result())
        model.reset_metrics()
        for batch in val_batches:
            test_step(batch)
        logs |= {
            f"val_{name}": value for name, value in _floats(model.get_metrics_result()).items()
        }
        hooks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    hooks.on_train_end()


def _on_every_replica(step: Any) -> Any:
    """`step` run on every replica's share of a batch; its metrics averaged over replicas."""
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()

    @tf.function
    def run(batch: Any) -> dict[str, tf.Tensor]:
        results = strategy.run(step, args=(batch,))
        return {name: strategy.reduce("MEAN", value, axis=None) for name, value in results.items()}

    return run


def _floats(logs: dict[str, Any]) -> dict[str, float]:
    return {name: float(value) for name, value in logs.items()}
